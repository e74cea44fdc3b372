# %% [markdown]
# # 6. Data augmentation and AutoAugment
#
# Augmenting data on the fly — random rotations, crops, colour changes — shows the network new
# versions of its training images every epoch. Here on two real photographs that
# scikit-learn ships, then on digits, where it is used while training.

# %%
import neuralab as nl
import neuralab.viz as viz
from neuralab.data import transforms as T
from neuralab.demos import augmentation

photos = augmentation.photographs()  # (2, 96, 144, 3) uint8
print(photos.shape, photos.dtype)

# %% [markdown]
# ## One operation at a time
# `T.apply_op(image, name, magnitude)` runs one of AutoAugment's 14 operations.

# %%
ops = [
    ("Rotate", 25.0),
    ("ShearX", 0.3),
    ("TranslateY", 20.0),
    ("Solarize", 128.0),
    ("Posterize", 3),
    ("Equalize", 0.0),
    ("Invert", 0.0),
    ("Contrast", 0.8),
]
pictures = [photos[1]] + [T.apply_op(photos[1], name, m) for name, m in ops]
fig = viz.plot_images(pictures, ["original"] + [f"{n} {m}" for n, m in ops], ncols=5)

# %% [markdown]
# ## The lecture's sub-policies
# A sub-policy is two (operation, probability, magnitude bin) steps; AutoAugment picks one
# per image. Each pass draws anew — the same batch never looks the same twice.

# %%
policy = T.AutoAugment(list(augmentation.LECTURE_POLICY))
fig = viz.plot_augmentations(photos[0], policy, n=8, rng=0)

# %% [markdown]
# ## RandAugment and the ImageNet policy on a batch
# `T.RandAugment` applies N random operations of magnitude M; `T.AutoAugment("imagenet")`
# uses the 25 sub-policies learned on ImageNet.

# %%
fig = viz.plot_augmentations(photos[1], T.RandAugment(num_ops=2, magnitude=9), n=5, rng=1)
fig = viz.plot_augmentations(photos[1], T.AutoAugment("imagenet"), n=5, rng=2)

# %% [markdown]
# ## Augmenting while training
# A `DataLoader` takes a `transform` applied to every batch as it is drawn. With only 100
# training digits we compare no augmentation with small random rotations and one-pixel shifts
# (one seed, 30 epochs). On 8×8 digits a one-pixel shift is an eighth of the image, and 30
# epochs are few: here augmentation *costs* accuracy — it makes the task harder and needs
# longer training to pay off. Augmentation is a hyperparameter to check, not a free gain
# (docs/models/vit.md reports the same for the ViT).

# %%
from neuralab import nn, optim, train
from neuralab.data import DataLoader, TensorDataset, digits, train_test_split

X, y = digits(layout="image")
X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.8, seed=0)
X_train, y_train = X_train[:100], y_train[:100]
jitter = T.Compose([T.RandomRotation(15), T.RandomCrop(8, padding=1)])
for name, transform in (("none", None), ("rotate + shift", jitter)):
    nl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 16, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    augment = (lambda x, rng, t=transform: t(x.numpy(), rng=rng)) if transform else None
    loader = DataLoader(
        TensorDataset(X_train, y_train), batch_size=20, shuffle=True, transform=augment
    )
    train.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=3e-3),
        loader,
        epochs=30,
        verbose=0,
    )
    accuracy = train.evaluate(model, nn.CrossEntropyLoss(), (X_test, y_test))["accuracy"]
    print(f"augmentation {name:>15}: test accuracy {accuracy:.1%}")
