# %% [markdown]
# # 8. Convolutional networks and LeNet-5
#
# A convolution slides the same small filter over the whole image; each filter produces one
# **feature map**. LeNet-5 (1998) stacks convolutions and pooling: 6 maps of 28×28, pooled to
# 14×14, 16 maps of 10×10, pooled to 5×5, then fully connected layers. We train it on
# scikit-learn's 8×8 digits resized to 32×32 — 6 epochs, a few seconds.

# %%
import neuralab as nl
import neuralab.viz as viz
from neuralab import models, nn, optim, train
from neuralab.data import digits, train_test_split

nl.manual_seed(0)
X, y = digits(layout="image", size=32)
X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.8, seed=0)
model = models.get_model("lenet5", num_classes=10)
print(model)

# %%
with nl.no_grad():
    h = nl.tensor(X_test[:1])
    for name, layer in model.features.named_children():
        h = layer(h)
        print(f"{name:>5}: {tuple(h.shape)}")

# %%
history = train.fit(
    model,
    nn.CrossEntropyLoss(),
    optim.Adam(model.parameters(), lr=2e-3),
    (X_train, y_train),
    epochs=6,
    batch_size=32,
    val_data=(X_test, y_test),
    verbose=2,
)
fig = viz.plot_history(history, ("loss", "accuracy"))

# %% [markdown]
# ## What the filters see
# C1's six 5×5 filters, and the feature maps they make from one test digit: each map lights up
# where its filter's pattern (an edge at some angle, a blob) occurs. C3's 16 maps combine them.

# %%
model.eval()
digit = nl.tensor(X_test[:1])
fig = viz.plot_images(digit, [f"digit {y_test[0]}"], ncols=1)
fig = viz.plot_filters(model.features.c1.weight)
with nl.no_grad():
    fig = viz.plot_feature_maps(model.features[:2](digit), ncols=6)
    fig = viz.plot_feature_maps(model.features[:5](digit), ncols=8)

# %%
predicted = train.predict(model, X_test).argmax(1)
fig = viz.plot_confusion_matrix(train.metrics.confusion_matrix(y_test, predicted))
