#!/usr/bin/env bash
# What the metrics listener and JSON request lines cost per request, counted in instructions
# (valgrind's callgrind), which do not depend on how busy the machine is — unlike the wall-clock
# comparison of `PEERS_OPERATIONS=1 bench/peers.sh`, which needs a quiet machine.
#
#   bench/operations-cost.sh        # prints a Markdown table (docs/benchmarks.md)
#
# The same release build (with the bench pages) serves the same pages twice, one server after the
# other, each under callgrind:
#   plain      log_level = "off", no metrics_address: no request line, requests not counted;
#   operated   log_level = "critical" (Rocket's release default), log_format = "json" with stdout
#              to a file, metrics_address set (scraped once after the run, to check the counts).
# For each page: 50 warm-up requests, the counters zeroed, N keep-alive requests from one client,
# the counters dumped. Instructions are the whole process's (every thread, the log writer's
# included) divided by N; write(2) calls per request come from /proc/PID/io, since the kernel's
# side of a write is what callgrind cannot see.
#
# Settings: OPS_COST_REQUESTS (2000), OPS_COST_PORT (18290; the metrics listener +1),
# CARGO_TARGET_DIR (default target/bench, as bench/profile.sh); OPS_COST_BINARY=path measures that
# build (made with `--features bench-routes`) instead of building one. Needs valgrind, python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

REQUESTS="${OPS_COST_REQUESTS:-2000}"
PORT="${OPS_COST_PORT:-18290}"
METRICS_PORT=$((PORT + 1))
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
PASSWORD="benchmark password 1"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    # SIGTERM: a graceful shutdown, so the operated server's log writer flushes before exit.
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap 'stop_server' EXIT

command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
BIN="${OPS_COST_BINARY:-}"
if [ -z "$BIN" ]; then
  TARGET="${CARGO_TARGET_DIR:-$PWD/target/bench}"
  CARGO_TARGET_DIR="$TARGET" cargo build --release --quiet --features bench-routes
  BIN="$TARGET/release/hr-portal"
fi
export ROCKET_DATA_DIR="$WORK/data" ROCKET_PORT="$PORT" ROCKET_SECURE_COOKIES=false
export ROCKET_DATABASE_URL="" ROCKET_WORKERS=2 ROCKET_LOG_LEVEL=off
"$BIN" demo >/dev/null
echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null

# Sends N keep-alive GETs of a path (with or without the session cookie); every answer must be 200.
hammer() { # path cookie n
  python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import http.client, sys
port, path, cookie, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Cookie": f"hr_session={cookie}"} if cookie else {}
for _ in range(n):
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)
PY
}

writes() { awk '$1=="syscw:" {print $2}' "/proc/$SERVER_PID/io"; }

# Starts the server under callgrind with the given extra environment, signs the bench admin in.
start_server() { # mode env...
  local mode="$1"
  shift
  env "$@" valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$mode.%p" "$BIN" \
    >"$WORK/$mode.stdout" 2>"$WORK/$mode.stderr" &
  SERVER_PID=$!
  await_server 600
  JAR="$WORK/$mode.jar"
  sign_in_bench_admin
  SESSION=$(awk '$6=="hr_session"{print $7}' "$JAR")
  [ -n "$SESSION" ] || { echo "$mode: login failed" >&2; exit 1; }
}

# Instructions and write calls per request for one page: "instructions writes".
measure() { # mode path cookie
  hammer "$2" "$3" 50 # warm caches, statement caches, the metrics' label sets
  callgrind_control -z "$SERVER_PID" >/dev/null
  local before after file
  before=$(writes)
  hammer "$2" "$3" "$REQUESTS"
  after=$(writes)
  # Each dump is a new file, callgrind.MODE.PID.N; wait until the new one is complete.
  local count
  count=$(ls "$WORK"/callgrind."$1".* 2>/dev/null | wc -l)
  callgrind_control -d "$SERVER_PID" >/dev/null
  file=""
  for _ in $(seq 1 100); do
    file=$(ls "$WORK"/callgrind."$1".* 2>/dev/null | sort -V | tail -n1)
    if [ "$(ls "$WORK"/callgrind."$1".* | wc -l)" -gt "$count" ] && grep -qE '^totals:' "$file"; then
      break
    fi
    file=""
    sleep 0.2
  done
  [ -n "$file" ] || { echo "$1 $2: no callgrind dump" >&2; exit 1; }
  awk -v n="$REQUESTS" -v w="$((after - before))" \
    '/^(summary|totals):/ {printf "%.0f %.2f\n", $2 / n, w / n; exit}' "$file"
}

PAGES=("/bench/page/session" "/dashboard" "/login")
NAMES=("small page behind the session (\`/bench/page/session\`)" "dashboard, demo company (\`/dashboard\`)"
  "login page, anonymous (\`/login\`)")
declare -A RESULT
for mode in plain operated; do
  if [ "$mode" = plain ]; then
    start_server plain ROCKET_LOG_LEVEL=off
  else
    start_server operated ROCKET_LOG_LEVEL=critical ROCKET_LOG_FORMAT=json \
      ROCKET_METRICS_ADDRESS="127.0.0.1:$METRICS_PORT"
  fi
  for i in "${!PAGES[@]}"; do
    cookie="$SESSION"
    [ "${PAGES[$i]}" = /login ] && cookie=""
    RESULT["$mode,$i"]=$(measure "$mode" "${PAGES[$i]}" "$cookie")
  done
  if [ "$mode" = operated ]; then
    # The operated server really counted: its metrics and the request lines hold every request.
    curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt"
    grep -q "^hr_portal_http_requests_total{.*route=\"/dashboard\"" "$WORK/metrics.txt" ||
      { echo "the operated server did not count requests" >&2; exit 1; }
  fi
  stop_server
done

LINES=$(grep -c '"target":"hr_portal::request"' "$WORK/operated.stdout" || true)
EXPECTED=$(((REQUESTS + 50) * ${#PAGES[@]}))
[ "$LINES" -ge "$EXPECTED" ] ||
  { echo "only $LINES request lines written, expected at least $EXPECTED" >&2; exit 1; }

echo
echo "Instructions per request (callgrind, whole process, $REQUESTS keep-alive requests per page," \
  "release build, $(date -u +%Y-%m-%d))"
echo
echo "| Page | plain | metrics + JSON logs | cost | write(2) calls per request, plain → with |"
echo "|---|---|---|---|---|"
for i in "${!PAGES[@]}"; do
  read -r plain plain_writes <<<"${RESULT["plain,$i"]}"
  read -r operated operated_writes <<<"${RESULT["operated,$i"]}"
  printf '| %s | %s | %s | %s | %s → %s |\n' "${NAMES[$i]}" "$plain" "$operated" \
    "$(awk -v a="$plain" -v b="$operated" 'BEGIN {printf "%+d (%+.1f %%)", b - a, (b - a) / a * 100}')" \
    "$plain_writes" "$operated_writes"
done
echo
echo "$LINES JSON request lines written; callgrind files: $WORK (callgrind_annotate FILE)"
