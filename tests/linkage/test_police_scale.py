"""Coverage of the police linkage must not depend on the register's size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from thbmonitor.config import Settings
from thbmonitor.linkage import link_police
from thbmonitor.store import open_store

FIRST = ("tok_first", "tok_first1", "tok_first_sdx", "tok_first_nysiis", "bf_first")
LAST = ("tok_last", "tok_last_sdx", "tok_last_nysiis", "bf_last")
DOB = ("tok_dob", "tok_birth_year", "tok_birth_md",
       "birth_year", "dob_uncertain", "dob_missing")  # fmt: skip


def _pad(store, target: int) -> None:  # type: ignore[no-untyped-def]
    """Append background events (first name, last name and birth date each taken from a
    different random event: strangers from the register's own pools) up to ``target`` rows."""
    rounds = 0
    n = int(store.scalar("SELECT count(*) FROM police_events"))
    while n < target:
        rounds += 1
        parts = [
            f"(SELECT {', '.join(cols)}, row_number() OVER (ORDER BY hash(event_id, "
            f"{7 * rounds + i})) AS k FROM police_events) p{i}"
            for i, cols in enumerate((FIRST, LAST, DOB))
        ]
        store.execute(
            f"""
            INSERT INTO police_events BY NAME
            SELECT 'BG' || {rounds} || '-' || p0.k AS event_id, e.event_date, e.event_year,
                   e.role, e.crime_type, e.sex, {", ".join(f"p0.{c}" for c in FIRST)},
                   {", ".join(f"p1.{c}" for c in LAST)}, {", ".join(f"p2.{c}" for c in DOB)}
            FROM {parts[0]} JOIN {parts[1]} USING (k) JOIN {parts[2]} USING (k)
            JOIN (SELECT *, row_number() OVER () AS k FROM police_events) e USING (k)
            WHERE p0.k <= {min(n, target - n)}
            """
        )
        n = int(store.scalar("SELECT count(*) FROM police_events"))


def _link_padded(linked, path: Path, events: int) -> tuple[float, float, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Coverage (%), precision and priors of the police links after padding the register."""
    shutil.copy(linked.store_path, path)
    with open_store(str(path), create=True) as store:
        _pad(store, events)
        summary = link_police(store, Settings())
        links = store.df("SELECT person_id, event_id FROM person_police")
        pred = store.df("SELECT registration_id, person_id FROM registration_person")
        run = store.scalar("SELECT parameters FROM linkage_runs ORDER BY run_id DESC LIMIT 1")
    world = linked.world
    owner = (
        pred.merge(world.truth_registrations, on="registration_id", suffixes=("", "_true"))
        .groupby("person_id")["person_id_true"]
        .agg(lambda s: s.mode().iloc[0])
    )
    checked = links.merge(world.truth_events, on="event_id", how="left", suffixes=("", "_true"))
    correct = checked["person_id"].map(owner) == checked["person_id_true"]
    prior = json.loads(run)["splink_model"]["cohort_prior"]
    return summary.coverage_pct, float(correct.mean()) if len(checked) else 0.0, prior


def test_coverage_does_not_fall_with_register_size(linked, tmp_path: Path) -> None:
    """Reference: truth/police_event_person.csv (a background event belongs to no one).

    The same cohort against a register padded with unrelated events to 20,000 and to 200,000
    rows: coverage within 2 points, and precision at least 0.95 both times.
    """
    small_cov, small_prec, small_prior = _link_padded(linked, tmp_path / "small.duckdb", 20_000)
    big_cov, big_prec, big_prior = _link_padded(linked, tmp_path / "big.duckdb", 200_000)
    # Splink's own prior falls as the register grows; the one used for scoring does not
    assert big_prior["estimated"] < small_prior["estimated"]
    assert big_prior["used"] == small_prior["used"]
    print(f"coverage {small_cov:.2f} / {big_cov:.2f}; precision {small_prec:.4f} / {big_prec:.4f}")
    assert small_cov > 0
    assert abs(small_cov - big_cov) <= 2.0, (small_cov, big_cov)
    assert small_prec >= 0.95 and big_prec >= 0.95, (small_prec, big_prec)
