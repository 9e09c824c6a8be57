"""Persons -> police-register (and population-register) events: one person, many events.

Every registration of a linked person is compared with the register's events by a Splink
``link_only`` model with the same pseudonymised comparisons; a person's score for an event is
the best over their registrations, and an event goes to the one person scoring highest, if at
or above ``police_link_threshold`` (chosen for precision: a false link invents a
re-victimisation). The match probability uses a prior per cohort registration
(:func:`cohort_prior`), not Splink's prior per pair of records, so the links kept at that
threshold, and coverage, do not fall as the register grows. Events sharing no blocking key
with any registration are left out before Splink sees them (one hashed semi-join), and the
rest are linked as distinct identities (identifier combinations) and joined back to events,
so a register of millions costs little more than the matching part.
Coverage is the share of persons linked to at least one event, by nationality group and
residence status (at the person's first registration).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import LinkageError
from thbmonitor.linkage.comparisons import Dialect, blocking_rules
from thbmonitor.linkage.dedupe import Progress
from thbmonitor.linkage.model import PersonModel, engine_tables
from thbmonitor.linkage.prepare import (
    REGISTRATION_AGE,
    TOKEN_COLUMNS,
    LshSpec,
    create_input,
    workspace,
)

if TYPE_CHECKING:
    from thbmonitor.engine.spark import SparkEngine

log = logging.getLogger(__name__)

METHOD = "splink-link-only-best-person"
LEFT, RIGHT = "lk_persons", "lk_events"
# key combinations an event must share with some registration to be compared at all: the
# blocking rules' keys (without the MinHash bands), so that no candidate pair is lost
_PREFILTER_KEYS: tuple[tuple[str, ...], ...] = (
    ("tok_first", "tok_last", "tok_birth_year"),
    ("tok_first", "tok_last", "tok_birth_md"),
    ("tok_last", "tok_dob"),
    ("tok_first", "tok_dob"),
    ("tok_identity",),
    ("tok_dob", "tok_first_sdx"),
    ("tok_dob", "tok_last_sdx"),
    ("tok_dob", "tok_first_nysiis"),
    ("tok_dob", "tok_last_nysiis"),
    ("tok_dob", "tok_first_sdx>tok_last_sdx"),
    ("tok_dob", "tok_last_sdx>tok_first_sdx"),
    ("bf_full", "tok_birth_year"),
)
# rules of the police model only, with their prefilter keys ("a>b" as above; a key may be an
# expression of the event's columns). Found by benchmarks/bench_police_recall.py on the
# default world: of 41,858 recoverable events (police_oracle.py), 2,140 shared no blocking key
# with any of their person's registrations; these rules bring together one exact name and the
# other's phonetic code with the birth year or day and month (a 1 January default or a year
# off by one, and a typo), and both names exact with birth years one apart (an error on each
# side). Each keeps a name exact and a birth-date part, so strangers rarely meet.
EXTRA_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("tok_first", "tok_last_sdx", "tok_birth_year"),
        "l.tok_first = r.tok_first AND l.tok_last_sdx = r.tok_last_sdx"
        " AND l.tok_birth_year = r.tok_birth_year",
    ),
    (
        ("tok_last", "tok_first_sdx", "tok_birth_year"),
        "l.tok_last = r.tok_last AND l.tok_first_sdx = r.tok_first_sdx"
        " AND l.tok_birth_year = r.tok_birth_year",
    ),
    (
        ("tok_first", "tok_last_sdx", "tok_birth_md"),
        "l.tok_first = r.tok_first AND l.tok_last_sdx = r.tok_last_sdx"
        " AND l.tok_birth_md = r.tok_birth_md",
    ),
    (
        ("tok_last", "tok_first_sdx", "tok_birth_md"),
        "l.tok_last = r.tok_last AND l.tok_first_sdx = r.tok_first_sdx"
        " AND l.tok_birth_md = r.tok_birth_md",
    ),
    (
        ("tok_first", "tok_last", "birth_year + 1>birth_year"),
        "l.tok_first = r.tok_first AND l.tok_last = r.tok_last"
        " AND l.birth_year_approx + 1 = r.birth_year_approx",
    ),
    (
        ("tok_first", "tok_last", "birth_year - 1>birth_year"),
        "l.tok_first = r.tok_first AND l.tok_last = r.tok_last"
        " AND l.birth_year_approx - 1 = r.birth_year_approx",
    ),
)


@dataclass(frozen=True)
class PoliceLinkSummary:
    """What :func:`link_police` did, with the coverage of the police register."""

    n_persons: int
    n_events_considered: int
    n_events_linked: int
    n_persons_linked: int
    coverage: pd.DataFrame  # breakdown, group, persons, linked, coverage_pct
    threshold: float
    n_population_events_linked: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def coverage_pct(self) -> float:
        return 100.0 * self.n_persons_linked / self.n_persons if self.n_persons else 0.0


# rules for pairs where one side has no birth date. Two more (one name exact and the other's
# phonetic code) found about 16 more true links on the default world for about 34 false ones
# (precision 0.9985 -> 0.9976, benchmarks/bench_police_recall.py), so only the exact-names
# rule is kept.
NO_DOB = "(l.tok_dob IS NULL OR r.tok_dob IS NULL)"
NO_DOB_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    # the registration model's own rule (blocking_rules), given its prefilter keys here
    (
        ("tok_first", "tok_last"),
        f"l.tok_first = r.tok_first AND l.tok_last = r.tok_last AND {NO_DOB}",
    ),
)


def _prefilter_keys() -> list[tuple[list[str], list[str], str, str]]:
    """Per key combination: the event's columns, the registration's, a condition on the
    event (``e.``) and one on the registration (``g.``)."""
    out = []
    for keys in (*_PREFILTER_KEYS, *(k for k, _ in EXTRA_RULES)):
        pairs = [k.split(">") if ">" in k else [k, k] for k in keys]
        out.append(([a for a, _ in pairs], [b for _, b in pairs], "true", "true"))
    # events without a birth date meet registrations on these keys, and events with one
    # meet registrations without one likewise
    for keys, _ in NO_DOB_RULES:
        out.append((list(keys), list(keys), "e.tok_dob IS NULL", "true"))
        out.append((list(keys), list(keys), "true", "g.tok_dob IS NULL"))
    return out


def _prefilter(con: duckdb.DuckDBPyConnection, home: str, table: str) -> str:
    """SQL of the events sharing a blocking key combination with some registration.

    Every combination is hashed with its number; an event is kept when one of its hashes is
    among the registrations'. A hash collision only keeps an event too many (Splink's
    blocking then compares exact values), never loses one.
    """
    regs = f'"{home}".main.registrations'
    parts = []
    for i, (_, rg, _, rg_cond) in enumerate(_prefilter_keys()):
        present = " AND ".join(f"g.{c} IS NOT NULL" for c in rg)
        cols = ", ".join(f"g.{c}" for c in rg)
        parts.append(f"SELECT hash({i}, {cols}) AS k FROM {regs} g WHERE {present} AND {rg_cond}")
    con.execute(
        f"CREATE OR REPLACE TABLE {REG_KEYS} AS "
        f"SELECT DISTINCT k FROM ({' UNION ALL '.join(parts)})"
    )
    hashes = []
    for i, (ev, _, cond, _) in enumerate(_prefilter_keys()):
        cols = ", ".join(f"e.{c}" for c in ev)
        hashes.append(f"CASE WHEN {cond} THEN hash({i}, {cols}) END")
    return (
        f'(SELECT rowid AS event_row, * FROM "{home}".main.{table} WHERE event_id IN ('
        f"SELECT DISTINCT event_id FROM (SELECT e.event_id, unnest([{', '.join(hashes)}]) AS k "
        f'FROM "{home}".main.{table} e) WHERE k IN (SELECT k FROM {REG_KEYS})))'
    )


# blocking rules of the registration model left out here: on 113,016 persons x 10M events they
# made 2.0M of 11.4M pairs but 43 links at 0.99, 5 of them right (bench_linkage_police.py)
DROPPED_RULES = (
    'l."tok_first_sdx" = r."tok_first_sdx") AND (l."tok_last_sdx" = r."tok_last_sdx") AND '
    '(l."tok_birth_year" = r."tok_birth_year"',
    'l."tok_first_sdx" = r."tok_first_sdx") AND (l."tok_last_sdx" = r."tok_last_sdx") AND '
    '(l."tok_birth_md" = r."tok_birth_md"',
    "l.tok_first_sdx = r.tok_last_sdx AND l.tok_last_sdx = r.tok_first_sdx"
    " AND l.tok_birth_year = r.tok_birth_year",
)


def _rule_sql(rule: Any) -> str:
    return (
        rule if isinstance(rule, str) else str(rule.get_blocking_rule("duckdb").blocking_rule_sql)
    )


def register_rules() -> list[Any]:
    """The registration model's blocking rules (no MinHash bands) without
    :data:`DROPPED_RULES` (phonetic names with a birth year or day alone meet many strangers
    in a register and almost never reach the threshold), :data:`EXTRA_RULES` and
    :data:`NO_DOB_RULES`."""
    kept = [r for r in blocking_rules(0) if _rule_sql(r).strip("()") not in DROPPED_RULES]
    have = {_rule_sql(r) for r in kept}
    return kept + [rule for _, rule in (*EXTRA_RULES, *NO_DOB_RULES) if rule not in have]


class _RegisterModel(PersonModel):
    """:class:`PersonModel` blocking with :func:`register_rules`."""

    def settings(self, words: int = 0, dialect: Dialect = "duckdb") -> Any:
        settings = super().settings(words, dialect)
        settings.blocking_rules_to_generate_predictions = register_rules()
        return settings


# lowest match probability of a person-event pair kept as a candidate (person_police_candidates)
CANDIDATE_FLOOR = 0.1
# An event whose birth date is a register's default day (prepare.flag_default_days: a
# 1 January) in the birth year of a registration with exactly the same full name is linked from
# DEFAULT_DAY_FLOOR, not the threshold. The model weighs "default date, same year" as if it
# were independent of the names (Bayes factor about 22), so such pairs score 0.85-0.95; on the
# default world (seed 20211207, benchmarks/bench_police_recall.py) the top candidates of this
# kind between 0.5 and 0.95 were right in 340 of 341 (by the truth files), where all top
# candidates between 0.9 and 0.95 were right in 614 of 767.
DEFAULT_DAY_FLOOR = 0.5
DEFAULT_DAY_SAME_NAME = (
    "ev.dob_uncertain AND l.tok_full = ev.tok_full AND l.tok_birth_year = ev.tok_birth_year"
)
IDENTITIES = "lk_event_identity"
REG_KEYS = "lk_registration_keys"
# what the comparisons read of an event; events equal on all of it are one identity to link
# (the birth year, the one derived field compared, follows from tok_birth_year)
_IDENTITY_COLUMNS = (*TOKEN_COLUMNS, "sex", "birth_year")


def _identify_events(con: duckdb.DuckDBPyConnection, events_sql: str) -> int:
    """Map the candidate events to identities (distinct identifier combinations).

    A register repeats a person's identifiers on every event, so persons are linked to far
    fewer identities than events and the links are joined back to events. An identity is a
    64-bit hash of :data:`_IDENTITY_COLUMNS` (a collision among n
    identities has probability about n^2 / 2^65). Returns the number of events.
    """
    key = f"hash({', '.join(f'e.{c}' for c in _IDENTITY_COLUMNS)})"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {IDENTITIES} AS
        SELECT event_id, event_row, identity_id,
               row_number() OVER (PARTITION BY identity_id ORDER BY event_row) = 1
                   AS representative,
               dense_rank() OVER (ORDER BY identity_id) AS identity_no
        FROM (SELECT e.event_id, e.event_row, {key} AS identity_id FROM {events_sql} e)
        """
    )
    row = con.execute(f"SELECT count(*), count(DISTINCT identity_id) FROM {IDENTITIES}")
    n_events, n_identities = row.fetchall()[0]
    log.debug("%d candidate events hold %d identities", n_events, n_identities)
    return int(n_events)


