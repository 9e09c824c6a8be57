"""Splink comparisons and blocking rules on pseudonymised identifiers only.

Every comparison reads the columns written by :mod:`thbmonitor.pseudonymise` (keyed tokens,
Bloom filters as DuckDB ``BIT``) plus a few derived, non-identifying columns of the linkage
input (see :mod:`thbmonitor.linkage.prepare`): ``birth_year_approx`` (the birth year, or the
registration date minus the age at exploitation), ``dob_uncertain`` (a birth date marked as
estimated, or a 1 January; known for registrations only) and ``sex`` (``NULL`` when unknown).

Names are compared by the Dice coefficient of their Bloom filters, computed in SQL as
``2 |A & B| / (|A| + |B|)`` (Schnell, Bachteler & Reiher 2009), at several levels, with an
exact-token level carrying a term-frequency adjustment and a level for first and last name
swapped. Birth dates have levels for the errors registrations make: a 1 January default, a
year off by one, and estimated dates of undocumented minors. Day and month swapped and a wrong
day have none: the tokens they need told the birth date to whoever holds the store without
the key (:func:`birth_date_comparison`).

The comparisons run on DuckDB and on Spark (setting ``engine``). Splink writes its own
comparisons and blocking rules in each engine's SQL; the few expressions of ours that differ
between the two are declared for each in :data:`SQL_FORMS`, side by side, and every function
here takes the ``dialect`` to write. Nothing is translated at run time; a form an engine lacks
is an error (tests/linkage/test_spark_comparisons.py runs every comparison on both engines on
the same pairs and compares the levels).
"""

from __future__ import annotations

from typing import Any, Literal

import splink.comparison_library as cl
from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

from thbmonitor.errors import LinkageError

# Dice thresholds of the name levels (measured on the synthetic world: one typo in a name of
# 5-8 letters gives a Dice of 0.70-0.85 on padded bigrams).
DICE_LEVELS: tuple[float, ...] = (0.88, 0.75, 0.6)
SWAP_DICE = 0.7
YEAR_TOLERANCE = 2.0  # years between approximate birth years still "a year off"

Dialect = Literal["duckdb", "spark"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "spark")

# The expressions of the comparisons whose SQL differs between the engines, in each engine's
# own words ({a} and {b} are the operands). An engine missing from a form cannot run it.
SQL_FORMS: dict[str, dict[str, str]] = {
    # bits set in both of two 64-bit words of Bloom filters: DuckDB holds the words as
    # UBIGINT, Spark (which has no unsigned type) as BIGINT, the same 64 bits read as signed
    # (linkage/exchange.py); both count all 64 bits
    "common_bits": {"duckdb": "bit_count({a} & {b})", "spark": "bit_count({a} & {b})"},
    # bits set in both of two whole Bloom filters: DuckDB's BIT strings; Spark has no bit
    # strings and compares the filters as words only
    "common_bits_whole": {"duckdb": "bit_count({a} & {b})"},
    "bits_set_whole": {"duckdb": "bit_count({a})"},
    # whole days between two dates, either order
    "days_between": {
        "duckdb": "abs(date_diff('day', {a}, {b}))",
        "spark": "abs(datediff({a}, {b}))",
    },
}


def sql_form(name: str, dialect: Dialect, **operands: str) -> str:
    """The expression ``name`` of :data:`SQL_FORMS` in ``dialect``, with its operands."""
    forms = SQL_FORMS[name]
    if dialect not in forms:
        raise LinkageError(
            f"the comparison expression '{name}' has no {dialect} form (it has: {', '.join(forms)})"
        )
    return forms[dialect].format(**operands)


