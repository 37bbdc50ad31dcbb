#!/usr/bin/env python3
"""A well-behaved trial command: reads the trial, prints progress, a line
that is not JSON, and the result (the params and seed echoed back)."""
import json
import sys

trial = json.loads(sys.stdin.readline())
params = trial["params"]
x = float(params.get("x", 0.5))
print("starting (this line is not JSON)", flush=True)
for epoch in range(3):
    print(json.dumps({"epoch": epoch, "val_acc": 0.1 * (epoch + 1), "loss": 3.0 - epoch}),
          flush=True)
print(json.dumps({"val_acc": 0.5, "test_acc": 0.25, "loss": (x - 0.3) ** 2 - 7.0,
                  "seed": trial["seed"], "trial": trial["trial"], "params": params,
                  "user": trial["user"]}))
