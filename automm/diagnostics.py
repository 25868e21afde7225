"""What a run needs, checked one item at a time (``automm doctor``), and the one-line message
for a dependency that fails to load while a command runs.

Each check returns a :class:`Check`: ``ok``, ``warn`` (a feature is missing, runs still work)
or ``fail`` (some command will not run), a detail and, unless ok, the fix.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from automm.fileio import user_cache_dir

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    """One line of ``automm doctor``."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        """The JSON form."""
        return asdict(self)


def pinned_torch_set() -> str:
    """The torch/torchaudio/torchvision requirements this automm was installed with."""
    try:
        requires = importlib.metadata.requires("automm") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    pins = [r.split(";")[0].strip() for r in requires
            if r.split("=")[0].split("<")[0].split(">")[0].strip() in ("torch", "torchaudio", "torchvision")]
    return " ".join(f"'{p}'" for p in pins) or "torch torchaudio torchvision"


def _reinstall() -> str:
    return f"pip install --force-reinstall {pinned_torch_set()}"


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of ``exc``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _base(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("+")[0].split(".")[:3] if p.isdigit())


def check_torch() -> Check:
    """torch imports and runs a tensor op."""
    try:
        import torch

        torch.ones(2).sum().item()
    except Exception as exc:
        return Check("torch", FAIL, first_line(exc), _reinstall())
    return Check("torch", OK, f"torch {torch.__version__}")


def check_torchaudio() -> Check:
    """torchaudio loads beside this torch (released in lockstep: same version) and computes a
    spectrogram."""
    try:
        import torch
        import torchaudio

        torchaudio.transforms.Spectrogram(n_fft=64)(torch.zeros(1, 256))
    except Exception as exc:
        return Check("torchaudio", FAIL, first_line(exc), _reinstall())
    if _base(torchaudio.__version__) != _base(torch.__version__):
        return Check("torchaudio", FAIL, f"torchaudio {torchaudio.__version__} was not built for torch "
                     f"{torch.__version__}", _reinstall())
    return Check("torchaudio", OK, f"torchaudio {torchaudio.__version__} with torch {torch.__version__}")


def check_torchvision() -> Check:
    """torchvision loads beside this torch (0.(minor + 15) goes with 2.minor) and its ops run."""
    try:
        import torch
        import torchvision

        torchvision.ops.nms(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([1.0]), 0.5)
    except Exception as exc:
        return Check("torchvision", FAIL, first_line(exc), _reinstall())
    vision, core = _base(torchvision.__version__), _base(torch.__version__)
    if vision[:2] != (0, core[1] + 15):
        return Check("torchvision", FAIL, f"torchvision {torchvision.__version__} was not built for torch "
                     f"{torch.__version__}", _reinstall())
    return Check("torchvision", OK, f"torchvision {torchvision.__version__}")


def check_graphviz() -> Check:
    """Graphviz's ``dot`` (SVG/PNG figures; ``.dot`` output works without it)."""
    dot = shutil.which("dot")
    fix = "apt-get install graphviz (only SVG/PNG figures need it; automm render -o x.dot works)"
    if dot is None:
        return Check("graphviz", WARN, "dot not found on PATH", fix)
    try:
        out = subprocess.run([dot, "-V"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("graphviz", WARN, f"{dot}: {first_line(exc)}", fix)
    version = (out.stderr or out.stdout).strip().splitlines()
    return Check("graphviz", OK, version[0] if version else dot)


def check_cuda() -> Check:
    """The GPU runs would use (``--device auto``), or CPU only."""
    try:
        import torch
    except Exception as exc:
        return Check("cuda", FAIL, first_line(exc), _reinstall())
    if not torch.cuda.is_available():
        return Check("cuda", OK, f"CPU only (no CUDA GPU); {os.cpu_count()} CPU cores")
    gpus = []
    for k in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(k)
        gpus.append(f"cuda:{k} {props.name} {props.total_memory / 2**30:.0f} GiB")
    return Check("cuda", OK, f"CUDA {torch.version.cuda}: {'; '.join(gpus)}")


def check_cache_dir() -> Check:
    """The user cache (demo corpus, extracted features) can be written."""
    root = user_cache_dir()
    fix = f"make {root} writable or set AUTOMM_CACHE_DIR to a writable directory"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check("cache-dir", FAIL, f"{root}: {exc.strerror or exc}", fix)
    return Check("cache-dir", OK, f"{root} is writable")


def check_plugins() -> list[Check]:
    """One line per discovered plugin: loaded, blocked, unavailable or failed with its reason."""
    from automm.plugins import plugin_infos

    out = []
    for info in plugin_infos():
        name = f"plugin {info.name}"
        if info.status == "failed":
            out.append(Check(name, FAIL, info.reason or "failed",
                             f"fix or uninstall {info.distribution or info.name}, or block it with "
                             f"AUTOMM_DISABLE_PLUGINS={info.name}"))
        elif info.status == "blocked":
            out.append(Check(name, WARN, "blocked by AUTOMM_DISABLE_PLUGINS",
                             "unset AUTOMM_DISABLE_PLUGINS to load it"))
        elif info.status == "unavailable":
            out.append(Check(name, WARN, f"not loaded: {info.reason}",
                             "install the extra it names (pip install 'automm[EXTRA]') to use it"))
        else:
            where = f"{info.distribution} {info.version}" if info.distribution else "in-process"
            out.append(Check(name, OK, f"loaded ({where})"))
    return out


def check_plugin_dependencies() -> list[Check]:
    """The checks plugins contribute (hook ``automm_doctor_checks``), by plugin name; a plugin
    whose hook raises gets a failed line."""
    from automm.plugins import plugin_manager

    out = []
    impls = plugin_manager().hook.automm_doctor_checks.get_hookimpls()
    for impl in sorted(impls, key=lambda i: i.plugin_name):
        try:
            out += list(impl.function())
        except Exception as exc:
            name = impl.plugin_name
            out.append(Check(f"checks of plugin {name}", FAIL,
                             f"automm_doctor_checks raised {first_line(exc)}",
                             f"fix or block it with AUTOMM_DISABLE_PLUGINS={name}"))
    return out


TORCH_CHECKS: tuple[Callable[[], Check], ...] = (check_torch, check_torchaudio, check_torchvision)
HOST_CHECKS: tuple[Callable[[], Check], ...] = (check_graphviz, check_cuda, check_cache_dir)


def run_checks() -> list[Check]:
    """Every check, in the order ``automm doctor`` prints them: torch and its companions, what
    the plugins' components need, the host (Graphviz, CUDA, the cache directory), the plugins."""
    return ([check() for check in TORCH_CHECKS] + check_plugin_dependencies()
            + [check() for check in HOST_CHECKS] + check_plugins())


def broken_dependency(exc: BaseException) -> str | None:
    """The installed package that failed to load, when ``exc`` was raised while importing one
    (an ImportError, or an OSError from a shared library); ``None`` for any other error."""
    if isinstance(exc, ImportError) and exc.name and exc.name.split(".")[0] != "automm":
        return exc.name.split(".")[0]
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    imports = [k for k, f in enumerate(frames) if (f.line or "").startswith(("import ", "from "))]
    if not imports:
        return None
    roots = sorted({p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}, key=len,
                   reverse=True)
    for frame in frames[imports[-1] + 1:]:
        for root in roots:
            if frame.filename.startswith(root + os.sep):
                return Path(frame.filename[len(root) + 1:]).parts[0]
    return None


def dependency_message(exc: BaseException) -> str | None:
    """One line for a dependency that cannot load, pointing at ``automm doctor``; else None."""
    package = broken_dependency(exc)
    if package is None:
        return None
    return f"could not load {package} ({first_line(exc)}); run 'automm doctor' to check the installation"
