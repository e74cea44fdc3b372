"""LeNet-5 on handwritten digits: the convolutional network of 1998, and what its layers see.

``models.lenet5`` (C1 S2 C3 S4 C5 F6, tanh, average pooling) learns scikit-learn's 8×8 digits
resized to 32×32, the input size of the 1998 layout. The topic prints each layer's output shape
(the lecture's figure: 6 feature maps of 28×28, pooled to 14×14, 16 maps of 10×10, ...), trains,
and draws the feature maps of one test digit: each plane is one filter, the same weights slid
over the whole image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table
from neuralab.demos._zoo import layer_shapes

SUMMARY = "LeNet-5 learns the digits; its layer shapes, filters and feature maps"


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train LeNet-5 on 32×32 digits, print shapes and accuracy, draw filters and feature maps."""
    import neuralab as nl
    import neuralab.viz as viz
    from neuralab import models
    from neuralab.data import digits, train_test_split
    from neuralab.nn.utils import eval_mode
    from neuralab.recipes.images import train_on_digits

    figures = Figures(out)
    X, y = digits(layout="image", size=32)
    _, X_test, _, y_test = train_test_split(X, y, ratio=0.8, seed=0)
    digit = nl.tensor(X_test[:1])
    shapes = layer_shapes(models.get_model("lenet5").features, digit)
    print("LeNet-5's feature extractor on one 1×32×32 digit (each plane is a feature map):")
    print(fmt_table(["layer", "output (N, C, H, W)"], [[n, s] for n, s in shapes]))
    epochs = 3 if quick else 20
    print(f"Training on 1,438 digits, testing on 359; Adam with a cosine decay, {epochs} epochs.")
    model, accuracy = train_on_digits("lenet5", verbose=2, epochs=epochs)
    print(f"LeNet-5: {model.num_parameters():,} parameters, test accuracy {accuracy:.1%}.")
    with eval_mode(model):
        c1 = model.features[:2](digit)
        c3 = model.features[:5](digit)
    print(
        f"  test digit {int(y_test[0])}: C1 gives {c1.shape[1]} maps of {c1.shape[2]}×"
        f"{c1.shape[3]}, C3 {c3.shape[1]} maps of {c3.shape[2]}×{c3.shape[3]}."
    )
    figures.save(
        "lenet_digit.png",
        lambda p: viz.plot_images(digit, [f"digit {int(y_test[0])}"], ncols=1, path=p),
    )
    figures.save("lenet_filters_c1.png", lambda p: viz.plot_filters(model.features.c1.weight, p))
    figures.save("lenet_feature_maps_c1.png", lambda p: viz.plot_feature_maps(c1, p, ncols=6))
    figures.save("lenet_feature_maps_c3.png", lambda p: viz.plot_feature_maps(c3, p, ncols=8))
    return {"accuracy": accuracy, "shapes": dict(shapes), "figures": figures.paths}
