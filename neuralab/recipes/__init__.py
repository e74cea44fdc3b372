"""Training recipes for the model zoo: each model on its natural data, as the docs quote it.

One module per kind of task — :mod:`~neuralab.recipes.images` (classifiers on digits),
:mod:`~neuralab.recipes.pixels` (SegNet on scenes, the denoising autoencoder, the GANs) and
:mod:`~neuralab.recipes.sequences` (seq2seq on dates, the RNN classifier and the character
LM). ``neuralab train --model NAME`` runs them through :mod:`neuralab.recipes.tasks`, which
knows for each task how to train, score and use a model; ``examples/train_zoo_*.py`` call
the same functions from the command line.
"""

from neuralab.data.registry import DATASETS, DatasetInfo
from neuralab.models.gan import ring_of_gaussians
from neuralab.models.rnn import sorted_digits_task

# The generated sets that live beside the zoo models made for them.
DATASETS.register("ring", DatasetInfo(ring_of_gaussians, "points"), aliases=("ring_of_gaussians",))
DATASETS.register("sorted_digits", DatasetInfo(sorted_digits_task, "sequences"))
