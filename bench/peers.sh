#!/usr/bin/env bash
# hr-portal beside an axum + tower-sessions reference (bench/axum-reference) on the same small page
# (a greeting and a 20-row table) behind a real session, measured in one run on this machine, and
# printed as a Markdown table.
#
#   bench/peers.sh                                                                   # SQLite
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/peers.sh    # + hr-portal on PostgreSQL
#
# With BENCH_DATABASE_URL the PostgreSQL instance serves the same session page and the dashboard,
# and the run ends with the database transactions per request it took (pg_stat_database: every
# transaction of its database during the whole run — lease renewals, the throttled activity-time
# writes and anything else — over every request sent to it, warm-up included).
#
#   PEERS_OPERATIONS=1 PEERS_NO_REFERENCE=1 bench/peers.sh    # + metrics and JSON logs, no axum
#
# PEERS_OPERATIONS=1 adds a second hr-portal (SQLite, port PORT+4) run as an operator would: the
# metrics listener on PORT+3 (scraped every second during the runs, more often than Prometheus
# does) and a JSON line per request written to a file. Its pages take their turns in the same
# alternating rounds as the plain instance's, so the two columns differ only by those two
# features (docs/benchmarks.md). PEERS_NO_REFERENCE=1 leaves the axum reference out (neither
# built nor run).
#
# Settings: PEERS_ROUNDS (4), PEERS_ROUND (4s per wrk run), PEERS_WARMUP (1s), PEERS_CONNECTIONS
# (32), PEERS_PORT (18180; the reference takes +1, hr-portal on PostgreSQL +2). Needs wrk
# (apt-get install wrk), curl and, for PostgreSQL, psql. Everything runs on 127.0.0.1 and every
# wrk run is bounded by -d. The reference is built only here, into target/bench-axum.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

ROUNDS="${PEERS_ROUNDS:-4}"
ROUND="${PEERS_ROUND:-4s}"
WARMUP="${PEERS_WARMUP:-1s}"
CONNECTIONS="${PEERS_CONNECTIONS:-32}"
PORT="${PEERS_PORT:-18180}"
PASSWORD="benchmark password 1"
WORK="$(mktemp -d)"
PIDS=()
DB_NAME=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$DB_NAME" ]; then
    psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || { echo "psql is missing" >&2; exit 1; }
fi

# Both in their own folders: the bench-routes build never replaces target/release/hr-portal, and
# the reference (its own workspace and Cargo.lock) never touches hr-portal's build.
CARGO_TARGET_DIR="$PWD/target/bench" cargo build --release --quiet --features bench-routes
if [ -z "${PEERS_NO_REFERENCE:-}" ]; then
  CARGO_TARGET_DIR="$PWD/target/bench-axum" cargo build --release --quiet --locked \
    --manifest-path bench/axum-reference/Cargo.toml
fi
BIN="$PWD/target/bench/release/hr-portal"
AXUM_BIN="$PWD/target/bench-axum/release/axum-reference"

export ROCKET_LOG_LEVEL=off ROCKET_SECURE_COOKIES=false ROCKET_LOGIN_FAILURES_PER_IP=1000000

# Starts an hr-portal instance with the demo company and the benchmark admin, signs in once and
# leaves the session cookie in $SESSION.
start_hr_portal() { # name port database-url
  export ROCKET_DATA_DIR="$WORK/$1" ROCKET_PORT="$2" ROCKET_DATABASE_URL="$3"
  "$BIN" demo >/dev/null
  echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null
  "$BIN" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  BASE="http://127.0.0.1:$2"
  await_server 150
  JAR="$WORK/$1.jar"
  sign_in_bench_admin
  SESSION=$(awk '$6=="hr_session"{print $7}' "$JAR")
  [ -n "$SESSION" ] || { echo "$1: login failed" >&2; exit 1; }
}

# Each target: label, URL, Cookie header (empty: none).
LABELS=() URLS=() COOKIES=()
target() { LABELS+=("$1"); URLS+=("$2"); COOKIES+=("$3"); }

