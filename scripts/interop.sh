#!/usr/bin/env bash
# Runs two independent AMQP clients' own integration suites against a freshly built Warren:
#   go       rabbitmq/amqp091-go (Debian's golang-github-rabbitmq-amqp091-go-dev source),
#            `go test -tags integration` with AMQP_URL, GOPATH mode, fully offline
#   amqplib  amqplib 2.2.0's test/ directory from its npm tarball, `node --test` with URL
#
# Usage: scripts/interop.sh [all|go|amqplib]   (default all)
# Exit status: 0 when every failing test is on scripts/interop/skip-list.txt (only assertions
# that hold solely for RabbitMQ's product name or version may be there), 1 otherwise, 2 when
# a prerequisite could not be installed or Warren did not start.
#
# amqplib's suite connects to the default amqp://localhost:5672 (and [::1]:5672) in several
# tests regardless of URL, so the suites run inside a private network namespace
# (`unshare --net`, needs root) whose loopback is the only interface: Warren listens on 5672
# there without colliding with anything on the host. Without unshare, Go uses a free port and
# amqplib needs the host's 5672 to be free.
# Set INTEROP_KEEP=1 to keep the work directory (logs, sources) for inspection, and
# INTEROP_SUITE_TIMEOUT_S to change the per-suite time limit (default 150 s).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/interop"
AMQPLIB_VERSION=2.2.0
GO_PKG_SRC=/usr/share/gocode/src/github.com/rabbitmq/amqp091-go
GO_TEST_TIMEOUT=120s
SUITE_TIMEOUT_S=${INTEROP_SUITE_TIMEOUT_S:-150}   # per suite, seconds

say() { echo "interop: $*" >&2; }

# ---- run phase (possibly inside the private network namespace) ------------------------------

WARREN_PID=
stop_warren() {
  [ -n "$WARREN_PID" ] || return 0
  kill "$WARREN_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$WARREN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$WARREN_PID" 2>/dev/null
  wait "$WARREN_PID" 2>/dev/null
  WARREN_PID=
}

