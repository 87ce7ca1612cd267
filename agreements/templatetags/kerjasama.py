"""Template helpers shared by the pages: links to the filtered agreement list, Indonesian numbers."""

from django import template

from ..dashboard import Figure, list_href

register = template.Library()


@register.simple_tag
def list_url(figure=None, base=None) -> str:
    """``/agreements/?…``: the page's own filters (``base``, a list of pairs), then the figure's parameters."""
    return list_href(base or [], figure or Figure(0))


@register.filter
def percent(value) -> str:
    """0.4567 → "46%"; None → "–"."""
    if value is None:
        return "–"
    return f"{round(value * 100)}%"
