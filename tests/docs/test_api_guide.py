"""The notebook API example of docs/guide.md runs as written, and ``import automm`` stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import automm
from automm.errors import AutommError, UnknownComponentError

GUIDE = Path(__file__).parents[2] / "docs" / "guide.md"


def test_the_api_example_of_the_guide_runs(capsys: pytest.CaptureFixture[str]) -> None:
    match = re.search(r"<!-- example: api -->\n```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert match, "no api example in docs/guide.md"
    exec(compile(match.group(1), "docs/guide.md", "exec"), {})
    out = capsys.readouterr().out
    assert "['bmnas', 'darts', 'random', 'stgs']" in out and "test AUC" in out


def test_import_automm_loads_no_torch_until_the_api_is_used() -> None:
    code = ("import sys, automm\n"
            "print('torch' in sys.modules)\n"
            "automm.create_space('bimodal-deepfake')\n"
            "print('torch' in sys.modules)\n"
            "automm.build_network('bimodal-deepfake')\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False", "True"], out.stderr


def test_unknown_kinds_and_settings_are_one_line_errors(tmp_path: Path) -> None:
    assert automm.list_components("fusion-op", "s*") == ["sum"]
    with pytest.raises(UnknownComponentError, match="unknown component kind 'widgets'; known: backbones"):
        automm.list_components("widgets")
    with pytest.raises(AutommError, match=r"unknown setting\(s\) epoch; known: epochs"):
        automm.search(tmp_path, out=tmp_path / "run", epoch=3)
