#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the real peers, then runs
# every crate's unit and integration tests (they start their own private PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test
cargo test --workspace --all-features --no-fail-fast "$@"
