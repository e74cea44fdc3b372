"""AlexNet: the network that started the deep-learning era, layer by layer, and a small one trained.

``models.alexnet_paper`` is the 2012 layout (five convolutions, two towers, local response
normalization, three fully connected layers) for 224×224 images. The topic passes one image
through its convolutions and prints the neurons of each layer against the paper's figure
caption (253,440–186,624–64,896–64,896–43,264–4096–4096–1000), then trains
``models.alexnet_small`` (the same five convolutions and three fully connected layers, ReLU,
max pooling and dropout, sized for 32×32) on the digits.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table
from neuralab.demos._zoo import layer_shapes, train_on_digits_and_report

SUMMARY = "AlexNet's 2012 layout layer by layer, and a small AlexNet trained on digits"

#: The neurons per layer in the paper's Figure 2 caption (input excluded).
PAPER_NEURONS = (253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000)


def paper_neurons() -> tuple[list[int], int]:
    """Neurons after each ReLU of ``alexnet_paper`` on a 3×224×224 image, and its parameters."""
    import neuralab as nl
    from neuralab import models, nn

    model = models.get_model("alexnet_paper")
    shapes = layer_shapes(model.features, nl.zeros((1, 3, 224, 224)))
    relus = [i for i, layer in enumerate(model.features) if isinstance(layer, nn.ReLU)]
    counts = [math.prod(shapes[i][1][1:]) for i in relus]
    return counts + [4096, 4096, 1000], model.num_parameters()


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print the paper layout's neurons, train alexnet_small on digits, draw its first filters."""
    import neuralab.viz as viz

    figures = Figures(out)
    counts, params = paper_neurons()
    layers = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    print(f"alexnet_paper on one 3×224×224 image ({params:,} parameters; the paper: ~60 M):")
    rows = [[n, c, p, "yes" if c == p else "no"] for n, c, p in zip(layers, counts, PAPER_NEURONS)]
    print(fmt_table(["layer", "neurons (ours)", "paper", "same"], rows))
    print(
        "  conv1 gives 55×55×96 = 290,400 neurons; the caption's 253,440 is a known slip of "
        "the paper (its 224×224 input does not fit an 11×11 stride-4 kernel exactly either)."
    )
    epochs = 4 if quick else 15
    print(f"alexnet_small (width 8, dropout 0.2) on 1,438 32×32 digits, {epochs} epochs:")
    model, accuracy = train_on_digits_and_report("alexnet_small", epochs)
    figures.save(
        "alexnet_filters_conv1.png", lambda p: viz.plot_filters(model.features[0].weight, p)
    )
    return {
        "paper_neurons": counts,
        "paper_parameters": params,
        "accuracy": accuracy,
        "figures": figures.paths,
    }
