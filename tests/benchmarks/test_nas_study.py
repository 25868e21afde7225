"""The statistics of benchmarks/nas_study.py: t intervals and the pairing with random by seed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "nas_study.py"


def _study():
    spec = importlib.util.spec_from_file_location("nas_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(label: str, seed: int, auc: float, recovered: bool) -> dict:
    pick = {"test_auc": auc, "recovered": recovered}
    return {"row": label, "signal": "sum", "data_seed": seed, "final": pick, "best": dict(pick)}


def test_interval_is_the_mean_with_a_t_interval():
    study = _study()
    # mean 2, sd 1, n = 3: half width t(0.975, 2) / sqrt(3) = 4.303 / 1.732
    assert study.interval([1.0, 2.0, 3.0]) == "2.000 [-0.484, 4.484]"
    assert study.interval([0.5]) == "0.500"


def test_each_strategy_is_compared_with_random_on_the_same_seed():
    study = _study()
    rows = [_row("random", 0, 0.5, False), _row("random", 1, 0.7, False),
            _row("darts", 1, 0.9, True), _row("darts", 0, 0.6, True), _row("darts", 2, 1.0, True)]
    line = next(x for x in study.paired(rows, "sum").splitlines() if x.startswith("| darts | final"))
    # seed 2 has no random run: left out; differences 0.1 and 0.2, recovered +1 twice
    assert line == "| darts | final | 2 | 0.150 [-0.485, 0.785] | 1.000 [1.000, 1.000] |"


def test_quick_mode_prints_both_tables(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--signals", "sum", "--out", str(tmp_path),
                          "--rows", "stgs (defaults),random"], capture_output=True, text=True, check=True,
                         timeout=600).stdout
    assert "| stgs (defaults) | final | " in out and "| random | best | " in out
    assert "| stgs (defaults) | best | 1 | " in out  # paired with random on data seed 0
