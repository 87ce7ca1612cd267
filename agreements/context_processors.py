"""What every page's navigation needs to know, decided by ``agreements.access`` (never in templates)."""

from . import access


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": {"can_import": access.can_import(user), "can_manage_users": access.can_manage_users(user)}}
