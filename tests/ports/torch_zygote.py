"""A warm torch interpreter that forks one child per torch run of the ports (ports_harness.py).

On this CPU a torch program's first training step comes ~5 s after its start (importing torch,
then autograd's and the optimizers' first use) where a neuralab run starts in ~0.5 s. This
process pays that once: it imports torch, takes one training step (leaving the global generator
as a fresh process has it), then reads requests, one JSON line each on stdin
(``{"script", "args", "cwd", "out", "err"}``), and for each forks a child that runs the script
as ``python script args`` would, its output in the two files. It answers ``{"pid": ...}`` at
once and ``{"code": ...}`` when the child exits, and ends when stdin closes.
"""

import json
import os
import runpy
import sys
import traceback

import torch
import torch.nn.functional as F  # noqa: N812


def warm_up() -> None:
    """One step of SGD, Adam and AdamW on a tiny network; the global generator restored."""
    state = torch.get_rng_state()
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    for optimizer in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
        opt = optimizer(model.parameters(), lr=0.1)
        F.cross_entropy(model(torch.zeros(4, 2)), torch.zeros(4, dtype=torch.long)).backward()
        opt.step()
        opt.zero_grad()
    torch.set_rng_state(state)


def run_child(request: dict) -> int:
    """In the forked child: the script as ``__main__``; its exit code."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["out"]), (2, request["err"])):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)
    os.chdir(request["cwd"])
    sys.argv = [request["script"], *request["args"]]
    sys.path.insert(0, os.path.dirname(request["script"]))
    try:
        runpy.run_path(request["script"], run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  (reported as the program's own crash would be)
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    warm_up()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os._exit(run_child(request))
        answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        answer({"code": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