def link_events(
    con: duckdb.DuckDBPyConnection,
    event_table: str,
    *,
    threshold: float,
    seed: int,
    progress: Progress | None = None,
    candidate_floor: float | None = None,
    trained: dict[str, Any] | None = None,
    spark: SparkEngine | None = None,
) -> tuple[pd.DataFrame, int, dict[str, Any]]:
    """Link the store's linked registrations to ``event_table``.

    Returns the links (``person_id``, ``event_id``, ``match_probability``), the number of
    events compared, and the trained model's parameters. With ``candidate_floor`` the frame
    holds every person scoring at least that for an event (the candidates from which the
    follow-up draws link sets), with a column ``linked``: the link kept at ``threshold``.
    With ``trained`` (the register model of an earlier run) that model is applied, not trained.
    With ``spark`` the model is trained (or set up) and the pairs scored on Spark; the
    register's prefilter, its identities and the linkage input are still made here in DuckDB.
    """
    say = progress or (lambda _msg: None)
    model = _RegisterModel(
        link_type="link_only",
        lsh=LshSpec(bands=0),
        fields=("sex", "tok_identity"),  # dates and places of events say nothing here
        seed=seed,
        predict_floor=min(threshold, 0.5, candidate_floor or 1.0),
        u_max_pairs=3e5,
    )
    if trained is not None:
        model.load(trained)
    with workspace(con) as home:
        say("preparing registrations and events")
        common: dict[str, Any] = {
            "id_column": "",
            "nationality_column": None,
            "lsh": model.lsh,
        }
        create_input(
            con,
            LEFT,
            f'"{home}".main.registrations',
            **{**common, "id_column": "registration_id"},
            date_column="registration_date",
            age_column=REGISTRATION_AGE,
        )
        n_events = _identify_events(con, _prefilter(con, home, event_table))
        source = (
            f'(SELECT e.*, i.identity_id, i.identity_no FROM "{home}".main.{event_table} e '
            f"JOIN {IDENTITIES} i ON e.rowid = i.event_row WHERE i.representative) AS ev"
        )
        n_identities = create_input(
            con,
            RIGHT,
            source,
            **{**common, "id_column": "identity_id"},
            dense_id_column="identity_no",
            date_column="event_date",
            age_column=None,
        )
        if n_identities < 2:
            return _empty_links(), n_events, {}
        say(f"training the register model on {n_identities} identities of {n_events} events")
        tables = engine_tables(con, spark, [LEFT, RIGHT])
        model.fit(tables, [LEFT, RIGHT])
        prior = set_cohort_prior(con, model)
        say("scoring registration-event pairs")
        edges = tables.fetch(
            con,
            model.predict(),
            "source_dataset_l, source_dataset_r, unique_id_l, unique_id_r, match_probability",
            "lk_register_edges",
        )
        sources = con.execute(f"SELECT DISTINCT source_dataset_l FROM {edges}").fetchall()
        log.debug("source datasets on the left: %s", sources)
        links = con.execute(
            f"""
            WITH oriented AS (  -- Splink may put either dataset on the left
                SELECT CASE WHEN source_dataset_l = '{LEFT}' THEN unique_id_l
                            ELSE unique_id_r END AS reg_uid,
                       CASE WHEN source_dataset_l = '{LEFT}' THEN unique_id_r
                            ELSE unique_id_l END AS event_uid,
                       match_probability
                FROM {edges}
                WHERE source_dataset_l <> source_dataset_r
            ),
            scored AS (
                SELECT rp.person_id, ev.record_id AS identity_id,
                       max(e.match_probability) AS match_probability,
                       bool_or({DEFAULT_DAY_SAME_NAME}) AS default_day_same_name
                FROM oriented e
                JOIN {LEFT} l ON e.reg_uid = l.unique_id
                JOIN {RIGHT} ev ON e.event_uid = ev.unique_id
                JOIN "{home}".main.registration_person rp ON rp.registration_id = l.record_id
                GROUP BY rp.person_id, ev.record_id
            ),
            ranked AS (
                SELECT *, row_number() OVER (
                    PARTITION BY identity_id ORDER BY match_probability DESC, person_id
                ) AS rank
                FROM scored
            ),
            decided AS (
                SELECT *, rank = 1 AND (match_probability >= $threshold OR (
                    default_day_same_name AND match_probability >= $default_day_floor
                )) AS linked
                FROM ranked
            )
            SELECT r.person_id, i.event_id, r.match_probability, r.linked
            FROM decided r JOIN {IDENTITIES} i USING (identity_id)
            WHERE r.linked OR ($candidates AND r.match_probability >= $floor)
            ORDER BY r.person_id, i.event_id
            """,
            {
                "threshold": threshold,
                "default_day_floor": min(threshold, DEFAULT_DAY_FLOOR),
                "floor": threshold if candidate_floor is None else candidate_floor,
                "candidates": candidate_floor is not None,
            },
        ).df()
        if candidate_floor is None:
            links = links.drop(columns="linked")
    return links, n_events, {**model.parameters_, "cohort_prior": prior}


