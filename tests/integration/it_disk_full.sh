#!/usr/bin/env bash
# The coordinator's database on a full filesystem, and on a read-only one.
#  - A campaign with learning curves runs on a small tmpfs; the filesystem is
#    then filled: the coordinator's next write fails, and it stops (exit
#    status 1) with a message naming the database file and the cause; it
#    sends no reply of the failed pass. After space is freed the database
#    is intact (PRAGMA integrity_check), every result a worker saw
#    acknowledged is in it, and a restart on the same database finishes the
#    campaign with every trial done exactly once.
#  - On a read-only filesystem the coordinator refuses to start, with a
#    message naming the database file, and leaves the file as it was.
# Needs root (a tmpfs mounted in a private mount namespace, unshare -m, so
# nothing is visible outside the test): otherwise it is skipped (exit status
# 77) with a message saying why.
# Usage: it_disk_full.sh COORDINATOR WORKER CLI
skip() {
    echo "SKIPPED: $*" >&2
    exit 77
}
if [ -z "${IM_DISK_FULL_NS:-}" ]; then
    [ "$(id -u)" = 0 ] || skip "not root: the test mounts a small tmpfs (CI runs this as root)"
    command -v unshare >/dev/null || skip "no unshare command (util-linux)"
    unshare -m --propagation private true 2>/dev/null ||
        skip "cannot make a mount namespace (unshare -m failed)"
    IM_DISK_FULL_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
it_init "$@"

FS=$T/fs
mkdir -p "$FS"
mount -t tmpfs -o size=4m tmpfs "$FS" || skip "cannot mount a tmpfs (mount -t tmpfs failed)"
# detach it before it_cleanup removes $T (the namespace ends with the test)
trap 'rc=$?; umount -l "$FS" 2>/dev/null || true; (exit $rc); it_cleanup' EXIT
DB=$FS/trials.db

BUDGET=12
EPOCHS=4
TRAIN='{"dataset": "mnist10k", "hidden": 16, "epochs": '$EPOCHS', "train_limit": 2000, "eval_limit": 300, "batch": 512}'
start_coordinator --lease 10
start_worker w1
W1=$WORKER_PID
start_worker w2
W2=$WORKER_PID
submit_campaign it-disk-full $BUDGET "$TRAIN"

done_at_least() { [ "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")" -ge "$1" ]; }
wait_for 40 "3 trials are done" done_at_least 3

# fill the filesystem: the next write of the database that needs a new page
# fails (the write-ahead log grows with every result)
dd if=/dev/zero of="$FS/filler" bs=16k status=none 2>/dev/null || true
it_log "filesystem full: $(df -k --output=avail "$FS" | tail -1) KiB free, $(sql "SELECT count(*) FROM trials WHERE status = 'done'") trials done"

coordinator_stopped() { ! kill -0 "$COORD_PID" 2>/dev/null; }
wait_for 40 "the coordinator stops on the failed write" coordinator_stopped
rc=0
wait "$COORD_PID" || rc=$?
expect_eq "the coordinator's exit status" 1 "$rc"
grep -E "ERROR" "$T/coordinator.log" | tail -3
grep -q "database or disk is full" "$T/coordinator.log" || fail "no message saying the disk is full"
grep "database or disk is full" "$T/coordinator.log" | grep -qF "'$DB'" ||
    fail "the message does not name the database file $DB"

# a restart while the disk is still full stops as soon as it writes (the
# resume, or the workers' first messages), with the same reason named
rc=0
timeout 20 "$COORD" --db "$DB" --workers-endpoint "$WEND" --clients-endpoint "$CEND" \
    >"$T/still-full.log" 2>&1 || rc=$?
expect_eq "the exit status of a restart on the full disk" 1 "$rc"
grep "database or disk is full" "$T/still-full.log" | grep -qF "'$DB'" ||
    fail "a restart on the full disk does not name the file and the reason: $(cat "$T/still-full.log")"
it_log "ok: $(grep -m1 "disk is full" "$T/still-full.log")"

# free the space: the database is intact, every acknowledged result is in it
rm -f "$FS/filler"
expect_eq "integrity after freeing space" ok "$(sql "PRAGMA integrity_check")"
acked=$(sed -n 's/.*result of trial \([0-9]*\) acknowledged.*/\1/p' "$T"/w1.log "$T"/w2.log | sort -un)
n_acked=$(echo "$acked" | grep -c .)
expect_ge "results acknowledged before the failure" 3 "$n_acked"
for id in $acked; do
    [ "$(sql "SELECT status FROM trials WHERE id = $id")" = done ] ||
        fail "trial $id was acknowledged but is not done in the database"
done
it_log "ok: all $n_acked acknowledged results are in the database"

# a restart on the same database finishes the campaign, each trial once
start_coordinator --lease 10
wait_for 60 "the campaign is done after the restart" campaign_is it-disk-full done
expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "distinct trial numbers" $BUDGET "$(sql "SELECT count(DISTINCT number) FROM trials")"
expect_eq "done attempts" $BUDGET "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'done'")"
expect_eq "trials with one done attempt" $BUDGET \
    "$(sql "SELECT count(DISTINCT trial_id) FROM trial_attempts WHERE status = 'done'")"
expect_eq "curve rows (epochs 0..$EPOCHS per trial)" $((BUDGET * (EPOCHS + 1))) \
    "$(sql "SELECT count(*) FROM trial_epochs")"
kill -TERM "$COORD_PID" "$W1" "$W2"
wait "$COORD_PID" "$W1" "$W2" 2>/dev/null || true
expect_eq "integrity at the end" ok "$(sql "PRAGMA integrity_check")"

# the filesystem read-only: no start on the database, nor on a new one; the
# message names the file and the cause; nothing is written
sum=$(sha256sum <"$DB")
mount -o remount,ro "$FS" || fail "cannot remount $FS read-only"
for db in "$DB" "$FS/new.db"; do
    rc=0
    timeout 10 "$COORD" --db "$db" --workers-endpoint "tcp://127.0.0.1:*" \
        --clients-endpoint "tcp://127.0.0.1:*" >"$T/readonly.log" 2>&1 || rc=$?
    expect_eq "the coordinator's exit status on a read-only filesystem ($(basename "$db"))" 1 "$rc"
    grep -F "'$db'" "$T/readonly.log" | grep -q "read-only filesystem" ||
        fail "the message does not name the file and the read-only filesystem: $(cat "$T/readonly.log")"
done
it_log "ok: $(tail -1 "$T/readonly.log")"
expect_eq "the database file on the read-only filesystem" "$sum" "$(sha256sum <"$DB")"
[ -e "$FS/new.db" ] && fail "a new database file appeared on the read-only filesystem"
echo "PASS"
