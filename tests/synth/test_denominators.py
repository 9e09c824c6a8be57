"""The synthetic world's population denominators: assumed, deterministic, documented totals."""

from __future__ import annotations

import pandas as pd
import pytest

from thbmonitor.ingest.readers import read_text_frame
from thbmonitor.ingest.validate import validate
from thbmonitor.schema import POPULATION_DENOMINATOR_FIELDS, POPULATION_DENOMINATOR_KEY
from thbmonitor.synth.denominators import POPULATION_TOTALS, population_denominators
from thbmonitor.synth.params import YEARS

from .conftest import World


def test_totals_are_the_documented_order_of_magnitude() -> None:
    """The docstring's figures: about 16.7 million in 2012 rising to 17.5 million in 2021 (the
    order of magnitude of CBS StatLine, population on 1 January; assumed)."""
    assert POPULATION_TOTALS[2012] == pytest.approx(16.7e6, rel=0.01)
    assert POPULATION_TOTALS[2021] == pytest.approx(17.5e6, rel=0.01)
    values = [POPULATION_TOTALS[y] for y in sorted(POPULATION_TOTALS)]
    assert values == sorted(values)  # rising every year


@pytest.mark.parametrize("scale", [1.0, 0.25, 0.37])
def test_cells_add_up_to_the_totals_exactly(scale: float) -> None:
    den = population_denominators(YEARS, scale)
    assert len(den) == len(YEARS) * 6
    sums = den.groupby("year")["population"].sum()
    assert {int(y): int(n) for y, n in sums.items()} == {
        y: round(POPULATION_TOTALS[y] * scale) for y in YEARS
    }
    minors = den[den["age_band"] == "minor"].groupby("year")["population"].sum() / sums
    assert minors.between(0.19, 0.22).all()  # about a fifth (approximate split)
    women = den[den["sex"] == "F"].groupby("year")["population"].sum() / sums
    assert women.between(0.49, 0.51).all()


def test_world_writes_the_denominators_at_its_scale(world: World) -> None:
    """population_denominators.csv passes ingest validation and equals the function's output."""
    path = world.path / "population_denominators.csv"
    problems = validate(
        path.name,
        read_text_frame(path),
        POPULATION_DENOMINATOR_FIELDS,
        POPULATION_DENOMINATOR_KEY,
    )
    assert problems == []
    written = pd.read_csv(path, dtype={"year": int, "population": int})
    expected = population_denominators(world.params.years, world.params.scale)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    total = written.groupby("year")["population"].sum()
    assert int(total[2020]) == round(POPULATION_TOTALS[2020] * world.params.scale)