start_hr_portal hr-portal "$PORT" ""
HR="$BASE"
target "hr-portal \`/bench/page/anonymous\` (no session lookup)" "$HR/bench/page/anonymous" ""
target "hr-portal \`/bench/page/session\`" "$HR/bench/page/session" "hr_session=$SESSION"
target "hr-portal \`/dashboard\` (demo company, 200 employees)" "$HR/dashboard" "hr_session=$SESSION"
REFERENCE=1 # the index of hr-portal /bench/page/session, what the ratios are against

if [ -n "${PEERS_OPERATIONS:-}" ]; then
  # Rocket's own lines stay at "critical" (its release default); the request lines are ours.
  METRICS="127.0.0.1:$((PORT + 3))"
  ROCKET_LOG_LEVEL=critical ROCKET_LOG_FORMAT=json ROCKET_METRICS_ADDRESS="$METRICS" \
    start_hr_portal hr-portal-ops "$((PORT + 4))" ""
  curl -fs "http://$METRICS/metrics" | grep -q '^hr_portal_build_info' ||
    { echo "the metrics listener does not answer" >&2; exit 1; }
  while sleep 1; do curl -fs -o /dev/null "http://$METRICS/metrics" || true; done &
  PIDS+=($!)
  target "hr-portal \`/bench/page/session\`, metrics + JSON logs" "$BASE/bench/page/session" "hr_session=$SESSION"
  target "hr-portal \`/dashboard\`, metrics + JSON logs" "$BASE/dashboard" "hr_session=$SESSION"
fi

if [ -z "${PEERS_NO_REFERENCE:-}" ]; then
  "$AXUM_BIN" "$((PORT + 1))" "$WORK/axum.db" >"$WORK/axum.log" 2>&1 &
  PIDS+=($!)
  BASE="http://127.0.0.1:$((PORT + 1))"
  await_server 150
  curl -fs -o /dev/null -c "$WORK/axum.jar" --data-urlencode "email=bench@example.com" "$BASE/login"
  AXUM_SESSION=$(awk '$6=="id"{print $7}' "$WORK/axum.jar")
  [ -n "$AXUM_SESSION" ] || { echo "axum reference: login failed" >&2; exit 1; }
  target "axum 0.8 + tower-sessions 0.14 \`/page\` (SQLite store)" "$BASE/page" "id=$AXUM_SESSION"
fi

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  DB_NAME="hr_portal_peers_$$"
  psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $DB_NAME"
  start_hr_portal hr-portal-pg "$((PORT + 2))" "${BENCH_DATABASE_URL%/*}/$DB_NAME"
  PG_PID=${PIDS[-1]}
  target "hr-portal \`/bench/page/session\` on PostgreSQL" "$BASE/bench/page/session" "hr_session=$SESSION"
  PG_TARGETS=" $((${#URLS[@]} - 1)) "
  target "hr-portal \`/dashboard\` on PostgreSQL" "$BASE/dashboard" "hr_session=$SESSION"
  PG_TARGETS+="$((${#URLS[@]} - 1)) "
fi
# Transactions committed or rolled back in the PostgreSQL instance's database so far.
pg_transactions() {
  psql "$BENCH_DATABASE_URL" -Atc \
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB_NAME'"
}
PG_REQUESTS=0

# Every page must answer 200 with the signed-in greeting before it is measured. Its full size
# (headers and body) is what each wrk response must average: a redirect to /login (which wrk
# would count as a success) or an error page is far smaller.
SIZES=() BODIES=()
for i in "${!URLS[@]}"; do
  read -r status header body < <(curl -s -o "$WORK/page.html" -H "Cookie: ${COOKIES[$i]}" \
    -w '%{http_code} %{size_header} %{size_download}\n' "${URLS[$i]}")
  if [ "$status" != 200 ] || ! grep -q "Bench Admin" "$WORK/page.html"; then
    echo "${LABELS[$i]}: answered $status without the signed-in page" >&2
    exit 1
  fi
  SIZES+=($((header + body))) BODIES+=("$body")
done

# Only a done() hook, so wrk's request path stays free of Lua; it prints the exact totals.
cat >"$WORK/done.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("PEERS %d %d %d %d %d\n", summary.requests, summary.duration,
    summary.bytes, e.status, e.connect + e.read + e.write + e.timeout))
end
LUA

