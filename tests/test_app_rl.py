"""The game agent (neuralab.apps.rl): CartPole physics, Flag Tag rules, advantages, training.

CPU budget: about 10 s on one core (training CartPole to solved and the Flag Tag agent take
most of it).
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import neuralab as nl
from neuralab.apps.rl import (
    ActorCritic,
    CartPole,
    GridGame,
    GridGameEnv,
    PolicyGradient,
    advantages,
    cartpole_score,
    cartpole_step,
    discounted_returns,
    evaluate,
    match,
    random_player,
    record_game,
    scripted_player,
    train_cartpole,
    train_grid_agent,
    win_rates,
)
from neuralab.apps.rl.agents import Batch, sample_actions
from neuralab.apps.rl.cartpole import is_terminal

STAY, FORWARD, BACK, LEFT, RIGHT = range(5)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """One BLAS thread, whatever happened before NumPy was loaded: the training runs multiply
    small matrices, and their exact results (hence the RL trajectories) depend on it."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ----------------------------------------------------------------------------- CartPole


def gym_step(state, action):
    """gym's CartPoleEnv.step, transcribed with scalars and the math module."""
    x, x_dot, theta, theta_dot = state
    force = 10.0 if action == 1 else -10.0
    costheta, sintheta = math.cos(theta), math.sin(theta)
    temp = (force + 0.05 * theta_dot**2 * sintheta) / 1.1
    thetaacc = (9.8 * sintheta - costheta * temp) / (0.5 * (4.0 / 3.0 - 0.1 * costheta**2 / 1.1))
    xacc = temp - 0.05 * thetaacc * costheta / 1.1
    return [x + 0.02 * x_dot, x_dot + 0.02 * xacc, theta + 0.02 * theta_dot,
            theta_dot + 0.02 * thetaacc]  # fmt: skip


def test_cartpole_step_from_rest_by_hand():
    # at rest, pushing right: temp = 10/1.1, θ'' = -temp / (0.5·(4/3 - 0.1/1.1)) = -600/41,
    # x'' = temp - 0.05·θ''/1.1 = 400/41; Euler with τ = 0.02 moves only the velocities
    new = cartpole_step(np.zeros(4), 1)
    np.testing.assert_allclose(new, [0.0, 8 / 41, 0.0, -12 / 41], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cartpole_step(np.zeros(4), 0), [0.0, -8 / 41, 0.0, 12 / 41])


def test_cartpole_step_matches_gym_formulas_in_batch():
    rng = np.random.default_rng(0)
    states = rng.uniform(-0.3, 0.3, size=(20, 4))
    actions = rng.integers(0, 2, 20)
    expected = [gym_step(s, a) for s, a in zip(states, actions)]
    np.testing.assert_allclose(cartpole_step(states, actions), expected, rtol=1e-12)


def test_cartpole_termination_thresholds():
    limit = 12 * 2 * math.pi / 360
    states = np.array([
        [0, 0, limit * 0.999, 0], [0, 0, limit * 1.001, 0], [0, 0, -limit * 1.001, 0],
        [2.4, 0, 0, 0], [2.41, 0, 0, 0], [-2.41, 0, 0, 0],
    ])  # fmt: skip
    assert is_terminal(states).tolist() == [False, True, True, False, True, True]


def test_cartpole_env_rewards_termination_and_freezing():
    env = CartPole(3, seed=0)
    obs = env.reset()
    assert obs.shape == (3, 4) and obs.dtype == np.float32 and (np.abs(obs) <= 0.05).all()
    env.state[0] = [0.0, 0.0, 0.2, 1.0]  # already past 12°: fails on this step
    obs, reward, terminated, truncated = env.step(np.array([1, 1, 0]))
    assert reward.tolist() == [1.0, 1.0, 1.0]  # the failing step earns its reward too
    assert terminated.tolist() == [True, False, False] and not truncated.any()
    frozen = env.state[0].copy()
    _, reward, terminated, _ = env.step(np.array([0, 1, 0]))
    assert reward.tolist() == [0.0, 1.0, 1.0] and not terminated[0]
    np.testing.assert_array_equal(env.state[0], frozen)


