# ruff: noqa: UP008, B007  (super(Policy, self) and the episode loop as the example writes them)
"""REINFORCE in the style of pytorch/examples' reinforce.py: a softmax policy, actions sampled
by a Categorical distribution, log-probabilities kept per step, discounted returns
normalised, and one policy-gradient step per episode. The environment is a corridor written
here (no gym): walk right from cell 0 to the goal at the end within a step limit.
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical


def log(**fields):
    """One JSON line per logged step (the ports test harness reads the loss curve from these)."""
    print(json.dumps(fields), flush=True)


parser = argparse.ArgumentParser(description="PyTorch REINFORCE example, on a corridor")
parser.add_argument("--gamma", type=float, default=0.99, metavar="G")
parser.add_argument("--seed", type=int, default=543, metavar="N")
parser.add_argument("--episodes", type=int, default=150)
args = parser.parse_args()


class Corridor:
    """Cells 0..length-1, start at 0; action 1 steps right, 0 left; +1 at the last cell."""

    def __init__(self, length=7, limit=40, seed=0):
        self.length, self.limit = length, limit
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.pos, self.t = 0, 0
        return self.observe()

    def observe(self):
        state = np.zeros(self.length, dtype=np.float32)
        state[self.pos] = 1.0
        return state

    def step(self, action):
        self.pos = min(max(self.pos + (1 if action == 1 else -1), 0), self.length - 1)
        self.t += 1
        done = self.pos == self.length - 1 or self.t >= self.limit
        reward = 1.0 if self.pos == self.length - 1 else -0.01
        return self.observe(), reward, done


env = Corridor(seed=args.seed)
torch.manual_seed(args.seed)


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(7, 64)
        self.dropout = nn.Dropout(p=0.1)
        self.affine2 = nn.Linear(64, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


policy = Policy()
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
eps = np.finfo(np.float32).eps.item()


def select_action(state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode():
    R = 0
    policy_loss = []
    returns = []
    for r in policy.rewards[::-1]:
        R = r + args.gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]


lengths = []
for i_episode in range(1, args.episodes + 1):
    state, ep_reward = env.reset(), 0
    for t in range(1, 10000):
        action = select_action(state)
        state, reward, done = env.step(action)
        policy.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    lengths.append(t)
    finish_episode()
    if i_episode % 25 == 0:  # steps to the goal, averaged: falls from ~40 to the shortest, 6
        log(episode=i_episode, loss=float(np.mean(lengths[-25:])), reward=ep_reward)
