"""Splink comparisons and blocking rules on pseudonymised identifiers only.

Every comparison reads the columns written by :mod:`thbmonitor.pseudonymise` (keyed tokens,
Bloom filters as DuckDB ``BIT``) plus a few derived, non-identifying columns of the linkage
input (see :mod:`thbmonitor.linkage.prepare`): ``birth_year_approx`` (registration date minus
age, in years), ``dob_estimated`` and ``sex`` (``NULL`` when unknown).

Names are compared by the Dice coefficient of their Bloom filters, computed in SQL as
``2 |A & B| / (|A| + |B|)`` (Schnell, Bachteler & Reiher 2009), at several levels, with an
exact-token level carrying a term-frequency adjustment and a level for first and last name
swapped. Birth dates have levels for the errors registrations make: day and month swapped,
a 1 January default, a year off by one, and estimated dates of undocumented minors.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_library as cl
from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

# Dice thresholds of the name levels (measured on the synthetic world: one typo in a name of
# 5-8 letters gives a Dice of 0.70-0.85 on padded bigrams).
DICE_LEVELS: tuple[float, ...] = (0.88, 0.75, 0.6)
SWAP_DICE = 0.8
YEAR_TOLERANCE = 2.0  # years between approximate birth years still "a year off"


def dice_sql(left: str, right: str) -> str:
    """SQL for the Dice coefficient of two BIT columns (``NULL`` when either is missing)."""
    return (
        f"(2.0 * bit_count({left} & {right}) / nullif(bit_count({left}) + bit_count({right}), 0))"
    )


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def name_comparison(part: str, other: str, *, tf: bool = True) -> ComparisonCreator:
    """Levels for one name part (``first`` or ``last``); ``other`` is the other part.

    null | exact token (term-frequency adjusted) | first given name equal (first only) | Dice
    >= each of :data:`DICE_LEVELS` | swapped with the other part | same phonetic code | else.
    """
    tok, bf, obf = f"tok_{part}", f"bf_{part}", f"bf_{other}"
    exact: dict[str, Any] = _level(f"{tok}_l = {tok}_r", "exact")
    if tf:
        exact |= {"tf_adjustment_column": tok, "tf_adjustment_weight": 1.0}
    levels: list[dict[str, Any]] = [
        _level(f"{tok}_l IS NULL OR {tok}_r IS NULL", "null", is_null_level=True),
        exact,
    ]
    if part == "first":
        levels.append(_level("tok_first1_l = tok_first1_r", "first given name equal"))
    dice = dice_sql(f"{bf}_l", f"{bf}_r")
    for t in DICE_LEVELS[:2]:
        levels.append(_level(f"{dice} >= {t}", f"Dice >= {t}"))
    swap = (
        f"{dice_sql(f'{bf}_l', f'{obf}_r')} >= {SWAP_DICE}"
        f" AND {dice_sql(f'{obf}_l', f'{bf}_r')} >= {SWAP_DICE}"
    )
    levels.append(_level(swap, "swapped with the other name"))
    levels.append(_level(f"{dice} >= {DICE_LEVELS[2]}", f"Dice >= {DICE_LEVELS[2]}"))
    levels.append(
        _level(
            f"tok_{part}_sdx_l = tok_{part}_sdx_r OR tok_{part}_nysiis_l = tok_{part}_nysiis_r",
            "same phonetic code",
        )
    )
    levels.append(_level("ELSE", "else"))
    return cl.CustomComparison(
        comparison_levels=levels,
        output_column_name=f"{part}_name",
        comparison_description=f"{part} name: tokens and Bloom-filter Dice",
    )


def birth_date_comparison() -> ComparisonCreator:
    """Levels for the birth date, from its keyed tokens and the approximate birth year.

    null | exact (not 1 January) | exact on a 1 January | day and month swapped | same year
    and month | one side a 1 January default or estimated, same year | same day and month,
    year off by at most :data:`YEAR_TOLERANCE` | one side estimated, year within the tolerance
    | same year | else.
    """
    near = f"abs(birth_year_approx_l - birth_year_approx_r) <= {YEAR_TOLERANCE}"
    soft = "(dob_jan1_l OR dob_jan1_r OR dob_estimated_l OR dob_estimated_r)"
    levels = [
        _level("tok_dob_l IS NULL OR tok_dob_r IS NULL", "null", is_null_level=True),
        _level("tok_dob_l = tok_dob_r AND NOT dob_jan1_l", "exact"),
        _level("tok_dob_l = tok_dob_r", "exact, a 1 January"),
        _level("tok_dob_l = tok_dob_swap_r", "day and month swapped"),
        _level("tok_birth_ym_l = tok_birth_ym_r", "same year and month"),
        _level(f"{soft} AND tok_birth_year_l = tok_birth_year_r", "default date, same year"),
        _level(f"tok_birth_md_l = tok_birth_md_r AND {near}", "year off by one"),
        _level(f"{soft} AND {near}", "default or estimated date, near year"),
        _level("tok_birth_year_l = tok_birth_year_r", "same year"),
        _level("ELSE", "else"),
    ]
    return cl.CustomComparison(
        comparison_levels=levels,
        output_column_name="birth_date",
        comparison_description="birth date: tokens, swaps, defaults, estimates",
    )


def exact_comparison(column: str, *, tf: bool = False) -> ComparisonCreator:
    """Null | exact | else on one token or code column."""
    comparison = cl.ExactMatch(column)
    if tf:
        comparison = comparison.configure(term_frequency_adjustments=True)
    return comparison


OPTIONAL_FIELDS = ("sex", "tok_identity", "nationality_primary")


def person_comparisons(fields: tuple[str, ...] = OPTIONAL_FIELDS) -> list[ComparisonCreator]:
    """The comparisons of the person model: names and birth date, plus the ``fields`` present
    (:data:`OPTIONAL_FIELDS`, or any other token column, compared exactly with a
    term-frequency adjustment; the police register has no nationality)."""
    comparisons = [
        name_comparison("first", "last"),
        name_comparison("last", "first"),
        birth_date_comparison(),
    ]
    for name in fields:
        comparisons.append(exact_comparison(name, tf=name not in ("sex", "tok_identity")))
    return comparisons


def blocking_rules(lsh_bands: int = 0) -> list[BlockingRuleCreator | str]:
    """Blocking rules for prediction, so that two records with two corrupted fields still meet.

    Exact tokens catch clean pairs; phonetic codes with the birth date or its parts catch pairs
    with typos in both names; the swapped-name and swapped-date rules catch those errors; the
    MinHash band keys of the full-name Bloom filter (``lsh_0`` ...) catch what remains.
    """
    rules: list[BlockingRuleCreator | str] = [
        block_on("tok_first", "tok_last"),
        block_on("tok_last", "tok_dob"),
        block_on("tok_first", "tok_dob"),
        block_on("tok_identity"),
        block_on("tok_dob", "tok_first_sdx"),
        block_on("tok_dob", "tok_last_sdx"),
        block_on("tok_dob", "tok_first_nysiis"),
        block_on("tok_dob", "tok_last_nysiis"),
        block_on("tok_first_sdx", "tok_last_sdx", "tok_birth_year"),
        block_on("tok_first", "tok_last_sdx", "sex"),
        block_on("tok_last", "tok_first_sdx", "sex"),
        block_on("tok_first_sdx", "tok_last_sdx", "tok_birth_md"),
        block_on("bf_full"),  # the sorted words of the full name: swapped names meet
        "l.tok_first_sdx = r.tok_last_sdx AND l.tok_last_sdx = r.tok_first_sdx"
        " AND l.tok_birth_year = r.tok_birth_year",
        "l.tok_dob = r.tok_dob_swap AND l.tok_last_sdx = r.tok_last_sdx",
    ]
    rules.extend(block_on(f"lsh_{b}", "sex") for b in range(lsh_bands))
    return rules


def training_rules() -> dict[str, list[BlockingRuleCreator]]:
    """Deterministic rules for the prior and the blocks of the two EM passes."""
    return {
        "deterministic": [
            block_on("tok_first", "tok_last", "tok_dob"),
            block_on("tok_identity"),
        ],
        "em": [block_on("tok_first", "tok_last"), block_on("tok_dob")],
    }
