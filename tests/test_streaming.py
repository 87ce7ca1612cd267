"""``manage.py stalled --format json|csv`` and the CSV export write their rows as they read them: the output is the
same, byte for byte, as when the whole list was built first, and it begins before the last chunk is read (the
memory bound itself is measured by scripts/bench.py, not asserted here)."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import exports, selectors, stalls
from agreements.management.commands import stalled
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory

pytestmark = pytest.mark.django_db

S = datetime.date(2024, 1, 15)
D = datetime.date(2025, 2, 18)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def data():
    """Six stalled agreements as of D: ties on the days stalled broken by code point (upper case before lower
    case, '/' before letters), a title that is not ASCII, a PKS with two reasons; one that is not stalled."""
    AgreementFactory(number="a/1", title="Pengelolaan Sampah — “Regional”", signed_on=S,
                     regions=["32.73", "32.04", "32"], affairs=["3.26", "1.01"])
    AgreementFactory(number="B/1", title='Kawasan "Wisata" Terpadu\\', signed_on=S)
    AgreementFactory(number="B/10", title="=SUM(A1)", signed_on=S)
    AgreementFactory(number="Ba/1", title="Batas Wilayah", signed_on=S)
    AgreementFactory(number="z/9", title="Air Minum Lintas Daerah", signed_on=D - 500 * DAY)
    pks = PksFactory(number="PKS/1", title="Transportasi Antarwilayah", signed_on=D - 250 * DAY,
                     regions=["33.74", "33.22"], affairs=["2.15"])
    MilestoneFactory(agreement=pks, title="Kajian", due_on=D - 200 * DAY)
    AgreementFactory(number="KB/new", signed_on=D - 10 * DAY)


def run(*args) -> str:
    out = io.StringIO()
    call_command("stalled", *args, stdout=out)
    return out.getvalue()


def old_json(as_of) -> str:
    """What the command printed before it streamed: ``json.dumps`` of the whole report, then a newline."""
    rows = selectors.stalled_report_json(selectors.stalled_report(as_of=as_of))
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def old_csv(as_of) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(selectors.STALLED_REPORT_FIELDS)
    writer.writerows(exports.csv_cells(stalled._flat(row)) for row in selectors.stalled_report(as_of=as_of))
    return buffer.getvalue()


def test_the_streamed_rows_are_the_reports_rows_in_its_order(data, monkeypatch):
    monkeypatch.setattr(selectors, "STALLED_CHUNK_SIZE", 2)  # several chunks, each with its own prefetches
    thresholds = stalls.Thresholds.current()
    streamed = list(selectors.iter_stalled_report(as_of=D, thresholds=thresholds))
    # The order given in SQL is the report's: days stalled descending, then number in plain code-point order.
    assert streamed == sorted(streamed, key=lambda row: (-row["days_stalled"], row["number"]))
    assert [row["number"] for row in streamed] == ["z/9", "B/1", "B/10", "Ba/1", "a/1", "PKS/1"]


def test_json_is_byte_for_byte_what_json_dumps_of_the_whole_list_gave(data, monkeypatch):
    monkeypatch.setattr(selectors, "STALLED_CHUNK_SIZE", 4)
    text = run("--as-of", D.isoformat(), "--format", "json")
    assert text == old_json(D)
    assert "“Regional”" in text  # not escaped to \u201c, as before
    assert [row["number"] for row in json.loads(text)] == ["z/9", "B/1", "B/10", "Ba/1", "a/1", "PKS/1"]


def test_json_of_one_row_and_of_none(data):
    one = D - 140 * DAY  # only the PKS is stalled as of then (the KBs were signed less than a year before)
    assert [row["number"] for row in json.loads(run("--as-of", one.isoformat(), "--format", "json"))] == ["PKS/1"]
    assert run("--as-of", one.isoformat(), "--format", "json") == old_json(one)
    assert run("--as-of", "2020-01-01", "--format", "json") == "[]\n" == old_json(datetime.date(2020, 1, 1))


def test_csv_is_byte_for_byte_what_one_writer_gave(data, monkeypatch):
    monkeypatch.setattr(selectors, "STALLED_CHUNK_SIZE", 4)
    text = run("--as-of", D.isoformat(), "--format", "csv")
    assert text == old_csv(D)
    assert "'=SUM(A1)" in text
    assert run("--as-of", "2020-01-01", "--format", "csv") == old_csv(datetime.date(2020, 1, 1))


class _Recorder(io.StringIO):
    """A stdout that notes how many queries had run when each piece of output was written."""

    def __init__(self, ctx):
        super().__init__()
        self.ctx, self.at = ctx, []

    def write(self, text):
        self.at.append(len(self.ctx.captured_queries))
        return super().write(text)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_command_writes_rows_before_it_has_read_them_all(data, monkeypatch, fmt):
    """Loading every row first would run every query before the first write; streamed, the later chunks' queries
    (their prefetches) run after the first rows are out."""
    monkeypatch.setattr(selectors, "STALLED_CHUNK_SIZE", 2)
    with CaptureQueriesContext(connection) as ctx:
        out = _Recorder(ctx)
        call_command("stalled", "--as-of", D.isoformat(), "--format", fmt, stdout=out)
    total = len(ctx.captured_queries)
    assert out.at[0] < total and out.at[1] < total, (out.at, total)
    assert out.getvalue() == (old_json(D) if fmt == "json" else old_csv(D))


def test_the_csv_export_yields_rows_before_it_has_read_them_all(client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    for i in range(5):
        AgreementFactory(number=f"KB/{i}/2024", third_parties=["PT A"])
    client.force_login(UserFactory(role="ministry"))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/agreements/export.csv", {"sort": "number"})
        assert response.streaming
        at = []
        for _chunk in response.streaming_content:
            at.append(len(ctx.captured_queries))
    total = len(ctx.captured_queries)
    assert len(at) == 2 + 5  # byte-order mark, header, a row at a time
    assert at[2] < total, (at, total)  # the first row was out before the last chunk's queries ran
