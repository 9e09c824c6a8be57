"""The nl profile reproduces the code lists and rules that schema.py and monitor/regions.py
hold today, value for value (the default demo must not change when the code reads the profile)."""

from __future__ import annotations

import itertools

from thbmonitor import schema
from thbmonitor.monitor import regions
from thbmonitor.profiles import load_profile


def test_code_lists_equal_schema() -> None:
    nl = load_profile("nl")
    for f in schema.REGISTRATION_FIELDS + schema.POLICE_FIELDS + schema.POPULATION_FIELDS:
        if f.kind in ("code", "codes"):
            codes = nl.list_of(f.name)
            assert codes is not None, f.name
            assert codes.codes == f.codes, f.name
    assert nl.consent_not_required == schema.CONSENT_NOT_REQUIRED
    assert nl.groups == tuple(g.value for g in schema.MonitorGroup)
    assert nl.age_bands.codes == tuple(a.value for a in schema.AgeBand)
    assert nl.nationality.groups == tuple(g.value for g in schema.NationalityGroup)
    assert nl.layout.multi_separator == schema.MULTI_SEPARATOR
    assert {c for c, (_, left) in nl.nationality.eu.items() if left is None} - {"NL"} == set(
        schema.EU_COUNTRIES
    )


def test_rules_equal_schema() -> None:
    nl = load_profile("nl")
    for age in [None, *range(0, 100)]:
        assert nl.age_band(age) == schema.age_band(age).value
    countries = ["NL", "PL", "NG", "XX", "", "HR", "RO"]
    for code in countries:
        assert nl.nationality.group_of(code) == schema.nationality_group(code).value
    forms = [f.value for f in schema.Exploitation]
    for form, nats in itertools.product(forms, [[], ["NL"], ["PL"], ["PL", "NL"]]):
        assert nl.monitor_group([form], nats) == schema.monitor_group([form], nats).value


def test_regions_equal_regions_module() -> None:
    nl = load_profile("nl")
    assert nl.region_order == regions.PROVINCES
    assert dict(nl.regions) == dict(regions.municipality_regions())
    assert nl.region_unknown == regions.UNKNOWN_REGION
