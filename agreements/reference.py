"""Reference data: the 32 government affairs (Permendagri 90/2019) and the region CSV loader.

The region data comes from ``agreements/data/`` (ODbL, see ``agreements/data/SOURCE.md``).
``load_reference_data`` only touches the models passed in, so it also works with historical models. The data
migration 0002 keeps its own frozen copy of these lists and rules: changing them here changes no installed database
(write a new data migration for that).
"""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

AFFAIRS = [
    ("1.01", "Pendidikan"),
    ("1.02", "Kesehatan"),
    ("1.03", "Pekerjaan Umum dan Penataan Ruang"),
    ("1.04", "Perumahan Rakyat dan Kawasan Permukiman"),
    ("1.05", "Ketenteraman, Ketertiban Umum, dan Pelindungan Masyarakat"),
    ("1.06", "Sosial"),
    ("2.07", "Tenaga Kerja"),
    ("2.08", "Pemberdayaan Perempuan dan Pelindungan Anak"),
    ("2.09", "Pangan"),
    ("2.10", "Pertanahan"),
    ("2.11", "Lingkungan Hidup"),
    ("2.12", "Administrasi Kependudukan dan Pencatatan Sipil"),
    ("2.13", "Pemberdayaan Masyarakat dan Desa"),
    ("2.14", "Pengendalian Penduduk dan Keluarga Berencana"),
    ("2.15", "Perhubungan"),
    ("2.16", "Komunikasi dan Informatika"),
    ("2.17", "Koperasi, Usaha Kecil, dan Menengah"),
    ("2.18", "Penanaman Modal"),
    ("2.19", "Kepemudaan dan Olahraga"),
    ("2.20", "Statistik"),
    ("2.21", "Persandian"),
    ("2.22", "Kebudayaan"),
    ("2.23", "Perpustakaan"),
    ("2.24", "Kearsipan"),
    ("3.25", "Kelautan dan Perikanan"),
    ("3.26", "Pariwisata"),
    ("3.27", "Pertanian"),
    ("3.28", "Kehutanan"),
    ("3.29", "Energi dan Sumber Daya Mineral"),
    ("3.30", "Perdagangan"),
    ("3.31", "Perindustrian"),
    ("3.32", "Transmigrasi"),
]

AFFAIR_GROUP_BY_PREFIX = {"1": "wajib_dasar", "2": "wajib_non_dasar", "3": "pilihan"}

# The administrative areas of DKI Jakarta: not autonomous, they cannot sign (DKI Jakarta signs for them).
NON_AUTONOMOUS_PREFIX = "31."


def read_csv(name: str) -> list[dict]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def regency_level(name: str) -> str:
    return "kota" if name.startswith("Kota") else "kabupaten"


def load_reference_data(Region, GovernmentAffair) -> None:
    """Create or refresh every province, kabupaten/kota and affair (idempotent)."""
    for code, name in AFFAIRS:
        GovernmentAffair.objects.update_or_create(
            code=code, defaults={"name": name, "group": AFFAIR_GROUP_BY_PREFIX[code[0]]}
        )
    provinces = {}
    for row in read_csv("provinces.csv"):
        provinces[row["code"]], _ = Region.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "level": "province", "province": None, "is_autonomous": True},
        )
    for row in read_csv("regencies.csv"):
        Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "level": regency_level(row["name"]),
                "province": provinces[row["province_code"]],
                "is_autonomous": not row["code"].startswith(NON_AUTONOMOUS_PREFIX),
            },
        )
