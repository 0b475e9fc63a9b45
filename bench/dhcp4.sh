#!/bin/bash
# bench/dhcp4.sh -- DHCPv4 DORA throughput: Kea memfile, Kea on PostgreSQL and tern, in one
# run, on the same load (perfdhcp), each server started fresh for every step.
#
#   kea-memfile   kea-dhcp4, memfile (persist, lfc off), single-threaded
#   kea-pgsql     kea-dhcp4, lease-database postgresql (private PostgreSQL 15, schema by
#                 kea-admin db-init pgsql; fsync and synchronous_commit on), single-threaded
#   tern          tern serve -c <the kea-memfile config file, unchanged> : no usable
#                 lease-database -> tern keeps leases in its embedded PostgreSQL (durable)
#
# Layout: netns $NS with only lo (127.0.0.1/8 + 127.0.0.2/8). The server binds
# 127.0.0.1:67 ("interfaces": ["lo/127.0.0.1"], "dhcp-socket-type": "udp"); perfdhcp acts as
# a relay from 127.0.0.2 (giaddr), `-4 -g single`; subnet 127.0.0.0/8, pool
# 127.16.0.0-127.31.255.255 (1M addresses), so no leased address leaves loopback space.
#
# env:
#   RATES="250 500 1000 2000 4000 8000"   offered DORA/s per step (perfdhcp -r)
#   DURATION=8      perfdhcp -p (seconds of load per step); hard cap DURATION+20 s
#   CLIENTS=200000  perfdhcp -R (distinct client MACs; < pool size)
#   SERVERS="kea-memfile kea-pgsql tern tern-nobatch"   (tern-nobatch: TERN_DHCP4_COMMIT_BATCH=1,
#                   every DHCPREQUEST committed in its own transaction; tern-classes: tern with
#                   20 client classes whose tests every packet evaluates, two of them
#                   matching and adding options: issue 20's >= 90 % target against tern)
#   BIG_LEASES=0    if >0: after the ladder, fill tern with that many active leases
#                   (perfdhcp -R BIG_LEASES at BIG_RATE, lifetime 1 day) and report its RSS
#   BIG_RATE=2000
#   WORK=/tmp/tern-bench-dhcp4 (wiped at start; kept afterwards: raw perfdhcp output, logs)
# prints: a table per step, then a summary per server; CSV in $WORK/dhcp4.csv
set -u
. "$(dirname "$0")/lib.sh"
RATES=${RATES:-"250 500 1000 2000 4000 8000"}
DURATION=${DURATION:-8}; CLIENTS=${CLIENTS:-200000}
SERVERS=${SERVERS:-"kea-memfile kea-pgsql tern tern-nobatch"}
BIG_LEASES=${BIG_LEASES:-0}; BIG_RATE=${BIG_RATE:-2000}
tern_built
bench_init dhcp4
kea_env
CSV=$WORK/dhcp4.csv
echo "server,offered,dora_per_s,drop_pct,do_avg_ms,ra_avg_ms,disc_sent,acks,rss_kb,pg_rss_kb,rcvbuf_drops" >"$CSV"

