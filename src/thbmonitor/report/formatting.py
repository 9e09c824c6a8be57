"""Numbers and cells as readers see them: thousands separators and decimal marks per language.

English writes 1,334 and 12.5; Dutch writes 1.334 and 12,5. Halves are rounded away from
zero, as in statistical tables and spreadsheets (so the HTML agrees with Excel's display).
Counts get thousands separators, percentages one decimal, other floats the decimals their
column needs (at most three, or what :attr:`Table.decimals` says). Disclosure markers
(``<10``, ``x``, ``–``, ``.``) pass unchanged. Years never get a thousands separator.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

LANGUAGES = ("en", "nl")
MARKERS = ("<10", "x", "–", ".")
NOT_AVAILABLE = "."
MAX_DECIMALS = 3

_SEPARATORS = {"en": (",", "."), "nl": (".", ",")}  # (thousands, decimal)


def is_percent_column(name: object) -> bool:
    """True if a column's name says it holds percentages (ends in ``_pct`` or ``(%)``)."""
    text = str(name).strip().lower()
    return text.endswith("_pct") or text.endswith("(%)") or text == "pct"


def is_year_column(name: object) -> bool:
    """True if a column holds years or cohorts (printed without thousands separators)."""
    text = str(name).strip().lower()
    return any(word in text for word in ("year", "jaar", "cohort"))


def is_missing(value: object) -> bool:
    """True for None and float NaN (pandas NA included)."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return value is pd.NA or value is pd.NaT


def is_number(value: object) -> bool:
    """True for real numbers (ints, floats, numpy scalars) but not for booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def round_half_away(value: float, decimals: int = 0) -> Decimal:
    """Round as statistical tables and spreadsheets do: halves away from zero (2.5 -> 3).

    The number's shortest decimal form is rounded, so 2.675 gives 2.68 although its binary
    value is slightly below 2.675.
    """
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def is_interval(value: object) -> TypeGuard[tuple[Any, Any]]:
    """True for a table cell holding an interval: a pair of numbers ``(lower, upper)``."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(is_number(v) or is_missing(v) for v in value)
    )


def interval_parts(values: Iterable[Any]) -> list[Any]:
    """The values of a column with intervals unpacked (for choosing decimals)."""
    return [part for v in values for part in (v if is_interval(v) else (v,))]


def format_number(value: float, lang: str, decimals: int = 0, grouping: bool = True) -> str:
    """Format a number with ``decimals`` decimals in ``lang`` (``en``: 1,334.5; ``nl``: 1.334,5)."""
    thousands, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    number = float(value)
    if math.isfinite(number) and abs(number) < 1e15:
        rounded: Decimal | float = round_half_away(number, decimals)
    else:  # beyond 15 digits there are no halves to round
        rounded = number
    if rounded == 0:
        rounded = 0.0 if isinstance(rounded, float) else abs(rounded)  # no "-0.0"
    text = f"{rounded:,.{decimals}f}" if grouping else f"{rounded:.{decimals}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def format_count(value: float, lang: str) -> str:
    """A count with thousands separators: ``1,334`` (en) or ``1.334`` (nl)."""
    return format_number(value, lang, 0)


def format_percent(value: float, lang: str, sign: bool = False) -> str:
    """A percentage with one decimal: ``12.5`` (en) or ``12,5`` (nl); ``sign`` appends ``%``."""
    text = format_number(value, lang, 1)
    return f"{text}%" if sign else text


def column_decimals(values: Iterable[object], fixed: int | None = None) -> int:
    """Decimals a float column needs: the fewest (up to three) that show every value exactly."""
    if fixed is not None:
        return fixed
    needed = 0
    for value in values:
        if not is_number(value) or is_missing(value):
            continue
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            continue
        for places in range(MAX_DECIMALS + 1):
            if abs(round(number, places) - number) < 1e-9 * max(1.0, abs(number)):
                needed = max(needed, places)
                break
        else:
            needed = MAX_DECIMALS
    return needed


def format_cell(
    value: Any, lang: str, column: object = "", decimals: int | None = None
) -> tuple[str, str]:
    """Render one table cell; returns ``(text, kind)`` with kind ``num``, ``marker`` or ``text``.

    Missing values (None, NaN) are shown as ``.`` (not available): a protected frame should
    not hold them, but a blank cell would be read as zero. A pair ``(lower, upper)`` is an
    interval, shown as ``lower–upper`` with the column's number format.
    """
    if is_interval(value):
        lower, upper = value
        if is_missing(lower) or is_missing(upper):
            return NOT_AVAILABLE, "marker"
        low_text = format_cell(lower, lang, column, decimals)[0]
        return f"{low_text}–{format_cell(upper, lang, column, decimals)[0]}", "num"
    if isinstance(value, str):
        text = value.strip()
        return (text, "marker") if text in MARKERS else (value, "text")
    if is_missing(value):
        return NOT_AVAILABLE, "marker"
    if not is_number(value):
        return str(value), "text"
    number = float(value)
    if not math.isfinite(number):
        return NOT_AVAILABLE, "marker"
    if is_year_column(column):  # years, or durations in years: never grouped
        if number.is_integer():
            return str(int(number)), "num"
        places = column_decimals([value]) if decimals is None else decimals
        return format_number(number, lang, places, grouping=False), "num"
    if is_percent_column(column):
        return format_number(number, lang, 1 if decimals is None else decimals), "num"
    if isinstance(value, numbers.Integral):
        return format_count(number, lang), "num"
    places = column_decimals([value]) if decimals is None else decimals
    return format_number(number, lang, places), "num"


def format_value(value: Any, lang: str, key: str = "") -> str:
    """Render a headline or chart figure: counts grouped, ``*_pct`` keys as percentages.

    A mapping with ``value`` and optionally ``lower``/``upper`` gives ``value (lower–upper)``.
    """
    if isinstance(value, dict):
        if "value" not in value:
            return ""
        main = format_value(value["value"], lang, key)
        lower, upper = value.get("lower"), value.get("upper")
        if is_number(lower) and is_number(upper) and not (is_missing(lower) or is_missing(upper)):
            return f"{main} ({format_value(lower, lang, key)}–{format_value(upper, lang, key)})"
        return main
    if isinstance(value, str):
        return value
    if value is None or is_missing(value) or not is_number(value):
        return NOT_AVAILABLE if (value is None or is_missing(value)) else str(value)
    if is_percent_column(key):
        return format_percent(float(value), lang, sign=True)
    if is_year_column(key):
        return str(value)
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return format_count(float(value), lang)
    return format_number(float(value), lang, max(1, column_decimals([value])))
