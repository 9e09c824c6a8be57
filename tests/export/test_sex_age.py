"""The known blocker: girls, boys, women and men when very few persons of unknown sex are shown.

The report keeps women and men per year (both at least 10) and so shows the persons of unknown
sex however few (the total minus women and men gives them away). With 2 of them in the year,
any split of them by age lies in 0..2: no suppression pattern gives the width the rules ask
(3), so the sex x age table has no safe pattern. The export then leaves it out and delivers
sex and age apart, saying why; the joint audit of report and deliveries still passes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monitor.conftest import WINDOW, make_registrations, write_store  # isort: skip
from thbmonitor import monitor
from thbmonitor.config import Settings
from thbmonitor.export import tables as T
from thbmonitor.export.codes import delivery_codes
from thbmonitor.export.release import SEX_AGE_NOTE
from thbmonitor.export.run import deliver
from thbmonitor.export.unodc import unodc_rows
from thbmonitor.pipeline import Publication

from .conftest import NL, YEAR


def test_two_persons_of_unknown_sex_leave_sex_and_age_apart(tmp_path: Path) -> None:
    regs, mapping = make_registrations(seed=5, n_persons=1500)
    rng = np.random.default_rng(1)
    regs["forms_of_exploitation"] = "ForcedLabour"
    regs["sex"] = rng.choice(["F", "M"], size=len(regs))
    # exactly two registrations of unknown sex in the year, of two different persons, each
    # the only registration of its person that year (so two victims of unknown sex), and
    # each person registered (with a known sex) in an earlier year of the window: persons of
    # unknown sex in the window are then 0. (Were they 2, the ties between the units would
    # bound them by the victims of unknown sex per year, 0 + ... + 2, and no safe pattern
    # would show those: the report then hides them and says why, see
    # tests/monitor/test_unit_relations.py.)
    in_year = regs.index[regs["registration_year"] == YEAR]
    persons = mapping.set_index("registration_id")["person_id"]
    per_year = regs.loc[in_year, "registration_id"].map(persons)
    earlier = set(
        regs.loc[regs["registration_year"].between(WINDOW[0], YEAR - 1), "registration_id"].map(
            persons
        )
    )
    linked = [i for i in in_year if isinstance(per_year[i], str) and per_year[i] in earlier]
    single = [i for i in linked if (per_year == per_year[i]).sum() == 1]
    regs.loc[single[:2], "sex"] = "U"
    regs.loc[single[0], "age_band"] = "minor"
    regs.loc[single[1], "age_band"] = "23+"
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    settings = Settings(window_first=WINDOW[0], window_last=WINDOW[1])
    release = Publication(settings)
    monitor.chapters(store, settings, release)
    shown_u = next(t for t in release.tables if t.name == "vic_year_sex")
    frame = shown_u.frame
    cell = frame[(frame["year"] == str(YEAR)) & (frame["sex"] == "U")].iloc[0]
    assert (cell["count"], cell["status"]) == (2, "published")  # the headline rule shows it
    delivered = deliver(store, settings, YEAR, release, NL, delivery_codes(NL))
    release.audit(record=False)
    assert not delivered.has(T.SEX_AGE)
    assert delivered.sex_age_note == SEX_AGE_NOTE
    rows = unodc_rows(delivered, NL, delivery_codes(NL).unodc, None)
    assert not [r for r in rows if r.sex != "Total" and r.age != "Total"]
    women = next(r for r in rows if r.sex == "Female" and r.indicator.startswith("Detected"))
    assert SEX_AGE_NOTE in women.source and women.value.isdigit()
    store.close()
