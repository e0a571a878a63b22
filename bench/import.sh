#!/usr/bin/env bash
# The staff-list import at scale: generates IMPORT_ROWS people (default 10 000: a manager for
# every ten, in 40 departments), then times, with a release build through the command line,
# the preview (`employees import --dry-run`) and the apply (`employees import`) into an empty
# database, and a second apply of the same file (everyone unchanged), on SQLite and — when
# BENCH_POSTGRES_URL points at a server (e.g. postgres://postgres@127.0.0.1:5432/postgres;
# a database of its own is created and dropped) — PostgreSQL. Prints a Markdown table: wall
# time and peak memory (max RSS of the process, /usr/bin/time -v).
#
#   bench/import.sh
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres bench/import.sh
#
# Needs python3 (writes the file), /usr/bin/time, and psql for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${IMPORT_ROWS:-10000}"
WORK="$(mktemp -d)"
PG_DB="hr_portal_import_bench_$$"
cleanup() {
  rm -rf "$WORK"
  if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
    psql -q "$BENCH_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

cargo build --release --quiet -j 1
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/hr-portal"
export ROCKET_LOG_LEVEL=off

python3 bench/staff_csv.py "$WORK/staff.csv" "$ROWS"

# Runs the import with ARGS; prints "seconds max-RSS-MiB".
timed() {
  /usr/bin/time -v -o "$WORK/time" "$BIN" employees import "$WORK/staff.csv" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(grep 'Maximum resident set size' "$WORK/time" | awk '{printf "%.0f", $NF / 1024}')
  echo "$wall $rss"
}

bench_backend() { # name
  local preview apply again
  # The schema is made first, so the preview's time is the preview's.
  "$BIN" user list >/dev/null
  preview=$(timed --dry-run)
  apply=$(timed)
  grep -q "Imported: $ROWS created" "$WORK/out" || { cat "$WORK/out" "$WORK/time" >&2; exit 1; }
  again=$(timed)
  grep -q "0 created, 0 updated, $ROWS unchanged" "$WORK/out" || { cat "$WORK/out" >&2; exit 1; }
  printf '| %s | %s s, %s MiB | %s s, %s MiB | %s s, %s MiB |\n' "$1" \
    ${preview% *} ${preview#* } ${apply% *} ${apply#* } ${again% *} ${again#* }
}

echo
echo "Staff-list import of $ROWS people (release build, command line, wall time and peak memory)"
echo
echo "| Database | Preview (--dry-run) | Apply (all new) | Apply again (all unchanged) |"
echo "|---|---|---|---|"
export ROCKET_DATA_DIR="$WORK/sqlite" ROCKET_DATABASE_URL=""
bench_backend SQLite
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  psql -q "$BENCH_POSTGRES_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
  export ROCKET_DATA_DIR="$WORK/postgres" ROCKET_DATABASE_URL="${BENCH_POSTGRES_URL%/*}/$PG_DB"
  bench_backend PostgreSQL
fi
