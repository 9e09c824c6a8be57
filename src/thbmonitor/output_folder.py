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

Writers hold an exclusive lock on the folder (``flock`` on the directory) while they write, so
two runs never interleave their files.

Publishing (:func:`staging_for`, :func:`publish`): the new files are written into a staging
folder beside the output folder (``.<name>.thbmonitor-staging-*`` in its parent), which is
completed with hard links to every other file of the output folder (the user's and earlier
runs' own, except tables this run no longer writes) and its marker, and then exchanged with the
output folder in one step (Linux ``renameat2(RENAME_EXCHANGE)``). A kill at any moment leaves
either the earlier folder or the new one, whole; the staging folder (or, after the exchange, the
earlier folder under the staging name) is removed by this run or the next. Where that cannot be
done (no exchange on this system or file system, a parent folder that cannot be written, an
output folder that is a mount point, the working directory, or holds more than
:data:`MAX_SWAP_ENTRIES` entries or anything but files, folders and links) the files are moved in
one by one, and the marker says ``writing`` meanwhile: such a folder, cut short, can hold new
tables beside an older ``report.html``. Run the report again; it completes the folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thbmonitor.errors import ConfigError

MARKER = ".thbmonitor-output.json"
APPLICATION = "thbmonitor"
LEFTOVER_PREFIXES = (".staging-", ".tables.old-", ".thbmonitor-probe-", MARKER + ".")
SWAP_INFIX = ".thbmonitor-staging-"  # in the parent: .<name>.thbmonitor-staging-*
MAX_SWAP_ENTRIES = 10_000  # a bigger folder is published file by file


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
                _remove(leftover)
        real = folder.resolve()
        with contextlib.suppress(OSError):  # a parent that cannot be read has none of ours
            for leftover in real.parent.iterdir():
                if leftover.name.startswith(f".{real.name}{SWAP_INFIX}"):
                    _remove(leftover)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def mark(folder: Path, state: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
    """Write the marker: ``state`` and the files it had, plus ``add``, minus ``remove``."""
    _write_marker(folder, state, (owned_files(folder) | set(add)) - set(remove))


def _write_marker(folder: Path, state: str, files: set[str]) -> None:
    """Write ``folder``'s marker whole (a temporary file renamed over the old one)."""
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


# ---- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staging:
    """Where a run writes its files before :func:`publish`: ``path``; ``whole`` when it is a
    sibling of the output folder that replaces it in one exchange, else a folder inside it whose
    files are moved in one by one."""

    path: Path
    whole: bool


def staging_for(folder: Path) -> Staging:
    """A new staging folder for ``folder`` (call while holding :func:`locked`)."""
    real = folder.resolve()
    if _can_swap(real):
        with contextlib.suppress(OSError):
            path = Path(tempfile.mkdtemp(prefix=f".{real.name}{SWAP_INFIX}", dir=real.parent))
            return Staging(path, whole=True)
    return Staging(Path(tempfile.mkdtemp(prefix=".staging-", dir=folder)), whole=False)


def publish(staging: Staging, folder: Path, names: list[str], stale: Iterable[str] = ()) -> None:
    """Put the staged files ``names`` (paths relative to the folder, ``/``-separated) in place
    in ``folder``, remove ``stale`` (files an earlier run wrote that this one does not), and
    mark the folder complete; the staging folder is gone afterwards."""
    stale = set(stale)
    try:
        if staging.whole and _complete_copy(staging.path, folder, names, stale):
            files = (owned_files(folder) | set(names)) - stale
            _write_marker(staging.path, "complete", files)
            if _exchange(staging.path, folder.resolve()):
                return  # the earlier folder is now at staging.path, removed below
        _move_in(staging.path, folder, names, stale)
    finally:
        shutil.rmtree(staging.path, ignore_errors=True)


def _move_in(staging: Path, folder: Path, names: list[str], stale: set[str]) -> None:
    """Move the staged files in one by one (each a rename), then remove ``stale``; the marker
    says ``writing`` until all is in place."""
    mark(folder, "writing", add=names)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, folder / name)
    for name in stale:
        (folder / name).unlink(missing_ok=True)
    mark(folder, "complete", remove=stale)


def _can_swap(real: Path) -> bool:
    """Whether ``real`` (a resolved folder) may be replaced whole: a plain folder of at most
    :data:`MAX_SWAP_ENTRIES` files, folders and links on the file system of its parent, and
    not the working directory or above it."""
    if not sys.platform.startswith("linux") or real.parent == real:
        return False
    with contextlib.suppress(OSError):
        if Path.cwd().resolve().is_relative_to(real):
            return False
    try:
        device = real.stat().st_dev
        if real.parent.stat().st_dev != device or not os.access(real.parent, os.W_OK | os.X_OK):
            return False
        count = 0
        for root, dirs, files in os.walk(real):
            for name in (*dirs, *files):
                count += 1
                mode = os.lstat(os.path.join(root, name)).st_mode
                if count > MAX_SWAP_ENTRIES or not (
                    stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)
                ):
                    return False
                if stat.S_ISDIR(mode) and os.lstat(os.path.join(root, name)).st_dev != device:
                    return False
    except OSError:
        return False
    return True


def _complete_copy(staging: Path, folder: Path, names: list[str], stale: set[str]) -> bool:
    """Give ``staging`` every other entry of ``folder`` (files as hard links, folders, links)
    and the folder's permissions; False (nothing published yet) if one cannot be made."""
    real = folder.resolve()
    skip = set(names) | stale
    try:
        staging.chmod(stat.S_IMODE(real.stat().st_mode))
        for root, dirs, files in os.walk(real):
            rel_root = Path(root).relative_to(real)
            if rel_root == Path("."):
                dirs[:] = [d for d in dirs if not d.startswith(LEFTOVER_PREFIXES)]
                files = [f for f in files if f != MARKER and not f.startswith(LEFTOVER_PREFIXES)]
            for name in dirs:
                source, target = Path(root) / name, staging / rel_root / name
                if source.is_symlink():
                    target.symlink_to(os.readlink(source))
                else:
                    target.mkdir(exist_ok=True)
                    shutil.copymode(source, target)
            for name in files:
                rel = (rel_root / name).as_posix()
                source, target = Path(root) / name, staging / rel_root / name
                if rel in skip:
                    continue
                if source.is_symlink():
                    target.symlink_to(os.readlink(source))
                else:
                    os.link(source, target)
    except OSError:
        return False
    return True


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one step; False where the system or the file system
    cannot (nothing moved then)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        with contextlib.suppress(OSError):  # the exchange survives a power cut too
            fd = os.open(b.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))
