#!/usr/bin/env bash
# The main job, end to end, on one machine: install what is missing, build,
# fetch the mnist10k data, start a coordinator and two workers in the
# background, run a small random-search campaign (deploy/campaigns/demo.json:
# 8 goal vectors gamma, 2 epochs each), follow it live, print the leaderboard
# and an SQL query to try on the trial database, and end by writing the
# campaign's HTML report and printing its path. Everything it started is
# stopped when it exits (also on Ctrl-C or an error).
#
# Usage: deploy/demo.sh            (from anywhere; re-runnable)
# Files: build/ (the programs), data/ (the datasets), demo-run/ (this run's
# database and logs, replaced on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
run=demo-run
campaign=deploy/campaigns/demo.json
name=demo

say() { printf '\n== %s\n' "$*"; }

say "installing missing Debian packages (deploy/install-deps.sh)"
deploy/install-deps.sh

say "building (release) into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C build -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory \
    infomorph_cli infomorph_coordinator infomorph_worker >/dev/null
bin=$repo/build

say "fetching the mnist10k data into data/ (deploy/fetch-datasets.sh)"
deploy/fetch-datasets.sh --only mnist10k data

rm -rf "$run"
mkdir -p "$run"
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

say "starting a coordinator (log: $run/coordinator.log)"
# Free ports on loopback, chosen by the coordinator and written to a file.
"$bin/infomorph-coordinator" --db "$run/trials.db" \
    --workers-endpoint 'tcp://127.0.0.1:*' --clients-endpoint 'tcp://127.0.0.1:*' \
    --endpoints-file "$run/endpoints" >"$run/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q '^clients ' "$run/endpoints" 2>/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$run/coordinator.log" >&2; exit 1; }
    sleep 0.1
done
workers_ep=$(awk '$1 == "workers" {print $2}' "$run/endpoints" 2>/dev/null || true)
clients_ep=$(awk '$1 == "clients" {print $2}' "$run/endpoints" 2>/dev/null || true)
if [ -z "$workers_ep" ] || [ -z "$clients_ep" ]; then
    echo "demo: the coordinator did not start serving; its log:" >&2
    cat "$run/coordinator.log" >&2
    exit 1
fi
export INFOMORPH_CONNECT=$clients_ep
echo "workers connect to $workers_ep; the infomorph command to $INFOMORPH_CONNECT"

say "starting two workers (logs: $run/worker-1.log, $run/worker-2.log)"
for i in 1 2; do
    "$bin/infomorph-worker" --connect "$workers_ep" --data-dir data --threads 1 \
        --name "demo-worker-$i" >"$run/worker-$i.log" 2>&1 &
    pids+=($!)
done

say "infomorph submit $campaign"
"$bin/infomorph" submit "$campaign"

say "infomorph status $name --watch 1   (live until the campaign ends)"
"$bin/infomorph" status "$name" --watch 1

say "infomorph best $name -n 5"
"$bin/infomorph" best "$name" -n 5

say "infomorph workers"
"$bin/infomorph" workers

say "infomorph export $name --format csv -o $run/$name.csv   (and --format json: curves, atoms)"
"$bin/infomorph" export "$name" --format csv -o "$run/$name.csv"
echo "$(($(wc -l <"$run/$name.csv") - 1)) trials written to $run/$name.csv"

query="SELECT b.rank, b.trial, round(b.val_acc, 4) AS val, round(w.f_c, 3) AS f_c,
       round(w.f_c_l, 3) AS f_c_l, round(b.wall_s, 1) AS wall_s
FROM best_trials b JOIN trial_gamma_wide w ON w.trial = b.trial
WHERE b.campaign = '$name' ORDER BY b.rank LIMIT 5;"
say "an SQL query to try (the database is $run/trials.db; the coordinator keeps it in WAL mode)"
echo "sqlite3 -header -column $run/trials.db \"$query\""
echo
sqlite3 -header -column "$run/trials.db" "$query"

say "done: stopping the workers and the coordinator"
echo "the database stays in $run/trials.db; more: infomorph --help, README.md"
echo "random goals over 2 epochs are mostly poor; the paper's optimised goal reaches"
echo "about 85 % test accuracy on mnist10k in 10 epochs (a few seconds):"
echo "  build/infomorph train --set gamma=paper-optimized --data-dir data"

say "infomorph report $name --html $run/$name-report.html   (one self-contained page with the plots)"
"$bin/infomorph" report "$name" --html "$run/$name-report.html"
echo "the report (open it in a browser; also from the database alone:"
echo "  build/infomorph report $name --db $run/trials.db --html FILE):"
echo "$repo/$run/$name-report.html"