# start_warren NAME PORT: starts dist/cli/main.js, sets WARREN_PORT from its "warren started" line.
start_warren() {
  local name=$1 port=$2 log="$WORK/warren-$1.log"
  mkdir -p "$WORK/data-$name"
  node "$ROOT/dist/cli/main.js" start --amqp-port "$port" --http-port 0 --bind 127.0.0.1,::1 \
    --data-dir "$WORK/data-$name" --log-level info >"$log" 2>&1 &
  WARREN_PID=$!
  WARREN_PORT=
  for _ in $(seq 200); do
    WARREN_PORT=$(grep -o '"amqpPort":[0-9]*' "$log" | head -1 | cut -d: -f2)
    [ -n "$WARREN_PORT" ] && return 0
    kill -0 "$WARREN_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "Warren did not start for $name; its log:"; tail -20 "$log" >&2
  stop_warren
  return 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# go_run_pattern DIR: a -run pattern naming every top-level Test/Example of the package except
# the skip list's amqp091-go entries. Go 1.19 has no -skip, and excluding them matters:
# goleak's TestMain fails the whole package for a connection that such a test leaves open.
go_run_pattern() {
  local all skipped name
  all=$(grep -ho '^func \(Test\|Example\)[A-Za-z0-9_]*' "$1"/*_test.go | cut -c6- | grep -vx TestMain | sort -u)
  skipped=$(sed -n 's/^amqp091-go | \([A-Za-z0-9_]*\) | .*/\1/p' "$HERE/skip-list.txt")
  for name in $skipped; do
    grep -qx "$name" <<<"$all" || say "skip-list entry $name names no amqp091-go test"
  done
  printf '^(%s)$' "$(grep -vxF -f <(echo "$skipped") <<<"$all" | paste -sd'|')"
}

run_go() {
  start_warren go "$PORT_GO" || return 2
  local t0 dir="$WORK/gopath/src/github.com/rabbitmq/amqp091-go"
  t0=$(now)
  (cd "$dir" && GO111MODULE=off GOPATH="$WORK/gopath:/usr/share/gocode" GOFLAGS= GOPROXY=off \
    AMQP_URL="amqp://guest:guest@127.0.0.1:$WARREN_PORT/" \
    timeout "$SUITE_TIMEOUT_S" go test -tags integration -count=1 -timeout "$GO_TEST_TIMEOUT" \
    -run "$(go_run_pattern "$dir")" -json . \
    >"$WORK/go.json" 2>"$WORK/go.stderr")
  local rc=$? secs; secs=$(elapsed "$t0")
  stop_warren
  node "$HERE/results.mjs" go "$WORK/go.json" "$HERE/skip-list.txt" "$secs" "$rc" "$WORK/go.stderr"
}

run_amqplib() {
  start_warren amqplib "$PORT_AMQPLIB" || return 2
  local t0 dir="$WORK/amqplib/package"
  t0=$(now)
  # Node 20 applies --test-timeout to each whole file too (upstream's 1000 ms is meant per test
  # and cuts uri_spec.test.js short on a loaded machine), hence the larger value.
  # NODE_TEST_CONTEXT is set when this script runs under node:test (test/interop/); node would
  # then refuse to start a test run of its own.
  (cd "$dir" && unset NODE_TEST_CONTEXT && URL="amqp://guest:guest@127.0.0.1:$WARREN_PORT" \
    timeout "$SUITE_TIMEOUT_S" node --test --test-timeout=20000 \
    --test-reporter=spec --test-reporter-destination="$WORK/amqplib.log" \
    --test-reporter="$HERE/node-reporter.mjs" --test-reporter-destination="$WORK/amqplib.ndjson" \
    test/*.test.js >"$WORK/amqplib.out" 2>&1)
  local rc=$? secs; secs=$(elapsed "$t0")
  stop_warren
  node "$HERE/results.mjs" node "$WORK/amqplib.ndjson" "$HERE/skip-list.txt" "$secs" "$rc" "$WORK/amqplib.out"
}

run_phase() {
  trap stop_warren EXIT
  local rc=0 r
  for s in "${SUITES[@]}"; do
    case $s in
      go) run_go; r=$? ;;
      amqplib) run_amqplib; r=$? ;;
    esac
    [ "$r" -gt "$rc" ] && rc=$r
  done
  return "$rc"
}

if [ "${1:-}" = "--run" ]; then
  # re-entered by the preparation phase: --run WORK PORT_GO PORT_AMQPLIB SUITE...
  WORK=$2 PORT_GO=$3 PORT_AMQPLIB=$4; shift 4; SUITES=("$@")
  if [ "${INTEROP_NETNS:-}" = 1 ]; then ip link set lo up || exit 2; fi
  run_phase; exit $?
fi

# ---- preparation phase (host network: apt, npm) ---------------------------------------------

case "${1:-all}" in
  all) SUITES=(go amqplib) ;;
  go|amqplib) SUITES=("$1") ;;
  *) echo "usage: $0 [all|go|amqplib]" >&2; exit 2 ;;
esac

install_go() {
  [ -d "$GO_PKG_SRC" ] && command -v go >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "golang-go and golang-github-rabbitmq-amqp091-go-dev are needed (apt-get as root)"; return 2
  fi
  say "installing golang-go golang-github-rabbitmq-amqp091-go-dev"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    golang-go golang-github-rabbitmq-amqp091-go-dev >"$WORK/apt.log" 2>&1 \
    || { say "apt-get install failed:"; tail -5 "$WORK/apt.log" >&2; return 2; }
}

prepare_go() {
  install_go || return 2
  # GOPATH mode on a private copy: dependencies (goleak) come from Debian's /usr/share/gocode.
  mkdir -p "$WORK/gopath/src/github.com/rabbitmq"
  cp -a "$GO_PKG_SRC" "$WORK/gopath/src/github.com/rabbitmq/"
  # go's build cache lives under $HOME; without one (CI may have none) go reports GOCACHE=off
  case "$(go env GOCACHE 2>/dev/null)" in ''|off) export GOCACHE="$WORK/gocache" ;; esac
}

prepare_amqplib() {
  mkdir -p "$WORK/amqplib"
  (cd "$WORK/amqplib" && npm pack --silent "amqplib@$AMQPLIB_VERSION" >/dev/null 2>"$WORK/npm.log" \
    && tar xzf "amqplib-$AMQPLIB_VERSION.tgz") || { say "npm pack amqplib@$AMQPLIB_VERSION failed"; cat "$WORK/npm.log" >&2; return 2; }
  local n; n=$(ls "$WORK/amqplib/package/test/"*.test.js 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || { say "amqplib@$AMQPLIB_VERSION's tarball has no test/*.test.js"; return 2; }
  # its devDependencies (the property-test library claire); no install scripts are needed
  (cd "$WORK/amqplib/package" && npm install --silent --ignore-scripts --no-audit --no-fund \
    --no-package-lock >>"$WORK/npm.log" 2>&1) || { say "npm install in amqplib failed"; tail -20 "$WORK/npm.log" >&2; return 2; }
}

WORK=$(mktemp -d /tmp/warren-interop.XXXXXX)
if [ "${INTEROP_KEEP:-}" = 1 ]; then say "work directory: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

t0=$(now)
for s in "${SUITES[@]}"; do
  case $s in
    go) prepare_go || exit 2 ;;
    amqplib) prepare_amqplib || exit 2 ;;
  esac
done
(cd "$ROOT" && npm run build --silent >"$WORK/build.log" 2>&1) || { say "npm run build failed"; tail -30 "$WORK/build.log" >&2; exit 2; }
say "prepared in $(elapsed "$t0") s"

if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
  INTEROP_NETNS=1 unshare --net bash "$0" --run "$WORK" 5672 5672 "${SUITES[@]}"
else
  say "no private network namespace (needs root and unshare): using the host's loopback"
  bash "$0" --run "$WORK" 0 5672 "${SUITES[@]}"
fi
