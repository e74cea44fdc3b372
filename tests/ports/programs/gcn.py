# ruff: noqa: UP032  (str.format, as the example this follows writes it)
"""Semi-supervised node classification with a two-layer graph convolutional network.

The graph is generated (a stochastic block model: dense inside four communities, sparse between
them) with noisy bag-of-words features; the symmetric-normalised adjacency with self-loops is a
sparse COO tensor, and only a few labelled nodes per class are trained on.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter


def log(**fields):
    """One JSON line per logged step (the ports test harness reads the loss curve from these)."""
    print(json.dumps(fields), flush=True)


def share_init(tensors, path):
    """Test plumbing for the ports harness, not part of the example: the first run writes its
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


# ---------------------------------------------------------------- data
def normalize(mx):
    """Row-normalise a sparse matrix."""
    rowsum = np.array(mx.sum(1))
    r_inv = np.power(rowsum, -1.0).flatten()
    r_inv[np.isinf(r_inv)] = 0.0
    return sp.diags(r_inv).dot(mx)


def sym_normalize(adj):
    """D^-1/2 A D^-1/2."""
    d_inv_sqrt = np.power(np.array(adj.sum(1)), -0.5).flatten()
    d_inv_sqrt[np.isinf(d_inv_sqrt)] = 0.0
    d = sp.diags(d_inv_sqrt)
    return d.dot(adj).dot(d)


def sparse_mx_to_torch_sparse_tensor(sparse_mx):
    sparse_mx = sparse_mx.tocoo().astype(np.float32)
    indices = torch.from_numpy(np.vstack((sparse_mx.row, sparse_mx.col)).astype(np.int64))
    values = torch.from_numpy(sparse_mx.data)
    shape = torch.Size(sparse_mx.shape)
    return torch.sparse_coo_tensor(indices, values, shape)


def load_data(n_nodes=200, n_classes=4, n_feats=60, seed=0):
    """A stochastic block model with community-flavoured binary features."""
    rng = np.random.default_rng(seed)
    community = rng.integers(0, n_classes, n_nodes)
    same = community[:, None] == community[None, :]
    probs = np.where(same, 0.08, 0.006)
    upper = np.triu(rng.random((n_nodes, n_nodes)) < probs, 1)
    adj = sp.coo_matrix((upper | upper.T).astype(np.float32))

    topic = rng.random((n_classes, n_feats)) < 0.15  # each community favours some words
    p_word = np.where(topic[community], 0.35, 0.05)
    features = sp.csr_matrix((rng.random((n_nodes, n_feats)) < p_word).astype(np.float32))

    features = normalize(features)
    adj = sym_normalize(adj + sp.eye(adj.shape[0]))

    labels = np.eye(n_classes)[community]  # one-hot, as datasets usually ship them
    order = rng.permutation(n_nodes)
    idx_train = np.concatenate([order[community[order] == c][:5] for c in range(n_classes)])
    rest = np.setdiff1d(order, idx_train)
    idx_val, idx_test = rest[:60], rest[60:]

    features = torch.FloatTensor(np.array(features.todense()))
    labels = torch.LongTensor(np.where(labels)[1])
    adj = sparse_mx_to_torch_sparse_tensor(adj)
    masks = []
    for idx in (idx_train, idx_val, idx_test):
        mask = torch.zeros(n_nodes, dtype=torch.bool)
        mask[torch.LongTensor(idx)] = True
        masks.append(mask)
    return adj, features, labels, masks


# ---------------------------------------------------------------- model
class GraphConvolution(Module):
    """One GCN layer: A_hat @ (X @ W) + b."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        if self.bias is not None:
            return output + self.bias
        return output

    def __repr__(self):
        return f"{self.__class__.__name__} ({self.in_features} -> {self.out_features})"


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


# ---------------------------------------------------------------- training
parser = argparse.ArgumentParser()
parser.add_argument("--no-cuda", action="store_true", default=False)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--weight_decay", type=float, default=5e-4)
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--dropout", type=float, default=0.5)
parser.add_argument("--init", default="", help="test plumbing: shared initial weights (.npz)")
args = parser.parse_args()
args.cuda = not args.no_cuda and torch.cuda.is_available()

np.random.seed(args.seed)
torch.manual_seed(args.seed)

adj, features, labels, (train_mask, val_mask, test_mask) = load_data()
model = GCN(
    nfeat=features.shape[1], nhid=args.hidden, nclass=labels.max().item() + 1, dropout=args.dropout
)
share_init(dict(model.named_parameters()), args.init)
print(model)
optimizer = optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def train(epoch):
    t = time.time()
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss_train = F.nll_loss(output[train_mask], labels[train_mask])
    acc_train = accuracy(output[train_mask], labels[train_mask])
    loss_train.backward()
    optimizer.step()

    model.eval()
    output = model(features, adj)
    loss_val = F.nll_loss(output[val_mask], labels[val_mask])
    acc_val = accuracy(output[val_mask], labels[val_mask])
    if epoch % 10 == 0:
        print(
            "Epoch: {:04d}".format(epoch + 1),
            "loss_train: {:.4f}".format(loss_train.item()),
            "acc_train: {:.4f}".format(acc_train.item()),
            "loss_val: {:.4f}".format(loss_val.item()),
            "acc_val: {:.4f}".format(acc_val.item()),
            "time: {:.4f}s".format(time.time() - t),
        )
    log(part="train", step=epoch, loss=loss_train.item())
    log(part="val", step=epoch, loss=loss_val.item(), accuracy=acc_val.item())


def test():
    model.eval()
    output = model(features, adj)
    loss_test = F.nll_loss(output[test_mask], labels[test_mask])
    acc_test = accuracy(output[test_mask], labels[test_mask])
    print(
        "Test set results:",
        "loss= {:.4f}".format(loss_test.item()),
        "accuracy= {:.4f}".format(acc_test.item()),
    )
    log(part="test", step=args.epochs, loss=loss_test.item(), accuracy=acc_test.item())

    # baseline: spread the training labels two hops over the graph, no learning
    seeds = F.one_hot(labels, num_classes=output.size(1)).float() * train_mask.float().unsqueeze(1)
    spread = torch.sparse.mm(adj, torch.sparse.mm(adj, seeds))
    print(
        "two-hop label propagation accuracy= {:.4f}".format(
            accuracy(spread[test_mask], labels[test_mask]).item()
        )
    )


t_total = time.time()
for epoch in range(args.epochs):
    train(epoch)
print("Optimization Finished!")
print("Total time elapsed: {:.4f}s".format(time.time() - t_total))
test()
