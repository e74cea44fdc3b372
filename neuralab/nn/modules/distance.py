"""torch.nn.modules.distance: CosineSimilarity and PairwiseDistance."""

from neuralab.nn.layers.distance import CosineSimilarity, PairwiseDistance

__all__ = ["CosineSimilarity", "PairwiseDistance"]
