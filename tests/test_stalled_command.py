"""``manage.py stalled`` and the selector behind it (agreements.selectors.stalled_report)."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import selectors, stalls
from agreements.models import Agreement, StallSettings
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

pytestmark = pytest.mark.django_db

S = datetime.date(2024, 1, 15)
D = datetime.date(2025, 2, 18)  # S + 400 days
DAY = datetime.timedelta(days=1)
KEYS = {"number", "document_type", "title", "reasons", "days_stalled", "signed_on", "region_codes", "affair_codes",
        "stuck_at", "obstacles"}


@pytest.fixture
def data():
    """Stalled as of D: 'z/9' (500 days), then a tie at 400 days broken by code point ('B/1' < 'a/1'),
    then a PKS with two reasons (250 days); plus agreements that are not stalled."""
    AgreementFactory(number="a/1", title="Pengelolaan Sampah Regional", signed_on=S,
                     regions=["32.73", "32.04", "32"], affairs=["3.26", "1.01"])
    AgreementFactory(number="B/1", title="Pengembangan Kawasan Wisata Terpadu", signed_on=S)
    AgreementFactory(number="z/9", title="Penyediaan Air Minum Lintas Daerah", signed_on=D - 500 * DAY)
    pks = PksFactory(number="PKS/1", title="Transportasi Antarwilayah", signed_on=D - 250 * DAY,
                     regions=["33.74", "33.22"], affairs=["2.15"])
    MilestoneFactory(agreement=pks, title="Kajian", due_on=D - 200 * DAY)
    # Not stalled as of D: followed up in time, recently signed, terminated, not signed.
    followed = AgreementFactory(number="KB/ok", signed_on=S)
    PksFactory(number="PKS/ok", parent=followed, signed_on=S + 10 * DAY)
    MilestoneFactory(agreement=Agreement.objects.get(number="PKS/ok"), started_on=S + 20 * DAY, due_on=D + DAY)
    AgreementFactory(number="KB/new", signed_on=D - 10 * DAY)
    AgreementFactory(number="KB/ended", signed_on=S, terminated_on=D)
    AgreementFactory(number="KB/draft", signed_on=None)


def run(*args) -> str:
    out = io.StringIO()
    call_command("stalled", *args, stdout=out)
    return out.getvalue()


EXPECTED = [
    {
        "number": "z/9", "document_type": "KB", "title": "Penyediaan Air Minum Lintas Daerah",
        "reasons": ["KB_WITHOUT_PKS"], "days_stalled": 500, "signed_on": (D - 500 * DAY).isoformat(),
        "region_codes": ["32.04", "32.73"], "affair_codes": ["3.26"], "stuck_at": None, "obstacles": [],
    },
    {
        "number": "B/1", "document_type": "KB", "title": "Pengembangan Kawasan Wisata Terpadu",
        "reasons": ["KB_WITHOUT_PKS"], "days_stalled": 400, "signed_on": "2024-01-15",
        "region_codes": ["32.04", "32.73"], "affair_codes": ["3.26"], "stuck_at": None, "obstacles": [],
    },
    {
        "number": "a/1", "document_type": "KB", "title": "Pengelolaan Sampah Regional",
        "reasons": ["KB_WITHOUT_PKS"], "days_stalled": 400, "signed_on": "2024-01-15",
        "region_codes": ["32", "32.04", "32.73"], "affair_codes": ["1.01", "3.26"], "stuck_at": None, "obstacles": [],
    },
    {
        "number": "PKS/1", "document_type": "PKS", "title": "Transportasi Antarwilayah",
        "reasons": ["MILESTONE_OVERDUE", "PKS_NOT_STARTED"], "days_stalled": 250,
        "signed_on": (D - 250 * DAY).isoformat(), "region_codes": ["33.22", "33.74"], "affair_codes": ["2.15"],
        "stuck_at": None, "obstacles": [],
    },
]


def test_json(data):
    rows = json.loads(run("--as-of", D.isoformat(), "--format", "json"))
    assert rows == EXPECTED
    assert all(set(row) == KEYS for row in rows)
    # The keys are a contract: the first eight keep their place, where and why it stopped come after.
    assert selectors.STALLED_REPORT_FIELDS == (
        "number", "document_type", "title", "reasons", "days_stalled", "signed_on", "region_codes", "affair_codes",
        "stuck_at", "obstacles",
    )
    assert isinstance(rows[0]["days_stalled"], int)


def test_order_is_days_descending_then_plain_code_point_order(data):
    numbers = [row["number"] for row in selectors.stalled_report(as_of=D)]
    assert numbers == ["z/9", "B/1", "a/1", "PKS/1"]
    assert "B/1" < "a/1"  # code point order, not case-insensitive collation


def test_csv(data):
    rows = list(csv.reader(io.StringIO(run("--as-of", D.isoformat(), "--format", "csv"))))
    assert rows[0] == list(selectors.STALLED_REPORT_FIELDS)
    assert set(rows[0]) == KEYS
    assert rows[1:] == [
        [r["number"], r["document_type"], r["title"], ";".join(r["reasons"]), str(r["days_stalled"]),
         r["signed_on"], ";".join(r["region_codes"]), ";".join(r["affair_codes"]), "", ""]
        for r in EXPECTED
    ]


def test_csv_guards_cells_a_spreadsheet_would_run_as_formulas():
    """The same guard as the export's CSV: a leading apostrophe before = + - @."""
    for i, title in enumerate(["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)"]):
        AgreementFactory(number=f"F/{i}", title=title, signed_on=S)
    rows = list(csv.reader(io.StringIO(run("--as-of", D.isoformat(), "--format", "csv"))))
    titles = sorted(row[2] for row in rows[1:])
    assert titles == sorted(["'=HYPERLINK(\"x\")", "'+1", "'-1", "'@SUM(A1)"])


