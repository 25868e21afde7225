"""Starting and resuming a search run: every check before the loop (:mod:`automm.train.bilevel`)
runs, for the CLI, :mod:`automm.api` and sweep points alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automm import plugins
from automm.data.cache import FeatureCache
from automm.data.prepare import open_data
from automm.errors import AutommError
from automm.factory import create_space
from automm.ir import Architecture, SearchSpace
from automm.run.binding import space_for_cache
from automm.run.layout import CHECKPOINT, check_new_run
from automm.schema import check, integer, map_of, nullable, number, obj, optional, string
from automm.strategy.base import Strategy
from automm.train.checkpoint import check_progress, load_checkpoint
from automm.train.device import resolve_device
from automm.train.progress import EpochCallback
from automm.train.records import HISTORY, LOSS, RATE
from automm.train.settings import SEARCH_SETTINGS, SearchSettings

if TYPE_CHECKING:
    from automm.loggers import Loggers
    from automm.train.bilevel import SearchResult


@dataclass
class NewSearch:
    """A search ready to run in ``run_dir``: the space bound to the cache, the strategy, the
    settings; :attr:`notes` are what the user should read before it starts."""

    run_dir: Path
    space: SearchSpace
    strategy: Strategy
    cache: FeatureCache
    settings: SearchSettings

    @property
    def notes(self) -> list[str]:
        """The cache's notes, then the strategy's for these settings."""
        return [*self.cache.notes, *self.strategy.notes(self.settings.batch_size)]

    @property
    def warnings(self) -> list[str]:
        """What keeps this search from learning (:func:`cannot_learn`)."""
        return cannot_learn(self.space)

    def run(self, *, progress: bool | None = None, on_epoch: EpochCallback | None = None,
            loggers: Loggers | None = None) -> SearchResult:
        """Run the search (:func:`automm.train.bilevel.search`)."""
        from automm.train.bilevel import search

        return search(self.space, self.strategy, self.cache, self.settings, self.run_dir,
                      progress=progress, on_epoch=on_epoch, loggers=loggers)


def cannot_learn(space: SearchSpace) -> list[str]:
    """A sentence when every op a step can choose is constant (a fusion op registered with
    ``constant=True``, e.g. ``zero``): every architecture then ignores the data, and the search
    cannot learn; else nothing."""
    ops = sorted({op for choice in space.choices.values() if choice.kind == "op" for op in choice.candidates})
    if not ops or not all(getattr(plugins.fusion_ops.get(op), "constant", False) is True for op in ops):
        return []
    return [f"every fusion op of the pool ({', '.join(ops)}) outputs a constant, so no architecture of "
            "this space reads the data: the search cannot learn and its result is arbitrary; add an op "
            f"that reads its inputs (e.g. --ops {','.join(ops)},sum)"]


def open_run(run_dir: Path, *, space: str, config: Mapping[str, Any], device: str, data: str | None,
             verify: bool = True, resumable: bool = True) -> tuple[SearchSpace, FeatureCache]:
    """Check that ``run_dir`` holds no search (:func:`~automm.run.layout.check_new_run`) and
    ``device`` exists, open ``data`` (:func:`automm.data.prepare.open_data`) and bind the space
    ``space`` with ``config`` to it: the space and the cache of a new search."""
    definition = plugins.spaces.get(space)
    check_new_run(run_dir, resumable=resumable)
    resolve_device(device)
    cache = open_data(data, verify=verify)
    return space_for_cache(definition, config, cache), cache


def start(run_dir: Path, *, space: str, config: Mapping[str, Any], strategy: Strategy,
          settings: SearchSettings, data: str | None, verify: bool = True) -> NewSearch:
    """A new search (:func:`open_run`) of ``strategy`` with ``settings``."""
    bound, cache = open_run(run_dir, space=space, config=config, device=settings.device, data=data,
                            verify=verify)
    return NewSearch(run_dir, bound, strategy, cache, settings)


def resume(run_dir: Path, *, device: str | None = None, progress: bool | None = None,
           on_epoch: EpochCallback | None = None, loggers: Loggers | None = None) -> SearchResult:
    """Continue the search in ``run_dir`` after :func:`check_checkpoint`
    (:func:`automm.train.bilevel.resume_search`)."""
    from automm.train.bilevel import resume_search

    check_checkpoint(run_dir / CHECKPOINT)
    return resume_search(run_dir, device=device, progress=progress, on_epoch=on_epoch, loggers=loggers)


CHECKPOINT_SCHEMA = obj({
    "setup": obj({"strategy": obj({"name": string()}),
                  "space": obj({"name": string(), "config": obj()}),
                  "data": obj({"path": string(low=1), "fingerprint": string()}),
                  "settings": SEARCH_SETTINGS}),
    "epoch": integer(0), "finished": nullable(string("converged", "max-epochs")),
    "best": nullable(obj({"epoch": integer(1), "choices": map_of(string()), "acc": RATE, "auc": RATE,
                          "loss": LOSS})),
    "history": HISTORY, "seconds": number(0), "started": optional(string()),
})
"""Schema of the plain values of a search checkpoint (:meth:`automm.train.bilevel._Search.state`;
its tensors are compared with a fresh run's by :func:`automm.train.checkpoint.check_state`)."""


def check_checkpoint(path: Path) -> None:
    """Refuse, in one line, a search checkpoint whose recorded setup, best architecture or
    end state is malformed (the rest is checked by :func:`automm.train.bilevel.resume_search`)."""
    state = load_checkpoint(path, "search")
    check(state, CHECKPOINT_SCHEMA, path)
    unknown = set(state["setup"]["settings"]) - set(SearchSettings.__dataclass_fields__)
    if unknown:
        raise AutommError(f"{path}: inconsistent checkpoint: unknown setting(s) {sorted(unknown)!r:.80}")
    epochs = state["setup"]["settings"].get("epochs", SearchSettings.epochs)
    check_progress(path, state, epochs)
    best, finished = state["best"], state["finished"]
    if finished is None and state["epoch"] >= epochs:
        raise AutommError(f"{path}: inconsistent checkpoint: epoch {state['epoch']} of a {epochs}-epoch "
                          "run, not finished")
    if finished is not None and best is None:
        raise AutommError(f"{path}: inconsistent checkpoint: finished ({finished}) without a best epoch")
    if best is not None:
        space_setup = state["setup"]["space"]
        space = create_space(space_setup["name"], space_setup["config"])
        try:
            Architecture(space.name, {}, best["choices"]).validate(space)
        except AutommError as exc:
            raise AutommError(f"{path}: inconsistent checkpoint: best: {exc}") from None
