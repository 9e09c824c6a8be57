"""Wires the stages: ingest -> link -> analyse -> protect -> publish.

``run_report(store, settings, out)`` turns a linked store into the publication;
``run_demo(out, ...)`` does everything from the synthetic world with a throwaway key.
Progress is reported through an optional callback ``progress(step, done, total)`` so that the
CLI can draw a bar while library code stays free of terminal output.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thbmonitor import __version__
from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import ConfigError, DisclosureError, InputError
from thbmonitor.profiles import load_profile
from thbmonitor.pseudonymise import Encoder
from thbmonitor.report.model import Chapter, Report, Text
from thbmonitor.store import (
    begin_linkage,
    check_linkage,
    check_profile,
    end_linkage,
    open_store,
    resolve_window,
)

if TYPE_CHECKING:
    from thbmonitor.disclosure import (
        AuditResult,
        CountTable,
        ProtectedTable,
        Relations,
        Release,
    )
    from thbmonitor.linkage.modelfile import LinkageModels
    from thbmonitor.synth import WorldParams

log = logging.getLogger(__name__)

Step = Callable[[str], None]

REPORT_TITLE = Text(
    en="Victims of trafficking in human beings: monitor",
    nl="Slachtoffers van mensenhandel: monitor",
)


REPORT_STEPS = 6  # the steps of analyse() plus writing the report
DEMO_STEPS = 13  # synth, four files ingested, two linkage steps, then the report's


@dataclass(frozen=True)
class RunResult:
    out: Path
    files: dict[str, Path]
    results: dict[str, Any]


def _quiet(_: str) -> None:
    return None


class Publication:
    """Protects each stage's tables as they come, and audits all of them together at the end.

    Stages call it with their :class:`~thbmonitor.disclosure.CountTable` objects and get the
    protected release back; :meth:`audit` then checks every published table of the run jointly,
    with the earlier releases of the ledger (setting ``disclosure_ledger``), and raises rather
    than let a disclosure through. With the setting ``disclosure_release`` as well,
    :meth:`record` adds this release to the ledger (written atomically) once the audit passed;
    :func:`run_report` calls it only after every output is in place. A release name already in
    the ledger is refused here, before any table is protected or any output written.
    """

    def __init__(self, settings: Settings) -> None:
        from thbmonitor.disclosure import Ledger, Relations
        from thbmonitor.monitor.published import rules_from_settings

        self.rules = rules_from_settings(settings)
        self.ledger_path = Path(settings.disclosure_ledger) if settings.disclosure_ledger else None
        self.release_name = settings.disclosure_release.strip()
        # the ledger as read: recording refuses a ledger that changed during the run
        self._ledger_text: str | None = None
        self.ledger: Ledger | None = None
        path = self.ledger_path
        if path is not None and path.exists():
            try:
                self._ledger_text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot read the disclosure ledger {path}: {exc}") from exc
            self.ledger = Ledger.from_json(self._ledger_text, str(path))
        if self.release_name:
            if self.ledger_path is None:
                raise ConfigError(
                    "the setting disclosure_release needs disclosure_ledger: the file the "
                    "release is recorded in"
                )
            if not self.ledger_path.parent.is_dir():
                raise ConfigError(f"the folder of the disclosure ledger {path} does not exist")
            (self.ledger or Ledger()).check_new(self.release_name)
        self.tables: list[ProtectedTable] = []
        self.perturbed: list[ProtectedTable] = []  # tables of the cell-key method
        self.relations = Relations()
        self.audited = False
        self.recorded = False

    def __call__(self, tables: Sequence[CountTable], relations: Relations | None = None) -> Release:
        """Protect a stage's tables; what earlier stages of this run published stays as it is
        and is audited with them, as are the relations between cells given so far."""
        from thbmonitor.disclosure import protect_release

        if relations is not None:
            self.relations = self.relations + relations
        release = protect_release(
            tables, self.rules, self.ledger, relations=self.relations, context=self.tables
        )
        self.tables.extend(release.tables)
        return release

    def add_perturbed(self, tables: Sequence[ProtectedTable]) -> None:
        """Tables protected by the cell-key method (nothing hidden, counts perturbed): checked
        against the ledger now (:meth:`~thbmonitor.disclosure.Ledger.check_perturbed`) and
        recorded in it with the release."""
        if self.ledger is not None:
            self.ledger.check_perturbed(tables, self.rules.required_width)
        self.perturbed.extend(tables)

    def audit(self, *, record: bool = True) -> AuditResult:
        """The joint audit of everything protected so far; raises if anything is disclosed.

        If the audit passes, a release name is set and ``record``, the release is added to the
        ledger (once); with ``record=False`` call :meth:`record` when the outputs are written."""
        from thbmonitor.disclosure import audit_release

        result = audit_release(self.tables, self.ledger, self.rules, self.relations)
        result.raise_if_disclosive()
        self.audited = True
        if record:
            self.record()
        return result

    def record(self) -> None:
        """Add the audited release to the ledger (once); nothing without a release name."""
        from thbmonitor.disclosure import Ledger

        if not self.release_name or self.recorded:
            return
        if not self.audited:
            raise DisclosureError("a release is recorded in the ledger only after its audit")
        assert self.ledger_path is not None
        path = self.ledger_path
        try:
            now = path.read_text(encoding="utf-8") if path.exists() else None
        except OSError as exc:
            raise InputError(f"cannot read the disclosure ledger {path}: {exc}") from exc
        if now != self._ledger_text:
            raise InputError(
                f"the disclosure ledger {path} changed while this release was protected; "
                "run the report again to audit against the current ledger"
            )
        ledger = (self.ledger or Ledger()).with_release(
            self.release_name, [*self.tables, *self.perturbed]
        )
        ledger.save(path)
        self.recorded = True
        log.info(
            "disclosure: release '%s' (%d tables) added to the ledger",
            self.release_name,
            len(self.tables) + len(self.perturbed),
        )


def ingest_files(
    store: Store,
    files: list[Path],
    encoder: Encoder,
    step: Step = _quiet,
    profile: str | Path | None = None,
) -> None:
    """Ingest files written in a country profile's layout (default: the default profile)."""
    from thbmonitor.ingest import ingest_file
    from thbmonitor.profiles import DEFAULT_PROFILE

    country = load_profile(profile or DEFAULT_PROFILE)
    for path in files:
        step(f"ingest {path.name}")
        ingest_file(store, path, encoder, profile=country)


