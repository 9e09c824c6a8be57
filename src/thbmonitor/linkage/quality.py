"""Linkage quality against a known truth: pairwise, exact-cluster and B-cubed measures.

All measures compare two labelings of the same registrations (``registration_id`` ->
``person_id``):

* *pair* precision/recall/F1 count the pairs of registrations put in one person (by the
  linkage and by the truth): the "cluster F1" of the linkage benchmarks;
* *cluster* precision/recall/F1 count persons reproduced exactly (same set of registrations);
* *B-cubed* precision/recall/F1 average, over registrations, the share of a registration's
  predicted person that is truly it and the share of its true person that was found
  (Bagga & Baldwin 1998; Amigó et al. 2009).

:func:`capture_cell_errors` compares the capture histories the two labelings imply.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thbmonitor.errors import LinkageError


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _aligned(predicted: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    for name, frame in (("predicted", predicted), ("truth", truth)):
        missing = {"registration_id", "person_id"} - set(frame.columns)
        if missing:
            raise LinkageError(f"{name} lacks column(s) {', '.join(sorted(missing))}")
    merged = predicted[["registration_id", "person_id"]].merge(
        truth[["registration_id", "person_id"]],
        on="registration_id",
        suffixes=("_pred", "_true"),
        validate="one_to_one",
    )
    if len(merged) != len(predicted) or len(merged) != len(truth):
        raise LinkageError(
            "predicted and truth must hold the same registrations "
            f"({len(predicted)} and {len(truth)} rows, {len(merged)} in common)"
        )
    return merged


def _pairs(sizes: np.ndarray) -> int:
    sizes = sizes.astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def quality(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pair, exact-cluster and B-cubed precision, recall and F1 of a linkage (see module)."""
    m = _aligned(predicted, truth)
    pred = pd.factorize(m["person_id_pred"])[0]
    true = pd.factorize(m["person_id_true"])[0]
    joint = pd.DataFrame({"p": pred, "t": true}).value_counts()
    pred_size = np.bincount(pred)
    true_size = np.bincount(true)
    tp = _pairs(joint.to_numpy())
    pp, tpairs = _pairs(pred_size), _pairs(true_size)
    pair_p = tp / pp if pp else 1.0
    pair_r = tp / tpairs if tpairs else 1.0

    # exact clusters: a (p, t) cell that is the whole of both p and t
    cells = joint.reset_index(name="n")
    exact = int(
        (
            (cells["n"].to_numpy() == pred_size[cells["p"].to_numpy()])
            & (cells["n"].to_numpy() == true_size[cells["t"].to_numpy()])
        ).sum()
    )
    cl_p, cl_r = exact / len(pred_size), exact / len(true_size)

    # B-cubed: per registration, |P ∩ T| / |P| and |P ∩ T| / |T|
    inter = joint.reindex(pd.MultiIndex.from_arrays([pred, true])).to_numpy()
    b_p = float(np.mean(inter / pred_size[pred]))
    b_r = float(np.mean(inter / true_size[true]))
    return {
        "n_registrations": float(len(m)),
        "n_persons_predicted": float(len(pred_size)),
        "n_persons_true": float(len(true_size)),
        "pair_precision": pair_p,
        "pair_recall": pair_r,
        "pair_f1": _f1(pair_p, pair_r),
        "cluster_precision": cl_p,
        "cluster_recall": cl_r,
        "cluster_f1": _f1(cl_p, cl_r),
        "bcubed_precision": b_p,
        "bcubed_recall": b_r,
        "bcubed_f1": _f1(b_p, b_r),
    }


def capture_cell_errors(
    predicted: pd.DataFrame,
    truth: pd.DataFrame,
    registrations: pd.DataFrame,
    *,
    lists: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Persons per capture history (list combination) and year: linkage versus truth.

    ``registrations`` has ``registration_id``, ``reporting_organisation`` and
    ``registration_year``. Returns one row per history and year with the 0/1 list columns,
    ``year``, ``linked``, ``true``, ``error`` (linked - true) and ``relative_error``.
    """
    from thbmonitor.linkage.capture import history_table

    keys = ["registration_id", "reporting_organisation", "registration_year"]
    linked = history_table(predicted.merge(registrations[keys], on="registration_id"), lists)
    real = history_table(truth.merge(registrations[keys], on="registration_id"), lists)
    cols = [c for c in linked.columns if c != "count"]
    out = linked.merge(real, on=cols, how="outer", suffixes=("_linked", "_true")).fillna(0)
    out = out.rename(columns={"count_linked": "linked", "count_true": "true"})
    out[["linked", "true"]] = out[["linked", "true"]].astype(np.int64)
    out["error"] = out["linked"] - out["true"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_error"] = np.where(out["true"] > 0, out["error"] / out["true"], np.nan)
    return out.sort_values(cols).reset_index(drop=True)


def single_list_error(cells: pd.DataFrame) -> dict[str, float]:
    """Persons seen on exactly one list (summed over years): linked, true, relative error."""
    lists = [c for c in cells.columns if c not in ("year", "linked", "true", "error")]
    lists = [c for c in lists if c != "relative_error"]
    one = cells[cells[lists].sum(axis=1) == 1]
    linked, true = float(one["linked"].sum()), float(one["true"].sum())
    return {"linked": linked, "true": true, "relative_error": (linked - true) / true}
