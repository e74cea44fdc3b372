"""Fitting a curve with gradient descent, the way the early PyTorch tutorials taught it.

Part 1 is the old style: ``Variable``, ``.data`` updates and ``w.grad.data.zero_()``.
Part 2 is the same fit with ``nn.Linear``, ``nn.MSELoss`` and ``optim.SGD``.
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.autograd import Variable


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


parser = argparse.ArgumentParser(description="curve fitting, old and new style")
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
args = parser.parse_args()

torch.manual_seed(args.seed)

# ---- Part 1: tensors and autograd, by hand ----
x = torch.linspace(-1, 1, 100).unsqueeze(1)  # shape (100, 1)
y = torch.sin(math.pi * x) + 0.1 * torch.cos(7 * x)
X = torch.cat([x**i for i in range(4)], 1)  # features 1, x, x^2, x^3
X, y = Variable(X), Variable(y)

w = Variable(torch.randn(4, 1), requires_grad=True)
share_init({"w": w}, args.init and args.init + ".part1.npz")

for t in range(args.steps):
    y_pred = X.mm(w)
    loss = (y_pred - y).pow(2).mean()
    if t % 10 == 0:
        log(part="manual", step=t, loss=loss.item())
    loss.backward()
    w.data -= args.lr * w.grad.data
    w.grad.data.zero_()

worst = np.abs(X.mm(w).data.numpy() - y.data.numpy()).max()
print("part 1: w =", w.data.view(-1).tolist(), "worst error", round(float(worst), 4))

# ---- Part 2: the same fit with nn and optim ----
p = torch.tensor([1, 2, 3])
xx = x.pow(p)  # (100, 3): x, x^2, x^3 by broadcasting

model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
share_init(dict(model.named_parameters()), args.init and args.init + ".part2.npz")
loss_fn = nn.MSELoss(reduction="sum")
optimizer = optim.SGD(model.parameters(), lr=args.lr / 100, momentum=0.9)

for t in range(args.steps):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y.view(-1))
    if t % 10 == 0:
        print(f"{t:4d} loss {loss:.4f}")
        log(part="module", step=t, loss=loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

linear_layer = model[0]
b = linear_layer.bias.item()
c1, c2, c3 = (
    linear_layer.weight[:, 0].item(),
    linear_layer.weight[:, 1].item(),
    linear_layer.weight[:, 2].item(),
)
print(f"Result: y = {b:.3f} + {c1:.3f} x + {c2:.3f} x^2 + {c3:.3f} x^3")
log(part="module", step=args.steps, loss=loss_fn(model(xx), y.view(-1)).item())
