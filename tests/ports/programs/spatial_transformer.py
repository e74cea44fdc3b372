# ruff: noqa: UP008, UP032  (super(Net, self) and str.format, as the tutorial writes them)
"""A spatial transformer network, the way PyTorch's "Spatial Transformer Networks" tutorial
writes it: a localisation network regresses a 2×3 affine matrix (its last layer starts at the
identity), ``F.affine_grid`` and ``F.grid_sample`` resample the input with it, and a small
LeNet-style classifier reads the result; SGD (with momentum here), ``log_softmax`` and
``nll_loss``.

The digits are scikit-learn's 8x8 scans upscaled to 28x28 and moved by seeded random
rotations, scalings and shifts (made with NumPy's generator, the same in both frameworks), so
the transformer has something to undo and nothing is downloaded.
"""

import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset


def log(**fields):
    """One JSON line per logged step (the ports test harness reads the loss curve from these)."""
    print(json.dumps(fields), flush=True)


def share_init(tensors, path):
    """Test plumbing for the ports harness, not part of the tutorial: the first run writes its
    initial weights to `path`, a later run (the other framework) starts from them."""
    if not path:
        return
    if os.path.exists(path):
        saved = np.load(path)
        with torch.no_grad():
            for name, t in tensors.items():
                t.copy_(torch.from_numpy(saved[name]))
    else:
        np.savez(path, **{name: t.detach().numpy() for name, t in tensors.items()})


class Net(nn.Module):
    def __init__(self, dropout=0.5):
        super(Net, self).__init__()
        self.dropout = dropout
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(p=dropout)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(model, optimizer, train_loader, epoch, step):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        log(part="train", step=step, loss=loss.item())
        step += 1
        if batch_idx % 10 == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch,
                    batch_idx * len(data),
                    len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader),
                    loss.item(),
                )
            )
    return step


def test(model, test_loader):
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        print(
            "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
                test_loss,
                correct,
                len(test_loader.dataset),
                100.0 * correct / len(test_loader.dataset),
            )
        )
        return test_loss, correct / len(test_loader.dataset)


def distorted_digits(seed):
    """scikit-learn's digits at 28x28, each rotated (±30°), scaled (0.8-1.1) and shifted (±15%)
    by an affine resampling with seeded NumPy draws; 1500 to train, the rest to test."""
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(20, 20), mode="bilinear", align_corners=False)
    images = F.pad(images, (4, 4, 4, 4))
    rng = np.random.default_rng(seed)
    n = len(images)
    angle = rng.uniform(-np.pi / 6, np.pi / 6, n)
    scale = rng.uniform(0.8, 1.1, n)
    shift = rng.uniform(-0.15, 0.15, (n, 2))
    theta = np.stack(
        [
            np.stack([np.cos(angle) / scale, -np.sin(angle) / scale, shift[:, 0]], 1),
            np.stack([np.sin(angle) / scale, np.cos(angle) / scale, shift[:, 1]], 1),
        ],
        1,
    ).astype(np.float32)
    grid = F.affine_grid(torch.from_numpy(theta), images.size(), align_corners=False)
    images = F.grid_sample(images, grid, align_corners=False)
    images = (images - 0.1307) / 0.3081
    labels = torch.from_numpy(digits.target.astype(np.int64))
    return TensorDataset(images[:1500], labels[:1500]), TensorDataset(images[1500:], labels[1500:])


def main():
    parser = argparse.ArgumentParser(description="spatial transformer network on moved digits")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--no-shuffle", action="store_true", help="test plumbing: fixed batches")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_set, test_set = distorted_digits(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=not args.no_shuffle)
    test_loader = DataLoader(test_set, batch_size=500)

    model = Net(args.dropout)
    share_init(dict(model.named_parameters()), args.init)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    step = 0
    for epoch in range(1, args.epochs + 1):
        step = train(model, optimizer, train_loader, epoch, step)
        test_loss, accuracy = test(model, test_loader)
        log(part="test", step=epoch, loss=test_loss, accuracy=accuracy)

    # how far the learned transforms moved from the identity they started at
    with torch.no_grad():
        data = next(iter(test_loader))[0]
        theta = model.fc_loc(model.localization(data).view(-1, 90)).view(-1, 2, 3)
        identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        log(part="theta", moved=(theta - identity).abs().mean().item())


if __name__ == "__main__":
    main()