def test_cartpole_truncates_at_the_step_cap():
    env = CartPole(2, max_steps=6, seed=1)
    env.reset()
    total = np.zeros(2)
    for t in range(6):
        _, reward, terminated, truncated = env.step(np.array([t % 2, (t + 1) % 2]))
        total += reward
    assert truncated.all() and not terminated.any() and env.done.all()
    assert total.tolist() == [6.0, 6.0]


def test_cartpole_rejects_bad_actions():
    env = CartPole(2)
    env.reset()
    with pytest.raises(ValueError, match=r"expected 2 actions .* shape \(3,\)"):
        env.step(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"0 \(push left\) or 1 \(push right\), got \[2\]"):
        env.step(np.array([0, 2]))


# ----------------------------------------------------------------------------- Flag Tag


def game_at(a, b, to_move=0, size=5, max_plies=24):
    """One game with A at cell ``a`` and B at ``b``, ``to_move`` to play."""
    game = GridGame(1, size=size, max_plies=max_plies, seed=0)
    game.reset(first=to_move)
    game.pos[0] = [a, b]
    return game


def test_start_position_and_observation():
    game = GridGame(2, seed=0)
    game.reset(first=np.array([0, 1]))
    assert game.pos[0].tolist() == [[4, 2], [0, 2]]
    obs = game.observe()
    assert obs.shape == (2, 51) and obs.dtype == np.float32
    # each player sees itself at the bottom middle (cell 4·5 + 2) and the enemy at the top
    for row in obs:
        assert np.flatnonzero(row[:25]).tolist() == [22]
        assert np.flatnonzero(row[25:50]).tolist() == [2]
        assert row[50] == 1.0
    game.pos[:] = [(3, 1), (1, 3)]
    game.play(np.array([STAY, STAY]))  # now B moves in game 0, A in game 1
    b_view, a_view = game.observe()
    assert np.flatnonzero(b_view).tolist() == [3 * 5 + 3, 25 + 1 * 5 + 1, 50]  # mirrored rows
    assert np.flatnonzero(a_view).tolist() == [3 * 5 + 1, 25 + 1 * 5 + 3, 50]
    assert a_view[50] == pytest.approx(1 - 1 / 24)


def test_moves_are_in_the_movers_frame():
    game = game_at((3, 2), (1, 1), to_move=0)
    game.play(np.array([FORWARD]))
    assert game.pos[0, 0].tolist() == [2, 2] and game.to_move[0] == 1
    game.play(np.array([FORWARD]))  # forward for B is down the board
    assert game.pos[0, 1].tolist() == [2, 1] and game.to_move[0] == 0
    game.play(np.array([RIGHT]))
    game.play(np.array([BACK]))
    assert game.pos[0].tolist() == [[2, 3], [1, 1]] and game.plies[0] == 4


def test_illegal_moves():
    game = game_at((4, 0), (1, 1))
    assert game.legal_actions()[0].tolist() == [True, True, False, False, True]
    with pytest.raises(ValueError, match=r"illegal move 'back' by A at \(4, 0\) in game 0"):
        game.play(np.array([BACK]))
    # onto the enemy in the neutral row or in its half: illegal
    for a, b in (((3, 2), (2, 2)), ((2, 2), (1, 2))):
        game = game_at(a, b)
        assert not game.legal_actions()[0, FORWARD]
        with pytest.raises(ValueError, match="illegal move 'forward'"):
            game.play(np.array([FORWARD]))
    with pytest.raises(ValueError, match=r"first is player 0 \(A\) or 1 \(B\), got 2"):
        GridGame(1).reset(first=2)
    with pytest.raises(ValueError, match=r"actions are 0-4"):
        game_at((3, 2), (1, 1)).play(np.array([7]))


