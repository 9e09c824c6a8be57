"""A small seeded store with forms of exploitation, its report release and the deliveries.

The report side is the monitor's release as the report protects it (``monitor.chapters`` with
the pipeline's ``Publication``); the deliveries are protected in that release and audited with
it (``release.audit``), as ``thbmonitor export`` does after the whole report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from monitor.conftest import WINDOW, make_registrations, write_store  # isort: skip
from thbmonitor import monitor
from thbmonitor.config import Settings
from thbmonitor.disclosure import CellStatus
from thbmonitor.engine import Store
from thbmonitor.export.codes import delivery_codes
from thbmonitor.export.release import Delivered
from thbmonitor.export.run import deliver
from thbmonitor.pipeline import Publication
from thbmonitor.profiles import load_profile

YEAR = 2020
NL = load_profile("nl")
CODES = delivery_codes(NL).eurostat
UNODC = delivery_codes(NL).unodc
# the main form of each registration, by its monitor group (criminal and "other or unknown"
# take several forms, so that Eurostat's "other" and "unknown" cut across the groups)
FORMS = {
    "domestic_sexual": ["SexualExploitation"],
    "cross_border_sexual": ["SexualExploitation"],
    "labour": ["ForcedLabour", "Servitude"],
    "criminal": ["CriminalExploitation"],
    "other_unknown": ["Other", "Unknown", "ForcedMarriage", ""],
}


@dataclass
class World:
    store: Store
    regs: pd.DataFrame
    mapping: pd.DataFrame
    release: Publication
    delivered: Delivered


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    regs, mapping = make_registrations(seed=7, n_persons=1500)
    rng = np.random.default_rng(3)
    regs["forms_of_exploitation"] = [
        str(rng.choice(FORMS[g])) or None for g in regs["monitor_group"]
    ]
    store = write_store(tmp_path_factory.mktemp("export") / "store.duckdb", regs, mapping)
    settings = Settings(window_first=WINDOW[0], window_last=WINDOW[1])
    release = Publication(settings)
    monitor.chapters(store, settings, release)  # the report's tables, protected first
    delivered = deliver(store, settings, YEAR, release, NL, delivery_codes(NL))
    release.audit(record=False)  # report and deliveries jointly; raises if anything shows
    yield World(store, regs, mapping, release, delivered)
    store.close()


def report_cell(world: World, table: str, **coords: str) -> int | None:
    """The report's published count of a cell (None where it shows a marker)."""
    pt = next(t for t in world.release.tables if t.name == table)
    f = pt.frame
    mask = pd.Series(True, index=f.index)
    for d in pt.dims:
        mask &= f[d].astype(str) == coords.get(d, "Total")
    (status,) = f.loc[mask, "status"]
    (count,) = f.loc[mask, "count"]
    return int(count) if status in (CellStatus.PUBLISHED, CellStatus.ZERO) else None
