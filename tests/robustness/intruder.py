"""An intruder who holds the monitoring store but not the key: what birth dates can they read?

They know how thbmonitor builds the store (the source is public) and use every column of it:

* a date next to an exact age (``age_at_registration``, ``age_at_event``; store format 1) puts
  the birth date in a window of one year; next to an age band (minor, 18-22, 23+) in a window
  as wide as the band; a resident record at age 0 dated at birth gives the date itself;
* ``birth_year`` (format 2) puts it in its calendar year;
* every record sharing ``tok_dob`` has the same birth date: their windows intersect;
* every record sharing ``tok_birth_md`` has the same day and month: once a person's window lies
  in one calendar year, it bounds the day and month of everyone in that group;
* every record sharing ``tok_birth_ym`` (format 3) was born in the same month of the same year:
  the months its windows allow intersect;
* a record whose ``tok_dob_swap`` (formats 3 and 4) is another's ``tok_dob`` was born on that
  one's birth date with day and month swapped: each window bounds the other.

The groups narrow each other, so all are applied in turn until nothing changes (at most
:data:`ROUNDS` rounds).

:func:`birth_date_windows` returns, per registration, the set of birth dates left (as the first
and last possible day, and its width in days); :func:`summary` measures it against the truth.
Only store contents are used; the truth (the input file's birth dates) only scores the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from thbmonitor.engine import Store

BANDS = {"minor": (0, 17), "18-22": (18, 22), "23+": (23, 120)}
_EPOCH = pd.Timestamp("2000-01-01")  # a leap year: every day and month has an index
ROUNDS = 6
OLD_TOKENS = ("tok_birth_ym", "tok_dob_swap")  # store formats 3 and 4 (3 only: tok_birth_ym)


def _columns(store: Store, table: str) -> set[str]:
    return {str(r[0]) for r in store.rows(f"DESCRIBE {table}")}


def _records(store: Store) -> pd.DataFrame:
    """Every record with a birth-date token: its date and what it says of the age."""
    parts = []
    for table, date, extra in (
        ("registrations", "registration_date", ("age_band", "age_at_registration")),
        ("police_events", "event_date", ("age_at_event",)),
        ("population_events", "event_date", ("age_at_event", "event_type")),
    ):
        cols = _columns(store, table)
        wanted = [c for c in ("birth_year", *OLD_TOKENS, *extra) if c in cols]
        select = ", ".join(["tok_dob", "tok_birth_md", f"{date} AS record_date", *wanted])
        key = "registration_id" if table == "registrations" else "NULL"
        frame = store.df(
            f"SELECT {key} AS registration_id, {select} FROM {table} WHERE tok_dob IS NOT NULL"
        )
        parts.append(frame.assign(source=table))
    out = pd.concat(parts, ignore_index=True)
    out["record_date"] = pd.to_datetime(out["record_date"])
    for column in OLD_TOKENS:  # none in a store of the current format: none shared
        if column not in out:
            out[column] = None
    return out


def _windows(records: pd.DataFrame) -> pd.DataFrame:
    """First and last possible birth date that each record on its own allows."""
    n = len(records)
    lo = pd.Series(pd.Timestamp("1890-01-01"), index=records.index)
    hi = pd.Series(pd.Timestamp("2100-12-31"), index=records.index)
    date = records["record_date"]

    def age_window(ages_lo: pd.Series, ages_hi: pd.Series, mask: pd.Series) -> None:
        """Age in [a_lo, a_hi] at ``date``: born after date - (a_hi + 1) years, by date - a_lo."""
        for i in np.flatnonzero(mask.to_numpy()):
            d = date.iat[i]
            a0, a1 = int(ages_lo.iat[i]), int(ages_hi.iat[i])
            first = d - pd.DateOffset(years=a1 + 1) + pd.Timedelta(days=1)
            last = d - pd.DateOffset(years=a0)
            lo.iat[i] = max(lo.iat[i], first)
            hi.iat[i] = min(hi.iat[i], last)

    if "birth_year" in records:
        year = records["birth_year"]
        known = year.notna()
        lo[known] = pd.to_datetime(year[known].astype(int).astype(str) + "-01-01")
        hi[known] = pd.to_datetime(year[known].astype(int).astype(str) + "-12-31")
    for column in ("age_at_registration", "age_at_event"):
        if column in records:
            age = pd.to_numeric(records[column], errors="coerce")
            age_window(age, age, age.notna() & date.notna())
    if "age_band" in records:
        band = records["age_band"].map(BANDS)
        has = band.notna() & date.notna()
        a_lo = band.map(lambda b: b[0] if isinstance(b, tuple) else 0)
        a_hi = band.map(lambda b: b[1] if isinstance(b, tuple) else 0)
        age_window(a_lo, a_hi, has)
    if "event_type" in records and "age_at_event" in records:
        # a resident from birth: the record is dated at birth
        at_birth = (records["event_type"] == "resident") & (records["age_at_event"] == 0)
        lo[at_birth & date.notna()] = date[at_birth & date.notna()]
        hi[at_birth & date.notna()] = date[at_birth & date.notna()]
    assert len(lo) == n
    return records.assign(lo=lo, hi=hi)


def _day_index(dates: pd.Series) -> pd.Series:
    """Index of the day and month (0..365), the same in every year."""
    moved = pd.to_datetime("2000-" + dates.dt.strftime("%m-%d"), format="%Y-%m-%d", errors="coerce")
    return (moved - _EPOCH).dt.days


def birth_date_windows(store: Store) -> pd.DataFrame:
    """Per registration with a birth-date token: ``lo``, ``hi`` and ``width_days`` of the
    birth dates the store leaves possible."""
    records = _windows(_records(store))
    # one person's date: every record sharing tok_dob
    by_date = records.groupby("tok_dob").agg(lo=("lo", "max"), hi=("hi", "min"))
    groups = records.groupby("tok_dob")[["tok_dob_swap", "tok_birth_md", "tok_birth_ym"]].first()
    by_date = by_date.join(groups)
    for _ in range(ROUNDS):
        width = (by_date["hi"] - by_date["lo"]).sum()
        by_date = _narrow_by_swap(_narrow_by_month(_narrow_by_day_and_month(by_date)))
        if (by_date["hi"] - by_date["lo"]).sum() == width:
            break
    regs = records[records["source"] == "registrations"][["registration_id", "tok_dob"]]
    out = regs.join(by_date[["lo", "hi"]], on="tok_dob")
    out["width_days"] = (out["hi"] - out["lo"]).dt.days + 1
    return out.drop(columns="tok_dob").reset_index(drop=True)


def _narrow_by_day_and_month(by_date: pd.DataFrame) -> pd.DataFrame:
    """Bounds on the day and month from every date group whose window lies in one calendar
    year, applied to every such group of the same ``tok_birth_md``."""
    by_date = by_date.copy()
    one_year = by_date["lo"].dt.year == by_date["hi"].dt.year
    inside = by_date[one_year].assign(
        m_lo=lambda f: _day_index(f["lo"]), m_hi=lambda f: _day_index(f["hi"])
    )
    by_md = inside.groupby("tok_birth_md").agg(m_lo=("m_lo", "max"), m_hi=("m_hi", "min"))
    bounds = by_date[["tok_birth_md"]].join(by_md, on="tok_birth_md")
    narrowed = one_year & bounds["m_lo"].notna()
    for key in by_date.index[narrowed.to_numpy()]:
        lo, hi = by_date.at[key, "lo"], by_date.at[key, "hi"]
        first = _on_day(lo.year, int(bounds.at[key, "m_lo"]), "first")
        last = _on_day(lo.year, int(bounds.at[key, "m_hi"]), "last")
        by_date.at[key, "lo"] = max(lo, first)
        by_date.at[key, "hi"] = min(hi, last)
    return by_date


def _narrow_by_month(by_date: pd.DataFrame) -> pd.DataFrame:
    """Everyone sharing ``tok_birth_ym`` was born in one month of one year: the months their
    windows allow (where a window lies in one calendar year) intersect."""
    by_date = by_date.copy()
    one_year = by_date["lo"].dt.year == by_date["hi"].dt.year
    inside = by_date[one_year & by_date["tok_birth_ym"].notna()]
    by_ym = inside.assign(a=inside["lo"].dt.month, b=inside["hi"].dt.month)
    months = by_ym.groupby("tok_birth_ym").agg(a=("a", "max"), b=("b", "min"))
    bounds = by_date[["tok_birth_ym"]].join(months, on="tok_birth_ym")
    todo = one_year & bounds["a"].notna()
    year = by_date.loc[todo, "lo"].dt.year
    first = pd.to_datetime({"year": year, "month": bounds.loc[todo, "a"].astype(int), "day": 1})
    last = pd.to_datetime(
        {"year": year, "month": bounds.loc[todo, "b"].astype(int), "day": 1}
    ) + pd.offsets.MonthEnd(0)
    by_date.loc[todo, "lo"] = np.maximum(by_date.loc[todo, "lo"], first)
    by_date.loc[todo, "hi"] = np.minimum(by_date.loc[todo, "hi"], last)
    return by_date


def _narrow_by_swap(by_date: pd.DataFrame) -> pd.DataFrame:
    """A date group whose ``tok_dob_swap`` is another group's ``tok_dob`` was born on that
    group's date with day and month swapped (so on a day of at most 12, not its month): its
    dates are those of its window whose swap lies in the other group's window."""
    by_date = by_date.copy()
    one_year = by_date["lo"].dt.year == by_date["hi"].dt.year
    inside = by_date[one_year]
    partner = inside[["lo", "hi"]].add_prefix("p_")
    pairs = inside.join(partner, on="tok_dob_swap", how="inner")
    if pairs.empty:
        return by_date
    widths = ((pairs["hi"] - pairs["lo"]).dt.days + 1).to_numpy()
    row = np.repeat(np.arange(len(pairs)), widths)
    offset = np.arange(widths.sum()) - np.repeat(np.cumsum(widths) - widths, widths)
    days = pd.DatetimeIndex(pairs["lo"].to_numpy()[row] + offset.astype("timedelta64[D]"))
    can = (days.day <= 12) & (days.day != days.month)
    row, days = row[can], days[can]
    swapped = pd.to_datetime({"year": days.year, "month": days.day, "day": days.month})
    fits = (swapped >= pairs["p_lo"].to_numpy()[row]) & (swapped <= pairs["p_hi"].to_numpy()[row])
    kept = pd.DataFrame({"row": row[fits.to_numpy()], "day": days[fits.to_numpy()]})
    bounds = kept.groupby("row")["day"].agg(["min", "max"])
    keys = pairs.index[bounds.index.to_numpy()]
    first, last = bounds["min"].to_numpy(), bounds["max"].to_numpy()
    by_date.loc[keys, "lo"] = np.maximum(by_date.loc[keys, "lo"].to_numpy(), first)
    by_date.loc[keys, "hi"] = np.minimum(by_date.loc[keys, "hi"].to_numpy(), last)
    return by_date


