"""The layout of the monitoring store (a DuckDB file): its tables and their columns.

Tables
------
``ingested_files``       one row per imported file (by SHA-256): importing twice adds nothing
``registrations``        one row per registration, pseudonymised (tokens, Bloom filters, ages)
``police_events``        one row per police-register event, pseudonymised the same way
``population_events``    deaths and emigrations (population register), pseudonymised the same way
``population_denominators``  resident population by year, sex and age band (rates per 100,000)
``registration_person``  the linkage: registration_id -> person_id (written by ``link``)
``registration_person_sensitivity``  the same linkage at other thresholds: threshold,
                         registration_id -> cluster label (for the hidden number's sensitivity)
``person_police``        persons linked to police events, with the match probability
``person_population``    persons linked to population-register events (death, emigration)
``person_ids``           every person id ever issued, with the run that issued it (stable ids)
``linkage_runs``         one row per linkage run: method, parameters (JSON), counts
``person_id_changes``    per linkage run, earlier person ids merged into or split off others

No column holds a name, a birth date or an identity number.
"""

from __future__ import annotations

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import StoreError

SCHEMA_VERSION = "1"

_IDENTIFIER_COLUMNS = """
    tok_first VARCHAR, tok_last VARCHAR, tok_first1 VARCHAR,
    tok_first_sdx VARCHAR, tok_last_sdx VARCHAR, tok_first_nysiis VARCHAR, tok_last_nysiis VARCHAR,
    bf_first BIT, bf_last BIT, bf_full BIT,
    tok_dob VARCHAR, tok_dob_swap VARCHAR, tok_birth_year VARCHAR, tok_birth_ym VARCHAR,
    tok_birth_md VARCHAR, dob_jan1 BOOLEAN, dob_missing BOOLEAN, tok_identity VARCHAR
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
    shelter BOOLEAN, b8_applied BOOLEAN, b8_granted BOOLEAN, care_referral BOOLEAN,
    consent BOOLEAN, dob_estimated BOOLEAN,
    age_at_registration INTEGER, age_band VARCHAR,
    {_IDENTIFIER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS police_events (
    event_id VARCHAR,
    source_sha256 VARCHAR, source_row BIGINT,
    event_date DATE, event_year INTEGER, role VARCHAR, crime_type VARCHAR, sex VARCHAR,
    age_at_event INTEGER,
    {_IDENTIFIER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS population_events (
    event_id VARCHAR,
    source_sha256 VARCHAR, source_row BIGINT,
    event_date DATE, event_year INTEGER, event_type VARCHAR, sex VARCHAR,
    age_at_event INTEGER,
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
CREATE TABLE IF NOT EXISTS registration_person (
    registration_id VARCHAR PRIMARY KEY, person_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS registration_person_sensitivity (
    threshold DOUBLE, registration_id VARCHAR, cluster BIGINT
);
CREATE TABLE IF NOT EXISTS person_police (
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
    "b8_applied",
    "b8_granted",
    "care_referral",
    "consent",
    "dob_estimated",
    "age_at_registration",
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
    "age_at_event",
)
POPULATION_COLUMNS: tuple[str, ...] = (
    "event_id",
    "source_sha256",
    "source_row",
    "event_date",
    "event_year",
    "event_type",
    "sex",
    "age_at_event",
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


def open_store(path: str, *, read_only: bool = False) -> Store:
    """Open (and on first use create) the monitoring store at ``path``."""
    store = Store(path, read_only=read_only)
    if not read_only:
        for statement in DDL.split(";"):
            if statement.strip():
                store.execute(statement)
        store.execute(
            "INSERT OR IGNORE INTO store_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
        )
    return store


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
