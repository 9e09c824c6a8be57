"""A country profile in memory: code lists, input layout, and the monitor's groupings.

Built by :func:`thbmonitor.profiles.load_profile` from a profile folder (``profile.toml``,
``codes.csv``, ``eu.csv``, ``regions.csv``). Every value the monitor derives from a country's
conventions (the code lists, the groups of exploitation, age bands, nationality groups, regions)
comes from here; the code names none of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

__all__ = [
    "AgeBands",
    "CodeList",
    "GroupRule",
    "InputLayout",
    "Nationality",
    "Profile",
    "normalise",
    "region_key",
]


def region_key(municipality: str) -> str:
    """A municipality's name as matched: lower case, without surrounding spaces (the SQL of the
    monitor's tables matches ``lower(trim(municipality))`` the same way)."""
    return municipality.strip().lower()


def normalise(text: str) -> str:
    """The form in which spellings are compared: case and runs of spaces do not count."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class CodeList:
    """One code list: the codes stored, their HTCDS 2.0 codes, labels and accepted spellings."""

    name: str
    codes: tuple[str, ...]
    htcds: Mapping[str, str] = field(default_factory=dict)  # code -> HTCDS code, where one exists
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # code -> (en, nl)
    spellings: Mapping[str, str] = field(default_factory=dict)  # normalised spelling -> code
    written: Mapping[str, str] = field(default_factory=dict)  # code -> spelling files use
    unknown: str | None = None  # the code that says "not known"
    other: str | None = None  # the code that says "other"

    def code_of(self, value: str) -> str | None:
        """The code a file's value stands for (the code itself or a listed spelling), or None."""
        if value in self.codes:
            return value
        return self.spellings.get(normalise(value))

    def spelling(self, code: str) -> str:
        """How a file in this profile's layout writes a code (its first listed spelling)."""
        return self.written.get(code, code)


@dataclass(frozen=True)
class InputLayout:
    """How input files are written: separators, encoding, dates, booleans and column names."""

    delimiter: str = ","
    encoding: str = "utf-8"
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    multi_separator: str = ";"
    true: tuple[str, ...] = ("1",)
    false: tuple[str, ...] = ("0",)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kind -> {file: field}

    def renames(self, kind: str) -> Mapping[str, str]:
        """File column -> field of one kind of file."""
        return self.columns.get(kind, {})

    def column_of(self, kind: str, name: str) -> str:
        """The file column that holds a field (the field's own name when not renamed)."""
        for column, target in self.renames(kind).items():
            if target == name:
                return column
        return name


@dataclass(frozen=True)
class AgeBands:
    """Age bands: ``bands`` in order, each with the age it stays below (the last has None)."""

    bands: tuple[tuple[str, int | None], ...]
    unknown: str

    @property
    def codes(self) -> tuple[str, ...]:
        """The bands and the unknown band, in order."""
        return (*(code for code, _ in self.bands), self.unknown)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.bands)

    @property
    def minor(self) -> str:
        """The band of minors: the first band, which must end at 18."""
        return self.bands[0][0]

    def of(self, age: int | None) -> str:
        if age is None:
            return self.unknown
        for code, below in self.bands:
            if below is None or age < below:
                return code
        return self.unknown  # unreachable: the last band is open (checked on loading)


@dataclass(frozen=True)
class Nationality:
    """Nationality groups: the own country, other EU members (on a date), outside the EU."""

    country: str
    unknown_codes: frozenset[str]
    own: str
    other_eu: str
    non_eu: str
    unknown: str
    eu: Mapping[str, tuple[date, date | None]]  # member -> (joined, first day outside)

    @property
    def groups(self) -> tuple[str, ...]:
        return (self.own, self.other_eu, self.non_eu, self.unknown)

    def is_eu(self, code: str, on: date | None = None) -> bool:
        """Whether a country is an EU member on a date (today's members when no date)."""
        span = self.eu.get(code)
        if span is None:
            return False
        joined, left = span
        if on is None:
            return left is None
        return joined <= on and (left is None or on < left)

    def group_of(self, code: str | None, on: date | None = None) -> str:
        """The group of one ISO 3166-1 alpha-2 code."""
        if not code or code in self.unknown_codes:
            return self.unknown
        if code == self.country:
            return self.own
        if self.is_eu(code, on):
            return self.other_eu
        return self.non_eu

    def group_of_all(self, codes: Sequence[str], on: date | None = None) -> str:
        """Dual nationals with the own nationality count as own; otherwise the first listed."""
        if self.country in codes:
            return self.own
        return self.group_of(codes[0] if codes else None, on)


