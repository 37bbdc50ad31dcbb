#!/usr/bin/env bash
# infomorph backup: a consistent copy of the coordinator's database streamed
# to the client and written there atomically, nothing written on the
# coordinator's side: the copy passes PRAGMA integrity_check and has the
# live database's rows; in small chunks too; taken while trials run it is
# consistent and the coordinator keeps serving; a coordinator started on the
# copy (the restore) serves its campaigns.
# Usage: it_backup.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

counts() { # counts DB: the rows of the tables that matter, one line
    sqlite3 -batch -noheader -cmd ".timeout 5000" "$1" \
        "SELECT (SELECT count(*) FROM campaigns) || '|' || (SELECT count(*) FROM trials) || '|' ||
                (SELECT count(*) FROM trial_attempts) || '|' || (SELECT count(*) FROM trial_epochs) || '|' ||
                (SELECT count(*) FROM trial_params) || '|' || (SELECT count(*) FROM workers) || '|' ||
                (SELECT count(*) FROM events)"
}

start_coordinator
start_worker w1
submit_campaign it-backup 4
wait_for 90 "the campaign is done" campaign_is it-backup done
before=$(ls "$T")

"$CLI" backup "$T/copy.db" >"$T/backup.out" 2>&1 || fail "backup: $(cat "$T/backup.out")"
grep -q "wrote $T/copy.db: [0-9]* bytes" "$T/backup.out" || fail "$(cat "$T/backup.out")"
expect_eq "integrity of the copy" ok "$(sqlite3 "$T/copy.db" "PRAGMA integrity_check")"
expect_eq "rows of the copy" "$(counts "$DB")" "$(counts "$T/copy.db")"
expect_eq "trials done in the copy" 4 "$(sqlite3 "$T/copy.db" "SELECT count(*) FROM trials WHERE status = 'done'")"
# restored in place of the original it is the same database to the workers
ID=$(sqlite3 -cmd ".timeout 5000" "$DB" "SELECT id FROM database_identity")
[ ${#ID} = 32 ] || fail "the database's identity is '$ID'"
expect_eq "identity of the copy" "$ID" "$(sqlite3 "$T/copy.db" "SELECT id FROM database_identity")"
[ ! -e "$T/copy.db.tmp" ] || fail "the temporary file was left"
# nothing new on the coordinator's side (its database directory is $T)
expect_eq "new files besides the copy" "" \
    "$(comm -13 <(echo "$before") <(ls "$T") | grep -v -e '^copy.db$' -e '^backup.out$' || true)"

# in chunks of 1000 bytes: the same bytes
"$CLI" backup --chunk 1000 "$T/chunked.db" >"$T/chunked.out" 2>&1 || fail "$(cat "$T/chunked.out")"
cmp -s "$T/copy.db" "$T/chunked.db" || fail "the chunked copy differs"
it_log "ok: the copy in 1000-byte chunks is the same"
# a second backup right after the first (the first has ended)
"$CLI" backup "$T/copy.db" >"$T/again.out" 2>&1 || fail "$(cat "$T/again.out")"

# during a campaign: consistent, and the coordinator keeps serving
submit_campaign it-backup-live 3 '{"dataset": "mnist10k", "hidden": 100, "epochs": 6, "eval_limit": 300, "batch": 512}'
wait_for 60 "a trial of it runs" \
    bash -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM trials WHERE status = 'running'\")\" -ge 1 ]"
"$CLI" backup --chunk 4096 "$T/live.db" >"$T/live.out" 2>&1 || fail "$(cat "$T/live.out")"
expect_eq "integrity of the copy taken while trials run" ok "$(sqlite3 "$T/live.db" "PRAGMA integrity_check")"
expect_eq "foreign keys of that copy" "" "$(sqlite3 "$T/live.db" "PRAGMA foreign_key_check")"
wait_for 90 "the live campaign is done" campaign_is it-backup-live done

# usage
set +e
"$CLI" backup >"$T/usage.out" 2>&1
rc=$?
"$CLI" backup --chunk 0 "$T/x.db" >>"$T/usage.out" 2>&1
rc2=$?
"$CLI" backup "$T/no/such/dir/x.db" >>"$T/usage.out" 2>&1
rc3=$?
set -e
expect_eq "backup without a file (exit status)" 2 "$rc"
expect_eq "backup --chunk 0 (exit status)" 2 "$rc2"
expect_eq "backup into a missing directory (exit status)" 1 "$rc3"

# restore: a coordinator on the copy serves the first campaign
kill -TERM "$COORD_PID"
wait "$COORD_PID" || true
DB=$T/copy.db WEND="" CEND=""
start_coordinator
"$CLI" trials it-backup >"$T/trials.out" 2>&1 || fail "trials on the restored copy: $(cat "$T/trials.out")"
expect_eq "done trials listed by the restored coordinator" 4 "$(grep -c ' done ' "$T/trials.out")"
echo "PASS"
