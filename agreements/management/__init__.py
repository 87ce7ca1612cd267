"""What the management commands share: the ``--as-of`` option, parsed and range-checked one way."""

import argparse
import datetime

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from agreements import stalls


def parse_as_of(value) -> datetime.date:
    """The ``--as-of`` value as a date (today when not given); a CommandError naming the option when it is not a
    date written YYYY-MM-DD or lies outside ``stalls.AS_OF_MIN``..``AS_OF_MAX`` (the range of
    ``stalls.validate_as_of``).

    Takes the string, or the date ``as_of_type`` already made of it: ``call_command(..., as_of="…")`` hands the
    command the string unparsed, the command line the parsed date.
    """
    if value is None or value == "":
        return stalls.today()
    if isinstance(value, datetime.date):
        date = value
    else:
        try:
            date = datetime.datetime.strptime(value, "%Y-%m-%d").date()
        except (TypeError, ValueError):
            raise CommandError(
                _("--as-of must be a date written YYYY-MM-DD (for example 2024-12-31), not %(value)r.")
                % {"value": value}
            ) from None
    if not stalls.as_of_in_range(date):
        # The rules subtract thresholds from the date: a year-1 date would underflow (OverflowError).
        raise CommandError(
            _("--as-of must be between %(min)s and %(max)s, not %(value)s.")
            % {"min": stalls.AS_OF_MIN.isoformat(), "max": stalls.AS_OF_MAX.isoformat(), "value": date.isoformat()}
        )
    return date


def as_of_type(value: str) -> datetime.date:
    """The argparse ``type`` of every ``--as-of``: ``parse_as_of``, its refusal an argparse error (the usage
    and exit status 2 on the command line, a CommandError from ``call_command``)."""
    try:
        return parse_as_of(value)
    except CommandError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_as_of_argument(parser, help: str) -> None:
    """``--as-of YYYY-MM-DD`` on a command's parser; its ``handle`` reads it with ``parse_as_of``."""
    parser.add_argument("--as-of", dest="as_of", type=as_of_type, default=None, metavar="YYYY-MM-DD", help=help)
