"""The description of an exported detector: what a program needs besides the model file.

``automm export`` writes it beside the model as ``FILE.json`` (the sidecar) and inside the model
(TorchScript: the extra file ``automm.json``; ONNX: the metadata property ``automm``). Its keys
(docs/guide.md, "Deploy"): ``format``, ``model_format``, ``inputs`` (name, shape with ``batch``
first, dtype, what it holds), ``output``, ``classes``, ``taps``, ``preprocessing`` (the plugin's
specification), ``backbones``, ``threshold`` (value, which operating point, and its rates) and
``evaluation`` (where the model and its threshold come from).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from automm.errors import AutommError

FORMAT = "automm.detector/1"
MODEL_FORMATS = ("torchscript", "onnx")
KEYS = ("format", "model_format", "inputs", "output", "classes", "taps", "preprocessing", "backbones",
        "threshold", "evaluation")
METADATA_NAME = "automm"
"""The ONNX metadata property holding the description."""
EXTRA_FILE = "automm.json"
"""The TorchScript extra file holding the description."""


def sidecar_path(model: str | os.PathLike[str]) -> Path:
    """Where the sidecar of ``model`` lives: ``model`` + ``.json``."""
    p = Path(model)
    return p.with_name(p.name + ".json")


def check_description(data: Any, where: str) -> dict[str, Any]:
    """``data`` if it is a detector description of this version, else one :class:`AutommError`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise AutommError(f"{where}: not an automm detector description (format {found!r}, "
                          f"expected {FORMAT!r}); export it again with automm export")
    missing = [k for k in KEYS if k not in data]
    if missing or data["model_format"] not in MODEL_FORMATS:
        raise AutommError(f"{where}: incomplete detector description (missing {', '.join(missing)}"
                          f"{'' if missing else ', bad model_format'})")
    return data
