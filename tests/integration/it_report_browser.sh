#!/usr/bin/env bash
# infomorph report pages in a real browser: headless Chromium opens each
# page from report_fixture.sh (a search, an ablation with both stages),
# takes a screenshot (--screenshot) and reads the page back (--dump-dom);
# the test fails on any console message or Content-Security-Policy
# violation in Chromium's log, and checks that the DOM holds every plot.
# A control page with an injected remote image must be reported, so the
# log check is known to see violations. No browser-automation library: the
# chromium command only. Skips (status 77) where Chromium is not installed
# (deploy/install-deps.sh chromium).
# Usage: it_report_browser.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report_fixture.sh"

BROWSER=""
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null && { BROWSER=$b; break; }
done
if [ -z "$BROWSER" ]; then
    echo "SKIP: no chromium command (Debian package chromium: deploy/install-deps.sh chromium)"
    exit 77
fi
it_init "$@"

start_coordinator # creates the schema
kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
report_fixture
report_fixture_stage2

# browse NAME FILE MODE...: run headless Chromium on FILE with a fresh
# profile; MODE is --screenshot=PNG or --dump-dom (stdout to NAME.dom); the
# browser's log goes to NAME.browser.
browse() {
    local name=$1 file=$2
    shift 2
    local profile
    profile=$(mktemp -d "$T/profile.XXXXXX")
    timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-quic --user-data-dir="$profile" --enable-logging=stderr \
        --window-size=1100,2400 "$@" "file://$file" >"$T/$name.dom" 2>"$T/$name.browser" ||
        fail "$BROWSER on $file: status $? ($(tail -3 "$T/$name.browser"))"
}

# complaints NAME: the console messages and CSP violations in NAME.browser
complaints() {
    grep -E ':CONSOLE|Content Security Policy|Refused to' "$T/$1.browser" || true
}

for c in rep-search rep-ablation; do
    "$CLI" report "$c" --db "$DB" --html "$T/$c.html" || fail "report $c"
    browse "$c-shot" "$T/$c.html" --screenshot="$T/$c.png"
    [ -s "$T/$c.png" ] || fail "$c: no screenshot"
    expect_eq "$c: screenshot is a PNG" "89504e47" "$(head -c 4 "$T/$c.png" | od -An -tx1 | tr -d ' \n')"
    browse "$c-dom" "$T/$c.html" --dump-dom
    for run in "$c-shot" "$c-dom"; do
        bad=$(complaints "$run")
        [ -z "$bad" ] || fail "$c: the browser complained: $bad"
    done
    expect_eq "$c: plots in the DOM" "$(grep -o '<svg ' "$T/$c.html" | wc -l)" \
        "$(grep -o '<svg ' "$T/$c-dom.dom" | wc -l)"
    grep -q "<h1>$c" "$T/$c-dom.dom" || fail "$c: the DOM lacks the title"
    it_log "ok: $c renders in $BROWSER with no console message or CSP violation"
done
grep -q 'id="plot-successive"' "$T/rep-ablation-dom.dom" || fail "no stage 2 plot in the DOM"

# the control: a remote image on the same page must be blocked and logged
sed 's|<body>|<body><img src="http://127.0.0.1:9/x.png" alt="">|' "$T/rep-search.html" >"$T/control.html"
browse control "$T/control.html" --dump-dom
[ -n "$(complaints control)" ] || fail "the log check did not see the control's CSP violation"
it_log "ok: the control page's CSP violation shows in the log"
it_log "PASS"
