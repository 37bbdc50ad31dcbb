#!/bin/sh
# A trial command that prints an epoch every 50 ms for a long time (to be
# pruned or interrupted).
i=0
while [ $i -lt 2000 ]; do
  echo "{\"epoch\": $i, \"val_acc\": 0.1}"
  i=$((i + 1))
  sleep 0.05
done
echo '{"val_acc": 0.9}'
