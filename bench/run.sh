#!/usr/bin/env bash
# Benchmarks hr-portal with wrk against a release build and prints a Markdown table.
#
#   bench/run.sh                      # SQLite (default)
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/run.sh
#
# Needs wrk (apt-get install wrk), python3 and, for PostgreSQL, psql. Everything runs on
# 127.0.0.1; every wrk run is bounded by -d. Figures go to stdout; the server log to $WORK/server.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-18080}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
PASSWORD="benchmark password 1"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# The bench-routes feature adds the two comparison pages (/bench/page/…); normal builds lack them,
# so this build goes to its own folder and never replaces target/release/hr-portal.
CARGO_TARGET_DIR="$PWD/target/bench" cargo build --release --quiet --features bench-routes
BIN="$PWD/target/bench/release/hr-portal"

export ROCKET_DATA_DIR="$WORK/data"
export ROCKET_PORT="$PORT"
export ROCKET_LOG_LEVEL=off
export ROCKET_SECURE_COOKIES=false
export ROCKET_LOGIN_FAILURES_PER_IP=1000000
BACKEND=sqlite
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  BACKEND=postgres
  DB_NAME="hr_portal_bench_$$"
  psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $DB_NAME"
  export ROCKET_DATABASE_URL="${BENCH_DATABASE_URL%/*}/$DB_NAME"
  trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)"' EXIT
else
  export ROCKET_DATABASE_URL=""
fi

# The demo company (200 employees in 8 departments) gives the dashboard real figures to draw.
"$BIN" demo >/dev/null
echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null
# The login storm signs in as 32 different people (one account hammered in parallel would,
# rightly, trip its own throttle).
STORM_ACCOUNTS=32
for i in $(seq 0 $((STORM_ACCOUNTS - 1))); do
  echo "$PASSWORD" | "$BIN" user add "storm$i@example.com" --name "Storm $i" >/dev/null
done
"$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
await_server 50

# Sign in once with curl; wrk replays the cookie.
JAR="$WORK/cookies"
sign_in_bench_admin
SESSION=$(awk '$6=="hr_session"{print $7}' "$JAR")
FORM=$(awk '$6=="hr_form"{print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "login failed" >&2; exit 1; }

run_wrk() { # connections path [extra args...] -> "req/s p50 p99"
  local connections=$1 path=$2; shift 2
  wrk -t2 -c"$connections" -d"$DURATION" --latency "$@" "$BASE$path" 2>/dev/null | python3 -c '
import re, sys
text = sys.stdin.read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
def pct(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{float(rps):.0f} {pct(50):.2f} {pct(99):.2f} {non2xx.group(1) if non2xx else 0}")'
}

rss_mib() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }
peak_mib() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }

COOKIE="Cookie: hr_session=$SESSION"
LOGIN_LUA="$WORK/login.lua"
cat >"$LOGIN_LUA" <<LUA
local counter = math.random(0, $STORM_ACCOUNTS - 1)
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Cookie"] = "hr_form=$FORM",
}
request = function()
  counter = (counter + 1) % $STORM_ACCOUNTS
  local body = "email=storm" .. counter .. "%40example.com&password=benchmark+password+1&csrf_token=$TOKEN"
  return wrk.format("POST", "/login", headers, body)
end
LUA

row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }
echo
echo "Backend: $BACKEND · $(nproc) cores · wrk -t2 -d$DURATION on the same machine · $(date -u +%Y-%m-%d)"
echo
echo "| Scenario | req/s | p50 ms | p99 ms | non-2xx/3xx |"
echo "|---|---|---|---|---|"
read -r r p50 p99 bad < <(run_wrk 32 /dashboard -H "$COOKIE"); row "GET /dashboard, signed in, 32 connections" "$r" "$p50" "$p99" "$bad"
read -r r p50 p99 bad < <(run_wrk 256 /dashboard -H "$COOKIE"); row "GET /dashboard, signed in, 256 connections" "$r" "$p50" "$p99" "$bad"
RSS_256=$(rss_mib)
read -r r p50 p99 bad < <(run_wrk 32 /login); row "GET /login, anonymous, 32 connections" "$r" "$p50" "$p99" "$bad"
read -r r p50 p99 bad < <(run_wrk 8 /login -s "$LOGIN_LUA"); row "POST /login storm alone, 8 connections" "$r" "$p50" "$p99" "$bad"
# The dashboard while a login storm runs beside it (argon2 must not starve page requests).
run_wrk 8 /login -s "$LOGIN_LUA" >"$WORK/storm.txt" &
STORM=$!
sleep 1
read -r r p50 p99 bad < <(run_wrk 32 /dashboard -H "$COOKIE"); row "GET /dashboard, 32 connections, during the login storm" "$r" "$p50" "$p99" "$bad"
wait "$STORM"

# What the session costs: the same small page (greeting + 20-row table) with and without the
# session lookup, in alternating rounds; medians of three rounds each.
SHORT="${BENCH_ROUND:-5s}"
for round in 1 2 3; do
  DURATION="$SHORT" run_wrk 32 /bench/page/anonymous >>"$WORK/plain.txt"
  DURATION="$SHORT" run_wrk 32 /bench/page/session -H "$COOKIE" >>"$WORK/session.txt"
done
median() { sort -n -k1,1 "$1" | sed -n 2p; }
read -r r p50 p99 bad < <(median "$WORK/plain.txt"); PLAIN_RPS=$r
row "Same small page, no session lookup (median of 3 alternating rounds)" "$r" "$p50" "$p99" "$bad"
read -r r p50 p99 bad < <(median "$WORK/session.txt"); SESSION_RPS=$r
row "Same small page behind the session (median of 3 alternating rounds)" "$r" "$p50" "$p99" "$bad"

# Scale: 10 000 users and 100 000 live sessions in the tables.
python3 bench/seed.py "$BACKEND" "${ROCKET_DATABASE_URL:-$ROCKET_DATA_DIR/hr-portal.db}"
read -r r p50 p99 bad < <(run_wrk 32 /dashboard -H "$COOKIE"); row "GET /dashboard, 32 connections, 100 000 sessions in the table" "$r" "$p50" "$p99" "$bad"
ADMIN_MS=$(for _ in $(seq 1 21); do curl -s -o /dev/null -w '%{time_total}\n' -H "$COOKIE" "$BASE/admin/sessions"; done \
  | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}')
row "GET /admin/sessions first page with 100 000 sessions (median of 21, curl)" "—" "$ADMIN_MS" "—" "0"
echo
echo "Session lookup costs $(python3 -c "print(f'{(1 - $SESSION_RPS / $PLAIN_RPS) * 100:.1f}')") % of the small page's throughput."
echo "Resident memory after the 256-connection run: ${RSS_256} MiB; peak over the whole run: $(peak_mib) MiB."
