"""Loggers follow the search and the evaluation: the settings once, every record of metrics.jsonl /
history.jsonl as it is written, the result, and how the job ended."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from automm import api, plugins
from automm.data.cache import FeatureCache
from automm.errors import AutommError
from automm.loggers import Logger, Loggers, flatten
from automm.run.binding import space_for_cache
from automm.train.bilevel import search as run_search
from automm.train.settings import SearchSettings


class Recorder(Logger):
    """Every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def log_hyperparams(self, params):
        self.calls.append(("hyperparams", dict(params)))

    def log_metrics(self, metrics, step):
        self.calls.append(("metrics", dict(metrics), step))

    def log_probabilities(self, probabilities, step):
        self.calls.append(("probabilities", probabilities, step))

    def log_architecture(self, architecture, step):
        self.calls.append(("architecture", architecture, step))

    def finalize(self, status):
        self.calls.append(("finalize", status))

    def of(self, kind: str) -> list[tuple]:
        return [c[1:] for c in self.calls if c[0] == kind]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def numbers(record: dict) -> dict:
    """What log_metrics must receive of a record: every number, nested ones as ``a/b``."""
    flat = flatten({k: v for k, v in record.items() if k not in ("epoch", "choices", "probabilities")})
    return {k: v for k, v in flat.items() if isinstance(v, int | float) and not isinstance(v, bool)}


@pytest.fixture(scope="module")
def searched(planted_cache, tiny_config, tmp_path_factory):
    """A 2-epoch search and a 2-epoch evaluation, each followed by a recorder."""
    run = tmp_path_factory.mktemp("logged") / "run"
    search, evaluate = Recorder(), Recorder()
    api.search(planted_cache, out=run, config=tiny_config, epochs=2, patience=5, loggers=Loggers([search]))
    api.evaluate(run / "arch.json", out=run / "eval", epochs=2, loggers=Loggers([evaluate]))
    return run, search, evaluate


def test_a_search_logs_its_settings_every_record_and_its_status(searched):
    run, recorder, _ = searched
    records = lines(run / "metrics.jsonl")
    per_epoch = ["metrics", "probabilities", "architecture"]
    assert [c[0] for c in recorder.calls] == ["hyperparams", *per_epoch * 2, "metrics", "finalize"]
    params = recorder.of("hyperparams")[0][0]
    assert params["strategy/name"] == "stgs" and params["space/config/C"] == 16
    assert params["settings/epochs"] == 2
    epochs = recorder.of("metrics")[:2]
    assert [step for _, step in epochs] == [1, 2]
    for (metrics, _), record in zip(epochs, records, strict=True):
        assert metrics == pytest.approx(numbers(record))
        assert {"train_loss", "val_auc", "lr", "temperature", "entropy/op"} <= set(metrics)
    for (probabilities, _), (arch, _), record in zip(
            recorder.of("probabilities"), recorder.of("architecture"), records, strict=True):
        assert probabilities == record["probabilities"]
        assert all(math.isclose(sum(p.values()), 1, abs_tol=1e-4) for p in probabilities.values())
        assert dict(arch.choices) == record["choices"] and set(probabilities) == set(record["choices"])
    result = json.loads((run / "arch.json").read_text())["metrics"]
    assert recorder.of("metrics")[2] == ({f"result/{k}": v for k, v in numbers(result).items()}, 2)
    assert recorder.of("finalize") == [("finished",)]


def test_an_evaluation_logs_its_history_and_test_metrics(searched):
    run, _, recorder = searched
    history = lines(run / "eval" / "history.jsonl")
    assert [c[0] for c in recorder.calls] == ["hyperparams", "metrics", "metrics", "metrics", "finalize"]
    assert recorder.of("hyperparams")[0][0]["settings/epochs"] == 2
    assert recorder.of("metrics")[:2] == [(numbers(h), h["epoch"]) for h in history]
    metrics, step = recorder.of("metrics")[2]
    test_auc = json.loads((run / "eval" / "metrics.json").read_text())["test_auc"]
    assert step == 2 and metrics["result/test_auc"] == test_auc
    assert recorder.of("finalize") == [("finished",)]


@pytest.mark.parametrize(("raised", "status"), [(KeyboardInterrupt, "interrupted"), (AutommError, "failed")])
def test_a_search_that_stops_early_says_how(planted_cache, tiny_config, tmp_path, raised, status):
    cache = FeatureCache.open(planted_cache)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), tiny_config, cache)
    recorder = Recorder()

    def stop(record):
        raise raised("stop")

    with pytest.raises(raised):
        run_search(space, plugins.strategies.get("stgs")(), cache, SearchSettings(epochs=3), tmp_path,
                   on_epoch=stop, loggers=Loggers([recorder]))
    assert len(recorder.of("metrics")) == 1 and recorder.of("finalize") == [(status,)]


def test_a_logger_that_raises_is_switched_off_and_the_search_goes_on(planted_cache, tiny_config, tmp_path):
    class Broken(Logger):
        def log_metrics(self, metrics, step):
            raise ConnectionError("tracker unreachable")

    recorder = Recorder()
    with pytest.warns(UserWarning, match=r"logger Broken failed in log_metrics \(ConnectionError: tracker "
                                         r"unreachable\); it is switched off"):
        result = api.search(planted_cache, out=tmp_path / "run", config=tiny_config, epochs=2, patience=5,
                            loggers=Loggers([Broken(), recorder]))
    assert result.stopped == "max-epochs" and len(recorder.of("metrics")) == 3
    assert recorder.of("finalize") == [("finished",)]
