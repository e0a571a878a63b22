#!/usr/bin/env bash
# The audit page at scale: fills the trail with AUDIT_ROWS events (default 1 000 000, a year of a
# busy company), then times the admin's audit page, unfiltered and with each filter, against a
# release build. Prints a Markdown table (median of 15 requests each).
#
#   bench/audit_scale.sh
#
# Needs python3 (its sqlite3 module fills the table) and curl. SQLite only: the same indexes exist
# in the PostgreSQL migrations.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

ROWS="${AUDIT_ROWS:-1000000}"
PORT="${BENCH_PORT:-18095}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
PASSWORD="benchmark password 1"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/hr-portal"
export ROCKET_DATA_DIR="$WORK/data" ROCKET_PORT="$PORT" ROCKET_LOG_LEVEL=off
export ROCKET_SECURE_COOKIES=false ROCKET_DATABASE_URL=""
echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null

python3 - "$WORK/data/hr-portal.db" "$ROWS" <<'PY'
import sqlite3, sys, time
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
kinds = ["login_succeeded", "login_failed", "logout", "session_revoked", "login_throttled"]
now = int(time.time())
def rows():
    for i in range(n):
        account = 1 if i % 50 == 0 else None          # one event in 50 is the admin's own
        yield (now - (n - i) * 30, kinds[i % len(kinds)], account, account,
               f"person{i % 5000}@example.com", f"192.0.2.{i % 250}", "bench")
db.executemany("INSERT INTO audit_events (at, kind, actor_user_id, subject_user_id, email, ip, "
               "detail) VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
db.commit()
db.execute("ANALYZE")
db.close()
PY

"$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
await_server 300
JAR="$WORK/cookies"
sign_in_bench_admin

median_ms() { # path
  for _ in $(seq 1 15); do
    curl -fs -o /dev/null -b "$JAR" -w '%{time_total}\n' "$BASE$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] * 1000}'
}

echo
echo "Audit page with $ROWS events (SQLite, release build, median of 15, ms)"
echo
echo "| View | ms |"
echo "|---|---|"
echo "| newest page, no filter | $(median_ms /admin/audit) |"
echo "| page 200, no filter | $(median_ms '/admin/audit?page=200') |"
echo "| one kind (a fifth of the trail) | $(median_ms '/admin/audit?kind=login_failed') |"
echo "| one account (bench@, 1 in 50) | $(median_ms '/admin/audit?user=bench%40') |"
echo "| a typed address without an account | $(median_ms '/admin/audit?user=person42%40example.com') |"
