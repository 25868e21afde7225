"""A Python API for notebooks (timm-style), exported lazily by :mod:`automm`::

    import automm
    automm.list_components("strategies")            # ['bmnas', 'darts', 'random', 'stgs']
    space = automm.create_space("bimodal-deepfake", C=16, cells=1)
    net = automm.build_network(space)               # the supernet; with an architecture: derived
    result = automm.search("CACHE", out="runs/a", epochs=3)
    scores = automm.evaluate(result.run_dir / "arch.json", out="runs/a/eval", epochs=5)

``search`` and ``evaluate`` write the same files as ``automm search`` / ``automm evaluate`` and
return what they wrote (the architecture of arch.json; the metrics of metrics.json).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automm import factory, plugins
from automm.errors import AutommError, UnknownComponentError
from automm.ir import Architecture, SearchSpace, build_space_for, load_architecture

if TYPE_CHECKING:
    from automm.loggers import Loggers
    from automm.nn import FusionNetwork
    from automm.train import RetrainResult, SearchResult

PathLike = str | os.PathLike[str]
ALIASES = {"strategy": "strategies", "fusion-ops": "fusion_ops", "fusion-op": "fusion_ops",
           "fusion_op": "fusion_ops", "ops": "fusion_ops", "backbone": "backbones", "space": "spaces",
           "dataset": "datasets", "logger": "loggers"}
"""Other spellings of the kinds of :data:`automm.plugins.REGISTRIES`."""

__all__ = ["build_network", "create_space", "evaluate", "list_components", "load_architecture", "search"]


def list_components(kind: str, pattern: str = "*") -> list[str]:
    """Registered names of one kind (``strategies``, ``fusion_ops``, ``backbones``, ``spaces``,
    ``datasets``, ``loggers``; singular and kebab-case spellings work too), filtered by a wildcard."""
    key = ALIASES.get(kind, kind)
    if key not in plugins.REGISTRIES:
        raise UnknownComponentError(f"unknown component kind {kind!r}; known: "
                                    f"{', '.join(sorted(plugins.REGISTRIES))}")
    return plugins.REGISTRIES[key].list(pattern)


def create_space(name: str, **config: Any) -> SearchSpace:
    """The search space ``name`` with config fields ``config`` (defaults elsewhere; validated as
    when read from arch.json)."""
    return factory.create_space(name, config)


def build_network(space: SearchSpace | str, architecture: Architecture | PathLike | None = None, *,
                  dropout: float = 0.0) -> FusionNetwork:
    """The supernet of ``space`` (a space or a space name with default config), or with an
    ``architecture`` (or the path of an arch.json) its derived network; a space name then takes
    the architecture's config."""
    from automm.nn import FusionNetwork

    if isinstance(architecture, str | os.PathLike):
        architecture = load_architecture(architecture)
    if isinstance(space, str):
        same = architecture is not None and architecture.space == space
        space = build_space_for(architecture) if same else create_space(space)  # type: ignore[arg-type]
    return FusionNetwork(space, architecture, dropout=dropout)


def search(data: PathLike | None = None, *, out: PathLike, strategy: str = "stgs",
           space: str = "bimodal-deepfake", config: dict[str, Any] | None = None,
           options: dict[str, Any] | None = None, verify: bool = True, progress: bool = False,
           loggers: Sequence[str] | Loggers = (), **settings: Any) -> SearchResult:
    """``automm search``: search ``space`` (config fields ``config``) with ``strategy`` (its
    options ``options``) on ``data`` (a feature cache, or what plugins prepare, e.g. a dataset
    directory; None: the default data) into the run directory ``out``, followed by ``loggers``
    (names, as ``--logger``, or :class:`automm.loggers.Loggers`). ``settings`` are fields of
    :class:`automm.train.SearchSettings` (``epochs``, ``batch_size``, ``seed``, ``device``, ...)."""
    from automm.run import search as search_run
    from automm.train.settings import SearchSettings

    plugins.spaces.get(space)  # an unknown space is reported before an unknown strategy
    method = factory.create_strategy(strategy, options)
    loop = _settings(SearchSettings, settings)
    new = search_run.start(Path(out), space=space, config=config or {}, strategy=method, settings=loop,
                           data=None if data is None else os.fspath(data), verify=verify)
    return new.run(progress=progress, loggers=_loggers(loggers, "search", Path(out), Path(out)))


def evaluate(architecture: Architecture | PathLike, data: PathLike | None = None, *, out: PathLike,
             verify: bool = True, progress: bool = False, resume: bool = False,
             loggers: Sequence[str] | Loggers = (), **settings: Any) -> RetrainResult:
    """``automm evaluate``: retrain ``architecture`` (or the arch.json at that path) from scratch on
    ``data`` (default: the cache it was searched on) and write ``out``; ``settings`` are fields of
    :class:`automm.train.RetrainSettings` (``epochs``, ``batch_size``, ``seed``, ``device``, ...);
    ``loggers`` as in :func:`search`. ``result.metrics`` is what metrics.json holds."""
    import warnings

    from automm.data.prepare import evaluation_cache
    from automm.train.retraining import retrain
    from automm.train.settings import RetrainSettings

    where = architecture if isinstance(architecture, str | os.PathLike) else "the architecture"
    arch = load_architecture(architecture) if isinstance(architecture, str | os.PathLike) else architecture
    train = _settings(RetrainSettings, settings)
    cache = evaluation_cache(arch, where, None if data is None else os.fspath(data), verify=verify,
                             warn=warnings.warn)
    run = Path(architecture).parent if isinstance(architecture, str | os.PathLike) else Path(out)
    return retrain(arch, cache, train, out, resume=resume, progress=progress,
                   loggers=_loggers(loggers, "evaluate", Path(out), run))


def _loggers(given: Sequence[str] | Loggers, job: str, out: Path, run: Path) -> Loggers:
    """``given`` when it is :class:`Loggers`, else the loggers it names, for ``job`` writing ``out``
    (named after the run directory ``run``)."""
    from automm.loggers import LoggerContext, Loggers, open_loggers

    if isinstance(given, Loggers):
        return given
    return open_loggers(list(given), LoggerContext(job, out, run.resolve().name))


def _settings(kind: type, given: dict[str, Any]) -> Any:
    fields = kind.__dataclass_fields__
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise AutommError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    return kind(**given)
