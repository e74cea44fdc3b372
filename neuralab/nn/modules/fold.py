"""torch.nn.modules.fold: Fold and Unfold (defined in neuralab.nn.layers.fold)."""

from neuralab.nn.layers.fold import Fold, Unfold

__all__ = ["Fold", "Unfold"]
