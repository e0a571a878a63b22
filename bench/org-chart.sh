#!/usr/bin/env bash
# The org chart at company scale: imports ORG_PEOPLE people (default 20 000: a manager for every
# ten, 40 departments, one in fifty of those who manage nobody gone — the shape bench/import.sh
# uses) into SQLite through the command line, starts a release build and measures, signed in, the
# chart's first view (/org), a folded team opened (/org?root=<someone on the third level>) and a search
# that finds one person (/org?q=…): page size and the median time of ORG_REQUESTS requests
# (default 15) with curl on loopback. Prints a Markdown table.
#
#   bench/org-chart.sh
#
# The pages are small enough that curl's total time is the server's time plus a loopback hop.
# Wall-clock figures move when the machine is shared: run it several times and take the median.
# Needs python3 (writes the staff list) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

PEOPLE="${ORG_PEOPLE:-20000}"
REQUESTS="${ORG_REQUESTS:-15}"
# A port nobody holds, so a server still shutting down from an earlier run cannot answer.
PORT="${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
PASSWORD="benchmark password 1"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet -j 1
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/hr-portal"
export ROCKET_DATA_DIR="$WORK/data" ROCKET_PORT="$PORT" ROCKET_LOG_LEVEL=off
export ROCKET_SECURE_COOKIES=false ROCKET_DATABASE_URL=""
echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null

python3 bench/staff_csv.py "$WORK/staff.csv" "$PEOPLE"
"$BIN" employees import "$WORK/staff.csv" >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log" >&2; exit 1; }

"$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
await_server 300
kill -0 "$SERVER_PID" || { cat "$WORK/server.log" >&2; exit 1; }
JAR="$WORK/cookies"
sign_in_bench_admin

# The employee id of "Person <n>", from the database (the import gives ids in its own order).
id_of() { # n
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT id FROM employees WHERE email = ?", (sys.argv[2],)).fetchone()[0])' \
    "$WORK/data/hr-portal.db" "person$1@example.com"
}
# Person 12 is on the third level (0 → 1 → 12), the first whose team the chart folds: the
# first "Open team" link of the first view leads here (1 110 people below them).
OPENED=$(id_of 12)

# "bytes median-ms" for PATH.
measure() { # path
  local answer bytes
  answer=$(curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{size_download}' "$BASE$1")
  [ "${answer% *}" = 200 ] || { echo "$1 answered ${answer% *}" >&2; exit 1; }
  bytes=${answer#* }
  for _ in $(seq 1 "$REQUESTS"); do
    curl -fs -o /dev/null -b "$JAR" -w '%{time_total}\n' "$BASE$1"
  done | sort -n | awk -v b="$bytes" '{a[NR]=$1} END {printf "%d %.1f", b, a[int((NR+1)/2)] * 1000}'
}

row() { # label path
  local m
  m=$(measure "$2")
  printf '| %s | `%s` | %s KB | %s ms |\n' "$1" "$2" "$(awk -v b="${m% *}" 'BEGIN {printf "%.0f", b / 1000}')" "${m#* }"
}

echo
echo "Org chart with $PEOPLE people (SQLite, release build, median of $REQUESTS requests)"
echo
echo "| View | Path | Size | Time |"
echo "|---|---|---|---|"
row "first view" /org
row "a team opened from the first view (1 110 below)" "/org?root=$OPENED"
row "search, one match" "/org?q=Person+12345"
