"""/api/v1/: the read-only API, its OpenAPI 3 schema and its documentation (Swagger UI from the app's own
static files, drf-spectacular-sidecar; the Swagger UI's start script is a separate file, no inline script)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = True
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("regions", views.RegionViewSet, basename="region")
router.register("affairs", views.AffairViewSet, basename="affair")
router.register("needs-offers", views.NeedOfferViewSet, basename="needoffer")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("stalled/", views.StalledView.as_view(), name="stalled"),
    *router.urls,
]