def test_a_player_on_its_flag_guards_it():
    game = game_at((3, 0), (4, 1), to_move=1)  # B next to A's flag (4, 2), A away
    game.pos[0, 0] = [4, 2]  # A back on its flag
    assert not game.legal_actions()[0, RIGHT]  # B may not step onto A on A's flag


def test_tagging_in_your_half_wins():
    game = game_at((4, 2), (3, 2))  # B has come into A's half, next to A
    assert game.legal_actions()[0, FORWARD]
    game.play(np.array([FORWARD]))
    assert game.over[0] and game.winner[0] == 0
    game = game_at((1, 3), (1, 2), to_move=1)  # A deep in B's half, B next to it
    game.play(np.array([RIGHT]))
    assert game.over[0] and game.winner[0] == 1


def test_reaching_the_enemy_flag_wins():
    game = game_at((1, 2), (2, 0))
    game.play(np.array([FORWARD]))
    assert game.over[0] and game.winner[0] == 0
    assert "A takes the flag" not in game.render()  # the board only; the verdict is the recorder's


def test_draw_after_the_move_limit_and_finished_games_ignore_moves():
    game = game_at((4, 2), (0, 2), max_plies=3)
    for _ in range(3):
        game.play(np.array([STAY]))
    assert game.over[0] and game.winner[0] == -1
    before = game.pos.copy()
    game.play(np.array([FORWARD]))  # no effect once over
    np.testing.assert_array_equal(game.pos, before)


def test_play_only_in_the_selected_games():
    game = GridGame(2, seed=0)
    game.reset(first=0)
    game.play(np.array([FORWARD, FORWARD]), games=np.array([True, False]))
    assert game.pos[:, 0, 0].tolist() == [3, 4] and game.to_move.tolist() == [1, 0]


def test_render_shows_players_flags_and_halves():
    game = game_at((3, 1), (1, 2))
    text = game.render()
    assert text.splitlines()[2] == " 0| . . b . . |  B's half"
    assert " 2| - - - - - |  neutral" in text and "A . . ." in text


def test_players_move_legally_and_the_scripted_raider_beats_random():
    game = GridGame(50, seed=0)
    rng = np.random.default_rng(0)
    for player in (random_player, scripted_player):
        actions = player(game, rng)
        assert game.legal_actions()[np.arange(50), actions].all()
    game = game_at((1, 2), (0, 0))  # A one step from B's flag: the raider takes it
    assert scripted_player(game, rng).tolist() == [FORWARD]
    result = match("scripted", "random", 200, seed=0)
    assert result["wins"] + result["losses"] + result["draws"] == 200
    assert result["win_rate"] > 0.7


def test_env_rewards_win_loss_draw():
    env = GridGameEnv(3, "random", max_plies=4, seed=0)
    env.reset()
    env.game.reset(first=0)
    env.done[:] = False
    env.game.pos[0] = [(1, 2), (2, 0)]  # A wins at once
    env.game.pos[1] = [(1, 1), (1, 3)]  # A steps next to B in B's half...
    env.game.pos[2] = [(4, 2), (0, 2)]

    def b_moves(game, rng):  # ...and B tags it; elsewhere B stays
        return np.where(np.arange(3) == 1, LEFT, STAY)

    env.opponents = [b_moves]
    _, reward, terminated, _ = env.step(np.array([FORWARD, RIGHT, STAY]))
    assert reward.tolist() == [1.0, -1.0, 0.0] and terminated.tolist() == [True, True, False]
    assert env.legal_actions()[0].tolist() == [True, False, False, False, False]
    _, reward, terminated, _ = env.step(np.array([STAY, STAY, STAY]))  # game 2: move limit
    assert reward.tolist() == [0.0, 0.0, 0.0] and terminated.tolist() == [False, False, True]
    assert env.done.all()


def test_record_game_ends_with_the_result():
    frames = record_game("scripted", "random", seed=3)
    assert frames[0].startswith("start: ")
    assert frames[-1].splitlines()[-1].endswith(("wins", "moves"))


