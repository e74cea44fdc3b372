# ruff: noqa: UP008, B007  (super(Generator, self) and the batch loop as the tutorial writes them)
"""DCGAN, the way PyTorch's DCGAN tutorial writes it, on 16×16 synthetic images.

A generator of transposed convolutions with batch norm and ReLU, a discriminator of strided
convolutions with batch norm and LeakyReLU, the tutorial's ``weights_init``, ``BCELoss``, Adam
with betas (0.5, 0.999), labels filled in place, ``fake.detach()`` for the discriminator's step.
The "dataset" is blobs: a bright Gaussian spot at a random place on a dark square, so no download
is needed; the logged score is how far the generated images' mean brightness profile is from the
real ones'.
"""

import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

nz, ngf, ndf, nc = 16, 16, 16, 1


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


def blobs(n, rng):
    """n images (n, 1, 16, 16) in [-1, 1]: a Gaussian spot of random place and width."""
    yy, xx = np.mgrid[0:16, 0:16]
    cy, cx = rng.uniform(4, 12, (2, n, 1, 1))
    width = rng.uniform(1.5, 3.0, (n, 1, 1))
    spot = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width**2))
    return (2 * spot - 1).astype(np.float32)[:, None]


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


parser = argparse.ArgumentParser(description="DCGAN on 16x16 blobs")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--init", default="", help="test plumbing: shared weights and noise (.npz)")
args = parser.parse_args()

torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
images = torch.from_numpy(blobs(1024, rng))
# test plumbing: with shared weights, the batches come in order and the noise from NumPy
dataloader = DataLoader(TensorDataset(images), batch_size=args.batch_size, shuffle=not args.init)
noise_bank = rng.standard_normal((10_000, nz, 1, 1)).astype(np.float32)

netG = Generator()
netG.apply(weights_init)
netD = Discriminator()
netD.apply(weights_init)
share_init(
    {**{"G." + k: v for k, v in netG.state_dict().items() if v.dtype == torch.float32},
     **{"D." + k: v for k, v in netD.state_dict().items() if v.dtype == torch.float32}},
    args.init,
)  # fmt: skip

criterion = nn.BCELoss()
real_label, fake_label = 1.0, 0.0
optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

iters, drawn = 0, 0
for epoch in range(args.epochs):
    for i, data in enumerate(dataloader, 0):
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0]
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        if args.init:
            noise = torch.from_numpy(noise_bank[drawn : drawn + b_size])
            drawn += b_size
        else:
            noise = torch.randn(b_size, nz, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        log(part="D", step=iters, loss=errD.item())
        log(part="G", step=iters, loss=errG.item(), D_x=D_x, D_G_z1=D_G_z1, D_G_z2=D_G_z2)
        iters += 1

    with torch.no_grad():
        netG.eval()
        samples = netG(torch.from_numpy(noise_bank[-256:])).numpy()
        netG.train()
    real_profile = images.numpy().mean(axis=(0, 1))
    gap = float(np.abs(samples.mean(axis=(0, 1)) - real_profile).mean())
    log(part="profile", step=epoch, loss=gap)
