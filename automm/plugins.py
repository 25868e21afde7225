"""The plugin host: the component registries, and plugin discovery (entry points of group
``automm``, loaded lazily and once, the first time a registry is read) that fills them."""

from __future__ import annotations

import os
import types
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import click
import pluggy

from automm import hookspecs
from automm.registry import Registry

GROUP = "automm"
DISABLE_ENV = "AUTOMM_DISABLE_PLUGINS"
UNAVAILABLE = "AUTOMM_UNAVAILABLE"
"""A plugin module whose attribute of this name is a non-empty string (set at import, e.g.
``"needs automm[nni]"`` when an optional dependency is missing) is not registered: its status is
``unavailable`` with that reason, and no warning is printed."""


@dataclass
class PluginInfo:
    """A discovered plugin: its entry-point name, distribution and status."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    status: str = "loaded"  # loaded | blocked | unavailable | failed
    reason: str | None = None


@dataclass
class _State:
    manager: pluggy.PluginManager | None = None
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    loading: bool = False


_state = _State()


class _PluginManager(pluggy.PluginManager):
    """A pluggy manager that does not resolve a module's lazy exports (:mod:`automm._lazy`)
    while looking for hook implementations: they are never hooks, and resolving them imports
    torch."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        if isinstance(plugin, types.ModuleType) and name not in vars(plugin):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def blocked_names() -> set[str]:
    """Entry-point names listed in ``AUTOMM_DISABLE_PLUGINS`` (comma separated)."""
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, loading plugins on first use."""
    load_plugins()
    assert _state.manager is not None
    return _state.manager


def plugin_infos() -> list[PluginInfo]:
    """Every discovered plugin (loaded, blocked, unavailable or failed), sorted by name."""
    load_plugins()
    return [_state.plugins[n] for n in sorted(_state.plugins)]


def load_plugins() -> None:
    """Discover and register every plugin once; failures are recorded, not raised."""
    if _state.manager is not None or _state.loading:
        return
    _state.loading = True
    try:
        pm = _PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        blocked = blocked_names()
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else None
            info = PluginInfo(ep.name, dist, version)
            _state.plugins[ep.name] = info
            if ep.name in blocked:
                pm.set_blocked(ep.name)
                info.status, info.reason = "blocked", f"listed in {DISABLE_ENV}"
                continue
            _register_module(pm, ep, info)
        _state.manager = pm
        for info in _state.plugins.values():
            if info.status == "loaded":
                _collect_components(pm, info)
    finally:
        _state.loading = False


def _register_module(pm: pluggy.PluginManager, ep: Any, info: PluginInfo) -> None:
    try:
        module = ep.load()
        unavailable = getattr(module, UNAVAILABLE, None)
        if unavailable:
            info.status, info.reason = "unavailable", str(unavailable)
            return
        pm.register(module, name=ep.name)
    except Exception as exc:  # a broken plugin must not take automm down
        _fail(info, f"cannot load: {type(exc).__name__}: {exc}")
        return
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(name=ep.name)
        _fail(info, f"implements an unknown hook: {exc}")
        return
    info.hooks = sorted(h.name for h in pm.get_hookcallers(pm.get_plugin(ep.name)) or [])


def _collect_components(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    for registry in REGISTRIES.values():
        for impl in getattr(pm.hook, registry.hook).get_hookimpls():
            if impl.plugin_name != info.name:
                continue

            def register(name: str, obj: Any, _registry: Any = registry) -> None:
                _registry.register(name, obj, plugin=info.name, distribution=info.distribution,
                                   version=info.version)

            try:
                impl.function(register=register)
            except Exception as exc:
                _fail(info, f"{registry.hook} raised {type(exc).__name__}: {exc}")


def _fail(info: PluginInfo, reason: str) -> None:
    info.status = "failed"
    info.reason = reason if info.reason is None else f"{info.reason}; {reason}"


def register_plugin(plugin: object, name: str) -> PluginInfo:
    """Register an in-process plugin (a module or object with hook implementations).

    Useful in notebooks and tests; raises :class:`automm.errors.PluginError` when it fails.
    """
    from automm.errors import PluginError

    pm = plugin_manager()
    info = PluginInfo(name, None, None)
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except (ValueError, pluggy.PluginValidationError) as exc:
        if pm.has_plugin(name) and _state.plugins.get(name) is None:
            pm.unregister(name=name)
        raise PluginError(f"plugin {name!r}: {exc}") from None
    info.hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    _state.plugins[name] = info
    _collect_components(pm, info)
    if info.status == "failed":
        unregister_plugin(name)
        raise PluginError(f"plugin {name!r}: {info.reason}")
    return info


def unregister_plugin(name: str) -> None:
    """Remove a plugin and every component it registered."""
    pm = plugin_manager()
    if pm.has_plugin(name):
        pm.unregister(name=name)
    _state.plugins.pop(name, None)
    for registry in REGISTRIES.values():
        for entry in registry.entries():
            if entry.plugin == name:
                registry.unregister(entry.name)


def require_plugin(name: str, purpose: str) -> None:
    """Raise a one-line :class:`automm.errors.PluginError` unless plugin ``name`` is loaded:
    ``{purpose} needs plugin {name!r} ({why})``."""
    from automm.errors import PluginError

    load_plugins()
    info = _state.plugins.get(name)
    if info is None or info.status != "loaded":
        why = "not installed" if info is None else info.reason or info.status
        raise PluginError(f"{purpose} needs plugin {name!r} ({why})")


def failures() -> list[PluginInfo]:
    """Plugins that failed to load or register."""
    return [p for p in plugin_infos() if p.status == "failed"]


def add_plugin_commands(cli: click.Group) -> None:
    """Let every loaded plugin add its commands; a failing plugin is recorded."""
    pm = plugin_manager()
    for impl in pm.hook.automm_register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:
            info = _state.plugins.get(impl.plugin_name)
            if info is not None:
                _fail(info, f"automm_register_commands raised {type(exc).__name__}: {exc}")


strategies = Registry("strategy", "automm_register_strategies", load_plugins)
fusion_ops = Registry("fusion op", "automm_register_fusion_ops", load_plugins)
backbones = Registry("backbone", "automm_register_backbones", load_plugins)
spaces = Registry("space", "automm_register_spaces", load_plugins)
datasets = Registry("dataset", "automm_register_datasets", load_plugins)
loggers = Registry("logger", "automm_register_loggers", load_plugins)

REGISTRIES: dict[str, Registry] = {
    "strategies": strategies,
    "fusion_ops": fusion_ops,
    "backbones": backbones,
    "spaces": spaces,
    "datasets": datasets,
    "loggers": loggers,
}
"""Every registry, keyed by the kind's plural (also the key in ``automm plugins --json``)."""


def reset_plugins() -> None:
    """Forget every loaded plugin and registered component (tests, long-lived tools)."""
    _state.manager = None
    _state.plugins.clear()
    for registry in REGISTRIES.values():
        registry.clear()


__all__ = [
    "REGISTRIES",
    "PluginInfo",
    "add_plugin_commands",
    "backbones",
    "blocked_names",
    "datasets",
    "failures",
    "fusion_ops",
    "load_plugins",
    "loggers",
    "plugin_infos",
    "plugin_manager",
    "register_plugin",
    "require_plugin",
    "reset_plugins",
    "spaces",
    "strategies",
    "unregister_plugin",
]
