#!/usr/bin/env bash
# Damaged and empty databases: a read that hits a damaged page answers that
# client with ERROR and the coordinator keeps serving (it used to stop, so
# that repeated exports became a restart loop); an existing database file of
# 0 bytes is refused with a message, never initialised as a new database.
# Usage: it_corrupt_db.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

# an empty file where the database should be: refused, left as it is
: >"$T/empty.db"
if timeout 10 "$COORD" --db "$T/empty.db" --workers-endpoint "tcp://127.0.0.1:*" \
    --clients-endpoint "tcp://127.0.0.1:*" >"$T/empty.log" 2>&1; then
    fail "the coordinator started on an empty file"
fi
grep -q "exists but is empty" "$T/empty.log" || fail "no message about the empty file: $(cat "$T/empty.log")"
expect_eq "the empty file's size" 0 "$(stat -c %s "$T/empty.db")"

# a campaign with its curves, then the coordinator stops cleanly
start_coordinator --lease 30
start_worker w1
submit_campaign it-corrupt 3
wait_for 60 "the campaign is done" campaign_is it-corrupt done
kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
kill -TERM "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null || true

# damage the table of the learning curves (read by export, not at a start)
PAGE=$(sqlite3 "$DB" "PRAGMA page_size")
ROOT=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'trial_epochs'")
[ -n "$ROOT" ] && [ "$ROOT" -gt 1 ] || fail "no root page for trial_epochs"
head -c "$PAGE" /dev/zero | tr '\0' '\377' |
    dd of="$DB" bs="$PAGE" seek=$((ROOT - 1)) conv=notrunc status=none
it_log "page $ROOT of $DB overwritten"

start_coordinator --lease 30
for i in 1 2 3; do
    if "$CLI" export it-corrupt --format json -o "$T/export$i.csv" >"$T/export$i.out" 2>&1; then
        fail "export of a damaged table succeeded: $(cat "$T/export$i.out")"
    fi
    grep -q "could not read its database" "$T/export$i.out" ||
        fail "export does not say why: $(cat "$T/export$i.out")"
done
kill -0 "$COORD_PID" 2>/dev/null || fail "the coordinator stopped after a failed read"
"$CLI" status it-corrupt >"$T/status.out" 2>&1 || fail "status after failed reads: $(cat "$T/status.out")"
grep -q "it-corrupt" "$T/status.out" || fail "status does not show the campaign: $(cat "$T/status.out")"
echo "PASS"
