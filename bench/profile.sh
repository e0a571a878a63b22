#!/usr/bin/env bash
# Instruction counts per request (valgrind callgrind: repeatable, independent of machine load)
# for the same small page with and without the session lookup, and for the dashboard.
#
#   bench/profile.sh            # prints a Markdown table; callgrind files stay in the printed folder
#
# Needs valgrind and python3. Uses the bench-routes build like bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

REQUESTS="${PROFILE_REQUESTS:-1000}"
PORT="${PROFILE_PORT:-18090}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
PASSWORD="benchmark password 1"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
CARGO_TARGET_DIR="$PWD/target/bench" cargo build --release --quiet --features bench-routes
BIN="$PWD/target/bench/release/hr-portal"
export ROCKET_DATA_DIR="$WORK/data" ROCKET_PORT="$PORT" ROCKET_LOG_LEVEL=off ROCKET_SECURE_COOKIES=false
export ROCKET_DATABASE_URL="" ROCKET_WORKERS=2
"$BIN" demo >/dev/null
echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null

valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.%p" "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
await_server 600

JAR="$WORK/cookies"
sign_in_bench_admin
SESSION=$(awk '$6=="hr_session"{print $7}' "$JAR")

# Sends N keep-alive GETs of a path (with or without the session cookie).
hammer() {
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

measure() { # label path cookie
  hammer "$2" "$3" 50                         # warm caches and statement caches
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  hammer "$2" "$3" "$REQUESTS"
  callgrind_control -d "${1//[^a-z]/-}" "$SERVER_PID" >/dev/null 2>&1
  sleep 1
  local file
  file=$(ls -t "$WORK"/callgrind.* | head -n1)
  awk -v n="$REQUESTS" -v label="$1" '/^(summary|totals):/ {printf "| %s | %.0f |\n", label, $2 / n; exit}' "$file"
}

echo
echo "Instructions per request (callgrind, $REQUESTS requests each, release build, whole process)"
echo
echo "| Page | Instructions per request |"
echo "|---|---|"
measure "small page, no session lookup" /bench/page/anonymous ""
measure "small page behind the session" /bench/page/session "$SESSION"
measure "dashboard with the demo company" /dashboard "$SESSION"
measure "login page, anonymous" /login ""
echo
echo "callgrind files: $WORK (open with callgrind_annotate)"
