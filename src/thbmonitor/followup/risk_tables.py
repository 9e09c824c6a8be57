"""The follow-up chapter's risk-factor tables: the cause-specific Cox model and Fine-Gray.

Each returns the report table (or ``None`` when the model was not fitted) and its part of
results.json; notes say which covariates lost levels without events (never a count) and why
Fine-Gray could not be fitted, when it could not.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from thbmonitor.followup.analysis import FollowUpResult
from thbmonitor.report.model import Table, Text

__all__ = ["competing_table", "risk_table"]


def risk_table(found: FollowUpResult, source: Text) -> tuple[Table | None, dict[str, Any]]:
    """Cause-specific Cox model of the time to re-victimisation, with the PH check."""
    summary = found.risk
    if summary.empty:
        return None, {}
    table = _ratio_frame(summary).assign(ph_test_p=summary["ph_p"].map(lambda p: f"{p:.3g}"))
    note = Text(
        f"Cause-specific Cox proportional-hazards model on {found.n_cohort:,} persons; "
        f"concordance {found.concordance:.2f}. Reference levels: adult, female, NL, "
        "criminal exploitation. The last column tests proportional hazards (Schoenfeld "
        "residuals, rank time); a small p-value means the hazard ratio changes over time.",
        f"Cause-specifiek Cox-model op {found.n_cohort:,} personen; concordantie "
        f"{found.concordance:.2f}. Referentie: volwassen, vrouw, NL, criminele uitbuiting. "
        "De laatste kolom toetst proportionele hazards (Schoenfeld-residuen); een kleine "
        "p-waarde betekent dat de hazard ratio in de tijd verandert.",
    )
    left_out = _left_out(found.risk_dropped, found.min_level)
    note = Text(note.en + left_out.en, note.nl + left_out.nl)
    failure = _competing_failure(found)
    if failure is not None:
        note = Text(f"{note.en} {failure.en}", f"{note.nl} {failure.nl}")
    t = Table(
        "followup_risk_factors",
        Text(
            "Risk factors for re-victimisation (Cox model)",
            "Risicofactoren voor hernieuwd slachtofferschap (Cox-model)",
        ),
        table,
        source,
        note=note,
        columns={
            "covariate": Text("Covariate", "Kenmerk"),
            "hazard_ratio": Text("Hazard ratio", "Hazard ratio"),
            "ci_95": Text("95% interval", "95%-interval"),
            "p_value": Text("p-value", "p-waarde"),
            "ph_test_p": Text("PH test p", "PH-toets p"),
        },
        legend=False,
    )
    return t, _ratio_results(summary)


def _left_out(dropped: dict[str, dict[str, int]], threshold: int) -> Text:
    """The sentence that levels were left out of a model: the covariates, never the levels
    nor why each one went (without any event, or too small to publish), so that a missing
    small level does not tell that none of its persons had an event."""
    if not dropped:
        return Text("", "")
    names = ", ".join(f"'{c}'" for c in dropped)
    small_en = f" with fewer than {threshold} persons or" if threshold > 1 else ""
    small_nl = f" met minder dan {threshold} personen of" if threshold > 1 else ""
    return Text(
        f" Levels of {names}{small_en} without any new victim event are left out (no ratio "
        "is shown for them).",
        f" Niveaus van {names}{small_nl} zonder enige nieuwe slachtofferregistratie zijn "
        "weggelaten (er staat geen ratio voor).",
    )


def _competing_failure(found: FollowUpResult) -> Text | None:
    """The sentence that says Fine-Gray could not be fitted, and why (None when it was)."""
    if not found.risk_competing_failure:
        return None
    reason = found.risk_competing_failure.rstrip(".")
    return Text(
        "The Fine-Gray model of the cumulative incidence (subdistribution hazards) could not be "
        f"fitted on these data ({reason}); only the cause-specific Cox model is shown.",
        "Het Fine-Gray-model van de cumulatieve incidentie (subdistributie-hazards) kon op deze "
        f"gegevens niet worden geschat (melding van de schatter: {reason}); alleen het "
        "cause-specifieke Cox-model wordt getoond.",
    )


def competing_table(found: FollowUpResult, source: Text) -> tuple[Table | None, dict[str, Any]]:
    """Fine-Gray subdistribution hazard ratios of re-victimisation, and the results.json part."""
    summary = found.risk_competing
    status: dict[str, Any] = {
        "fitted": not summary.empty,
        "failure": found.risk_competing_failure or None,
        "levels_left_out": {k: v["levels"] for k, v in found.risk_competing_dropped.items()},
    }
    if summary.empty:
        return None, {"followup_competing_model": status}
    table = _ratio_frame(summary)
    note_en = (
        "Fine-Gray model of the subdistribution hazard of re-victimisation, with death and "
        "emigration as competing events; standard errors as R cmprsk::crr (sandwich that "
        "accounts for the estimated censoring distribution). A ratio above 1 means a larger "
        "share re-victimised within t years. Reference levels as in the Cox model."
    )
    note_nl = (
        "Fine-Gray-model van de subdistributie-hazard van hernieuwd slachtofferschap, met "
        "overlijden en emigratie als concurrerende gebeurtenissen; standaardfouten als R "
        "cmprsk::crr (sandwich die rekening houdt met de geschatte censureringsverdeling). Een "
        "ratio boven 1 betekent dat een groter aandeel binnen t jaar opnieuw slachtoffer wordt. "
        "Referentieniveaus als in het Cox-model."
    )
    left_out = _left_out(found.risk_competing_dropped, found.min_level)
    note_en, note_nl = note_en + left_out.en, note_nl + left_out.nl
    t = Table(
        "followup_risk_factors_competing",
        Text(
            "Risk factors for re-victimisation, deaths and emigrations competing (Fine-Gray)",
            "Risicofactoren voor hernieuwd slachtofferschap, met overlijden en emigratie als "
            "concurrerende gebeurtenissen (Fine-Gray)",
        ),
        table,
        source,
        note=Text(note_en, note_nl),
        columns={
            "covariate": Text("Covariate", "Kenmerk"),
            "hazard_ratio": Text("Subdistribution hazard ratio", "Subdistributie-hazard ratio"),
            "ci_95": Text("95% interval", "95%-interval"),
            "p_value": Text("p-value", "p-waarde"),
        },
        legend=False,
    )
    return t, {
        "followup_risk_factors_competing": _ratio_results(summary),
        "followup_competing_model": status,
    }


def _ratio_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The shown columns of a hazard-ratio summary: ratio, 95% interval and p-value."""
    intervals = zip(summary["lower"], summary["upper"], strict=True)
    return pd.DataFrame(
        {
            "covariate": summary["covariate"],
            "hazard_ratio": summary["hazard_ratio"].round(2),
            "ci_95": [f"{lo:.2f}–{hi:.2f}" for lo, hi in intervals],
            "p_value": summary["p"].map(lambda p: f"{p:.3g}"),
        }
    )


def _ratio_results(summary: pd.DataFrame) -> dict[str, Any]:
    """results.json's part of a hazard-ratio summary: ratio and interval per covariate."""
    return {
        str(row["covariate"]): {
            "hazard_ratio": float(row["hazard_ratio"]),
            "lower": float(row["lower"]),
            "upper": float(row["upper"]),
        }
        for _, row in summary.iterrows()
    }
