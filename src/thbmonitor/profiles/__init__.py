"""Country profiles: a country's code lists, file layout and monitor groupings, as data.

A profile is a folder holding ``profile.toml`` (layout, field -> code list, groups, age bands,
nationality groups), ``codes.csv`` (every code list: code, HTCDS 2.0 code, labels, accepted
spellings), ``eu.csv`` (EU membership by date) and ``regions.csv`` (municipality -> region).
The package ships some (``nl``, ``htcds``: :func:`profile_names`); a user's copy is any folder
(``thbmonitor profile copy``). Other parts keep their own files in the folder (the delivery codes
in ``deliveries.toml``) and find it as :attr:`Profile.path`.

>>> from thbmonitor.profiles import load_profile
>>> nl = load_profile("nl")
>>> nl.monitor_group(["SexualExploitation"], ["NL"])
'domestic_sexual'
"""

from __future__ import annotations

import csv
import dataclasses
import tomllib
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from thbmonitor.errors import ConfigError
from thbmonitor.profiles.model import (
    AgeBands,
    CodeList,
    GroupRule,
    InputLayout,
    Nationality,
    Profile,
    normalise,
    region_key,
)

__all__ = [
    "DEFAULT_PROFILE",
    "FILES",
    "KINDS",
    "WORDING_KEYS",
    "CodeList",
    "Profile",
    "default_profile",
    "load_profile",
    "profile_names",
]

DEFAULT_PROFILE = "nl"
PACKAGE_DIR = Path(__file__).parent
FILES: tuple[str, ...] = ("profile.toml", "codes.csv", "eu.csv", "regions.csv")
KINDS: tuple[str, ...] = ("registrations", "police", "population", "population_denominators")
# the keys of [wording]: how the report names the country's own things (the monitor's neutral
# wording of each is thbmonitor.monitor.texts.WORDING; README.md, "Writing a profile")
WORDING_KEYS: tuple[str, ...] = (
    "scheme",
    "scheme_long",
    "scheme_granted",
    "scheme_fixed",
    "groups_definition",
    "by_year_reason",
    "nationality_group_note",
    "region_unit",
    "reference_status",
    "big_cities",
)