# ----------------------------------------------------------------------------- returns


def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns([1.0, 1.0, 1.0], gamma=0.9), [2.71, 1.9, 1.0])
    # two episodes back to back: the second does not leak into the first
    returns = discounted_returns([1.0, 2.0, 3.0, 4.0], 0.5, ends=[False, True, False, True])
    np.testing.assert_allclose(returns, [2.0, 2.0, 5.0, 4.0])


def test_gae_by_hand_truncated_and_terminated():
    r, v, nv = [1.0, 1.0], [0.5, 0.4], [0.4, 0.3]
    # truncated after step 2: δ₁ = 1 + 0.9·0.3 - 0.4 = 0.87, δ₀ = 1 + 0.9·0.4 - 0.5 = 0.86,
    # A₀ = δ₀ + 0.9·0.8·A₁
    truncated = advantages(r, v, nv, [False, False], [False, True], gamma=0.9, lam=0.8)
    np.testing.assert_allclose(truncated, [0.86 + 0.72 * 0.87, 0.87])
    terminated = advantages(r, v, nv, [False, True], gamma=0.9, lam=0.8)  # δ₁ = 1 - 0.4
    np.testing.assert_allclose(terminated, [0.86 + 0.72 * 0.6, 0.6])
    one_step = advantages(r, v, nv, [False, True], gamma=0.9, lam=0.0)
    np.testing.assert_allclose(one_step, [0.86, 0.6])


def test_lambda_one_is_the_monte_carlo_return_minus_the_baseline():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(6, 3)), rng.normal(size=(7, 3))
    ends = np.zeros((6, 3), dtype=bool)
    ends[-1] = True
    adv = advantages(rewards, values[:-1], values[1:], ends, gamma=0.95, lam=1.0)
    np.testing.assert_allclose(adv + values[:-1], discounted_returns(rewards, 0.95, ends))
    for column in range(3):  # the trailing axis is a batch axis
        np.testing.assert_allclose(
            adv[:, column],
            advantages(rewards[:, column], values[:-1, column], values[1:, column],
                       ends[:, column], gamma=0.95, lam=1.0),
        )  # fmt: skip


def test_advantages_shape_mismatch_names_the_array():
    with pytest.raises(
        ValueError, match=r"next_values has shape \(3,\), rewards have shape \(2,\)"
    ):
        advantages([1.0, 1.0], [0.0, 0.0], [0.0, 0.0, 0.0], [False, True])


# ----------------------------------------------------------------------------- the agent


def test_sampling_never_picks_an_impossible_action():
    probs = np.tile([0.0, 0.25, 0.0, 0.75, 0.0], (4000, 1)).astype(np.float32)
    actions = sample_actions(probs, np.random.default_rng(0))
    assert set(actions.tolist()) == {1, 3}
    assert abs((actions == 3).mean() - 0.75) < 0.03


def test_illegal_actions_get_zero_probability_and_finite_gradients():
    nl.manual_seed(0)
    model = ActorCritic(3, 4, (8,))
    legal = np.array([[True, False, True, False], [False, False, False, True]])
    logp = model.log_probs(nl.tensor(np.ones((2, 3))), legal)
    assert np.exp(logp.numpy())[~legal].max() == 0.0
    np.testing.assert_allclose(np.exp(logp.numpy()).sum(axis=1), 1.0, rtol=1e-6)
    trainer = PolicyGradient(model, lr=0.1)
    batch = Batch(
        obs=np.ones((2, 3), np.float32), actions=np.array([2, 3]), legal=legal,
        advantages=np.array([1.0, -1.0]), returns=np.zeros(2), episode_returns=np.zeros(1),
        episode_lengths=np.ones(1),
    )  # fmt: skip
    loss, parts = trainer.loss(batch)
    loss.backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())
    assert parts["entropy"] > 0 and np.isfinite(loss.item())
    assert model.act(np.ones((2, 3)), legal, rng=np.random.default_rng(0))[1] == 3


