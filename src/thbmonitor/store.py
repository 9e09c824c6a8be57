"""The monitoring store (a DuckDB file): its tables, its identity, its key and its state.

Tables
------
``store_meta``           what the store is: application, schema version, key fingerprint,
                         data generation and linkage state (see below)
``ingested_files``       one row per imported file (by SHA-256): importing twice adds nothing
``registrations``        one row per registration, pseudonymised (tokens, Bloom filters, bands)
``police_events``        one row per police-register event, pseudonymised the same way
``population_events``    residents, deaths and emigrations (population register), pseudonymised
                         the same way; a resident record keeps the year only, not the date
``population_denominators``  resident population by year, sex and age band (rates per 100,000)
``registration_person``  the linkage: registration_id -> person_id (written by ``link``)
``registration_person_sensitivity``  the same linkage at other thresholds: threshold,
                         registration_id -> cluster label (for the hidden number's sensitivity)
``registration_pairs``   the scored registration pairs of the last ``link`` (replaced by each
                         run): registration_id_l < registration_id_r, the model's match weight
                         and probability, and whether the clustering put them in one person;
                         record ids and scores only (for review and for linkage error in MSE)
``review_labels``        clerical-review judgements (``link --labels``): pair_kind
                         ('registration' | 'police'), left_id, right_id, label ('match' |
                         'non-match'), the model's probability when judged, when, and the
                         review file's SHA-256; every later ``link`` keeps them
``review_design``        per judged pair: whether the linkage joined it when it was judged, and
                         how it came into the sample (``drawn`` uncertain | random, its score
                         band and the band's number of pairs): the report's review figures
``person_police``        persons linked to police events, with the match probability
``person_police_candidates``  every person scoring at least 0.1 for a police event (the
                         links and the runners-up below the threshold): the follow-up draws
                         link sets from them to carry linkage error into its intervals
``person_population``    persons linked to population-register events (death, emigration)
``person_population_candidates``  the same for population-register events (for review)
``person_ids``           every person id ever issued, with the run that issued it (stable ids)
``linkage_runs``         one row per linkage run: method, parameters (JSON), counts
``person_id_changes``    per linkage run, earlier person ids merged into or split off others

No column holds a name, a birth date or an identity number, nor a date or age from which a
birth date can be read: ages are kept as bands only, the birth year in clear (ages with dates
would give it anyway), and a resident record keeps the year from which the person is resident.
What the store still tells someone without the key is written down in the README ("What the
store holds").

Identity and state (``store_meta``)
-----------------------------------
A store is created only by ingest (:func:`open_store` with ``create=True``), atomically, and
carries ``application = thbmonitor`` and its ``schema_version``; any other file is refused.
``profile``, ``profile_fingerprint`` and ``reporting_organisations`` (its list codes, JSON)
record the country profile of the first ingest; every later ingest and every report must use
one with the same code lists and groups (:func:`bind_profile`, :func:`check_profile`).
``key_fingerprint`` (:func:`thbmonitor.pseudonymise.key_fingerprint`) is written by the first
ingest; every later ingest must use the same key (:func:`bind_key`). ``data_generation`` counts
the ingests of person data; ``link`` marks the store ``linking`` while it runs and ``linked``
(with the generation it saw) when it ends, so that a report can refuse linkage that is stale or
was cut short (:func:`check_linkage`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import StoreError
from thbmonitor.profiles import Profile

log = logging.getLogger(__name__)

APPLICATION = "thbmonitor"
SCHEMA_VERSION = "5"
# format -> the statements that bring a store of that format to the next one
MIGRATIONS: dict[str, tuple[str, ...]] = {
    # 2 -> 3: the residence scheme for victims got a country-neutral name (was the Dutch B8)
    "2": (
        "ALTER TABLE registrations RENAME COLUMN b8_applied TO victim_scheme_applied",
        "ALTER TABLE registrations RENAME COLUMN b8_granted TO victim_scheme_granted",
    ),
    # 3 -> 4: the birth year-and-month token goes (everyone born in one month shared it: with
    # the ages and dates of the group its months intersect, and the store gave the birth month
    # of every registration; README "What the store holds")
    "3": tuple(
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS tok_birth_ym"
        for table in ("registrations", "police_events", "population_events")
    ),
    # 4 -> 5: the token of the birth date with day and month swapped goes (it equals the date
    # token of whoever was born on the swapped date: with the ages and dates of both, the exact
    # birth date of some; README "What the store holds")
    "4": tuple(
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS tok_dob_swap"
        for table in ("registrations", "police_events", "population_events")
    ),
}
# formats whose migration removes values: the store is then copied into a new file that takes
# its place, so that the removed values do not stay behind in the file's unused pages
REWRITE_FROM = frozenset({"3", "4"})
REWRITE_PENDING = "rewrite_pending"  # store_meta key while a migrated store awaits its copy
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file

_IDENTIFIER_COLUMNS = """
    tok_first VARCHAR, tok_last VARCHAR, tok_first1 VARCHAR,
    tok_first_sdx VARCHAR, tok_last_sdx VARCHAR, tok_first_nysiis VARCHAR, tok_last_nysiis VARCHAR,
    bf_first BIT, bf_last BIT, bf_full BIT,
    tok_dob VARCHAR, tok_birth_year VARCHAR,
    tok_birth_md VARCHAR, birth_year INTEGER, dob_uncertain BOOLEAN, dob_missing BOOLEAN,
    tok_identity VARCHAR
