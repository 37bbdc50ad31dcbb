#!/bin/sh
# A trial command that ignores SIGTERM: only SIGKILL ends it.
trap '' TERM
echo '{"epoch": 0, "val_acc": 0.1}'
while :; do sleep 0.1; done
