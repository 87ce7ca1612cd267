"""``manage.py seed_demo``: deterministic, complete demo data, the demo accounts, and its safety checks."""

import datetime
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from agreements import stalls
from agreements.access import agreements_visible_to
from agreements.demo import _neighbour_provinces
from agreements.models import Agreement, AgreementParty, Milestone, MilestoneUpdate, Stage, StallReason, ThirdParty, User

AS_OF = datetime.date(2026, 6, 30)
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True  # the test runner forces DEBUG off; seed_demo refuses then without --force
    return settings


def seed(**options) -> str:
    out = io.StringIO()
    with translation.override("en"):  # messages are asserted on their English msgids
        call_command("seed_demo", as_of=AS_OF.isoformat(), stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict:
    """Everything seed_demo writes except primary keys, sorted so two runs compare equal."""
    return {
        "agreements": list(Agreement.objects.order_by("number").values_list(
            "number", "title", "document_type", "cooperation_kind", "parent__number", "signed_on",
            "dprd_approved_on", "starts_on", "ends_on", "terminated_on", "value_idr", "created_at",
        )),
        "parties": sorted(Agreement.objects.values_list(
            "number", "parties__region__code", "parties__document_number", "parties__signatory_name",
        )),
        "history": sorted(Agreement.history.filter(history_type="+").values_list("number", "history_date")),
        "third_parties": sorted(Agreement.objects.filter(third_parties__isnull=False).values_list(
            "number", "third_parties__name")),
        "affairs": sorted(Agreement.objects.values_list("number", "affairs__code")),
        "milestones": sorted(Milestone.objects.values_list(
            "agreement__number", "title", "responsible_region__code", "due_on", "started_on", "completed_on",
            "status", "progress", "created_at",
        )),
        "updates": sorted(MilestoneUpdate.objects.values_list(
            "milestone__agreement__number", "milestone__title", "created_at", "status_before", "status_after",
            "progress", "note", "user__username",
        )),
    }


def wipe_agreements() -> None:
    Agreement.objects.filter(parent__isnull=False).delete()
    Agreement.objects.all().delete()
    for model in [Agreement, AgreementParty, ThirdParty, Milestone]:
        model.history.all().delete()


@pytest.mark.django_db
def test_same_seed_and_anchor_give_identical_data(debug_on):
    seed(agreements=120, seed=7)
    first = snapshot()
    assert len(first["agreements"]) == 120
    wipe_agreements()
    seed(agreements=120, seed=7)
    assert snapshot() == first
    wipe_agreements()
    seed(agreements=120, seed=8)
    assert snapshot()["agreements"] != first["agreements"]


@pytest.fixture
def seeded(db, debug_on):
    """The default run (400 agreements)."""
    output = seed()
    return output


def test_default_run_covers_every_stage_and_stall_reason(seeded):
    qs = stalls.with_status(as_of=AS_OF, thresholds=stalls.Thresholds())
    assert qs.count() == 400
    stages = Counter(qs.values_list("stage", flat=True))
    assert set(stages) == set(Stage.values), stages
    assert set(qs.values_list("document_type", "stage").distinct()) >= {
        ("KB", "draft"), ("KB", "signed"), ("KB", "followed_up"), ("KB", "expired"), ("KB", "terminated"),
        ("PKS", "draft"), ("PKS", "signed"), ("PKS", "implementing"), ("PKS", "completed"), ("PKS", "expired"),
        ("PKS", "terminated"),
    }
    for reason in StallReason.values:
        assert qs.filter(stalls.reason_q(reason)).count() >= 20, reason  # a good share of each (≥ 5 %)
    healthy = qs.filter(is_stalled=False, stage__in=[Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING]).count()
    assert healthy >= 80
    # An expired KB left without a PKS is lapsed, no longer stalled.
    assert qs.filter(document_type="KB", stage=Stage.EXPIRED, is_lapsed=True).exists()
    assert not qs.filter(stage=Stage.EXPIRED, is_stalled=True).exists()


def test_default_run_has_lapsed_expiring_and_no_end_date_agreements(seeded):
    qs = stalls.with_status(as_of=AS_OF, thresholds=stalls.Thresholds())
    lapsed = qs.filter(stalls.lapsed_q())
    assert len({a.ends_on_in_force.year for a in lapsed}) >= 2
    provinces = set(lapsed.values_list("parties__region__code", flat=True))
    assert len({code[:2] for code in provinces}) >= 3
    for code in ("32", "32.73", "32.01"):  # each demo officer's region: ending within 7, 30 and 90 days
        own = qs.filter(parties__region__code=code)
        for days in (7, 30, 90):
            assert own.filter(stalls.expiring_within_q(days, AS_OF)).count() >= (7, 30, 90).index(days) + 1, code
    assert qs.filter(stalls.no_end_date_q()).count() >= 4
    terminated = Agreement.objects.filter(terminated_on__isnull=False)
    assert terminated.exists() and not terminated.filter(termination_reason="").exists()
    assert terminated.values("termination_reason").distinct().count() >= 3


def test_default_run_is_valid_and_realistic(seeded):
    agreements = list(Agreement.objects.select_related("parent").prefetch_related(
        "parties__region", "third_parties", "affairs"))
    for a in agreements:
        a.full_clean()
        a.clean_relations([p.region for p in a.parties.all()], [t.name for t in a.third_parties.all()],
                          list(a.affairs.all()))
        assert all(p.region.is_autonomous for p in a.parties.all())
    children = [a for a in agreements if a.parent_id]
    assert len(children) >= 40
    assert all(c.document_type == "PKS" and c.parent.document_type == "KB" for c in children)
    assert all(c.signed_on is None or c.signed_on >= c.parent.signed_on for c in children)
    assert any(a.cooperation_kind == Agreement.Kind.KSDPK and a.third_parties.all() for a in agreements)
    # KSDD partners mostly in the same or a neighbouring province.
    neighbours = _neighbour_provinces()
    ksdd = [a for a in agreements if a.cooperation_kind in Agreement.KSDD_KINDS]
    near = 0
    for a in ksdd:
        provinces = [p.region.province_code for p in a.parties.all()]
        near += all(q == provinces[0] or q in neighbours[provinces[0]] for q in provinces)
    assert near / len(ksdd) >= 0.75
    assert "Pengelolaan Sampah Regional" in " ".join(a.title for a in agreements)
    for m in Milestone.objects.select_related("agreement"):
        m.full_clean()
    assert MilestoneUpdate.objects.count() >= 200
    assert MilestoneUpdate.objects.filter(status_after=Milestone.Status.MET).exists()


DEMO_ACCOUNTS = [
    ("admin", User.Role.ADMIN, None),
    ("kemendagri", User.Role.MINISTRY, None),
    ("jabar", User.Role.PROVINCE, "32"),
    ("kota-bandung", User.Role.LOCAL, "32.73"),
    ("kab-bogor", User.Role.LOCAL, "32.01"),
]


def test_demo_users_exist_and_can_log_in(seeded, client):
    assert User.objects.count() == len(DEMO_ACCOUNTS)
    for username, role, region in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role == role
        assert (user.region.code if user.region else None) == region
        assert user.email and "@" in user.email
        assert user.is_superuser == (username == "admin") and user.is_staff == (username == "admin")
        assert client.login(username=username, password="kerjasama-demo"), username
        client.logout()
        assert username in seeded  # listed in the output
    assert "kerjasama-demo" in seeded  # credentials printed
    client.login(username="admin", password="kerjasama-demo")
    assert client.get("/admin/").status_code == 200


def test_each_officer_region_has_met_overdue_and_due_soon_milestones(seeded):
    grace = stalls.Thresholds().overdue_grace_days
    for username in ["jabar", "kota-bandung", "kab-bogor"]:
        user = User.objects.get(username=username)
        own = Milestone.objects.filter(agreement__parties__region=user.region)
        assert agreements_visible_to(user).filter(parties__region=user.region).count() >= 4, username
        met = own.filter(status=Milestone.Status.MET, completed_on__lte=AS_OF)
        assert met.exists(), username
        overdue = own.exclude(status=Milestone.Status.CANCELLED).exclude(pk__in=met.values("pk")).filter(
            due_on__lt=AS_OF - datetime.timedelta(days=grace))
        assert overdue.exists(), username
        soon = own.exclude(status__in=[Milestone.Status.MET, Milestone.Status.CANCELLED]).filter(
            due_on__gte=AS_OF, due_on__lte=AS_OF + datetime.timedelta(days=30))
        assert soon.exists(), username
        assert MilestoneUpdate.objects.filter(user=user).exists(), username


@pytest.mark.django_db
def test_refuses_with_debug_off_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed(agreements=10)
    assert Agreement.objects.count() == 0
    assert not User.objects.filter(username="admin").exists()
    seed(agreements=10, force=True)
    assert Agreement.objects.count() == 10


def test_refuses_on_a_seeded_database_and_if_empty_does_nothing(db, debug_on):
    seed(agreements=30)
    before = snapshot()
    with pytest.raises(CommandError, match="already has 30 agreements"):
        seed(agreements=30)
    output = seed(agreements=30, if_empty=True)
    assert "already has 30 agreements" in output
    assert snapshot() == before
    assert User.objects.filter(username="admin").count() == 1


@pytest.mark.django_db
def test_rejects_a_bad_anchor_date(debug_on):
    with translation.override("en"), pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", as_of="30/06/2026", stdout=io.StringIO())
    assert Agreement.objects.count() == 0


def test_command_line_exits_non_zero_with_debug_off(tmp_path):
    """From the shell: a clear message and a non-zero exit status, before touching any database."""
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "test-only", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "--force" in result.stderr
    assert Agreement.objects.none().count() == 0  # nothing to check in the test DB; the file stays empty
    assert not (tmp_path / "x.db").exists() or (tmp_path / "x.db").stat().st_size == 0


def test_stalled_command_agrees_with_the_dashboard_on_the_demo_data(seeded, client):
    """The command and the dashboard agree: ``stalled --format json`` on the demo data gives the dashboard's totals."""
    import json

    out = io.StringIO()
    call_command("stalled", as_of=AS_OF.isoformat(), format="json", stdout=out)
    rows = json.loads(out.getvalue())
    client.force_login(User.objects.get(username="kemendagri"))
    ctx = client.get("/", {"as_of": AS_OF.isoformat()}).context
    summary = ctx["summary"]
    assert len(rows) == summary["stalled"].value > 0
    for item in summary["by_reason"]:
        assert sum(item["reason"].value in row["reasons"] for row in rows) == item["figure"].value
    assert sum(row["stalled"].value for row in ctx["pipeline"]) == len(rows)
    longest = ctx["longest"]
    assert [a.number for a in longest] == [row["number"] for row in rows[: len(longest)]]


def test_demo_has_needs_and_offers_with_partner_suggestions(seeded):
    from agreements.affairs import suggest_partners
    from agreements.models import GovernmentAffair, NeedOffer, Region

    assert NeedOffer.objects.count() > 100
    bandung = Region.objects.get(code="32.73")
    assert NeedOffer.objects.filter(region=bandung, kind="need", affair__code="2.11").exists()
    suggestions = suggest_partners(bandung, GovernmentAffair.objects.get(code="2.11"), as_of=AS_OF)
    # Kota Cimahi declared a high priority offer on it: first, and the reason says so first.
    assert suggestions[0].region.code == "32.77"
    assert suggestions[0].reason.startswith("offers this affair (high priority); same province")


def test_default_run_has_amendments_and_a_renewed_kb(seeded):
    from agreements.models import Amendment

    amendments = Amendment.objects.select_related("agreement")
    assert amendments.count() >= 3
    moved = amendments.filter(ends_on__isnull=False).first()
    qs = stalls.with_status(Agreement.objects.filter(pk=moved.agreement_id), as_of=AS_OF, thresholds=stalls.Thresholds())
    assert qs.get().ends_on_in_force == moved.ends_on != moved.agreement.ends_on
    successor = Agreement.objects.get(renews__isnull=False)
    renewed = successor.renews
    assert successor.document_type == renewed.document_type == "KB"
    assert set(successor.regions.all()) == set(renewed.regions.all())
    assert successor.signed_on <= renewed.ends_on


@pytest.mark.django_db
def test_default_run_has_semester_evaluations_some_due(seeded):
    from agreements import access, evaluations
    from agreements.models import Evaluation, EvaluationConclusion

    qs = stalls.with_status(Agreement.objects.all(), as_of=AS_OF)
    assert Evaluation.objects.count() > 20
    assert qs.filter(evaluations.evaluation_due_q(AS_OF)).exists()
    assert Evaluation.objects.filter(recommendation="stop").exists() and EvaluationConclusion.objects.exists()
    # Kota Bandung's officer has an evaluation of its own to fill in, on a PKS implementing for six months.
    officer = User.objects.get(username="kota-bandung")
    assert evaluations.due_for_officer(officer, access.agreements_writable_by(officer), AS_OF)
    assert not Evaluation.objects.filter(submitted_at__date__gt=AS_OF).exists()
