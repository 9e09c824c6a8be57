"""Bayesian model averaging over decomposable graphical models (R's ``dga::bma.cr``).

Madigan and York (1997, Biometrika, "Bayesian methods for estimation of the size of a closed
population"): every decomposable graph on the k lists (3 to 5) is a log-linear model whose
generators are the graph's cliques; with a hyper-Dirichlet prior (``delta`` per cell of the full
table, ``delta * 2^(k - |C|)`` per cell of a clique's margin) its marginal likelihood given the
unobserved count ``n0`` is a product over cliques divided by a product over separators. The
posterior over (graph, n0) is normalised over all graphs and ``n0 = 0 .. 20 n``; the prior on
N is dga's default ``p(N) ~ 1/N`` and the graphs are equally likely a priori.

The computation follows dga 2.0.2 (``R/BMAfunctions.R`` ``bma.cr``, ``MakeCompMatrix``,
``CompLogML`` and ``src/utils.cpp`` ``computeLogPostProbs``) term by term; the graphs are
enumerated here (dga ships them as ``graphs3/4/5.rda``: 8, 61 and 822 graphs).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from thbmonitor.errors import EstimationError
from thbmonitor.mse.intervals import Interval
from thbmonitor.mse.table import CaptureTable

__all__ = ["DgaResult", "decomposable_graphs", "fit_dga"]

MAX_RATIO = 20  # n0 runs over 0 .. MAX_RATIO * observed
TOP_MODELS = 10
GRAPH_BLOCK = 32  # graphs per block of the (graphs x n0) log posterior

Clique = tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    """A decomposable graph: its edges, maximal cliques and (non-empty) separators."""

    edges: tuple[tuple[int, int], ...]
    cliques: tuple[Clique, ...]
    separators: tuple[Clique, ...]


def _is_chordal(k: int, adj: list[set[int]]) -> bool:
    left = set(range(k))
    while left:
        for v in left:
            nb = adj[v] & left
            if all(b in adj[a] for a, b in itertools.combinations(nb, 2)):
                left.remove(v)  # simplicial: remove it and go on
                break
        else:
            return False
    return True


def _maximal_cliques(k: int, adj: list[set[int]]) -> list[Clique]:
    cliques: list[Clique] = []
    for size in range(k, 0, -1):
        for sub in itertools.combinations(range(k), size):
            if all(b in adj[a] for a, b in itertools.combinations(sub, 2)) and not any(
                set(sub) <= set(c) for c in cliques
            ):
                cliques.append(sub)
    return sorted(cliques)


def _separators(cliques: list[Clique]) -> list[Clique]:
    """Separators of a junction tree: a maximum-weight spanning tree of the cliques (Kruskal)."""
    pairs = sorted(
        (
            (len(set(a) & set(b)), i, j)
            for (i, a), (j, b) in itertools.combinations(enumerate(cliques), 2)
        ),
        reverse=True,
    )
    parent = list(range(len(cliques)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    seps: list[Clique] = []
    for _w, i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[ri] = rj
            sep = tuple(sorted(set(cliques[i]) & set(cliques[j])))
            if sep:
                seps.append(sep)
    return sorted(seps)


@cache
def decomposable_graphs(k: int) -> tuple[Graph, ...]:
    """All decomposable (chordal) graphs on k labelled vertices, the empty graph first."""
    all_edges = list(itertools.combinations(range(k), 2))
    out = []
    for mask in range(1 << len(all_edges)):
        edges = tuple(e for b, e in enumerate(all_edges) if mask >> b & 1)
        adj: list[set[int]] = [set() for _ in range(k)]
        for a, b in edges:
            adj[a].add(b)
            adj[b].add(a)
        if _is_chordal(k, adj):
            cl = _maximal_cliques(k, adj)
            out.append(Graph(edges, tuple(cl), tuple(_separators(cl))))
    out.sort(key=lambda g: (len(g.edges), g.edges))
    return tuple(out)


@dataclass(frozen=True)
class DgaResult:
    """The posterior of N, averaged over the decomposable graphs."""

    lists: tuple[str, ...]
    observed: int
    delta: float
    n: np.ndarray  # the grid of N (observed + 0 .. 20 observed)
    posterior: np.ndarray  # P(N) on the grid
    graphs: tuple[Graph, ...]
    model_weights: np.ndarray  # posterior probability of each graph
    model_medians: np.ndarray  # each graph's posterior median of N
    level: float = 0.95

    def quantile(self, q: float) -> float:
        """The smallest N whose posterior cumulative probability reaches q."""
        cdf = np.cumsum(self.posterior)
        return float(self.n[min(int(np.searchsorted(cdf, q - 1e-12)), len(self.n) - 1)])

    @property
    def estimate(self) -> float:
        return self.quantile(0.5)

    @property
    def hidden(self) -> float:
        return self.estimate - self.observed

    @property
    def interval(self) -> Interval:
        tail = (1.0 - self.level) / 2.0
        return Interval("posterior", self.level, self.quantile(tail), self.quantile(1.0 - tail))

    def model_name(self, g: Graph) -> str:
        return " + ".join(":".join(self.lists[i] for i in c) for c in g.cliques)

    def top_models(self, n: int = TOP_MODELS) -> list[dict[str, Any]]:
        order = np.argsort(-self.model_weights, kind="stable")[:n]
        return [
            {
                "model": self.model_name(self.graphs[i]),
                "cliques": [[self.lists[v] for v in c] for c in self.graphs[i].cliques],
                "weight": float(self.model_weights[i]),
                "estimate": float(self.model_medians[i]),
            }
            for i in order
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``thbmonitor mse --method dga --json``."""
        mean = float((self.n * self.posterior).sum())
        return {
            "estimate": self.estimate,
            "observed": self.observed,
            "hidden": self.hidden,
            "method": "dga",
            "model": [],
            "interval": self.interval.to_dict(),
            "models": self.top_models(),
            "posterior": {
                "mean": mean,
                "mode": float(self.n[int(np.argmax(self.posterior))]),
                "n_min": int(self.n[0]),
                "n_max": int(self.n[-1]),
                "mass_at_n_max": float(self.posterior[-1]),
                "graphs": len(self.graphs),
            },
            "settings": {"delta": self.delta, "prior_n": "1/N", "max_hidden": int(self.n[-1])},
        }


