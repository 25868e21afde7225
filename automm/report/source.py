"""What a feature cache's ``source`` record says, in words: the plugin that wrote the cache
describes it (hook ``automm_describe_source``); without one, a neutral description."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automm.report.markdown import escape, join_and


@dataclass(frozen=True)
class SourceDescription:
    """A cache source in plain words (not yet Markdown)."""

    dataset: str = ""
    """The data the features come from, e.g. ``the demo dataset``; "" when unknown."""
    extractors: tuple[str, ...] = ()
    """What extracted the features, e.g. ``the image backbone resnet34 (randomly initialised)``."""
    random_init: tuple[str, ...] = ()
    """Names of randomly initialised backbones; ``""`` for one the source does not name."""
    weights: str | None = None
    """Where the backbone weights came from (``weights`` of metrics.json), None when unknown."""
    backbone_params: int | None = None
    """Parameters of the backbones that made the cache, None when not recorded."""

    def describe(self, verb: str, path: str | None = None) -> str:
        """``verb`` on which features (dataset, cache ``path`` and extractors) as a Markdown sentence."""
        text = f"{verb} on the features of {escape(self.dataset)}" if self.dataset else f"{verb} on features"
        if path:
            text += f" cached in {escape(path)}"
        if self.extractors:
            text += ", extracted by " + join_and([escape(e) for e in self.extractors])
        return text + "."


def generic_description(source: Any) -> SourceDescription:
    """What any source says without its plugin: a dataset name and a ``weights`` label."""
    if not isinstance(source, Mapping):
        return SourceDescription()
    dataset = source.get("dataset")
    weights = source.get("weights")
    return SourceDescription(dataset=f"the {dataset} dataset" if isinstance(dataset, str) else "",
                             weights=None if weights is None else str(weights))


def describe_source(source: Any) -> SourceDescription:
    """The description of a cache's ``source`` record: the first plugin's answer, else generic."""
    from automm.plugins import plugin_manager

    if source is None:
        return SourceDescription()
    answer = plugin_manager().hook.automm_describe_source(source=source)
    return answer if isinstance(answer, SourceDescription) else generic_description(source)
