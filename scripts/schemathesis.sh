#!/usr/bin/env bash
# Property-based tests of tern's API against its own OpenAPI description
# (/api/v1/openapi.json) with schemathesis (PyPI): no 5xx, every answer in the status
# codes, content types and schemas the description gives, bad input rejected, auth enforced.
# Not checked: positive_data_acceptance (2xx for every schema-valid body), as some rules
# live in the data, not the schema: a lease's address must lie in a configured subnet.
# Credentials go with --auth (not a fixed header) so the ignored_auth check can take them off.
#
#   scripts/schemathesis.sh                 # builds tern if needed, runs, exits with st's code
#   MAX_EXAMPLES=200 MAX_TIME=600 scripts/schemathesis.sh
#
# Environment: TERN_BIN (default target/debug/tern, built when missing), VENV (default
# target/schemathesis-venv, reused), MAX_EXAMPLES per operation (default 30), MAX_TIME in
# seconds for the whole run (default 120), SEED (default 1, so a failure reproduces),
# REPORT_DIR (default: in the temp dir, removed after a clean run unless KEEP=1).
# Exit 3: schemathesis could not be installed (no PyPI, no python3-venv).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
MAX_EXAMPLES=${MAX_EXAMPLES:-30}
MAX_TIME=${MAX_TIME:-120}
SEED=${SEED:-1}
VENV=${VENV:-$ROOT/target/schemathesis-venv}
TERN_BIN=${TERN_BIN:-$ROOT/target/debug/tern}

if [ ! -x "$VENV/bin/st" ]; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        apt-get install -y -q python3-venv >/dev/null || { echo "schemathesis.sh: no python3-venv" >&2; exit 3; }
    fi
    python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check schemathesis; then
        echo "schemathesis.sh: cannot install schemathesis from PyPI" >&2
        rm -rf "$VENV"
        exit 3
    fi
fi
[ -x "$TERN_BIN" ] || cargo build -q --bin tern

WORK=$(mktemp -d /tmp/tern-schemathesis.XXXXXX)
# As root, tern runs its PostgreSQL as another user, who must be able to enter the dir.
chmod o+x "$WORK"
REPORT_DIR=${REPORT_DIR:-$WORK/report}
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KEY=schemathesis-key
PASSWORD=schemathesis-password
cat >"$WORK/tern.json" <<EOF
{
    "Dhcp4": {
        "interfaces-config": { "interfaces": [ ] },
        "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.100 - 192.0.2.199" } ] } ]
    },
    "Api": { "ip-address": "127.0.0.1", "port": $PORT,
             "authentication": { "type": "basic", "clients": [ { "user": "st", "password": "$PASSWORD" } ] },
             "api-keys": [ { "name": "schemathesis", "key": "$KEY" } ] }
}
EOF

TERN_PID=
stop_tern() {
    if [ -n "$TERN_PID" ] && kill -0 "$TERN_PID" 2>/dev/null; then
        kill -TERM "$TERN_PID"
        # tern stops its embedded PostgreSQL before it exits.
        for _ in $(seq 1 300); do kill -0 "$TERN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$TERN_PID" 2>/dev/null || true
    fi
}
rc=1
# The scratch dir (data dir, logs, report) stays for a look after a failure or with KEEP=1.
cleanup() {
    stop_tern
    if [ "$rc" = 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$TERN_BIN" serve -c "$WORK/tern.json" --data-dir "$WORK/data" >"$WORK/tern.log" 2>&1 &
TERN_PID=$!
for _ in $(seq 1 600); do
    grep -q TERN_READY "$WORK/tern.log" && break
    if ! kill -0 "$TERN_PID" 2>/dev/null; then
        echo "schemathesis.sh: tern exited before it was ready:" >&2
        cat "$WORK/tern.log" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q TERN_READY "$WORK/tern.log" || { echo "schemathesis.sh: tern not ready after 60 s" >&2; exit 1; }

echo "schemathesis.sh: tern pid $TERN_PID on 127.0.0.1:$PORT; log $WORK/tern.log; report $REPORT_DIR"
set +e
# From the scratch dir: schemathesis keeps a .schemathesis/ cache in its working directory.
cd "$WORK"
"$VENV/bin/st" --no-color run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --seed "$SEED" \
    --workers 2 \
    --request-timeout 10 \
    --auth "st:$PASSWORD" \
    --report junit,ndjson --report-dir "$REPORT_DIR"
rc=$?
set -e
if grep -q API_INTERNAL_ERROR "$WORK/tern.log"; then
    echo "schemathesis.sh: tern logged internal errors:" >&2
    grep API_INTERNAL_ERROR "$WORK/tern.log" | sort | uniq -c | head -20 >&2
    [ $rc -ne 0 ] || rc=1
fi
exit $rc
