"""``torch.nn.functional``'s surface: ``import neuralab.nn.functional as F``.

Nothing is implemented here: every name is re-exported from the op family in ``neuralab.ops``
that defines it (forward and backward side by side), with torch.nn.functional's signature.
"""

from neuralab.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from neuralab.ops.attention import scaled_dot_product_attention
from neuralab.ops.conv import conv1d, conv2d, conv_transpose2d
from neuralab.ops.dropout import dropout, dropout2d
from neuralab.ops.embedding import embedding, one_hot
from neuralab.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_loss,
    logistic_loss,
    mse_loss,
    nll_loss,
    perceptron_loss,
)
from neuralab.ops.matmul import linear
from neuralab.ops.norm import batch_norm, layer_norm
from neuralab.ops.pool import (
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)
from neuralab.ops.resize import interpolate
from neuralab.ops.shape import pad

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "embedding",
    "gelu",
    "hinge_loss",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logistic_loss",
    "max_pool1d",
    "max_pool2d",
    "max_unpool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "perceptron_loss",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "tanh",
]
