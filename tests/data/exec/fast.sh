#!/bin/sh
# A trial command that returns at once (the overhead benchmark's).
echo '{"val_acc": 0.5, "loss": 1}'
