"""torch.cpu's module path: ``neuralab.cpu.amp.autocast`` (torch's deprecated CPU autocast)."""

from neuralab.cpu import amp

__all__ = ["amp"]
