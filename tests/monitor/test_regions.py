"""The municipality -> province code list (the nl profile's regions.csv)."""

from __future__ import annotations

from thbmonitor.monitor.regions import region_of, regions_frame
from thbmonitor.profiles import load_profile


def test_region_of() -> None:
    """Provinces as published by CBS (Gemeentelijke indeling): e.g. Venlo is in Limburg."""
    assert region_of("Amsterdam") == "Noord-Holland"
    assert region_of("  's-Hertogenbosch ") == "Noord-Brabant"
    assert region_of("den haag") == "Zuid-Holland" == region_of("'s-Gravenhage")
    assert region_of("Venlo") == "Limburg"
    assert region_of("Nowhere") == "unknown"
    assert region_of(None) == "unknown"


def test_every_province_has_municipalities_and_keys_are_unique() -> None:
    frame = regions_frame()
    provinces = load_profile("nl").region_order
    assert frame["municipality_key"].is_unique
    assert set(frame["region"]) == set(provinces)
    assert len(provinces) == 12
