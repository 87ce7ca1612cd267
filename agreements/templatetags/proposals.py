"""Whether the reader may propose cooperation for a region, asked row by row in the needs-and-offers tables (the
rule is ``access.may_propose_for``; no query)."""

from django import template

from .. import access

register = template.Library()


@register.filter
def proposable_by(region, user) -> bool:
    """``{% if e.region|proposable_by:user %}``: ``user`` may propose cooperation on behalf of ``region``."""
    return access.may_propose_for(user, region)
