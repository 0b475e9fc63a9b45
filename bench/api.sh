#!/usr/bin/env bash
# bench/api.sh -- tern's API under load with wrk: lease lookups (Kea's lease4-get on the
# command channel, REST GET /api/v1/leases/{ip}), reservation creates (REST POST, each with
# its own MAC and address), and rrset PATCHes through the PowerDNS zones API to BIND 9.
#
#   bench/api.sh                          # defaults (~1 min)
#   LEASES=100000 DURATION=20 bench/api.sh
#
# env: LEASES (10,000 leases written before the lookups), DURATION (10 s per step), CONNS
# (16 connections), THREADS (2 wrk threads), CREATES (50,000 reservations at most: when
# reached, wrk stops early but divides by the whole DURATION, so the row is marked),
# PATCHES (20,000 rrset PATCHes at most, the same way), TERN
# (target/release/tern), OUT (bench/results/api-DATE.txt).
# Everything runs in a private netns (ternbench-api: loopback only); tern is stopped by PID.
set -euo pipefail
# A netns of its own: lib.sh's cleanup deletes the netns, which must not pull the default
# one from under a dhcp4.sh or d2.sh running at the same time.
NS=${NS:-ternbench-api}
. "$(dirname "$0")/lib.sh"

LEASES=${LEASES:-10000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
CREATES=${CREATES:-50000}
PATCHES=${PATCHES:-20000}
DNS_PORT=5353
OUT=${OUT:-$BENCH_DIR/results/api-$(date -u +%F).txt}
PORT=8000
KEY=bench-key
[ "$LEASES" -le 1000000 ] || die "LEASES at most 1,000,000"
[ "$CREATES" -le 100000 ] || die "CREATES at most 100,000"
[ "$PATCHES" -le 100000 ] || die "PATCHES at most 100,000"

command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null || die "apt-get install wrk"; }
[ -x "$TERN" ] || die "no $TERN: cargo build --release"

bench_init api
exec > >(tee "$WORK/api.out.txt") 2>&1
# BIND holds example.com for the PowerDNS zones API: each PATCH is one TSIG-signed UPDATE.
bind_setup "$WORK/named" "$DNS_PORT"
bind_start "$WORK/named" "$DNS_PORT"

cat >"$WORK/tern.json" <<EOF
{
    "Dhcp4": {
        "interfaces-config": { "interfaces": [ ] },
        "subnet4": [ { "id": 1, "subnet": "10.0.0.0/8" } ],
        "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "INFO" } ]
    },
    "DhcpDdns": {
        "ip-address": "127.0.0.1", "port": 53001,
        "tsig-keys": [ { "name": "$KEYNAME", "algorithm": "HMAC-SHA256", "secret": "$KEYSECRET" } ],
        "forward-ddns": { "ddns-domains": [ { "name": "example.com.", "key-name": "$KEYNAME",
            "dns-servers": [ { "ip-address": "127.0.0.1", "port": $DNS_PORT } ] } ] }
    },
    "Api": { "ip-address": "127.0.0.1", "port": $PORT, "api-keys": [ { "name": "bench", "key": "$KEY" } ] }
}
EOF
start_bg tern "$WORK/tern.log" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/data"
wait_log "$WORK/tern.log" TERN_READY 60 || die "tern not ready: $(tail -5 "$WORK/tern.log")"

# Leases 10.1.0.0 upwards (address = 10.1.0.0 + i), written straight into lease4.
"$PG_BIN/psql" -h "$WORK/data/pg-socket" -U tern -d tern -v ON_ERROR_STOP=1 -qAtX -c "
    INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state)
    SELECT 167837696 + i, decode(lpad(to_hex(i), 12, '0'), 'hex'), 3600, now() + interval '1 hour',
           1, false, false, 'host-' || i, 0
    FROM generate_series(0, $LEASES - 1) AS i"

cat >"$WORK/common.lua" <<'EOF'
-- A random leased address 10.1.x.y below 10.1.0.0 + LEASES.
local leases = tonumber(os.getenv("LEASES"))
function random_lease()
    local i = math.random(0, leases - 1)
    return string.format("10.%d.%d.%d", 1 + math.floor(i / 65536), math.floor(i / 256) % 256, i % 256)
end
headers = { ["Content-Type"] = "application/json", ["X-API-Key"] = os.getenv("KEY") }
local next_tid = 1
function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
end
function init(args)
    math.randomseed(os.time() * 100 + tid)
end
EOF
cat >"$WORK/lease4-get.lua" <<'EOF'
dofile(os.getenv("WORK") .. "/common.lua")
function request()
    local body = '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "' .. random_lease() .. '"}}'
    return wrk.format("POST", "/", headers, body)
end
EOF
cat >"$WORK/rest-get.lua" <<'EOF'
dofile(os.getenv("WORK") .. "/common.lua")
function request()
    return wrk.format("GET", "/api/v1/leases/" .. random_lease(), headers)
