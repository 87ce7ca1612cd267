"""Template helpers shared by the pages: links to the filtered agreement list, Indonesian numbers."""

from django import template
from django.utils.formats import number_format

from .. import charts
from ..dashboard import Figure, list_href
from ..models import Stage, StallReason

register = template.Library()


@register.simple_tag
def list_url(figure=None, base=None) -> str:
    """``/agreements/?…``: the page's own filters (``base``, a list of pairs), then the figure's parameters."""
    return list_href(base or [], figure or Figure(0))


register.filter("percent", charts.percent)


@register.filter
def rupiah(value) -> str:
    """1234567 → "Rp1.234.567" (no space, as EYD V writes it; grouped the way the active language writes numbers);
    None or "" → "–"."""
    if value is None or value == "":
        return "–"
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return str(value)
    return "Rp" + number_format(amount, decimal_pos=0, force_grouping=True)


@register.filter
def report_cell(value) -> str:
    """A report table's cell as a person reads it (``report_formats.cell_text``): dates in words, grouped numbers."""
    from ..report_formats import cell_text

    return cell_text(value, "DATE_FORMAT")


@register.filter
def stage_label(value) -> str:
    """A stage code ("implementing") as its translated label ("Dilaksanakan")."""
    try:
        return Stage(value).label
    except ValueError:
        return value


@register.filter
def stall_reason_labels(codes) -> str:
    """Stall reason codes (["KB_WITHOUT_PKS", …]) as their translated labels, joined: what a person reads (an
    e-mail, a page) never shows the code, which stays in URLs and machine exports."""
    labels = []
    for code in codes or ():
        try:
            labels.append(str(StallReason(code).label))
        except ValueError:
            labels.append(str(code))
    return ", ".join(labels)
