#!/usr/bin/env python3
"""A trial command for the integration tests: what it does depends on the
trial's parameter "mode" (default "quad"):

  quad     a noisy quadratic of x, lr (log), layers and act: progress lines
           and a result {"loss": ..., "val_acc": ...} (the loss is lowest
           near x = 0.3, lr = 0.01, layers = 2, act = "tanh")
  ok       a result {"val_acc": 0.5, "loss": 1}
  good     three epochs at val_acc 0.9, then the result
  fail     a message on stderr, exit status 1
  garbage  lines that are not a result
  hang     never ends (writes its pid to the file named by user.pid_dir)
  crash    killed by SIGKILL
  slow     an epoch a second for a long time (to be interrupted)
"""
import json
import math
import os
import random
import signal
import sys
import time

trial = json.loads(sys.stdin.readline())
p = trial["params"]
user = trial.get("user") or {}
mode = p.get("mode", "quad")

if mode == "quad":
    rng = random.Random(trial["seed"] * 1000003 + trial["trial"])
    x, lr = float(p.get("x", 0.3)), float(p.get("lr", 0.01))
    layers, act = int(p.get("layers", 2)), p.get("act", "tanh")
    loss = ((x - 0.3) ** 2 + (math.log10(lr) + 2) ** 2 / 4 + 0.1 * (layers - 2) ** 2
            + (0 if act == "tanh" else 0.5) + float(user.get("offset", 0)))
    for epoch in range(3):
        print(json.dumps({"epoch": epoch, "val_acc": 0.1 * (epoch + 1), "loss": loss + 1 - epoch / 3}),
              flush=True)
    loss += rng.gauss(0, 0.001)
    print(json.dumps({"loss": loss, "val_acc": 1 / (1 + loss), "layers_used": layers}))
elif mode == "ok":
    print(json.dumps({"val_acc": 0.5, "loss": 1}))
elif mode == "good":
    for epoch in range(3):
        print(json.dumps({"epoch": epoch, "val_acc": 0.9}), flush=True)
    print(json.dumps({"val_acc": 0.9, "loss": 0.1}))
elif mode == "fail":
    print("diverged at step 17", file=sys.stderr)
    sys.exit(1)
elif mode == "garbage":
    print("hello")
    print("{not json")
elif mode == "hang":
    if user.get("pid_dir"):
        with open(os.path.join(user["pid_dir"], "hang-%d.pid" % trial["trial"]), "w") as f:
            f.write(str(os.getpid()))
    while True:
        time.sleep(1)
elif mode == "crash":
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "slow":
    if user.get("pid_dir"):
        with open(os.path.join(user["pid_dir"], "slow-%d.pid" % trial["trial"]), "w") as f:
            f.write(str(os.getpid()))
    for epoch in range(1000):
        print(json.dumps({"epoch": epoch, "val_acc": 0.1}), flush=True)
        time.sleep(1)
    print(json.dumps({"val_acc": 0.2, "loss": 1}))
