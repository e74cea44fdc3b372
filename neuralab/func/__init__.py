"""torch.func on neuralab's autograd: ``functional_call``, ``stack_module_state``, ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``vmap``, ``jacrev`` and ``jacfwd``.

``functional_call(model, params, args)`` runs a module with other tensors in place of its
parameters and buffers (MAML's fast weights, per-sample gradients). ``grad(f)`` is a function
returning f's gradient with respect to an argument, which may be a tensor or a dict, list or
tuple of them. ``vmap(f)`` maps f over a dimension of its arguments: here it calls f once per
slice and stacks the results, so any f works (random ops draw anew for each slice, as torch's
``randomness="different"``) and gradients flow through it to the outer graph; it is as fast as
that loop. ``stack_module_state`` with ``vmap`` over ``functional_call`` runs a model ensemble.
Gradients are first order only: the engine keeps no graph of a backward pass, so
``grad(grad(f))`` and ``hessian`` are not available, and the engine has no forward mode:
``jvp``, ``linearize`` and ``jacfwd`` build the Jacobian by reverse mode, one backward pass per
output element (exact, but they cost what ``jacrev`` costs).
"""

from neuralab.func.functional_call import functional_call, stack_module_state
from neuralab.func.transforms import grad, grad_and_value, jacfwd, jacrev, jvp, linearize, vjp
from neuralab.func.vmap import vmap

__all__ = [
    "functional_call", "grad", "grad_and_value", "jacfwd", "jacrev", "jvp", "linearize",
    "stack_module_state", "vjp", "vmap",
]  # fmt: skip
