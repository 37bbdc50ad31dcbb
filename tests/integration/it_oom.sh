#!/usr/bin/env bash
# A failed allocation inside a trial fails that trial, never the worker.
# The worker runs with its address space limited (ulimit -v, 1.5 GB) and a
# --max-memory far above it, so its own check lets through a trial that
# needs about 18 GB (hidden 20000, bivariate-lateral: the lateral mask
# alone is 3.2 GB); Linux would overcommit it, the limit makes the
# allocation fail for real. The trial must end "failed" with the trainer's
# "out of memory" message, the worker must live on (no abort, exit 134) and
# train the next campaign's trial. `infomorph train` under the same limit
# exits 1 with that message, not 134.
# RLIMIT_AS does not work under AddressSanitizer (it reserves terabytes of
# address space): this test runs in the release pass only (release-only).
# Usage: it_oom.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

LIMIT_KB=1500000
export OPENBLAS_NUM_THREADS=1
BIG='{"dataset": "mnist10k", "setup": "bivariate-lateral", "hidden": 20000, "epochs": 1, "train_limit": 500, "eval_limit": 300, "batch": 1024}'

# the command: a clear failure, no abort
rc=0
(ulimit -v $LIMIT_KB && exec "$CLI" train --data-dir "$DATA" --set setup=bivariate-lateral \
    --set hidden=20000 --set epochs=1 --set threads=1) >"$T/train.log" 2>&1 || rc=$?
expect_eq "infomorph train's exit status under the limit" 1 "$rc"
grep -q "out of memory: the trial needs about" "$T/train.log" ||
    fail "infomorph train does not say it ran out of memory: $(cat "$T/train.log")"

# the worker: the trial fails, the worker goes on
cat >"$T/limited-worker" <<SH
#!/usr/bin/env bash
ulimit -v $LIMIT_KB
exec "$WORKER" "\$@"
SH
chmod +x "$T/limited-worker"
start_coordinator --lease 30 --max-trial-memory 100
WORKER=$T/limited-worker start_worker w1 --max-memory 100
W1=$WORKER_PID
submit_campaign it-oom 1 "$BIG"
wait_for 60 "the big campaign is done" campaign_is it-oom done
expect_eq "trials failed" 1 "$(sql "SELECT count(*) FROM trials WHERE status = 'failed'")"
expect_eq "attempts (no second worker died on it)" 1 "$(sql "SELECT count(*) FROM trial_attempts")"
sql "SELECT error FROM trials WHERE status = 'failed'" | grep -q "out of memory: the trial needs about" ||
    fail "the trial's error is not the trainer's: $(sql "SELECT error FROM trials")"
it_log "ok: $(sql "SELECT error FROM trials WHERE status = 'failed'")"
kill -0 "$W1" 2>/dev/null || fail "the worker died"
grep -q -i "abort\|core dumped" "$T/w1.log" && fail "the worker aborted"

submit_campaign it-small 1
wait_for 60 "the small campaign is done" campaign_is it-small done
expect_eq "the small trial, done by w1" "done|w1" \
    "$(sql "SELECT t.status, t.worker FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-small'")"
echo "PASS"
