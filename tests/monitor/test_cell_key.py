"""The monitor under the cell-key method (setting disclosure_method = "cell_key").

On the test world with record keys: no cell is hidden and no marker but '–' is shown, every
count (registrations per year among them) lies within D of the pandas count, the same cell has
the same value in every table (a yearly total in every table of that year), and results.json's
disclosure block names the method, D and V. A store without record keys is refused clearly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import InputError
from thbmonitor.monitor import build_tables, chapters
from thbmonitor.report.model import Chapter

from .conftest import make_registrations, write_store

YEARS = [str(y) for y in range(2016, 2021)]
CKM = Settings(window_first=2016, window_last=2020, disclosure_method="cell_key")


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    regs, mapping = make_registrations()
    store = write_store(tmp_path_factory.mktemp("ckm") / "store.duckdb", regs, mapping)
    rng = np.random.default_rng(11)
    keys = pd.DataFrame(
        {"registration_id": regs["registration_id"], "record_key": rng.random(len(regs))}
    )
    store.register("k_in", keys)
    store.execute("INSERT INTO record_keys SELECT * FROM k_in")
    store.unregister("k_in")
    yield store, regs
    store.close()


@pytest.fixture(scope="module")
def monitor(keyed: tuple[Store, pd.DataFrame]) -> tuple[list[Chapter], dict[str, Any]]:
    store, _ = keyed
    return chapters(store, CKM)


def test_nothing_hidden_and_within_d(
    keyed: tuple[Store, pd.DataFrame], monitor: tuple[list[Chapter], dict[str, Any]]
) -> None:
    _, regs = keyed
    chs, r = monitor
    d = CKM.disclosure_max_deviation
    block = r["disclosure_cell_key"]
    assert block["max_deviation"] == d and block["variance"] == CKM.disclosure_variance
    loss = block["information_loss"]["release"]
    assert loss["hidden"] == 0 and 0 < loss["mean_absolute_deviation"] <= d
    for y in YEARS:
        true = int((regs["registration_year"].astype(str) == y).sum())
        assert abs(r["registrations_by_year"][y] - true) <= d
        assert r["victims_by_year"][y] is not None
    for ch in chs:
        for t in ch.tables:
            cells = t.frame.to_numpy().ravel()
            assert not any(str(v) in ("x", "<10") for v in cells), t.key
            assert not t.legend or t.key.startswith(("monitor_change", "help_model", "change"))


def test_same_cell_same_value_across_tables(keyed: tuple[Store, pd.DataFrame]) -> None:
    from thbmonitor.monitor.published import perturb_monitor

    store, _ = keyed
    tables = build_tables(store, CKM)
    protected, _ = perturb_monitor(tables, CKM)
    values: dict[str, int] = {}
    shared = 0
    for pt in protected.values():
        for k, v in zip(pt.keys, pt.frame["count"], strict=True):
            if k in values:
                shared += 1
                assert values[k] == int(v), k
            values.setdefault(k, int(v))
    assert shared > 100
    # a yearly total is the same in every table of its unit that holds it
    totals = {
        key: {y: int(protected[key].frame.query("year == @y")["count"].iloc[-1]) for y in YEARS}
        for key in ("reg_year_group", "reg_year_sex", "reg_year_age", "reg_year_org")
    }
    assert len({tuple(t.values()) for t in totals.values()}) == 1


def test_store_without_record_keys_refused(
    world: tuple[Store, pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    store, _, _ = world  # registrations written without record keys
    with pytest.raises(InputError, match="record key"):
        build_tables(store, CKM)


def test_the_release_is_recorded_in_the_ledger_and_repeats_itself(
    keyed: tuple[Store, pd.DataFrame], tmp_path: Path
) -> None:
    """A cell-key release goes into the ledger with its D; run again on the same store (same
    record keys, same perturbation table) it shows the same values, which the ledger accepts;
    a narrower perturbation table would give other values, which it refuses."""
    from thbmonitor.disclosure import Ledger
    from thbmonitor.errors import DisclosureError
    from thbmonitor.pipeline import Publication

    store, _ = keyed
    path = tmp_path / "ledger.json"
    first = Publication(CKM.replace(disclosure_ledger=str(path), disclosure_release="2021"))
    chapters(store, CKM, first)
    first.audit()
    ledger = Ledger.load(path)
    ck = [t for t in ledger.tables if t.max_deviation]
    assert len(ck) == len(first.perturbed) > 30
    assert all(t.max_deviation == CKM.disclosure_max_deviation for t in ck)
    again = Publication(CKM.replace(disclosure_ledger=str(path), disclosure_release="2022"))
    chapters(store, CKM, again)  # the same values: accepted
    other = CKM.replace(
        disclosure_ledger=str(path), disclosure_release="2023", disclosure_variance=0.5
    )
    with pytest.raises(DisclosureError, match="averaged"):
        chapters(store, other, Publication(other))
