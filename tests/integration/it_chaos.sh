#!/usr/bin/env bash
# Chaos: a fixed campaign of small deterministic trials, run once without
# faults (the reference) and once while a seeded random schedule kills the
# coordinator and the workers with kill -9 and restarts them (the coordinator
# on the same database and endpoints). After the chaos run the campaign is
# done, every trial is done exactly once (one done attempt, each (point,
# seed) once, nothing running, no trial failed) and every result (val_acc,
# test_acc, the curve, the atoms) is identical to the reference's: training is
# deterministic for a seed with one thread.
# IM_CHAOS_SEED picks another schedule (default 5).
# Usage: it_chaos.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

SEED=${IM_CHAOS_SEED:-5}
N_POINTS=20
SEEDS=2
N_TRIALS=$((N_POINTS * SEEDS))
N_WORKERS=3
KILLS=10
LEASE=3
EPOCHS=2
# a quarter of a second per trial on an idle machine: long enough for a kill
# to fall inside trials, short enough for 40 trials twice within the limit
TRAIN='{"dataset": "mnist10k", "hidden": 32, "epochs": '$EPOCHS', "eval_limit": 300, "batch": 512}'

points=""
for i in $(seq 0 $((N_POINTS - 1))); do
    points+="${points:+, }{\"f_c\": 0.$((i * 4 % 10))$((i % 10)), \"h_res\": -0.$((i % 7))}"
done
cat >"$T/chaos.json" <<JSON
{"name": "it-chaos", "kind": "fixed", "train": $TRAIN, "points": [$points],
 "seeds_per_point": $SEEDS}
JSON

# Every result of the campaign, one line per (point, seed), exact to the bit:
# val_acc, test_acc, the curve, the PID atoms.
results() {
    sqlite3 -batch -noheader -cmd ".timeout 5000" "$1" "
        SELECT t.point, t.seed, printf('%.17g %.17g', t.val_acc, t.test_acc),
               (SELECT group_concat(printf('%d:%.17g/%.17g/%.17g', e.epoch, e.train_acc, e.val_acc,
                                           e.test_acc), ' ')
                  FROM (SELECT * FROM trial_epochs WHERE trial_id = t.id ORDER BY epoch) AS e),
               (SELECT group_concat(printf('%s.%s=%.17g', a.layer, a.name, a.value), ' ')
                  FROM (SELECT * FROM trial_atoms WHERE trial_id = t.id ORDER BY layer, name) AS a)
          FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id
         WHERE c.name = 'it-chaos' ORDER BY t.point, t.seed"
}

declare -A WPID
start_workers() {
    local i
    for i in $(seq 1 $N_WORKERS); do
        start_worker "w$i"
        WPID[$i]=$WORKER_PID
    done
}

# kill_hard PID, and drop PID from the cleanup's list: the schedule reaps
# many programs, and a number reused by the system must not get a signal
kill_and_forget() {
    local p keep=()
    kill_hard "$1"
    for p in "${IT_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    IT_PIDS=("${keep[@]}")
}

# SIGTERM to the coordinator and the workers, the clean stop; all reaped
stop_all() {
    local p
    for p in "$COORD_PID" "${WPID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "$COORD_PID" "${WPID[@]}"; do wait "$p" 2>/dev/null || true; done
    IT_PIDS=()
}

# ---- the reference: no faults
DB=$T/reference.db
start_coordinator --lease $LEASE
start_workers
"$CLI" submit "$T/chaos.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"
wait_for 50 "the reference campaign is done" campaign_is it-chaos done
stop_all
results "$DB" >"$T/reference.txt"
expect_eq "reference results" $N_TRIALS "$(grep -c . "$T/reference.txt")"
# no two trials alike, so that a result recorded for the wrong trial shows
expect_eq "distinct reference results" $N_TRIALS "$(cut -d'|' -f3- "$T/reference.txt" | sort -u | grep -c .)"
it_log "reference done in ${SECONDS}s"

# ---- the same campaign under kill -9 of either side, on fresh endpoints
DB=$T/chaos.db
WEND="" CEND=""
mv "$T/coordinator.log" "$T/reference-coordinator.log"
start_coordinator --lease $LEASE
start_workers
"$CLI" submit "$T/chaos.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"

