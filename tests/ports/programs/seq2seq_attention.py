# ruff: noqa: UP008, B007  (super(EncoderRNN, self) and the decoding loop as the tutorial writes them)
"""Sequence to sequence with attention, the way PyTorch's classic translation tutorial wrote it.

An encoder GRU reads the source one token at a time and its outputs are written row by row into
a preallocated ``encoder_outputs`` buffer; an attention decoder (attention over ``max_length``
positions from the embedded input and the hidden state, ``bmm`` with the encoder outputs, a
combining layer, a GRU and ``log_softmax``) emits the target with random teacher forcing, trained
by ``NLLLoss`` and two SGD optimizers. The "language" is synthetic: the target is the source
reversed with every digit shifted by one, so no download is needed.
"""

import argparse
import json
import os
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

SOS_token, EOS_token, DIGITS = 0, 1, 10
MAX_LENGTH = 8


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


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        embedded = self.embedding(input).view(1, 1, -1)
        output = embedded
        output, hidden = self.gru(output, hidden)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, 1, self.hidden_size)


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=MAX_LENGTH):
        super(AttnDecoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.dropout_p = dropout_p
        self.max_length = max_length

        self.embedding = nn.Embedding(self.output_size, self.hidden_size)
        self.attn = nn.Linear(self.hidden_size * 2, self.max_length)
        self.attn_combine = nn.Linear(self.hidden_size * 2, self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_p)
        self.gru = nn.GRU(self.hidden_size, self.hidden_size)
        self.out = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input).view(1, 1, -1)
        embedded = self.dropout(embedded)

        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))

        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = self.attn_combine(output).unsqueeze(0)

        output = F.relu(output)
        output, hidden = self.gru(output, hidden)

        output = F.log_softmax(self.out(output[0]), dim=1)
        return output, hidden, attn_weights


def tensorFromSequence(digits):
    indexes = [d + 2 for d in digits] + [EOS_token]
    return torch.tensor(indexes, dtype=torch.long).view(-1, 1)


def randomPair():
    source = [random.randrange(DIGITS) for _ in range(random.randint(3, MAX_LENGTH - 2))]
    target = [(d + 1) % DIGITS for d in reversed(source)]
    return tensorFromSequence(source), tensorFromSequence(target)


def train(
    input_tensor,
    target_tensor,
    encoder,
    decoder,
    encoder_optimizer,
    decoder_optimizer,
    criterion,
    teacher_forcing_ratio,
    max_length=MAX_LENGTH,
):
    encoder_hidden = encoder.initHidden()

    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()

    input_length = input_tensor.size(0)
    target_length = target_tensor.size(0)

    encoder_outputs = torch.zeros(max_length, encoder.hidden_size)

    loss = 0

    for ei in range(input_length):
        encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
        encoder_outputs[ei] = encoder_output[0, 0]

    decoder_input = torch.tensor([[SOS_token]])
    decoder_hidden = encoder_hidden

    use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False

    for di in range(target_length):
        decoder_output, decoder_hidden, decoder_attention = decoder(
            decoder_input, decoder_hidden, encoder_outputs
        )
        loss += criterion(decoder_output, target_tensor[di])
        if use_teacher_forcing:
            decoder_input = target_tensor[di]  # Teacher forcing
        else:
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.squeeze().detach()  # detach from history as input
            if decoder_input.item() == EOS_token:
                break

    loss.backward()

    encoder_optimizer.step()
    decoder_optimizer.step()

    return loss.item() / target_length


def held_out_loss(encoder, decoder, pairs, criterion, max_length=MAX_LENGTH):
    """Mean per-token NLL of held-out pairs with teacher forcing (not in the tutorial: a smooth
    score for the ports test)."""
    total, tokens = 0.0, 0
    with torch.no_grad():
        for input_tensor, target_tensor in pairs:
            encoder_hidden = encoder.initHidden()
            encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
            for ei in range(input_tensor.size(0)):
                encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
                encoder_outputs[ei] = encoder_output[0, 0]
            decoder_input, decoder_hidden = torch.tensor([[SOS_token]]), encoder_hidden
            for di in range(target_tensor.size(0)):
                decoder_output, decoder_hidden, _ = decoder(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                total += criterion(decoder_output, target_tensor[di]).item()
                tokens += 1
                decoder_input = target_tensor[di]
    return total / tokens


def evaluate(encoder, decoder, input_tensor, max_length=MAX_LENGTH):
    with torch.no_grad():
        input_length = input_tensor.size()[0]
        encoder_hidden = encoder.initHidden()
        encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
        for ei in range(input_length):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] += encoder_output[0, 0]
        decoder_input = torch.tensor([[SOS_token]])
        decoder_hidden = encoder_hidden
        decoded = []
        for di in range(max_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs
            )
            topv, topi = decoder_output.data.topk(1)
            if topi.item() == EOS_token:
                break
            decoded.append(topi.item() - 2)
            decoder_input = topi.squeeze().detach()
        return decoded


parser = argparse.ArgumentParser(description="seq2seq with attention on reversed digits")
parser.add_argument("--iters", type=int, default=1500)
parser.add_argument("--hidden", type=int, default=64)
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--dropout", type=float, default=0.1)
parser.add_argument("--teacher-forcing", type=float, default=0.5)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
args = parser.parse_args()

random.seed(args.seed)
torch.manual_seed(args.seed)
encoder = EncoderRNN(DIGITS + 2, args.hidden)
decoder = AttnDecoderRNN(args.hidden, DIGITS + 2, dropout_p=args.dropout)
share_init(
    {**{"enc." + k: v for k, v in encoder.named_parameters()},
     **{"dec." + k: v for k, v in decoder.named_parameters()}},
    args.init,
)  # fmt: skip
encoder_optimizer = optim.SGD(encoder.parameters(), lr=args.lr)
decoder_optimizer = optim.SGD(decoder.parameters(), lr=args.lr)
criterion = nn.NLLLoss()

pairs = [randomPair() for _ in range(args.iters)]
held_out = [randomPair() for _ in range(50)]
print_loss_total = 0
for iter in range(1, args.iters + 1):
    if (iter - 1) % 250 == 0:
        encoder.eval(), decoder.eval()
        log(part="test", step=iter - 1, loss=held_out_loss(encoder, decoder, held_out, criterion))
        encoder.train(), decoder.train()
    input_tensor, target_tensor = pairs[iter - 1]
    loss = train(input_tensor, target_tensor, encoder, decoder, encoder_optimizer,
                 decoder_optimizer, criterion, args.teacher_forcing)  # fmt: skip
    print_loss_total += loss
    if iter % 50 == 0:
        log(part="train", step=iter, loss=print_loss_total / 50)
        print_loss_total = 0

encoder.eval()
decoder.eval()
log(part="test", step=args.iters, loss=held_out_loss(encoder, decoder, held_out, criterion))
exact = 0
for input_tensor, target_tensor in held_out:
    expected = [int(t) - 2 for t in target_tensor.view(-1).tolist()[:-1]]
    exact += evaluate(encoder, decoder, input_tensor) == expected
log(part="exact", step=args.iters, loss=1 - exact / len(held_out))