"""

DDL = f"""
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS ingested_files (
    sha256 VARCHAR PRIMARY KEY, kind VARCHAR, file_name VARCHAR, n_rows BIGINT,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS registrations (
    registration_id VARCHAR PRIMARY KEY,
    source_sha256 VARCHAR, source_row BIGINT,
    reporting_organisation VARCHAR, registration_date DATE, registration_year INTEGER,
    sex VARCHAR, nationality VARCHAR, nationality_primary VARCHAR, nationality_group VARCHAR,
    residence_status VARCHAR, municipality VARCHAR,
    forms_of_exploitation VARCHAR, monitor_group VARCHAR, sector VARCHAR,
    age_at_exploitation INTEGER,
    shelter BOOLEAN, victim_scheme_applied BOOLEAN, victim_scheme_granted BOOLEAN,
    care_referral BOOLEAN, consent BOOLEAN, age_band VARCHAR,
    {_IDENTIFIER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS police_events (
    event_id VARCHAR,
    source_sha256 VARCHAR, source_row BIGINT,
    event_date DATE, event_year INTEGER, role VARCHAR, crime_type VARCHAR, sex VARCHAR,
    {_IDENTIFIER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS population_events (
    event_id VARCHAR,
    source_sha256 VARCHAR, source_row BIGINT,
    event_date DATE, event_year INTEGER, event_type VARCHAR, sex VARCHAR,
    {_IDENTIFIER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS population_denominators (
    year INTEGER, sex VARCHAR, age_band VARCHAR, population BIGINT,
    source_sha256 VARCHAR, source_row BIGINT,
    PRIMARY KEY (year, sex, age_band)
);
CREATE TABLE IF NOT EXISTS person_population (
    person_id VARCHAR, event_id VARCHAR, match_probability DOUBLE
);
CREATE TABLE IF NOT EXISTS record_keys (
    registration_id VARCHAR PRIMARY KEY, record_key DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS registration_person (
    registration_id VARCHAR PRIMARY KEY, person_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS registration_person_sensitivity (
    threshold DOUBLE, registration_id VARCHAR, cluster BIGINT
);
CREATE TABLE IF NOT EXISTS registration_pairs (
    run_id INTEGER, registration_id_l VARCHAR, registration_id_r VARCHAR,
    match_weight DOUBLE, match_probability DOUBLE, same_person BOOLEAN
);
CREATE TABLE IF NOT EXISTS review_labels (
    pair_kind VARCHAR, left_id VARCHAR, right_id VARCHAR, label VARCHAR,
    match_probability DOUBLE, labelled_at TIMESTAMP, source_sha256 VARCHAR,
    PRIMARY KEY (pair_kind, left_id, right_id)
);
CREATE TABLE IF NOT EXISTS review_design (
    pair_kind VARCHAR, left_id VARCHAR, right_id VARCHAR, linked_when_judged BOOLEAN,
    drawn VARCHAR, band VARCHAR, band_pairs BIGINT,
    PRIMARY KEY (pair_kind, left_id, right_id)
);
CREATE TABLE IF NOT EXISTS person_police (
    person_id VARCHAR, event_id VARCHAR, match_probability DOUBLE
);
CREATE TABLE IF NOT EXISTS person_police_candidates (
    person_id VARCHAR, event_id VARCHAR, match_probability DOUBLE
);
CREATE TABLE IF NOT EXISTS person_population_candidates (
    person_id VARCHAR, event_id VARCHAR, match_probability DOUBLE
);
CREATE TABLE IF NOT EXISTS person_ids (
    person_id VARCHAR PRIMARY KEY, issued_by_run INTEGER
);
CREATE TABLE IF NOT EXISTS linkage_runs (
    run_id INTEGER PRIMARY KEY, created_at TIMESTAMP, method VARCHAR, parameters VARCHAR,
    n_registrations BIGINT, n_persons BIGINT, n_persons_kept BIGINT, n_persons_new BIGINT,
    n_persons_merged BIGINT, notes VARCHAR
);
CREATE TABLE IF NOT EXISTS person_id_changes (
    run_id INTEGER, person_id_old VARCHAR, person_id_new VARCHAR, change VARCHAR
);
"""

REGISTRATION_COLUMNS: tuple[str, ...] = (
    "registration_id",
    "source_sha256",
    "source_row",
    "reporting_organisation",
    "registration_date",
    "registration_year",
    "sex",
    "nationality",
    "nationality_primary",
    "nationality_group",
    "residence_status",
    "municipality",
    "forms_of_exploitation",
    "monitor_group",
    "sector",
    "age_at_exploitation",
    "shelter",
    "victim_scheme_applied",
    "victim_scheme_granted",
    "care_referral",
    "consent",
    "age_band",
)
POLICE_COLUMNS: tuple[str, ...] = (
    "event_id",
    "source_sha256",
    "source_row",
    "event_date",
    "event_year",
    "role",
    "crime_type",
    "sex",
)
POPULATION_COLUMNS: tuple[str, ...] = (
    "event_id",
    "source_sha256",
    "source_row",
    "event_date",
    "event_year",
    "event_type",
    "sex",
)
POPULATION_DENOMINATOR_COLUMNS: tuple[str, ...] = (
    "year",
    "sex",
    "age_band",
    "population",
    "source_sha256",
    "source_row",
)
IDENTIFIER_COLUMNS: tuple[str, ...] = tuple(
    line.split()[0] for part in _IDENTIFIER_COLUMNS.split(",") if (line := part.strip())
)
BIT_COLUMNS = frozenset({"bf_first", "bf_last", "bf_full"})


def open_store(path: str | Path, *, read_only: bool = False, create: bool = False) -> Store:
    """Open the monitoring store at ``path``; with ``create`` make it first if it is missing.

    Anything at ``path`` that is not a thbmonitor store (a folder, a CSV file, another DuckDB
    database, a store of another schema version) is refused with :class:`StoreError`, and so is
    a missing store unless ``create`` (only ingest creates one).
    """
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a monitoring store; give a file name")
    if not path.exists():
        if not create:
            raise StoreError(
                f"no monitoring store at {path}; ingest files first: "
                f"thbmonitor ingest FILE... --store {path}"
            )
        _create(path)
    _check_file(path)
    store = Store(path, read_only=read_only)
    try:
        meta = _meta(store)
        if meta.get("application") == APPLICATION and (
            meta.get("schema_version") in MIGRATIONS or REWRITE_PENDING in meta
        ):  # migrated once where it can be written, then opened as asked
            store.close()
            with Store(path) as writable:
                _migrate(writable)
            store = Store(path, read_only=read_only)
        _check_identity(store)
        if not read_only:  # tables added since the store was made (all IF NOT EXISTS)
            _create_tables(store)
    except BaseException:
        store.close()
        raise
    return store


def _create_tables(store: Store) -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            store.execute(statement)


def _create(path: Path) -> None:
    """Make a new, empty store at ``path`` whole: built under another name, then linked in."""
    if not path.parent.is_dir():
        raise StoreError(f"the folder of the monitoring store {path} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.creating-", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB makes the file itself
    try:
        with Store(tmp) as store:
            with store.transaction():
                _create_tables(store)
                store.execute(
                    "INSERT INTO store_meta VALUES ('application', ?), ('schema_version', ?), "
                    "('data_generation', '0'), ('linkage_state', 'none')",
                    [APPLICATION, SCHEMA_VERSION],
                )
            store.execute("CHECKPOINT")
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.link(tmp, path)
    except OSError as exc:
        raise StoreError(f"cannot create the monitoring store {path} ({exc.strerror})") from exc
    finally:
        for leftover in (Path(tmp), Path(tmp + ".wal")):
            leftover.unlink(missing_ok=True)


def _format(store: Store) -> str | None:
    return _meta(store).get("schema_version")


def _migrate(store: Store) -> None:
    """Bring a store of an earlier format that this version still reads to the current one,
    in one transaction; where that removed values (:data:`REWRITE_FROM`), copy it into a new
    file (:func:`_rewrite`). A store cut short between the two is copied when next opened."""
    version = _format(store)
    if version in MIGRATIONS:
        with store.transaction():
            removed = False
            while version is not None and version in MIGRATIONS:
                for statement in MIGRATIONS[version]:
                    store.execute(statement)
                removed = removed or version in REWRITE_FROM
                version = str(int(version) + 1)
                _set_meta(store, "schema_version", version)
            if removed:
                _set_meta(store, REWRITE_PENDING, "true")
        log.info("store %s: brought to store format %s", store.path, version)
    if REWRITE_PENDING in _meta(store):
        _rewrite(store)


def _rewrite(store: Store) -> None:
    """Copy ``store`` (open for writing, so no other process has it) into a new file and put
    that in its place: values a migration removed stay in the unused pages of a DuckDB file
    (a dropped column's tokens could still be read from the old file's bytes)."""
    path = store.path
    prefix = f".{path.name}.rewriting-"
    for leftover in path.parent.glob(f"{prefix}*"):  # of a copy that was cut short
        leftover.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB makes the file itself
    name = str(store.scalar("SELECT current_database()"))
    try:
        store.execute("CHECKPOINT")  # no write-ahead log of the old file stays beside the new
        store.execute(f"ATTACH '{tmp.replace(chr(39), chr(39) * 2)}' AS rewritten")
        store.execute(f'COPY FROM DATABASE "{name.replace(chr(34), chr(34) * 2)}" TO rewritten')
        store.execute("DELETE FROM rewritten.store_meta WHERE key = ?", [REWRITE_PENDING])
        store.execute("CHECKPOINT rewritten")
        store.execute("DETACH rewritten")
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        for leftover in (Path(tmp), Path(tmp + ".wal")):
            leftover.unlink(missing_ok=True)
    log.info("store %s: copied into a new file, without the values its migration removed", path)


def _check_file(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise StoreError(f"cannot read the monitoring store {path} ({exc.strerror})") from exc
    if head[8:12] != DUCKDB_MAGIC:
        raise StoreError(
            f"{path} is not a thbmonitor store (not a DuckDB database file); nothing was "
            "changed. Give --store the name of a new file or of an existing store"
        )


def _check_identity(store: Store) -> None:
    meta = _meta(store)
    if meta.get("application") == APPLICATION and meta.get("schema_version") == SCHEMA_VERSION:
        return
    if meta.get("schema_version") == "1":
        raise StoreError(
            f"{store.path} was made by an earlier version of thbmonitor (store format 1), which "
            "kept dates and ages from which birth dates can be read; ingest the files again "
            "into a new store and delete this one securely"
        )
    if meta.get("application") == APPLICATION:
        raise StoreError(
            f"{store.path} is a thbmonitor store of format {meta.get('schema_version')}, which "
            f"this version (format {SCHEMA_VERSION}) cannot read; use a matching version"
        )
    raise StoreError(
        f"{store.path} is a DuckDB database but not a thbmonitor store; nothing was changed. "
        "Give --store the name of a new file or of an existing store"
    )


def _meta(store: Store) -> dict[str, str]:
    if not store.has_table("store_meta"):
        return {}
    return {str(k): str(v) for k, v in store.rows("SELECT key, value FROM store_meta")}


def _set_meta(store: Store, key: str, value: str) -> None:
    store.execute("INSERT OR REPLACE INTO store_meta VALUES (?, ?)", [key, value])


def bind_key(store: Store, fingerprint: str) -> None:
    """Refuse a key other than the store's; a store without one takes this one.

    Call inside the ingest's transaction, so that the first ingest binds the key with its rows.
    """
    known = _meta(store).get("key_fingerprint")
    if known is None:
        _set_meta(store, "key_fingerprint", fingerprint)
    elif known != fingerprint:
        raise StoreError(
            f"the monitoring store {store.path} was made with another pseudonymisation key: "
            "tokens of two keys never match, so every person would be counted twice. Use the "
            "key the store was made with, or ingest into a new store; nothing was imported"
        )


def bind_profile(store: Store, profile: Profile) -> None:
    """Refuse a country profile other than the store's; a store without one takes this one.

    Call inside the ingest's transaction, so that the first ingest records the profile with
    its rows. Profiles are compared by :meth:`Profile.fingerprint` (code lists, groups, age
    bands, nationality groups): a copy that reads another layout is the same profile."""
    meta = _meta(store)
    if meta.get("profile_fingerprint") is None:
        _set_meta(store, "profile", profile.name)
        _set_meta(store, "profile_fingerprint", profile.fingerprint())
        organisations = profile.field_codes("reporting_organisation")
        _set_meta(store, "reporting_organisations", json.dumps(list(organisations)))
    else:
        check_profile(store, profile, ingest=True)


def check_profile(store: Store, profile: Profile, *, ingest: bool = False) -> None:
    """Refuse a country profile whose code lists or groups differ from those the store was
    ingested with (a store made before stores recorded their profile accepts any)."""
    meta = _meta(store)
    known = meta.get("profile_fingerprint")
    if known is None or known == profile.fingerprint():
        return
    name = meta.get("profile", "?")
    same_name = " (another version of it)" if name == profile.name else ""
    done = "nothing was imported" if ingest else "nothing was written"
    raise StoreError(
        f"the monitoring store {store.path} was ingested with country profile '{name}'; this "
        f"run uses profile '{profile.name}'{same_name}, whose code lists, groups, age bands "
        "or nationality groups differ, so the store would mix two sets of conventions. Give "
        f"the profile the store was made with (--profile {name}, or its folder), or use a new "
        f"store; {done}"
    )


def store_organisations(store: Store) -> tuple[str, ...] | None:
    """The reporting organisations of the store's country profile, in its order (the lists of
    capture-recapture); None for a store made before stores recorded their profile."""
    text = _meta(store).get("reporting_organisations")
    return None if text is None else tuple(json.loads(text))


def check_key(store: Store, fingerprint: str) -> None:
    """:func:`bind_key`'s refusal, without binding: to fail before any work starts."""
    known = _meta(store).get("key_fingerprint")
    if known is not None and known != fingerprint:
        bind_key(store, fingerprint)


def new_data(store: Store) -> None:
    """Count one more ingest of person data (inside the ingest's transaction)."""
    generation = int(_meta(store).get("data_generation", "0")) + 1
    _set_meta(store, "data_generation", str(generation))


def begin_linkage(store: Store) -> None:
    """Mark the store as being linked (committed at once): a link cut short stays marked."""
    meta = _meta(store)
    with store.transaction():
        _set_meta(store, "linkage_state", "linking")
        _set_meta(store, "linked_generation", meta.get("data_generation", "0"))


def end_linkage(store: Store, *, police: bool) -> None:
    """Mark the store as linked (``linked`` or, without the registers, ``persons_only``)."""
    _set_meta(store, "linkage_state", "linked" if police else "persons_only")


def check_linkage(store: Store) -> None:
    """Refuse a store whose linkage is missing, was cut short or is older than its data."""
    meta = _meta(store)
    state = meta.get("linkage_state", "none")
    command = f"thbmonitor link --store {store.path}"
    if state == "none":
        raise StoreError(f"the store {store.path} is not linked yet; run: {command}")
    if state == "linking":
        raise StoreError(
            f"the last linkage of {store.path} did not finish (it was interrupted), so persons "
            f"and register links may not belong together; run: {command}"
        )
    if state == "persons_only":
        raise StoreError(
            f"the store {store.path} was linked with --skip-police, without the police and "
            f"population registers the report needs; run: {command}"
        )
    if meta.get("linked_generation") != meta.get("data_generation"):
        raise StoreError(
            f"files were ingested into {store.path} after its last linkage, so the linkage "
            f"is stale; run: {command}"
        )


def resolve_window(store: Store, settings: Settings) -> Settings:
    """The settings with the monitoring window filled in where it was left to the data.

    By default the window is the last five complete years: the last year whose December
    holds registrations, and the four years before it.
    """
    if settings.window_first and settings.window_last:
        return settings
    last = settings.window_last
    if not last:
        latest = store.scalar("SELECT max(registration_date) FROM registrations")
        if latest is None:
            raise StoreError("the store holds no registrations; ingest some first")
        last = latest.year if latest.month == 12 else latest.year - 1
    first = settings.window_first or last - 4
    return settings.replace(window_first=first, window_last=last)
