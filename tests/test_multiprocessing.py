"""Hogwild training in the style of PyTorch's mnist_hogwild example: processes forked after
``model.share_memory()`` train one model, and the parent sees what they learned."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuralab as nl

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="sharing needs fork")

# One program, run with `import torch` or with neuralab in its place; prints the parent's
# accuracy before and after two forked processes trained the model (shared or not).
PROGRAM = textwrap.dedent(
    """
    import sys
    import numpy as np
    {imports}

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(2, 16), nn.Linear(16, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    def blobs(seed, n):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        x = (rng.standard_normal((n, 2)) + 3.0 * (2 * y[:, None] - 1)).astype(np.float32)
        return torch.tensor(x), torch.tensor(y)

    def train(rank, model):
        torch.manual_seed(rank)
        optimizer = optim.SGD(model.parameters(), lr=0.05)
        for step in range(60):
            x, y = blobs(1000 * rank + step, 32)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

    def accuracy(model):
        x, y = blobs(12345, 2000)
        with torch.no_grad():
            return (model(x).argmax(1) == y).float().mean().item()

    if __name__ == "__main__":
        torch.manual_seed(0)
        model = Net()
        with torch.no_grad():  # a start that gets every point wrong
            model.fc2.bias.copy_(torch.tensor([0.0, 0.0]))
            model.fc1.weight.mul_(0.01)
        if sys.argv[1] == "shared":
            model.share_memory()
        before = accuracy(model)
        workers = [mp.Process(target=train, args=(rank, model)) for rank in range(2)]
        for p in workers:
            p.start()
        for p in workers:
            p.join()
        print(before, accuracy(model), [p.exitcode for p in workers])
    """
)
TORCH = "import torch\nimport torch.multiprocessing as mp\nfrom torch import nn, optim\n" + (
    "import torch.nn.functional as F"
)
OURS = TORCH.replace("import torch\n", "import neuralab as torch\n").replace("torch.", "neuralab.")
OURS = OURS.replace("from torch import", "from neuralab import")


def run(imports: str, mode: str, tmp_path) -> tuple[float, float, list]:
    script = tmp_path / "hogwild.py"
    script.write_text(PROGRAM.format(imports=imports))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, codes = done.stdout.strip().split(" ", 2)
    return float(before), float(after), codes


@pytest.mark.parametrize("framework", ["neuralab", "torch"])
def test_forked_processes_train_the_shared_model(framework, tmp_path):
    if framework == "torch":
        pytest.importorskip("torch")
    before, after, codes = run(TORCH if framework == "torch" else OURS, "shared", tmp_path)
    assert codes == "[0, 0]"
    assert after > 0.95 > before + 0.2  # the parent's model learned from its children's steps


def test_without_sharing_the_parent_learns_nothing(tmp_path):
    before, after, codes = run(OURS, "private", tmp_path)
    assert codes == "[0, 0]" and after == before  # each child trained its own copy


def test_shared_values_views_and_plain_copies():
    t = nl.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    values = t.numpy().copy()
    assert t.share_memory_() is t and t.is_shared() and t[0].is_shared()
    np.testing.assert_array_equal(t.numpy(), values)
    assert not nl.tensor(t.numpy().copy()).is_shared()


def test_a_shared_tensor_is_not_copied_to_another_process_silently():
    t = nl.nn.Parameter(nl.ones(3)).share_memory_()
    with pytest.raises(RuntimeError, match="reaches another process only through fork"):
        _forking_dumps(t)
    assert len(_forking_dumps(nl.ones(3))) > 0  # an unshared tensor is sent as a copy


def _forking_dumps(obj) -> bytes:
    from multiprocessing.reduction import ForkingPickler

    return bytes(ForkingPickler.dumps(obj))
