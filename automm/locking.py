"""One writer per output: a lock file ``.NAME.lock`` beside a run, evaluation or cache directory.

The lock file holds the owner's pid and host. It sits beside the directory (not inside it) so
that replacing the directory by a rename keeps it. A lock whose owner is no longer running on
this host is stale and is taken over. While holding the lock, the owner removes the temporary
files that killed writes left (:func:`automm.fileio.remove_stale_temps`).
"""

from __future__ import annotations

import errno
import functools
import inspect
import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from automm.errors import AutommError
from automm.fileio import remove_stale_temps
from automm.schema import integer, obj, problem, string

F = TypeVar("F", bound=Callable[..., Any])


class LockedError(AutommError):
    """Another live process owns the directory."""


LOCK = obj({"pid": integer(1), "host": string()})
"""Schema of a lock file (a record that does not fit is a writer killed mid-write: stale)."""

def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of directory ``path``: ``.NAME.lock`` beside it."""
    p = Path(path).absolute()
    return p.parent / f".{p.name}.lock"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): os.kill's answer stands
    return state != "Z"


def _holder(lock: Path) -> tuple[int, str] | None:
    """``(pid, host)`` recorded in ``lock``; None when unreadable (a writer killed mid-write)."""
    try:
        record = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (record["pid"], record["host"]) if problem(record, LOCK) is None else None


def _stale(lock: Path) -> bool:
    holder = _holder(lock)
    if holder is None:
        return True
    pid, host = holder
    return host == socket.gethostname() and not _alive(pid)


def in_use(path: str | os.PathLike[str]) -> bool:
    """Whether a live process owns directory ``path`` now (its lock exists and is not stale)."""
    lock = lock_path(path)
    return lock.is_file() and not _stale(lock)


@contextmanager
def owned(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Own directory ``path`` for the duration of the block (see the module docstring).

    Raises :class:`LockedError`, naming the holder, when another live process owns it. Nested
    use in the owning process is a no-op (e.g. an extraction that writes its cache).
    """
    target = Path(path)
    lock = lock_path(target)
    me = (os.getpid(), socket.gethostname())
    if _holder(lock) == me:
        yield target
        return
    record = json.dumps({"pid": me[0], "host": me[1]})
    for _ in range(3):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if _stale(lock):
                lock.unlink(missing_ok=True)
                continue
            pid, host = _holder(lock) or (0, "?")
            raise LockedError(f"{target}: in use by process {pid} on {host} (lock file {lock}); "
                              "wait for it or choose another output") from None
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise AutommError(f"{target}: cannot write: {exc.strerror}") from None
            raise AutommError(f"{lock}: cannot create the lock file: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record)
        break
    else:
        raise LockedError(f"{target}: cannot take the lock file {lock} (it keeps changing)")
    try:
        remove_stale_temps(target.parent, target.name)
        remove_stale_temps(target)
        yield target
    finally:
        if _holder(lock) == me:
            lock.unlink(missing_ok=True)


def owning(argument: str) -> Callable[[F], F]:
    """Decorator: each call :func:`owned` the directory passed as ``argument``."""
    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with owned(signature.bind(*args, **kwargs).arguments[argument]):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
