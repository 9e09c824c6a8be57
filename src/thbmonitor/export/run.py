"""``thbmonitor export``: one year's deliveries from a linked store, in one release with the
report.

The report of the store is computed again in memory (the same settings give the same tables
and the same protection) so that the delivery tables are protected against everything it
publishes and audited jointly with it (:mod:`thbmonitor.export.release`); only the delivery
files are written. With the settings ``disclosure_ledger`` and ``disclosure_release`` the
release (report and deliveries) is recorded in the ledger once the files are in place.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.errors import ConfigError, InputError
from thbmonitor.export.codes import DeliveryCodes, delivery_codes
from thbmonitor.export.eurostat import EurostatRow, eurostat_csv, eurostat_rows
from thbmonitor.export.release import Delivered, Protect, protect_deliveries
from thbmonitor.export.sdmx import sdmx_csv
from thbmonitor.export.tables import delivery_tables
from thbmonitor.export.unodc import UnodcRow, unodc_csv, unodc_rows
from thbmonitor.export.workbook import write_delivery_workbook
from thbmonitor.output_folder import check_output_folder, locked, publish, staging_for
from thbmonitor.profiles import Profile, load_profile
from thbmonitor.report.model import Report

__all__ = [
    "EXPORT_STEPS",
    "FORMATS",
    "deliver",
    "differing_tables",
    "file_names",
    "prepare_export",
    "run_export",
]

log = logging.getLogger(__name__)

# format -> the files it writes ({year} is the delivered year): the delivery file and, for
# the people who paste figures into a questionnaire, its workbook
FILES: dict[str, tuple[str, ...]] = {
    "eurostat": ("eurostat_thb_{year}.csv", "eurostat_thb_{year}.xlsx"),
    "unodc": ("unodc_glotip_{year}.csv", "unodc_glotip_{year}.xlsx"),
    "sdmx": ("eurostat_thb_{year}.sdmx.csv",),
}
FORMATS: tuple[str, ...] = tuple(FILES)
EXPORT_STEPS = 8  # the report's analysis (5), the deliveries, the joint audit, the files

Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def file_names(fmt: str, year: int) -> list[str]:
    """The files one format writes (relative to the output folder)."""
    if fmt not in FILES:
        raise ConfigError(f"unknown delivery format {fmt!r}; use one of {', '.join(FORMATS)}")
    return [name.format(year=year) for name in FILES[fmt]]


def prepare_export(
    settings: Settings,
    fmt: str,
    year: int,
    out: Path,
    *,
    force: bool = False,
    report_dir: Path | None = None,
    store_path: Path | None = None,
) -> DeliveryCodes:
    """The checks before any work: the format, the profile's delivery codes, the release
    name, the published report's folder, the output folder and, given ``store_path``, the
    store's country profile (a store made under another profile is refused, as the report
    refuses it). Returns the delivery codes."""
    from thbmonitor.pipeline import Publication
    from thbmonitor.store import check_profile, open_store

    names = file_names(fmt, year)
    if settings.disclosure_method != "suppression":
        raise ConfigError(
            "deliveries are protected by suppression, in one release with the report; set "
            "disclosure_method = 'suppression' for the export"
        )
    codes = delivery_codes(load_profile(settings.profile))
    if report_dir is not None and not (report_dir / "tables").is_dir():
        raise ConfigError(f"--report {report_dir} holds no report (no tables/ folder)")
    Publication(settings)  # a release name already in the ledger is refused now
    if store_path is not None:  # before the output folder is made
        with open_store(store_path, read_only=True) as store:
            check_profile(store, load_profile(settings.profile))
    check_output_folder(out, force=force, names=names)
    return codes


def run_export(
    store_path: Path,
    settings: Settings,
    year: int,
    fmt: str,
    out: Path,
    step: Step = _quiet,
    *,
    force: bool = False,
    report_dir: Path | None = None,
) -> dict[str, Path]:
    """Protect the year's deliveries with the store's report, audit them jointly and write
    the format's files into ``out``; returns their paths by name.

    ``report_dir``: the published report of the store; the report computed here must show
    every table as it does (else the joint audit would be with another report), or the export
    is refused before anything is written."""
    from thbmonitor.pipeline import Publication, analyse
    from thbmonitor.store import check_linkage, check_profile, open_store, resolve_window

    codes = prepare_export(settings, fmt, year, out, force=force, report_dir=report_dir)
    profile = load_profile(settings.profile)
    release = Publication(settings)
    with open_store(store_path, read_only=True) as store:
        check_profile(store, profile)  # the deliveries' codes are the store's profile's
        check_linkage(store)
        settings = resolve_window(store, settings)
        window = (settings.window_first, settings.window_last)
        if not window[0] <= year <= window[1]:
            raise ConfigError(
                f"year {year} is outside the report's window {window[0]}-{window[1]}; the "
                "deliveries are protected with the report: set window_first and window_last "
                "so that the window holds the year"
            )
        report = analyse(store, settings, step, release)
        if report_dir is not None:
            differ = differing_tables(report, report_dir)
            if differ:
                raise InputError(
                    f"the report computed now differs from the one in {report_dir} in "
                    f"{len(differ)} table(s), e.g. {differ[0]}; the deliveries must be audited "
                    "with the published report: give export the report's settings (--config, "
                    "--profile) and store"
                )
        step("delivery tables")
        delivered = deliver(store, settings, year, release, profile, codes)
    step("joint audit of the report and the deliveries")
    release.audit(record=False)
    step("write the delivery")
    paths = _write(out, _files(fmt, delivered, report, profile, codes, settings), force=force)
    release.record()
    return paths


def differing_tables(report: Report, folder: Path) -> list[str]:
    """The tables of ``report`` whose CSV differs from (or is missing in) the published report
    in ``folder`` (its ``tables/<key>.csv``, as ``thbmonitor report`` wrote them)."""
    from thbmonitor.report.publish import TABLES_DIR
    from thbmonitor.report.tables import csv_text, table_cells

    out = []
    for chapter in report.chapters:
        for table in chapter.tables:
            path = folder / TABLES_DIR / f"{table.key}.csv"
            try:
                published = path.read_text(encoding="utf-8")
            except OSError:
                out.append(table.key)
                continue
            if csv_text(*table_cells(table)) != published:
                out.append(table.key)
    return out


def deliver(
    store: Store,
    settings: Settings,
    year: int,
    release: Protect,
    profile: Profile,
    codes: DeliveryCodes,
) -> Delivered:
    """The year's delivery tables, protected in ``release`` (the report's Publication, after
    the report's own tables: they stay as the report shows them)."""
    window = (settings.window_first, settings.window_last)
    tables = delivery_tables(store, window, year, profile, codes.eurostat)
    return protect_deliveries(release, tables, settings.disclosure_threshold)


