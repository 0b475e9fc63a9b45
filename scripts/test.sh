#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the real peers, then runs
# every crate's unit and integration tests (they start their own private PostgreSQL, BIND, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test
# Every peer was just installed: a test that finds one missing fails instead of skipping.
export CI="${CI:-true}"
# The layout ARCHITECTURE.md promises: no module import cycles in any crate, and no
# SQL on Kea's tables outside store/.
scripts/module-cycles.py
kea_sql='(from|into|update|join)\s+(public\.)?(lease4|lease6|hosts|ipv6_reservations|dhcp4_options|dhcp6_options)\b'
if grep -rniE "$kea_sql" --include='*.rs' api/src dhcp/src d2/src dnsmsg/src ncr/src config/src dns/src src; then
  echo "test.sh: SQL on Kea's tables outside store/ (above)" >&2
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --all-features --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary (cargo prints one result line per binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
