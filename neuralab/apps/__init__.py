"""Miniatures of the systems the lecture shows, each trained here from neuralab's own engine.

One subpackage or module per system (for example :mod:`neuralab.apps.rl`, the game agent:
deep reinforcement learning, AlphaStar's idea, on CartPole and a small grid strategy game).
Each has a docs page under ``docs/apps/``, a small-scale test and a ``neuralab demo`` topic.
"""
