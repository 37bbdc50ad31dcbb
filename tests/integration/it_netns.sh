#!/usr/bin/env bash
# Across machines, for real: the coordinator in one network namespace,
# workers in two others, joined by veth pairs (10.x addresses that exist
# only inside the namespaces this test makes), real TCP between them, every
# socket with CurveZMQ keys.
#  - A worker whose key is not allowed never receives a job; the command
#    without a key cannot read or submit; an authorised worker completes
#    trials.
#  - The link of a worker is cut (ip link set ... down) in the middle of a
#    trial: its lease runs out, the trial is queued again and finished by the
#    other worker; when the link comes back the cut-off worker reconnects and
#    its late result for the old attempt is recorded (an event) but not
#    counted: nothing is lost or counted twice.
#  - A capture of the coordinator's side of the links (tcpdump) holds the
#    traffic but no plaintext JSON; the same capture of a coordinator
#    without keys does show it (so the check can fail).
# Needs root (or CAP_NET_ADMIN), ip netns and tcpdump: otherwise it is
# skipped (exit status 77) with a message saying why.
# Usage: it_netns.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"

skip() {
    echo "SKIPPED: $*" >&2
    exit 77
}
[ "$(id -u)" = 0 ] || skip "not root: network namespaces need root (CI runs this as root)"
command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v tcpdump >/dev/null || skip "no tcpdump (deploy/install-deps.sh tcpdump)"
P=im$$
NS_C=${P}c NS_1=${P}w1 NS_2=${P}w2
ip netns add "$NS_C" 2>/dev/null || skip "cannot create a network namespace (ip netns add failed)"

it_init "$@"
netns_cleanup() {
    local ns
    for ns in "$NS_C" "$NS_1" "$NS_2"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'rc=$?; for p in "${IT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; sleep 0.5; netns_cleanup; (exit $rc); it_cleanup' EXIT

# ---- the three hosts: c <-> w1 on 10.201.1.0/24, c <-> w2 on 10.201.2.0/24
ip netns add "$NS_1"
ip netns add "$NS_2"
for i in 1 2; do
    ns=${P}w$i
    ip link add "${P}c$i" type veth peer name "${P}w$i"
    ip link set "${P}c$i" netns "$NS_C"
    ip link set "${P}w$i" netns "$ns"
    ip -n "$NS_C" addr add "10.201.$i.1/24" dev "${P}c$i"
    ip -n "$ns" addr add "10.201.$i.2/24" dev "${P}w$i"
    ip -n "$NS_C" link set "${P}c$i" up
    ip -n "$ns" link set "${P}w$i" up
    ip -n "$ns" link set lo up
done
ip -n "$NS_C" link set lo up
# (started in the background with ip netns exec itself, never through a
# function: then $! is the program's pid, as ip execs it)
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}
ip -n "$NS_1" route get 10.201.1.1 >/dev/null || fail "no route from w1 to the coordinator"
ip -n "$NS_2" route get 10.201.2.1 >/dev/null || fail "no route from w2 to the coordinator"
it_log "ok: three namespaces, two veth links"

# capture on the coordinator's side of both links
capture() { # capture NAME: tcpdump on both links into $T/NAME-{1,2}.pcap
    local i
    for i in 1 2; do
        ip netns exec "$NS_C" tcpdump -i "${P}c$i" -U -s 0 -w "$T/$1-$i.pcap" tcp >"$T/tcpdump-$1-$i.log" 2>&1 &
        IT_PIDS+=($!)
        CAPTURES+=($!)
    done
    sleep 1
}
stop_capture() {
    local p
    sleep 1 # let tcpdump write what the kernel has handed it
    for p in "${CAPTURES[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    CAPTURES=()
}
json_packets() { # the packets of capture NAME whose payload has a JSON message's "type"
    local i n=0 c
    for i in 1 2; do
        c=$(tcpdump -r "$T/$1-$i.pcap" -A 2>/dev/null | grep -c '"type"') || c=0
        n=$((n + c))
    done
    echo "$n"
}
payload_packets() { # packets with a payload to the coordinator's ports in capture NAME
    local i n=0 c
    for i in 1 2; do
        c=$(tcpdump -r "$T/$1-$i.pcap" 'tcp dst portrange 5555-5556 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)' 2>/dev/null | wc -l)
        n=$((n + c))
    done
    echo "$n"
}
CAPTURES=()

# ---- the control: without keys (--insecure) the capture shows the JSON
capture plain
ip netns exec "$NS_C" "$COORD" --db "$T/plain.db" --workers-endpoint tcp://10.201.1.1:5555 \
    --clients-endpoint tcp://10.201.1.1:5556 --insecure >"$T/plain-coordinator.log" 2>&1 &
PLAIN=$!
IT_PIDS+=("$PLAIN")
wait_for 20 "the plain coordinator answers from w1" \
    in_ns "$NS_1" "$CLI" ls --connect tcp://10.201.1.1:5556
kill -TERM "$PLAIN"
wait "$PLAIN" || true
stop_capture
expect_ge "plaintext JSON packets in the capture without keys (control)" 1 "$(json_packets plain)"

# ---- keys
K=$T/keys
mkdir -p "$K/workers" "$K/clients" "$K/secret"
for n in coordinator workers/w1 workers/w2 clients/me intruder; do "$CLI" keygen "$K/$n" >/dev/null; done
mv "$K/workers/w1.key" "$K/workers/w2.key" "$K/clients/me.key" "$K/secret/"

capture curve
ip netns exec "$NS_C" "$COORD" --db "$DB" --workers-endpoint "tcp://*:5555" --clients-endpoint "tcp://*:5556" \
    --lease 3 --curve-secret "$K/coordinator.key" --worker-keys "$K/workers" \
    --client-keys "$K/clients" --log-level debug >>"$T/coordinator.log" 2>&1 &
