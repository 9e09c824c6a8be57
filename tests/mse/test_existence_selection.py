"""Existence checks and the model space, against SparseMSE's LP and known counts."""

from __future__ import annotations

import numpy as np
import pytest

from thbmonitor.mse.existence import check_model, lp_exists, lp_exists_full
from thbmonitor.mse.loglinear import canonical, reduce_terms
from thbmonitor.mse.selection import hierarchical_models, select_exhaustive


def test_fast_existence_check_agrees_with_the_sparsemse_lp() -> None:
    """The null-space check must give the answer of SparseMSE ``checkident``'s LP
    (``lpSolve::lp("max", ...)``, reimplemented in ``lp_exists_full``) on sparse random tables,
    including cases where the MLE does not exist."""
    rng = np.random.default_rng(20210101)
    n_missing = 0
    for _ in range(150):
        k = int(rng.integers(3, 6))
        p = rng.uniform(0.02, 0.5, k)
        codes = np.arange(1 << k)
        h = (codes[:, None] >> np.arange(k)) & 1
        prob = np.prod(np.where(h == 1, p, 1 - p), axis=1)
        full = rng.poisson(prob * rng.uniform(20, 200)).astype(float)
        full[0] = 0
        models = hierarchical_models(k, 3 if k == 3 else 2)
        terms = models[int(rng.integers(len(models)))]
        r = reduce_terms(full, k, canonical(terms))
        if r.y.sum() == 0:
            continue
        full_lp = lp_exists_full(r.x, r.y)
        n_missing += not full_lp
        assert lp_exists(r.x, r.y) == full_lp
    assert n_missing >= 5  # the comparison did cover non-existence


@pytest.mark.parametrize(("k", "maxorder", "count"), [(3, 3, 9), (4, 4, 114), (5, 5, 6894)])
def test_number_of_hierarchical_models(k: int, maxorder: int, count: int) -> None:
    """Hierarchical log-linear models containing all main effects = abstract simplicial
    complexes on k labelled vertices, OEIS A006126: 9, 114, 6894."""
    assert len(hierarchical_models(k, maxorder)) == count


def test_six_list_pairwise_catalogue() -> None:
    """MultipleSystemsEstimation ``estimate_population_bic`` docs: 32,768 six-list models
    with interactions of order at most 2."""
    assert len(hierarchical_models(6, 2)) == 2**15


@pytest.mark.parametrize(
    ("name", "maxorder", "size"), [("NewOrl_5_SparseMSE", 2, 1024), ("UKdat_5", 3, 6212)]
)
def test_exhaustive_checks_equal_direct_checks(load, name, maxorder, size) -> None:  # type: ignore[no-untyped-def]
    """The cached existence and rank results used by exhaustive search equal one LP and one
    rank computation per model (checked on a random sample, including failures)."""
    tab = load(name)
    full = tab.full_counts()
    sel = select_exhaustive(full, 5, "bic", maxorder=maxorder)
    assert len(sel.candidates) == size
    rng = np.random.default_rng(3)
    failing = [i for i, (f, _c) in enumerate(sel.candidates) if f is None]
    sample = [*rng.choice(len(sel.candidates), 80, replace=False).tolist(), *failing[:20]]
    for i in sample:
        _fit, chk = sel.candidates[int(i)]
        direct = check_model(full, 5, chk.terms)
        assert (chk.exists, chk.identifiable) == (direct.exists, direct.identifiable)
    ok = [(f.bic, len(c.terms)) for f, c in sel.candidates if f is not None]
    assert (sel.fit.bic, len(sel.fit.terms)) == min(ok)


def test_exhaustive_search_refuses_too_many_lists(load) -> None:  # type: ignore[no-untyped-def]
    """MultipleSystemsEstimation ``estimate_population_bic`` stops for more than six lists
    (New Orleans has eight: 2^28 pairwise models)."""
    from thbmonitor.errors import EstimationError
    from thbmonitor.mse import MultipleSystemsEstimator

    with pytest.raises(EstimationError, match="stepwise"):
        MultipleSystemsEstimator(method="bic").fit(load("NewOrl_SparseMSE"))


@pytest.mark.parametrize(("name", "maxorder"), [("NewOrl_5_SparseMSE", 2), ("UKdat_5", 3)])
def test_batched_fits_equal_one_at_a_time_fits(load, name, maxorder) -> None:  # type: ignore[no-untyped-def]
    """Exhaustive search fits models on the same cells together (fit_loglinear_many); every
    fit equals fit_loglinear's (both tables have empty overlaps: -inf terms, fewer cells)."""
    from thbmonitor.mse.loglinear import fit_loglinear

    tab = load(name)
    full = tab.full_counts()
    sel = select_exhaustive(full, 5, "bic", maxorder=maxorder)
    fitted = [(f, c) for f, c in sel.candidates if f is not None]
    assert any(f.neginf_terms for f, _c in fitted) and any(not f.neginf_terms for f, _c in fitted)
    rng = np.random.default_rng(5)
    for i in rng.choice(len(fitted), 150, replace=False):
        batch, chk = fitted[int(i)]
        one = fit_loglinear(full, 5, chk.terms)
        assert batch.terms == one.terms and batch.neginf_terms == one.neginf_terms
        assert np.array_equal(batch.cells, one.cells)
        assert np.array_equal(batch.x_design, one.x_design)
        np.testing.assert_allclose(batch.coef, one.coef, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(batch.fisher, one.fisher, rtol=1e-9)
        assert batch.deviance == pytest.approx(one.deviance, rel=1e-9, abs=1e-9)
        assert batch.loglik == pytest.approx(one.loglik, rel=1e-12)
        assert batch.estimate == pytest.approx(one.estimate, rel=1e-9)
        assert (batch.df, batch.n_params, batch.converged) == (one.df, one.n_params, one.converged)