def cohort_prior(n_registrations: int) -> float:
    """Prior probability that an event belongs to one given registration of the cohort.

    The prior is set as if the event were known to belong to one of the cohort's
    ``n_registrations`` registrations, all equally likely: it does not depend on how many
    unrelated events the register holds, so neither do the links kept at a fixed threshold.
    Splink's own estimate (true pairs / all pairs) falls with the register's size.
    """
    return 1.0 / max(n_registrations, 2)


def set_cohort_prior(con: duckdb.DuckDBPyConnection, model: PersonModel) -> dict[str, float]:
    """Replace the trained model's prior by :func:`cohort_prior`; both priors, for the record."""
    row = con.execute(f"SELECT count(*) FROM {LEFT}").fetchall()[0]
    settings = model.linker_._settings_obj
    estimated = float(settings._probability_two_random_records_match)
    prior = cohort_prior(int(row[0]))
    settings._probability_two_random_records_match = prior
    log.debug("police prior: estimated %.3g, cohort %.3g", estimated, prior)
    return {"estimated": estimated, "used": prior}


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": pd.Series([], dtype=object),
            "event_id": pd.Series([], dtype=object),
            "match_probability": pd.Series([], dtype=float),
        }
    )


def coverage_table(store: Store) -> pd.DataFrame:
    """Persons linked to at least one police event, by nationality group and residence status.

    A person's group and status are those of their first registration.
    """
    frame = store.df(
        """
        WITH first AS (
            SELECT p.person_id, r.nationality_group, r.residence_status,
                   row_number() OVER (PARTITION BY p.person_id
                                      ORDER BY r.registration_date, r.registration_id) AS k
            FROM registration_person p JOIN registrations r USING (registration_id)
        ),
        persons AS (
            SELECT f.person_id, f.nationality_group, f.residence_status,
                   EXISTS (SELECT 1 FROM person_police pp WHERE pp.person_id = f.person_id)
                       AS linked
            FROM first f WHERE k = 1
        )
        SELECT 'nationality_group' AS breakdown, nationality_group AS "group",
               count(*) AS persons, count(*) FILTER (WHERE linked) AS linked
        FROM persons GROUP BY nationality_group
        UNION ALL
        SELECT 'residence_status', residence_status, count(*), count(*) FILTER (WHERE linked)
        FROM persons GROUP BY residence_status
        UNION ALL
        SELECT 'total', 'all', count(*), count(*) FILTER (WHERE linked) FROM persons
        ORDER BY 1, 2
        """
    )
    frame["persons"] = frame["persons"].astype("int64")
    frame["linked"] = frame["linked"].astype("int64")
    frame["coverage_pct"] = 100.0 * frame["linked"] / frame["persons"]
    return frame


