"""torch.utils.tensorboard: :class:`SummaryWriter` writes TensorBoard event files.

``from neuralab.utils.tensorboard import SummaryWriter``; view the files with ``tensorboard
--logdir runs``. See docs/training.md for what is written and the differences from torch.
"""

from neuralab.utils.tensorboard.writer import SummaryWriter

__all__ = ["SummaryWriter"]
