"""/public/: the published agreements, without login (agreements/views/public.py)."""

from django.urls import path

from .views import public

urlpatterns = [
    path("", public.public_home, name="public-home"),
    path("agreements.csv", public.public_csv, name="public-csv"),
    path("agreements.json", public.public_json, name="public-json"),
    path("agreements/<int:pk>/", public.public_agreement, name="public-agreement"),
    path("documents/<int:pk>/", public.public_document, name="public-document"),
]
