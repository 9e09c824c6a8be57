"""Truth-based oracle: which police events of registered persons any linkage could recover.

Reads a synthetic world's plaintext files (the registrations, the police register and the
truth), which only a benchmark may do: the store holds tokens only. For every true event of a
registered person (``truth/police_event_person.csv`` joined to
``truth/registration_person.csv``) the event's identifiers are compared with those of each of
the person's registrations, and the best agreement over the registrations is kept:

- identity number: equal / not (missing on either side counts as not equal);
- each name part: exact, close (Jaro-Winkler >= 0.85 or edit distance <= 2 after
  :func:`thbmonitor.pseudonymise.normalise_name`), swapped with the other part, or different;
- birth date: exact, an error a registration makes (day and month swapped, 1 January, year off
  by one: the corruptions of ``synth/identity.noisy_dates``), missing on either side, or far.

An event is *recoverable* when its identifiers would let a careful reviewer who sees only the
two records pick this person: the identity number agrees; or the birth date is exact or a
known error and at least one name part is close; or the birth date is missing on one side,
both name parts are close and no other person (in the register or the registrations) carries
either record's full name (names come from small pools per nationality: in the default world
about twenty register persons share a common full name); or both name parts are close and the
birth years differ by at most one (an error on each record, say a 1 January default against a
swapped day and month). Everything else is *unrecoverable*, with the reason: ``names
replaced`` (neither part close: an alias or the world's "non-linkable" identity), ``birth
date far, one name`` (one name part close, the birth date beyond the known errors), ``no
birth date, one name``, ``no birth date, name shared``. The oracle does not read the world's
``linkable`` flag; the benchmark prints how the two agree, so the flag's part in the ceiling
is visible.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from thbmonitor.pseudonymise import normalise_name

NAME_JW = 0.85
NAME_EDITS = 2


def _close(a: str, b: str) -> str:
    return (
        f"({a} IS NOT NULL AND {b} IS NOT NULL AND ({a} = {b} "
        f"OR jaro_winkler_similarity({a}, {b}) >= {NAME_JW} "
        f"OR levenshtein({a}, {b}) <= {NAME_EDITS}))"
    )


def _dob_level(a: str, b: str) -> str:
    return f"""CASE
        WHEN {a} IS NULL OR {b} IS NULL THEN 'missing'
        WHEN {a} = {b} THEN 'exact'
        WHEN year({a}) = year({b}) AND month({a}) = day({b}) AND day({a}) = month({b})
            THEN 'day and month swapped'
        WHEN year({a}) = year({b}) AND ((month({a}) = 1 AND day({a}) = 1)
                                        OR (month({b}) = 1 AND day({b}) = 1))
            THEN '1 January'
        WHEN abs(year({a}) - year({b})) = 1 AND month({a}) = month({b})
             AND (day({a}) = day({b}) OR (month({a}) = 2 AND least(day({a}), day({b})) = 28))
            THEN 'year off by one'
        ELSE 'far' END"""


def oracle(world: Path) -> pd.DataFrame:
    """One row per true event of a registered person: event_id, person_id, recoverable, reason,
    and the best agreement levels (id_equal, first, last, dob)."""
    con = duckdb.connect()
    con.create_function("norm", normalise_name, [str], str, null_handling="special")  # type: ignore[arg-type]
    reg = f"'{world / 'registrations.csv'}'"
    con.execute(
        f"""CREATE TABLE regs AS
        SELECT r.registration_id, t.person_id,
               norm(r.first_names) AS first, norm(r.last_name) AS last,
               TRY_CAST(r.date_of_birth AS DATE) AS dob, nullif(r.identity_number, '') AS idn
        FROM read_csv({reg}, all_varchar = true) r
        JOIN read_csv('{world / "truth" / "registration_person.csv"}', all_varchar = true) t
        USING (registration_id)"""
    )
    con.execute(
        f"""CREATE TABLE events AS
        SELECT e.event_id, t.person_id, norm(e.first_names) AS first,
               norm(e.last_name) AS last, e.date_of_birth AS dob, e.identity_number AS idn
        FROM read_parquet('{world / "police_register.parquet"}') e
        JOIN read_csv('{world / "truth" / "police_event_person.csv"}', all_varchar = true) t
        USING (event_id)
        WHERE t.person_id IN (SELECT person_id FROM regs)"""
    )
    # persons carrying each full name anywhere (register or registrations): without a birth
    # date, a name that another person also carries cannot tell the two apart
    con.execute(
        f"""CREATE TABLE carriers AS
        SELECT first, last, count(DISTINCT person_id) AS persons FROM (
            SELECT t.person_id, norm(e.first_names) AS first, norm(e.last_name) AS last
            FROM read_parquet('{world / "police_register.parquet"}') e
            JOIN read_csv('{world / "truth" / "police_event_person.csv"}', all_varchar = true)
                t USING (event_id)
            UNION ALL SELECT person_id, first, last FROM regs
        ) GROUP BY ALL"""
    )
    pairs = f"""
        SELECT e.event_id, e.person_id,
               coalesce(e.idn = r.idn, false) AS id_equal,
               {_close("e.first", "r.first")} AS first_close,
               {_close("e.last", "r.last")} AS last_close,
               ({_close("e.first", "r.last")} AND {_close("e.last", "r.first")}) AS swapped,
               {_dob_level("e.dob", "r.dob")} AS dob, year(e.dob) - year(r.dob) AS year_gap,
               greatest(ce.persons, cr.persons) > 1 AS name_shared
        FROM events e JOIN regs r USING (person_id)
        LEFT JOIN carriers ce ON ce.first = e.first AND ce.last = e.last
        LEFT JOIN carriers cr ON cr.first = r.first AND cr.last = r.last"""
    frame = con.execute(
        f"""
        WITH p AS ({pairs}),
        graded AS (
            SELECT *, (first_close AND last_close) OR swapped AS both_names,
                   first_close OR last_close OR swapped AS one_name,
                   dob IN ('exact', 'day and month swapped', '1 January', 'year off by one')
                       AS dob_near,
                   dob = 'far' AND abs(year_gap) <= 1 AS dob_year_near
            FROM p
        ),
        scored AS (
            SELECT *, CASE
                WHEN id_equal THEN 0
                WHEN dob_near AND one_name THEN 1
                WHEN dob = 'missing' AND both_names AND NOT coalesce(name_shared, false) THEN 2
                WHEN both_names AND dob_year_near THEN 3
                WHEN NOT one_name THEN 7
                WHEN dob = 'missing' AND both_names THEN 6
                WHEN dob = 'missing' THEN 5
                ELSE 4 END AS grade
            FROM graded
        ),
        best AS (
            SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY grade,
                   both_names DESC, dob = 'exact' DESC) AS k
            FROM scored
        )
        SELECT event_id, person_id, grade <= 3 AS recoverable,
               CASE grade WHEN 0 THEN 'identity number'
                          WHEN 1 THEN 'birth date and a name'
                          WHEN 2 THEN 'both names, no birth date'
                          WHEN 3 THEN 'both names, birth year near'
                          WHEN 4 THEN 'birth date far, one name'
                          WHEN 5 THEN 'no birth date, one name'
                          WHEN 6 THEN 'no birth date, name shared'
                          ELSE 'names replaced' END AS reason,
               id_equal, first_close, last_close, swapped, dob
        FROM best WHERE k = 1 ORDER BY event_id
        """
    ).df()
    con.close()
    return frame
