"""torch.nn.modules.sparse: Embedding and EmbeddingBag (defined in neuralab.nn.layers)."""

from neuralab.nn.layers.embedding import Embedding, EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag"]
