"""Figures of the lecture's pictures, drawn with matplotlib: ``import neuralab.viz as viz``.

- :mod:`~neuralab.viz.curves`: learning curves, training against validation (``plot_history``);
- :mod:`~neuralab.viz.boundaries`: a 2-D classifier's regions and its data
  (``plot_decision_boundary``);
- :mod:`~neuralab.viz.confusion`: the confusion matrix (``plot_confusion_matrix``);
- :mod:`~neuralab.viz.functions`: activations with their autograd derivatives
  (``plot_activations``), the margin losses side by side (``plot_losses``);
- :mod:`~neuralab.viz.gradients`: per-layer gradient norms per epoch (``plot_gradient_norms``),
  gradient-descent paths on a 1-D or 2-D function (``plot_gd_path``);
- :mod:`~neuralab.viz.images`: image grids, convolution filters, feature maps and augmentation
  examples (``plot_images``, ``plot_filters``, ``plot_feature_maps``, ``plot_augmentations``).

Every ``plot_*`` returns a ``matplotlib.figure.Figure`` and, given ``path``, also writes it as a
PNG (parent directories are created). matplotlib is imported only when a figure is drawn, so
importing this package costs nothing; install it with ``pip install 'neuralab[viz]'``. The
figures are pyplot figures: ``plt.show()`` displays them, notebooks show them inline, and
``plt.close(fig)`` frees one drawn in a loop. See docs/viz.md.
"""

from neuralab.viz.boundaries import plot_decision_boundary, predict_scores
from neuralab.viz.confusion import plot_confusion_matrix
from neuralab.viz.curves import plot_history
from neuralab.viz.functions import ACTIVATIONS, activation_curve, plot_activations, plot_losses
from neuralab.viz.gradients import descent_path, plot_gd_path, plot_gradient_norms
from neuralab.viz.images import plot_augmentations, plot_feature_maps, plot_filters, plot_images

__all__ = [
    "ACTIVATIONS",
    "activation_curve",
    "descent_path",
    "plot_activations",
    "plot_augmentations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_feature_maps",
    "plot_filters",
    "plot_gd_path",
    "plot_gradient_norms",
    "plot_history",
    "plot_images",
    "plot_losses",
    "predict_scores",
]