end
EOF
# Each thread counts its own creates (distinct MAC 02:TT:cc:cc:cc:00 and address
# 10.(100+TT).c.c) and stops after its share of CREATES.
cat >"$WORK/rest-create.lua" <<'EOF'
dofile(os.getenv("WORK") .. "/common.lua")
local n, done = 0, 0
local share = math.ceil(tonumber(os.getenv("CREATES")) / tonumber(os.getenv("THREADS")))
function request()
    n = n + 1
    local body = string.format(
        '{"subnet-id": 1, "hw-address": "02:%02x:%02x:%02x:%02x:00", "ip-address": "10.%d.%d.%d", "hostname": "bench-%d-%d"}',
        tid, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256,
        100 + tid, math.floor(n / 256) % 256, n % 256, tid, n)
    return wrk.format("POST", "/api/v1/reservations", headers, body)
end
function response(status, headers, body)
    done = done + 1
    if done >= share then wrk.thread:stop() end
end
EOF
# One new A rrset per PATCH (name p-THREAD-N), so BIND's zone grows by one name each time.
cat >"$WORK/rrset-patch.lua" <<'EOF'
dofile(os.getenv("WORK") .. "/common.lua")
local n, done = 0, 0
local share = math.ceil(tonumber(os.getenv("PATCHES")) / tonumber(os.getenv("THREADS")))
function request()
    n = n + 1
    local body = string.format(
        '{"rrsets": [{"name": "p-%d-%d.example.com.", "type": "A", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "10.%d.%d.%d", "disabled": false}]}]}',
        tid, n, 200 + tid, math.floor(n / 256) % 256, n % 256)
    return wrk.format("PATCH", "/api/v1/servers/localhost/zones/example.com.", headers, body)
end
function response(status, headers, body)
    done = done + 1
    if done >= share then wrk.thread:stop() end
end
EOF
export WORK LEASES CREATES PATCHES THREADS KEY

# The lookups must find their leases, not answer "0 IPv4 lease(s) found" fast.
probe=$(ip netns exec "$NS" curl -s -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    -d '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "10.1.0.7"}}' "http://127.0.0.1:$PORT/")
echo "$probe" | grep -q '"result": *0' || die "lease4-get of a written lease: $probe"

RESULTS=()
# step NAME SCRIPT : one bounded wrk run; prints wrk's output and keeps a summary row.
step() {
    local name=$1 script=$2 load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    log "$name: wrk -t$THREADS -c$CONNS -d${DURATION}s (load before: $load)"
    timeout $((DURATION + 30)) ip netns exec "$NS" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" \
        --latency -s "$WORK/$script" "http://127.0.0.1:$PORT" | tee "$WORK/$name.wrk.txt"
    local rps p50 p99 n non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$name.wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.wrk.txt")
    n=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/$name.wrk.txt")
    case $name in
        rest-create-reservation) [ "$n" -lt "$CREATES" ] || rps="$rps (cap reached: understated)" ;;
        rrset-patch) [ "$n" -lt "$PATCHES" ] || rps="$rps (cap reached: understated)" ;;
    esac
    RESULTS+=("| $name | $n | $rps | $p50 | $p99 | ${non2xx:-0} | $load |")
}

step lease4-get lease4-get.lua
step rest-get-lease rest-get.lua
step rest-create-reservation rest-create.lua
created=$("$PG_BIN/psql" -h "$WORK/data/pg-socket" -U tern -d tern -qAtX -c "SELECT count(*) FROM hosts")
log "reservations in hosts: $created"

step rrset-patch rrset-patch.lua
# Every 204 must be a name BIND now serves.
in_bind=$(ip netns exec "$NS" dig +noall +answer +time=5 -p "$DNS_PORT" @127.0.0.1 example.com AXFR \
    -y "hmac-sha256:$KEYNAME:$KEYSECRET" | awk '$1 ~ /^p-/ && $4 == "A"' | wc -l)
log "rrsets p-* in BIND: $in_bind"

{
    echo "# bench/api.sh $(date -u '+%F %H:%M') UTC: tern $("$TERN" version | cut -d' ' -f2), $(nproc) cores, wrk -t$THREADS -c$CONNS -d${DURATION}s, $LEASES leases, creates capped at $CREATES, PATCHes at $PATCHES"
    echo
    echo "| step | requests | req/s | p50 | p99 | non-2xx | load (1/5/15 min) before |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${RESULTS[@]}"
    echo
    echo "reservations created: $created; rrsets in BIND after the PATCHes: $in_bind; tern log WARN/ERROR lines: $(grep -cE ' (WARN|ERROR) ' "$WORK/tern.log" || true)"
} | tee "$WORK/summary.md"
mkdir -p "$(dirname "$OUT")"
{ cat "$WORK/summary.md"; echo; echo '## raw wrk output'; for f in "$WORK"/*.wrk.txt; do echo "### $(basename "$f" .wrk.txt)"; cat "$f"; done; } >"$OUT"
log "written $OUT"