def link(
    store: Store,
    settings: Settings,
    step: Step = _quiet,
    *,
    police: bool = True,
    say: Step | None = None,
    models: LinkageModels | None = None,
) -> dict[str, Any]:
    """Registrations -> persons, then persons -> police and population registers.

    The store is marked as linking until both are written (:func:`begin_linkage`), so that a
    run cut short between them is never reported on; ``police=False`` links persons only
    (a report then asks for a full link). ``say`` gets the linkage's detailed progress.
    Clerical-review judgements kept in the store hold in both linkages. ``models``
    (:mod:`thbmonitor.linkage.modelfile`) are applied instead of training. On the engine
    ``spark`` (settings) the Splink models are trained and the pairs scored on Spark; the
    linkage inputs are prepared, and the pairs clustered, here (:mod:`thbmonitor.linkage.spark`).
    An engine that is not installed is refused before any work (:func:`check_engine`)."""
    from thbmonitor import linkage
    from thbmonitor.linkage.review import apply_event_labels

    check_engine(settings)
    with ExitStack() as stack:
        spark = None
        if settings.engine == "spark":
            from thbmonitor.engine.spark import spark_engine

            (say or step)("starting Spark")
            spark = stack.enter_context(spark_engine(settings))
        begin_linkage(store)
        step("link registrations into persons")
        persons = linkage.link_registrations(store, settings, say, models=models, spark=spark)
        found: dict[str, Any] = {"persons": persons, "police": None}
        if police:
            step("link persons to the police and population registers")
            found["police"] = linkage.link_police(
                store,
                settings,
                say,
                trained=models.register_models() if models else None,
                spark=spark,
            )
            found["police_review"] = apply_event_labels(store)
        end_linkage(store, police=police)
    return found


