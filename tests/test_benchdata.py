"""The benchmark's bulk seeder (agreements.benchdata) at a tiny size, and the bench script's guards."""

import datetime
import importlib.util
from pathlib import Path

import pytest
from django.db.models import Count, F, Q

from agreements import benchdata, stalls
from agreements.models import Agreement, AgreementParty, Milestone, MilestoneUpdate, Region, Stage, StallReason

AS_OF = datetime.date(2026, 6, 30)
N = 200


@pytest.fixture
def seeded(db):
    return benchdata.seed(n=N, seed=7, as_of=AS_OF)


def test_counts_are_exact(seeded):
    assert Agreement.objects.count() == N
    assert Milestone.objects.count() == benchdata.MILESTONES_PER_AGREEMENT * N
    assert MilestoneUpdate.objects.count() == benchdata.UPDATES_PER_MILESTONE * benchdata.MILESTONES_PER_AGREEMENT * N
    assert (seeded.milestones, seeded.updates) == (5 * N, 15 * N)
    # One "created" history row per agreement and per milestone: the agreement page's timeline has data.
    assert Agreement.history.count() == N
    assert Milestone.history.count() == 5 * N


def test_kbs_and_pks_with_parents_signed_first(seeded):
    kbs = Agreement.objects.filter(document_type="KB")
    pks = Agreement.objects.filter(document_type="PKS")
    assert kbs.count() == N * 9 // 20 and pks.count() == N - N * 9 // 20
    with_parent = pks.filter(parent__isnull=False)
    assert with_parent.count() > pks.count() * 0.8
    assert not with_parent.exclude(parent__document_type="KB").exists()
    # A PKS is never signed before its KB (Agreement.clean's rule, which bulk inserts skip).
    assert not with_parent.filter(signed_on__isnull=False, signed_on__lt=F("parent__signed_on")).exists()
    # KSDD agreements have at least two regional parties; the others a third party.
    ksdd = Agreement.objects.filter(cooperation_kind__in=Agreement.KSDD_KINDS).annotate(n=Count("parties"))
    assert not ksdd.filter(n__lt=2).exists()
    others = Agreement.objects.exclude(cooperation_kind__in=Agreement.KSDD_KINDS).annotate(n=Count("third_parties"))
    assert others.exists() and not others.filter(n__lt=1).exists()


def test_the_big_pks_has_twenty_milestones(seeded):
    big = Agreement.objects.get(pk=seeded.big_pks_id)
    assert big.document_type == "PKS" and big.parent_id is not None
    assert big.milestones.count() == benchdata.BIG_PKS_MILESTONES


def test_every_stage_and_stall_reason_is_present(seeded):
    qs = stalls.with_status(as_of=AS_OF, thresholds=stalls.Thresholds())
    stages = set(qs.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    counts = qs.aggregate(
        signed=Count("pk", filter=Q(signed_on__isnull=False)),
        stalled=Count("pk", filter=Q(is_stalled=True)),
        **{r: Count("pk", filter=stalls.reason_q(r)) for r in StallReason.values},
    )
    for reason in StallReason.values:
        assert counts[reason] > 0, reason
    # Realistic: a sizeable minority of the signed agreements is stalled, not none and not all.
    assert 0.15 * counts["signed"] < counts["stalled"] < 0.6 * counts["signed"]


def test_only_autonomous_regions_are_parties_and_many_of_them(seeded):
    regions = Region.objects.filter(parties__isnull=False).distinct()
    assert not regions.filter(is_autonomous=False).exists()
    # 200 agreements already reach a broad spread (the 20,000 of the benchmark reach all 546).
    assert regions.count() >= 150
    assert AgreementParty.objects.count() >= N


def test_deterministic_and_reseedable(db):
    def fingerprint():
        return list(
            Agreement.objects.order_by("pk").values_list("number", "document_type", "parent_id", "signed_on", "ends_on")
        ), list(Milestone.objects.order_by("pk").values_list("agreement_id", "status", "due_on", "completed_on"))

    benchdata.seed(n=60, seed=3, as_of=AS_OF)
    first = fingerprint()
    benchdata.seed(n=60, seed=3, as_of=AS_OF)  # empties the tables first: same rows, not twice as many
    assert Agreement.objects.count() == 60
    assert fingerprint() == first


def _bench_module():
    path = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
    spec = importlib.util.spec_from_file_location("kerjasama_bench_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "url",
    ["sqlite:///db.sqlite3", "postgres://postgres@127.0.0.1:5432/kerjasama", "postgres://postgres@10.0.0.5/kerjasama_bench"],
)
def test_bench_refuses_sqlite_and_databases_not_meant_for_it(url):
    bench = _bench_module()
    with pytest.raises(SystemExit):
        bench.check_database_url(url)


def test_bench_accepts_a_local_bench_database_and_computes_percentiles():
    bench = _bench_module()
    assert bench.check_database_url("postgres://postgres@127.0.0.1:5432/kerjasama_bench") == "kerjasama_bench"
    assert bench.percentile([float(i) for i in range(1, 101)], 95) == pytest.approx(95.05)
    assert bench.percentile([5.0], 95) == 5.0


def test_semester_evaluations_are_seeded_with_some_due(seeded):
    from agreements import evaluations
    from agreements.models import Evaluation, EvaluationAnswer

    evaluated = Evaluation.objects.count()
    assert evaluated > N // 10
    assert EvaluationAnswer.objects.count() == 5 * evaluated
    qs = stalls.with_status(Agreement.objects.all(), as_of=AS_OF)
    assert qs.filter(evaluations.evaluation_due_q(AS_OF)).exists()
    assert Evaluation.history.count() == evaluated
