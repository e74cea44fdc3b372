"""torch.backends.cudnn: settable flags, and no cuDNN (neuralab runs on the CPU only)."""

from __future__ import annotations

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: there is no cuDNN here."""
    return False


def version() -> None:
    """None: no cuDNN library is loaded."""
    return None
