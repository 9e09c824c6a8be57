"""Stable person ids across linkage runs.

Every run clusters all registrations afresh. :func:`reconcile` then gives each new cluster the
id of the earlier person it overlaps most (largest number of shared registrations first; an
earlier id goes to one cluster only), and a new id to a cluster that inherits none. What
happened to each earlier id is recorded: ``kept`` (same id, maybe with new registrations),
``merged`` (its registrations now sit in a person holding another id: the id is retired),
``split`` (kept by one cluster, while some of its registrations went to another person).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ID_PREFIX = "P"
ID_DIGITS = 8


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of :func:`reconcile`."""

    assignment: pd.DataFrame  # registration_id, person_id
    new_ids: list[str]  # ids issued by this run
    changes: pd.DataFrame  # person_id_old, person_id_new, change ('merged' | 'split')
    n_kept: int
    n_new: int
    n_merged: int
    n_split: int


def format_id(number: int) -> str:
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def reconcile(clusters: pd.DataFrame, previous: pd.DataFrame, next_number: int) -> Reconciliation:
    """Person ids for ``clusters`` (``registration_id``, integer ``cluster``).

    ``previous`` is the earlier ``registration_id -> person_id``; ``next_number`` the first
    unused id number.
    """
    joined = clusters.merge(previous, on="registration_id", how="left")
    overlap = (
        joined.dropna(subset=["person_id"])
        .groupby(["cluster", "person_id"], sort=False)
        .size()
        .rename("n")
        .reset_index()
        # largest overlap first; ties by the older (smaller) id, then cluster, for determinism
        .sort_values(["n", "person_id", "cluster"], ascending=[False, True, True])
    )
    taken_cluster: dict[int, str] = {}
    used: set[str] = set()
    for cluster, pid in zip(
        overlap["cluster"].to_numpy(), overlap["person_id"].to_numpy(), strict=True
    ):
        if cluster in taken_cluster or pid in used:
            continue
        taken_cluster[int(cluster)] = str(pid)
        used.add(str(pid))
    unassigned = sorted(set(clusters["cluster"].unique()) - set(taken_cluster))
    # new ids in order of the cluster's smallest registration id (deterministic)
    first_reg = clusters.groupby("cluster")["registration_id"].min()
    unassigned.sort(key=lambda c: str(first_reg.loc[c]))
    new_ids = [format_id(next_number + i) for i in range(len(unassigned))]
    mapping = {**taken_cluster, **dict(zip(unassigned, new_ids, strict=True))}
    assignment = pd.DataFrame(
        {
            "registration_id": clusters["registration_id"].to_numpy(),
            "person_id": clusters["cluster"].map(mapping).to_numpy(),
        }
    )
    # what became of each earlier id
    changes = []
    if len(overlap):
        now = overlap.assign(person_id_new=overlap["cluster"].map(mapping))
        for pid, group in now.groupby("person_id", sort=True):
            targets = sorted(set(group["person_id_new"]))
            if pid not in used:
                best = group.iloc[0]["person_id_new"]
                changes.append((pid, best, "merged"))
            elif len(targets) > 1:
                changes.extend((pid, t, "split") for t in targets if t != pid)
    frame = pd.DataFrame(changes, columns=["person_id_old", "person_id_new", "change"])
    n_split = int(frame.loc[frame["change"] == "split", "person_id_old"].nunique())
    return Reconciliation(
        assignment=assignment,
        new_ids=new_ids,
        changes=frame,
        n_kept=len(used),
        n_new=len(new_ids),
        n_merged=int((frame["change"] == "merged").sum()),
        n_split=n_split,
    )


def next_id_number(issued: pd.Series) -> int:
    """The first id number after every id issued so far."""
    if issued.empty:
        return 1
    numbers = pd.to_numeric(issued.str.removeprefix(ID_PREFIX), errors="coerce")
    return int(np.nanmax(numbers.to_numpy(dtype=float))) + 1
