"""torch.backends.cuda: settable precision flags, and no CUDA build."""

from __future__ import annotations


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: the TF32 and reduced-precision switches (kept, unused)."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """False: neuralab is not built with CUDA."""
    return False