Writer = Callable[[Path], None]


def _text(text: str) -> Writer:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8", newline="")

    return write


def _files(
    fmt: str,
    delivered: Delivered,
    report: Report,
    profile: Profile,
    codes: DeliveryCodes,
    settings: Settings,
) -> dict[str, Writer]:
    """How to write each file of the format, by name."""
    names = file_names(fmt, delivered.year)
    year, lang = delivered.year, settings.language
    rows: list[EurostatRow] | list[UnodcRow]
    if fmt == "unodc":
        sdg = report.results.get("sdg_16_2_2", {}).get("by_year", {}).get(str(year))
        rows = unodc_rows(delivered, profile, codes.unodc, sdg)
        text = unodc_csv(rows, year, codes.unodc)
    else:
        rows = eurostat_rows(delivered, profile, codes.eurostat)
        text = sdmx_csv(rows, codes.eurostat) if fmt == "sdmx" else eurostat_csv(rows)
    out = {names[0]: _text(text)}
    if len(names) > 1:
        out[names[1]] = lambda path: write_delivery_workbook(
            path, rows, profile, codes, year, fmt, lang
        )
    return out


def _write(out: Path, files: dict[str, Writer], *, force: bool) -> dict[str, Path]:
    """Write the files whole into a staging folder and publish them as ``report`` does
    (:func:`thbmonitor.output_folder.publish`): a kill or a failure at any moment leaves the
    earlier delivery whole, or the new one."""
    names = list(files)
    with locked(out):
        check_output_folder(out, force=force, names=names)  # again, now that it is ours
        staging = staging_for(out)
        try:
            for name, write in files.items():
                write(staging.path / name)
        except BaseException:
            shutil.rmtree(staging.path, ignore_errors=True)
            raise
        publish(staging, out, names)
    log.info("export: %s written", ", ".join(names))
    return {name: out / name for name in names}
