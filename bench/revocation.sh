#!/usr/bin/env bash
# How long a revocation takes on PostgreSQL with 1, 2 and 4 instances, now that each instance
# caches sessions and the revoking request waits for every instance's acknowledgement
# (src/cache/peers). Each round: the victim signs in on the first instance, the session is made
# hot in every instance's cache (two requests each), the administrator ends it from the first
# instance's admin page — that request is timed — and every instance must then answer the victim's
# cookie with a redirect to the login page. Printed as a Markdown table (p50, p99, max).
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/revocation.sh
#
# Settings: REVOCATION_ROUNDS (200), REVOCATION_INSTANCES ("1 2 4"), REVOCATION_PORT (18280).
# Needs curl and psql. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)}"
ROUNDS="${REVOCATION_ROUNDS:-200}"
COUNTS="${REVOCATION_INSTANCES:-1 2 4}"
PORT="${REVOCATION_PORT:-18280}"
PASSWORD="benchmark password 1"
WORK="$(mktemp -d)"
PIDS=()
DATABASES=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${DATABASES[@]}"; do
    psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v psql >/dev/null || { echo "psql is missing" >&2; exit 1; }
# The same build as bench/peers.sh (its own folder, never target/release).
CARGO_TARGET_DIR="$PWD/target/bench" cargo build --release --quiet --features bench-routes
BIN="$PWD/target/bench/release/hr-portal"
export ROCKET_LOG_LEVEL=off ROCKET_SECURE_COOKIES=false ROCKET_LOGIN_FAILURES_PER_IP=1000000

# The value of the form field `csrf_token` on the page at $1, fetched with the jar $2.
csrf_of() {
  curl -fs -c "$2" -b "$2" "$1" |
    grep -o 'name="csrf_token" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'
}

percentile() { # file p -> the p-th percentile (nearest rank), in milliseconds
  sort -n "$1" | awk -v p="$2" '{v[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.1f", v[i]*1000}'
}

echo "| Instances | rounds | p50 | p99 | max |"
echo "|---|---|---|---|---|"
for count in $COUNTS; do
  db="hr_portal_revocation_$$_$count"
  psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db"
  DATABASES+=("$db")
  export ROCKET_DATA_DIR="$WORK/data-$count" ROCKET_DATABASE_URL="${BENCH_DATABASE_URL%/*}/$db"
  echo "$PASSWORD" | "$BIN" user add bench@example.com --name "Bench Admin" --admin >/dev/null
  echo "$PASSWORD" | "$BIN" user add victim@example.com --name "Victim" >/dev/null
  VICTIM_ID=$(psql "$ROCKET_DATABASE_URL" -Atc "SELECT id FROM users WHERE email = 'victim@example.com'")
  BASES=()
  for n in $(seq 1 "$count"); do
    ROCKET_PORT=$((PORT + n)) "$BIN" >"$WORK/server-$count-$n.log" 2>&1 &
    PIDS+=($!)
    BASE="http://127.0.0.1:$((PORT + n))"
    await_server 150
    BASES+=("$BASE")
  done
  BASE="${BASES[0]}"
  JAR="$WORK/admin-$count.jar"
  sign_in_bench_admin
  ADMIN_CSRF=$(csrf_of "$BASE/admin/users" "$JAR")
  [ -n "$ADMIN_CSRF" ] || { echo "the administrator is not signed in" >&2; exit 1; }
  : >"$WORK/times-$count"
  for round in $(seq 1 "$ROUNDS"); do
    VJAR="$WORK/victim.jar"
    rm -f "$VJAR"
    token=$(csrf_of "$BASE/login" "$VJAR")
    curl -fs -o /dev/null -c "$VJAR" -b "$VJAR" --data-urlencode "email=victim@example.com" \
      --data-urlencode "password=$PASSWORD" --data-urlencode "csrf_token=$token" "$BASE/login"
    cookie="hr_session=$(awk '$6=="hr_session"{print $7}' "$VJAR")"
    for base in "${BASES[@]}"; do
      for _ in 1 2; do
        status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/account/password")
        [ "$status" = 200 ] || { echo "round $round: the victim is not signed in on $base" >&2; exit 1; }
      done
    done
    curl -fs -o /dev/null -b "$JAR" -w '%{time_total}\n' --data-urlencode "csrf_token=$ADMIN_CSRF" \
      "$BASE/admin/users/$VICTIM_ID/sessions/revoke" >>"$WORK/times-$count"
    for base in "${BASES[@]}"; do
      status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/account/password")
      [ "$status" = 303 ] || { echo "round $round: $base still served the revoked session ($status)" >&2; exit 1; }
    done
  done
  printf '| %s | %s | %s ms | %s ms | %s ms |\n' "$count" "$ROUNDS" \
    "$(percentile "$WORK/times-$count" 50)" "$(percentile "$WORK/times-$count" 99)" \
    "$(percentile "$WORK/times-$count" 100)"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
done
echo
echo "$(nproc) cores · $(date -u +%Y-%m-%d) · load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
