"""Capture histories: per person and year, which reporting organisations registered them.

The output is the count table of multiple-systems estimation, in the format of
``shared/reference/mse``: one 0/1 column per list (the reporting organisation codes), the
covariate columns, and ``count``; the all-zero history never appears.
"""

from __future__ import annotations

import pandas as pd

from thbmonitor.engine import Store
from thbmonitor.errors import LinkageError
from thbmonitor.profiles import default_profile
from thbmonitor.store import store_organisations

# the lists of capture-recapture of a frame without a store: the default profile's reporting
# organisations (a store's are those of the profile it was ingested with: store_lists)
LISTS: tuple[str, ...] = default_profile().field_codes("reporting_organisation")
COVARIATES = frozenset(
    {
        "year",
        "sex",
        "age_band",
        "nationality_group",
        "residence_status",
        "monitor_group",
        "municipality",
    }
)


def history_table(
    frame: pd.DataFrame,
    lists: tuple[str, ...] | None = None,
    covariates: tuple[str, ...] = ("year",),
) -> pd.DataFrame:
    """Count table of capture histories from registration rows.

    ``frame`` has ``person_id``, ``reporting_organisation``, ``registration_year`` and the
    covariate columns (``year`` is the registration year). A person's covariate in a year is
    the one of their first registration that year (rows are taken in their given order).
    """
    lists = lists or LISTS
    unknown = set(frame["reporting_organisation"].dropna().unique()) - set(lists)
    if unknown:
        raise LinkageError(f"{len(unknown)} reporting organisation code(s) not among the lists")
    work = frame.rename(columns={"registration_year": "year"})
    keys = ["person_id", "year"]
    flags = pd.crosstab([work["person_id"], work["year"]], work["reporting_organisation"]).reindex(
        columns=list(lists), fill_value=0
    )
    flags = (flags > 0).astype("int64")
    other = [c for c in covariates if c != "year"]
    if other:
        first = work.groupby(keys, sort=False)[other].first()
        flags = flags.join(first)
    flags = flags.reset_index()
    cols = [*lists, *covariates]
    counts = flags.groupby(cols, dropna=False).size().rename("count").reset_index()
    return counts.sort_values(cols).reset_index(drop=True)


def store_lists(store: Store) -> tuple[str, ...]:
    """The lists of capture-recapture of a store: the reporting organisations of the country
    profile it was ingested with (the default profile's for a store made before stores
    recorded their profile)."""
    return store_organisations(store) or LISTS


def capture_histories(store: Store, covariates: tuple[str, ...] = ("year",)) -> pd.DataFrame:
    """Capture histories per person and year from the store's linkage (see module docstring).

    ``covariates`` are taken from :data:`COVARIATES`; ``year`` is the registration year.
    """
    bad = [c for c in covariates if c not in COVARIATES]
    if bad:
        raise LinkageError(
            f"unknown covariate(s) {', '.join(bad)}; choose from {', '.join(sorted(COVARIATES))}"
        )
    if not store.scalar("SELECT count(*) FROM registration_person"):
        raise LinkageError("no linkage in the store yet; run 'thbmonitor link' first")
    other = [c for c in covariates if c != "year"]
    select = "".join(f", r.{c}" for c in other)
    frame = store.df(
        "SELECT p.person_id, r.reporting_organisation, r.registration_year"
        f"{select} FROM registrations r JOIN registration_person p USING (registration_id)"
        " ORDER BY r.registration_date, r.registration_id"
    )
    return history_table(frame, store_lists(store), tuple(covariates))
