"""neuralab: deep learning from first principles — a NumPy autograd engine with a PyTorch shape."""

import importlib
import math

import neuralab.parallel  # noqa: F401  first: it tunes OpenBLAS before NumPy loads it
from neuralab import (
    accelerator,
    amp,
    autograd,
    backends,
    compiler,
    cpu,
    cuda,
    distributed,
    io,
    linalg,
    memory,
    nn,
    optim,
    serialization,
    sparse,
    utils,
)
from neuralab.amp import autocast
from neuralab.backends import (
    are_deterministic_algorithms_enabled,
    get_float32_matmul_precision,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from neuralab.compiler import compile
from neuralab.creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    asarray,
    bartlett_window,
    blackman_window,
    empty,
    empty_like,
    eye,
    frombuffer,
    full,
    full_like,
    hamming_window,
    hann_window,
    inclusive_range,
    kaiser_window,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    scalar_tensor,
    zeros,
    zeros_like,
)
from neuralab.device import device, get_default_device, set_default_device
from neuralab.dtypes import (
    bfloat16,
    can_cast,
    channels_last,
    complex64,
    complex128,
    contiguous_format,
    dtype,
    finfo,
    float16,
    iinfo,
    int8,
    int16,
    preserve_format,
    promote_types,
    strided,
    uint8,
)
from neuralab.gradcheck import GradcheckError, gradcheck
from neuralab.io import load, save
from neuralab.nn.functional import (
    adaptive_avg_pool1d,
    avg_pool1d,
    bilinear,
    conv1d,
    conv2d,
    conv_transpose2d,
)
from neuralab.ops import (
    abs,
    amax,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    cos,
    cumsum,
    exp,
    flatten,
    flip,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    pow,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from neuralab.ops.activation import prelu, relu_, rrelu, rrelu_
from neuralab.ops.arith import (
    addcdiv,
    addcmul,
    atan2,
    copysign,
    float_power,
    floor_divide,
    fmax,
    fmin,
    fmod,
    frexp,
    gcd,
    heaviside,
    hypot,
    lcm,
    ldexp,
    lerp,
    logaddexp,
    logaddexp2,
    nextafter,
    remainder,
    rsub,
    xlogy,
)
from neuralab.ops.combine import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    column_stack,
    combinations,
    dsplit,
    dstack,
    hsplit,
    hstack,
    meshgrid,
    row_stack,
    tensor_split,
    unbind,
    vsplit,
    vstack,
)
from neuralab.ops.count import (
    bincount,
    histc,
    histogram,
    unique,
    unique_consecutive,
)
from neuralab.ops.diagonal import (
    diag,
    diag_embed,
    diagflat,
    diagonal,
    diagonal_scatter,
    trace,
    tril,
    tril_indices,
    triu,
    triu_indices,
)
from neuralab.ops.distance import (
    cdist,
    dist,
    norm,
    renorm,
)
from neuralab.ops.dropout import aten_alpha_dropout as alpha_dropout
from neuralab.ops.dropout import aten_dropout as dropout
from neuralab.ops.dropout import aten_feature_alpha_dropout as feature_alpha_dropout
from neuralab.ops.einsum import (
    einsum,
)
from neuralab.ops.elementwise import (
    add,
    div,
    eq,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    lt,
    mul,
    ne,
    neg,
    result_type,
    sign,
    sub,
)
from neuralab.ops.finite_difference import gradient
from neuralab.ops.linalg import (
    addbmm,
    addmm,
    addmv,
    addr,
    baddbmm,
    bmm,
    chain_matmul,
    cross,
    dot,
    ger,
    inner,
    kron,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
    vander,
    vdot,
)
from neuralab.ops.logic import (
    allclose,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    equal,
    isclose,
    isin,
    isinf,
    isneginf,
    isposinf,
    isreal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    signbit,
)
from neuralab.ops.methods import method_functions
from neuralab.ops.norm import group_norm, layer_norm, rms_norm
from neuralab.ops.piecewise import hardshrink, threshold, threshold_
from neuralab.ops.pool import max_pool1d, max_pool2d
from neuralab.ops.quadrature import cumulative_trapezoid, trapezoid, trapz
from neuralab.ops.reduce import (
    all,
    amin,
    aminmax,
    any,
    count_nonzero,
    nanmean,
    nansum,
    std_mean,
    var_mean,
)
from neuralab.ops.sampling import (
    bernoulli,
    multinomial,
    normal,
    poisson,
    randperm,
)
from neuralab.ops.scan import (
    cummax,
    cummin,
    cumprod,
    diff,
    logcumsumexp,
)
from neuralab.ops.select import (
    argwhere,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_select,
    masked_fill,
    masked_scatter,
    masked_select,
    nonzero,
    put,
    scatter,
    scatter_add,
    scatter_reduce,
    select,
    select_scatter,
    slice_scatter,
    take,
    take_along_dim,
    unravel_index,
)
from neuralab.ops.shape import (
    as_strided,
    broadcast_to,
    moveaxis,
    movedim,
    narrow,
    pixel_shuffle,
    pixel_unshuffle,
    repeat_interleave,
    roll,
    rot90,
    swapaxes,
    swapdims,
    tile,
    unflatten,
)
from neuralab.ops.shape import cat as concat
from neuralab.ops.similarity import cosine_similarity, pairwise_distance, pdist
from neuralab.ops.smooth_activation import celu, celu_, selu, selu_
from neuralab.ops.sort import (
    argsort,
    bucketize,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    nanquantile,
    quantile,
    searchsorted,
    sort,
    topk,
)
from neuralab.ops.statistics import corrcoef, cov
from neuralab.ops.unary import (
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    clamp_max,
    clamp_min,
    cosh,
    deg2rad,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    i0,
    lgamma,
    log1p,
    log2,
    log10,
    logit,
    nan_to_num,
    rad2deg,
    reciprocal,
    round,
    rsqrt,
    sgn,
    sinc,
    sinh,
    square,
    tan,
    trunc,
)
from neuralab.parallel import (
    get_num_interop_threads,
    get_num_threads,
    set_flush_denormal,
    set_num_interop_threads,
    set_num_threads,
)
from neuralab.random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from neuralab.sparse import sparse_coo_tensor, spmm
from neuralab.tensor import (
    Size,
    Tensor,
    as_tensor,
    bool_,
    enable_grad,
    float32,
    float64,
    from_numpy,
    get_default_dtype,
    inference_mode,
    int32,
    int64,
    is_floating_point,
    is_grad_enabled,
    is_inference_mode_enabled,
    is_tensor,
    no_grad,
    numel,
    set_default_dtype,
    set_default_tensor_type,
    set_grad_enabled,
    set_printoptions,
    tensor,
)

