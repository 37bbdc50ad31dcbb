#!/usr/bin/env python3
"""A training program for infomorph's external-command backend, standard
library only: softmax (multinomial logistic) regression on the mnist10k IDX
files, the images pooled 2x2 to 14x14 so that plain Python trains an epoch
of 2000 images in a few seconds.

Protocol (infomorph-worker --exec): the trial arrives as one JSON object on
stdin, {"trial", "attempt", "seed", "params", "user"}; every epoch prints a
progress line {"epoch": E, "val_acc": X, ...}; the last line is the result.

params: lr (learning rate), l2 (weight decay), epochs, batch, init ("zeros"
        or "normal")
user:   data_dir (default $INFOMORPH_DATA, else ./data), dataset (mnist10k),
        train_limit (2000), eval_limit (1000)

Run by hand:  echo '{"seed": 1, "params": {"lr": 0.1}}' | python3 logreg_mnist.py
"""
import array
import gzip
import json
import math
import os
import random
import sys
import time


def read_idx(path):
    """An IDX file (optionally .gz) as (dims, bytes)."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return dims, data[4 + 4 * ndim:]


def load(data_dir, split, limit):
    """Images pooled 2x2 to 196 features in [0, 1] (plus a bias), labels."""
    dims, pixels = read_idx(os.path.join(data_dir, split + "-images-idx3-ubyte"))
    _, labels = read_idx(os.path.join(data_dir, split + "-labels-idx1-ubyte"))
    n = min(dims[0], limit)
    rows, cols = dims[1], dims[2]
    xs = []
    for k in range(n):
        base = k * rows * cols
        img = pixels[base:base + rows * cols]
        x = [1.0]
        for r in range(0, rows, 2):
            for c in range(0, cols, 2):
                i = r * cols + c
                x.append((img[i] + img[i + 1] + img[i + cols] + img[i + cols + 1]) / 1020.0)
        xs.append(x)
    return xs, list(labels[:n])


def scores(w, x):
    """The 10 class scores of x: w is [10][d]."""
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(s):
    m = max(s)
    e = [math.exp(v - m) for v in s]
    z = sum(e)
    return [v / z for v in e]


def evaluate(w, xs, ys):
    """(accuracy, mean cross-entropy)."""
    right, loss = 0, 0.0
    for x, y in zip(xs, ys):
        p = softmax(scores(w, x))
        right += max(range(10), key=lambda k: p[k]) == y
        loss -= math.log(max(p[y], 1e-12))
    return right / len(ys), loss / len(ys)


def main():
    trial = json.loads(sys.stdin.readline())
    p, user = trial.get("params", {}), trial.get("user") or {}
    lr, l2 = float(p.get("lr", 0.1)), float(p.get("l2", 1e-4))
    epochs, batch = int(p.get("epochs", 3)), int(p.get("batch", 32))
    data_dir = os.path.join(user.get("data_dir") or os.environ.get("INFOMORPH_DATA") or "data",
                            user.get("dataset", "mnist10k"))
    rng = random.Random(trial.get("seed", 0))
    train = load(data_dir, "train", int(user.get("train_limit", 2000)))
    val = load(data_dir, "val", int(user.get("eval_limit", 1000)))
    test = load(data_dir, "test", int(user.get("eval_limit", 1000)))
    d = len(train[0][0])
    sd = 0.01 if p.get("init", "zeros") == "normal" else 0.0
    w = [[rng.gauss(0, sd) for _ in range(d)] for _ in range(10)]
    order = list(range(len(train[1])))
    print("training %d images, %d features, lr %g, l2 %g" % (len(order), d, lr, l2),
          file=sys.stderr)
    for epoch in range(epochs):
        start = time.monotonic()
        rng.shuffle(order)
        for b in range(0, len(order), batch):
            grad = [[0.0] * d for _ in range(10)]
            idx = order[b:b + batch]
            for i in idx:
                x, y = train[0][i], train[1][i]
                q = softmax(scores(w, x))
                q[y] -= 1.0
                for k in range(10):
                    if q[k]:
                        g, qk = grad[k], q[k]
                        for j in range(d):
                            g[j] += qk * x[j]
            step = lr / len(idx)
            for k in range(10):
                row, g = w[k], grad[k]
                for j in range(d):
                    row[j] -= step * g[j] + lr * l2 * row[j]
        val_acc, val_loss = evaluate(w, *val)
        print(json.dumps({"epoch": epoch + 1, "val_acc": val_acc, "val_loss": val_loss,
                          "seconds": time.monotonic() - start}), flush=True)
    val_acc, val_loss = evaluate(w, *val)
    test_acc, _ = evaluate(w, *test)
    print(json.dumps({"val_acc": val_acc, "val_loss": val_loss, "test_acc": test_acc}))


if __name__ == "__main__":
    main()
