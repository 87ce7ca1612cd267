"""The readable workbook of the register (/agreements/workbook.xlsx) and the CSV for Excel set to Indonesian."""

import datetime
import io

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from agreements import services
from tests.factories import AgreementFactory, PksFactory, region

pytestmark = pytest.mark.django_db


def _workbook(client, **params):
    response = client.get(reverse("agreement-workbook"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_the_workbook_reads_as_words_names_and_real_dates(client, personas):
    kb = AgreementFactory(number="KB/BACA/1", regions=["32.73", "32.04"], affairs=["3.26"], value_idr=1_500_000_000,
                          signed_on=datetime.date(2020, 3, 2))
    PksFactory(number="PKS/LAIN", regions=["35.78", "35.15"])
    services.followup_record(user=personas["ministry"], agreement=kb, kind="letter",
                             date=datetime.date(2024, 5, 6), note="Surat")
    client.force_login(personas["ministry"])
    sheet = _workbook(client, region="32.73")
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Number", "Document type", "Parent KB", "Title"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.max_row == 2, "the list's filter applies"
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["Number"] == "KB/BACA/1"
    assert row["Party regions"] == "Kabupaten Bandung, Kota Bandung" and row["Region codes"] == "32.04;32.73"
    assert row["Government affairs (urusan)"].startswith("3.26 ")
    assert row["Signing date"] == datetime.datetime(2020, 3, 2)
    assert row["Value (Rp)"] == 1_500_000_000
    assert row["Stage"] == "Signed" and row["Stall reasons"] == "KB without PKS"
    assert row["Last follow-up"] == datetime.datetime(2024, 5, 6) and row["Follow-ups"] == 1
    assert sheet.cell(2, header.index("Signing date") + 1).number_format == "DD/MM/YYYY"


def test_the_workbook_speaks_the_interface_language(client, personas):
    AgreementFactory(regions=["32.73", "32.04"])
    client.force_login(personas["ministry"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"  # the language the person chose
    with translation.override("id"):
        response = client.get(reverse("agreement-workbook"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(1, 1).value == "Nomor"


def test_an_officer_gets_only_what_the_list_shows(client, personas):
    AgreementFactory(number="KB/MILIK", regions=["32.73", "32.04"])
    AgreementFactory(number="KB/LAIN", regions=["35.78", "35.15"])
    client.force_login(personas["local_in"])
    sheet = _workbook(client)
    assert [c.value for c in sheet["A"]][1:] == ["KB/MILIK"]


def test_the_csv_for_excel_in_indonesian_is_separated_by_semicolons(client, personas):
    AgreementFactory(number="KB/TITIK;KOMA", regions=[region("32.73"), region("32.04")])
    client.force_login(personas["ministry"])
    response = client.get(reverse("agreement-export", args=["csv"]), {"sep": "semicolon"})
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffnumber;document_type;")
    assert not text.lstrip("\ufeff").startswith("sep=")
    assert '"KB/TITIK;KOMA";KB;' in text
    plain = b"".join(client.get(reverse("agreement-export", args=["csv"])).streaming_content).decode("utf-8")
    assert plain.startswith("\ufeffnumber,document_type,")


def test_the_workbook_costs_the_same_queries_for_more_agreements(client, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(personas["ministry"])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            _workbook(client)
        return len(ctx.captured_queries)

    AgreementFactory(regions=["32.73", "32.04"])
    few = queries()
    for _ in range(6):
        AgreementFactory(regions=["32.73", "32.04"], affairs=["3.26", "2.15"], third_parties=["PT Mitra"])
    assert queries() == few
