"""Neural-network building blocks: Module, Parameter, layers, activations, losses, init.

``import neuralab.nn as nn`` gives torch.nn's names: ``nn.Linear``, ``nn.Sequential``,
``nn.CrossEntropyLoss``, ..., plus the namespaces ``nn.functional`` (F), ``nn.init`` and
``nn.utils``.
"""

from neuralab.nn import functional, init, utils
from neuralab.nn.layers.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Sign,
    Softmax,
    Tanh,
)
from neuralab.nn.layers.containers import (
    Flatten,
    Identity,
    ModuleDict,
    ModuleList,
    Sequential,
    Unflatten,
)
from neuralab.nn.layers.conv import Conv1d, Conv2d, ConvTranspose2d
from neuralab.nn.layers.dropout import Dropout, Dropout2d
from neuralab.nn.layers.embedding import Embedding
from neuralab.nn.layers.linear import Linear, Neuron
from neuralab.nn.layers.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    L1Loss,
    LogisticLoss,
    MSELoss,
    NLLLoss,
    PerceptronLoss,
)
from neuralab.nn.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from neuralab.nn.layers.pooling import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
    Upsample,
)
from neuralab.nn.layers.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from neuralab.nn.module import Module, Parameter
from neuralab.nn.summary import ModelSummary, summary

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "GELU",
    "HingeLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "LearnedPositionalEncoding",
    "Linear",
    "LogSoftmax",
    "LogisticLoss",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "MaxUnpool2d",
    "ModelSummary",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Neuron",
    "Parameter",
    "PerceptronLoss",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Sign",
    "SinusoidalPositionalEncoding",
    "Softmax",
    "Tanh",
    "Unflatten",
    "Upsample",
    "functional",
    "init",
    "summary",
    "utils",
]

# Further layer families append their imports below and extend __all__, e.g.
#     from neuralab.nn.rnn import LSTM
#     __all__ += ["LSTM"]

from neuralab.nn.attention import MultiheadAttention  # noqa: E402
from neuralab.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402
from neuralab.nn.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "GRU", "GRUCell", "LSTM", "LSTMCell", "MultiheadAttention", "RNN", "RNNCell",
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer",
]  # fmt: skip