def _on_day(year: int, index: int, side: str) -> pd.Timestamp:
    """The date of day-and-month ``index`` in ``year``; 29 February in a common year becomes
    the 28th (``last``) or 1 March (``first``)."""
    month_day = (_EPOCH + pd.Timedelta(days=index)).strftime("%m-%d")
    try:
        return pd.Timestamp(f"{year}-{month_day}")
    except ValueError:
        return pd.Timestamp(f"{year}-03-01" if side == "first" else f"{year}-02-28")


@dataclass(frozen=True)
class Exposure:
    """How well the intruder knows the registrations' birth dates."""

    registrations: int  # with a birth date in the input
    exact: int  # birth date pinned to one day
    within_week: int  # to at most 7 days
    within_month: int  # to at most 31 days
    median_width_days: float
    wrong: int  # windows that miss the true date (must be 0: the attack is sound)

    @property
    def exact_share(self) -> float:
        return self.exact / self.registrations if self.registrations else 0.0


def summary(store: Store, truth: pd.DataFrame) -> Exposure:
    """Score :func:`birth_date_windows` against ``truth`` (registration_id, date_of_birth)."""
    found = birth_date_windows(store).merge(truth, on="registration_id")
    found = found[found["date_of_birth"].notna() & (found["date_of_birth"] != "")]
    born = pd.to_datetime(found["date_of_birth"])
    width = found["width_days"].clip(lower=1)
    day = pd.Timedelta(days=1)  # 29 February is placed a day off in a common year
    wrong = ~((found["lo"] - day <= born) & (born <= found["hi"] + day))
    return Exposure(
        registrations=len(found),
        exact=int((width <= 1).sum()),
        within_week=int((width <= 7).sum()),
        within_month=int((width <= 31).sum()),
        median_width_days=float(width.median()) if len(width) else float("nan"),
        wrong=int(wrong.sum()),
    )
