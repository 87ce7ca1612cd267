"""Indonesian formats, as Kemendagri documents write them: "29 November 2026", "1.234.567", "12,5".

Django's own ``django/conf/locale/id/formats.py`` already has the separators (thousands ".", decimal ","),
the input formats and Monday as the first day of the week; Django falls back to it for every name not
defined here. Only the long date differs: Django abbreviates the month ("j N Y" → "29 Nov. 2026"),
official letters spell it out.
"""

DATE_FORMAT = "j F Y"  # 29 November 2026
DATETIME_FORMAT = "j M Y H.i"  # 29 Nov 2026 14.30: every time on a page, one format
SHORT_DATETIME_FORMAT = "j M Y H.i"  # 29 Nov 2026 14.30: a time is written with a dot
TIME_FORMAT = "H.i"  # 10.00
