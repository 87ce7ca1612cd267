"""English formats: the same long dates as the Indonesian pages ("2 December 2026"), times on 24 hours.

Django falls back to ``django/conf/locale/en/formats.py`` for every name not defined here.
"""

DATE_FORMAT = "j F Y"  # 2 December 2026
DATETIME_FORMAT = "j M Y H:i"  # 2 Dec 2026 19:52
SHORT_DATETIME_FORMAT = "j M Y H:i"  # 2 Dec 2026 19:52
TIME_FORMAT = "H:i"  # 19:52
