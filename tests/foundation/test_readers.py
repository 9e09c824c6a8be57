"""Issue 11 item 10: files the reader cannot take get messages that say what is wrong and where
(by row and field, never by value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor.errors import InputError
from thbmonitor.ingest.readers import read_text_frame

HEADER = "registration_id,sex,municipality\n"


def _read(tmp_path: Path, text: bytes) -> str:
    path = tmp_path / "file.csv"
    path.write_bytes(text)
    with pytest.raises(InputError) as info:
        read_text_frame(path)
    return str(info.value)


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_separated_by_something_else_is_named(tmp_path: Path, sep: str, name: str) -> None:
    text = HEADER.replace(",", sep) + f"R1{sep}F{sep}Secretstad\n"
    message = _read(tmp_path, text.encode())
    assert f"separated by {name} instead of commas" in message
    assert "Secretstad" not in message


@pytest.mark.parametrize(("row", "got"), [("R2,F,Utrecht,extra\n", 4), ("R2,F\n", 2)])
def test_ragged_rows_are_refused_with_their_row(tmp_path: Path, row: str, got: int) -> None:
    """Before: a row with a field too few was silently filled with an empty value."""
    message = _read(tmp_path, (HEADER + "R1,F,Secretstad\n" + row + "R3,M,\n").encode())
    assert f"row 2 has {got} fields where the header has 3" in message
    assert "Utrecht" not in message and "extra" not in message


def test_an_unterminated_quote_is_refused_with_its_row_and_field(tmp_path: Path) -> None:
    text = HEADER + 'R1,F,Secretstad\nR2,F,"Ams\nR3,M,Utrecht\nR4,M,Zwolle\n'
    message = _read(tmp_path, text.encode())
    assert "row 2, field 'municipality', and is never closed" in message
    assert "Utrecht" not in message and "Ams" not in message


def test_a_quote_inside_a_value_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text(HEADER + 'R1,F,O"Brien\n"R2",M,"a, b"\n')
    frame = read_text_frame(path)
    assert frame["municipality"].tolist() == ['O"Brien', "a, b"]


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    message = _read(tmp_path, (HEADER + "R1,F,Sm\xf8rum\n").encode("latin-1"))
    assert "not UTF-8" in message


def test_leading_zeros_and_a_nul_are_kept_as_text(tmp_path: Path) -> None:
    """Every cell is text: 007 stays 007, and a NUL stays in the value for validation to see."""
    path = tmp_path / "file.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"007,F,Ams\x00garbage\n")
    frame = read_text_frame(path)
    assert frame.loc[0, "registration_id"] == "007"
    assert frame.loc[0, "municipality"] == "Ams\x00garbage"