def dice_sql(left: str, right: str, words: int = 0, dialect: Dialect = "duckdb") -> str:
    """SQL for the Dice coefficient of two Bloom filters (``NULL`` when either is missing).

    With ``words = 0`` the columns are DuckDB ``BIT`` (DuckDB only). With ``words > 0`` each
    filter ``x`` is read from the 64-bit words ``x_w0`` ... and its bit count ``x_n`` (made by
    :func:`thbmonitor.linkage.prepare.add_filter_words`), three times faster in DuckDB.
    ``left``/``right`` are then column stems with a suffix, e.g. ``bf_first_l``.
    """
    if not words:
        inter = sql_form("common_bits_whole", dialect, a=left, b=right)
        n_left = sql_form("bits_set_whole", dialect, a=left)
        n_right = sql_form("bits_set_whole", dialect, a=right)
        return f"(2.0 * {inter} / nullif({n_left} + {n_right}, 0))"
    (lbase, lside), (rbase, rside) = left.rsplit("_", 1), right.rsplit("_", 1)
    inter = " + ".join(
        sql_form("common_bits", dialect, a=f"{lbase}_w{i}_{lside}", b=f"{rbase}_w{i}_{rside}")
        for i in range(words)
    )
    return f"(2.0 * ({inter}) / nullif({lbase}_n_{lside} + {rbase}_n_{rside}, 0))"


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def name_comparison(
    part: str, other: str, *, tf: bool = False, words: int = 0, dialect: Dialect = "duckdb"
) -> ComparisonCreator:
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
    dice = dice_sql(f"{bf}_l", f"{bf}_r", words, dialect)
    for t in DICE_LEVELS[:2]:
        levels.append(_level(f"{dice} >= {t}", f"Dice >= {t}"))
    swap = (
        f"{dice_sql(f'{bf}_l', f'{obf}_r', words, dialect)} >= {SWAP_DICE}"
        f" AND {dice_sql(f'{obf}_l', f'{bf}_r', words, dialect)} >= {SWAP_DICE}"
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
        comparison_levels=list[Any](levels),
        output_column_name=f"{part}_name",
        comparison_description=f"{part} name: tokens and Bloom-filter Dice",
    )


def full_name_comparison(*, words: int = 0, dialect: Dialect = "duckdb") -> ComparisonCreator:
    """Levels for first and last name together, so that their agreement is weighed jointly.

    In this domain names come from small pools per nationality, so first and last name agree
    together far more often among different persons than two independent comparisons assume;
    one comparison estimates u for "both exact" directly, with a term-frequency adjustment on
    the full name (a rare name agreeing says more than a common one). Levels: null | both exact
    | swapped | first exact, last similar | last exact, first similar | both similar | one part
    missing, the other exact | first exact, last alike | last exact, first alike | first exact
    only | last exact only | both alike | else; "alike" is Dice >= 0.6 or the same phonetic
    code, which short names with one typo reach (Luna / Luza: Dice 0.6).
    """
    hi, lo = DICE_LEVELS[1], DICE_LEVELS[2]
    df = dice_sql("bf_first_l", "bf_first_r", words, dialect)
    dl = dice_sql("bf_last_l", "bf_last_r", words, dialect)
    f_eq, l_eq = "tok_first_l = tok_first_r", "tok_last_l = tok_last_r"
    swap = (
        f"{dice_sql('bf_first_l', 'bf_last_r', words, dialect)} >= {SWAP_DICE}"
        f" AND {dice_sql('bf_last_l', 'bf_first_r', words, dialect)} >= {SWAP_DICE}"
    )
    missing = (
        "(tok_first_l IS NULL OR tok_first_r IS NULL OR tok_last_l IS NULL OR tok_last_r IS NULL)"
    )
    alike_f = f"({df} >= {lo} OR tok_first_sdx_l = tok_first_sdx_r)"
    alike_l = f"({dl} >= {lo} OR tok_last_sdx_l = tok_last_sdx_r)"
    levels = [
        _level(
            "(tok_first_l IS NULL AND tok_last_l IS NULL)"
            " OR (tok_first_r IS NULL AND tok_last_r IS NULL)",
            "null",
            is_null_level=True,
        ),
        _level(
            "tok_full_l = tok_full_r",  # a 64-bit hash of both tokens (prepare.input_sql)
            "both exact",
            tf_adjustment_column="tok_full",
            tf_adjustment_weight=1.0,
        ),
        _level(swap, "first and last swapped"),
        _level(f"{f_eq} AND {dl} >= {hi}", "first exact, last similar"),
        _level(
            f"{l_eq} AND ({df} >= {hi} OR tok_first1_l = tok_first1_r)",
            "last exact, first similar",
        ),
        _level(f"{df} >= {hi} AND {dl} >= {hi}", "both similar"),
        _level(f"{missing} AND ({f_eq} OR {l_eq})", "one part missing, the other exact"),
        _level(f"{f_eq} AND {alike_l}", "first exact, last alike"),
        _level(f"{l_eq} AND {alike_f}", "last exact, first alike"),
        _level(f_eq, "first exact only"),
        _level(l_eq, "last exact only"),
        _level(f"{alike_f} AND {alike_l}", "both alike"),
        _level("ELSE", "else"),
    ]
    return cl.CustomComparison(
        comparison_levels=list[Any](levels),
        output_column_name="full_name",
        comparison_description="first and last name jointly: tokens and Bloom-filter Dice",
    )


