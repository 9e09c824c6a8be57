"""Capture-history count tables: reading, validation and the full 2^k - 1 cell layout.

A table has one 0/1 column per list, optional covariate columns and a ``count`` column. The
all-zero history is the unknown to estimate and must not be present with a positive count.
Messages refer to rows by number and to fields by name, never to values.

A CSV is read with the standard library and numpy; pandas is imported only for covariates (and
by :meth:`CaptureTable.from_frame`), so that ``thbmonitor mse`` on a plain table starts fast.
"""

from __future__ import annotations

import csv
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thbmonitor.errors import EstimationError, InputError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["CaptureTable", "read_capture_histories"]

MAX_LISTS = 15


@dataclass(frozen=True)
class CaptureTable:
    """Counts of capture histories over named lists, optionally split by covariates.

    ``histories`` is an (r, k) 0/1 array, ``counts`` an (r,) integer array, ``covariates`` an
    (r, c) frame (with no columns when the table has no covariates; ``None`` may be passed for
    that). Rows keep the order they were given in (the bootstrap and the jackknife resample
    these rows, as the R anchors do).
    """

    lists: tuple[str, ...]
    histories: np.ndarray
    counts: np.ndarray
    covariate_frame: pd.DataFrame | None = None

    @property
    def covariates(self) -> pd.DataFrame:
        """The covariate columns, one row per table row (a frame with no columns if none)."""
        if self.covariate_frame is not None:
            return self.covariate_frame
        import pandas as pd

        return pd.DataFrame()

    @property
    def has_covariates(self) -> bool:
        return self.covariate_frame is not None and self.covariate_frame.shape[1] > 0

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        lists: Sequence[str] | None = None,
        covariates: Sequence[str] = (),
        count: str = "count",
    ) -> CaptureTable:
        """Build a table from a frame; ``lists`` defaults to every column but covariates and count.

        Without a ``count`` column every row is one person (individual capture histories).
        """
        import pandas as pd

        covariates = list(covariates)
        missing = [c for c in covariates if c not in df.columns]
        if missing:
            raise InputError(f"Covariate column(s) {missing} not found in the table.")
        if lists is None:
            lists = [c for c in df.columns if c != count and c not in covariates]
        missing = [c for c in lists if c not in df.columns]
        if missing:
            raise InputError(f"List column(s) {missing} not found in the table.")
        numeric = {
            c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
            for c in [*lists, *([count] if count in df.columns else [])]
        }
        return cls._build(
            numeric, list(lists), count, df[covariates].reset_index(drop=True), df.shape[0]
        )

    @classmethod
    def from_arrays(
        cls, histories: np.ndarray, counts: np.ndarray, lists: Sequence[str] | None = None
    ) -> CaptureTable:
        """Build a table from a 0/1 matrix and a count vector."""
        h = np.asarray(histories, dtype=float)
        names = list(lists) if lists is not None else [chr(65 + i) for i in range(h.shape[1])]
        numeric = {name: h[:, j] for j, name in enumerate(names)}
        numeric["count"] = np.asarray(counts, dtype=float)
        return cls._build(numeric, names, "count", None, h.shape[0])

    @classmethod
    def _build(
        cls,
        numeric: Mapping[str, np.ndarray],
        lists: list[str],
        count: str,
        covariates: pd.DataFrame | None,
        n_rows: int,
    ) -> CaptureTable:
        """Validate the list and count columns (as floats, NaN where not a number) and build."""
        if n_rows == 0:
            raise InputError("The capture-history table has no rows; nothing to estimate.")
        if len(lists) < 2:
            raise InputError("At least two lists are needed for multiple systems estimation.")
        if len(lists) > MAX_LISTS:
            raise InputError(f"At most {MAX_LISTS} lists are supported; got {len(lists)}.")
        hist = _binary_matrix(numeric, lists)
        cnt = _counts(numeric[count]) if count in numeric else np.ones(n_rows, dtype=np.int64)
        zero_rows = np.flatnonzero((hist.sum(axis=1) == 0) & (cnt > 0))
        if zero_rows.size:
            rows = ", ".join(str(r + 1) for r in zero_rows[:10])
            raise InputError(
                f"Row(s) {rows} have the all-zero capture history with a positive count. "
                "That history is the unknown to estimate; remove those rows."
            )
        keep = hist.sum(axis=1) > 0
        cov = None
        if covariates is not None and covariates.shape[1] > 0:
            cov = covariates.loc[keep].reset_index(drop=True)
            if cov.isna().any().any():
                bad = cov.columns[cov.isna().any()].tolist()
                raise InputError(
                    f"Covariate column(s) {bad} have missing values; recode them first."
                )
        table = cls(tuple(lists), hist[keep], cnt[keep], cov)
        table._warn_about_lists()
        return table

    # ------------------------------------------------------------------ properties
    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def with_counts(self, counts: np.ndarray) -> CaptureTable:
        """The same rows with other counts (used by the bootstrap and the jackknife)."""
        return CaptureTable(self.lists, self.histories, np.asarray(counts), self.covariate_frame)

    def full_counts(self) -> np.ndarray:
        """Counts of all 2^k histories indexed by bit code (bit i = list i); cell 0 is 0."""
        k = self.n_lists
        codes = self.histories @ (1 << np.arange(k))
        out = np.zeros(1 << k, dtype=float)
        np.add.at(out, codes, self.counts.astype(float))
        out[0] = 0.0
        return out

    def collapse(self) -> CaptureTable:
        """Sum over covariates: one row per distinct history, in first-seen order."""
        if not self.has_covariates:
            return self
        codes = self.histories @ (1 << np.arange(self.n_lists))
        _uniq, first, inv = np.unique(codes, return_index=True, return_inverse=True)
        sums = np.bincount(inv, weights=self.counts).astype(np.int64)
        order = np.argsort(first)
        return CaptureTable(self.lists, self.histories[first[order]], sums[order])

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        df = pd.DataFrame(self.histories, columns=list(self.lists))
        for c in self.covariates.columns:
            df[c] = self.covariates[c].to_numpy()
        df["count"] = self.counts
        return df

    def subset(self, mask: np.ndarray) -> CaptureTable:
        """Rows selected by a boolean mask, covariates kept."""
        cov = self.covariates.loc[mask].reset_index(drop=True) if self.has_covariates else None
        return CaptureTable(self.lists, self.histories[mask], self.counts[mask], cov)

    def check_estimable(self) -> None:
        """Raise :class:`EstimationError` if nothing can be estimated from this table."""
        if self.observed == 0:
            raise EstimationError("All counts are zero; there is nothing to estimate.")
        on_list = self.histories.T @ self.counts
        empty = [name for name, c in zip(self.lists, on_list, strict=True) if c == 0]
        if len(empty) >= self.n_lists - 1:
            raise EstimationError(
                "Fewer than two lists have any registrations; MSE needs at least two. "
                f"Empty lists: {empty}."
            )
        overlap = (self.histories.sum(axis=1) >= 2) & (self.counts > 0)
        if not overlap.any():
            raise EstimationError(
                "No person is on more than one list, so the lists do not overlap and the "
                "hidden number cannot be estimated. Check the linkage, or merge lists."
            )

    def _warn_about_lists(self) -> None:
        on_list = self.histories.T @ self.counts
        empty = [name for name, c in zip(self.lists, on_list, strict=True) if c == 0]
        if empty:
            warnings.warn(
                f"List(s) {empty} have no registrations; consider dropping them.",
                UserWarning,
                stacklevel=3,
            )
        if self.observed > 0 and not ((self.histories.sum(axis=1) >= 2) & (self.counts > 0)).any():
            warnings.warn(
                "No person is on more than one list: the lists do not overlap.",
                UserWarning,
                stacklevel=3,
            )