@dataclass(frozen=True)
class GroupRule:
    form: str
    group: str
    own_nationality: bool | None = None  # None: either


@dataclass(frozen=True)
class Profile:
    """A loaded country profile. ``path`` is its folder (other files of it are read from there,
    e.g. the delivery codes in ``deliveries.toml``)."""

    name: str
    title: str
    path: Path
    country: str
    layout: InputLayout
    code_lists: Mapping[str, CodeList]
    field_lists: Mapping[str, str]  # coded field -> code list name
    consent_not_required: frozenset[str]
    nationality: Nationality
    age_bands: AgeBands
    groups: tuple[str, ...]
    group_default: str
    group_rules: tuple[GroupRule, ...]
    group_labels: Mapping[str, tuple[str, str]]
    regions: Mapping[str, str]  # municipality key (see region_key) -> region
    region_order: tuple[str, ...]
    region_unknown: str
    # dimension pair -> {dimension: categories} that lie in one cell by definition
    structural: Mapping[frozenset[str], Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    # display names (en, nl) of age bands and nationality groups
    extra_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    help_reference_status: str | None = None
    scheme_fixed_statuses: tuple[str, ...] = ()
    big_cities: frozenset[str] = frozenset()  # region keys (see region_key)
    # display names (en, nl) of the monitor's dimensions where the country names them its own
    # way (the region, the residence scheme for victims)
    dimension_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # the big cities as the report names them (help.big_cities, as written in profile.toml)
    big_city_names: tuple[str, ...] = ()
    # the report's wording of the country's own things (en, nl): [wording] in profile.toml;
    # a key left out takes the monitor's neutral wording (thbmonitor.monitor.texts.WORDING)
    wording: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A digest of what a store's contents depend on: the code lists' codes, which field
        takes which list, the country, nationality groups (with EU membership), age bands and
        the monitor's groups. Layout, spellings, labels and regions do not count: a copy that
        reads another file format or names things otherwise is the same profile to a store."""
        lists = {
            name: [c.codes, sorted(c.htcds.items()), c.unknown, c.other]
            for name, c in sorted(self.code_lists.items())
        }
        nat = self.nationality
        meaning = {
            "country": self.country,
            "code_lists": lists,
            "fields": sorted(self.field_lists.items()),
            "nationality": [
                nat.country,
                sorted(nat.unknown_codes),
                nat.groups,
                sorted((k, [str(d) for d in v]) for k, v in nat.eu.items()),
            ],
            "age_bands": [self.age_bands.bands, self.age_bands.unknown],
            "groups": [
                self.groups,
                self.group_default,
                [[r.form, r.group, r.own_nationality] for r in self.group_rules],
            ],
        }
        text = json.dumps(meaning, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def codes(self, list_name: str) -> tuple[str, ...]:
        """The codes of one code list, in order."""
        return self.code_lists[list_name].codes

    def field_codes(self, field_name: str) -> tuple[str, ...]:
        """The codes of a coded field (e.g. ``sex``, ``residence_status``)."""
        return self.code_lists[self.field_lists[field_name]].codes

    def list_of(self, field_name: str) -> CodeList | None:
        """The code list of a coded field (None for a field that is not coded)."""
        name = self.field_lists.get(field_name)
        return self.code_lists[name] if name is not None else None

    def age_band(self, age: int | None) -> str:
        return self.age_bands.of(age)

    def monitor_group(self, forms: Sequence[str], nationalities: Sequence[str]) -> str:
        """The monitor's group of a registration: its main (first) form and the profile's rules."""
        if not forms:
            return self.group_default
        main = forms[0]
        own = self.country in nationalities
        for rule in self.group_rules:
            if rule.form == main and rule.own_nationality in (None, own):
                return rule.group
        return self.group_default

    def region_of(self, municipality: str | None) -> str:
        if municipality is None:
            return self.region_unknown
        return self.regions.get(region_key(municipality), self.region_unknown)

    def label(self, code: str, lang: str) -> str | None:
        """The display name of a code of any list or group (None when the profile has none)."""
        index = 1 if lang == "nl" else 0
        if code in self.group_labels:
            return self.group_labels[code][index]
        if code in self.extra_labels:
            return self.extra_labels[code][index]
        for codes in self.code_lists.values():
            if code in codes.labels:
                return codes.labels[code][index]
        return None