def check_engine(settings: Settings) -> None:
    """Refuse, before any work, an engine that is not installed."""
    if settings.engine != "spark":
        return
    from thbmonitor.engine.spark import require_pyspark

    require_pyspark()


def analyse(
    store: Store, settings: Settings, step: Step = _quiet, release: Publication | None = None
) -> Report:
    """Every chapter of the report, protected and audited as one release.

    The release is not recorded in the disclosure ledger here: :func:`run_report` records it
    (``release.record()``) once every output is in place."""
    from thbmonitor import linkage, monitor
    from thbmonitor.followup.chapter import report_chapter as followup_chapter
    from thbmonitor.monitor.sdg import sdg_chapter
    from thbmonitor.mse.chapter import report_chapter as hidden_number_chapter

    release = release or Publication(settings)
    chapters: list[Chapter] = []
    results: dict[str, Any] = {}

    key_findings: dict[str, Any] = {}

    def collect(found: dict[str, Any]) -> dict[str, Any]:
        """A stage's results without its key findings, which are gathered in one block."""
        key_findings.update(found.pop("key_findings", {}))
        return found

    step("monitor tables")
    found, found_results = monitor.chapters(store, settings, release)
    merges = found_results.pop("disclosure_merges")
    cell_key = found_results.pop("disclosure_cell_key")
    chapters += found
    results.update(collect(found_results))

    step("linkage chapter")
    chapter, linkage_results = linkage.report_chapter(store, settings, release)
    chapters.append(chapter)
    results["linkage"] = linkage_results

    step("follow-up: re-victimisation and suspect registration")
    chapter, follow_results = followup_chapter(store, settings, release)
    chapters.append(chapter)
    results.update(collect(follow_results))

    step("hidden numbers: multiple systems estimation")
    chapter, mse_results = hidden_number_chapter(store, settings, release)
    chapters.append(chapter)
    results["hidden_number"] = collect(mse_results)

    # SDG 16.2.2: rates per 100,000 from the published counts above and the denominators
    sdg, results["sdg_16_2_2"] = sdg_chapter(
        store, settings, results.get("sdg_16_2_2", {}), results["hidden_number"]
    )
    if sdg is not None:
        chapters.append(sdg)

    results["key_findings"] = key_findings

    step("disclosure audit of the whole release")
    audit = release.audit(record=False)
    from thbmonitor.disclosure import information_loss

    results["disclosure"] = {
        "method": settings.disclosure_method,
        "tables": len(release.tables),
        "suppressed_cells": len(audit.intervals),
        "audit_passed": audit.passed,
        "threshold": settings.disclosure_threshold,
        "unknown_primary": settings.disclosure_unknown_primary,
        **merges,
        "information_loss": information_loss(release.tables),
    }
    if cell_key is not None:
        # the monitor's count tables are perturbed; the other chapters' tables (follow-up,
        # linkage, hidden numbers: no plain counts of the monitor's units) stay suppressed
        loss = cell_key.pop("information_loss")
        results["disclosure"].update(
            cell_key,
            information_loss={**loss, "suppressed_chapters": information_loss(release.tables)},
        )
    facts = {
        "version": __version__,
        "window": [settings.window_first, settings.window_last],
        "data_end": settings.data_end,
        "seed": settings.seed,
        "language": settings.language,
    }
    return Report(title=REPORT_TITLE, chapters=chapters, results=results, facts=facts)


DEMO_WINDOW = (2016, 2020)  # the demo reproduces the Victims Monitor 2016-2020 edition


def prepare_report(
    settings: Settings, out: Path, *, force: bool = False, store_path: Path | None = None
) -> Publication:
    """The checks of :func:`run_report`, for a caller to run before it starts (a progress bar,
    say): the release name, the output folder and, given ``store_path``, the store's linkage."""
    from thbmonitor.output_folder import check_output_folder

    release = Publication(settings)
    check_output_folder(out, force=force)
    if store_path is not None:
        with open_store(store_path, read_only=True) as store:
            check_profile(store, load_profile(settings.profile))
            check_linkage(store)
    return release