def _margin(full: np.ndarray, k: int, clique: Clique) -> np.ndarray:
    """Counts of the clique's margin, cell 0 the all-absent one (history code sum x_j 2^j)."""
    codes = np.arange(1 << k)
    sub = np.zeros(1 << k, dtype=np.int64)
    for pos, j in enumerate(clique):
        sub |= ((codes >> j) & 1) << pos
    return np.bincount(sub, weights=full, minlength=1 << len(clique))


def fit_dga(
    table: CaptureTable,
    delta: float | None = None,
    level: float = 0.95,
    max_ratio: int = MAX_RATIO,
) -> DgaResult:
    """Average over the decomposable graphs of 3 to 5 lists (``dga::bma.cr`` with its default
    prior ``-log(N)`` on N and uniform graph weights); ``delta`` defaults to ``1/2^k``."""
    from scipy.special import gammaln, logsumexp

    tab = table.collapse()
    tab.check_estimable()
    k = tab.n_lists
    if not 3 <= k <= 5:
        raise EstimationError(
            f"--method dga averages over decomposable graphs of 3 to 5 lists; this table has {k}."
        )
    if delta is None:
        delta = 1.0 / 2**k
    if not delta > 0:
        raise EstimationError("--delta must be positive.")
    full = tab.full_counts().astype(float)  # index: sum_j x_j 2^j; cell 0 unknown
    full[0] = 0.0
    n_obs = int(full.sum())
    n0 = np.arange(0, max_ratio * n_obs + 1, dtype=float)
    cells = 1 << k
    # per subset C of the lists: log marginal likelihood of its margin, plus the denominator
    subsets = [c for r in range(1, k + 1) for c in itertools.combinations(range(k), r)]
    index = {c: i for i, c in enumerate(subsets)}
    den = gammaln(cells * delta) - gammaln(n0 + n_obs + cells * delta)
    comp = np.empty((len(subsets), len(n0)))
    for i, c in enumerate(subsets):
        d = _margin(full, k, c)
        dc = delta * 2 ** (k - len(c))
        comp[i] = gammaln(n0 + d[0] + dc) + gammaln(d[1:] + dc).sum() - len(d) * gammaln(dc) + den
    graphs = decomposable_graphs(k)
    incidence = np.zeros((len(graphs), len(subsets)))
    for g_i, g in enumerate(graphs):
        for c in g.cliques:
            incidence[g_i, index[c]] += 1.0
        for s in g.separators:
            incidence[g_i, index[s]] -= 1.0
    common = (gammaln(n0 + n_obs + 1) - gammaln(full[1:] + 1).sum() - gammaln(n0 + 1)) - np.log(
        n0 + n_obs
    )  # multinomial coefficient and dga's prior -log(N)
    # log posterior (graph x n0), built for a block of graphs at a time: each graph's weight
    # and median, and the n0 posterior summed over graphs (scaled by the largest term so far)
    col = np.zeros(len(n0))
    top = -np.inf
    log_weights = np.empty(len(graphs))
    medians = np.empty(len(graphs))
    for start in range(0, len(graphs), GRAPH_BLOCK):
        lp = incidence[start : start + GRAPH_BLOCK] @ comp
        lp += common
        peak = lp.max(axis=1)
        lp -= peak[:, None]
        np.exp(lp, out=lp)
        cdf = np.cumsum(lp, axis=1)
        log_weights[start : start + GRAPH_BLOCK] = peak + np.log(cdf[:, -1])
        medians[start : start + GRAPH_BLOCK] = n0[(cdf < 0.5 * cdf[:, -1:]).sum(axis=1)] + n_obs
        new_top = max(top, float(peak.max()))
        col *= np.exp(top - new_top) if np.isfinite(top) else 0.0
        col += np.exp(peak - new_top) @ lp
        top = new_top
    posterior = col / col.sum()
    model_weights = np.exp(log_weights - logsumexp(log_weights))
    return DgaResult(
        lists=tab.lists,
        observed=n_obs,
        delta=float(delta),
        n=n0 + n_obs,
        posterior=posterior,
        graphs=graphs,
        model_weights=model_weights,
        model_medians=medians,
        level=level,
    )
