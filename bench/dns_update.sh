#!/usr/bin/env bash
# bench/dns_update.sh -- RFC 2136 updates into a large zone while it is being queried:
# tern's zone server and BIND 9.18 (the same zone file, the same TSIG-signed updates, the
# same query file), one server at a time.
#
#   bench/dns_update.sh                           # 1,000,000-name zone, 10 s per phase
#   ZONE_RECORDS=100000 SERVERS=tern bench/dns_update.sh
#
# Per server: (0) dnsperf -u updates alone for DURATION s (other names, a<i>): the CPU each
# update costs the server, its database and dnsperf; (1) dnsperf queries alone for
# DURATION s; (2) the same queries while dnsperf -u sends one-record TSIG-signed UPDATEs
# (add u<i> A) for DURATION s. Printed: queries/s alone and under updates (the drop),
# updates/s, update latency, the CPU per update and per query; for tern also commit ->
# served (from its log: each version's DNS_UPDATE_APPLIED, written after the commit, to
# its DNS_ZONE_SERVING), median and p99.
#
# env: ZONE_RECORDS=1000000 (at most 5,000,000), QUERIES=100000, DURATION=10 (at most 120),
#   SERVERS="tern bind", CLIENTS=8 OUTSTANDING=200 (queries), UPD_CLIENTS=8 UPD_OUTSTANDING=256,
#   UPD_RATE=5000 (updates/s offered, dnsperf -Q: the target's rate; 0 = as fast as each server takes them),
#   QUERY_RATE=0 (queries/s offered; 0 = as fast as each server answers: then the two cores
#   are saturated and the drop is what the updates cost in CPU, dnsperf -u's own included),
#   NAMED_THREADS=2, TERN (target/release/tern), OUT (bench/results/dns-update-DATE.txt).
# Network: netns ternbench-dnsup, loopback only; servers stopped by PID.
set -euo pipefail
NS=${NS:-ternbench-dnsup}
. "$(dirname "$0")/lib.sh"

ZONE_RECORDS=${ZONE_RECORDS:-1000000}
QUERIES=${QUERIES:-100000}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-"tern bind"}
CLIENTS=${CLIENTS:-8}; OUTSTANDING=${OUTSTANDING:-200}
UPD_CLIENTS=${UPD_CLIENTS:-8}; UPD_OUTSTANDING=${UPD_OUTSTANDING:-256}
UPD_RATE=${UPD_RATE:-5000}
rate_opt=(); [ "$UPD_RATE" -gt 0 ] && rate_opt=(-Q "$UPD_RATE")
QUERY_RATE=${QUERY_RATE:-0}
qrate_opt=(); [ "$QUERY_RATE" -gt 0 ] && qrate_opt=(-Q "$QUERY_RATE")
NAMED_THREADS=${NAMED_THREADS:-2}
OUT=${OUT:-$BENCH_DIR/results/dns-update-$(date -u +%F).txt}
[ "$ZONE_RECORDS" -le 5000000 ] || die "ZONE_RECORDS at most 5,000,000"
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 120 ] || die "DURATION 1..120"
command -v dnsperf >/dev/null || die "dnsperf missing (apt-get install dnsperf)"
case " $SERVERS " in *" tern "*) tern_built;; esac

ZONE=bench.test
KEY=bench-up
SECRET=iSi6Z2aXlX3AkoWCORnUCUHb80H0x14vI7PaCGL66Co=
declare -A PORT=([bind]=5312 [tern]=5313)
LOAD_TIMEOUT=600

bench_init dnsup
exec > >(tee "$WORK/dnsup.out.txt") 2>&1
ZONEFILE=$WORK/bench.zone; QFILE=$WORK/queries.txt; UFILE=$WORK/updates.txt
META=$($PY "$BENCH_DIR/dns_zone.py" --zone "$ZONEFILE" --queries "$QFILE" -n "$ZONE_RECORDS" -Q "$QUERIES" --origin "$ZONE") \
    || die "dns_zone.py failed"
meta() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$META" "$1"; }
LAST=$(meta last); LAST_ADDR=$(meta last_addr)
# More updates than any server sends in DURATION s: dnsperf stops at the time limit.
# The updates-alone phase adds other names (a<i>): re-adding a record would be a no-op.
$PY - "$UFILE" "$WORK/updates-alone.txt" "$ZONE" <<'PY'
import sys
for path, prefix in ((sys.argv[1], "u"), (sys.argv[2], "a")):
    with open(path, "w") as f:
        for i in range(1_000_000):
            f.write(f"{sys.argv[3]}\nadd {prefix}{i} 300 A 10.250.{i >> 8 & 255}.{i & 255}\nsend\n")
PY

