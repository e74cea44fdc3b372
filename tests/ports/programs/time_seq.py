"""Learning sine waves with two stacked LSTM cells and L-BFGS, then predicting their future.

The waves are generated with NumPy (shifted copies of one sine), the model and data are float64,
and each optimizer step calls a closure that recomputes the loss; after training the model runs
on held-out waves and continues them `future` steps past their end.
"""

import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


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


def generate_sine_waves(T=20, L=80, N=24):
    """N sine waves of length L and period 2*pi*T, each shifted by a random offset."""
    np.random.seed(2)
    x = np.empty((N, L), "int64")
    x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
    return np.sin(x / 1.0 / T).astype("float64")


class Sequence(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        n = input.size(0)
        h_t = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t = torch.zeros(n, self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(n, self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(n, self.hidden, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # feed the predictions back in
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3, help="steps to run")
    parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
    opt = parser.parse_args()
    np.random.seed(0)
    torch.manual_seed(0)

    data = generate_sine_waves()
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])

    seq = Sequence()
    seq.double()
    share_init(dict(seq.named_parameters()), opt.init)
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    calls = 0
    for i in range(opt.steps):
        print("STEP: ", i)

        def closure():
            global calls
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print("loss:", loss.item())
            log(part="closure", step=calls, loss=loss.item())
            calls += 1
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():  # predict, but do not track gradients
            future = 100
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print("test loss:", loss.item())
            log(part="test", step=i, loss=loss.item())
            y = pred.detach().numpy()
        assert y.shape == (3, test_input.size(1) + future) and np.isfinite(y).all()
