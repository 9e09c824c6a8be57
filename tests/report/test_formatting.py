"""Number formatting per language, checked against CLDR through Babel."""

from __future__ import annotations

import math

import numpy as np
import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from thbmonitor.report.formatting import (
    column_decimals,
    format_cell,
    format_count,
    format_number,
    format_percent,
    format_value,
    is_percent_column,
    round_half_away,
)

LOCALES = {"en": "en_GB", "nl": "nl_NL"}


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1334, "en", "1,334"),
        (1334, "nl", "1.334"),
        (1234567, "nl", "1.234.567"),
        (999, "nl", "999"),
        (0, "en", "0"),
    ],
)
def test_counts_have_thousands_separators(value: int, lang: str, expected: str) -> None:
    """Expected strings are CLDR's: babel.numbers.format_decimal(value, locale='en_GB'/'nl_NL')."""
    assert format_count(value, lang) == expected
    assert format_decimal(value, locale=LOCALES[lang]) == expected


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [(12.5, "en", "12.5"), (12.5, "nl", "12,5"), (90.0, "nl", "90,0"), (1234.56, "nl", "1.234,6")],
)
def test_percentages_have_one_decimal(value: float, lang: str, expected: str) -> None:
    """CLDR: format_decimal(value, format='#,##0.0', locale=...) gives the same strings."""
    assert format_percent(value, lang) == expected
    assert format_decimal(value, format="#,##0.0", locale=LOCALES[lang]) == expected
    assert format_percent(value, lang, sign=True) == expected + "%"


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["en", "nl"]),
)
def test_format_number_matches_cldr(value: float, decimals: int, lang: str) -> None:
    """Any number, 0-3 decimals: equal to Babel's CLDR pattern '#,##0.00' for en_GB and nl_NL.

    Both sides get the value already rounded half away from zero (Babel itself would round
    half-even), so this compares separators, grouping and signs with CLDR. A value that rounds
    to zero is shown as 0, never -0.
    """
    shown = round_half_away(value, decimals)
    shown = abs(shown) if shown == 0 else shown
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    expected = format_decimal(shown, format=pattern, locale=LOCALES[lang])
    assert format_number(value, lang, decimals) == expected.replace("−", "-")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(6012.5, 0, "6,013"), (2.5, 0, "3"), (-2.5, 0, "-3"), (2.675, 2, "2.68"), (0.125, 2, "0.13")],
)
def test_halves_round_away_from_zero_like_excel(value: float, decimals: int, expected: str) -> None:
    """Excel's display of these values with '#,##0' / '0.00' formats (ROUND half away from zero;
    Excel shows =2.675 as 2.68): the HTML must read as the XLSX does, not half-even like round().
    """
    assert format_number(value, "en", decimals) == expected


def test_markers_and_text_pass_unchanged() -> None:
    for marker in ("<10", "x", "–", "."):
        assert format_cell(marker, "nl", "victims") == (marker, "marker")
    assert format_cell("labour exploitation", "en", "form") == ("labour exploitation", "text")
    assert format_cell(math.nan, "en", "victims") == (".", "marker")
    assert format_cell(None, "en", "victims") == (".", "marker")


def test_years_never_get_separators_and_percent_columns_one_decimal() -> None:
    assert format_cell(2023, "nl", "year") == ("2023", "num")
    assert format_cell(0.5, "nl", "years_after_entry") == ("0,5", "num")
    assert format_cell(np.int64(2023), "en", "cohort_year") == ("2023", "num")
    assert format_cell(17, "nl", "women_pct") == ("17,0", "num")
    assert format_cell(np.int64(1334), "nl", "victims") == ("1.334", "num")
    assert is_percent_column("Women (%)") and is_percent_column("women_pct")
    assert not is_percent_column("victims")


def test_column_decimals_are_the_fewest_that_show_every_value() -> None:
    assert column_decimals([1.0, 2.5, "<10"]) == 1
    assert column_decimals([12.3456, 10.1]) == 3  # capped at three
    assert column_decimals([1, 2, 3]) == 0
    assert column_decimals([1.25], fixed=1) == 1


def test_headline_values() -> None:
    assert format_value(np.int64(1334), "nl") == "1.334"
    assert format_value(90.0, "nl", "women_pct") == "90,0%"
    interval = {"value": 6012.5, "lower": 5100.0, "upper": 7300.0}
    assert format_value(interval, "en") == "6,012.5 (5,100–7,300)"
    assert format_value(interval, "nl") == "6.012,5 (5.100–7.300)"
    assert format_value(None, "en") == "."


def test_locales_have_the_same_strings_in_both_languages() -> None:
    """Every fixed UI string exists, non-empty, in English and Dutch, with the same fields."""
    import string

    from thbmonitor.report.page import locale

    en, nl = locale("en"), locale("nl")
    assert en.keys() == nl.keys()
    for key in en:
        assert en[key].strip() and nl[key].strip(), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(t[key]) if f} for t in (en, nl)]
        assert fields[0] == fields[1], key


def test_every_ui_string_used_is_defined() -> None:
    """Keys used as ui["..."] in the renderers or ui.key in the template exist in the locale."""
    import re
    from importlib import resources

    from thbmonitor.report.page import locale

    package = resources.files("thbmonitor.report")
    modules = ("page.py", "charts.py", "workbook.py")
    code = "".join(package.joinpath(name).read_text("utf-8") for name in modules)
    template = package.joinpath("templates/report.html.j2").read_text("utf-8")
    used = set(re.findall(r"ui\[['\"](\w+)['\"]\]", code)) | set(re.findall(r"ui\.(\w+)", template))
    assert used and used <= locale("en").keys()