def test_table_is_the_default(data):
    lines = run("--as-of", D.isoformat()).splitlines()
    body = lines[2:-1]  # header, rule, rows, summary
    assert [line.split()[0] for line in body] == ["z/9", "B/1", "a/1", "PKS/1"]
    assert "MILESTONE_OVERDUE;PKS_NOT_STARTED" in body[3]
    assert "32;32.04;32.73" in body[2] and "1.01;3.26" in body[2]
    assert "2024-01-15" in body[1] and " 400 " in body[1]
    assert "4" in lines[-1] and "365" in lines[-1] and "180" in lines[-1] and "30" in lines[-1]
    assert run("--as-of", D.isoformat(), "--format", "table") == run("--as-of", D.isoformat())


def test_as_of_a_past_date(data):
    def stalled_as_of(as_of):
        rows = json.loads(run("--as-of", as_of.isoformat(), "--format", "json"))
        return [(r["number"], r["days_stalled"]) for r in rows]

    # Exactly a year after S the two KBs signed on S are not stalled yet; one day later they are.
    assert stalled_as_of(S + 365 * DAY) == [("z/9", 465), ("PKS/1", 215)]
    # 'KB/ended' is terminated on D, so before D it is stalled like the others.
    assert stalled_as_of(S + 366 * DAY) == [
        ("z/9", 466), ("B/1", 366), ("KB/ended", 366), ("a/1", 366), ("PKS/1", 216)
    ]
    assert json.loads(run("--as-of", "2020-01-01", "--format", "json")) == []


def test_default_as_of_is_today():
    AgreementFactory(number="KB/lama", signed_on=datetime.date(2000, 1, 1))
    rows = json.loads(run("--format", "json"))
    assert [r["number"] for r in rows] == ["KB/lama"]
    assert rows[0]["days_stalled"] == (stalls.today() - datetime.date(2000, 1, 1)).days


def test_thresholds_from_settings(data):
    settings = StallSettings.current()
    settings.kb_follow_up_days = 450
    settings.save()
    rows = json.loads(run("--as-of", D.isoformat(), "--format", "json"))
    assert [r["number"] for r in rows] == ["z/9", "PKS/1"]
    assert "450" in run("--as-of", D.isoformat()).splitlines()[-1]


@pytest.mark.parametrize("value", ["2025-13-01", "2025-02-30", "yesterday", "18/02/2025", "2025/02/18"])
def test_bad_as_of_names_the_option(value):
    with pytest.raises(CommandError, match="--as-of"):
        run("--as-of", value)


def test_bad_format_is_refused():
    with pytest.raises(CommandError, match="format"):
        run("--format", "xml")


def test_empty_output_is_still_valid(db):
    assert json.loads(run("--format", "json")) == []
    assert list(csv.reader(io.StringIO(run("--format", "csv")))) == [list(selectors.STALLED_REPORT_FIELDS)]


# --- stalled_report: the selector -----------------------------------------------------------------


def test_report_agrees_with_the_stall_annotation(data):
    numbers = {r["number"] for r in selectors.stalled_report(as_of=D)}
    expected = set(stalls.with_status(as_of=D).filter(is_stalled=True).values_list("number", flat=True))
    assert numbers == expected


def test_report_keeps_the_given_queryset(data):
    rows = selectors.stalled_report(as_of=D, queryset=Agreement.objects.filter(document_type="PKS"))
    assert [r["number"] for r in rows] == ["PKS/1"]
    assert rows[0]["signed_on"] == D - 250 * DAY


def _make(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        AgreementFactory(number=f"KB/{i}", signed_on=S, regions=["32.73", "32.04"], affairs=["3.26", "1.01"])
        pks = PksFactory(number=f"PKS/{i}", signed_on=S, regions=["33.74", "33.22"], affairs=["2.15"])
        MilestoneFactory(agreement=pks, title=f"Kajian {i}", due_on=S + DAY)


@pytest.mark.parametrize("size", [2, 12])
def test_report_query_count_is_bounded(size, django_assert_max_num_queries):
    _make(size)
    with django_assert_max_num_queries(4):  # agreements, regions, affairs, open obstacles
        rows = selectors.stalled_report(as_of=D, thresholds=stalls.Thresholds())
    assert len(rows) == 2 * size
    StallSettings.current()
    with django_assert_max_num_queries(5):  # + reading the thresholds in force
        assert selectors.stalled_report(as_of=D) == rows


def test_report_query_count_does_not_grow_with_the_data():
    def count_queries(expected_rows: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.stalled_report(as_of=D, thresholds=stalls.Thresholds())
        assert len(rows) == expected_rows
        return len(ctx.captured_queries)

    _make(1)
    small = count_queries(2)
    _make(9, start=1)
    large = count_queries(20)
    assert small == large == 4


def test_an_agreement_whose_term_ended_is_no_longer_listed():
    """Expired is an outcome: a KB that ran out without a PKS is lapsed, not stalled; on its last day it still is."""
    AgreementFactory(number="KB/ran-out", signed_on=S, ends_on=D - DAY)
    AgreementFactory(number="KB/last-day", signed_on=S, ends_on=D)
    data = json.loads(run("--as-of", D.isoformat(), "--format", "json"))
    numbers = [row["number"] for row in data]
    assert "KB/ran-out" not in numbers and "KB/last-day" in numbers
    # The day before its end it was listed.
    before = json.loads(run("--as-of", (D - DAY).isoformat(), "--format", "json"))
    assert "KB/ran-out" in [row["number"] for row in before]