mkdir -p "$WORK/named"
cat >"$WORK/named.conf" <<EOF
options { directory "$WORK/named"; pid-file "$WORK/named/named.pid";
  listen-on port ${PORT[bind]} { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; notify no; dnssec-validation no; minimal-responses yes; };
controls { };
key "$KEY" { algorithm hmac-sha256; secret "$SECRET"; };
zone "$ZONE" { type primary; file "$WORK/named/bench.zone"; allow-update { key "$KEY"; }; };
EOF
cat >"$WORK/tern.json" <<EOF
{ "Dns": { "listen-on": [ { "ip-address": "127.0.0.1", "port": ${PORT[tern]} } ],
  "tsig-keys": [ { "name": "$KEY", "algorithm": "HMAC-SHA256", "secret": "$SECRET" } ],
  "zones": [ { "name": "$ZONE.", "file": "$ZONEFILE",
               "allow-update": [ { "key": "$KEY", "grant": "zonesub", "types": [ "A" ] } ] } ] } }
EOF

qps() { awk '/Queries per second|Updates per second/ {print $4}' "$1"; }
avg_ms() { awk '/Average Latency/ {printf "%.2f", $4 * 1000}' "$1"; }
lost() { awk '/Queries lost|Updates lost/ {print $3}' "$1"; }
# cpu PID: CPU seconds (user + system) of PID itself and, second field, of its live
# descendants (for tern: its embedded PostgreSQL).
cpu() {
    $PY - "$1" <<'PY'
import os, sys
root, tck = int(sys.argv[1]), os.sysconf("SC_CLK_TCK")
stat = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stat[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / tck)
kids, todo = 0.0, [root]
while todo:
    p = todo.pop()
    for c, (pp, t) in stat.items():
        if pp == p:
            kids += t
            todo.append(c)
print(f"{stat.get(root, (0, 0.0))[1]:.2f} {kids:.2f}")
PY
}
# timed FILE CMD...: CMD with its CPU seconds (user + system) written to FILE.
timed() { local f=$1; shift; /usr/bin/time -f '%U %S' -o "$f" "$@"; }
tcpu() { awk 'END { printf "%.2f", $1 + $2 }' "$1"; }
# per_op SECONDS_BEFORE SECONDS_AFTER OPS_PER_S: microseconds per operation over DURATION s.
per_op() { awk -v a="$1" -v b="$2" -v r="$3" -v d="$DURATION" 'BEGIN { if (r > 0) printf "%.0f", (b - a) / (r * d) * 1e6; else print "-" }'; }

declare -A RES
for s in $SERVERS; do
    cp "$ZONEFILE" "$WORK/named/bench.zone"
    rm -f "$WORK/named/bench.zone.jnl"
    t=$(date +%s.%N)
    case $s in
      bind) start_bg srv "$WORK/$s.log" ip netns exec "$NS" named -g -c "$WORK/named.conf" -n "$NAMED_THREADS" ;;
      tern) rm -rf "$WORK/tern-data"
            start_bg srv "$WORK/$s.log" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/tern-data" ;;
    esac
    inns $PY "$BENCH_DIR/dns_probe.py" --port "${PORT[$s]}" --name "$LAST" --addr "$LAST_ADDR" \
        --start "$t" --timeout "$LOAD_TIMEOUT" >/dev/null || { tail -20 "$WORK/$s.log"; die "$s did not load"; }
    spid=$(pid_of srv)
    log "$s loaded; updates alone for $DURATION s"
    # Updates alone first: what each update costs in CPU (server, its database, dnsperf),
    # the budget the queries lose when both run. Their names (u<i>) are not queried.
    read -r c0 k0 <<<"$(cpu "$spid")"
    timed "$WORK/$s-ua.cpu" ip netns exec "$NS" timeout $((DURATION + 30)) dnsperf -u -s 127.0.0.1 -p "${PORT[$s]}" -d "$WORK/updates-alone.txt" \
        -y "hmac-sha256:$KEY:$SECRET" -c "$UPD_CLIENTS" -T 1 -q "$UPD_OUTSTANDING" "${rate_opt[@]}" -l "$DURATION" \
        >"$WORK/$s-ua.txt" 2>&1
    read -r c1 k1 <<<"$(cpu "$spid")"
    log "$s: queries alone for $DURATION s"
    timed "$WORK/$s-q.cpu" ip netns exec "$NS" timeout $((DURATION + 30)) dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$QFILE" -c "$CLIENTS" -T 1 \
        -q "$OUTSTANDING" "${qrate_opt[@]}" -l "$DURATION" >"$WORK/$s-q.txt" 2>&1
    read -r c2 k2 <<<"$(cpu "$spid")"
    log "$s: queries and updates together for $DURATION s"
    timed "$WORK/$s-qu.cpu" ip netns exec "$NS" timeout $((DURATION + 30)) dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$QFILE" -c "$CLIENTS" -T 1 \
        -q "$OUTSTANDING" "${qrate_opt[@]}" -l "$DURATION" >"$WORK/$s-qu.txt" 2>&1 &
    qpid=$!
    timed "$WORK/$s-u.cpu" ip netns exec "$NS" timeout $((DURATION + 30)) dnsperf -u -s 127.0.0.1 -p "${PORT[$s]}" -d "$UFILE" \
        -y "hmac-sha256:$KEY:$SECRET" -c "$UPD_CLIENTS" -T 1 -q "$UPD_OUTSTANDING" "${rate_opt[@]}" -l "$DURATION" \
        >"$WORK/$s-u.txt" 2>&1
    wait "$qpid"
    read -r c3 k3 <<<"$(cpu "$spid")"
    ua=$(qps "$WORK/$s-ua.txt"); qa=$(qps "$WORK/$s-q.txt")
    RES[$s-cpu]="updates alone: $ua/s; CPU µs per update: server $(per_op "$c0" "$c1" "$ua"), its database $(per_op "$k0" "$k1" "$ua"), dnsperf -u $(per_op 0 "$(tcpu "$WORK/$s-ua.cpu")" "$ua"); per query alone: server $(per_op "$c1" "$c2" "$qa"), dnsperf $(per_op 0 "$(tcpu "$WORK/$s-q.cpu")" "$qa"); CPU s under both: server $(awk -v a="$c2" -v b="$c3" 'BEGIN{printf "%.1f", b-a}'), database $(awk -v a="$k2" -v b="$k3" 'BEGIN{printf "%.1f", b-a}'), dnsperf q $(tcpu "$WORK/$s-qu.cpu"), dnsperf -u $(tcpu "$WORK/$s-u.cpu")"
    latency="n/a"
    if [ "$s" = tern ]; then
        # commit -> served per version: DNS_UPDATE_APPLIED (logged after the commit) to the
        # DNS_ZONE_SERVING of the same serial. The updating server installs the version
        # right at commit, before it answers; other appliances on the store follow by
        # notification (measured by dns/tests/xfr.rs's secondaries, not here).
        latency=$($PY - "$WORK/$s.log" <<'PY'
import re, sys
applied, served = {}, {}
t = lambda l: (lambda h, m, s: int(h) * 3600 + int(m) * 60 + float(s))(*l[11:23].split(":"))
for l in open(sys.argv[1], errors="replace"):
    m = re.search(r"DNS_UPDATE_APPLIED zone \S+ serial (\d+)", l)
    if m:
        applied.setdefault(m[1], t(l))
    m = re.search(r"DNS_ZONE_SERVING zone \S+ serial (\d+)", l)
    if m:
        served.setdefault(m[1], t(l))
# A version is served at its commit, before the first answer is logged: 0 then.
d = sorted(max(0.0, served[k] - v) * 1000 for k, v in applied.items() if k in served)
if d:
    print(f"median {d[len(d) // 2]:.1f} ms, p99 {d[min(len(d) - 1, int(len(d) * 0.99))]:.1f} ms over {len(d)} versions")
else:
    print("no versions")
PY
)
    fi
    RES[$s]="$(qps "$WORK/$s-q.txt") $(qps "$WORK/$s-qu.txt") $(qps "$WORK/$s-u.txt") $(avg_ms "$WORK/$s-u.txt") $(lost "$WORK/$s-u.txt")"
    RES[$s-lat]=$latency
    RES[$s-qlat]="$(avg_ms "$WORK/$s-q.txt") / $(avg_ms "$WORK/$s-qu.txt") | $(lost "$WORK/$s-qu.txt")"
    stop_pid srv
