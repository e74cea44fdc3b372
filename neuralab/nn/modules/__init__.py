"""torch.nn.modules: the layer classes under torch's module paths, e.g.
``from neuralab.nn.modules.loss import _Loss`` or ``neuralab.nn.modules.batchnorm._BatchNorm``.

Every file re-exports classes defined elsewhere in neuralab.nn; nothing is implemented here but
the small argument helpers of :mod:`neuralab.nn.modules.utils`.
"""

from neuralab.nn.modules import (
    activation,
    adaptive,
    batchnorm,
    channelshuffle,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    lazy,
    linear,
    loss,
    module,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
    utils,
)
from neuralab.nn.modules.activation import *  # noqa: F403
from neuralab.nn.modules.adaptive import *  # noqa: F403
from neuralab.nn.modules.batchnorm import *  # noqa: F403
from neuralab.nn.modules.channelshuffle import *  # noqa: F403
from neuralab.nn.modules.container import *  # noqa: F403
from neuralab.nn.modules.conv import *  # noqa: F403
from neuralab.nn.modules.distance import *  # noqa: F403
from neuralab.nn.modules.dropout import *  # noqa: F403
from neuralab.nn.modules.flatten import *  # noqa: F403
from neuralab.nn.modules.fold import *  # noqa: F403
from neuralab.nn.modules.instancenorm import *  # noqa: F403
from neuralab.nn.modules.lazy import *  # noqa: F403
from neuralab.nn.modules.linear import *  # noqa: F403
from neuralab.nn.modules.loss import *  # noqa: F403
from neuralab.nn.modules.module import *  # noqa: F403
from neuralab.nn.modules.normalization import *  # noqa: F403
from neuralab.nn.modules.padding import *  # noqa: F403
from neuralab.nn.modules.pixelshuffle import *  # noqa: F403
from neuralab.nn.modules.pooling import *  # noqa: F403
from neuralab.nn.modules.rnn import *  # noqa: F403
from neuralab.nn.modules.sparse import *  # noqa: F403
from neuralab.nn.modules.transformer import *  # noqa: F403
from neuralab.nn.modules.upsampling import *  # noqa: F403

__all__ = [
    "activation", "adaptive", "batchnorm", "container", "conv", "distance", "dropout", "flatten",
    "instancenorm", "linear", "loss", "module", "normalization", "padding", "pixelshuffle",
    "pooling", "rnn", "sparse", "transformer", "upsampling", "utils",
]  # fmt: skip
