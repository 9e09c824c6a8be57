"""Clustering scored pairs into persons, resisting chains of weak links.

Plain connected components at a threshold merge A and C whenever A-B and B-C pass, even when
A and C are plainly two people. :func:`cluster` starts from the components, and where a
component is not a clique of links above the threshold, it re-clusters that component by
agglomeration with an average-linkage veto: two groups join only through a link above the
threshold *and* when the mean match weight over all pairs between them (missing pairs scored by
the model) is at least ``veto_weight``. Components that are cliques are kept as they are.

Pairs judged in clerical review are constraints: a pair judged a match (``must``) is always
joined, with whatever else that brings along, and two groups holding a pair judged a non-match
(``cannot``) are never joined. Contradictory judgements (A = B, B = C, A != C) leave the
non-match standing; :attr:`ClusterResult.conflicts` counts the match judgements not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

log = logging.getLogger(__name__)

# (left, right) integer node pairs -> match weights of those pairs
PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ClusterResult:
    """Labels per node, and what the veto changed."""

    labels: np.ndarray  # int64 cluster label of node 0..n-1
    components: int  # number of connected components at the threshold
    checked: int  # components that were not cliques and were re-clustered
    split: int  # of those, how many were split
    conflicts: int = 0  # pairs judged a match left apart (their judgements contradict others)


def weight_of(probability: float) -> float:
    """Match weight (log2 Bayes factor) of a match probability."""
    return float(np.log2(probability / (1.0 - probability)))


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component labels of ``n`` nodes joined by the given edges."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def cluster(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    threshold_weight: float,
    *,
    veto_weight: float | None = 0.0,
    scorer: PairScorer | None = None,
    max_component: int = 60,
    must: tuple[np.ndarray, np.ndarray] | None = None,
    cannot: tuple[np.ndarray, np.ndarray] | None = None,
) -> ClusterResult:
    """Cluster nodes ``0..n-1`` from scored edges (match weights), see the module docstring.

    ``scorer`` scores pairs inside a component that blocking did not produce; without it those
    pairs count as ``veto_weight`` (neutral). ``veto_weight=None`` gives connected components
    (with ``must`` links added and ``cannot`` links removed, not enforced). Components larger
    than ``max_component`` are not re-clustered as a whole but first cut at successively higher
    thresholds. ``must`` and ``cannot`` are node pairs judged a match and a non-match.
    """
    left, right, weight, hard = _constrained(left, right, weight, threshold_weight, must, cannot)
    strong = weight >= threshold_weight
    labels = components(n, left[strong], right[strong])
    n_comp = int(labels.max()) + 1 if n else 0
    if veto_weight is None or n == 0:
        return ClusterResult(labels, n_comp, 0, 0, _conflicts(labels, must))
    size = np.bincount(labels)
    edge_comp = labels[left[strong]]
    strong_edges = np.bincount(edge_comp, minlength=len(size))
    need = size * (size - 1) // 2
    suspect = np.flatnonzero((size >= 3) & (strong_edges < need))
    if len(suspect) == 0:
        return ClusterResult(labels, n_comp, 0, 0, _conflicts(labels, must))

    # all pair weights inside suspect components: scored edges first, then the missing ones
    in_suspect = np.zeros(len(size), dtype=bool)
    in_suspect[suspect] = True
    keep = in_suspect[labels[left]] & (labels[left] == labels[right])
    known = pd.DataFrame(
        {
            "a": np.minimum(left[keep], right[keep]),
            "b": np.maximum(left[keep], right[keep]),
            "w": weight[keep],
        }
    ).drop_duplicates(["a", "b"])
    members = pd.DataFrame({"node": np.flatnonzero(in_suspect[labels])})
    members["comp"] = labels[members["node"].to_numpy()]
    small = members[size[members["comp"].to_numpy()] <= max_component]
    pairs = small.merge(small, on="comp", suffixes=("_a", "_b"))
    pairs = pairs[pairs["node_a"] < pairs["node_b"]].rename(columns={"node_a": "a", "node_b": "b"})
    pairs = pairs.merge(known, on=["a", "b"], how="left")
    missing = pairs["w"].isna().to_numpy()
    if missing.any():
        if scorer is not None:
            filled = scorer(pairs["a"].to_numpy()[missing], pairs["b"].to_numpy()[missing])
        else:
            filled = np.full(int(missing.sum()), veto_weight)
        pairs.loc[missing, "w"] = filled
    out = labels.copy()
    next_label = n_comp
    n_split = 0
    for comp, group in pairs.groupby("comp", sort=False):
        nodes = np.unique(np.concatenate([group["a"].to_numpy(), group["b"].to_numpy()]))
        parts = _average_veto(
            nodes,
            group["a"].to_numpy(),
            group["b"].to_numpy(),
            group["w"].to_numpy(),
            threshold_weight,
            veto_weight,
            hard,
        )
        if parts.max() > 0:
            n_split += 1
            for p in range(1, int(parts.max()) + 1):
                out[nodes[parts == p]] = next_label
                next_label += 1
        del comp
    for comp in suspect[size[suspect] > max_component]:
        nodes = np.flatnonzero(labels == comp)
        n_split += _cut_large(out, nodes, left, right, weight, threshold_weight, next_label)
        next_label = int(out.max()) + 1
    if cannot is not None and len(cannot[0]):
        n_split += _enforce_cannot(out, left, right, weight, threshold_weight, veto_weight, hard)
    log.debug("re-clustered %d non-clique components, split %d", len(suspect), n_split)
    return ClusterResult(out, n_comp, len(suspect), n_split, _conflicts(out, must))


MUST, CANNOT = 1, -1


def _constrained(
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    threshold_weight: float,
    must: tuple[np.ndarray, np.ndarray] | None,
    cannot: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[tuple[int, int], int]]:
    """The edges with judged pairs replaced: a match gets a weight above every other (joined
    first, kept by every raised threshold), a non-match one below the threshold; and the
    judgements as ``{(a, b): MUST | CANNOT}`` with ``a < b``."""
    hard: dict[tuple[int, int], int] = {}
    for pairs, kind in ((must, MUST), (cannot, CANNOT)):
        if pairs is not None:
            for a, b in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
                if a != b:
                    hard[(min(a, b), max(a, b))] = kind
    if not hard:
        return left, right, weight, hard
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    judged = np.array(list(hard), dtype=np.int64).reshape(-1, 2)
    kinds = np.array(list(hard.values()), dtype=np.int64)
    keep = ~pd.MultiIndex.from_arrays([lo, hi]).isin(
        pd.MultiIndex.from_arrays([judged[:, 0], judged[:, 1]])
    )
    top = max(float(weight.max()) if len(weight) else 0.0, threshold_weight) + 20.0
    added = np.where(kinds == MUST, top, min(threshold_weight, 0.0) - 20.0)
    return (
        np.concatenate([lo[keep], judged[:, 0]]),
        np.concatenate([hi[keep], judged[:, 1]]),
        np.concatenate([weight[keep], added]),
        hard,
    )


def _conflicts(labels: np.ndarray, must: tuple[np.ndarray, np.ndarray] | None) -> int:
    if must is None or not len(must[0]):
        return 0
    return int((labels[must[0]] != labels[must[1]]).sum())


def _enforce_cannot(
    out: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    threshold_weight: float,
    veto_weight: float,
    hard: dict[tuple[int, int], int],
) -> int:
    """Re-cluster, with the judgements, any cluster still holding a pair judged a non-match
    (possible only in a component cut by :func:`_cut_large`); pairs not scored are neutral."""
    bad = sorted({int(out[a]) for (a, b), k in hard.items() if k == CANNOT and out[a] == out[b]})
    n_split = 0
    for label in bad:
        nodes = np.flatnonzero(out == label)
        member = np.zeros(len(out), dtype=bool)
        member[nodes] = True
        inside = member[left] & member[right]
        known = pd.DataFrame(
            {"a": left[inside], "b": right[inside], "w": weight[inside]}
        ).drop_duplicates(["a", "b"])
        grid = np.array([(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]])
        pairs = pd.DataFrame({"a": grid[:, 0], "b": grid[:, 1]}).merge(
            known, on=["a", "b"], how="left"
        )
        pairs["w"] = pairs["w"].fillna(veto_weight)
        parts = _average_veto(
            nodes,
            pairs["a"].to_numpy(),
            pairs["b"].to_numpy(),
            pairs["w"].to_numpy(),
            threshold_weight,
            veto_weight,
            hard,
        )
        nxt = int(out.max()) + 1
        for p in range(1, int(parts.max()) + 1):
            out[nodes[parts == p]] = nxt + p - 1
        n_split += int(parts.max() > 0)
    return n_split


def _average_veto(
    nodes: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    threshold_weight: float,
    veto_weight: float,
    hard: dict[tuple[int, int], int] | None = None,
) -> np.ndarray:
    """Agglomerate one component: strongest link first, joined only if the mean passes; a
    pair judged a match is joined regardless, groups holding a judged non-match never."""
    k = len(nodes)
    index = {int(v): i for i, v in enumerate(nodes)}
    mat = np.full((k, k), np.nan)
    ia = np.array([index[int(x)] for x in a])
    ib = np.array([index[int(x)] for x in b])
    mat[ia, ib] = w
    mat[ib, ia] = w
    judged = np.zeros((k, k), dtype=np.int8)
    for (x, y), kind in (hard or {}).items():
        if x in index and y in index:
            judged[index[x], index[y]] = judged[index[y], index[x]] = kind
    group = np.arange(k)
    for e in np.argsort(-w, kind="stable"):
        if w[e] < threshold_weight:
            break
        ga, gb = group[ia[e]], group[ib[e]]
        if ga == gb:
            continue
        sa, sb = group == ga, group == gb
        between = judged[np.ix_(sa, sb)]
        if (between == CANNOT).any():
            continue
        if judged[ia[e], ib[e]] == MUST or np.nanmean(mat[np.ix_(sa, sb)]) >= veto_weight:
            group[sb] = ga
    _, parts = np.unique(group, return_inverse=True)
    # part 0 keeps the component's label: the part holding the first node
    return (parts - parts[0]) % (int(parts.max()) + 1)


def _cut_large(
    out: np.ndarray,
    nodes: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    threshold_weight: float,
    next_label: int,
) -> int:
    """Split an oversized component at raised thresholds until its parts are small."""
    member = np.zeros(len(out), dtype=bool)
    member[nodes] = True
    inside = member[left] & member[right]
    local = {int(v): i for i, v in enumerate(nodes)}
    la = np.array([local[int(x)] for x in left[inside]], dtype=np.int64)
    lb = np.array([local[int(x)] for x in right[inside]], dtype=np.int64)
    lw = weight[inside]
    for step in (2.0, 4.0, 6.0, 8.0, 12.0):
        sel = lw >= threshold_weight + step
        labels = components(len(nodes), la[sel], lb[sel])
        if np.bincount(labels).max() <= 60 or step == 12.0:
            out[nodes] = labels + next_label
            return 1
    return 0
