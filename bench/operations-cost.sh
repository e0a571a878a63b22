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
# included) divided by N.
#
# What callgrind cannot see is the kernel's side: the write(2) of a log line, the wake-ups of
# another thread. So each mode is then run again natively (no valgrind) for NATIVE requests per
# page, counting from /proc the process's write(2)-family calls (syscw of /proc/PID/io: the log
# lines, but also responses on the socket and the runtime's eventfd wake-ups), its threads'
# context switches and its CPU time (user + system; this one moves with the machine's load).
#
# Settings: OPS_COST_REQUESTS (2000), OPS_COST_NATIVE (10000), OPS_COST_PORT (18290; the metrics listener +1),
# CARGO_TARGET_DIR (default target/bench, as bench/profile.sh); OPS_COST_BINARY=path measures that
# build (made with `--features bench-routes`) instead of building one. Needs valgrind, python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

REQUESTS="${OPS_COST_REQUESTS:-2000}"
NATIVE="${OPS_COST_NATIVE:-10000}"
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
export ROCKET_PORT="$PORT" ROCKET_SECURE_COOKIES=false
export ROCKET_DATABASE_URL="" ROCKET_WORKERS=2 ROCKET_LOG_LEVEL=off

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

# The server's kernel-side counters: "writes context-switches cpu-ticks".
counters() {
  local writes switches ticks
  writes=$(awk '$1=="syscw:" {print $2}' "/proc/$SERVER_PID/io")
  switches=$(cat /proc/"$SERVER_PID"/task/*/status 2>/dev/null |
    awk '/^(non)?voluntary_ctxt_switches:/ {n += $2} END {print n}')
  ticks=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
  echo "$writes $switches $ticks"
}

# Starts the server (under callgrind unless mode is native-…) with the given extra environment
# and signs the bench admin in. Each mode has a data folder of its own, filled the same way: a
# second sign-in in a shared one would put one more session and device on the second server's
# dashboard.
start_server() { # run mode env...
  local run="$1" mode="$2"
  shift 2
  export ROCKET_DATA_DIR="$WORK/$run-$mode"
  "$BIN" demo >/dev/null
  echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null
  if [ "$run" = callgrind ]; then
    env "$@" valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$mode.%p" "$BIN" \
      >"$WORK/$run-$mode.stdout" 2>"$WORK/$run-$mode.stderr" &
  else
    env "$@" "$BIN" >"$WORK/$run-$mode.stdout" 2>"$WORK/$run-$mode.stderr" &
  fi
  SERVER_PID=$!
  await_server 600
  JAR="$WORK/$run-$mode.jar"
  sign_in_bench_admin
  SESSION=$(awk '$6=="hr_session"{print $7}' "$JAR")
  [ -n "$SESSION" ] || { echo "$mode: login failed" >&2; exit 1; }
}

# Instructions per request for one page under callgrind.
instructions() { # mode path cookie
  hammer "$2" "$3" 50 # warm caches, statement caches, the metrics' label sets
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  hammer "$2" "$3" "$REQUESTS"
  # Each dump is a new file, callgrind.MODE.PID.N; wait until the new one is complete.
  local count file=""
  count=$(ls "$WORK"/callgrind."$1".* 2>/dev/null | wc -l)
  callgrind_control -d "$SERVER_PID" >/dev/null 2>&1
  for _ in $(seq 1 100); do
    file=$(ls "$WORK"/callgrind."$1".* 2>/dev/null | sort -V | tail -n1)
    if [ "$(ls "$WORK"/callgrind."$1".* | wc -l)" -gt "$count" ] && grep -qE '^totals:' "$file"; then
      break
    fi
    file=""
    sleep 0.2
  done
  [ -n "$file" ] || { echo "$1 $2: no callgrind dump" >&2; exit 1; }
  awk -v n="$REQUESTS" '/^(summary|totals):/ {printf "%.0f\n", $2 / n; exit}' "$file"
}

# Per request, natively: "writes context-switches cpu-µs".
kernel_side() { # path cookie
  hammer "$1" "$2" 200
  local before after
  read -r -a before < <(counters)
  hammer "$1" "$2" "$NATIVE"
  sleep 0.1 # the log writer's last batch
  read -r -a after < <(counters)
  awk -v n="$NATIVE" -v w=$((after[0] - before[0])) -v c=$((after[1] - before[1])) \
    -v t=$((after[2] - before[2])) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.2f %.2f %.1f\n", w / n, c / n, t / hz * 1e6 / n}'
}

PAGES=("/bench/page/session" "/dashboard" "/login")
NAMES=("small page behind the session (\`/bench/page/session\`)" "dashboard, demo company (\`/dashboard\`)"
  "login page, anonymous (\`/login\`)")
declare -A RESULT
for run in callgrind native; do
  for mode in plain operated; do
    if [ "$mode" = plain ]; then
      start_server "$run" plain ROCKET_LOG_LEVEL=off
    else
      start_server "$run" operated ROCKET_LOG_LEVEL=critical ROCKET_LOG_FORMAT=json \
        ROCKET_METRICS_ADDRESS="127.0.0.1:$METRICS_PORT"
    fi
    for i in "${!PAGES[@]}"; do
      cookie="$SESSION"
      [ "${PAGES[$i]}" = /login ] && cookie=""
      if [ "$run" = callgrind ]; then
        RESULT["$mode,$i"]=$(instructions "$mode" "${PAGES[$i]}" "$cookie")
      else
        RESULT["$mode,$i,kernel"]=$(kernel_side "${PAGES[$i]}" "$cookie")
      fi
    done
    if [ "$mode" = operated ]; then
      # The operated server really counted: its metrics hold the pages' requests.
      curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/$run-metrics.txt"
      grep -q "^hr_portal_http_requests_total{.*route=\"/dashboard\"" "$WORK/$run-metrics.txt" ||
        { echo "the operated server did not count requests" >&2; exit 1; }
    fi
    stop_server
  done
done

# Every request has its line, the last ones included (written at the graceful stop).
for run in callgrind native; do
  n=$REQUESTS warm=50
  [ "$run" = native ] && n=$NATIVE warm=200
  LINES=$(grep -c '"target":"hr_portal::request"' "$WORK/$run-operated.stdout" || true)
  EXPECTED=$(((n + warm) * ${#PAGES[@]}))
  [ "$LINES" -ge "$EXPECTED" ] ||
    { echo "$run: only $LINES request lines written, expected at least $EXPECTED" >&2; exit 1; }
done

echo
echo "Per request, plain (no request line, no metrics) → metrics + JSON logs; release build," \
  "one keep-alive client, $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| Page | instructions, plain | with | cost | write(2)-family calls | context switches | CPU µs (load-dependent) |"
echo "|---|---|---|---|---|---|---|"
for i in "${!PAGES[@]}"; do
  plain=${RESULT["plain,$i"]} operated=${RESULT["operated,$i"]}
  read -r pw pc pt <<<"${RESULT["plain,$i,kernel"]}"
  read -r ow oc ot <<<"${RESULT["operated,$i,kernel"]}"
  printf '| %s | %s | %s | %s | %s → %s | %s → %s | %s → %s |\n' "${NAMES[$i]}" "$plain" "$operated" \
    "$(awk -v a="$plain" -v b="$operated" 'BEGIN {printf "%+d (%+.1f %%)", b - a, (b - a) / a * 100}')" \
    "$pw" "$ow" "$pc" "$oc" "$pt" "$ot"
done
echo
echo "Instructions: callgrind, whole process, $REQUESTS requests per page; the rest: natively," \
  "$NATIVE requests per page. callgrind files: $WORK (callgrind_annotate FILE)"