def link_police(
    store: Store,
    settings: Settings,
    progress: Progress | None = None,
    *,
    trained: dict[str, Any] | None = None,
    spark: SparkEngine | None = None,
) -> PoliceLinkSummary:
    """Link persons to the police register (and the population register, when ingested).

    Replaces ``person_police`` (and ``person_population``) and ``person_police_candidates``
    (every person scoring at least :data:`CANDIDATE_FLOOR` for an event, from which the
    follow-up draws link sets; ``person_population_candidates`` likewise, for review) and
    records the run in ``linkage_runs``. Needs :func:`thbmonitor.linkage.link_registrations`
    to have run. ``trained`` holds the police and population models of an earlier run
    (``police``, ``population``: Splink models), applied instead of training.
    """
    n_persons = int(store.scalar("SELECT count(DISTINCT person_id) FROM registration_person"))
    if n_persons == 0:
        raise LinkageError("no persons yet: link the registrations first ('thbmonitor link')")
    t0 = time.perf_counter()
    candidates, n_events = _empty_links().assign(linked=pd.Series([], dtype=bool)), 0
    parameters: dict[str, Any] = {}
    if store.scalar("SELECT count(*) FROM police_events"):
        candidates, n_events, parameters = link_events(
            store.con,
            "police_events",
            threshold=settings.police_link_threshold,
            seed=settings.seed,
            progress=progress,
            candidate_floor=CANDIDATE_FLOOR,
            trained=(trained or {}).get("police"),
            spark=spark,
        )
    else:
        log.warning("the police register is empty: no person is linked to it")
    seconds = {"police": time.perf_counter() - t0}
    links = candidates.loc[candidates["linked"], ["person_id", "event_id", "match_probability"]]
    links = links.reset_index(drop=True)
    n_population = 0
    population: pd.DataFrame | None = None
    population_candidates: pd.DataFrame | None = None
    population_parameters: dict[str, Any] = {}
    if store.has_table("population_events") and store.scalar(
        "SELECT count(*) FROM population_events"
    ):
        t1 = time.perf_counter()
        population_candidates, _, population_parameters = link_events(
            store.con,
            "population_events",
            threshold=settings.police_link_threshold,
            seed=settings.seed,
            progress=progress,
            candidate_floor=CANDIDATE_FLOOR,
            trained=(trained or {}).get("population"),
            spark=spark,
        )
        population = population_candidates.loc[
            population_candidates["linked"], ["person_id", "event_id", "match_probability"]
        ]
        n_population = len(population)
        seconds["population"] = time.perf_counter() - t1
    run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM linkage_runs"))
    with store.transaction():
        store.execute("DELETE FROM person_police")
        store.register("_lk_police", links)
        try:
            store.execute(
                "INSERT INTO person_police SELECT person_id, event_id, match_probability "
                "FROM _lk_police"
            )
        finally:
            store.unregister("_lk_police")
        store.execute("DELETE FROM person_police_candidates")
        store.register("_lk_candidates", candidates)
        try:
            store.execute(
                "INSERT INTO person_police_candidates SELECT person_id, event_id, "
                "match_probability FROM _lk_candidates"
            )
        finally:
            store.unregister("_lk_candidates")
        for table, frame in (
            ("person_population", population),
            ("person_population_candidates", population_candidates),
        ):
            if frame is None:
                continue
            store.execute(f"DELETE FROM {table}")
            store.register("_lk_population", frame)
            try:
                store.execute(
                    f"INSERT INTO {table} SELECT person_id, event_id, match_probability "
                    "FROM _lk_population"
                )
            finally:
                store.unregister("_lk_population")
        notes = {"kind": "police", "n_events_considered": n_events, "seconds": seconds}
        store.execute(
            "INSERT INTO linkage_runs VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)",
            [
                run_id,
                datetime.now(),
                METHOD,
                json.dumps(
                    {
                        "splink_model": parameters,
                        "population_model": population_parameters,
                        "threshold": settings.police_link_threshold,
                        "model_given": trained is not None,
                    },
                    default=str,
                ),
                len(links),
                links["person_id"].nunique(),
                json.dumps(notes),
            ],
        )
    coverage = coverage_table(store)
    return PoliceLinkSummary(
        n_persons=n_persons,
        n_events_considered=n_events,
        n_events_linked=len(links),
        n_persons_linked=int(links["person_id"].nunique()),
        coverage=coverage,
        threshold=settings.police_link_threshold,
        n_population_events_linked=n_population,
        seconds=seconds,
    )
