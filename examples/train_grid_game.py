"""Teach an actor-critic to play Flag Tag, a 5×5 capture-the-flag game, and measure it.

    python examples/train_grid_game.py                  # seed 0; --seed, --updates, --self-play

Each update plays 64 games at once, each against an opponent drawn from the pool: the random
player, the scripted raider and, with ``--self-play``, a frozen copy of the agent refreshed
every 10 updates. Reward +1 for a win, -1 for a loss, 0 for a draw; one Adam step on the
actor-critic loss per update. Afterwards the greedy agent plays 200 games against each
opponent (first move drawn at random) and one game is printed move by move.
"""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

import neuralab as nl
from neuralab.apps.rl import policy_player, record_game, train_grid_agent, win_rates


def main() -> None:
    """Train, print the win-rate table and one game, save the policy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--self-play", action="store_true", help="add a past self to the pool")
    parser.add_argument("--games", type=int, default=200, help="games per match-up")
    parser.add_argument("--out", default="runs/flag_tag_policy.safetensors")
    args = parser.parse_args()

    def log(record: dict[str, float]) -> None:
        if record["update"] % 25 == 0:
            print(
                f"update {record['update']:3d}  mean reward {record['mean_return']:+.2f}  "
                f"moves {record['mean_length']:.1f}  entropy {record['entropy']:.2f}"
            )

    start = time.process_time()
    with threadpool_limits(1):
        model, history = train_grid_agent(
            seed=args.seed, updates=args.updates, self_play=args.self_play, log=log
        )
        print(f"{len(history)} updates, {time.process_time() - start:.1f} s of CPU\n")
        for greedy in (True, False):
            print("greedy agent:" if greedy else "sampling agent:")
            for matchup, r in win_rates(model, args.games, greedy=greedy).items():
                print(
                    f"  {matchup:<20} wins {r['wins']:3d}  losses {r['losses']:3d}  "
                    f"draws {r['draws']:3d}  win rate {r['win_rate']:.1%}"
                )
    print("\nthe agent (A) against the scripted raider (B):")
    for frame in record_game(policy_player(model, greedy=True), "scripted", seed=args.seed):
        print(frame)
    nl.save(model, args.out)
    print(f"policy saved to {args.out}")


if __name__ == "__main__":
    main()