# The schedule follows the campaign's progress, not the clock, so that it
# falls in the middle of the campaign on an idle machine as on a busy one:
# each kill waits until one more trial is done, then 0..0.09 s more, and hits
# the coordinator or one of the workers. From then until the victim is dead
# and started again the workers are paused (SIGSTOP, well under a lease; but
# they run on while the coordinator is down), so that how fast this script
# runs does not decide how many trials finish between two kills. A trial
# whose lease runs out a third time fails by design (LIFECYCLE_MAX_ATTEMPTS):
# so a worker holding a trial that already lost two attempts to this
# schedule is spared (the coordinator is killed instead), and any failed
# trial is a finding. The coordinator is killed at most MAX_COORD_KILLS
# times, below the cap of interrupted attempts.
MAX_COORD_KILLS=6
RANDOM=$SEED
declare -A KILLED_ATTEMPT KILLED_TRIAL
done_at_least() { [ "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")" -ge "$1" ]; }
# the running attempts ("trial:attempt") recorded for worker NAME
held_by() { sql "SELECT id || ':' || attempt FROM trials WHERE status = 'running' AND worker = '$1'"; }
spared() {
    local ta
    for ta in $(held_by "w$1"); do
        [ "${KILLED_TRIAL[${ta%:*}]:-0}" -lt 2 ] || return 0
    done
    return 1
}
# pause_others I STOP|CONT: signal every worker but wI (0: all of them)
pause_others() {
    local i
    for i in "${!WPID[@]}"; do [ "$i" = "$1" ] || kill -"$2" "${WPID[$i]}"; done
}
kills=0 coord_kills=0 worker_kills=0
while [ $kills -lt $KILLS ]; do
    target=$(($(sql "SELECT count(*) FROM trials WHERE status = 'done'") + 1))
    end=$((SECONDS + 40))
    until done_at_least $target; do
        campaign_is it-chaos done && fail "the campaign ended after $kills kills, before the last"
        [ $SECONDS -lt $end ] || fail "timed out waiting until $target trials are done"
        sleep 0.05
    done
    sleep "0.0$((RANDOM % 10))"
    pause_others 0 STOP
    victim=$((RANDOM % (N_WORKERS + 1)))
    # the last kill makes sure that both sides were hit
    if [ $kills = $((KILLS - 1)) ]; then
        [ $coord_kills = 0 ] && victim=0
        [ $worker_kills = 0 ] && victim=$((1 + RANDOM % N_WORKERS))
    fi
    [ $victim != 0 ] && spared $victim && victim=0
    if [ $victim = 0 ] && [ $coord_kills -ge $MAX_COORD_KILLS ]; then
        pause_others 0 CONT
        continue
    fi
    kills=$((kills + 1))
    state=$(sql "SELECT group_concat(status || ':' || n) FROM
                 (SELECT status, count(*) AS n FROM trials GROUP BY status)")
    if [ $victim = 0 ]; then
        coord_kills=$((coord_kills + 1))
        it_log "kill $kills: the coordinator (pid $COORD_PID) at $state"
        kill_and_forget "$COORD_PID"
        # the workers go on without it for 0.1..0.4 s (a trial that ends
        # keeps its result until a coordinator acknowledges it)
        pause_others 0 CONT
        sleep "0.$((1 + RANDOM % 4))"
        pause_others 0 STOP
        start_coordinator --lease $LEASE
        pause_others 0 CONT
    else
        worker_kills=$((worker_kills + 1))
        it_log "kill $kills: worker w$victim (pid ${WPID[$victim]}) at $state"
        kill_and_forget "${WPID[$victim]}"
        # what the dead worker held (and earlier ones of its name, not yet
        # expired: counted once per attempt)
        for ta in $(held_by "w$victim"); do
            [ -n "${KILLED_ATTEMPT[$ta]:-}" ] && continue
            KILLED_ATTEMPT[$ta]=1
            KILLED_TRIAL[${ta%:*}]=$((${KILLED_TRIAL[${ta%:*}]:-0} + 1))
        done
        start_worker "w$victim"
        WPID[$victim]=$WORKER_PID
        pause_others $victim CONT
    fi
done
it_log "$kills kills ($coord_kills of the coordinator, $worker_kills of workers)"
expect_ge "coordinator kills" 1 $coord_kills
expect_ge "worker kills" 1 $worker_kills
wait_for 50 "the campaign is done after the chaos" campaign_is it-chaos done
stop_all

not_done=$(sql "SELECT t.id || ' ' || t.status || ' ' || coalesce(t.error, '') || ': ' ||
                       (SELECT group_concat(a.attempt || ' ' || a.worker || ' ' || a.status, ', ')
                          FROM trial_attempts AS a WHERE a.trial_id = t.id)
                  FROM trials AS t WHERE t.status != 'done'")
[ -z "$not_done" ] || fail "trials not done (id status error: attempts): $not_done"
expect_eq "trials" "$N_TRIALS" "$(sql "SELECT count(*) FROM trials")"
expect_eq "trials done" "$N_TRIALS" "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "trials running or queued" 0 \
    "$(sql "SELECT count(*) FROM trials WHERE status IN ('running', 'queued')")"
expect_eq "attempts running" 0 "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'running'")"
expect_eq "distinct (point, seed)" "$N_TRIALS" \
    "$(sql "SELECT count(*) FROM (SELECT DISTINCT point, seed FROM trials)")"
expect_eq "done attempts" "$N_TRIALS" "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'done'")"
expect_eq "trials with one done attempt" "$N_TRIALS" \
    "$(sql "SELECT count(DISTINCT trial_id) FROM trial_attempts WHERE status = 'done'")"
expect_eq "curve rows (epochs 0..$EPOCHS per trial)" $((N_TRIALS * (EPOCHS + 1))) \
    "$(sql "SELECT count(*) FROM trial_epochs")"
expect_eq "trials with atoms" "$N_TRIALS" "$(sql "SELECT count(DISTINCT trial_id) FROM trial_atoms")"
it_log "attempts: $(sql "SELECT group_concat(status || ':' || n) FROM
                     (SELECT status, count(*) AS n FROM trial_attempts GROUP BY status)")"
expect_ge "attempts cut short (interrupted or lost)" 1 \
    "$(sql "SELECT count(*) FROM trial_attempts WHERE status IN ('interrupted', 'lost')")"
expect_eq "integrity" ok "$(sql "PRAGMA integrity_check")"
results "$DB" >"$T/chaos.txt"
diff "$T/reference.txt" "$T/chaos.txt" >"$T/results.diff" ||
    fail "results differ from the fault-free run: $(head -20 "$T/results.diff")"
it_log "ok: all $N_TRIALS results identical to the fault-free run"
it_log "done in ${SECONDS}s"
echo "PASS"
