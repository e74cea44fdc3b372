# ruff: noqa: UP008  (super(RNN, self), as the tutorial writes it)
"""Classifying names with a character-level RNN, the way PyTorch's "NLP from scratch" tutorial
writes it: one-hot letters written into a zeros tensor element by element, an RNN cell made of
two ``nn.Linear`` over ``torch.cat((input, hidden), 1)``, ``LogSoftmax`` and ``NLLLoss``, and the
update by hand: ``p.data.add_(p.grad.data, alpha=-learning_rate)``.

The names are synthetic: each "language" draws its names from its own few syllables, so no
download is needed.
"""

import argparse
import json
import os
import random
import string

import numpy as np
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
SYLLABLES = {
    "Alpic": ["al", "ber", "to", "ric", "o"],
    "Borish": ["ov", "sky", "mir", "ya", "ich"],
    "Celtan": ["mac", "dun", "ach", "ey", "ill"],
    "Dunese": ["ka", "shi", "mo", "ri", "yo"],
}
all_categories = list(SYLLABLES)
n_categories = len(all_categories)


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


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def randomName(category):
    name = "".join(random.choice(SYLLABLES[category]) for _ in range(random.randint(2, 3)))
    return name.capitalize()


def randomTrainingExample():
    category = random.choice(all_categories)
    line = randomName(category)
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    # Add parameters' gradients to their values, multiplied by learning rate
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


def evaluate(line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


parser = argparse.ArgumentParser(description="char-RNN name classification")
parser.add_argument("--iters", type=int, default=3000)
parser.add_argument("--hidden", type=int, default=64)
parser.add_argument("--lr", type=float, default=0.005)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
args = parser.parse_args()

random.seed(args.seed)
torch.manual_seed(args.seed)
rnn = RNN(n_letters, args.hidden, n_categories)
share_init(dict(rnn.named_parameters()), args.init)
criterion = nn.NLLLoss()
learning_rate = args.lr

current_loss = 0
for iter in range(1, args.iters + 1):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output, loss = train(category_tensor, line_tensor)
    current_loss += loss
    if iter % 100 == 0:
        log(part="train", step=iter, loss=current_loss / 100)
        current_loss = 0

correct = 0
with torch.no_grad():
    for _ in range(200):
        category, line, category_tensor, line_tensor = randomTrainingExample()
        guess, guess_i = categoryFromOutput(evaluate(line_tensor))
        correct += guess == category
log(part="test", step=args.iters, loss=1 - correct / 200)
