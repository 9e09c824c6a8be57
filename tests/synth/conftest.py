"""One synthetic world at the default scale, generated once per test session.

The background of the police register is reduced to 200,000 events to keep the suite fast;
the background is drawn after every victim, so the victims, registrations and truth are the
same as with the default of 1,000,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.synth import WorldParams, WorldSummary, generate

BACKGROUND = 200_000


@dataclass
class World:
    path: Path
    params: WorldParams
    summary: WorldSummary

    def csv(self, name: str, **kw: object) -> pd.DataFrame:
        return pd.read_csv(self.path / name, **kw)  # type: ignore[call-overload]

    def registrations(self) -> pd.DataFrame:
        """registrations.csv as text, with the true person and the registration year."""
        regs = self.csv("registrations.csv", dtype=str, keep_default_na=False)
        owner = self.csv("truth/registration_person.csv", dtype=str)
        out = regs.merge(owner, on="registration_id", how="left", validate="one_to_one")
        out["year"] = out["registration_date"].str[:4].astype(int)
        return out

    def persons(self) -> pd.DataFrame:
        p = self.csv("truth/persons.csv")
        for c in p.columns:
            if c.endswith("_date"):
                p[c] = pd.to_datetime(p[c])
        return p


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    params = WorldParams(background_events=BACKGROUND)
    out = tmp_path_factory.mktemp("synth_world")
    return World(out, params, generate(params, out))