def profile_names() -> tuple[str, ...]:
    """The profiles the package ships."""
    return tuple(sorted(p.parent.name for p in PACKAGE_DIR.glob("*/profile.toml")))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``nl``, ``htcds``) or a profile folder (a user's copy)."""
    folder = _folder(name_or_path).resolve()
    return _load(folder, _stamp(folder))


def _stamp(folder: Path) -> tuple[tuple[int, int], ...]:
    """When and how large each file is: an edited profile is loaded again, not cached."""
    out = []
    for name in FILES:
        try:
            st = (folder / name).stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((0, -1))
    return tuple(out)


def default_profile() -> Profile:
    return load_profile(DEFAULT_PROFILE)


def _folder(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text in profile_names():
        return PACKAGE_DIR / text
    folder = Path(name_or_path)
    if folder.is_file() and folder.name == "profile.toml":
        folder = folder.parent
    if not (folder / "profile.toml").is_file():
        raise ConfigError(
            f"profile {text!r}: not a shipped profile ({', '.join(profile_names())}) nor a "
            "folder holding profile.toml; copy one with 'thbmonitor profile copy NAME DIR'"
        )
    return folder


@lru_cache(maxsize=16)
def _load(folder: Path, _stamp: tuple[tuple[int, int], ...]) -> Profile:
    where = f"profile {folder.name} ({folder})"
    try:
        with open(folder / "profile.toml", "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: profile.toml is not valid TOML ({exc})") from None
    try:
        return _build(folder, doc, where)
    except (LookupError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    if isinstance(exc, LookupError):
        return f"unknown text encoding ({exc})"
    return str(exc)


def _build(folder: Path, doc: Mapping[str, Any], where: str) -> Profile:
    code_lists = _code_lists(folder / "codes.csv")
    for which in ("unknown", "other"):
        for list_name, code in doc.get(which, {}).items():
            if list_name not in code_lists or code not in code_lists[list_name].codes:
                raise ValueError(f"[{which}] {list_name} = {code!r}: no such code in codes.csv")
            code_lists[list_name] = dataclasses.replace(code_lists[list_name], **{which: code})
    fields = {str(k): str(v) for k, v in doc.get("fields", {}).items()}
    for field_name, list_name in fields.items():
        if list_name not in code_lists:
            raise ValueError(f"field {field_name} names code list {list_name!r}, not in codes.csv")
    country = str(doc["country"])
    nat = doc["nationality"]
    nationality = Nationality(
        country=country,
        unknown_codes=frozenset(str(c) for c in nat.get("unknown", [])),
        own=str(nat["own"]),
        other_eu=str(nat["other_eu"]),
        non_eu=str(nat["non_eu"]),
        unknown=str(nat["unknown_group"]),
        eu=_eu(folder / "eu.csv"),
    )
    ages = doc["age_bands"]
    bands = tuple(
        (str(b["code"]), int(b["below"]) if "below" in b else None) for b in ages["bands"]
    )
    if not bands or bands[-1][1] is not None or any(b is None for _, b in bands[:-1]):
        raise ValueError("age_bands: every band but the last needs 'below'; the last none")
    if bands[0][1] != 18:
        raise ValueError("age_bands: the first band must be the minors (below = 18)")
    groups = doc["groups"]
    order = tuple(str(g) for g in groups["order"])
    rules = tuple(
        GroupRule(str(r["form"]), str(r["group"]), r.get("own_nationality"))
        for r in groups.get("rules", [])
    )
    forms = code_lists[fields["forms_of_exploitation"]].codes
    for rule in rules:
        if rule.group not in order or rule.form not in forms:
            raise ValueError(f"groups: the rule for {rule.form} names an unknown form or group")
    if groups["default"] not in order:
        raise ValueError("groups: 'default' is not one of 'order'")
    layout_doc = doc.get("input", {})
    layout = InputLayout(
        delimiter=str(layout_doc.get("delimiter", ",")),
        encoding=str(layout_doc.get("encoding", "utf-8")),
        date_formats=tuple(layout_doc.get("date_formats", ["%Y-%m-%d"])),
        multi_separator=str(layout_doc.get("multi_separator", ";")),
        true=tuple(str(v) for v in layout_doc.get("true", ["1"])),
        false=tuple(str(v) for v in layout_doc.get("false", ["0"])),
        columns={
            kind: {str(k): str(v) for k, v in doc.get("columns", {}).get(kind, {}).items()}
            for kind in KINDS
        },
    )
    if len(layout.delimiter) != 1:
        raise ValueError("input.delimiter must be one character")
    "".encode(layout.encoding)  # an unknown encoding raises LookupError -> caught below
    regions, region_order = _regions(folder / "regions.csv")
    organisations = code_lists[fields["reporting_organisation"]].codes
    consent = frozenset(
        str(c) for c in doc.get("reporting_organisation", {}).get("consent_not_required", [])
    )
    if not consent <= set(organisations):
        raise ValueError("reporting_organisation.consent_not_required names an unknown code")
    structural = {
        frozenset(str(d) for d in item["dims"]): {
            str(d): tuple(str(c) for c in cs) for d, cs in item["cells"].items()
        }
        for item in doc.get("structural", [])
    }
    help_doc = doc.get("help", {})
    statuses = code_lists[fields["residence_status"]].codes
    reference = help_doc.get("reference_residence_status")
    fixed = tuple(str(c) for c in help_doc.get("scheme_fixed_statuses", []))
    if (reference is not None and reference not in statuses) or not set(fixed) <= set(statuses):
        raise ValueError("help: a residence status that is not in codes.csv")
    return Profile(
        name=str(doc.get("name", folder.name)),
        title=str(doc.get("title", folder.name)),
        path=folder,
        country=country,
        layout=layout,
        code_lists=code_lists,
        field_lists=fields,
        consent_not_required=consent,
        nationality=nationality,
        age_bands=AgeBands(bands, str(ages["unknown"])),
        groups=order,
        group_default=str(groups["default"]),
        group_rules=rules,
        group_labels={str(k): (str(v[0]), str(v[1])) for k, v in groups.get("labels", {}).items()},
        regions=regions,
        region_order=region_order,
        region_unknown=str(doc.get("regions", {}).get("unknown", "unknown")),
        structural=structural,
        extra_labels={
            str(k): (str(v[0]), str(v[1]))
            for table in (nat, ages)
            for k, v in table.get("labels", {}).items()
        },
        help_reference_status=None if reference is None else str(reference),
        scheme_fixed_statuses=fixed,
        big_cities=frozenset(region_key(str(m)) for m in help_doc.get("big_cities", [])),
        dimension_labels=_dimension_labels(doc),
        big_city_names=tuple(str(m) for m in help_doc.get("big_cities", [])),
        wording=_wording(doc),
    )


def _wording(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``[wording]``: key -> [English, Dutch], each a non-empty string."""
    out = {}
    for key, value in doc.get("wording", {}).items():
        if key not in WORDING_KEYS:
            raise ValueError(f"[wording] {key}: no such key (the keys: {', '.join(WORDING_KEYS)})")
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise ValueError(f"[wording] {key} must be [English, Dutch] (two non-empty strings)")
        out[str(key)] = (value[0], value[1])
    return out


def _dimension_labels(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``[dimension_labels]`` (dimension -> [en, nl]) and the regions' ``label``."""
    out = {str(k): (str(v[0]), str(v[1])) for k, v in doc.get("dimension_labels", {}).items()}
    region = doc.get("regions", {}).get("label")
    if region is not None:
        out["region"] = (str(region[0]), str(region[1]))
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise ValueError(f"{path.name} is missing")
    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _code_lists(path: Path) -> dict[str, CodeList]:
    """codes.csv: ``list, code, htcds, label_en, label_nl, spellings``.

    ``spellings`` (``|``-separated) are the values a file may hold for the code, the first one
    being how files of this profile write it; empty means the code itself."""
    gathered: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(_rows(path), start=1):
        name, code = row["list"], row["code"]
        if not name or not code:
            raise ValueError(f"codes.csv row {number}: 'list' and 'code' are required")
        entry = gathered.setdefault(
            name, {"codes": [], "htcds": {}, "labels": {}, "spellings": {}, "written": {}}
        )
        if code in entry["codes"]:
            raise ValueError(f"codes.csv row {number}: code {code!r} twice in list {name}")
        entry["codes"].append(code)
        if row.get("htcds"):
            entry["htcds"][code] = row["htcds"]
        if row.get("label_en") or row.get("label_nl"):
            entry["labels"][code] = (row.get("label_en") or code, row.get("label_nl") or code)
        spellings = [s.strip() for s in (row.get("spellings") or "").split("|") if s.strip()]
        if spellings:
            entry["written"][code] = spellings[0]
        for spelling in (code, *spellings):
            known = entry["spellings"].get(normalise(spelling))
            if known is not None and known != code:
                raise ValueError(
                    f"codes.csv row {number}: spelling {spelling!r} of list {name} stands for "
                    f"both {known} and {code}"
                )
            entry["spellings"][normalise(spelling)] = code
    return {
        name: CodeList(
            name,
            tuple(e["codes"]),
            e["htcds"],
            e["labels"],
            e["spellings"],
            e["written"],
        )
        for name, e in gathered.items()
    }


def _eu(path: Path) -> dict[str, tuple[date, date | None]]:
    """eu.csv: ``country, joined, left`` (left: the first day outside the EU, or empty)."""
    out: dict[str, tuple[date, date | None]] = {}
    for row in _rows(path):
        left = date.fromisoformat(row["left"]) if row.get("left") else None
        out[row["country"]] = (date.fromisoformat(row["joined"]), left)
    return out


def _regions(path: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """regions.csv: ``municipality, region``; regions in the order they first appear."""
    regions: dict[str, str] = {}
    order: list[str] = []
    for row in _rows(path):
        regions[region_key(row["municipality"])] = row["region"]
        if row["region"] not in order:
            order.append(row["region"])
    return regions, tuple(order)