def birth_date_comparison() -> ComparisonCreator:
    """Levels for the birth date, from its keyed tokens and the approximate birth year.

    null (no date and no age on one side) | no date on one side, approximate birth years
    (birth year, or record date minus age) within :data:`YEAR_TOLERANCE` | no date on one
    side, ages differ | exact (neither side uncertain) | exact, an estimate or a 1 January |
    one side uncertain, same year | same day and month, year off by at most
    :data:`YEAR_TOLERANCE` | one side uncertain, year within the tolerance | same year | else.
    A birth date is uncertain when it is marked as estimated or is a 1 January (a common
    default); only registrations say so.

    There is no "same year and month" level (a wrong day) and no "day and month swapped"
    level: whatever the linkage can compare without the key, so can whoever holds the store.
    The year-and-month token, shared by everyone born in one month, gave away the birth month
    of every registration; the swapped-date token, equal to the date token of whoever was born
    on the swapped date, then pinned the exact date of everyone with such a partner
    (benchmarks/bench_store_exposure.py, seed 11, scale 1, 12,772 registrations with a birth
    date: with both tokens 4,434 exact, median window 26 days; with the swap token alone 62
    exact, 339 within a week, median 128 days; with neither none exact, 26 within a week,
    median 141 days). They bought little (benchmarks/bench_linkage.py at scale 1: pair F1
    0.9819 with both levels and their blocking rule, 0.9816 without; with a wrong day in 10% of
    the registrations 0.9731 with the year-and-month level, 0.9688 without; police-register
    recall 0.8013 with the swap level and prefilter key, 0.7965 without). Such pairs fall to
    "same year" and the names decide.
    """
    near = f"abs(birth_year_approx_l - birth_year_approx_r) <= {YEAR_TOLERANCE}"
    soft = "(dob_uncertain_l OR dob_uncertain_r)"
    no_date = "(tok_dob_l IS NULL OR tok_dob_r IS NULL)"
    levels = [
        _level(
            f"{no_date} AND (birth_year_approx_l IS NULL OR birth_year_approx_r IS NULL)",
            "null",
            is_null_level=True,
        ),
        _level(f"{no_date} AND {near}", "no date on one side, ages agree"),
        _level(no_date, "no date on one side, ages differ"),
        _level("tok_dob_l = tok_dob_r AND NOT (dob_uncertain_l OR dob_uncertain_r)", "exact"),
        _level("tok_dob_l = tok_dob_r", "exact, an estimate or a 1 January"),
        _level(f"{soft} AND tok_birth_year_l = tok_birth_year_r", "default date, same year"),
        _level(f"tok_birth_md_l = tok_birth_md_r AND {near}", "year off by one"),
        _level(f"{soft} AND {near}", "default or estimated date, near year"),
        _level("tok_birth_year_l = tok_birth_year_r", "same year"),
        _level("ELSE", "else"),
    ]
    return cl.CustomComparison(
        comparison_levels=list[Any](levels),
        output_column_name="birth_date",
        comparison_description="birth date: tokens, defaults, estimates",
    )


def exact_comparison(column: str, *, tf: bool = False) -> ComparisonCreator:
    """Null | exact | else on one token or code column."""
    comparison: ComparisonCreator = cl.ExactMatch(column)
    if tf:
        comparison = comparison.configure(term_frequency_adjustments=True)
    return comparison


OPTIONAL_FIELDS = ("sex", "tok_identity", "nationality_primary", "municipality", "record_date")


def record_date_comparison(dialect: Dialect = "duckdb") -> ComparisonCreator:
    """Days between the two registrations: a person is often reported by several
    organisations within weeks (police refer to care, the border police to the police).

    null | within 31 days | within a year | else.
    """
    gap = sql_form("days_between", dialect, a="record_date_l", b="record_date_r")
    levels = [
        _level("record_date_l IS NULL OR record_date_r IS NULL", "null", is_null_level=True),
        _level(f"{gap} <= 31", "within 31 days"),
        _level(f"{gap} <= 365", "within a year"),
        _level("ELSE", "else"),
    ]
    return cl.CustomComparison(
        comparison_levels=list[Any](levels),
        output_column_name="record_date",
        comparison_description="days between the registrations",
    )


def person_comparisons(
    fields: tuple[str, ...] = OPTIONAL_FIELDS, words: int = 0, dialect: Dialect = "duckdb"
) -> list[ComparisonCreator]:
    """The comparisons of the person model: names and birth date, plus the ``fields`` present
    (:data:`OPTIONAL_FIELDS`, or any other token column, compared exactly with a
    term-frequency adjustment; the police register has no nationality), in ``dialect``."""
    comparisons = [full_name_comparison(words=words, dialect=dialect), birth_date_comparison()]
    for name in fields:
        if name == "record_date":
            comparisons.append(record_date_comparison(dialect))
        else:
            comparisons.append(exact_comparison(name, tf=name not in ("sex", "tok_identity")))
    return comparisons


