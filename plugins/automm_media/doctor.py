"""``automm doctor`` lines of the media pipeline (hook ``automm_doctor_checks``): PyAV and the
MTCNN weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from automm.diagnostics import FAIL, OK, Check, first_line

MTCNN_WEIGHTS = ("pnet.pt", "rnet.pt", "onet.pt")


def check_pyav() -> Check:
    """PyAV decodes video and audio with its bundled FFmpeg."""
    try:
        import av
    except Exception as exc:
        return Check("pyav", FAIL, first_line(exc), "pip install --force-reinstall 'av>=12'")
    ffmpeg = getattr(av, "ffmpeg_version_info", "unknown")
    return Check("pyav", OK, f"PyAV {av.__version__} with FFmpeg {ffmpeg}")


def check_mtcnn() -> Check:
    """The MTCNN face-detector weights that ship inside facenet-pytorch's wheel."""
    fix = "pip install --force-reinstall 'facenet-pytorch==2.5.3'"
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return Check("mtcnn", FAIL, "facenet-pytorch is not installed", fix)
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    missing = [w for w in MTCNN_WEIGHTS if not (data / w).is_file()]
    if missing:
        return Check("mtcnn", FAIL, f"{data}: missing {', '.join(missing)}", fix)
    return Check("mtcnn", OK, f"MTCNN weights in {data}")
