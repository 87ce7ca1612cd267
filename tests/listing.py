"""What the agreement list at a link counts, without rendering the page.

The dashboard and the affairs map promise that each figure links to a list of exactly that many agreements. The
list page (``agreements.views.register.agreement_list``) counts ``AgreementFilter`` on the agreements the user may
see; counting that same filterset checks the promise without rendering a page per figure (which cost minutes of
the suite). ``page_count`` renders the page itself, for a test to confirm once that both agree.
"""

from urllib.parse import urlsplit

from django.http import QueryDict
from django.urls import resolve

from agreements import access
from agreements.filters import AgreementFilter


def list_count(user, href: str) -> int:
    """The number of agreements the list at ``href`` shows ``user``; its parameters must all be valid (the list
    would silently show nothing otherwise)."""
    url = urlsplit(href)
    assert resolve(url.path).url_name == "agreement-list", href
    filterset = AgreementFilter(QueryDict(url.query), queryset=access.agreements_visible_to(user))
    assert filterset.is_valid(), (href, filterset.errors)
    return filterset.qs.count()


def page_count(client, href: str) -> int:
    """The count the rendered list page at ``href`` shows the client's user."""
    response = client.get(href)
    assert response.status_code == 200
    return response.context["page"].paginator.count