run_wrk() { # index duration -> "req/s bytes-per-response status-errors socket-errors"
  local cookie=()
  [ -z "${COOKIES[$1]}" ] || cookie=(-H "Cookie: ${COOKIES[$1]}")
  wrk -t2 -c"$CONNECTIONS" -d"$2" -s "$WORK/done.lua" "${cookie[@]}" "${URLS[$1]}" |
    awk '$1=="PEERS" && $2>0 {printf "%.0f %.0f %d %d %d\n", $2 / $3 * 1e6, $4 / $2, $5, $6, $2}'
}

COUNT=${#URLS[@]}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
[ -z "${DB_NAME}" ] || PG_BEFORE=$(pg_transactions)
for i in "${!URLS[@]}"; do # connections, statement caches
  read -r _ _ _ _ requests < <(run_wrk "$i" "$WARMUP") || requests=0
  [[ "${PG_TARGETS:-}" != *" $i "* ]] || PG_REQUESTS=$((PG_REQUESTS + requests))
done
# Alternating rounds, each starting one system later, so no system always follows the same one.
BAD=0
for round in $(seq 0 $((ROUNDS - 1))); do
  for step in $(seq 0 $((COUNT - 1))); do
    i=$(((round + step) % COUNT))
    read -r rps bytes status socket requests < <(run_wrk "$i" "$ROUND") ||
      { echo "${LABELS[$i]}: wrk completed no request" >&2; exit 1; }
    [[ "${PG_TARGETS:-}" != *" $i "* ]] || PG_REQUESTS=$((PG_REQUESTS + requests))
    echo "$rps" >>"$WORK/rounds.$i"
    # Within 10 % of the checked page's size; nothing answered 4xx/5xx; no socket errors.
    if [ "$status" != 0 ] || [ "$socket" != 0 ] ||
      [ $((bytes * 10)) -lt $((SIZES[i] * 9)) ] || [ $((bytes * 10)) -gt $((SIZES[i] * 11)) ]; then
      echo "${LABELS[$i]}, round $((round + 1)): $status error statuses, $socket socket errors," \
        "$bytes bytes per response (the page is ${SIZES[$i]})" >&2
      BAD=1
    fi
  done
done

median() { sort -n "$1" | awk '{v[NR]=$1} END {m=(NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.0f", m}'; }
REF_RPS=$(median "$WORK/rounds.$REFERENCE")
echo
echo "$(nproc) cores · wrk -t2 -c$CONNECTIONS · $ROUNDS alternating rounds of $ROUND per system," \
  "medians · load average before: $LOAD_BEFORE · $(date -u +%Y-%m-%d)"
echo
echo "| System | req/s | vs hr-portal \`/bench/page/session\` | rounds (req/s) | body bytes |"
echo "|---|---|---|---|---|"
for i in "${!URLS[@]}"; do
  rps=$(median "$WORK/rounds.$i")
  printf '| %s | %s | %s× | %s | %s |\n' "${LABELS[$i]}" "$rps" \
    "$(awk -v a="$rps" -v b="$REF_RPS" 'BEGIN {printf "%.2f", a / b}')" \
    "$(paste -sd' ' "$WORK/rounds.$i" | sed 's/ / · /g')" "${BODIES[$i]}"
done
if [ -n "${DB_NAME}" ]; then
  # A backend reports its counts when it goes idle (at most once a second, up to ten seconds
  # late) and when it exits: stop the instance first, so every transaction is counted.
  kill "$PG_PID"
  wait "$PG_PID" 2>/dev/null || true
  sleep 1
  PG_AFTER=$(pg_transactions)
  echo
  echo "PostgreSQL: $((PG_AFTER - PG_BEFORE)) database transactions for $PG_REQUESTS signed-in" \
    "requests: $(awk -v t="$((PG_AFTER - PG_BEFORE))" -v r="$PG_REQUESTS" 'BEGIN {printf "%.4f", t / r}')" \
    "per request"
fi
if [ -n "${PEERS_OPERATIONS:-}" ]; then
  echo
  echo "JSON request lines written: $(grep -c '"target":"hr_portal::request"' "$WORK/hr-portal-ops.log")" \
    "($(du -h "$WORK/hr-portal-ops.log" | cut -f1))"
fi
[ "$BAD" = 0 ] || { echo "some responses were not the signed-in page (see above)" >&2; exit 1; }
