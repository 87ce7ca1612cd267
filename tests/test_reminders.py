"""``send_reminders``: recipients and content, idempotency in the ISO week, language, opt-out, --dry-run."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from agreements.models import FollowUp, Milestone, Region, Report, SentDigest, StallSettings
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, region

D = datetime.timedelta
AS_OF = datetime.date(2025, 6, 18)  # a Wednesday, ISO week 25
SITE = "https://kerjasama.example.go.id"


@pytest.fixture(autouse=True)
def _reports_are_in(db):
    """Every region has submitted its periodic reports of 2023–2025, so the digests here hold only what each test
    sets up (the report reminders are tested in tests/test_reports.py)."""
    periods = [f"{year}{suffix}" for year in (2023, 2024, 2025) for suffix in ("-S1", "-S2", "")]
    Report.objects.bulk_create([Report(region_id=pk, period=period, status=Report.Status.SUBMITTED)
                                for pk in Region.objects.filter(is_autonomous=True).values_list("pk", flat=True)
                                for period in periods])


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args):
    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def case(db):
    """Kota Bandung's officer has an overdue milestone, one due soon, one later, a stalled KB, and
    an agreement of another region that must not appear."""
    StallSettings.current()
    officer = UserFactory(username="kota-bandung", role="local", region=region("32.73"), language="en")
    pks = PksFactory(number="PKS/BDG/1", signed_on=AS_OF - D(60), regions=["32.73", "32.04"])
    overdue = MilestoneFactory(agreement=pks, title="Survei lokasi", due_on=AS_OF - D(3))
    soon = MilestoneFactory(agreement=pks, title="Rapat teknis", due_on=AS_OF + D(20))
    MilestoneFactory(agreement=pks, title="Evaluasi akhir", due_on=AS_OF + D(90))
    MilestoneFactory(agreement=pks, title="Sudah selesai", due_on=AS_OF - D(10), status=Milestone.Status.MET,
                     completed_on=AS_OF - D(12))
    stalled = AgreementFactory(number="KB/BDG/LAMA", signed_on=AS_OF - D(400), regions=["32.73", "32.04"])
    other = PksFactory(number="PKS/BOGOR/1", signed_on=AS_OF - D(60), regions=["32.01", "32.04"])
    MilestoneFactory(agreement=other, title="Bukan milik Bandung", due_on=AS_OF - D(3))
    return {"officer": officer, "pks": pks, "overdue": overdue, "soon": soon, "stalled": stalled}


def officer_mails(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_officer_digest_recipients_and_content(case):
    output = run("--as-of", AS_OF.isoformat())
    assert "sent" in output
    [message] = officer_mails(case["officer"])
    body = message.body
    assert message.subject == "Kerjasama: your weekly reminder (18 June 2025)"
    assert "Overdue milestones" in body and "Survei lokasi" in body
    assert "Milestones due in the next 30 days" in body and "Rapat teknis" in body
    assert "Stalled agreements" in body and "KB/BDG/LAMA" in body and "KB without PKS" in body
    assert body.index("Survei lokasi") < body.index("Rapat teknis")
    for absent in ("Evaluasi akhir", "Sudah selesai", "Bukan milik Bandung", "PKS/BOGOR/1"):
        assert absent not in body
    assert f"{SITE}/milestones/{case['overdue'].pk}/update/" in body
    assert f"{SITE}/agreements/{case['stalled'].pk}/" in body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{SITE}/agreements/{case["stalled"].pk}/"' in html
    assert '<html lang="en">' in html
    assert SentDigest.objects.filter(user=case["officer"], kind="officer", iso_year=2025, iso_week=25).exists()


def test_nothing_is_sent_to_a_user_with_nothing_to_report(case):
    quiet = UserFactory(username="kab-garut", role="local", region=region("32.05"))
    ministry = UserFactory(username="staf", role="ministry")
    # Nothing stalled this week and no follow-up: the ministry digest is empty too.
    run("--as-of", AS_OF.isoformat())
    assert officer_mails(quiet) == [] and officer_mails(ministry) == []
    assert not SentDigest.objects.filter(user__in=[quiet, ministry]).exists()


def test_running_twice_in_the_same_iso_week_sends_nothing_the_second_time(case):
    run("--as-of", AS_OF.isoformat())
    assert len(officer_mails(case["officer"])) == 1
    mail.outbox.clear()
    run("--as-of", (AS_OF + D(4)).isoformat())  # Sunday of the same ISO week
    assert mail.outbox == []
    run("--as-of", (AS_OF + D(5)).isoformat())  # Monday: a new week
    assert len(officer_mails(case["officer"])) == 1


def test_digest_is_in_the_recipients_language(case):
    case["officer"].language = "id"
    case["officer"].save(update_fields=["language"])
    english = UserFactory(username="kab-bandung", role="local", region=region("32.04"), language="en")
    run("--as-of", AS_OF.isoformat())
    [to_id] = officer_mails(case["officer"])
    [to_en] = officer_mails(english)
    assert '<html lang="id">' in to_id.alternatives[0][0]
    assert '<html lang="en">' in to_en.alternatives[0][0]
    assert to_en.subject.startswith("Kerjasama: your weekly reminder") and "Overdue milestones" in to_en.body


@pytest.mark.parametrize("change", [{"reminders_enabled": False}, {"is_active": False}, {"email": ""}])
def test_opted_out_inactive_or_without_email_gets_nothing(case, change):
    for field, value in change.items():
        setattr(case["officer"], field, value)
    case["officer"].save()
    run("--as-of", AS_OF.isoformat())
    assert not any(case["officer"].username in (m.to[0] if m.to else "") for m in mail.outbox)
    assert not SentDigest.objects.filter(user=case["officer"]).exists()


def test_dry_run_prints_and_sends_nothing(case):
    output = run("--as-of", AS_OF.isoformat(), "--dry-run")
    assert mail.outbox == [] and not SentDigest.objects.exists()
    assert case["officer"].email in output and "Survei lokasi" in output
    run("--as-of", AS_OF.isoformat())  # a dry run does not count as sent
    assert len(officer_mails(case["officer"])) == 1


def test_partner_region_changes_since_the_last_digest(case):
    partner = UserFactory(username="kab-bandung", role="local", region=region("32.04"), reminders_enabled=False)
    colleague = UserFactory(username="kota-bandung-2", role="local", region=region("32.73"),
                            reminders_enabled=False)
    pks = case["pks"]
    pks.title = "Judul diubah oleh mitra"
    pks._history_user = partner
    pks.save()
    milestone = case["soon"]
    milestone.progress = 40
    milestone._history_user = colleague  # the officer's own region: not a partner change
    milestone.save()
    run("--as-of", datetime.date.today().isoformat())
    [message] = officer_mails(case["officer"])
    assert "Changes by partner regions" in message.body
    assert "kab-bandung" in message.body and "kota-bandung-2" not in message.body


def test_ministry_digest_new_stalls_by_province_and_follow_ups(db):
    StallSettings.current()
    staff = UserFactory(username="staf", role="ministry", language="en")
    UserFactory(username="staf-off", role="ministry", reminders_enabled=False)
    # Stalled as of AS_OF (366 > 365 days) but not a week earlier (359 days): a new stall.
    new = AgreementFactory(number="KB/BARU", signed_on=AS_OF - D(366), regions=["32.73", "33.71"])
    AgreementFactory(number="KB/LAMA", signed_on=AS_OF - D(500), regions=["35.78", "35.15"])  # stalled before
    note = FollowUp.objects.create(agreement=new, kind="letter", date=AS_OF - D(2), note="Surat teguran",
                                   recorded_by=staff)
    FollowUp.objects.filter(pk=note.pk).update(
        created_at=datetime.datetime.combine(AS_OF - D(2), datetime.time(10), tzinfo=datetime.UTC)
    )
    run("--as-of", AS_OF.isoformat())
    assert [m.to for m in mail.outbox] == [[staff.email]]
    body = mail.outbox[0].body
    assert "KB/BARU" in body and "KB/LAMA" not in body
    assert "Jawa Barat" in body and "Jawa Tengah" in body and body.index("Jawa Barat") < body.index("Jawa Tengah")
    assert "Follow-ups recorded this week" in body and "Surat teguran" in body
    assert f"{SITE}/agreements/{new.pk}/" in body
    mail.outbox.clear()
    run("--as-of", AS_OF.isoformat())
    assert mail.outbox == []


def test_bad_as_of_is_an_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("--as-of", "18-06-2025")


# --- agreements ending soon: 90, 30 and 7 days before the end in force, each threshold once -----------------


@pytest.fixture
def ending(db):
    StallSettings.current()
    officer = UserFactory(username="kota-bandung-terms", role="local", region=region("32.73"), language="en")
    kb = AgreementFactory(number="KB/BDG/BERAKHIR", signed_on=AS_OF - D(100), ends_on=AS_OF + D(85),
                          regions=["32.73", "32.04"])
    AgreementFactory(number="KB/BDG/JAUH", signed_on=AS_OF - D(100), ends_on=AS_OF + D(200),
                     regions=["32.73", "32.04"])
    return {"officer": officer, "kb": kb}


def _expiring_sent(user):
    from agreements.models import ExpiryReminder

    return sorted(ExpiryReminder.objects.filter(user=user).values_list("agreement__number", "threshold_days"))


def test_expiring_agreements_are_sent_once_per_threshold(ending):
    officer = ending["officer"]
    # Weekly runs from 85 days before the end to after it: the 90-day warning, the 30-day, the 7-day, nothing more.
    sent_at = {}
    for week in range(14):
        as_of = AS_OF + D(7 * week)
        mail.outbox.clear()
        run("--as-of", as_of.isoformat())
        for message in officer_mails(officer):
            if "KB/BDG/BERAKHIR" in message.body:
                sent_at[week] = (ending["kb"].ends_on - as_of).days
    assert sent_at == {0: 85, 8: 29, 12: 1}
    assert _expiring_sent(officer) == [("KB/BDG/BERAKHIR", 7), ("KB/BDG/BERAKHIR", 30), ("KB/BDG/BERAKHIR", 90)]


def test_expiring_content_and_running_twice_sends_nothing_twice(ending):
    officer = ending["officer"]
    run("--as-of", AS_OF.isoformat())
    [message] = officer_mails(officer)
    assert "Agreements ending soon" in message.body
    assert "KB/BDG/BERAKHIR" in message.body and "in 85 days" in message.body
    assert "KB/BDG/JAUH" not in message.body
    assert f"{SITE}/agreements/{ending['kb'].pk}/" in message.body
    html = message.alternatives[0][0]
    assert "Agreements ending soon" in html
    mail.outbox.clear()
    run("--as-of", AS_OF.isoformat())  # the same week: nothing
    run("--as-of", (AS_OF + D(7)).isoformat())  # the next week: the 90-day warning was sent already
    assert officer_mails(officer) == []
    assert _expiring_sent(officer) == [("KB/BDG/BERAKHIR", 90)]


def test_expiring_dry_run_records_nothing(ending):
    out = run("--as-of", AS_OF.isoformat(), "--dry-run")
    assert "KB/BDG/BERAKHIR" in out
    assert _expiring_sent(ending["officer"]) == []


def test_an_amendment_moving_the_end_moves_the_warnings(ending):
    from agreements.models import Amendment

    officer = ending["officer"]
    run("--as-of", AS_OF.isoformat())
    assert _expiring_sent(officer) == [("KB/BDG/BERAKHIR", 90)]
    # Extended before the 30-day warning: nothing until 30 days before the new end.
    Amendment.objects.create(agreement=ending["kb"], signed_on=AS_OF + D(10), ends_on=AS_OF + D(400),
                             summary="Diperpanjang")
    mail.outbox.clear()
    run("--as-of", (AS_OF + D(60)).isoformat())
    assert not any("KB/BDG/BERAKHIR" in m.body for m in officer_mails(officer))
    run("--as-of", (AS_OF + D(375)).isoformat())
    assert any("KB/BDG/BERAKHIR" in m.body and "in 25 days" in m.body for m in officer_mails(officer))


def test_a_terminated_agreement_gets_no_warning(ending):
    ending["kb"].terminated_on = AS_OF - D(1)
    ending["kb"].save()
    run("--as-of", AS_OF.isoformat())
    assert officer_mails(ending["officer"]) == []
