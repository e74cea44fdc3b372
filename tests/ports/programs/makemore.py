"""Make more names: character-level models of first names, from counting to a recurrent net.

1. a bigram table of counts, normalised into probabilities, sampled and scored;
2. the same bigram model as one linear layer trained by gradient descent;
3. an MLP over the previous three characters (embedding lookup ``C[X]``), minibatch SGD;
4. an ``nn.Module`` with a GRU cell, trained with AdamW.
"""

import argparse
import json
import os
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler


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


parser = argparse.ArgumentParser(description="character-level name models")
parser.add_argument("--bigram-steps", type=int, default=40)
parser.add_argument("--mlp-steps", type=int, default=1500)
parser.add_argument("--rnn-steps", type=int, default=300)
parser.add_argument("--seed", type=int, default=2147483647)
parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
args = parser.parse_args()

NAMES = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth
mila ella avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla
riley zoey nora lily eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel
violet aurora savannah audrey brooklyn bella claire skylar lucy paisley everly anna caroline
nova genesis emilia kennedy samantha maya willow kinsley naomi aaliyah elena sarah ariana
allison gabriella alice madelyn cora ruby eva serenity autumn adeline hailey gianna valentina
isla eliana quinn nevaeh ivy sadie piper lydia alexa josephine emery julia delilah arianna
vivian kaylee sophie brielle madeline liam noah william james oliver benjamin elijah lucas
mason logan alexander ethan jacob michael daniel henry jackson sebastian aiden matthew samuel
david joseph carter owen wyatt john jack luke jayden dylan grayson levi isaac gabriel julian
mateo anthony jaxon lincoln joshua christopher andrew theodore caleb ryan asher nathan thomas
leo isaiah charles josiah hudson christian hunter connor eli ezra aaron landon adrian jonathan
nolan jeremiah easton elias colton cameron carson robert angel maverick nicholas dominic
jaxson greyson adam ian austin santiago jordan cooper brayden roman evan ezekiel xavier jose
jace jameson leonardo bryson axel everett parker kayden miles sawyer jason
""".split()

random.seed(42)
words = list(NAMES)
random.shuffle(words)
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
V = len(stoi)
g = torch.Generator().manual_seed(args.seed)

# ---------------------------------------------------------------- 1. counting bigrams
N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1

P = (N + 1).float()  # add-one smoothing
P /= P.sum(1, keepdims=True)

for _ in range(5):
    out, ix = [], 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(itos[ix])
    print("bigram sample:", "".join(out))

log_likelihood, n = 0.0, 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
nll = -log_likelihood / n
print(f"bigram counts: nll={nll:.4f} over {n} bigrams")
log(part="counts", step=0, loss=nll.item())

# ---------------------------------------------------------------- 2. bigrams by gradient descent
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs, ys = torch.tensor(xs), torch.tensor(ys)
num = xs.nelement()

W = torch.randn((V, V), generator=g, requires_grad=True)
share_init({"W": W}, args.init)
for k in range(args.bigram_steps):
    xenc = F.one_hot(xs, num_classes=V).float()
    logits = xenc @ W  # log-counts
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
    log(part="neural_bigram", step=k, loss=loss.item())
    W.grad = None
    loss.backward()
    W.data += -10 * W.grad

# ---------------------------------------------------------------- 3. an MLP over 3 characters
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


n1 = int(0.9 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:])

C = torch.randn((V, 10), generator=g)
W1 = torch.randn((block_size * 10, 100), generator=g) * (5 / 3) / (block_size * 10) ** 0.5
b1 = torch.randn(100, generator=g) * 0.01
W2 = torch.randn((100, V), generator=g) * 0.01
b2 = torch.randn(V, generator=g) * 0
parameters = [C, W1, b1, W2, b2]
print("MLP parameters:", sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True


@torch.inference_mode()
def split_loss(X, Y):
    emb = C[X]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, Y).item()


for i in range(args.mlp_steps + 1):
    if i % 100 == 0:
        log(part="mlp", step=i, loss=split_loss(Xtr, Ytr), dev=split_loss(Xdev, Ydev))
    if i == args.mlp_steps:
        break
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    emb = C[Xtr[ix]]  # (32, 3, 10)
    h = torch.tanh(emb.view(-1, block_size * 10) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ytr[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < args.mlp_steps * 3 // 4 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

for _ in range(5):
    out, context = [], [0] * block_size
    while True:
        emb = C[torch.tensor([context])]
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        if ix == 0:
            break
        out.append(itos[ix])
    print("mlp sample:", "".join(out))


# ---------------------------------------------------------------- 4. a GRU cell as an nn.Module
class CharRNN(nn.Module):
    def __init__(self, vocab_size, n_embd, n_hidden):
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, n_hidden))  # the learned initial state
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.cell = nn.GRUCell(n_embd, n_hidden)
        self.lm_head = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        emb = self.wte(idx)  # (b, t, n_embd)
        hprev = self.start.expand((b, -1))
        hiddens = []
        for i in range(t):
            hprev = self.cell(emb[:, i, :], hprev)
            hiddens.append(hprev)
        logits = self.lm_head(torch.stack(hiddens, 1))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
        return logits, loss


class CharDataset(Dataset):
    """Each name as one row: input starts with '.', target ends with '.', then -1 (ignored)."""

    def __init__(self, words, max_word_length):
        self.words = words
        self.max_word_length = max_word_length

    def __len__(self):
        return len(self.words)

    def __getitem__(self, idx):
        ix = torch.tensor([stoi[c] for c in self.words[idx]], dtype=torch.long)
        x = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        y = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        x[1 : 1 + len(ix)] = ix
        y[: len(ix)] = ix
        y[len(ix) + 1 :] = -1  # mask the loss at the inactive locations
        return x, y


class InfiniteDataLoader:
    """Batches drawn with replacement for as long as asked."""

    def __init__(self, dataset, **kwargs):
        train_sampler = RandomSampler(dataset, replacement=True, num_samples=int(1e10))
        self.train_loader = DataLoader(dataset, sampler=train_sampler, **kwargs)
        self.data_iter = iter(self.train_loader)

    def next(self):
        try:
            batch = next(self.data_iter)
        except StopIteration:  # this will technically only happen after 1e10 samples
            self.data_iter = iter(self.train_loader)
            batch = next(self.data_iter)
        return batch


@torch.inference_mode()
def evaluate(model, dataset, batch_size=50):
    model.eval()
    losses = []
    for X, Y in DataLoader(dataset, shuffle=False, batch_size=batch_size):
        _, loss = model(X, Y)
        losses.append(loss.item())
    model.train()
    return torch.tensor(losses).mean().item()


max_len = max(len(w) for w in words)
train_dataset, test_dataset = CharDataset(words[:n1], max_len), CharDataset(words[n1:], max_len)
model = CharRNN(V, 16, 64)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01, betas=(0.9, 0.99))
batch_loader = InfiniteDataLoader(train_dataset, batch_size=32)
for step in range(args.rnn_steps + 1):
    if step % 50 == 0:
        log(
            part="rnn",
            step=step,
            loss=evaluate(model, train_dataset),
            dev=evaluate(model, test_dataset),
        )
    if step == args.rnn_steps:
        break
    X, Y = batch_loader.next()
    _, loss = model(X, Y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
