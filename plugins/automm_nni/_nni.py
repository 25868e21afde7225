"""Everything automm_nni uses of NNI, imported in one place with NNI's import-time noise silenced:
a warning that NNI 3.0 does not know torch's ``Buffer`` class, deprecation warnings of
pytorch-lightning 2.0's imports, and the notice that the ``gym`` package (which NNI's ENAS needs)
prints on stderr. All are harmless."""

from __future__ import annotations

import contextlib
import io
import warnings

with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
    warnings.filterwarnings("ignore", "<class 'torch.nn.parameter.Buffer'>", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)  # pytorch-lightning 2.0 on newer lightning-utilities
    from nni import __version__, trace
    from nni.mutable import label_scope
    from nni.nas.evaluator.pytorch import Classification
    from nni.nas.execution import SequentialExecutionEngine
    from nni.nas.nn.pytorch import InputChoice, LayerChoice, ModelSpace
    from nni.nas.oneshot.pytorch.supermodule.differentiable import GumbelSoftmax
    from nni.nas.space import RawFormatModelSpace
    from nni.nas.strategy import DARTS, ENAS, GumbelDARTS, RandomOneShot, Strategy

__all__ = ["DARTS", "ENAS", "Classification", "GumbelDARTS", "GumbelSoftmax", "InputChoice", "LayerChoice",
           "ModelSpace", "RandomOneShot", "RawFormatModelSpace", "SequentialExecutionEngine", "Strategy",
           "__version__", "label_scope", "trace"]
