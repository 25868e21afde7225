"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import stat
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from automm.errors import AutommError

TEMP_SUFFIX = ".tmp"
"""Suffix of the temporary files and directories of :func:`atomic_path` (and of old directories
renamed aside); :func:`remove_stale_temps` deletes those left by killed writes."""


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; fsync it and rename it to ``path`` on success.

    A directory that already exists is renamed aside first and deleted only after the new one
    is in place, so a kill at any point leaves the old or the new directory, never a half-deleted
    one. On error the temporary file (or directory) is removed and ``path`` is untouched.
    """
    target = Path(path)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as exc:
        raise AutommError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        yield tmp
        _default_permissions(tmp, directory)
        _fsync_tree(tmp)
        if directory and target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", suffix=TEMP_SUFFIX, dir=parent))
            os.replace(target, aside / target.name)
            os.replace(tmp, target)
            _fsync(parent)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, target)
            _fsync(parent)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    """Flush one file or directory to disk (directories: where the platform allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync directories
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    if path.is_dir():
        for item in path.rglob("*"):
            if item.is_file():
                _fsync(item)
    _fsync(path)


def remove_stale_temps(directory: str | os.PathLike[str], name: str = "") -> list[Path]:
    """Delete the temporary files and directories that killed writes left in ``directory``
    (those of ``name`` only, when given); return them. Call it only while owning ``directory``
    (or ``name``) through :mod:`automm.locking`, so no live writer's temp is removed."""
    root = Path(directory)
    if not root.is_dir():
        return []
    if name and not (root / name).exists():  # killed between the two renames of a replacement
        for aside in sorted(root.glob(f".{glob.escape(name)}.old.*{TEMP_SUFFIX}")):
            if (aside / name).exists():
                os.replace(aside / name, root / name)
                break
    # tempfile names: prefix + 8 characters of [a-z0-9_] + suffix
    pattern = re.compile(rf"\.{re.escape(name)}\.(old\.)?[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}" if name
                         else rf"\..*{re.escape(TEMP_SUFFIX)}")
    removed = []
    for item in root.iterdir():
        if not pattern.fullmatch(item.name):
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        removed.append(item)
    return removed


def remove_tree(path: str | os.PathLike[str]) -> None:
    """Delete directory ``path``: renamed first to a temporary name beside it (which
    :func:`remove_stale_temps` deletes if this is killed), so it never lingers half deleted."""
    target = Path(path)
    aside = None
    try:
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent))
        os.replace(target, aside / target.name)
    except OSError as exc:
        if aside is not None:
            aside.rmdir()
        raise AutommError(f"{target}: cannot remove: {exc.strerror or exc}") from None
    _fsync(target.parent)
    shutil.rmtree(aside, ignore_errors=True)


def carry_over(source: str | os.PathLike[str], target: str | os.PathLike[str], *,
               skip: tuple[str, ...] = ()) -> None:
    """Hard-link (or copy) the entries of directory ``source`` into ``target``, except the
    names in ``skip`` and temporary files; no-op when ``source`` does not exist."""
    src, dst = Path(source), Path(target)
    if not src.is_dir():
        return
    for item in src.iterdir():
        if item.name in skip or item.name.endswith(TEMP_SUFFIX):
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.copytree(item, dst / item.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(item, dst / item.name)


def _link_or_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _default_permissions(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp create private files; give the result the usual umask-based mode."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod((0o777 if directory else 0o666) & ~umask)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def finite_or_none(value: Any) -> Any:
    """``None`` for a non-finite float, the value otherwise (recursively in dicts and lists):
    JSON has no NaN or infinity."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


class NonFiniteError(AutommError):
    """A loss, metric, entropy or other number of a run that is NaN or infinite."""


def finite_record(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``record`` (one epoch of a run) if every float in it is finite, else :class:`NonFiniteError`
    naming ``where`` and the value. An AUC (``*auc`` key) may be undefined (a split with one
    class) and becomes ``None``; every other NaN or infinity stops the run."""
    def check(value: Any, key: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            if key.rsplit(".", 1)[-1].endswith("auc"):
                return None
            raise NonFiniteError(f"{where}: {key} is not finite ({value}); the run stopped")
        if isinstance(value, Mapping):
            return {k: check(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [check(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return value

    return {k: check(v, str(k)) for k, v in record.items()}


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object per line, atomically (non-finite floats become null)."""
    write_text(path, "".join(json.dumps(finite_or_none(dict(r))) + "\n" for r in records))


MAX_JSON_BYTES = 64 * 2**20
"""Largest JSON file automm reads (arch.json, manifests, metrics): larger is an error, not a
MemoryError."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON file."""


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is no regular file that can be read without blocking (``not a regular file
    (a FIFO)``, ``... (a directory)``, ``no such file``, a symlink loop's OS message), or ``None``
    when it is one. Nothing is opened: a FIFO is never waited on."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:  # ELOOP (a symlink loop), EACCES, a name too long
        return exc.strerror or str(exc)
    if stat.S_ISREG(mode):
        return None
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a special file")
    return f"not a regular file ({kind})"


def optional_file(path: str | os.PathLike[str]) -> bool:
    """Whether the optional file ``path`` is there to read: False when nothing is there, True for
    a regular file; anything else (a FIFO, a directory, a symlink loop or a dangling link) is an
    :class:`AutommError` naming it, never silently taken for a missing file."""
    problem = not_regular(path)
    if problem is None:
        return True
    if not os.path.lexists(path):
        return False
    raise AutommError(f"{path}: {problem}")


def read_user_bytes(path: str | os.PathLike[str], limit: int, error: type[AutommError] = AutommError
                    ) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; a FIFO, device or
    directory is refused without blocking; problems raise ``error`` naming the file."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{p}: no such file") from None
    except OSError as exc:
        raise error(f"{p}: cannot read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # before fdopen, which refuses a directory naming the fd
        os.close(fd)
        raise error(f"{p}: not a regular file")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > limit:
            raise error(f"{p}: too large ({info.st_size} bytes; at most {limit})")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise error(f"{p}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{p}: too large (more than {limit} bytes)")
    return data


def json_depth_error(text: str, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why ``text`` nests arrays/objects deeper than ``limit`` (None when it does not); strings
    are skipped, so brackets inside them do not count."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return f"nested deeper than {limit} levels"
        elif ch in "]}":
            depth -= 1
    return None


def read_json(path: str | os.PathLike[str], error: type[AutommError] = AutommError) -> Any:
    """Read JSON from the regular file ``path`` (bounded size and nesting; NaN and Infinity
    refused); missing files and bad JSON raise ``error`` naming the file."""
    p = Path(path)
    data = read_user_bytes(p, MAX_JSON_BYTES, error)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{p}: cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    problem = json_depth_error(text)
    if problem:
        raise error(f"{p}: invalid JSON: {problem}")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{p}: invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{p}: invalid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@contextmanager
def quiet_loader() -> Iterator[None]:
    """Silence library warnings while a library (torch, safetensors, numpy, PyAV, onnxruntime)
    parses a user file: what a file holds is automm's to report, in its own one line, never a
    library's warning printed before (or instead of) it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


CACHE_ENV = "AUTOMM_CACHE_DIR"


def user_cache_dir() -> Path:
    """Where automm keeps data it made for the user (extracted features, the demo corpus):
    ``$AUTOMM_CACHE_DIR``, else ``$XDG_CACHE_HOME/automm``, else ``~/.cache/automm``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "automm"
