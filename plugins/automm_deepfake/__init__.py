"""Audio-visual deepfake detection: the bimodal-deepfake search space."""

from __future__ import annotations

import automm
from automm_deepfake.space import BimodalDeepfakeSpace


@automm.hookimpl
def automm_register_spaces(register) -> None:
    """Register the ``bimodal-deepfake`` space."""
    register("bimodal-deepfake", BimodalDeepfakeSpace())
