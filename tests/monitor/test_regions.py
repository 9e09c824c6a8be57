"""The municipality -> province code list."""

from __future__ import annotations

from thbmonitor.monitor.regions import PROVINCES, UNKNOWN_REGION, region_of, regions_frame


def test_region_of() -> None:
    """Provinces as published by CBS (Gemeentelijke indeling): e.g. Venlo is in Limburg."""
    assert region_of("Amsterdam") == "Noord-Holland"
    assert region_of("  's-Hertogenbosch ") == "Noord-Brabant"
    assert region_of("den haag") == "Zuid-Holland" == region_of("'s-Gravenhage")
    assert region_of("Venlo") == "Limburg"
    assert region_of("Nowhere") == UNKNOWN_REGION
    assert region_of(None) == UNKNOWN_REGION


def test_every_province_has_municipalities_and_keys_are_unique() -> None:
    frame = regions_frame()
    assert frame["municipality_key"].is_unique
    assert set(frame["region"]) == set(PROVINCES)
    assert len(PROVINCES) == 12
