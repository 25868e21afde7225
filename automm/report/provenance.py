"""The "How this was run" section of the reports: the provenance records of arch.json and
metrics.json (:mod:`automm.provenance`) side by side, in words and tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automm.report.markdown import table

RERUN = ("Each run repeats from its own record: `automm search --rerun RUN_DIR --out NEW_DIR` and "
         "`automm evaluate --rerun EVAL_DIR --out NEW_DIR` (on the CPU the repeat's files equal the "
         "original's apart from times and the command line).")
ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("command line", ("run", "command")), ("working directory", ("run", "cwd")),
    ("started", ("run", "started")), ("finished", ("run", "finished")),
    ("automm", ("automm",)), ("python", ("python",)), ("torch", ("torch",)), ("CUDA", ("cuda",)),
    ("platform", ("platform",)), ("device", ("device",)), ("precision", ("precision",)), ("seed", ("seed",)),
    ("feature cache", ("data", "path")), ("cache fingerprint", ("data", "fingerprint")),
)
"""Rows of the table: label and path of the value in a record."""


def how_it_ran(records: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Markdown lines: a table with a column per record (e.g. ``search``, ``evaluation``) of the
    command line, times, versions, device, precision, seed, cache, git commit, plugins and every
    effective setting; a record written before these were kept shows what it has."""
    names = list(records)
    rows = [(label, [_get(r, path) for r in records.values()]) for label, path in ROWS]
    rows.append(("git commit", [_commit(r.get("git"), "git" in r) for r in records.values()]))
    rows.append(("plugins", [_plugins(r.get("plugins")) for r in records.values()]))
    settings: dict[str, None] = {}
    for record in records.values():
        if isinstance(record.get("settings"), Mapping):
            settings.update(dict.fromkeys(record["settings"]))
    rows += [(f"setting {name}", [_get(r, ("settings", name)) for r in records.values()])
             for name in settings]
    return [*table(["", *names], ([label, *values] for label, values in rows)), "", RERUN]


def _get(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, Mapping) or key not in record:
            return "not recorded"
        record = record[key]
    return record


def _commit(git: Any, recorded: bool) -> str:
    if not recorded:
        return "not recorded"
    if not isinstance(git, Mapping):
        return "not run from a git checkout"
    return f"{git.get('commit')}{' (with uncommitted changes)' if git.get('dirty') else ''}"


def _plugins(plugins: Any) -> str:
    if not isinstance(plugins, Mapping):
        return "not recorded"
    return ", ".join(f"{name} {version}" for name, version in plugins.items()) or "none"