# kea_conf FILE LEASEDB VALID [EXTRA] : Kea 2.2 kea-dhcp4 config (also what tern is
# given); EXTRA: more top-level Dhcp4 keys, with a trailing comma
kea_conf() {
    cat >"$1" <<EOF
// rendered by tern bench/dhcp4.sh
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "lo/127.0.0.1" ], "dhcp-socket-type": "udp" },${4:-}
  "lease-database": $2,
  "valid-lifetime": $3, "renew-timer": $(( $3 / 4 )), "rebind-timer": $(( $3 / 2 )),
  "multi-threading": { "enable-multi-threading": false },
  "subnet4": [ { "id": 1, "subnet": "127.0.0.0/8",
                 "pools": [ { "pool": "127.16.0.0 - 127.31.255.255" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                 "output_options": [ { "output": "$WORK/$(basename "$1" .json).log" } ] } ]
} }
EOF
}
kea_conf "$WORK/kea-memfile.json" "{ \"type\": \"memfile\", \"persist\": true, \"name\": \"$WORK/leases4.csv\", \"lfc-interval\": 0 }" 4000
kea_conf "$WORK/kea-pgsql.json" "{ \"type\": \"postgresql\", \"name\": \"kea\", \"host\": \"127.0.0.1\", \"port\": $PG_PORT, \"user\": \"kea\", \"password\": \"kea\" }" 4000
# tern gets Kea's memfile file as it is (its log goes to tern.log)
sed "s|$WORK/kea-memfile.log|$WORK/tern.log|" "$WORK/kea-memfile.json" >"$WORK/tern.json"
kea_conf "$WORK/tern-big.json" "{ \"type\": \"memfile\", \"persist\": true, \"name\": \"$WORK/unused.csv\" }" 86400
# 20 classes of the kinds PXE, phone and vendor configurations use; perfdhcp's packets
# (DHCPDISCOVER/REQUEST relayed, options 53, 55, 50, 54, no 60) make every test run, the
# last two match (option 55 is there) and add options.
CLASSES=$($PY - <<'PY'
import json
tests = []
for i in range(18):
    k = i % 6
    tests.append([
        f"option[60].hex == 'vendor-{i}'",
        f"substring(option[60].hex,0,9) == 'PXEClient' and not option[175].exists",
        f"option[93].hex == 0x{i:04x} and not member('c{max(i - 1, 0)}')",
        f"relay4[1].hex == 'circuit-{i}' or relay4[2].exists",
        f"pkt4.mac == 0x00000000{i:04x} or lcase(option[12].hex) == 'host-{i}'",
        f"split(option[60].hex, ':', 3) == '{i:05d}'",
    ][k])
classes = [{"name": f"c{i}", "test": t} for i, t in enumerate(tests)]
classes.append({"name": "c18", "test": "option[55].exists and pkt4.msgtype == 1 or pkt4.msgtype == 3",
                "option-data": [{"name": "domain-name", "data": "classes.example"}]})
classes.append({"name": "c19", "test": "member('c18') and pkt4.htype == 1",
                "option-data": [{"name": "ntp-servers", "data": "127.0.0.1"}]})
print(' "client-classes": ' + json.dumps(classes) + ',')
PY
)
kea_conf "$WORK/tern-classes.json" "{ \"type\": \"memfile\", \"persist\": true, \"name\": \"$WORK/unused.csv\" }" 4000 "$CLASSES"
sed -i "s|$WORK/tern-classes.log|$WORK/tern.log|" "$WORK/tern-classes.json"
sed -i "s|$WORK/tern-big.log|$WORK/tern.log|" "$WORK/tern-big.json"
for c in kea-memfile kea-pgsql; do kea-dhcp4 -t "$WORK/$c.json" >"$WORK/$c.check" 2>&1 || die "$c config invalid"; done
"$TERN" check -c "$WORK/tern.json" >"$WORK/tern.check" 2>&1 || die "tern check failed: $(cat "$WORK/tern.check")"
"$TERN" check -c "$WORK/tern-classes.json" >"$WORK/tern-classes.check" 2>&1 || die "tern check failed: $(cat "$WORK/tern-classes.check")"

case " $SERVERS " in *" kea-pgsql "*) pg_start "$WORK/pg";; esac
case " $SERVERS " in *" tern"*) log "initialising tern's embedded cluster once (template)"
                                 tern_template_data "$WORK/tern-template" "$WORK/tern.json" 127.0.0.1 67;; esac

# start_server NAME : fresh state, start, wait until it listens; sets SRV_PID
start_server() {
    case $1 in
      kea-memfile)
        rm -f "$WORK"/leases4.csv*
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" kea-dhcp4 -c "$WORK/kea-memfile.json" ;;
      kea-pgsql)
        kea_db kea
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" kea-dhcp4 -c "$WORK/kea-pgsql.json" ;;
      tern|tern-big|tern-nobatch|tern-classes)
        rm -rf "$WORK/tern-data"; cp -a "$WORK/tern-template" "$WORK/tern-data"
        local conf=$WORK/tern.json; [ "$1" = tern-big ] && conf=$WORK/tern-big.json
        [ "$1" = tern-classes ] && conf=$WORK/tern-classes.json
        # tern-nobatch: every DHCPREQUEST in its own transaction (no group commit)
        local batch=64; [ "$1" = tern-nobatch ] && batch=1
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" env TERN_DHCP4_COMMIT_BATCH=$batch \
            "$TERN" serve -c "$conf" --data-dir "$WORK/tern-data" ;;
    esac
    wait_udp 127.0.0.1 67 60 || { tail -20 "$WORK/$1.out"; die "$1 not listening on 127.0.0.1:67"; }
    sleep 1
    SRV_PID=$(pid_of srv)
    # `ip netns exec` execs the server, so the PID is the server's own
}