COORD_PID=$!
IT_PIDS+=("$COORD_PID")
export INFOMORPH_SERVER_KEY=$K/coordinator.pub INFOMORPH_CURVE_SECRET=$K/secret/me.key
CONNECT1=tcp://10.201.1.1:5556
wait_for 20 "the coordinator answers w1's command" in_ns "$NS_1" "$CLI" ls --connect $CONNECT1

# the command without a key, from the other host: nothing
set +e
env -u INFOMORPH_SERVER_KEY -u INFOMORPH_CURVE_SECRET ip netns exec "$NS_2" \
    "$CLI" ls --connect tcp://10.201.2.1:5556 >"$T/nokey.out" 2>&1
rc=$?
set -e
expect_eq "ls without a key from w2 (exit status)" 1 "$rc"
grep -q "no coordinator answering" "$T/nokey.out" || fail "$(cat "$T/nokey.out")"

ns_worker() { # ns_worker NS NAME ENDPOINT SECRET: a worker in namespace NS
    ip netns exec "$1" "$WORKER" --connect "$3" --data-dir "$DATA" --name "$2" --threads 1 \
        --server-key "$K/coordinator.pub" --curve-secret "$4" --log-level debug >>"$T/$2.log" 2>&1 &
    WORKER_PID=$!
    IT_PIDS+=("$WORKER_PID")
}
ns_worker "$NS_2" intruder tcp://10.201.2.1:5555 "$K/intruder.key"

BUDGET=3
EPOCHS=6
TRAIN='{"dataset": "mnist10k", "hidden": 100, "epochs": '$EPOCHS', "eval_limit": 300, "batch": 512}'
write_campaign "$T/c.json" it-netns $BUDGET "$TRAIN"
set +e
env -u INFOMORPH_SERVER_KEY -u INFOMORPH_CURVE_SECRET ip netns exec "$NS_2" \
    "$CLI" submit "$T/c.json" --connect tcp://10.201.2.1:5556 >"$T/nokey-submit.out" 2>&1
rc=$?
set -e
expect_eq "submit without a key (exit status)" 1 "$rc"
expect_eq "campaigns after it" 0 "$(sql "SELECT count(*) FROM campaigns")"
in_ns "$NS_1" "$CLI" submit "$T/c.json" --connect $CONNECT1 >"$T/submit.out" 2>&1 ||
    fail "submit: $(cat "$T/submit.out")"

# w1 takes the first trial; its link is cut in the middle of it
ns_worker "$NS_1" w1 tcp://10.201.1.1:5555 "$K/secret/w1.key"
W1=$WORKER_PID
wait_for 60 "w1 trains" grep -q "epoch 1:" "$T/w1.log"
TRIAL=$(sed -n 's/.*trial \([0-9]*\) attempt 1: training.*/\1/p' "$T/w1.log" | head -1)
[ -n "$TRIAL" ] || fail "no trial in w1's log"
it_log "cutting w1's link during trial $TRIAL"
ip -n "$NS_C" link set "${P}c1" down
ns_worker "$NS_2" w2 tcp://10.201.2.1:5555 "$K/secret/w2.key"
handed_out_again() { [ "$(sql "SELECT attempt > 1 FROM trials WHERE id = $TRIAL")" = 1 ]; }
wait_for 40 "trial $TRIAL is handed out again (lease 3 s)" handed_out_again
expect_eq "trial $TRIAL's first attempt" "w1|lost" \
    "$(sql "SELECT worker, status FROM trial_attempts WHERE trial_id = $TRIAL AND attempt = 1")"
# w1 goes on training behind the cut; the link comes back once it has finished
wait_for 90 "w1 finishes trial $TRIAL behind the cut" grep -q "trial $TRIAL attempt 1: done" "$T/w1.log"
wait_for 120 "the campaign is done" campaign_is it-netns done
it_log "the link comes back"
ip -n "$NS_C" link set "${P}c1" up
late_result_recorded() {
    [ "$(sql "SELECT count(*) FROM events WHERE kind = 'result_superseded' AND trial_id = $TRIAL")" -ge 1 ]
}
wait_for 60 "w1 reconnects and its late result is recorded" late_result_recorded
it_log "ok: w1 reconnected; its late result is recorded as superseded, not counted"
stop_capture

expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "distinct trial numbers" $BUDGET "$(sql "SELECT count(DISTINCT number) FROM trials")"
expect_eq "one done attempt per trial (nothing counted twice)" $BUDGET \
    "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'done'")"
expect_eq "trial $TRIAL finished by" w2 "$(sql "SELECT worker FROM trials WHERE id = $TRIAL")"
expect_eq "trials left queued or running (nothing lost)" 0 \
    "$(sql "SELECT count(*) FROM trials WHERE status IN ('queued', 'running')")"
expect_eq "curve of trial $TRIAL (epochs 0..$EPOCHS, once each)" "$((EPOCHS + 1))|0|$EPOCHS" \
    "$(sql "SELECT count(*), min(epoch), max(epoch) FROM trial_epochs WHERE trial_id = $TRIAL")"
expect_eq "attempts by the intruder" 0 "$(sql "SELECT count(*) FROM trial_attempts WHERE worker = 'intruder'")"
expect_eq "jobs the intruder received" 0 "$(grep -c "training" "$T/intruder.log" || true)"
grep -q "refused a peer at 10.201.2.2 on workers" "$T/coordinator.log" ||
    fail "the intruder's refusal is not logged"
kill -0 "$W1" || fail "w1 died"

expect_ge "packets with a payload to the coordinator in the capture" 20 "$(payload_packets curve)"
expect_eq "plaintext JSON packets in the capture with keys" 0 "$(json_packets curve)"
echo "PASS"
