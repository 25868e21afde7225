"""Storage of components: a :class:`Registry` per kind, its :class:`Entry` s and
:class:`LazyComponent` s. The registries themselves are created and filled by the plugin host,
:mod:`automm.plugins`."""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from automm.errors import PluginError, UnknownComponentError

_NAME = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the known name closest to a mistyped ``name``, or ""."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _key(name: str) -> str:
    """How a name is looked up: case-insensitively (registered names are lower case)."""
    return name.lower() if isinstance(name, str) else name


@dataclass(frozen=True)
class Entry:
    """One registered component and where it came from."""

    kind: str
    name: str
    obj: Any
    plugin: str
    distribution: str | None = None
    version: str | None = None


class LazyComponent:
    """A component imported on first use, so that loading plugins imports no torch.

    ``LazyComponent("automm_stgs.strategy:StgsStrategy", options=OPTIONS)``: calling it calls
    the target; attributes given as keywords answer without importing (a strategy's ``options``
    for ``automm search --help``); any other attribute is the target's.
    """

    def __init__(self, target: str, **attributes: Any) -> None:
        self.target = target
        self.__dict__.update(attributes)

    def load(self) -> Any:
        """The target object (``module:name``), imported now."""
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        return f"LazyComponent({self.target!r})"


class Registry:
    """Components of one kind by name: ``register``, ``get``, ``list``.

    ``hook`` is the hook that fills it; ``loader``, when given, is called before every read (the
    host's plugin discovery, which runs once).
    """

    def __init__(self, kind: str, hook: str, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.hook = hook
        self._loader = loader
        self._entries: dict[str, Entry] = {}

    def _ensure_loaded(self) -> None:
        if self._loader is not None:
            self._loader()

    def register(
        self,
        name: str,
        obj: Any,
        *,
        plugin: str = "<runtime>",
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        """Add ``obj`` under ``name``; a name may be registered once."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PluginError(f"invalid {self.kind} name {name!r} (use kebab-case, e.g. 'linear-glu')")
        if name in self._entries:
            other = self._entries[name].plugin
            raise PluginError(f"{self.kind} {name!r} is already registered by plugin {other!r}")
        self._entries[name] = Entry(self.kind, name, obj, plugin, distribution, version)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (used by tests and tools that register temporarily)."""
        self._entries.pop(_key(name), None)

    def clear(self) -> None:
        """Remove every entry."""
        self._entries.clear()

    def entry(self, name: str) -> Entry:
        """The :class:`Entry` for ``name`` (any case: names are stored lower case); unknown names
        list the known ones."""
        self._ensure_loaded()
        try:
            return self._entries[_key(name)]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            hint = did_you_mean(_key(name), self._entries)
            raise UnknownComponentError(f"unknown {self.kind} {name!r}{hint}; known: {known}") from None

    def get(self, name: str) -> Any:
        """The object registered under ``name``."""
        return self.entry(name).obj

    def list(self, pattern: str = "*") -> list[str]:
        """Sorted names, optionally filtered by a shell-style wildcard."""
        self._ensure_loaded()
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def entries(self) -> list[Entry]:
        """All entries, sorted by name."""
        self._ensure_loaded()
        return [self._entries[n] for n in sorted(self._entries)]

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return isinstance(name, str) and _key(name) in self._entries

