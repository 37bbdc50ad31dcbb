#!/usr/bin/env bash
# Epochs longer than the lease: the worker's HEARTBEATs (every lease/3, sent
# by the main thread while the training thread computes) keep the lease, so
# the trial completes on its first attempt and no attempt is lost.
# Usage: it_heartbeat.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

# epochs of well over the lease (about 0.5 s in a release build, several
# seconds with sanitizers): only heartbeats keep the lease during them
TRAIN='{"dataset": "mnist10k", "hidden": 600, "epochs": 2, "batch": 1024}'
start_coordinator --lease 0.25
start_worker wa
submit_campaign it-heartbeat 1 "$TRAIN"
wait_for 90 "the campaign is done" campaign_is it-heartbeat done

expect_eq "the trial: status, attempt, worker" "done|1|wa" "$(sql "SELECT status, attempt, worker FROM trials")"
expect_eq "attempts (none lost)" "1|done" "$(sql "SELECT count(*), group_concat(status) FROM trial_attempts")"
expect_ge "heartbeats sent" 2 "$(grep -c 'HEARTBEAT sent' "$T/wa.log")"
expect_ge "slowest epoch, longer than the lease (ms)" 250 "$(sql "SELECT CAST(max(seconds) * 1000 AS INTEGER) FROM trial_epochs")"
echo "PASS"
