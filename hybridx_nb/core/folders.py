"""Output folders hybridx may replace, and the atomic swap that replaces them.

hybridx replaces a path only when it does not exist, is an empty folder, or carries hybridx's own marker file
(``MARKER``, written into every report set, snapshot, failed run, portfolio folder and temporary folder it
creates). Anything else is refused with the path and what is in it: a marker is never guessed from a folder's
contents, so a consultant's working folder, an export folder or a foreign ``x.failed`` folder survive.

A new folder is built in a hidden sibling ``.<name>.<random>.tmp`` (marked, and locked with ``flock`` for as
long as the run lives), then swapped in. On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` system call (on
macOS ``renamex_np(RENAME_SWAP)``): at every moment the path holds either the old or the new folder. Where
neither exists, or the file system refuses the exchange, the fallback is two renames with a window of a few
microseconds in which the path is missing (said in the docstring of ``swap_in``). Temporary siblings whose run
died (their lock is free) are removed by the next run for the same path: they hold client data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hybridx_nb.core.errors import HybridxError

MARKER = ".hybridx-output"
#: What a marked folder is; a folder of one kind is never replaced by a folder of another.
KINDS = ("report", "snapshot", "failed-run", "portfolio", "temporary")


class OutputError(HybridxError):
    """An output path hybridx will not write: it holds something hybridx did not write, or an input."""


def marker_kind(folder: str | Path) -> str | None:
    """The kind recorded in ``folder``'s marker, or None when it has no readable marker."""
    path = Path(folder) / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) and data.get("hybridx") == 1 else None
    return kind if kind in KINDS else None


def write_marker(folder: str | Path, kind: str) -> Path:
    """Mark ``folder`` as written by hybridx (``kind`` is one of ``KINDS``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    path = Path(folder) / MARKER
    path.write_text(json.dumps({"hybridx": 1, "kind": kind}) + "\n", encoding="utf-8")
    return path


def describe(path: Path) -> str:
    """What is at ``path``, in a few words, for a refusal message."""
    if path.is_symlink():
        return f"a symbolic link to {os.readlink(path)}"
    if not path.is_dir():
        return "a file" if path.is_file() else "something that is not a folder"
    kind = marker_kind(path)
    if kind:
        return f"a hybridx {kind.replace('-', ' ')} folder"
    try:
        names = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        return f"a folder that cannot be read ({exc.strerror})"
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return f"a folder with {len(names)} entr{'y' if len(names) == 1 else 'ies'} not written by hybridx ({shown})"


def replaceable(path: str | Path, kind: str) -> bool:
    """True when hybridx may put a folder of ``kind`` at ``path``: nothing there, an empty folder, or a folder
    whose marker says it is hybridx's folder of the same kind."""
    path = Path(path)
    if path.is_symlink():
        return False
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    if marker_kind(path) == kind:
        return True
    try:
        return not any(path.iterdir())
    except OSError:
        return False


def check_replaceable(path: str | Path, kind: str, option: str = "--out") -> None:
    """Raise ``OutputError`` (naming the path and what is in it) unless ``replaceable(path, kind)``."""
    path = Path(path)
    if replaceable(path, kind):
        return
    verb = "write into" if kind == "portfolio" else "replace"
    raise OutputError(f"{option} {path}: refusing to {verb} {describe(path)}; hybridx {verb.split()[0]}s only a "
                      f"missing path, an empty folder or a {kind.replace('-', ' ')} folder it wrote itself (marked "
                      f"by {MARKER}). Choose another {option}, or move that folder away yourself")


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def check_apart(out: str | Path, inputs: dict[str, str | Path | None], option: str = "--out") -> None:
    """Refuse an output folder that equals, contains or lies inside one of the ``inputs`` (label → path)."""
    target = _real(out)
    for label, value in inputs.items():
        if not value:
            continue
        source = _real(value)
        if source == target:
            problem = f"is the input {label} itself"
        elif target in source.parents:
            problem = f"contains the input {label} ({value})"
        elif source in target.parents:
            problem = f"lies inside the input {label} ({value})"
        else:
            continue
        raise OutputError(f"{option} {out} {problem}: writing there would replace what hybridx reads. Choose an "
                          "output folder apart from every input")


@dataclass
class Staging:
    """A marked, locked temporary sibling of ``dest`` where a new folder is built."""

    dest: Path
    path: Path
    _lock: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def discard(self) -> None:
        """Remove the temporary folder (a failed or interrupted run)."""
        self.release()
        shutil.rmtree(self.path, ignore_errors=True)


def _lock(marker: Path) -> int | None:
    """An exclusive ``flock`` on ``marker``, or None when another live process holds it."""
    try:
        fd = os.open(marker, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def sweep(parent: Path, prefix: str) -> list[Path]:
    """Remove the temporary folders ``<prefix>*.tmp`` in ``parent`` that hybridx marked and whose run died."""
    removed = []
    try:
        candidates = [p for p in parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for path in candidates:
        if path.is_symlink() or not path.is_dir() or marker_kind(path) is None:
            continue
        fd = _lock(path / MARKER)
        if fd is None:
            continue  # a live run still works there
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


def stage(dest: str | Path) -> Staging:
    """A new temporary sibling of ``dest``, marked and locked; stale ones of dead runs are removed first."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep(dest.parent, f".{dest.name}.")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the finished folder is an ordinary folder
    lock = _lock(write_marker(tmp, "temporary"))
    return Staging(dest, tmp, lock)


_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h
_AT_FDCWD = -100


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one system call; False when the platform or file system cannot."""
    libc = _libc()
    if libc is None:
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        result = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        result = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(staging: Staging, kind: str, dest: Path | None = None) -> Path:
    """Put the finished folder at ``dest`` (default ``staging.dest``) as a folder of ``kind``.

    The old folder, if any, is exchanged atomically with the new one and then removed. Where the exchange is not
    available, the old folder is first renamed aside and the new one renamed in: the path is missing for the
    time between those two renames. ``dest`` is checked again just before, so that a folder someone put there
    during the run is not replaced.
    """
    dest = Path(dest or staging.dest)
    check_replaceable(dest, kind)
    write_marker(staging.path, kind)
    if not dest.exists():
        os.rename(staging.path, dest)  # rename, not replace: a folder that appeared meanwhile is not replaced
    elif exchange(staging.path, dest):
        shutil.rmtree(staging.path, ignore_errors=True)  # now holds the old folder
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
        write_marker(aside, "temporary")
        os.rename(dest, aside / dest.name)
        os.rename(staging.path, dest)
        shutil.rmtree(aside, ignore_errors=True)
    staging.release()
    return dest


def remove_owned(path: str | Path, kind: str) -> bool:
    """Remove ``path`` only when it is hybridx's folder of ``kind``; True when removed."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir() or marker_kind(path) != kind:
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True
