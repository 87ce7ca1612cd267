"""Template helpers of the open-data pieces on the signed-in pages (the publication panel, the profile's tokens)."""

from django import template

from .. import access, publication
from ..api import tokens

register = template.Library()


@register.simple_tag
def may_publish(user) -> bool:
    return access.can_publish(user)


@register.simple_tag
def api_tokens_of(user):
    return list(tokens.of_user(user)) if user.is_authenticated else []


@register.simple_tag
def data_licence() -> dict:
    return publication.DATA_LICENCE