done

{
    echo "# bench/dns_update.sh $(date -u '+%F %H:%M') UTC: zone $ZONE $(meta records) records; $DURATION s per phase; dnsperf -c $CLIENTS -q $OUTSTANDING ${qrate_opt[*]:-(no rate limit)} (queries), -u -c $UPD_CLIENTS -q $UPD_OUTSTANDING ${rate_opt[*]:-(no rate limit)} (one-record TSIG-signed updates); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| server | queries/s alone | queries/s with updates | query drop | query avg ms alone / with updates | queries lost with updates | updates/s | update avg ms | updates lost | commit -> served |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for s in $SERVERS; do
        read -r q qu u ums ul <<<"${RES[$s]}"
        drop=$(awk -v a="$q" -v b="$qu" 'BEGIN { if (a > 0) printf "%.0f %%", (1 - b / a) * 100 }')
        printf '| %s | %.0f | %.0f | %s | %s | %.0f | %s | %s | %s |\n' "$s" "$q" "$qu" "$drop" "${RES[$s-qlat]}" "$u" "$ums" "$ul" "${RES[$s-lat]}"
    done
    echo
    for s in $SERVERS; do echo "* $s: ${RES[$s-cpu]}"; done
    echo
    if [[ " $SERVERS " == *" tern "* && " $SERVERS " == *" bind "* ]]; then
        read -r _ tqu tu _ <<<"${RES[tern]}"; read -r _ bqu bu _ <<<"${RES[bind]}"
        awk -v a="$tu" -v b="$bu" -v c="$tqu" -v d="$bqu" 'BEGIN { printf "ratios tern/bind: updates/s %.2f, queries/s under updates %.2f\n", a / b, c / d }'
    fi
    echo "targets (issue 18): updates/s >= 5,000 with the query rate down <= 10 %; commit -> served p99 <= 50 ms"
} | tee "$OUT"
