"""Flag Tag: a small two-player capture-the-flag game on a square grid, for the game agent.

Rules (default 5×5 board, row 0 at the top)::

      0 1 2 3 4
    +-----------+
  0 | . . B . . |  B's half       B starts on its flag (b) in the middle of the top row,
  1 | . . . . . |                 A on its flag (a) in the middle of the bottom row.
  2 | - - - - - |  neutral row
  3 | . . . . . |  A's half
  4 | . . A . . |
    +-----------+

- Players take turns (who moves first is drawn at random each game). A move is one step
  forward (towards the enemy), back, left or right, or staying put.
- You win by stepping onto the enemy flag, or by *tagging* the enemy: stepping onto its cell
  while it stands in your half.
- Stepping off the board, or onto the enemy anywhere but in your own half, is illegal. (So a
  player standing on its own flag guards it.)
- After ``max_plies`` moves in all (default 24, twelve each) without a winner the game is a draw.

Everything is vectorised over many games at once (:class:`GridGame` holds arrays with one row
per game). Players are functions ``(game, rng) -> actions`` giving a move for the player to move
in every game: :func:`random_player` (uniform over legal moves), :func:`scripted_player` (a
raider: takes the flag or tags when it can, otherwise walks a shortest path towards the enemy
flag) and :func:`policy_player` (a trained network). :class:`GridGameEnv` puts one of them on
the other side of the board so that an agent can learn by reinforcement (reward +1 for a win,
-1 for a loss, 0 for a draw); :func:`match` plays two players against each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ACTIONS",
    "GridGame",
    "GridGameEnv",
    "Player",
    "match",
    "policy_player",
    "random_player",
    "record_game",
    "scripted_player",
]

ACTIONS = ("stay", "forward", "back", "left", "right")
"""Moves in the mover's frame: forward is towards the enemy's side (up for A, down for B)."""

# (row step for A, column step); B's row step is the opposite, so the board is mirror-symmetric
_STEPS = np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)])
NAMES = "AB"

Player = Callable[["GridGame", np.random.Generator], np.ndarray]


class GridGame:
    """``num_games`` Flag Tag games played side by side; player 0 is A (bottom), 1 is B (top).

    State, one row per game: ``pos`` (num_games, 2, 2) each player's (row, column);
    ``to_move``; ``plies`` (moves made); ``over``; ``winner`` (0, 1, or -1 for none/draw).
    """

    def __init__(
        self, num_games: int = 1, size: int = 5, max_plies: int = 24, seed: int | None = None
    ) -> None:
        if size < 3 or size % 2 == 0:
            raise ValueError(f"GridGame: size must be odd and at least 3, got {size}")
        if num_games < 1 or max_plies < 1:
            raise ValueError(
                f"GridGame: num_games and max_plies must be positive, got {num_games}, {max_plies}"
            )
        self.num_games, self.size, self.max_plies = num_games, size, max_plies
        mid = size // 2
        self.flags = np.array([(size - 1, mid), (0, mid)])  # A's flag, B's flag
        self.rng = np.random.default_rng(seed)
        self.reset()

    @property
    def obs_dim(self) -> int:
        """Length of an observation: both players' cells one-hot, plus the share of moves left."""
        return 2 * self.size * self.size + 1

    def reset(self, first: int | np.ndarray | None = None) -> None:
        """Both players back on their flags; ``first`` moves first (default: a coin toss each)."""
        n = self.num_games
        self.pos = np.broadcast_to(self.flags, (n, 2, 2)).copy()
        if first is None:
            first = self.rng.integers(0, 2, n)
        elif not np.isin(first, (0, 1)).all():
            raise ValueError(f"GridGame.reset: first is player 0 (A) or 1 (B), got {first}")
        self.to_move = np.broadcast_to(np.asarray(first, dtype=np.int64), (n,)).copy()
        self.plies = np.zeros(n, dtype=np.int64)
        self.over = np.zeros(n, dtype=bool)
        self.winner = np.full(n, -1, dtype=np.int64)

    def home(self, player: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """True where ``rows`` lie in ``player``'s half (A: below the middle row, B: above)."""
        mid = self.size // 2
        return np.where(player == 0, rows > mid, rows < mid)

    def _movers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Index of the games, the player to move and its opponent in each."""
        g = np.arange(self.num_games)
        return g, self.to_move, 1 - self.to_move

    def targets(self) -> np.ndarray:
        """The cell each action leads to for the player to move: (num_games, 5, 2)."""
        g, me, _ = self._movers()
        steps = np.broadcast_to(_STEPS, (self.num_games, 5, 2)).copy()
        steps[me == 1, :, 0] *= -1
        return self.pos[g, me][:, None, :] + steps

    def legal_actions(self) -> np.ndarray:
        """(num_games, 5) bool: which moves the player to move may make (stay is always legal)."""
        return self._legal(self.targets())

    def _legal(self, to: np.ndarray) -> np.ndarray:
        """Which of the cells ``to`` (from :meth:`targets`) the player to move may step onto."""
        g, me, them = self._movers()
        inside = ((to >= 0) & (to < self.size)).all(axis=2)
        onto_enemy = (to == self.pos[g, them][:, None, :]).all(axis=2)
        return inside & (~onto_enemy | self.home(me[:, None], to[..., 0]))

    def play(self, actions: np.ndarray, games: np.ndarray | None = None) -> None:
        """The player to move makes ``actions`` (num_games,) in ``games`` (a bool mask; default:
        every game not over). Illegal moves raise ValueError naming the game, player and move."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_games,):
            raise ValueError(
                f"GridGame.play: expected {self.num_games} actions (one per game), got an array "
                f"of shape {actions.shape}"
            )
        games = ~self.over if games is None else np.asarray(games, dtype=bool) & ~self.over
        if not ((actions[games] >= 0) & (actions[games] < len(ACTIONS))).all():
            raise ValueError(
                f"GridGame.play: actions are 0-4 {ACTIONS}, got {actions[games].tolist()}"
            )
        g, me, them = self._movers()
        act = np.where(games, actions, 0)
        targets = self.targets()
        legal = self._legal(targets)[g, act] | ~games
        if not legal.all():
            i = int(np.flatnonzero(~legal)[0])
            raise ValueError(
                f"GridGame.play: illegal move '{ACTIONS[act[i]]}' by {NAMES[me[i]]} at "
                f"{tuple(self.pos[i, me[i]].tolist())} in game {i} (opponent at "
                f"{tuple(self.pos[i, them[i]].tolist())}); legal: "
                f"{[ACTIONS[k] for k in np.flatnonzero(self.legal_actions()[i])]}"
            )
        to = targets[g, act]
        tag = games & (to == self.pos[g, them]).all(axis=1)
        flag = games & (to == self.flags[them]).all(axis=1)
        self.pos[games, me[games]] = to[games]
        won = tag | flag
        self.winner[won] = me[won]
        self.plies += games
        self.over |= won | (games & (self.plies >= self.max_plies))
        self.to_move = np.where(games, them, me)

    def observe(self, player: np.ndarray | int | None = None) -> np.ndarray:
        """(num_games, obs_dim) float32 from ``player``'s side (default: the player to move).

        The board is mirrored for B, so every player sees itself at the bottom: its own cell
        one-hot, then the enemy's cell one-hot, then the share of the game's moves still left.
        """
        g = np.arange(self.num_games)
        me = self.to_move if player is None else np.broadcast_to(player, (self.num_games,))
        cells = self.size * self.size
        obs = np.zeros((self.num_games, self.obs_dim), dtype=np.float32)
        for offset, who in ((0, me), (cells, 1 - me)):
            row, col = self.pos[g, who].T
            row = np.where(me == 1, self.size - 1 - row, row)
            obs[g, offset + row * self.size + col] = 1.0
        obs[:, -1] = 1.0 - self.plies / self.max_plies
        return obs

    def render(self, game: int = 0) -> str:
        """Game ``game``'s board as text: A and B the players, a and b their flags."""
        size, mid = self.size, self.size // 2
        grid = [["-" if r == mid else "." for _ in range(size)] for r in range(size)]
        for p in (0, 1):
            r, c = self.flags[p]
            grid[r][c] = NAMES[p].lower()
        last = 1 - self.to_move[game]  # whoever moved last is drawn on top (after a tag)
        for p in (1 - last, last):
            r, c = self.pos[game, p]
            grid[r][c] = NAMES[p]
        side = {0: "  B's half", mid: "  neutral", size - 1: "  A's half"}
        lines = ["    " + " ".join(str(c) for c in range(size)), "  +" + "-" * (2 * size + 1) + "+"]
        for r in range(size):
            lines.append(f"{r:>2}| " + " ".join(grid[r]) + " |" + side.get(r, ""))
        lines.append(lines[1])
        return "\n".join(lines)


def random_player(game: GridGame, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random legal move in every game."""
    legal = game.legal_actions()
    scores = np.where(legal, rng.random(legal.shape), -1.0)
    return scores.argmax(axis=1)


def scripted_player(game: GridGame, rng: np.random.Generator) -> np.ndarray:
    """A raider: take the enemy flag or tag the enemy if possible, else step (ties at random)
    to the legal cell nearest the enemy flag, staying put only when no step gets closer."""
    g, me, them = game._movers()
    to = game.targets()
    legal = game._legal(to)
    flag = game.flags[them][:, None, :]
    wins = (to == flag).all(axis=2) | (to == game.pos[g, them][:, None, :]).all(axis=2)
    distance = np.abs(to - flag).sum(axis=2).astype(np.float64)
    score = np.where(wins, -1.0, distance) + 0.5 * rng.random(legal.shape)  # ties at random
    score[:, 0] -= 0.25  # stay rather than side-step, when no step gets closer
    return np.where(legal, score, np.inf).argmin(axis=1)


def policy_player(model: Any, greedy: bool = False) -> Player:
    """A player that moves by ``model`` (an :class:`~neuralab.apps.rl.agents.ActorCritic`)."""

    def player(game: GridGame, rng: np.random.Generator) -> np.ndarray:
        return model.act(game.observe(), game.legal_actions(), greedy=greedy, rng=rng)

    return player


def _named(player: str | Player) -> Player:
    """A player given by name ('random', 'scripted') or as a function."""
    if callable(player):
        return player
    table = {"random": random_player, "scripted": scripted_player}
    if player not in table:
        raise ValueError(f"unknown player {player!r}; use 'random', 'scripted' or a function")
    return table[player]


def _move_all(game: GridGame, players: Sequence[Player], rng: np.random.Generator) -> None:
    """One move in every unfinished game, each by the player whose turn it is there."""
    actions = np.zeros(game.num_games, dtype=np.int64)
    for who, player in enumerate(players):
        turn = (game.to_move == who) & ~game.over
        if turn.any():
            actions[turn] = player(game, rng)[turn]
    game.play(actions)


def match(
    a: str | Player,
    b: str | Player,
    games: int = 200,
    size: int = 5,
    max_plies: int = 24,
    seed: int | None = None,
) -> dict[str, float]:
    """``games`` games of ``a`` (as A) against ``b``: counts of wins, losses, draws for ``a``,
    and its win rate. First moves are drawn at random, half of them for each side on average."""
    rng = np.random.default_rng(seed)
    game = GridGame(games, size, max_plies, seed=int(rng.integers(2**31)))
    players = (_named(a), _named(b))
    while not game.over.all():
        _move_all(game, players, rng)
    wins, losses = int((game.winner == 0).sum()), int((game.winner == 1).sum())
    return {
        "wins": wins,
        "losses": losses,
        "draws": games - wins - losses,
        "win_rate": wins / games,
    }


def record_game(
    a: str | Player, b: str | Player, size: int = 5, max_plies: int = 24, seed: int | None = None
) -> list[str]:
    """One game of ``a`` (A) against ``b`` (B) as text frames: the start, then each move."""
    rng = np.random.default_rng(seed)
    game = GridGame(1, size, max_plies, seed=int(rng.integers(2**31)))
    players = (_named(a), _named(b))
    frames = [f"start: {NAMES[game.to_move[0]]} moves first\n{game.render()}"]
    while not game.over[0]:
        who = int(game.to_move[0])
        action = int(players[who](game, rng)[0])
        game.play(np.array([action]))
        frames.append(f"ply {game.plies[0]}: {NAMES[who]} {ACTIONS[action]}\n{game.render()}")
    winner = int(game.winner[0])
    if winner < 0:
        result = f"draw after {game.plies[0]} moves"
    elif (game.pos[0, 0] == game.pos[0, 1]).all():
        result = f"{NAMES[winner]} tags {NAMES[1 - winner]}: {NAMES[winner]} wins"
    else:
        result = f"{NAMES[winner]} takes the flag: {NAMES[winner]} wins"
    frames[-1] += f"\n{result}"
    return frames


class GridGameEnv:
    """Flag Tag against a fixed opponent, as a batch of environments for the trainer.

    The agent plays A in ``num_envs`` games against ``opponent`` ('random', 'scripted', a
    player function, or a sequence of these: each game then draws one at every reset).
    Observations are A's view (:meth:`GridGame.observe`); the reward is +1 for a win, -1 for a
    loss and 0 for a draw, all at the game's last step.
    """

    n_actions = len(ACTIONS)

    def __init__(
        self,
        num_envs: int = 1,
        opponent: str | Player | Sequence[str | Player] = "scripted",
        size: int = 5,
        max_plies: int = 24,
        seed: int | None = None,
    ) -> None:
        pool = [opponent] if isinstance(opponent, str) or callable(opponent) else list(opponent)
        if not pool:
            raise ValueError("GridGameEnv: give at least one opponent")
        self.opponents = [_named(p) for p in pool]
        self.game = GridGame(num_envs, size, max_plies, seed=seed)
        self.num_envs, self.obs_dim = num_envs, self.game.obs_dim
        self.rng = np.random.default_rng(seed)
        self.done = np.ones(num_envs, dtype=bool)
        self.which = np.zeros(num_envs, dtype=np.int64)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """New games (a new opponent drawn for each); the opponent moves first in about half."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
            self.game.rng = np.random.default_rng(seed + 1)
        self.game.reset()
        self.which = self.rng.integers(0, len(self.opponents), self.num_envs)
        self._opponent_moves()
        self.done = self.game.over.copy()
        return self.game.observe(0)

    def _opponent_moves(self) -> None:
        """The opponent moves in every unfinished game where it is B's turn."""
        actions = np.zeros(self.num_envs, dtype=np.int64)
        turn = (self.game.to_move == 1) & ~self.game.over
        for k, opponent in enumerate(self.opponents):
            mine = turn & (self.which == k)
            if mine.any():
                actions[mine] = opponent(self.game, self.rng)[mine]
        self.game.play(actions, turn)

    def legal_actions(self) -> np.ndarray:
        """A's legal moves in each game (num_envs, 5); stay only, in finished games."""
        legal = self.game.legal_actions()
        legal[self.done] = np.arange(len(ACTIONS)) == 0
        return legal

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A moves in every running game, then the opponent replies where the game goes on;
        ``(obs, reward, terminated, truncated)`` (games end by a win, a loss or the move limit,
        all counted as terminations: the observation includes the moves left)."""
        running = ~self.done
        self.game.play(actions, running)
        self._opponent_moves()
        ended = running & self.game.over
        reward = np.where(ended, np.where(self.game.winner == 0, 1.0, 0.0), 0.0)
        reward -= ended & (self.game.winner == 1)
        self.done = self.game.over.copy()
        return self.game.observe(0), reward.astype(np.float32), ended, np.zeros_like(ended)
