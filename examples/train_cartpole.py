"""Solve CartPole with an actor-critic built from neuralab, then score it on 100 new episodes.

    python examples/train_cartpole.py                   # seed 0; --seed, --updates, --out

Each update plays 16 episodes at once (vectorised CartPole-v1: ±10 N pushes, 500-step cap) and
takes one Adam step on the actor-critic loss (GAE λ = 0.95, γ = 0.99). Every 5 updates the
greedy policy plays 100 evaluation episodes; training stops once they average 475 (v1's bar).
Then 100 fresh episodes give the score: the classic criterion is a mean of at least 195, for the
greedy policy and for the sampled one. The policy is saved with ``nl.save`` (``--out``).
"""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

import neuralab as nl
from neuralab.apps.rl import CartPole, cartpole_score, evaluate, train_cartpole
from neuralab.apps.rl.cartpole import SOLVED_RETURN


def main() -> None:
    """Train, report every update, score greedy and sampled policies, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--updates", type=int, default=200, help="at most this many updates")
    parser.add_argument("--out", default="runs/cartpole_policy.safetensors")
    args = parser.parse_args()

    def log(record: dict[str, float]) -> None:
        evaluated = f"  greedy eval {record['eval_return']:6.1f}" if "eval_return" in record else ""
        print(f"update {record['update']:3d}  mean return {record['mean_return']:6.1f}{evaluated}")

    start = time.process_time()
    with threadpool_limits(1):  # small matrices: one BLAS thread is fastest
        model, history = train_cartpole(seed=args.seed, updates=args.updates, log=log)
        seconds = time.process_time() - start
        greedy = cartpole_score(model)
        sampled = evaluate(CartPole(100), model, greedy=False, seed=12345)
    episodes = 16 * len(history)
    print(f"\n{len(history)} updates ({episodes} training episodes), {seconds:.1f} s of CPU")
    for name, returns in (("greedy", greedy), ("sampled", sampled)):
        verdict = "solved" if returns.mean() >= SOLVED_RETURN else "not solved"
        print(
            f"100 new episodes, {name} policy: mean {returns.mean():.1f}, min {returns.min():.0f}"
            f" — {verdict} (criterion: mean >= {SOLVED_RETURN:.0f})"
        )
    nl.save(model, args.out)
    print(f"policy saved to {args.out}; reload with nl.load (after import neuralab.apps.rl)")


if __name__ == "__main__":
    main()
