"""Ingest of population denominators: the same machinery as every other kind of file."""

from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor.errors import ValidationError
from thbmonitor.ingest import detect_kind, ingest_file
from thbmonitor.ingest.readers import read_text_frame
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store

HEADER = "year,sex,age_band,population\n"
GOOD = HEADER + "".join(
    f"{y},{s},{b},{1000 + i}\n"
    for y in (2019, 2020)
    for i, (s, b) in enumerate((s, b) for b in ("minor", "18-22", "23+") for s in ("F", "M"))
)


@pytest.fixture
def encoder() -> Encoder:
    return Encoder(b"denominators-key-0123456789abcdef", 1000, 10)


def test_good_file_is_stored_once(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "denominators.csv"
    path.write_text(GOOD)
    assert detect_kind(read_text_frame(path), path.name) == "population_denominators"
    with open_store(str(tmp_path / "s.duckdb"), create=True) as store:
        first = ingest_file(store, path, encoder)
        again = ingest_file(store, path, encoder)
        rows = store.rows("SELECT year, sex, age_band, population FROM population_denominators")
    assert (first.kind, first.rows_added, first.already_ingested) == (
        "population_denominators",
        12,
        False,
    )
    assert (again.rows_added, again.already_ingested) == (0, True)
    assert len(rows) == 12
    assert (2019, "F", "minor", 1000) in rows and (2020, "M", "23+", 1005) in rows


def test_bad_rows_name_row_and_field_never_the_value(tmp_path: Path, encoder: Encoder) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "2020,F,minor,1200\n" + "20x0,M,minor,-37\n" + "2020,U,elderly,12.5\n"
        "2020,F,minor,1300\n"
    )
    with open_store(str(tmp_path / "s.duckdb"), create=True) as store:
        with pytest.raises(ValidationError) as caught:
            ingest_file(store, path, encoder)
        assert store.scalar("SELECT count(*) FROM population_denominators") == 0
        assert store.scalar("SELECT count(*) FROM ingested_files") == 0
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {
        (2, "year"),
        (2, "population"),
        (3, "sex"),
        (3, "age_band"),
        (3, "population"),
        (4, "year"),  # repeats year, sex and age band of row 1
    }
    text = str(caught.value)
    for value in ("20x0", "-37", "elderly", "12.5", "1300"):
        assert value not in text
    assert "row 4, field 'year': repeats the year, sex, age_band" in text


def test_a_cell_from_another_file_is_refused(tmp_path: Path, encoder: Encoder) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(GOOD)
    second.write_text(HEADER + "2021,F,minor,5\n2020,M,23+,7\n")
    with open_store(str(tmp_path / "s.duckdb"), create=True) as store:
        ingest_file(store, first, encoder)
        with pytest.raises(ValidationError) as caught:
            ingest_file(store, second, encoder)
        assert store.scalar("SELECT count(*) FROM population_denominators") == 12
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "year")]
