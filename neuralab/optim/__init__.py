"""Optimizers, learning-rate schedules and norm penalties, with torch.optim's names and updates.

``optim.SGD``, ``optim.Adam``, ``optim.AdamW``, ``optim.RMSprop``, ``optim.Adagrad``,
``optim.Adadelta``, ``optim.Adamax``, ``optim.NAdam``, ``optim.RAdam``, ``optim.ASGD``,
``optim.Rprop``, ``optim.Adafactor``, ``optim.Muon`` and ``optim.SparseAdam`` (Adam on the rows
a gradient touches) update parameters in place from their ``.grad``; ``optim.LBFGS`` takes a
closure that re-evaluates the loss; ``optim.lr_scheduler`` changes their learning rates over
training; ``optim.swa_utils`` averages weights (SWA, EMA);
``optim.L1``, ``optim.L2`` and ``optim.ElasticNet`` are penalties to add to the loss (see
:mod:`neuralab.optim.regularization` for how they differ from ``weight_decay``).
"""

from neuralab.optim import lr_scheduler, swa_utils
from neuralab.optim.adadelta import Adadelta
from neuralab.optim.adafactor import Adafactor
from neuralab.optim.adagrad import Adagrad
from neuralab.optim.adam import Adam, AdamW
from neuralab.optim.adamax import Adamax
from neuralab.optim.asgd import ASGD
from neuralab.optim.lbfgs import LBFGS
from neuralab.optim.muon import Muon
from neuralab.optim.nadam import NAdam
from neuralab.optim.optimizer import Optimizer
from neuralab.optim.radam import RAdam
from neuralab.optim.regularization import L1, L2, ElasticNet, regularized_parameters
from neuralab.optim.rmsprop import RMSprop
from neuralab.optim.rprop import Rprop
from neuralab.optim.sgd import SGD
from neuralab.optim.sparse_adam import SparseAdam

__all__ = [
    "ASGD", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax",
    "ElasticNet", "L1", "L2", "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop",
    "SparseAdam",
    "lr_scheduler",
    "regularized_parameters", "swa_utils",
]  # fmt: skip