def test_one_update_raises_the_probability_of_advantaged_actions():
    nl.manual_seed(0)
    model = ActorCritic(2, 2, (8,))
    trainer = PolicyGradient(model, lr=0.05, normalize_advantages=False)
    obs = np.ones((4, 2), np.float32)

    def p0() -> float:
        return float(np.exp(model.log_probs(nl.tensor(obs)).numpy()[0, 0]))

    before = p0()
    batch = Batch(
        obs=obs, actions=np.array([0, 0, 1, 1]), legal=None,
        advantages=np.array([1.0, 1.0, -1.0, -1.0]), returns=np.full(4, 2.0),
        episode_returns=np.zeros(1), episode_lengths=np.full(1, 4),
    )  # fmt: skip
    value_before = trainer.loss(batch)[1]["value_loss"]
    trainer.update(batch)
    assert p0() > before + 0.01
    assert trainer.loss(batch)[1]["value_loss"] < value_before


def test_save_and_load_the_policy(tmp_path):
    nl.manual_seed(1)
    model = ActorCritic(4, 2, (16, 16))
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    nl.save(model, tmp_path / "policy.safetensors")
    loaded = nl.load(tmp_path / "policy.safetensors")
    assert isinstance(loaded, ActorCritic)
    for a, b in zip(model(nl.tensor(obs)), loaded(nl.tensor(obs))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert model.act(obs, greedy=True).tolist() == loaded.act(obs, greedy=True).tolist()
    nl.save(model.state_dict(), tmp_path / "weights.safetensors")
    fresh = ActorCritic(4, 2, (16, 16))
    fresh.load_state_dict(nl.load(tmp_path / "weights.safetensors"))
    np.testing.assert_array_equal(
        fresh(nl.tensor(obs))[0].numpy(), model(nl.tensor(obs))[0].numpy()
    )


def test_cartpole_is_solved():
    """The classic criterion: mean return >= 195 over 100 consecutive episodes (greedy policy,
    fresh episodes after training); seed 0 stops after 25 updates (~1 s of CPU), when a greedy
    evaluation first averages 475, and then scores about 499."""
    model, history = train_cartpole(seed=0, updates=300)
    returns = cartpole_score(model, episodes=100, seed=777)
    assert returns.shape == (100,) and returns.mean() >= 195, (len(history), returns.mean())
    sampled = evaluate(CartPole(100), model, greedy=False, seed=778)
    assert sampled.mean() >= 195, sampled.mean()


def test_flag_tag_agent_beats_random_and_scripted():
    model, history = train_grid_agent(seed=0, updates=300)
    assert len(history) == 300
    rates = win_rates(model, games=200)
    assert rates["agent vs random"]["win_rate"] > 0.75, rates
    assert rates["agent vs scripted"]["win_rate"] > 0.9, rates
    # the trained agent does better against random than the scripted raider does
    assert rates["agent vs random"]["win_rate"] > rates["scripted vs random"]["win_rate"] - 0.05


def test_demo_trains_then_loads_its_policies(tmp_path):
    from neuralab import demos

    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        first = demos.run("game-agent", tmp_path, quick=True)
    out = text.getvalue()
    assert not first["cartpole"]["loaded"] and not first["grid"]["loaded"]
    assert (tmp_path / "cartpole_policy.safetensors").exists()
    assert "agent vs scripted" in out and "100 new episodes" in out and "B's half" in out
    assert len(first["cartpole"]["eval_returns"]) == 100
    assert first["figures"] and first["figures"][0].read_bytes()[:4] == b"\x89PNG"
    with contextlib.redirect_stdout(io.StringIO()) as again:
        second = demos.run("game-agent", tmp_path, quick=True)
    assert second["cartpole"]["loaded"] and second["grid"]["loaded"]
    assert "loaded the policy" in again.getvalue()
    assert second["cartpole"]["history"] == first["cartpole"]["history"]
