#!/usr/bin/env bash
# The systemd unit's sandbox, scored by systemd itself: `systemd-analyze security --offline=true`
# must rate deploy/hr-portal.service 2.0 or lower (run by .ci/run; docs/operations.md#systemd).
set -euo pipefail
cd "$(dirname "$0")/.."
UNIT=deploy/hr-portal.service
command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze is missing: apt-get install systemd" >&2
  exit 1
}
# --threshold is the exposure × 10: 20 means 2.0; the command fails above it.
if ! REPORT=$(systemd-analyze security --offline=true --threshold=20 "$UNIT" 2>&1); then
  echo "$REPORT" | grep -E '✗|Overall' >&2
  echo "$UNIT scores above 2.0" >&2
  exit 1
fi
echo "$REPORT" | grep 'Overall exposure level'
