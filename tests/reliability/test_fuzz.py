"""Generated malformed arch.json files, manifests, checkpoints and option values: every case
ends in one error line or a correct run; never a traceback, a hang or a silent NaN."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path

import torch
from faults import (
    ACCEPTED,
    ARCH_KEYS,
    CHECKPOINT_KEYS,
    CLEAN,
    MANIFEST_KEYS,
    OPTIONS,
    rewrite_checkpoint,
    rewrite_json,
    run_cli,
    set_at,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automm.data import FeatureCache
from automm.errors import AutommError

FUZZ = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_subnormal=False),  # searches flush denormals to zero
                    st.text(max_size=30), st.sampled_from(["", "\n", "../x", "zero", "image/1", "\x00"]))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)



def _scratch(src: Path) -> Path:
    dst = Path(tempfile.mkdtemp(prefix="fuzz-")) / src.name
    (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return dst


@FUZZ
@given(keys=st.sampled_from(ARCH_KEYS), value=json_values)
def test_fuzzed_arch_json(pristine, keys, value):
    arch = _scratch(pristine / "run" / "arch.json")
    rewrite_json(arch, lambda d: set_at(d, keys, value))
    outcome = run_cli(["show", arch], allow_success=True, timeout=10)
    assert outcome.kind in (CLEAN, ACCEPTED), outcome
    if outcome.kind == CLEAN:
        assert str(arch) in outcome.stderr


@FUZZ
@given(keys=st.sampled_from(MANIFEST_KEYS), value=json_values)
def test_fuzzed_manifest(pristine, keys, value):
    cache = _scratch(pristine / "cache")
    rewrite_json(cache / "manifest.json", lambda d: set_at(d, keys, value))
    try:
        FeatureCache.open(cache)
    except AutommError as exc:
        assert "\n" not in str(exc) and str(cache) in str(exc)


tensors = st.builds(lambda shape, fill: torch.full(shape, fill),
                    st.lists(st.integers(0, 3), max_size=3).map(tuple),
                    st.floats(width=32, allow_subnormal=False))
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=st.sampled_from(CHECKPOINT_KEYS), inner=st.booleans(), value=st.one_of(scalars, tensors))
def test_fuzzed_checkpoint(pristine, key, inner, value):
    run = _scratch(pristine / "run")

    def change(state):
        if inner and isinstance(state[key], dict) and state[key]:
            state[key][sorted(state[key])[0]] = value
        else:
            state[key] = value
        return state

    rewrite_checkpoint(run / "eval" / "checkpoint.pt", change)
    outcome = run_cli(["evaluate", run / "arch.json", "--out", run / "eval", "--epochs", 1,
                       "--batch-size", 16, "--resume"], allow_success=True, timeout=20)
    assert outcome.kind in (CLEAN, ACCEPTED), outcome
    if outcome.kind == ACCEPTED:
        metrics = json.loads((run / "eval" / "metrics.json").read_text())
        assert all(v is None or math.isfinite(v) for v in metrics.values() if isinstance(v, float))


@FUZZ
@given(option=st.sampled_from(OPTIONS),
       value=st.one_of(st.text(max_size=12),
                       st.sampled_from(["nan", "inf", "-inf", "1e400", str(2**64), "-1"])))
def test_fuzzed_option_values(tmp_path, option, value):
    outcome = run_cli(["search", "--data", tmp_path / "missing", "--out", tmp_path / "run", option, value],
                      timeout=10)
    assert outcome.kind == CLEAN, outcome
    if value.strip().lower() in ("nan", "inf", "-inf", "1e400"):
        assert option in outcome.stderr  # refused as an option value, not later
