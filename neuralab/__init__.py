"""neuralab: deep learning from first principles — a NumPy autograd engine with a PyTorch shape."""

from neuralab import data, memory, nn, optim, train
from neuralab.creation import (
    arange,
    empty,
    eye,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from neuralab.gradcheck import GradcheckError, gradcheck
from neuralab.io import load, save
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
from neuralab.ops.matmul import matmul
from neuralab.parallel import get_num_threads, set_num_threads
from neuralab.random import manual_seed
from neuralab.tensor import (
    Tensor,
    bool_,
    enable_grad,
    float32,
    float64,
    from_numpy,
    int32,
    int64,
    is_grad_enabled,
    no_grad,
    tensor,
)

bool = bool_  # noqa: A001  (torch spells it nl.bool)
clip = clamp
__version__ = "0.1.0"

memory._configure_at_import()  # reuse freed blocks across training steps (see neuralab/memory.py)
