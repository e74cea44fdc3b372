# ruff: noqa: B007, N803, UP008, UP032  (the example's loop, names, super(Net, self), str.format)
"""Sub-pixel super-resolution (ESPCN), the way pytorch/examples' super_resolution writes it:
four convolutions with orthogonal initialisation (``init.orthogonal_`` with
``calculate_gain('relu')``), a ``PixelShuffle`` upsampling, MSE loss with Adam, and PSNR as
10·log10(1 / MSE) on a test set.

The images are patches of the two photographs scikit-learn ships (``load_sample_images``), in
luminance; the low-resolution inputs are their 2×2 averages, so nothing is downloaded.
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
import torch.optim as optim
from sklearn.datasets import load_sample_images
from torch.utils.data import DataLoader, TensorDataset


def log(**fields):
    """One JSON line per logged step (the ports test harness reads the loss curve from these)."""
    print(json.dumps(fields), flush=True)


def share_init(tensors, path):
    """Test plumbing for the ports harness, not part of the example: the first run writes its
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
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv4.weight)


def patches(seed, size=24, count=320):
    """Luminance patches (count, 1, size, size) in [0, 1] from scikit-learn's sample photos."""
    rng = np.random.default_rng(seed)
    photos = [
        img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0
        for img in load_sample_images().images
    ]
    out = []
    for _ in range(count):
        img = photos[rng.integers(len(photos))]
        y, x = rng.integers(0, img.shape[0] - size), rng.integers(0, img.shape[1] - size)
        out.append(img[y : y + size, x : x + size])
    return torch.tensor(np.stack(out)[:, None])


def main():
    parser = argparse.ArgumentParser(description="PyTorch Super Res Example, on sample photos")
    parser.add_argument("--upscale_factor", type=int, default=2)
    parser.add_argument("--batchSize", type=int, default=32)
    parser.add_argument("--testBatchSize", type=int, default=80)
    parser.add_argument("--nEpochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--no-shuffle", action="store_true", help="test plumbing: fixed batches")
    parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
    opt = parser.parse_args()
    torch.manual_seed(opt.seed)

    high = patches(opt.seed)
    low = F.avg_pool2d(high, opt.upscale_factor)
    train_set, test_set = TensorDataset(low[:240], high[:240]), TensorDataset(low[240:], high[240:])
    training_data_loader = DataLoader(
        dataset=train_set, batch_size=opt.batchSize, shuffle=not opt.no_shuffle
    )
    testing_data_loader = DataLoader(dataset=test_set, batch_size=opt.testBatchSize, shuffle=False)

    model = Net(upscale_factor=opt.upscale_factor)
    share_init(dict(model.named_parameters()), opt.init)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=opt.lr)

    def train(epoch, step):
        epoch_loss = 0
        for iteration, batch in enumerate(training_data_loader, 1):
            input, target = batch[0], batch[1]
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
            log(part="train", step=step, loss=loss.item())
            step += 1
        print(
            "===> Epoch {} Complete: Avg. Loss: {:.4f}".format(
                epoch, epoch_loss / len(training_data_loader)
            )
        )
        return step

    def test(epoch):
        avg_psnr, avg_mse = 0, 0
        with torch.no_grad():
            for batch in testing_data_loader:
                input, target = batch[0], batch[1]
                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * math.log10(1 / mse.item())
                avg_psnr += psnr
                avg_mse += mse.item()
        n = len(testing_data_loader)
        print("===> Avg. PSNR: {:.4f} dB".format(avg_psnr / n))
        log(part="test", step=epoch, loss=avg_mse / n, psnr=avg_psnr / n)

    step = 0
    test(0)
    for epoch in range(1, opt.nEpochs + 1):
        step = train(epoch, step)
        test(epoch)


if __name__ == "__main__":
    main()
