"""The registration form's fields, built from the registrations file's layout.

The form does no validation of its own: what it posts goes through the same validation as
``ingest`` (:mod:`.intake`), whose problems are shown next to their fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.http import QueryDict

from thbmonitor.errors import Problem
from thbmonitor.registry.intake import IDENTIFYING
from thbmonitor.registry.texts import code_label, field_label, page, reason
from thbmonitor.schema import HELP_FLAGS, MULTI_SEPARATOR, REGISTRATION_FIELDS, Field

OTHER_FORMS = "forms_of_exploitation_more"
REGISTRATION = (
    "registration_id",
    "registration_date",
    "sex",
    "nationality",
    "residence_status",
    "municipality",
    "forms_of_exploitation",
    "sector",
    "age_at_exploitation",
)
HELP = HELP_FLAGS
IDENTIFIERS = (
    "first_names",
    "last_name",
    "date_of_birth",
    "date_of_birth_estimated",
    "identity_number",
)


@dataclass
class Input:
    """One control of the form, ready for the template."""

    name: str
    label: str
    kind: str  # text, date, number, select, checkboxes
    value: str = ""
    values: tuple[str, ...] = ()
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    required: bool = False
    autocomplete: str = "off"

    @property
    def id(self) -> str:
        return f"id_{self.name}"


def _spec(f: Field) -> tuple[str, list[tuple[str, str]]]:
    if f.kind == "date":
        return "date", []
    if f.kind == "int":
        return "number", []
    if f.kind in ("code", "codes"):
        return "select", [(c, c) for c in f.codes]
    if f.kind == "bool":
        return "select", [("1", "yes"), ("0", "no")]
    return "text", []


def build(
    values: Mapping[str, str], problems: tuple[Problem, ...], lang: str
) -> dict[str, list[Input]]:
    """The form's fieldsets, filled with ``values`` and the problems next to their fields."""
    by_name = {f.name: f for f in REGISTRATION_FIELDS}
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.field, []).append(reason(p.reason, lang))
    inputs: dict[str, Input] = {}
    for name in (*REGISTRATION, *IDENTIFIERS, *HELP):
        f = by_name[name]
        kind, options = _spec(f)
        labelled = [("", page("choose", lang))] + [
            (v, page(label, lang) if f.kind == "bool" else code_label(v, lang))
            for v, label in options
        ]
        inputs[name] = Input(
            name,
            field_label(name, lang),
            kind,
            values.get(name, ""),
            options=labelled if kind == "select" else [],
            errors=errors.get(name, []),
            required=f.required and name != "registration_id",
        )
    forms = by_name["forms_of_exploitation"]
    chosen = [c for c in values.get("forms_of_exploitation", "").split(MULTI_SEPARATOR) if c]
    inputs["forms_of_exploitation"].value = chosen[0] if chosen else ""
    inputs[OTHER_FORMS] = Input(
        OTHER_FORMS,
        page("other_forms", lang),
        "checkboxes",
        values=tuple(chosen[1:]),
        options=[(c, code_label(c, lang)) for c in forms.codes],
    )
    return {
        "registration": [inputs[n] for n in REGISTRATION[:7]]
        + [inputs[OTHER_FORMS]]
        + [inputs[n] for n in REGISTRATION[7:]],
        "identifiers": [inputs[n] for n in IDENTIFIERS],
        "help": [inputs[n] for n in HELP],
    }


def posted(data: QueryDict) -> dict[str, str]:
    """The posted form as the text of a registrations file's row."""
    values = {f.name: data.get(f.name, "").strip() for f in REGISTRATION_FIELDS}
    values.pop("reporting_organisation")
    main = values.get("forms_of_exploitation", "")
    more = [c for c in data.getlist(OTHER_FORMS) if c and c != main]
    values["forms_of_exploitation"] = MULTI_SEPARATOR.join([main, *more] if main else more)
    return values


def identifiers_given(values: Mapping[str, str]) -> bool:
    return any(values.get(n) for n in IDENTIFYING)
