# ruff: noqa: UP008, UP032  (super(TextClassificationModel, self) and str.format, as the tutorial)
"""News-topic classification with ``nn.EmbeddingBag``, the way PyTorch's "Text classification
with the torchtext library" tutorial writes it: a ``collate_batch`` that concatenates the token
ids of a batch and builds the bag offsets with ``cumsum``, an EmbeddingBag (mean of each text's
word vectors) and a Linear layer, SGD with ``clip_grad_norm_``, and a StepLR stepped only when
the validation accuracy stops rising.

The "news" are synthetic: each topic draws most of its words from its own vocabulary and some
from a shared one, so the topic is learnable from the bag of words and nothing is downloaded.
"""

import argparse
import json
import os
import random
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, random_split

TOPICS = {
    "World": "minister election border treaty summit embassy refugee parliament",
    "Sports": "match goal season coach league striker tournament referee",
    "Business": "market shares profit merger investor quarterly inflation bank",
    "Sci/Tec": "software chip research launch satellite robot algorithm startup",
}
COMMON = "the a of to in and on for with today new report says after".split()


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


def synthetic_news(count, seed):
    """(label 1-4, text) pairs: 5-25 words, some from the topic's own words."""
    rng = random.Random(seed)
    labels = list(TOPICS)
    items = []
    for _ in range(count):
        label = rng.randrange(len(labels))
        own = TOPICS[labels[label]].split()
        words = [
            rng.choice(own) if rng.random() < 0.15 else rng.choice(COMMON)
            for _ in range(rng.randint(5, 25))
        ]
        items.append((label + 1, " ".join(words)))
    return items


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


def main():
    parser = argparse.ArgumentParser(description="EmbeddingBag news-topic classifier")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=5.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--deterministic", action="store_true", help="test plumbing: no shuffle, a fixed split"
    )
    parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    train_iter, test_iter = synthetic_news(2000, args.seed), synthetic_news(400, args.seed + 1)
    counter = Counter(word for _, text in train_iter for word in text.split())
    vocab = {"<unk>": 0, **{w: i + 1 for i, (w, _) in enumerate(counter.most_common())}}

    def text_pipeline(x):
        return [vocab.get(token, 0) for token in x.split()]

    def label_pipeline(x):
        return int(x) - 1

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list, text_list, offsets

    model = TextClassificationModel(len(vocab), 64, len(TOPICS))
    share_init(dict(model.named_parameters()), args.init)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    num_train = int(len(train_iter) * 0.95)
    if args.deterministic:
        split_train_, split_valid_ = train_iter[:num_train], train_iter[num_train:]
    else:
        split_train_, split_valid_ = random_split(
            train_iter, [num_train, len(train_iter) - num_train]
        )
    shuffle = not args.deterministic
    train_dataloader = DataLoader(
        split_train_, batch_size=args.batch_size, shuffle=shuffle, collate_fn=collate_batch
    )
    valid_dataloader = DataLoader(
        split_valid_, batch_size=args.batch_size, shuffle=shuffle, collate_fn=collate_batch
    )
    test_dataloader = DataLoader(
        test_iter, batch_size=args.batch_size, shuffle=shuffle, collate_fn=collate_batch
    )

    def train(dataloader, step):
        model.train()
        for label, text, offsets in dataloader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            log(part="train", step=step, loss=loss.item())
            step += 1
        return step

    def evaluate(dataloader):
        model.eval()
        total_acc, total_count, total_loss = 0, 0, 0.0
        with torch.no_grad():
            for label, text, offsets in dataloader:
                predicted_label = model(text, offsets)
                total_loss += criterion(predicted_label, label).item() * label.size(0)
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
        return total_acc / total_count, total_loss / total_count

    total_accu, step = None, 0
    for epoch in range(1, args.epochs + 1):
        step = train(train_dataloader, step)
        accu_val, loss_val = evaluate(valid_dataloader)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        log(
            part="valid",
            step=epoch,
            loss=loss_val,
            accuracy=accu_val,
            lr=scheduler.get_last_lr()[0],
        )
        print("| end of epoch {:3d} | valid accuracy {:8.3f} ".format(epoch, accu_val))
    accu_test, loss_test = evaluate(test_dataloader)
    log(part="test", step=args.epochs, loss=loss_test, accuracy=accu_test)


if __name__ == "__main__":
    main()