bool = bool_  # noqa: A001  (torch spells it nl.bool)
float, double, half = float32, float64, float16  # noqa: A001  (torch's other dtype names)
long, int, short = int64, int32, int16  # noqa: A001
cfloat, cdouble = complex64, complex128
clip = clamp
concatenate = concat
e, pi, inf, nan = math.e, math.pi, math.inf, math.nan
newaxis = None  # x[:, torch.newaxis], as NumPy's
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
true_divide = divide = div
multiply, subtract, negative, absolute = mul, sub, neg, abs
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
inverse, det, logdet, slogdet = linalg.inv, linalg.det, linalg.logdet, linalg.slogdet
matrix_exp = linalg.matrix_exp
pinverse, matrix_power = linalg.pinv, linalg.matrix_power
svd, qr, cholesky = linalg.legacy_svd, linalg.legacy_qr, linalg.legacy_cholesky  # older forms
range = inclusive_range  # noqa: A001  (torch.range, deprecated there: its end is included)
globals().update(method_functions())  # torch.clone(x), torch.sigmoid_(x), torch.zero_(x), ...
__version__ = "0.1.0"

memory._configure_at_import()  # reuse freed blocks across training steps (see neuralab/memory.py)
for _package in ("models", "apps.detection", "apps.diffusion", "apps.chat", "apps.rl"):
    io.add_class_source(f"neuralab.{_package}")  # model classes files name, imported on demand
del _package