# perf RATE CLIENTS DURATION OUT [extra perfdhcp args]
perf() {
    local rate=$1 clients=$2 dur=$3 out=$4; shift 4
    local cmd=(ip netns exec "$NS" perfdhcp -4 -g single -l 127.0.0.2 -R "$clients" -r "$rate"
               -p "$dur" -W 1000000 "$@" 127.0.0.1)
    echo "# ${cmd[*]}" >"$out"
    timeout -k 5 $((dur + 20)) "${cmd[@]}" >>"$out" 2>&1
    echo "# exit $?" >>"$out"
}
# parse OUT DURATION -> "dora_per_s drop_pct do_avg_ms ra_avg_ms disc_sent acks"
parse() {
    awk -v dur="$2" '
      /Statistics for: DISCOVER-OFFER/ {b=1} /Statistics for: REQUEST-ACK/ {b=2}
      /^sent packets:/ {s[b]=$3} /^received packets:/ {r[b]=$3} /^avg delay:/ {d[b]=$3}
      END { s1=s[1]+0; a=r[2]+0; drop=(s1>0)?100*(1-a/s1):100;
            printf "%.1f %.2f %s %s %d %d\n", a/dur, drop, (d[1]==""?"nan":d[1]), (d[2]==""?"nan":d[2]), s1, a }' "$1"
}

printf '\n%-12s %8s %10s %7s %9s %9s %9s %9s\n' server offered/s DORA/s drop% DO_ms RA_ms RSS_MB rcvbuf_drops >&2
last_rate=${RATES##* }
for rate in $RATES; do
  for s in $SERVERS; do
    start_server "$s"
    out=$WORK/perfdhcp-$s-$rate.txt
    rb0=$(udp_rcvbuf_errors)
    perf "$rate" "$CLIENTS" "$DURATION" "$out"
    rb=$(( $(udp_rcvbuf_errors) - rb0 ))
    rss=$(rss_kb "$SRV_PID"); pgrss=0
    case $s in tern*) pgrss=$(tree_rss_kb "$SRV_PID");; esac
    alive srv || log "WARNING: $s (pid $SRV_PID) died during the step; see $WORK/$s.out"
    stop_pid srv
    read -r dps drop doms rams sent acks < <(parse "$out" "$DURATION")
    echo "$s,$rate,$dps,$drop,$doms,$rams,$sent,$acks,$rss,$pgrss,$rb" >>"$CSV"
    printf '%-12s %8s %10s %7s %9s %9s %9s %9s\n' "$s" "$rate" "$dps" "$drop" "$doms" "$rams" "$(fdiv "$rss" 1024)" "$rb" >&2
  done
done