DEMO_FILES = ("input", "monitor.duckdb", "monitor.duckdb.wal")


def prepare_demo(
    out: Path,
    settings: Settings,
    scale: float = 1.0,
    background_events: int | None = None,
    *,
    force: bool = False,
) -> WorldParams:
    """The checks of :func:`run_demo`, before any work: the world's parameters (seed, scale),
    the release name and the output folder. Returns the world's parameters."""
    from thbmonitor.output_folder import check_output_folder
    from thbmonitor.synth import WorldParams

    params = WorldParams(seed=settings.seed, scale=scale)
    if background_events is not None:
        params = params.replace(background_events=background_events)
    params.check()
    check_engine(settings)
    Publication(settings)  # a release name already in the ledger
    check_output_folder(out, force=force, names=DEMO_FILES)
    return params


def run_report(
    store_path: Path, settings: Settings, out: Path, step: Step = _quiet, *, force: bool = False
) -> RunResult:
    """Analyse a linked store and write the publication into ``out``.

    Before any work: a release name already in the ledger, an output folder that cannot be
    written or holds the user's files (unless ``force``) and a store whose linkage is missing,
    cut short or stale are refused. The release is recorded in the ledger only after every
    output is in place."""
    from thbmonitor.report import write_report

    release = prepare_report(settings, out, force=force)
    with open_store(store_path, read_only=True) as store:
        check_profile(store, load_profile(settings.profile))
        check_linkage(store)
        settings = resolve_window(store, settings)
        report = analyse(store, settings, step, release)
    step("write report")
    files = write_report(report, out, settings.language, force=force)
    release.record()
    return RunResult(out, files, report.results)


def demo_key(seed: int) -> bytes:
    """The demo's throwaway key, derived from its seed: the Bloom-filter encodings, and so the
    linkage, depend on the key, and a demo must be reproducible from its settings (the same
    seed, the same report, in any profile's layout). Only for the synthetic world: real data
    needs a secret key (settings key_file / key_env)."""
    return hashlib.sha256(f"thbmonitor demo key, seed {seed}".encode()).hexdigest().encode()


def run_demo(
    out: Path,
    settings: Settings,
    scale: float = 1.0,
    background_events: int | None = None,
    step: Step = _quiet,
    *,
    force: bool = False,
) -> RunResult:
    """synth -> ingest -> link -> analyse -> report, in ``out``, with a throwaway key.

    ``out/input/`` gets the synthetic world in the layout of the settings' country profile,
    ``out/monitor.duckdb`` the store, and ``out`` the report, results.json, tables/*.csv and
    tables.xlsx. ``out`` must be new, empty or written by thbmonitor, unless ``force``
    (:mod:`thbmonitor.output_folder`); a store an earlier demo left there is replaced, and no
    file the demo did not write is deleted.
    """
    from thbmonitor.output_folder import locked, mark
    from thbmonitor.profiles.write import write_world
    from thbmonitor.synth import generate

    if not settings.window_last:
        settings = settings.replace(window_first=DEMO_WINDOW[0], window_last=DEMO_WINDOW[1])
    params = prepare_demo(out, settings, scale, background_events, force=force)
    input_dir, store_path, wal = (out / name for name in DEMO_FILES)
    with locked(out):
        mark(out, "writing", add=DEMO_FILES)
    step("generate the synthetic world")
    generate(params, input_dir)
    write_world(input_dir, load_profile(settings.profile))
    for stale in (store_path, wal):
        stale.unlink(missing_ok=True)
    encoder = Encoder(demo_key(settings.seed), settings.bloom_bits, settings.bloom_hashes)
    inputs = [input_dir / "registrations.csv", input_dir / "police_register.parquet"]
    for optional in ("population_register.parquet", "population_denominators.csv"):
        if (input_dir / optional).exists():
            inputs.append(input_dir / optional)
    with open_store(store_path, create=True) as store:
        ingest_files(store, inputs, encoder, step, settings.profile)
        link(store, settings, step)
    return run_report(store_path, settings, out, step, force=force)