def read_capture_histories(
    path: str | Path,
    covariates: Sequence[str] = (),
    count: str = "count",
    lists: Sequence[str] | None = None,
) -> CaptureTable:
    """Read a capture-history CSV (0/1 list columns, optional covariates, ``count``).

    Without ``lists``, the lists are the 0/1 columns other than the covariates and the count;
    other columns that are not named as covariates are summed over (with a warning). Blank
    lines are skipped; rows are numbered from 1 for the first data row.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"File not found: {p.name}. Give the path of a capture-history CSV.")
    header, columns = _read_csv(p)
    log.debug(
        "read %d rows, %d columns from %s", len(next(iter(columns.values()))), len(header), p.name
    )
    n_rows = len(columns[header[0]])
    missing = [c for c in covariates if c not in columns]
    if missing:
        raise InputError(f"Covariate column(s) {missing} not found in the table.")
    numeric = {c: _numbers(values) for c, values in columns.items() if c not in covariates}
    if lists is None:
        rest = [c for c in header if c != count and c not in covariates]
        lists = [c for c in rest if bool(np.isin(numeric[c], (0.0, 1.0)).all())]
        other = [c for c in rest if c not in lists]
        if other:
            warnings.warn(
                f"Column(s) {other} are neither 0/1 lists nor named covariates; summed over.",
                UserWarning,
                stacklevel=2,
            )
    missing = [c for c in lists if c not in numeric]
    if missing:
        raise InputError(f"List column(s) {missing} not found in the table.")
    cov = _covariate_frame({c: columns[c] for c in covariates}) if covariates else None
    return CaptureTable._build(numeric, list(lists), count, cov, n_rows)


def _read_csv(p: Path) -> tuple[list[str], dict[str, list[str]]]:
    """Header and columns (as text) of a CSV; refuses ragged or unreadable files."""
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = [row for row in reader if row]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{p.name} cannot be read as CSV ({type(exc).__name__}).") from None
    if not header or not any(h.strip() for h in header):
        raise InputError(f"{p.name} cannot be read as CSV (it has no header line).")
    header = [h.strip() for h in header]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(f"{p.name}: column(s) {twice} appear more than once in the header.")
    width = len(header)
    long = [i for i, row in enumerate(rows) if len(row) > width]
    if long:
        numbers = ", ".join(str(r + 1) for r in long[:10])
        raise InputError(f"{p.name}: row(s) {numbers} have more fields than the header.")
    columns = {
        name: [row[j] if j < len(row) else "" for row in rows] for j, name in enumerate(header)
    }
    return header, columns


def _numbers(values: list[str]) -> np.ndarray:
    """Text to floats; NaN where a field is empty or not a number."""
    try:
        return np.array(values, dtype=float)
    except ValueError:
        out = np.empty(len(values))
        for i, v in enumerate(values):
            try:
                out[i] = float(v)
            except ValueError:
                out[i] = math.nan
        return out


def _covariate_frame(columns: dict[str, list[str]]) -> pd.DataFrame:
    """Covariates as a frame: numeric columns as numbers (as pandas reads them), others as
    text; empty fields are missing."""
    import pandas as pd

    frame = {}
    for name, values in columns.items():
        col = pd.Series([v if v.strip() else None for v in values], dtype=object)
        num = pd.to_numeric(col, errors="coerce")
        frame[name] = num if num.notna().sum() == col.notna().sum() else col
    return pd.DataFrame(frame)


def _binary_matrix(numeric: Mapping[str, np.ndarray], lists: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(numeric[lists[0]]), len(lists)), dtype=np.int64)
    for j, name in enumerate(lists):
        col = numeric[name]
        bad = np.flatnonzero(~np.isin(col, (0.0, 1.0)))
        if bad.size:
            rows = ", ".join(str(r + 1) for r in bad[:10])
            raise InputError(f"Field '{name}' must be 0 or 1; row(s) {rows} are not.")
        out[:, j] = col.astype(np.int64)
    return out


def _counts(num: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(num) | (num < 0) | (num != np.round(num)))
    if bad.size:
        rows = ", ".join(str(r + 1) for r in bad[:10])
        raise InputError(
            f"Field 'count' must be a non-negative whole number; row(s) {rows} are not."
        )
    return num.astype(np.int64)
