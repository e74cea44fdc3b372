"""torch.nn.utils.stateless: ``functional_call``, torch's older home of
:func:`neuralab.func.functional_call`."""

from neuralab.func import functional_call

__all__ = ["functional_call"]
