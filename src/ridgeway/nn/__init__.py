"""Weight decay for PyTorch models, written in ridgeway's one objective.

Everything here minimizes, for a training loss ``L`` and the penalized weights ``w``
(by default every parameter except biases and normalization layers),

    L(theta) + alpha/2 * ||Gamma (w - w0)||^2,

with per-layer strengths as a diagonal ``Gamma`` and ``w0`` = 0 or pretrained weights (L2-SP).
Convert other tools' strengths with :mod:`ridgeway.conventions`. Needs the ``torch`` extra:
``pip install 'ridgeway[torch]'``.
"""

from ._plan import DEFAULT_EXCLUDE, is_norm_layer
from .groups import L2, DecayRow, DecayTable, decay_table, param_groups
from .penalty import WeightDecayPenalty, l2_penalty, snapshot
from .search import WeightDecaySearch, select_weight_decay
from .training import EarlyStopping, History, fit

__all__ = [
    "DEFAULT_EXCLUDE",
    "L2",
    "DecayRow",
    "DecayTable",
    "EarlyStopping",
    "History",
    "WeightDecayPenalty",
    "WeightDecaySearch",
    "decay_table",
    "fit",
    "is_norm_layer",
    "l2_penalty",
    "param_groups",
    "select_weight_decay",
    "snapshot",
]
