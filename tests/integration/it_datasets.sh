#!/usr/bin/env bash
# A campaign on a dataset that no connected worker has: the coordinator
# hands its trials to no one, warns once per worker and dataset (log line
# and "dataset_missing" event, however often the worker asks), and status
# says why the campaign waits; `infomorph workers` shows each worker's
# datasets (a folder whose name the wire cannot carry is skipped with one
# warning). Then a worker that has the dataset arrives and completes it.
# Usage: it_datasets.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

# w1 has mnist10k only; w2 has the same files under the name mnist-b
mkdir -p "$T/data1" "$T/data2"
ln -s "$DATA/mnist10k" "$T/data1/mnist10k"
ln -s "$DATA/mnist10k" "$T/data2/mnist-b"
# a folder whose name the wire cannot carry (200 bytes): w1 skips it with one
# warning and is still served
LONG=$(printf 'x%.0s' $(seq 200))
mkdir -p "$T/data1/$LONG"
: >"$T/data1/$LONG/train-images-idx3-ubyte"

start_coordinator --lease 30
start_worker w1 --data-dir "$T/data1"
TRAIN='{"dataset": "mnist-b", "hidden": 8, "epochs": 1, "train_limit": 500, "eval_limit": 300, "batch": 256}'
submit_campaign it-datasets 2 "$TRAIN"

warned() { grep -q "lacks dataset 'mnist-b'" "$T/coordinator.log"; }
wait_for 20 "the coordinator warns that w1 lacks mnist-b" warned
sleep 3 # w1 keeps asking (NOJOB retry 1 s): still one warning, one event
expect_eq "warnings in the log" 1 "$(grep -c "lacks dataset 'mnist-b'" "$T/coordinator.log")"
expect_eq "dataset_missing events" "1|w1" \
    "$(sql "SELECT count(*), group_concat(worker) FROM events WHERE kind = 'dataset_missing'")"
sql "SELECT detail FROM events WHERE kind = 'dataset_missing'" | grep -q "mnist-b" ||
    fail "the event does not name the dataset"
expect_eq "trials handed out" 0 "$(sql "SELECT count(*) FROM trials WHERE attempt > 0")"
expect_eq "w1's warnings about the odd folder" 1 "$(grep -c "is not a dataset name" "$T/w1.log")"

"$CLI" status it-datasets >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -qF "waiting: no connected worker has dataset 'mnist-b' (workers: w1 has mnist10k)" \
    "$T/status.out" || fail "status does not say why the campaign waits: $(cat "$T/status.out")"
it_log "ok: $(grep waiting: "$T/status.out")"
"$CLI" workers >"$T/workers.out" 2>&1 || fail "workers: $(cat "$T/workers.out")"
grep -E "^w1 .* mnist10k$" "$T/workers.out" >/dev/null ||
    fail "workers does not show w1's datasets: $(cat "$T/workers.out")"

start_worker w2 --data-dir "$T/data2"
wait_for 60 "the campaign is done" campaign_is it-datasets done
expect_eq "trials done by w2" "2|w2" \
    "$(sql "SELECT count(*), group_concat(DISTINCT worker) FROM trials WHERE status = 'done'")"
"$CLI" status it-datasets >"$T/status2.out" 2>&1 || fail "status: $(cat "$T/status2.out")"
grep -q "waiting:" "$T/status2.out" && fail "a done campaign still waits: $(cat "$T/status2.out")"
expect_eq "warnings in the log at the end" 1 "$(grep -c "lacks dataset" "$T/coordinator.log")"
echo "PASS"