if [ "$BIG_LEASES" -gt 0 ]; then
    # perfdhcp draws each exchange's MAC at random from the -R range, so BIG_SENDS
    # (default 3 x BIG_LEASES) exchanges leave ~95 % of the range with a lease; the
    # lease4 row count below is the real figure.
    BIG_SENDS=${BIG_SENDS:-$(( 3 * BIG_LEASES ))}
    log "tern with ~$BIG_LEASES active leases (lifetime 1 day): perfdhcp -R $BIG_LEASES -r $BIG_RATE -n $BIG_SENDS"
    start_server tern-big
    rss0=$(rss_kb "$SRV_PID")
    dur=$(( BIG_SENDS / BIG_RATE + 30 ))
    out=$WORK/perfdhcp-tern-big.txt
    perf "$BIG_RATE" "$BIG_LEASES" "$dur" "$out" -n "$BIG_SENDS"
    sleep 2
    rss1=$(rss_kb "$SRV_PID"); pg1=$(tree_rss_kb "$SRV_PID")
    leases=$(inns "$PG_BIN/psql" -h "$WORK/tern-data/pg-socket" -U tern -qAtX -c "select count(*) from lease4" tern 2>/dev/null || echo "?")
    read -r dps drop doms rams sent acks < <(parse "$out" "$dur")
    stop_pid srv
    echo "tern-big,$BIG_RATE,$(fdiv "$acks" "$dur"),$drop,$doms,$rams,$sent,$acks,$rss1,$pg1,0" >>"$CSV"
    BIG_LINE="tern with $acks ACKed leases (lease4 rows: $leases): VmRSS $(fdiv "$rss0" 1024) MB idle -> $(fdiv "$rss1" 1024) MB; embedded PostgreSQL processes (sum of VmRSS, shared buffers counted per process) $(fdiv "$pg1" 1024) MB"
fi

$PY - "$CSV" "$last_rate" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
last = sys.argv[2]
order = []
for r in rows:
    if r["server"] not in order and r["server"] != "tern-big":
        order.append(r["server"])
print()
print("| server | offered/s | DORA/s completed | drop % | DISCOVER-OFFER avg ms | REQUEST-ACK avg ms | kernel rcvbuf drops |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    if r["server"] == "tern-big": continue
    print(f"| {r['server']} | {r['offered']} | {float(r['dora_per_s']):.0f} | {r['drop_pct']} | {r['do_avg_ms']} | {r['ra_avg_ms']} | {r['rcvbuf_drops']} |")
summ = {}
for s in order:
    rs = [r for r in rows if r["server"] == s]
    clean = [int(r["offered"]) for r in rs if float(r["drop_pct"]) < 1.0]
    peak = max(rs, key=lambda r: float(r["dora_per_s"]))
    summ[s] = (max(clean) if clean else 0, float(peak["dora_per_s"]), peak["offered"], peak["drop_pct"])
print()
print("| server | highest offered/s with < 1 % drops | peak DORA/s (at offered, drop %) |")
print("|---|---|---|")
for s in order:
    c, p, at, d = summ[s]
    print(f"| {s} | {c} | {p:.0f} (@{at}, {d} %) |")
def ratio(a, b):
    if a in summ and b in summ:
        ca, cb = summ[a][0], summ[b][0]
        pa, pb = summ[a][1], summ[b][1]
        fr = lambda x, y: f"{x / y:.2f}" if y else "n/a"
        print(f"| {a} / {b} | {fr(ca, cb)} | {fr(pa, pb)} |")
print()
print("| ratio | clean rate (< 1 % drops) | peak DORA/s |")
print("|---|---|---|")
ratio("tern", "kea-pgsql")
ratio("tern", "kea-memfile")
ratio("tern", "tern-nobatch")
ratio("tern-classes", "tern")
ratio("tern-nobatch", "kea-pgsql")
for r in rows:
    if r["server"] == "tern" and r["offered"] == last:
        print(f"\ntern VmRSS at the end of the {last}/s step: {int(r['rss_kb'])/1024:.1f} MB "
              f"(its embedded PostgreSQL processes, VmRSS summed: {int(r['pg_rss_kb'])/1024:.1f} MB)")
    if r["server"] == "kea-memfile" and r["offered"] == last:
        print(f"kea-dhcp4 (memfile) VmRSS at the end of the {last}/s step: {int(r['rss_kb'])/1024:.1f} MB")
EOF
[ -n "${BIG_LINE:-}" ] && echo && echo "$BIG_LINE"
# tern log health: anything at WARN/ERROR level besides the config notes
echo
for s in $SERVERS; do
    f=$WORK/$s.out; [ -f "$f" ] || continue
    n=$(grep -cE ' (ERROR|WARN|FATAL)' "$f" "$WORK/$s.log" 2>/dev/null | awk -F: '{s+=$NF} END{print s+0}')
    echo "$s: $n WARN/ERROR lines in the last step's logs ($f)"
done
echo "raw output: $WORK"
