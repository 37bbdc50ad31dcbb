#!/usr/bin/env bash
# CurveZMQ between the real programs on loopback: a coordinator with keys
# (infomorph keygen) serves an authorised worker, which completes trials;
# a worker with a key the coordinator does not know is refused and never
# receives a job (logged once, with its key); the command without a key or
# with an unknown one can neither submit nor read; after its key is added
# and SIGHUP sent, the refused worker joins. Without keys the coordinator
# refuses a non-loopback address; --insecure binds with a warning.
# Usage: it_curve.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"
K=$T/keys
mkdir -p "$K/workers" "$K/clients"
"$CLI" keygen "$K/coordinator" >/dev/null
"$CLI" keygen "$K/workers/good" >/dev/null
"$CLI" keygen "$K/clients/me" >/dev/null
"$CLI" keygen "$K/intruder" >/dev/null
"$CLI" keygen "$K/stranger" >/dev/null
# only public keys in the allow-lists
mkdir -p "$K/secret"
mv "$K/workers/good.key" "$K/clients/me.key" "$K/secret/"

# ---- without keys: loopback only, --insecure warns
set +e
"$COORD" --db "$T/plain.db" --workers-endpoint "tcp://0.0.0.0:$(free_port)" \
    --clients-endpoint "tcp://127.0.0.1:$(free_port)" >"$T/plain.log" 2>&1
rc=$?
"$COORD" --db "$T/plain.db" --curve-secret "$K/coordinator.key" >"$T/half.log" 2>&1
rc2=$?
set -e
expect_eq "a non-loopback bind without keys (exit status)" 2 "$rc"
grep -q "refusing to bind 'tcp://0.0.0.0:" "$T/plain.log" || fail "no refusal: $(cat "$T/plain.log")"
expect_eq "--curve-secret without key directories (exit status)" 2 "$rc2"
"$COORD" --db "$T/insecure.db" --workers-endpoint "tcp://127.0.0.1:*" \
    --clients-endpoint "tcp://127.0.0.1:*" --insecure >"$T/insecure.log" 2>&1 &
INSECURE=$!
IT_PIDS+=("$INSECURE")
wait_for 10 "the insecure coordinator warns" grep -q "WARN.*--insecure: peers are not authenticated" "$T/insecure.log"
kill -TERM "$INSECURE"
wait "$INSECURE" || true

# ---- with keys (the command's through the environment)
export INFOMORPH_SERVER_KEY=$K/coordinator.pub INFOMORPH_CURVE_SECRET=$K/secret/me.key
start_coordinator --lease 5 --curve-secret "$K/coordinator.key" \
    --worker-keys "$K/workers" --client-keys "$K/clients"
grep -q "CurveZMQ: encrypted, allowed keys only" "$T/coordinator.log" || fail "no CurveZMQ in the log"

# the command: with its key it works; without, or with another, it gets nothing
"$CLI" ls >"$T/ls.out" 2>&1 || fail "ls with the client key: $(cat "$T/ls.out")"
write_campaign "$T/c.json" it-curve 3
set +e
env -u INFOMORPH_SERVER_KEY -u INFOMORPH_CURVE_SECRET "$CLI" submit "$T/c.json" >"$T/nokey.out" 2>&1
rc=$?
INFOMORPH_CURVE_SECRET=$K/stranger.key "$CLI" ls >"$T/stranger.out" 2>&1
rc2=$?
INFOMORPH_CURVE_SECRET=$K/stranger.key "$CLI" submit "$T/c.json" >"$T/stranger-submit.out" 2>&1
rc3=$?
set -e
expect_eq "submit without a key (exit status)" 1 "$rc"
grep -q "no coordinator answering" "$T/nokey.out" || fail "$(cat "$T/nokey.out")"
expect_eq "ls with an unknown key (exit status)" 1 "$rc2"
grep -q "is the key among its --client-keys" "$T/stranger.out" || fail "$(cat "$T/stranger.out")"
expect_eq "submit with an unknown key (exit status)" 1 "$rc3"
expect_eq "campaigns after the refused submits" 0 "$(sql "SELECT count(*) FROM campaigns")"
STRANGER=$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$K/stranger.pub")
grep -qF "refused a peer at 127.0.0.1 on clients: its public key is not among the allowed ones (key $STRANGER)" \
    "$T/coordinator.log" || fail "the refused client's key is not in the log"
expect_eq "log lines about the stranger's key (once)" 1 \
    "$(grep -c -F "$STRANGER" "$T/coordinator.log")"

# the intruder worker: refused, never a job; the good worker finishes the campaign
start_worker intruder --server-key "$K/coordinator.pub" --curve-secret "$K/intruder.key"
INTRUDER=$WORKER_PID
"$CLI" submit "$T/c.json" >"$T/submit.out" 2>&1 || fail "submit: $(cat "$T/submit.out")"
sleep 2
expect_eq "jobs the intruder received" 0 "$(grep -c "training" "$T/intruder.log" || true)"
expect_eq "the intruder among the workers" 0 "$(sql "SELECT count(*) FROM workers WHERE name = 'intruder'")"
grep -q "refused a peer at 127.0.0.1 on workers" "$T/coordinator.log" || fail "the intruder was not logged"
start_worker good --server-key "$K/coordinator.pub" --curve-secret "$K/secret/good.key"
wait_for 90 "the campaign is done" campaign_is it-curve done
expect_eq "trials done" 3 "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "attempts by the intruder" 0 "$(sql "SELECT count(*) FROM trial_attempts WHERE worker = 'intruder'")"
expect_eq "jobs the intruder received" 0 "$(grep -c "training" "$T/intruder.log" || true)"

# SIGHUP after adding the intruder's key: it joins (its next reconnect)
cp "$K/intruder.pub" "$K/workers/"
kill -HUP "$COORD_PID"
wait_for 10 "the keys are re-read" grep -q "workers keys: 2 allowed" "$T/coordinator.log"
wait_for 30 "the intruder is admitted" \
    bash -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM workers WHERE name = 'intruder'\")\" = 1 ]"
kill -0 "$COORD_PID" || fail "SIGHUP stopped the coordinator"
echo "PASS"
