"""Optimizers, learning-rate schedules and norm penalties, with torch.optim's names and updates.

``optim.SGD``, ``optim.Adam``, ``optim.AdamW``, ``optim.RMSprop`` and ``optim.Adagrad`` update
parameters in place from their ``.grad``; ``optim.lr_scheduler`` changes their learning rates
over training; ``optim.L1``, ``optim.L2`` and ``optim.ElasticNet`` are penalties to add to the
loss (see :mod:`neuralab.optim.regularization` for how they differ from ``weight_decay``).
"""

from neuralab.optim import lr_scheduler
from neuralab.optim.adagrad import Adagrad
from neuralab.optim.adam import Adam, AdamW
from neuralab.optim.optimizer import Optimizer
from neuralab.optim.regularization import L1, L2, ElasticNet, regularized_parameters
from neuralab.optim.rmsprop import RMSprop
from neuralab.optim.sgd import SGD

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "ElasticNet", "L1", "L2", "Optimizer", "RMSprop",
    "lr_scheduler", "regularized_parameters",
]  # fmt: skip
