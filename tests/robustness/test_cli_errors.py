"""Issue 11 item 9: every user error ends in one clear line and exit status 2, before any work.

Before the fix each of these ended in a traceback: a missing input file or a folder given as
input (the store was created anyway), ``--out`` that is a file or cannot be written (after the
full run), ``--seed -5``, ``--scale nan``, ``inf`` or ``1000``.
"""

from __future__ import annotations

import pytest

from .cli import one_clean_line, run


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THBMONITOR_KEY", "robustness-cli-key-0123456789abcdef-0123")


def test_a_missing_input_file_is_refused_and_no_store_is_made(tmp_path, capsys):
    store = tmp_path / "round.duckdb"
    ran = run(capsys, "ingest", str(tmp_path / "missing.csv"), "--store", str(store))
    assert ran.code == 2
    assert "no input file" in one_clean_line(ran.err)
    assert not store.exists()


def test_a_folder_given_as_input_is_refused_and_no_store_is_made(tmp_path, capsys):
    store = tmp_path / "round.duckdb"
    ran = run(capsys, "ingest", str(tmp_path), "--store", str(store))
    assert ran.code == 2
    assert "is a folder" in one_clean_line(ran.err)
    assert not store.exists()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--seed", "-5", "seed must be"),
        ("--scale", "nan", "scale must be"),
        ("--scale", "inf", "scale must be"),
        ("--scale", "1000", "scale must be"),
        ("--scale", "0", "scale must be"),
    ],
)
def test_demo_refuses_a_bad_seed_or_scale_before_any_work(tmp_path, capsys, option, value, says):
    out = tmp_path / "demo"
    ran = run(capsys, "demo", "--out", str(out), option, value)
    assert ran.code == 2
    assert says in one_clean_line(ran.err)
    assert not out.exists()


@pytest.mark.parametrize("command", ["demo", "report"])
def test_an_out_that_is_a_file_or_cannot_be_made_is_refused_before_any_work(
    tmp_path, capsys, command
):
    a_file = tmp_path / "a_file"
    a_file.write_text("mine", encoding="utf-8")
    store = ["--store", str(tmp_path / "nowhere.duckdb")] if command == "report" else []
    ran = run(capsys, command, *store, "--out", str(a_file))
    assert ran.code == 2
    assert "is a file, not a folder" in one_clean_line(ran.err)
    ran = run(capsys, command, *store, "--out", str(a_file / "below"))
    assert ran.code == 2
    assert "cannot write into the output folder" in one_clean_line(ran.err)
    assert a_file.read_text(encoding="utf-8") == "mine"


def test_export_persons_into_a_missing_folder_is_refused_before_linking(tmp_path, capsys):
    store = tmp_path / "round.duckdb"
    ran = run(
        capsys, "link", "--store", str(store), "--export-persons", str(tmp_path / "no" / "p.csv")
    )
    assert ran.code == 2
    assert "does not exist" in one_clean_line(ran.err)
