"""Capture-history count tables: reading, validation and the full 2^k - 1 cell layout.

A table has one 0/1 column per list, optional covariate columns and a ``count`` column. The
all-zero history is the unknown to estimate and must not be present with a positive count.
Messages refer to rows by number and to fields by name, never to values.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.errors import EstimationError, InputError

log = logging.getLogger(__name__)

__all__ = ["CaptureTable", "read_capture_histories"]

MAX_LISTS = 15


@dataclass(frozen=True)
class CaptureTable:
    """Counts of capture histories over named lists, optionally split by covariates.

    ``histories`` is an (r, k) 0/1 array, ``counts`` an (r,) integer array, ``covariates`` an
    (r, c) frame (possibly with no columns). Rows keep the order they were given in (the
    bootstrap and the jackknife resample these rows, as the R anchors do).
    """

    lists: tuple[str, ...]
    histories: np.ndarray
    counts: np.ndarray
    covariates: pd.DataFrame = field(default_factory=pd.DataFrame)

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
        if df.shape[0] == 0:
            raise InputError("The capture-history table has no rows; nothing to estimate.")
        covariates = list(covariates)
        missing = [c for c in covariates if c not in df.columns]
        if missing:
            raise InputError(f"Covariate column(s) {missing} not found in the table.")
        has_count = count in df.columns
        if lists is None:
            lists = [c for c in df.columns if c != count and c not in covariates]
        lists = list(lists)
        missing = [c for c in lists if c not in df.columns]
        if missing:
            raise InputError(f"List column(s) {missing} not found in the table.")
        if len(lists) < 2:
            raise InputError("At least two lists are needed for multiple systems estimation.")
        if len(lists) > MAX_LISTS:
            raise InputError(f"At most {MAX_LISTS} lists are supported; got {len(lists)}.")
        hist = _binary_matrix(df, lists)
        cnt = _counts(df[count]) if has_count else np.ones(df.shape[0], dtype=np.int64)
        zero_rows = np.flatnonzero((hist.sum(axis=1) == 0) & (cnt > 0))
        if zero_rows.size:
            rows = ", ".join(str(r + 1) for r in zero_rows[:10])
            raise InputError(
                f"Row(s) {rows} have the all-zero capture history with a positive count. "
                "That history is the unknown to estimate; remove those rows."
            )
        keep = hist.sum(axis=1) > 0
        cov = df.loc[keep, covariates].reset_index(drop=True) if covariates else pd.DataFrame()
        if covariates and cov.isna().any().any():
            bad = cov.columns[cov.isna().any()].tolist()
            raise InputError(f"Covariate column(s) {bad} have missing values; recode them first.")
        table = cls(tuple(lists), hist[keep], cnt[keep], cov)
        table._warn_about_lists()
        return table

    @classmethod
    def from_arrays(
        cls, histories: np.ndarray, counts: np.ndarray, lists: Sequence[str] | None = None
    ) -> CaptureTable:
        """Build a table from a 0/1 matrix and a count vector."""
        h = np.asarray(histories)
        names = list(lists) if lists is not None else [chr(65 + i) for i in range(h.shape[1])]
        df = pd.DataFrame(h, columns=names)
        df["count"] = np.asarray(counts)
        return cls.from_frame(df, lists=names)

    # ------------------------------------------------------------------ properties
    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def with_counts(self, counts: np.ndarray) -> CaptureTable:
        """The same rows with other counts (used by the bootstrap and the jackknife)."""
        return CaptureTable(self.lists, self.histories, np.asarray(counts), self.covariates)

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
        if self.covariates.shape[1] == 0:
            return self
        codes = self.histories @ (1 << np.arange(self.n_lists))
        _uniq, first, inv = np.unique(codes, return_index=True, return_inverse=True)
        sums = np.bincount(inv, weights=self.counts).astype(np.int64)
        order = np.argsort(first)
        return CaptureTable(self.lists, self.histories[first[order]], sums[order])

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.histories, columns=list(self.lists))
        for c in self.covariates.columns:
            df[c] = self.covariates[c].to_numpy()
        df["count"] = self.counts
        return df

    def subset(self, mask: np.ndarray) -> CaptureTable:
        """Rows selected by a boolean mask, covariates kept."""
        cov = (
            self.covariates.loc[mask].reset_index(drop=True)
            if self.covariates.shape[1]
            else (pd.DataFrame())
        )
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
    other columns that are not named as covariates are summed over (with a warning).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"File not found: {p.name}. Give the path of a capture-history CSV.")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{p.name} cannot be read as CSV ({type(exc).__name__}).") from None
    log.debug("read %d rows, %d columns from %s", df.shape[0], df.shape[1], p.name)
    if lists is None:
        rest = [c for c in df.columns if c != count and c not in covariates]
        lists = [c for c in rest if pd.to_numeric(df[c], errors="coerce").isin([0, 1]).all()]
        other = [c for c in rest if c not in lists]
        if other:
            warnings.warn(
                f"Column(s) {other} are neither 0/1 lists nor named covariates; summed over.",
                UserWarning,
                stacklevel=2,
            )
    return CaptureTable.from_frame(df, lists=lists, covariates=covariates, count=count)


def _binary_matrix(df: pd.DataFrame, lists: Sequence[str]) -> np.ndarray:
    out = np.zeros((df.shape[0], len(lists)), dtype=np.int64)
    for j, name in enumerate(lists):
        col = pd.to_numeric(df[name], errors="coerce")
        bad = np.flatnonzero(~col.isin([0, 1]).to_numpy())
        if bad.size:
            rows = ", ".join(str(r + 1) for r in bad[:10])
            raise InputError(f"Field '{name}' must be 0 or 1; row(s) {rows} are not.")
        out[:, j] = col.to_numpy().astype(np.int64)
    return out


def _counts(col: pd.Series) -> np.ndarray:
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(num) | (num < 0) | (num != np.round(num)))
    if bad.size:
        rows = ", ".join(str(r + 1) for r in bad[:10])
        raise InputError(
            f"Field 'count' must be a non-negative whole number; row(s) {rows} are not."
        )
    return num.astype(np.int64)
