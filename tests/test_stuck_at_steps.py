"""Where an agreement stopped, read from the checklists the regulated steps' templates give every agreement
(``agreements.steps``), and the obstacles of the benchmark's dataset (``agreements.benchdata``)."""


import pytest

from agreements import stalls
from agreements.models import Agreement, AgreementStep, Obstacle
from tests.factories import AgreementFactory
from tests.test_obstacles import DAY, DONE, NA, D, stuck_at

pytestmark = pytest.mark.django_db


def test_the_steps_copied_from_the_default_templates_say_where_a_kb_stopped():
    """With the checklist an agreement gets when it is created (``steps.create_steps``): a KB signed long ago with
    no PKS stopped after its signing, at the DPRD approval or at drafting the PKS."""
    from agreements import steps

    kb = AgreementFactory(signed_on=D - 730 * DAY)
    AgreementStep.objects.filter(agreement=kb).delete()
    steps.install_default_templates()
    steps.create_steps(kb)
    code, title = stuck_at(kb)
    assert code is not None and title
    stopped = AgreementStep.objects.get(agreement=kb, code=code)
    done_before = AgreementStep.objects.filter(agreement=kb, order__lt=stopped.order).exclude(status=NA)
    assert all(s.status == DONE and s.done_on <= D for s in done_before)
    assert AgreementStep.objects.filter(agreement=kb, order__lt=stopped.order, code__endswith=".SIGN").exists()


def test_the_benchmark_data_has_obstacles_on_stalled_agreements():
    from agreements import benchdata

    benchdata.seed(n=200, seed=7, as_of=D)
    count = Obstacle.objects.count()
    assert count > 40 and Obstacle.history.count() == count
    stalled = stalls.with_status(Agreement.objects.all(), as_of=D).filter(is_stalled=True).values("pk")
    assert Obstacle.objects.filter(agreement__in=stalled).count() > count * 0.7
    assert Obstacle.objects.filter(resolved_on__isnull=False).exists()
    assert not Obstacle.objects.filter(raised_on__gt=D).exists()
    assert Obstacle.objects.filter(stalls.obstacle_open_q(D)).exists()
