"""torch.amp: ``autocast`` (accepted; computation stays float32) and ``GradScaler``.

See docs/training.md ("Mixed precision") for what runs and what is only accepted.
"""

from neuralab.amp.autocast_mode import autocast, is_autocast_available
from neuralab.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "is_autocast_available"]