# Imported on first use (``neuralab.data``, ``from neuralab import train``, ...), as torch does with
# some of its own: a training step needs none of them, and they are ~60 ms of a new process's start.
_LAZY = ("data", "distributions", "func", "special", "testing", "train")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return importlib.import_module(f"neuralab.{name}")
    if name == "vmap":  # torch.vmap is torch.func.vmap
        return importlib.import_module("neuralab.func").vmap
    if name in _SPECIAL_ALIASES:  # torch.polygamma is torch.special.polygamma, ...
        return getattr(importlib.import_module("neuralab.special"), _SPECIAL_ALIASES[name])
    if name in _FAMILY_NAMES:  # torch.conv3d is F.conv3d, ...
        module, _, attribute = _FAMILY_NAMES[name].rpartition(".")
        return getattr(importlib.import_module(f"neuralab.{module}"), attribute)
    raise AttributeError(f"module 'neuralab' has no attribute {name!r}")


# torch's top-level names for functions of torch.special
_SPECIAL_ALIASES = {
    "polygamma": "polygamma", "mvlgamma": "multigammaln", "igamma": "gammainc",
    "igammac": "gammaincc",
}  # fmt: skip


# torch's top-level names for functions that live in their family's module (torch.conv3d is
# F.conv3d); aten_<name> where torch's top level takes ATen's arguments, not F's (torch.kl_div's
# reduction is an int, torch.batch_norm's weight comes before the running statistics)
_FAMILY_NAMES = {
    "conv3d": "ops.volume.conv3d", "conv_transpose3d": "ops.volume.conv_transpose3d",
    "max_pool3d": "ops.volume.max_pool3d", "conv_transpose1d": "ops.conv.conv_transpose1d",
    "max_pool1d_with_indices": "ops.pool.max_pool1d_with_indices",
    "adaptive_max_pool1d": "ops.adaptive_pool.adaptive_max_pool1d_with_indices",
    "channel_shuffle": "ops.shape.channel_shuffle", "adjoint": "ops.shape.adjoint",
    "slice_copy": "ops.shape.slice_copy", "constant_pad_nd": "ops.padding.constant_pad_nd",
    "embedding": "ops.embedding.aten_embedding", "batch_norm": "ops.norm.aten_batch_norm",
    "instance_norm": "ops.norm.aten_instance_norm",
    "kl_div": "ops.distribution_loss.aten_kl_div",
    "poisson_nll_loss": "ops.distribution_loss.aten_poisson_nll_loss",
    "ctc_loss": "ops.ctc_loss.aten_ctc_loss",
    "binary_cross_entropy_with_logits": "ops.loss.aten_binary_cross_entropy_with_logits",
    "margin_ranking_loss": "ops.margin_loss.aten_margin_ranking_loss",
    "triplet_margin_loss": "ops.margin_loss.aten_triplet_margin_loss",
    "hinge_embedding_loss": "ops.margin_loss.aten_hinge_embedding_loss",
    "cosine_embedding_loss": "ops.margin_loss.aten_cosine_embedding_loss",
    "dropout_": "ops.dropout.dropout_", "alpha_dropout_": "ops.dropout.alpha_dropout_",
    "feature_alpha_dropout_": "ops.dropout.feature_alpha_dropout_",
    "feature_dropout": "ops.dropout.feature_dropout",
    "feature_dropout_": "ops.dropout.feature_dropout_",
    "rnn_tanh_cell": "ops.recurrent.rnn_tanh_cell", "rnn_relu_cell": "ops.recurrent.rnn_relu_cell",
    "gru_cell": "ops.recurrent.gru_cell", "lstm_cell": "ops.recurrent.lstm_cell",
    "fill": "ops.select.fill", "index_reduce": "ops.select.index_reduce",
    "nonzero_static": "ops.select.nonzero_static",
    "frobenius_norm": "ops.distance.frobenius_norm", "nuclear_norm": "ops.distance.nuclear_norm",
    "binomial": "ops.sampling.binomial", "empty_strided": "creation.empty_strided",
    "typename": "tensor.typename", "cholesky_solve": "linalg.cholesky_solve",
    "cholesky_inverse": "linalg.cholesky_inverse", "triangular_solve": "linalg.triangular_solve",
    "lu_unpack": "linalg.lu_unpack", "lu_solve": "linalg.legacy_lu_solve", "lu": "linalg.legacy_lu",
    "set_warn_always": "backends.set_warn_always",
    "is_warn_always_enabled": "backends.is_warn_always_enabled",
    "is_anomaly_enabled": "autograd.is_anomaly_enabled",
    "set_anomaly_enabled": "autograd.set_detect_anomaly",
}  # fmt: skip


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "vmap", *_SPECIAL_ALIASES, *_FAMILY_NAMES})
