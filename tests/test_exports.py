"""CSV and XLSX exports: the rows equal the filtered list, columns follow the import contract, no injection."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from agreements import exports
from agreements.filters import AgreementFilter
from agreements.models import Agreement
from agreements.spreadsheet import AGREEMENT_COLUMNS, EXPORT_EXTRA_COLUMNS
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory
from tests.factories import region as get_region
from tests.test_filters import build_scenario

AS_OF = "2025-06-30"
COLUMNS = AGREEMENT_COLUMNS + EXPORT_EXTRA_COLUMNS


@pytest.fixture
def s(db):
    return build_scenario()


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8")[1:]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def read_xlsx(response):
    body = b"".join(response.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    return workbook["agreements"]


def xlsx_dicts(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def listed_numbers(client, params) -> list[str]:
    """Every row of the list page, all pages, in order."""
    numbers, page = [], 1
    while True:
        response = client.get("/agreements/", {**params, "page": page})
        numbers += [row["agreement"].number for row in response.context["rows"]]
        if not response.context["page"].has_next():
            return numbers
        page += 1


def test_login_required(client, db):
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/agreements/export.{fmt}")
        assert response.status_code == 302


def test_unknown_format_is_404(client, db):
    client.force_login(UserFactory(role="ministry"))
    assert client.get("/agreements/export.pdf").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"stalled": "yes"},
        {"province": "32", "sort": "number"},
        {"stage": ["signed", "draft"], "sort": "-days_stalled"},
        {"q": "sampah"},
        {"reason": "KB_WITHOUT_PKS", "age": "731+"},
        {"year_from": "2021", "year_to": "2023", "document_type": "KB"},
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_rows_equal_the_filtered_list(client, s, params, fmt):
    client.force_login(UserFactory(role="ministry"))
    params = {"as_of": AS_OF, **params}
    response = client.get(f"/agreements/export.{fmt}", params)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert f"kerjasama-agreements-{AS_OF}.{fmt}" in response["Content-Disposition"]
    rows = read_csv(response) if fmt == "csv" else xlsx_dicts(read_xlsx(response))
    assert [r["number"] for r in rows] == listed_numbers(client, params)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_officer_exports_only_what_they_may_see(client, s, fmt):
    client.force_login(UserFactory(role="local", region=get_region("32.73")))
    response = client.get(f"/agreements/export.{fmt}", {"as_of": AS_OF, "sort": "number"})
    rows = read_csv(response) if fmt == "csv" else xlsx_dicts(read_xlsx(response))
    assert [r["number"] for r in rows] == ["KB/001/2023", "KB/006/2020"]
    client.force_login(UserFactory(role="local", region=get_region("11.01")))
    response = client.get(f"/agreements/export.{fmt}", {"as_of": AS_OF})
    rows = read_csv(response) if fmt == "csv" else xlsx_dicts(read_xlsx(response))
    assert rows == []


def test_csv_columns_and_values(client, s):
    s.pks_child.value_idr = 1234567
    s.pks_child.dprd_approved_on = datetime.date(2024, 2, 20)
    s.pks_child.starts_on = datetime.date(2024, 3, 1)
    s.pks_child.ends_on = datetime.date(2026, 3, 1)
    s.pks_child.scope = "Rujukan pasien;\nlayanan gawat darurat"
    s.pks_child.save()
    client.force_login(UserFactory(role="ministry"))
    response = client.get("/agreements/export.csv", {"as_of": AS_OF, "sort": "number"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = {r["number"]: r for r in read_csv(response)}
    assert rows["PKS/002-1/2024"] == {
        "number": "PKS/002-1/2024", "document_type": "PKS", "parent_number": "KB/002/2024",
        "title": "Rujukan Rumah Sakit Daerah", "cooperation_kind": "KSDD-WAJIB", "region_codes": "33.22;33.74",
        "third_parties": "", "affair_codes": "1.02", "signed_on": "2024-03-01", "dprd_approved_on": "2024-02-20",
        "starts_on": "2024-03-01", "ends_on": "2026-03-01", "terminated_on": "", "termination_reason": "",
        "value_idr": "1234567",
        "scope": "Rujukan pasien;\nlayanan gawat darurat", "stage": "implementing", "stall_reasons": "",
        "days_stalled": "",
    }
    assert rows["KB/007/2021"]["affair_codes"] == "2.11;3.28"
    assert rows["KB/007/2021"]["stall_reasons"] == "KB_WITHOUT_PKS"
    assert rows["KB/007/2021"]["days_stalled"] == "1490"
    assert rows["PKS/003/2024"]["third_parties"] == "PT Transportasi Nusantara"
    assert rows["KB/006/2020"]["terminated_on"] == "2021-01-01"
    assert rows["KB/006/2020"]["stage"] == "terminated"
    assert rows["KB/005/2025"]["signed_on"] == ""


def test_several_reasons_are_joined(client, db):
    pks = PksFactory(number="PKS/9/2024", signed_on=datetime.date(2024, 5, 26))
    MilestoneFactory(agreement=pks, title="Rapat", due_on=datetime.date(2025, 3, 22))
    client.force_login(UserFactory(role="ministry"))
    rows = read_csv(client.get("/agreements/export.csv", {"as_of": AS_OF}))
    assert rows[0]["stall_reasons"] == "MILESTONE_OVERDUE;PKS_NOT_STARTED"
    assert rows[0]["days_stalled"] == "400"


INJECTIONS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTAB", "\r=1+1"]


def _injected(db):
    for i, text in enumerate(INJECTIONS):
        AgreementFactory(
            number=f"{text[:1]}X/{i}", title=text, scope=text, third_parties=[f"={i}+cmd|' /C calc'!A0"],
            cooperation_kind=Agreement.Kind.KSDPK, regions=["32.73"],
        )


def test_csv_formula_injection_is_guarded(client, db):
    _injected(db)
    client.force_login(UserFactory(role="ministry"))
    rows = read_csv(client.get("/agreements/export.csv", {"sort": "title"}))
    assert len(rows) == len(INJECTIONS)
    for row in rows:
        for column in ("number", "title", "scope", "third_parties"):
            value = row[column]
            assert value.startswith("'"), (column, value)
            assert value[1:].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert {r["title"] for r in rows} == {"'" + t for t in INJECTIONS}


def test_xlsx_text_is_never_a_formula(client, db):
    _injected(db)
    client.force_login(UserFactory(role="ministry"))
    sheet = read_xlsx(client.get("/agreements/export.xlsx", {"sort": "title"}))
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(INJECTIONS)
    title_col = COLUMNS.index("title")
    titles = set()
    for row in rows:
        for cell in row:
            if cell.value is not None and isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value)
        titles.add(row[title_col].value)
    # Stored as typed: no apostrophe added, and nothing is a formula. (Older openpyxl reads a carriage return
    # back as a line feed; newer ones escape it and read it back as written.)
    assert titles in ({t.replace("\r", "\n") for t in INJECTIONS}, set(INJECTIONS))


def test_xlsx_types(client, s):
    s.kb_old.value_idr = 5000000
    s.kb_old.save()
    client.force_login(UserFactory(role="ministry"))
    sheet = read_xlsx(client.get("/agreements/export.xlsx", {"as_of": AS_OF, "q": "KB/001/2023"}))
    assert sheet.title == "agreements"
    row = xlsx_dicts(sheet)[0]
    assert row["region_codes"] == "32.04;32.73"  # codes stay text
    assert row["affair_codes"] == "3.26"
    assert row["signed_on"] == "2023-01-10"  # ISO dates
    assert row["value_idr"] == 5000000
    assert row["days_stalled"] == 902
    assert row["stage"] == "signed" and row["stall_reasons"] == "KB_WITHOUT_PKS"


def test_export_queries_do_not_grow_per_row(db):
    """Rows come in chunks, each chunk with its prefetches: a constant number of queries per chunk."""
    for i in range(30):
        AgreementFactory(number=f"KB/{i}/2024", third_parties=["PT A"], affairs=["3.26", "2.11"])
    f = AgreementFilter(QueryDict(), queryset=Agreement.objects.all())
    with CaptureQueriesContext(connection) as ctx:
        rows = list(exports.iter_rows(f.qs, f.as_of))
    assert len(rows) == 30
    # One chunk: the agreements (with the parent number) + region codes + affair codes + third parties.
    assert len(ctx.captured_queries) <= 5


def test_csv_streams(client, db):
    AgreementFactory(number="KB/1/2024")
    client.force_login(UserFactory(role="ministry"))
    response = client.get("/agreements/export.csv")
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) == 3  # byte-order mark, header, one row: yielded one by one


def test_chunks_keep_every_row_in_order_with_its_own_lists(db, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 7)
    for i in range(23):
        AgreementFactory(number=f"KB/{i:02d}/2024", regions=["32.73", "32.04"] if i % 2 else ["33.74", "33.22"],
                         affairs=["3.26"] if i % 3 else ["1.01", "2.11"], third_parties=[f"PT {i}"])
    f = AgreementFilter(QueryDict("sort=number"), queryset=Agreement.objects.all())
    rows = list(exports.iter_rows(f.qs, f.as_of))
    assert [r[0] for r in rows] == [f"KB/{i:02d}/2024" for i in range(23)]
    for i, row in enumerate(rows):
        assert row[COLUMNS.index("region_codes")] == ("32.04;32.73" if i % 2 else "33.22;33.74")
        assert row[COLUMNS.index("affair_codes")] == ("3.26" if i % 3 else "1.01;2.11")
        assert row[COLUMNS.index("third_parties")] == f"PT {i}"


@pytest.mark.django_db
def test_termination_reason_exported_as_code_and_in_words_in_the_workbook(client):
    from agreements.models import TerminationReason

    AgreementFactory(number="KB/END/1", terminated_on=datetime.date(2025, 1, 1),
                     termination_reason=TerminationReason.FORCE_MAJEURE)
    client.force_login(UserFactory(role="ministry"))
    rows = {r["number"]: r for r in read_csv(client.get("/agreements/export.csv"))}
    assert rows["KB/END/1"]["termination_reason"] == "force_majeure"
    response = client.get("/agreements/workbook.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)
                                              if response.streaming else response.content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(row for row in values if "Termination reason" in row)
    row = next(row for row in values if row[0] == "KB/END/1")
    assert row[header.index("Termination reason")] == "Force majeure"
