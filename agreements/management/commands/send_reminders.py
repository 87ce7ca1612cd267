"""Send the weekly reminder e-mails: one digest per regional officer and one per ministry staff member.

    python manage.py send_reminders [--as-of YYYY-MM-DD] [--dry-run]

Officers (active, reminders on, with an e-mail): their region's milestones overdue and due in the
next 30 days, its stalled agreements, what partner regions changed since the last digest, and its
agreements ending within 90, 30 and 7 days (each threshold once per officer and agreement, recorded as
``ExpiryReminder``), and its PKSs whose semester evaluation by the region is due; its region's reports due
within 14 days or late, and for a province officer how many of its kabupaten/kota have reported.
Ministry staff: the agreements that stalled in the last week, by province, and the follow-ups
recorded. Nobody gets an empty e-mail; a digest sent in an ISO week is recorded (``SentDigest``) and
not sent again that week. ``--dry-run`` prints what would be sent and sends or records nothing.
"""

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from agreements import followups, stalls
from agreements.management import add_as_of_argument, parse_as_of
from agreements.models import SentDigest


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


class Command(BaseCommand):
    help = "Send the weekly reminder e-mails to regional officers and ministry staff."

    def add_arguments(self, parser):
        add_as_of_argument(parser, help="Date of the digests (YYYY-MM-DD), default today.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")

    def handle(self, *args, as_of=None, dry_run=False, **options):
        as_of = parse_as_of(as_of)  # the digests count days back and forth from it: no year 1 or 9999
        self.as_of, self.dry_run = as_of, dry_run
        thresholds = stalls.Thresholds.current()
        sent = skipped = 0

        for user in followups.officer_recipients():
            if followups.already_sent(user, SentDigest.Kind.OFFICER, as_of):
                skipped += 1
                continue
            digest = followups.officer_digest(user, as_of, thresholds)
            if digest.is_empty:
                continue
            sent += self._send(user, SentDigest.Kind.OFFICER, "emails/officer_digest", {"digest": digest})

        ministry = [u for u in followups.ministry_recipients()
                    if not followups.already_sent(u, SentDigest.Kind.MINISTRY, as_of)]
        if ministry:
            # The same content for every ministry recipient: computed once, rendered in each language.
            new = list(followups.new_stalls(as_of, thresholds).prefetch_related("parties__region__province"))
            recorded = list(followups.recent_followups(as_of))
            for user in ministry:
                digest = followups.ministry_digest(user, as_of, thresholds, stalled_now=new, followups=recorded)
                if digest.is_empty:
                    continue
                sent += self._send(user, SentDigest.Kind.MINISTRY, "emails/ministry_digest", {"digest": digest})

        verb = "would send" if dry_run else "sent"
        self.stdout.write(f"{verb} {sent} digest(s) as of {as_of.isoformat()}; {skipped} already sent this week")

    def _send(self, user, kind: str, template: str, context: dict) -> int:
        year, week = followups.iso_week(self.as_of)
        with translation.override(user.language or settings.LANGUAGE_CODE):
            context = {**context, "user": user, "site_url": settings.SITE_URL, "absolute": absolute,
                       "links": _links(context["digest"])}
            subject = _subject(kind, self.as_of)
            text = render_to_string(f"{template}.txt", context)
            html = render_to_string(f"{template}.html", context)
        if self.dry_run:
            self.stdout.write(f"--- to {user.email} ({user.get_username()}, {user.language}): {subject}")
            self.stdout.write(text)
            return 1
        try:
            with transaction.atomic():
                SentDigest.objects.create(user=user, kind=kind, iso_year=year, iso_week=week)
                followups.record_expiry_reminders(user, getattr(context["digest"], "expiring", []))
                message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
                message.attach_alternative(html, "text/html")
                message.send()
        except IntegrityError:
            return 0  # another run recorded it meanwhile
        return 1


def _subject(kind: str, as_of: datetime.date) -> str:
    """The subject in the active language, the date as people write it ("2 Desember 2026"), never ISO."""
    date = formats.date_format(as_of, "DATE_FORMAT")
    if kind == SentDigest.Kind.OFFICER:
        return _("Kerjasama: your weekly reminder (%(date)s)") % {"date": date}
    return _("Kerjasama: weekly digest of new stalls and follow-ups (%(date)s)") % {"date": date}


def _links(digest) -> dict:
    """Absolute links for the e-mail, keyed by object (the templates cannot build them)."""
    links = {"my": absolute(reverse("my-agreements")), "profile": absolute(reverse("profile")),
             "home": absolute(reverse("home"))}
    for attr in ("overdue", "due_soon"):
        for m in getattr(digest, attr, []):
            m.url = absolute(reverse("milestone-update", args=[m.pk]))
            m.agreement_url = absolute(m.agreement.get_absolute_url())
    for a in [*getattr(digest, "stalled", []), *getattr(digest, "expiring", []),
              *getattr(digest, "evaluation_due", [])]:
        a.url = absolute(a.get_absolute_url())
    for report in getattr(digest, "reports_due", []):
        report["url"] = absolute(report["path"])
    if getattr(digest, "province_reports", None):
        digest.province_reports["url"] = absolute(digest.province_reports["path"])
    for change in getattr(digest, "partner_changes", []):
        change.url = absolute(change.agreement.get_absolute_url())
    for _province, agreements in getattr(digest, "new_stalls", []):
        for a in agreements:
            a.url = absolute(a.get_absolute_url())
    for f in getattr(digest, "followups", []):
        f.url = absolute(f.agreement.get_absolute_url() if f.agreement_id
                         else reverse("region-detail", args=[f.region.code]))
    return links
