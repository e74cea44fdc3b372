"""A Transformer language model in the style of PyTorch's "Language Modeling with nn.Transformer"
tutorial: sinusoidal positions written into a registered buffer by strided assignment,
sequence-first TransformerEncoder with a causal mask, SGD + StepLR, gradient clipping,
perplexity, and the best model kept with copy.deepcopy. The corpus is generated: a small
vocabulary walked by a fixed bigram table, so there is something to learn and nothing to fetch.
"""

import argparse
import copy
import json
import math

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import TransformerEncoder, TransformerEncoderLayer


def log(**fields):
    """One JSON line per logged step (the ports test harness reads the loss curve from these)."""
    print(json.dumps(fields), flush=True)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.pe[: x.size(0)]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.init_weights()

    def init_weights(self) -> None:
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)

    def forward(self, src: Tensor, src_mask: Tensor = None) -> Tensor:
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src)).to(src.device)
        output = self.transformer_encoder(src, src_mask)
        return self.linear(output)


parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.manual_seed(args.seed)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

ntokens, bptt = 24, 20
rng = np.random.default_rng(0)
table = rng.dirichlet(np.full(ntokens, 0.1), size=ntokens)  # each token has few likely successors
walk = [0]
for _ in range(6000):
    walk.append(rng.choice(ntokens, p=table[walk[-1]]))
corpus = torch.tensor(walk, dtype=torch.long)


def batchify(data: Tensor, bsz: int) -> Tensor:
    seq_len = data.size(0) // bsz
    data = data[: seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data.to(device)


train_data, val_data = batchify(corpus[:5000], 16), batchify(corpus[5000:], 8)


def get_batch(source: Tensor, i: int):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


model = TransformerModel(ntokens, 32, 2, 64, 2, 0.1).to(device)
criterion = nn.CrossEntropyLoss()
lr = 2.0
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.9)


def train(model: nn.Module, epoch: int) -> None:
    model.train()
    total_loss, count = 0.0, 0
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i)
        output = model(data)
        loss = criterion(output.view(-1, ntokens), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        total_loss += loss.item()
        count += 1
    log(part="train", epoch=epoch, loss=total_loss / count, lr=scheduler.get_last_lr()[0])


def evaluate(model: nn.Module, eval_data: Tensor) -> float:
    model.eval()
    total_loss = 0.0
    with torch.no_grad():
        for i in range(0, eval_data.size(0) - 1, bptt):
            data, targets = get_batch(eval_data, i)
            seq_len = data.size(0)
            output = model(data)
            total_loss += seq_len * criterion(output.view(-1, ntokens), targets).item()
    return total_loss / (len(eval_data) - 1)


log(part="eval", epoch=0, loss=evaluate(model, val_data))
best_val_loss, best_model = float("inf"), None
for epoch in range(1, args.epochs + 1):
    train(model, epoch)
    val_loss = evaluate(model, val_data)
    log(part="eval", epoch=epoch, loss=val_loss, ppl=math.exp(val_loss))
    if val_loss < best_val_loss:
        best_val_loss = val_loss
        best_model = copy.deepcopy(model)
    scheduler.step()
log(part="best", loss=evaluate(best_model, val_data))