def blocking_rules(lsh_bands: int = 0) -> list[BlockingRuleCreator | str]:
    """Blocking rules for prediction, so that two records with two corrupted fields still meet.

    Names repeat often (each nationality has a small pool of common names), so every rule
    pairs a name key with a part of the birth date or the identity number; name-only keys are
    used only when one side has no birth date. Exact tokens catch clean pairs; phonetic codes
    with the birth date or its parts catch typos in both names; swapped names have their own
    rules; MinHash band keys of the name Bloom filters (see
    :mod:`.prepare`) catch typos that change the phonetic code.
    """
    no_dob = "(l.tok_dob IS NULL OR r.tok_dob IS NULL)"
    rules: list[BlockingRuleCreator | str] = [
        block_on("tok_first", "tok_last", "tok_birth_year"),
        block_on("tok_first", "tok_last", "tok_birth_md"),
        f"l.tok_first = r.tok_first AND l.tok_last = r.tok_last AND {no_dob}",
        block_on("tok_last", "tok_dob"),
        block_on("tok_first", "tok_dob"),
        block_on("tok_identity"),
        block_on("tok_dob", "tok_first_sdx"),
        block_on("tok_dob", "tok_last_sdx"),
        block_on("tok_dob", "tok_first_nysiis"),
        block_on("tok_dob", "tok_last_nysiis"),
        block_on("tok_first_sdx", "tok_last_sdx", "tok_birth_year"),
        block_on("tok_first_sdx", "tok_last_sdx", "tok_birth_md"),
        block_on("bf_full_key", "tok_birth_year"),  # sorted words of the full name: swaps meet
        "l.tok_first_sdx = r.tok_last_sdx AND l.tok_last_sdx = r.tok_first_sdx"
        " AND l.tok_birth_year = r.tok_birth_year",
        "l.tok_dob = r.tok_dob AND l.tok_first_sdx = r.tok_last_sdx",
        "l.tok_dob = r.tok_dob AND l.tok_last_sdx = r.tok_first_sdx",
    ]
    for b in range(lsh_bands):
        rules += [
            block_on("tok_dob", f"lsh_{b}"),  # birth date exact, full name similar
            block_on("tok_birth_md", f"lshf_{b}", f"lshl_{b}"),  # year wrong, names similar
            block_on("tok_birth_year", f"lshf_{b}", f"lshl_{b}"),  # day or month wrong
            f"l.tok_first = r.tok_first AND l.lshl_{b} = r.lshl_{b} AND {no_dob}",
            f"l.tok_last = r.tok_last AND l.lshf_{b} = r.lshf_{b} AND {no_dob}",
        ]
    return rules


def dedupe_rules() -> list[BlockingRuleCreator | str]:
    """More blocking rules for deduplication only: one name exact while the other name and the
    birth year are both noisy; with no birth date on one side but ages that agree
    (:data:`YEAR_TOLERANCE`), one name exact or both names swapped. On the scale-25 world these
    found 1,100 true pairs the other rules missed (pair recall 0.953 -> 0.958); in a police
    register of millions such keys meet too many strangers to be worth it.
    """
    no_dob = "(l.tok_dob IS NULL OR r.tok_dob IS NULL)"
    ages = f"abs(l.birth_year_approx - r.birth_year_approx) <= {YEAR_TOLERANCE}"
    return [
        block_on("tok_first", "tok_birth_md"),
        block_on("tok_last", "tok_birth_md"),
        f"l.tok_first = r.tok_first AND {no_dob} AND {ages}",
        f"l.tok_last = r.tok_last AND {no_dob} AND {ages}",
        f"l.tok_first_sdx = r.tok_last_sdx AND l.tok_last_sdx = r.tok_first_sdx AND {no_dob}"
        f" AND {ages}",
    ]


def training_rules() -> dict[str, list[Any]]:
    """Deterministic rules for the prior and the blocks of the two EM passes."""
    return {
        "deterministic": [
            block_on("tok_first", "tok_last", "tok_dob"),
            block_on("tok_identity"),
        ],
        # Names repeat often in this domain (a small pool per nationality), so an EM block on
        # names alone is mostly non-matches and EM can settle on "same name" as the match
        # class; the identity number and the birth date make blocks that are mostly matches.
        # The identity block trains names and birth date on pairs that are nearly all the
        # same person; a birth-date block would mix in same-day strangers with similar names
        # and make a name mismatch look common among matches. The second block (full name
        # and birth date) trains the identity number and the other fields.
        "em": [block_on("tok_identity"), block_on("tok_first", "tok_last", "tok_dob")],
    }
