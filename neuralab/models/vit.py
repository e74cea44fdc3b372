"""The Vision Transformer (Dosovitskiy et al., 2020): an image read as a sequence of patches.

Layout, as in torchvision's ``VisionTransformer`` (whose names it keeps):

1. **patch embedding** ``conv_proj``: a conv with kernel = stride = ``patch_size`` cuts the image
   into (H/p)·(W/p) patches and maps each linearly to a ``hidden_dim`` vector (a token);
2. a learned **class token** is put in front of the sequence;
3. learned **position embeddings** (one per token) are added, since attention itself ignores order;
4. a **Transformer encoder**: ``num_layers`` pre-norm layers (LayerNorm → multi-head self-attention
   → residual, LayerNorm → GELU MLP → residual) and a final LayerNorm;
5. the **head** ``heads``: a linear layer on the class token's output gives the class scores.
"""

from __future__ import annotations

import numpy as np

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn import init
from neuralab.nn.module import Parameter
from neuralab.ops import cat
from neuralab.tensor import Tensor

__all__ = ["VisionTransformer", "vit_b_16", "vit_digits"]


class VisionTransformer(nn.Module):
    """Patch embedding, class token, position embeddings, pre-norm encoder, linear head.

    Arguments as torchvision's (plus ``in_channels``); ``image_size`` must be divisible by
    ``patch_size``. ``forward`` maps images (N, in_channels, image_size, image_size) to class
    scores (N, num_classes).
    """

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        dropout: float = 0.0,
        num_classes: int = 1000,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(
                f"VisionTransformer: image_size {image_size} is not divisible by patch_size "
                f"{patch_size}"
            )
        self.image_size, self.patch_size = image_size, patch_size
        self.seq_length = (image_size // patch_size) ** 2 + 1  # patches and the class token
        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, patch_size, stride=patch_size)
        self.class_token = Parameter(np.zeros((1, 1, hidden_dim), np.float32))
        self.pos_embedding = Parameter(np.zeros((1, self.seq_length, hidden_dim), np.float32))
        init.normal_(self.pos_embedding, std=0.02)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            hidden_dim, num_heads, mlp_dim, dropout, activation="gelu", layer_norm_eps=1e-6,
            batch_first=True, norm_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(hidden_dim, 1e-6))
        self.heads = nn.Linear(hidden_dim, num_classes)
        init.zeros_(self.heads.weight)
        init.zeros_(self.heads.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Class scores (N, num_classes) of images (N, C, image_size, image_size)."""
        if x.ndim != 4 or x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise ValueError(
                f"VisionTransformer: expected images (N, C, {self.image_size}, "
                f"{self.image_size}), got shape {tuple(x.shape)}"
            )
        patches = self.conv_proj(x)  # (N, D, H/p, W/p)
        n, d = patches.shape[:2]
        tokens = patches.reshape(n, d, -1).permute(0, 2, 1)  # (N, patches, D)
        tokens = cat([self.class_token.expand(n, -1, -1), tokens], dim=1) + self.pos_embedding
        encoded = self.encoder(self.dropout(tokens))
        return self.heads(encoded[:, 0])


@register_model("vit_b_16", data="cifar10")
def vit_b_16(
    num_classes: int = 1000, image_size: int = 224, dropout: float = 0.0
) -> VisionTransformer:
    """ViT-Base/16 as torchvision builds it: 12 layers, 12 heads, width 768, MLP 3072 (86.6 M)."""
    return VisionTransformer(image_size, 16, 12, 12, 768, 3072, dropout, num_classes)


@register_model("vit_digits")
def vit_digits(
    num_classes: int = 10, image_size: int = 8, patch_size: int = 2, dropout: float = 0.0
) -> VisionTransformer:
    """A tiny ViT for 8×8 digits: 2×2 patches (16 tokens + class token), width 64, 2 layers."""
    return VisionTransformer(image_size, patch_size, 2, 4, 64, 128, dropout, num_classes, 1)
