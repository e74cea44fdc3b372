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
#     from neuralab.nn.layers.rnn import LSTM
#     __all__ += ["LSTM"]

from neuralab.nn.layers.attention import MultiheadAttention  # noqa: E402
from neuralab.nn.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402
from neuralab.nn.layers.transformer import (  # noqa: E402
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

from neuralab.nn.layers.activation import (  # noqa: E402
    CELU,
    ELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    RReLU,
    SiLU,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from neuralab.nn.layers.distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from neuralab.nn.layers.dropout import (  # noqa: E402
    AlphaDropout,
    Dropout1d,
    Dropout3d,
    FeatureAlphaDropout,
)
from neuralab.nn.layers.loss import (  # noqa: E402
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss2d,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from neuralab.nn.layers.normalization import (  # noqa: E402
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
    RMSNorm,
    SyncBatchNorm,
)

__all__ += [
    "AlphaDropout",
    "BatchNorm3d",
    "CELU",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "Dropout1d",
    "Dropout3d",
    "ELU",
    "FeatureAlphaDropout",
    "SyncBatchNorm",
    "GLU",
    "GaussianNLLLoss",
    "GroupNorm",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "KLDivLoss",
    "LocalResponseNorm",
    "LogSigmoid",
    "MarginRankingLoss",
    "Mish",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss2d",
    "PReLU",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "RMSNorm",
    "RReLU",
    "ReLU6",
    "SELU",
    "SiLU",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]

from neuralab.nn import modules, parallel, parameter  # noqa: E402
from neuralab.nn.layers.containers import ParameterDict, ParameterList  # noqa: E402
from neuralab.nn.layers.conv import ConvTranspose1d  # noqa: E402
from neuralab.nn.layers.embedding import EmbeddingBag  # noqa: E402
from neuralab.nn.layers.linear import Bilinear  # noqa: E402
from neuralab.nn.layers.padding import (  # noqa: E402
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from neuralab.nn.layers.pooling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    PixelShuffle,
    PixelUnshuffle,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
from neuralab.nn.layers.rnn import RNNBase, RNNCellBase  # noqa: E402
from neuralab.nn.parallel import DataParallel  # noqa: E402

__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Bilinear", "CircularPad1d",
    "CircularPad2d", "CircularPad3d", "ConstantPad1d",
    "ConstantPad2d", "ConstantPad3d", "ConvTranspose1d", "DataParallel", "EmbeddingBag",
    "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle", "RNNBase", "RNNCellBase",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "modules", "parallel", "parameter",
]  # fmt: skip

from neuralab.nn.layers.lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from neuralab.nn.parameter import Buffer, UninitializedBuffer, UninitializedParameter  # noqa: E402

__all__ += [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
    "LazyInstanceNorm3d", "LazyLinear", "UninitializedBuffer", "UninitializedParameter", "Buffer",
]  # fmt: skip

from neuralab.nn.layers.fold import Fold, Unfold  # noqa: E402
from neuralab.nn.layers.pooling import ChannelShuffle, LPPool1d, LPPool2d, MaxUnpool1d  # noqa: E402

__all__ += ["ChannelShuffle", "Fold", "LPPool1d", "LPPool2d", "MaxUnpool1d", "Unfold"]

from neuralab.nn.layers.conv import Conv3d, ConvTranspose3d  # noqa: E402
from neuralab.nn.layers.lazy import LazyConv3d, LazyConvTranspose3d  # noqa: E402
from neuralab.nn.layers.pooling import (  # noqa: E402
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    MaxPool3d,
)

__all__ += [
    "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "Conv3d", "ConvTranspose3d",
    "LazyConv3d", "LazyConvTranspose3d", "MaxPool3d",
]  # fmt: skip

from neuralab.nn.layers.loss import CTCLoss  # noqa: E402

__all__ += ["CTCLoss"]

from neuralab.nn.layers.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from neuralab.nn.layers.normalization import CrossMapLRN2d  # noqa: E402
from neuralab.nn.layers.pooling import (  # noqa: E402
    FractionalMaxPool2d,
    FractionalMaxPool3d,
    LPPool3d,
    MaxUnpool3d,
)

__all__ += [
    "AdaptiveLogSoftmaxWithLoss", "CrossMapLRN2d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    "LPPool3d", "MaxUnpool3d",
]  # fmt: skip
