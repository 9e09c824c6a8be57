"""Every assumption of the synthetic Netherlands, as one frozen, documented parameter set.

Values marked *published* come from ``shared/reference/nl_published_figures.yaml`` (NRM Victims
Monitor, CoMensha, WODC); everything else is *assumed* (see ``synthetic-world.md``) and can be
changed. Year-indexed tables are keyed by calendar year; shares are of *registered* persons
unless stated otherwise. Treat the mappings as read-only.

The world is Dutch by design (its figures are the Dutch monitor's), so its codes are those of
the ``nl`` country profile (e.g. residence statuses ``DutchNational`` and ``B8``): it is written
in the monitor's own layout, which is nl's, and ``synth --profile P`` rewrites it in another
profile's codes and layout (:func:`thbmonitor.profiles.write.write_world`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from thbmonitor.errors import ConfigError

GROUPS = ("domestic_sexual", "cross_border_sexual", "labour", "criminal", "other_unknown")
SEXES = ("F", "M", "U")
AGE_BANDS = ("minor", "18-22", "23+")
NAT_GROUPS = ("NL", "other_EU", "non_EU")
LISTS = ("Police", "KMar", "LabourInspectorate", "NGOCare", "Other")
CRIME_TYPES = ("property", "violence", "sexual", "trafficking", "other")

YEARS = tuple(range(2012, 2022))


def _by_year(values: list[float]) -> dict[int, float]:
    return dict(zip(YEARS, values, strict=True))


def _nrm() -> dict[int, int]:
    # published NRM series (2013 and 2015 recalled, not verified)
    return dict(zip(YEARS, [1711, 1437, 1255, 1321, 952, 958, 668, 1334, 984, 791], strict=True))


def _hidden_ratio() -> dict[int, float]:
    # hidden : registered. About 5 in 2012-2015 and 4 in 2018-2019 (published MSE, WODC/NRM);
    # assumed in between and after.
    return _by_year([5.0, 5.0, 5.0, 5.0, 4.6, 4.3, 4.0, 4.0, 4.0, 4.0])


def _group_shares() -> dict[int, dict[str, float]]:
    # (domestic_sexual, cross_border_sexual, labour, criminal, other_unknown).
    # published: 2017 sexual .58, outside sex industry .217, domestic 263/958; 2018 domestic
    # 132/668; 2019 labour .17, cross-border + criminal 668/1334; 2020 labour .43, domestic .11,
    # cross-border + criminal 289/984. Other cells assumed (smooth between neighbours).
    rows = {
        2012: (0.30, 0.40, 0.12, 0.06, 0.12),
        2013: (0.29, 0.39, 0.13, 0.07, 0.12),
        2014: (0.28, 0.37, 0.14, 0.08, 0.13),
        2015: (0.28, 0.35, 0.14, 0.09, 0.14),
        2016: (0.28, 0.33, 0.13, 0.09, 0.17),
        2017: (263 / 958, 0.58 - 263 / 958, 0.13, 0.087, 0.203),
        2018: (132 / 668, 0.33, 0.15, 0.12, 1 - 132 / 668 - 0.60),
        2019: (0.17, 0.32, 0.17, 668 / 1334 - 0.32, 1 - 0.34 - 668 / 1334),
        2020: (0.11, 0.17, 0.43, 289 / 984 - 0.17, 1 - 0.54 - 289 / 984),
        2021: (0.12, 0.18, 0.40, 0.13, 0.17),
    }
    return {y: dict(zip(GROUPS, v, strict=True)) for y, v in rows.items()}


def _age_shares() -> dict[int, dict[str, float]]:
    # published: minors .24 (227) in 2016, 152/984 in 2020; under 23 .459 in 2017, .34 pooled
    # 2016-2020; minors .16 in 2011. Others assumed.
    minor = [0.16, 0.18, 0.20, 0.22, 227 / 952, 0.22, 0.19, 0.16, 152 / 984, 0.15]
    young = [0.20, 0.20, 0.20, 0.19, 0.15, 0.459 - 0.22, 0.11, 0.115, 0.13, 0.13]
    return {
        y: {"minor": m, "18-22": a, "23+": 1 - m - a}
        for y, m, a in zip(YEARS, minor, young, strict=True)
    }


def _female_share() -> dict[int, float]:
    # published: .72 in 2017, .76 pooled 2016-2020; assumed lower in 2020-2021 (labour up).
    return _by_year([0.80, 0.80, 0.79, 0.78, 0.81, 0.72, 0.78, 0.80, 0.66, 0.64])


def _nat_shares() -> dict[int, dict[str, float]]:
    # published: Dutch .36 in 2017; 2020 Dutch 155, Polish 190, Nigerian 185 (of 984).
    nl = [0.38, 0.37, 0.37, 0.37, 0.37, 0.36, 0.30, 0.26, 155 / 984, 0.17]
    eu = [0.30, 0.30, 0.30, 0.30, 0.29, 0.28, 0.30, 0.30, 0.40, 0.40]
    return {
        y: {"NL": n, "other_EU": e, "non_EU": 1 - n - e}
        for y, n, e in zip(YEARS, nl, eu, strict=True)
    }


def _countries() -> dict[str, dict[str, float]]:
    # assumed mix of nationalities within each nationality group (relative weights)
    return {
        "other_EU": {"PL": 0.30, "RO": 0.25, "BG": 0.20, "HU": 0.15, "LT": 0.05, "SK": 0.05},
        "non_EU": {
            "NG": 0.32,
            "UA": 0.10,
            "VN": 0.08,
            "CN": 0.08,
            "ER": 0.08,
            "MA": 0.10,
            "AL": 0.05,
            "BR": 0.05,
            "IN": 0.04,
            "SY": 0.05,
            "GH": 0.05,
        },
    }


def _country_targets() -> dict[int, dict[str, float]]:
    # published (CoMensha 2020): Polish 190 and Nigerian 185 of 984 registered persons
    return {2020: {"PL": 190 / 984, "NG": 185 / 984}}


def _country_affinity() -> dict[str, dict[str, float]]:
    # assumed: relative weight of a nationality within a monitor group (multiplies _countries)
    return {
        "cross_border_sexual": {"NG": 2.0, "RO": 1.5, "BG": 1.5, "HU": 1.5, "PL": 0.5, "CN": 1.5},
        "labour": {"PL": 3.0, "RO": 1.2, "UA": 2.5, "VN": 1.5, "IN": 2.0, "NG": 0.3, "CN": 1.5},
        "criminal": {"VN": 2.5, "RO": 1.5, "MA": 2.0, "AL": 2.0, "NG": 0.7},
        "other_unknown": {"NG": 1.5, "ER": 3.0, "SY": 2.5, "MA": 1.5},
    }


def _group_profile() -> dict[str, dict[str, float]]:
    # assumed association of sex, age band and nationality group with the monitor group; the
    # yearly margins above are raked onto this seed table (IPF), which keeps its odds ratios
    # (0 = impossible: domestic sexual victims are Dutch, cross-border ones are not).
    prof = {
        "domestic_sexual": (0.95, 0.04, 0.40, 0.30, 1.0, 0.0),
        "cross_border_sexual": (0.97, 0.02, 0.08, 0.25, 0.0, 0.5),
        "labour": (0.30, 0.69, 0.03, 0.12, 0.05, 0.55),
        "criminal": (0.45, 0.54, 0.30, 0.30, 0.35, 0.25),
        "other_unknown": (0.70, 0.29, 0.20, 0.20, 0.25, 0.25),
    }
    out = {}
    for g, (f, m, minor, young, nl, eu) in prof.items():
        out[g] = {
            "F": f,
            "M": m,
            "U": 1 - f - m,
            "minor": minor,
            "18-22": young,
            "23+": 1 - minor - young,
            "NL": nl,
            "other_EU": eu,
            "non_EU": 1 - nl - eu,
        }
    return out


def _police_share() -> dict[int, float]:
    # share of registrations (reports) made by the police. published: .75 in 2013, .34 in 2017.
    return _by_year([0.75, 0.75, 0.55, 0.48, 0.42, 0.34, 0.40, 0.42, 0.40, 0.40])


def _non_investigating() -> dict[int, float]:
    # registrations by non-investigating bodies (NGOCare + Other). published: about 550 a year
    # in 2014-2017 and about 150 in 2018 (NRM 2019-10-18). Others assumed.
    return _by_year([330, 330, 550, 550, 550, 550, 150, 300, 250, 220])


def _capture_base() -> dict[str, float]:
    # assumed logit of capture by each list for the reference stratum (18-22, cross-border)
    return {
        "Police": -1.6,
        "KMar": -3.2,
        "LabourInspectorate": -3.6,
        "NGOCare": -2.2,
        "Other": -3.2,
    }


def _capture_effects() -> dict[str, dict[str, float]]:
    # assumed logit effects on capture, per "<dimension>:<level>" and list: heterogeneity
    return {
        "group:domestic_sexual": {"Police": 0.8, "KMar": -2.0, "LabourInspectorate": -2.5},
        "group:cross_border_sexual": {"KMar": 0.5, "LabourInspectorate": -1.5},
        "group:labour": {"Police": -0.5, "KMar": -0.3, "LabourInspectorate": 2.8, "NGOCare": -0.3},
        "group:criminal": {"Police": 0.7, "KMar": -0.5, "LabourInspectorate": -1.5},
        "group:other_unknown": {"Police": -0.6, "LabourInspectorate": -1.0, "Other": 0.9},
        "age:minor": {"Police": -0.2, "KMar": -0.5, "LabourInspectorate": -1.5, "NGOCare": 0.5},
        "age:23+": {"LabourInspectorate": 0.3, "NGOCare": -0.2},
        "nat:NL": {"KMar": -2.0, "LabourInspectorate": -0.5},
        "nat:other_EU": {"KMar": -0.5},
        "nat:non_EU": {"KMar": 0.8, "Police": -0.2},
    }


def _dependence() -> dict[str, float]:
    # assumed positive list dependence (logit shift of the second list given the first):
    # police refer to NGOs / care; care refers on to other organisations; KMar hands to police.
    return {"Police->NGOCare": 1.2, "NGOCare->Other": 0.8, "KMar->Police": 0.7}


def _revictim_5y() -> dict[str, float]:
    # published (Victims Monitor 2016-2020): within 5 years property .33, assault .25,
    # trafficking .08, sexual offence .08 (overlapping); "other" assumed.
    return {"property": 0.33, "violence": 0.25, "sexual": 0.08, "trafficking": 0.08, "other": 0.10}


def _linkable() -> dict[str, float]:
    # assumed probability that a victim appears in the police register with linkable identifiers
    return {
        "DutchNational": 0.95,
        "EUCitizen": 0.95,
        "NonEUPermit": 0.80,
        "AsylumSeeker": 0.70,
        "B8": 0.80,
        "NoLegalStatus": 0.40,
        "Unknown": 0.50,
    }


# ---- assumed mixes (defaults of the fields below) -----------------------------------------


def _residence_non_eu() -> dict[str, float]:
    return {"NoLegalStatus": 0.38, "AsylumSeeker": 0.30, "B8": 0.15, "NonEUPermit": 0.15}


def _second_nationality() -> dict[str, float]:
    return {"MA": 0.4, "SY": 0.1, "NG": 0.1, "CN": 0.1, "BR": 0.1, "GH": 0.2}


def _sector_mix() -> dict[str, dict[str, float]]:
    return {
        "sexual": {
            "Prostitution": 0.25,
            "PrivateSexualServices": 0.65,
            "RemoteInteractiveServices": 0.1,
        },
        "labour": {
            "Agriculture": 0.25,
            "Construction": 0.15,
            "Hospitality": 0.2,
            "DomesticWork": 0.1,
            "Manufacturing": 0.15,
            "Transportation": 0.15,
        },
        "criminal": {"IllicitActivities": 1.0},
        "other_unknown": {"Begging": 0.15, "Other": 0.35, "Unknown": 0.5},
    }


def _other_forms() -> dict[str, float]:
    return {
        "Unknown": 0.45,
        "Other": 0.2,
        "ForcedBegging": 0.12,
        "ForcedMarriage": 0.1,
        "Servitude": 0.1,
        "OrganRemoval": 0.03,
    }


def _help_by_status() -> dict[str, dict[str, float]]:
    # probabilities before the age and municipality factors (see population._help)
    rows = {
        "DutchNational": (0.15, 0.0, 0.55),
        "EUCitizen": (0.30, 0.10, 0.35),
        "NonEUPermit": (0.35, 0.10, 0.40),
        "AsylumSeeker": (0.45, 0.25, 0.45),
        "B8": (0.60, 1.0, 0.50),
        "NoLegalStatus": (0.55, 0.50, 0.40),
        "Unknown": (0.20, 0.10, 0.30),
    }
    return {
        s: {"shelter": a, "victim_scheme_applied": b, "care_referral": c}
        for s, (a, b, c) in rows.items()
    }


def _victim_crime_mix() -> dict[str, float]:
    return {"property": 0.45, "violence": 0.30, "sexual": 0.08, "trafficking": 0.02, "other": 0.15}


def _suspect_crime_mix() -> dict[str, float]:
    return {"property": 0.45, "violence": 0.30, "sexual": 0.03, "trafficking": 0.05, "other": 0.17}


def _background_nationality() -> dict[str, float]:
    # name lists exist for each of these
    return {
        "NL": 0.78,
        "MA": 0.04,
        "PL": 0.03,
        "RO": 0.02,
        "BG": 0.02,
        "HU": 0.01,
        "SY": 0.02,
        "NG": 0.01,
        "UA": 0.01,
        "CN": 0.01,
        "VN": 0.01,
        "BR": 0.01,
        "IN": 0.01,
        "GH": 0.01,
        "AL": 0.01,
        "ER": 0.01,
    }


MAX_SCALE = 100.0  # about 1.3 million registrations; more does not fit one machine's memory


@dataclass(frozen=True)
class WorldParams:
    """All assumptions of the synthetic world. See the module docstring for provenance."""

    seed: int = 20240601  # seed of the numpy Generator; same seed -> byte-identical files
    scale: float = 1.0  # multiplies every population count (registered and hidden)
    background_events: int = 1_000_000  # police events of non-victims; not multiplied by scale
    years: tuple[int, ...] = YEARS  # registration years
    police_start: str = "2005-01-01"  # first date of the police register
    censor_date: str = "2023-12-31"  # data end: end of the police register and of follow-up
    nrm_registered: Mapping[int, int] = field(default_factory=_nrm)  # distinct persons per year
    hidden_ratio: Mapping[int, float] = field(default_factory=_hidden_ratio)  # hidden/registered
    group_shares: Mapping[int, Mapping[str, float]] = field(default_factory=_group_shares)
    age_shares: Mapping[int, Mapping[str, float]] = field(default_factory=_age_shares)
    female_share: Mapping[int, float] = field(default_factory=_female_share)
    unknown_sex_share: float = 0.01  # sex U (published 1% in 2017)
    domestic_minors: Mapping[int, int] = field(default_factory=lambda: {2018: 29})  # published
    nat_shares: Mapping[int, Mapping[str, float]] = field(default_factory=_nat_shares)
    group_profile: Mapping[str, Mapping[str, float]] = field(default_factory=_group_profile)
    countries: Mapping[str, Mapping[str, float]] = field(default_factory=_countries)
    country_targets: Mapping[int, Mapping[str, float]] = field(default_factory=_country_targets)
    country_affinity: Mapping[str, Mapping[str, float]] = field(default_factory=_country_affinity)
    dual_nationality: float = 0.08  # share of Dutch victims with a second nationality (assumed)
    police_share: Mapping[int, float] = field(default_factory=_police_share)
    non_investigating: Mapping[int, float] = field(default_factory=_non_investigating)
    capture_base: Mapping[str, float] = field(default_factory=_capture_base)
    capture_effects: Mapping[str, Mapping[str, float]] = field(default_factory=_capture_effects)
    dependence: Mapping[str, float] = field(default_factory=_dependence)
    duplicate_report: float = 0.03  # a list reports the same person twice in a year (assumed)
    repeat_victim_share: float = 0.10  # victim-years that belong to an earlier victim (assumed)
    repeat_max_gap: int = 5  # ... whose earlier victim-year is at most this many years before
    # people and help (assumed)
    residence_non_eu: Mapping[str, float] = field(default_factory=_residence_non_eu)
    unknown_status: float = 0.02  # non-Dutch victims with residence status unknown
    second_nationality: Mapping[str, float] = field(default_factory=_second_nationality)
    big_city_factor: float = 2.0  # over-representation of the four big cities
    sector_mix: Mapping[str, Mapping[str, float]] = field(default_factory=_sector_mix)
    other_forms: Mapping[str, float] = field(default_factory=_other_forms)  # other_unknown group
    secondary_form: float = 0.08  # registrations listing a second form of exploitation
    help_by_status: Mapping[str, Mapping[str, float]] = field(default_factory=_help_by_status)
    victim_scheme_granted: float = (
        0.6  # P(B8 granted | applied); status B8 itself is always granted
    )
    # completeness of registrations (assumed)
    missing_help: float = 0.10  # empty shelter / B8 / care fields
    missing_municipality: float = 0.05
    missing_sector: float = 0.10
    unknown_nationality: float = 0.02  # repeat registrations of non-Dutch victims with XX
    consent: float = 0.95  # victims consenting (reporters that need consent: always)
    missing_consent: float = 0.05
    # identifier noise in repeat registrations (synthetic-world.md)
    typo_first: float = 0.20
    typo_last: float = 0.20
    swap_names: float = 0.05
    dob_missing: float = 0.08
    dob_error: float = 0.05  # day/month swapped, 1 January, or year off by one
    alias: float = 0.02  # a registration under another name (assumed)
    variant_spelling: float = 0.30  # a known transliteration variant instead of a typo
    id_number: Mapping[str, float] = field(
        default_factory=lambda: {"NL": 0.85, "other_EU": 0.55, "non_EU": 0.25}
    )  # share of registrations with an identity number (assumed)
    # follow-up (police register): registered victims, from first registration
    revictim_any_5y: float = 0.45  # published
    revictim_any_7y: float = 0.50  # published
    revictim_by_type_5y: Mapping[str, float] = field(default_factory=_revictim_5y)
    suspect_5y: float = 0.20  # assumed
    minor_hazard_ratio: float = 1.5  # assumed; population level (a Cox model without frailty)
    death_rate: float = 0.003  # per year (assumed)
    emigration_rate: Mapping[str, float] = field(
        default_factory=lambda: {"NL": 0.005, "other_EU": 0.03, "non_EU": 0.06}
    )  # per year (assumed)
    linkable: Mapping[str, float] = field(default_factory=_linkable)
    unlinkable_events_absent: float = 0.5  # share of non-linkable victims without any event
    index_event_police: float = 0.9  # P(trafficking victim event at entry | police registered)
    index_event_other: float = 0.3  # ... when registered by other lists only
    prior_event_rate: float = 0.12  # victim/suspect events per year before entry (assumed)
    hidden_event_rate: float = 0.10  # police events per year of never-registered victims
    background_events_per_person: float = 2.5  # mean events per background person
    # police register outside follow-up (assumed)
    victim_crime_mix: Mapping[str, float] = field(default_factory=_victim_crime_mix)
    suspect_crime_mix: Mapping[str, float] = field(default_factory=_suspect_crime_mix)
    window_suspect_share: float = 0.4  # role of events before entry and of hidden victims
    background_nationality: Mapping[str, float] = field(default_factory=_background_nationality)
    background_male: float = 0.6
    background_suspect_share: float = 0.45
    police_id_nl: float = 0.7  # police events of Dutch nationals carrying the BSN
    police_id_other: float = 0.3  # ... of others carrying a document number

    def replace(self, **changes: Any) -> WorldParams:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """The parameters as JSON (years as string keys), for ``truth/params.json``."""
        return json.dumps(_jsonable(dataclasses.asdict(self)), indent=2, sort_keys=True)

    def check(self) -> None:
        """Raise ConfigError when the parameters are inconsistent."""
        if not math.isfinite(self.scale) or not 0 < self.scale <= MAX_SCALE:
            raise ConfigError(
                f"scale must be a number above 0 and at most {MAX_SCALE:g} (1 is the size of the "
                "Netherlands); pass e.g. --scale 1"
            )
        if self.seed < 0:
            raise ConfigError("seed must be a whole number of 0 or more; pass e.g. --seed 11")
        if self.background_events < 0:
            raise ConfigError("background_events must be zero or more")
        for y in self.years:
            for name in ("nrm_registered", "hidden_ratio", "group_shares", "age_shares"):
                if y not in getattr(self, name):
                    raise ConfigError(f"parameter '{name}' has no value for year {y}")
            for name in ("group_shares", "age_shares", "nat_shares"):
                total = sum(getattr(self, name)[y].values())
                if abs(total - 1) > 1e-6:
                    raise ConfigError(f"parameter '{name}' for year {y} sums to {total:.4f}")
        if not self.revictim_any_5y < self.revictim_any_7y < 1:
            raise ConfigError("revictim_any_5y must be below revictim_any_7y, both below 1")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj
