"""``thbmonitor profile check`` and ``ingest --profile``: values a profile cannot map are listed
by file, column and number of rows (never an identifier's value) and refuse the file whole; a
Dutch Excel export (Windows-1252, ``;``-separated, dd-mm-jjjj dates, Dutch labels) reads through
a copied profile into the same store as the monitor's own layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.errors import ValidationError
from thbmonitor.ingest import ingest_file
from thbmonitor.profiles import load_profile
from thbmonitor.pseudonymise import Encoder
from thbmonitor.schema import REGISTRATION_FIELDS
from thbmonitor.store import open_store

COLUMNS = [f.name for f in REGISTRATION_FIELDS]
NAMES = ("Zoë", "Janssen", "Anaïs", "de Vries", "Ingrid", "Bakker", "Noor", "Smit")


def _row(i: int, org: str, form: str, sex: str = "F", status: str = "DutchNational") -> dict:
    return {
        "registration_id": f"R{i}",
        "reporting_organisation": org,
        "registration_date": f"2020-0{i}-1{i}",
        "first_names": NAMES[2 * (i - 1)],
        "last_name": NAMES[2 * (i - 1) + 1],
        "date_of_birth": f"199{i}-02-0{i}",
        "date_of_birth_estimated": "0",
        "identity_number": "",
        "sex": sex,
        "nationality": "NL",
        "residence_status": status,
        "municipality": "Súdwest-Fryslân",
        "forms_of_exploitation": form,
        "sector": "",
        "age_at_exploitation": "",
        "shelter": "1",
        "victim_scheme_applied": "0",
        "victim_scheme_granted": "0",
        "care_referral": "1",
        "consent": "1",
    }


ROWS = [
    _row(1, "Police", "SexualExploitation"),
    _row(2, "NGOCare", "ForcedLabour;SexualExploitation", sex="M"),
    _row(3, "KMar", "CriminalExploitation", status="B8"),
    _row(4, "Other", "SexualExploitation"),
]


def _write(path: Path, rows: list[dict], **fmt: str) -> Path:
    encoding = fmt.pop("encoding", "utf-8")
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, **fmt)  # type: ignore[arg-type]
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def encoder() -> Encoder:
    return Encoder(bytes(range(32)), bloom_bits=200, bloom_hashes=5)


def _bad_file(tmp_path: Path) -> Path:
    """Two rows misspell sexual exploitation, one the police, one holds a code the nl profile
    lacks (HTCDS's ChildLabour: Dutch law counts it as labour exploitation)."""
    rows = [dict(r) for r in ROWS]
    rows[0]["forms_of_exploitation"] = "SexualExplotation"
    rows[1]["forms_of_exploitation"] = "ForcedLabour;SexualExplotation"
    rows[2]["reporting_organisation"] = "Polise"
    rows[3]["forms_of_exploitation"] = "ChildLabour"
    return _write(tmp_path / "bad.csv", rows)


def test_check_lists_misspelt_and_extra_codes_by_column_and_rows(tmp_path: Path) -> None:
    """Hand-counted: 'SexualExplotation' in 2 rows, 'ChildLabour' in 1, 'Polise' in 1."""
    bad = _bad_file(tmp_path)
    good = _write(tmp_path / "good.csv", ROWS)
    result = CliRunner().invoke(app, ["profile", "check", str(good), str(bad), "--profile", "nl"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("bad.csv")]
    assert lines == [
        "bad.csv: column 'reporting_organisation': 'Polise' in 1 row not in the code list "
        "reporting_organisation",
        "bad.csv: column 'forms_of_exploitation': 'SexualExplotation' in 2 rows not in the "
        "code list exploitation",
        "bad.csv: column 'forms_of_exploitation': 'ChildLabour' in 1 row not in the code list "
        "exploitation",
    ]
    assert not any(line.startswith("good.csv") for line in result.stdout.splitlines())
    for name in NAMES:
        assert name not in result.output
    ok = CliRunner().invoke(app, ["profile", "check", str(good)])
    assert ok.exit_code == 0, ok.output


def test_ingest_refuses_the_file_whole_with_the_same_list(tmp_path: Path, encoder) -> None:
    bad = _bad_file(tmp_path)
    with open_store(tmp_path / "m.duckdb", create=True) as store:
        ingest_file(store, _write(tmp_path / "good.csv", ROWS[:1]), encoder)
        with pytest.raises(ValidationError) as info:
            ingest_file(store, bad, encoder, profile=load_profile("nl"))
        assert store.scalar("SELECT count(*) FROM registrations") == 1
    message = str(info.value)
    assert "column 'forms_of_exploitation': in 2 rows not in the code list exploitation" in message
    assert "column 'reporting_organisation': in 1 row not in the code list" in message
    assert "profile check" in message
    for value in ("Polise", "SexualExplotation", "ChildLabour", *NAMES):
        assert value not in message  # an ingest message holds no value
    assert {(p.row, p.field) for p in info.value.problems} == {
        (1, "forms_of_exploitation"),
        (2, "forms_of_exploitation"),
        (3, "reporting_organisation"),
        (4, "forms_of_exploitation"),
        (1, "registration_id"),  # R1 came from good.csv
    }


# the store's rows apart from their source file (the Bloom filters as text)
STORE_ROWS = (
    "SELECT * EXCLUDE (source_sha256, bf_first, bf_last, bf_full), bf_first::VARCHAR AS bf1, "
    "bf_last::VARCHAR AS bf2, bf_full::VARCHAR AS bf3 FROM registrations ORDER BY registration_id"
)


def _excel_profile(tmp_path: Path) -> Path:
    """A copy of nl for a Dutch Excel export: ';', Windows-1252, dd-mm-jjjj, ja/nee."""
    folder = tmp_path / "nl-excel"
    result = CliRunner().invoke(app, ["profile", "copy", "nl", str(folder)])
    assert result.exit_code == 0, result.output
    toml = folder / "profile.toml"
    text = toml.read_text(encoding="utf-8")
    for old, new in (
        ('delimiter = ","', 'delimiter = ";"'),
        ('encoding = "utf-8"', 'encoding = "cp1252"'),
        ('date_formats = ["%Y-%m-%d"]', 'date_formats = ["%d-%m-%Y"]'),
    ):
        assert old in text
        text = text.replace(old, new)
    toml.write_text(text, encoding="utf-8")
    return folder


DUTCH = {
    "Police": "Politie",
    "NGOCare": "Zorg",
    "KMar": "Koninklijke Marechaussee",
    "Other": "Overig",
    "SexualExploitation": "Seksuele uitbuiting",
    "ForcedLabour": "Arbeidsuitbuiting",
    "CriminalExploitation": "Criminele uitbuiting",
    "F": "Vrouw",
    "M": "Man",
    "DutchNational": "Nederlander",
    "B8": "B8-verblijfsregeling",
}


def _dutch_export(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        d = {k: ";".join(DUTCH.get(v, v) for v in v.split(";")) for k, v in r.items()}
        d["nationality"] = r["nationality"]
        for date in ("registration_date", "date_of_birth"):
            y, m, day = r[date].split("-")
            d[date] = f"{day}-{m}-{y}"
        d["shelter"] = d["care_referral"] = d["consent"] = "ja"
        d["date_of_birth_estimated"] = d["victim_scheme_applied"] = d["victim_scheme_granted"] = (
            "nee"
        )
        out.append(d)
    return out


def test_a_windows_1252_semicolon_export_reads_through_a_copied_profile(
    tmp_path: Path, encoder
) -> None:
    """The export (cp1252 bytes for ë, ï and â; ';' between fields and in multi-valued fields,
    which are then quoted) gives the store the monitor's own file gives."""
    folder = _excel_profile(tmp_path)
    export = _write(tmp_path / "export.csv", _dutch_export(ROWS), delimiter=";",
                    encoding="cp1252")  # fmt: skip
    assert "Zoë".encode("cp1252") in export.read_bytes()
    checked = CliRunner().invoke(app, ["profile", "check", str(export), "--profile", str(folder)])
    assert checked.exit_code == 0, checked.output
    # with the plain nl profile it is not even readable: the error says why
    plain = CliRunner().invoke(app, ["profile", "check", str(export), "--profile", "nl"])
    assert plain.exit_code != 0
    assert "not UTF-8 text" in str(plain.exception)

    own = _write(tmp_path / "own.csv", ROWS)
    views = []
    for path, profile in ((own, load_profile("nl")), (export, load_profile(folder))):
        with open_store(tmp_path / f"{path.stem}.duckdb", create=True) as store:
            ingest_file(store, path, encoder, profile=profile)
            views.append(store.df(STORE_ROWS).astype(str))
    pd.testing.assert_frame_equal(views[0], views[1])
    assert list(views[1]["municipality"]) == ["Súdwest-Fryslân"] * 4
    assert list(views[1]["monitor_group"]) == [
        "domestic_sexual",
        "labour",
        "criminal",
        "domestic_sexual",
    ]


def test_a_date_the_profile_cannot_read_is_counted_without_its_value(tmp_path: Path) -> None:
    folder = _excel_profile(tmp_path)
    rows = _dutch_export(ROWS)
    rows[1]["date_of_birth"] = "1992/02/02"  # not dd-mm-jjjj
    rows[2]["shelter"] = "misschien"
    export = _write(tmp_path / "x.csv", rows, delimiter=";", encoding="cp1252")
    result = CliRunner().invoke(app, ["profile", "check", str(export), "--profile", str(folder)])
    assert result.exit_code == 1
    assert "x.csv: column 'date_of_birth': in 1 row not a date written %d-%m-%Y" in result.stdout
    assert "x.csv: column 'shelter': in 1 row not one of the profile's yes/no values" in (
        result.stdout
    )
    assert "1992/02/02" not in result.output and "misschien" not in result.output
