"""Output folders: thbmonitor writes only into a folder that is new, empty or its own.

A folder that ``report --out`` or ``demo --out`` writes into gets a marker file,
:data:`MARKER` (``.thbmonitor-output.json``): the files thbmonitor wrote there and whether
the last write finished (``state``: ``writing`` while files are moved into place,
``complete`` once every file is in place). Rules:

* a folder that holds anything but no marker is the user's, and is refused (before any work
  starts) unless ``--force``;
* a file of a name thbmonitor writes (``report.html``, ``tables/<key>.csv``, ``input/``,
  ``monitor.duckdb``, ...) that exists but is not in the marker is the user's too, and is
  refused unless ``--force`` (which means: replace files of those names);
* thbmonitor deletes only files its marker lists (tables an earlier report wrote that this
  one does not) and its own leftovers (``.staging-*``, ``.tables.old-*``); it never deletes
  any other file.

Writers hold an exclusive lock on the folder (``flock`` on the directory) while they move files
into place, so two runs never interleave their files. A folder whose marker says ``writing``
was cut short while the files were moved: it can hold new tables beside an older
``report.html``. Run the report again; it completes the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thbmonitor.errors import ConfigError

MARKER = ".thbmonitor-output.json"
APPLICATION = "thbmonitor"
LEFTOVER_PREFIXES = (".staging-", ".tables.old-", ".thbmonitor-probe-", MARKER + ".")


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of ``folder``, or None if it has none (or one thbmonitor did not write)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("application") != APPLICATION:
        return None
    if not isinstance(data.get("files"), list):
        return None
    return data


def owned_files(folder: Path) -> set[str]:
    """The files (relative paths with ``/``) the marker of ``folder`` says thbmonitor wrote."""
    marker = read_marker(folder)
    return {str(f) for f in marker["files"]} if marker else set()


def check_output_folder(
    folder: Path, *, force: bool, names: Iterable[str] = (), option: str = "--out"
) -> None:
    """Refuse ``folder`` as an output folder before any work starts, or make it.

    It must be (or become) a writable folder; if it holds anything it must carry thbmonitor's
    marker, and none of ``names`` (the files this run will write) may exist there unless the
    marker lists it, all unless ``force``. Raises :class:`ConfigError` saying what to do.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{option} {folder} is a file, not a folder; give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".thbmonitor-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write into the output folder {folder} ({exc.strerror}); nothing was done. "
            f"Give {option} a folder you can write to"
        ) from exc
    if force:
        return
    marker = read_marker(folder)
    if marker is None:
        present = [p for p in folder.iterdir() if not p.name.startswith(LEFTOVER_PREFIXES)]
        if present:
            raise ConfigError(
                f"the output folder {folder} holds {len(present)} file(s) or folder(s) that "
                f"thbmonitor did not write; nothing was changed. Give {option} a new or empty "
                "folder, or add --force to write beside them (files of the names thbmonitor "
                "writes are then replaced; no other file is touched)"
            )
        return
    owned = {str(f) for f in marker["files"]}
    clash = [n for n in names if n not in owned and (folder / n).exists()]
    if clash:
        raise ConfigError(
            f"the output folder {folder} holds {clash[0]}, which thbmonitor did not write; "
            f"nothing was changed. Move it away, give {option} another folder, or add --force "
            "to replace it"
        )


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (refused at once if another run holds it); remove
    the leftovers of runs that were killed (only thbmonitor's own, by name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another thbmonitor run is writing into {folder}; wait for it to end, or give "
                "another folder"
            ) from None
        for leftover in folder.iterdir():
            if leftover.name.startswith(LEFTOVER_PREFIXES):
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def mark(folder: Path, state: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
    """Write the marker: ``state`` and the files it had, plus ``add``, minus ``remove``.

    Written whole (a temporary file renamed over the old one)."""
    files = (owned_files(folder) | set(add)) - set(remove)
    data = {
        "application": APPLICATION,
        "state": state,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": sorted(files),
    }
    fd, tmp = tempfile.mkstemp(prefix=MARKER + ".", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / MARKER)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
