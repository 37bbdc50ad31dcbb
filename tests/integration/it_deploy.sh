#!/usr/bin/env bash
# deploy/: the systemd units and the Slurm batch script, checked without
# systemd or Slurm running: `systemd-analyze verify` on the units (their
# programs pointed at this build; skipped with a message where
# systemd-analyze is missing), `bash -n` and a dry run of the worker commands
# the batch script builds, then the batch script run for real with two
# workers against a coordinator on loopback: a SIGTERM as Slurm sends at the
# time limit stops both workers cleanly (exit 0) and the trial being trained
# is queued again at once.
# Usage: it_deploy.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SBATCH=$ROOT/deploy/slurm/workers.sbatch

# ---- systemd units
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T/units"
    for u in infomorph-coordinator.service infomorph-worker@.service; do
        sed -e "s|/usr/local/bin/infomorph-coordinator|$(cd "$(dirname "$COORD")" && pwd)/$(basename "$COORD")|" \
            -e "s|/usr/local/bin/infomorph-worker|$(cd "$(dirname "$WORKER")" && pwd)/$(basename "$WORKER")|" \
            -e "s|EnvironmentFile=/etc/infomorph/infomorph.env|EnvironmentFile=$ROOT/deploy/systemd/infomorph.env|" \
            "$ROOT/deploy/systemd/$u" >"$T/units/$u"
    done
    cp "$T/units/infomorph-worker@.service" "$T/units/infomorph-worker@1.service"
    # verify exits 0 on unknown keys and bad values (it only warns): any
    # message about our units fails the test.
    if ! systemd-analyze verify "$T/units/infomorph-coordinator.service" \
        "$T/units/infomorph-worker@1.service" >"$T/verify.log" 2>&1 ||
        grep -q "infomorph" "$T/verify.log"; then
        fail "systemd-analyze verify: $(cat "$T/verify.log")"
    fi
    it_log "ok: systemd-analyze verify accepts both units"
    for key in NoNewPrivileges=yes ProtectSystem=strict KillSignal=SIGTERM Restart=on-failure; do
        for u in infomorph-coordinator.service infomorph-worker@.service; do
            grep -q "^$key\$" "$ROOT/deploy/systemd/$u" || fail "$u lacks $key"
        done
    done
    grep -q '^StateDirectory=infomorph$' "$ROOT/deploy/systemd/infomorph-coordinator.service" ||
        fail "the coordinator's unit has no StateDirectory"
else
    it_log "SKIPPED: systemd-analyze is not installed here; the units were not verified"
fi

# ---- the batch script: syntax, refusals, dry run
bash -n "$SBATCH" || fail "bash -n $SBATCH"
it_log "ok: bash -n accepts workers.sbatch"
set +e
env -u INFOMORPH_CONNECT "$SBATCH" >"$T/noconnect.out" 2>&1
rc=$?
INFOMORPH_CONNECT=tcp://h:1 INFOMORPH_KEYS=$T/nokeys "$SBATCH" >"$T/nokeys.out" 2>&1
rc2=$?
set -e
expect_eq "exit status without INFOMORPH_CONNECT" 2 "$rc"
grep -q "set INFOMORPH_CONNECT" "$T/noconnect.out" || fail "no message: $(cat "$T/noconnect.out")"
expect_eq "exit status with a missing key file" 2 "$rc2"
grep -q "cannot read key file '$T/nokeys/coordinator.pub'" "$T/nokeys.out" ||
    fail "no message: $(cat "$T/nokeys.out")"

INFOMORPH_CONNECT=tcp://head:5555 SLURM_CPUS_PER_TASK=3 SLURM_ARRAY_JOB_ID=77 \
    SLURM_ARRAY_TASK_ID=2 INFOMORPH_WORKER="$WORKER" INFOMORPH_DATA="$DATA" INFOMORPH_DRY_RUN=1 \
    "$SBATCH" >"$T/dry.out" 2>&1 || fail "dry run: $(cat "$T/dry.out")"
expect_eq "worker commands (one per CPU)" 3 "$(wc -l <"$T/dry.out")"
expect_eq "commands with --threads 1" 3 "$(grep -c -- ' --threads 1 ' "$T/dry.out")"
expect_eq "commands connecting to the coordinator" 3 "$(grep -c -- ' --connect tcp://head:5555 ' "$T/dry.out")"
expect_eq "distinct worker names" 3 "$(grep -o -- '--name [^ ]*' "$T/dry.out" | sort -u | wc -l)"
grep -q -- "--name [^ ]*-77-2-3 " "$T/dry.out" || fail "names lack job, task and index: $(cat "$T/dry.out")"
# every option the script passes is one the worker takes
"$WORKER" --help >"$T/worker-help.out"
for opt in $(grep -o -- ' --[a-z-]*' "$T/dry.out" | sort -u); do
    grep -q -- "$opt " "$T/worker-help.out" || fail "the worker has no option $opt"
done
it_log "ok: the dry run builds one worker command per CPU with --threads 1"

# ---- for real: two workers, SIGTERM as at the time limit
start_coordinator --lease 30
TRAIN='{"dataset": "mnist10k", "hidden": 100, "epochs": 8, "eval_limit": 300, "batch": 512}'
submit_campaign it-deploy 1 "$TRAIN"
INFOMORPH_CONNECT=$WEND SLURM_CPUS_PER_TASK=2 SLURM_ARRAY_JOB_ID=5 SLURM_ARRAY_TASK_ID=0 \
    INFOMORPH_WORKER="$WORKER" INFOMORPH_DATA="$DATA" "$SBATCH" >"$T/sbatch.log" 2>&1 &
JOB=$!
IT_PIDS+=("$JOB")
wait_for 60 "a worker of the job trains" grep -q "epoch 0:" "$T/sbatch.log"
expect_eq "workers of the job" 2 "$(pgrep -P "$JOB" | wc -l)"
it_log "SIGTERM to the batch script (pid $JOB), as Slurm at the time limit"
kill -TERM "$JOB"
end=$((SECONDS + 30))
while kill -0 "$JOB" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "the batch script did not leave within 30 s of SIGTERM"
    sleep 0.2
done
set +e
wait "$JOB"
rc=$?
set -e
expect_eq "the batch script's exit status" 0 "$rc"
expect_eq "workers that stopped" 2 "$(grep -c "stopped after" "$T/sbatch.log")"
expect_eq "the trial, queued again at once" "queued" "$(sql "SELECT status FROM trials")"
expect_eq "its first attempt, ended as interrupted" 1 \
    "$(sql "SELECT status = 'interrupted' OR (status = 'lost' AND error LIKE '%interrupted%') FROM trial_attempts WHERE attempt = 1")"
# queued again at once: long before the 30 s lease could have run out
expect_eq "seconds from the interruption to the re-queue (< 10)" 1 \
    "$(sql "SELECT (julianday(ended_at) - julianday(started_at)) * 86400 < 10 FROM trial_attempts WHERE attempt = 1")"
echo "PASS"
