"""Optional extras (``automm[ray]``): a one-line error naming what to install when one is missing."""

from __future__ import annotations

from automm.errors import AutommError

RAY_EXTRA = "pip install 'automm[ray]'"


def require_ray() -> None:
    """Raise a one-line error naming the extra unless Ray Tune can be imported."""
    try:
        import ray.tune  # noqa: F401
    except ImportError as exc:
        raise AutommError(f"--executor ray needs Ray Tune ({exc}); install it with: {RAY_EXTRA}") from None
