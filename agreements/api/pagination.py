"""Page-number pagination for every list of the API: ``page`` (from 1) and ``page_size`` (default
``settings.API_PAGE_SIZE``, at most 200). Each list has a stable order (its last sort key is unique)."""

from django.conf import settings
from rest_framework.pagination import PageNumberPagination

from ..datacache import CountCachedPaginator


class Pagination(PageNumberPagination):
    django_paginator_class = CountCachedPaginator  # the total counted once per data version and query
    page_size_query_param = "page_size"
    max_page_size = 200

    @property
    def page_size(self):
        return settings.API_PAGE_SIZE
