#!/bin/sh
# A trial command that fails: a message on stderr, exit status 1.
cat >/dev/null
echo '{"epoch": 0, "val_acc": 0.1}'
echo "boom: the model diverged" >&2
exit 1
