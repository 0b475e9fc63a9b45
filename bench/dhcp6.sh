#!/bin/bash
# bench/dhcp6.sh -- DHCPv6 SARR throughput: Kea memfile, Kea on PostgreSQL and tern, in one
# run, on the same load (perfdhcp -6), each server started fresh for every step.
#
#   kea-memfile   kea-dhcp6, memfile (persist, lfc off), single-threaded
#   kea-pgsql     kea-dhcp6, lease-database postgresql (private PostgreSQL 15, schema by
#                 kea-admin db-init pgsql; fsync and synchronous_commit on)
#   tern          tern serve -c <the kea-memfile config file, unchanged>: leases in its
#                 embedded PostgreSQL (durable before each REPLY)
#
# Layout: netns $NS (servers) and $NS-c (perfdhcp) joined by a veth pair (tb6s / tb6c),
# link-local addresses only, DAD off. The subnet is 2001:db8:1::/64 with "interface": "tb6s";
# perfdhcp -6 -l tb6c sends to ff02::1:2 on its side. Nothing leaves the two namespaces.
#
# env:
#   RATES="500 1000 2000 4000"    offered SARR/s per step (perfdhcp -r)
#   MODES="address-only address-and-prefix"   perfdhcp -e
#   DURATION=8      perfdhcp -p (seconds of load per step); hard cap DURATION+20 s
#   CLIENTS=100000  perfdhcp -R (distinct DUIDs)
#   SERVERS="kea-memfile kea-pgsql tern"
#   BIG_LEASES=0    if >0: after the ladder, fill tern with that many leases (perfdhcp -R
#                   BIG_LEASES at BIG_RATE SARR/s, address-and-prefix) and report its RSS
#   BIG_RATE=2000
#   WORK=/tmp/tern-bench-dhcp6 (wiped at start; kept afterwards: raw perfdhcp output, logs)
# prints: a table per step, then a summary per server and mode; CSV in $WORK/dhcp6.csv
set -u
. "$(dirname "$0")/lib.sh"
RATES=${RATES:-"500 1000 2000 4000"}
MODES=${MODES:-"address-only address-and-prefix"}
DURATION=${DURATION:-8}; CLIENTS=${CLIENTS:-100000}
BIG_LEASES=${BIG_LEASES:-0}; BIG_RATE=${BIG_RATE:-2000}
SERVERS=${SERVERS:-"kea-memfile kea-pgsql tern"}
tern_built
bench_init dhcp6
kea_env
CNS=$NS-c
SIF=tb6s; CIF=tb6c
ip netns add "$CNS" 2>/dev/null || true
cleanup6() { ip netns del "$CNS" 2>/dev/null; bench_cleanup; }
trap cleanup6 EXIT
for ns in "$NS" "$CNS"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0 >/dev/null
done
ip link add "$SIF" netns "$NS" type veth peer name "$CIF" netns "$CNS" || die "veth"
ip -n "$NS" link set "$SIF" up
ip -n "$CNS" link set "$CIF" up
ip -n "$NS" addr add 2001:db8:1::1/64 dev "$SIF" nodad
sleep 1
CSV=$WORK/dhcp6.csv
echo "server,mode,offered,sarr_per_s,drop_pct,sa_avg_ms,rr_avg_ms,solicits,replies,rss_kb,pg_rss_kb" >"$CSV"

# kea_conf FILE LEASEDB : Kea 2.2 kea-dhcp6 config (also what tern is given)
kea_conf() {
    cat >"$1" <<EOF
// rendered by tern bench/dhcp6.sh
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "$SIF" ] },
  "lease-database": $2,
  "server-id": { "type": "EN", "enterprise-id": 2495, "identifier": "0102030405", "persist": false },
  "valid-lifetime": 4000, "preferred-lifetime": 3000,
  "multi-threading": { "enable-multi-threading": false },
  "subnet6": [ { "id": 1, "subnet": "2001:db8:1::/64", "interface": "$SIF",
                 "pools": [ { "pool": "2001:db8:1::1:0/108" } ],
                 "pd-pools": [ { "prefix": "2001:db8:8000::", "prefix-len": 33, "delegated-len": 56 } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "WARN",
                 "output_options": [ { "output": "$WORK/$(basename "$1" .json).log" } ] } ]
} }
EOF
}
kea_conf "$WORK/kea-memfile.json" "{ \"type\": \"memfile\", \"persist\": true, \"name\": \"$WORK/leases6.csv\", \"lfc-interval\": 0 }"
kea_conf "$WORK/kea-pgsql.json" "{ \"type\": \"postgresql\", \"name\": \"kea\", \"host\": \"127.0.0.1\", \"port\": $PG_PORT, \"user\": \"kea\", \"password\": \"kea\" }"
sed "s|$WORK/kea-memfile.log|$WORK/tern.log|" "$WORK/kea-memfile.json" >"$WORK/tern.json"
for c in kea-memfile kea-pgsql; do inns kea-dhcp6 -t "$WORK/$c.json" >"$WORK/$c.check" 2>&1 || die "$c config invalid: $(tail -3 "$WORK/$c.check")"; done
"$TERN" check -c "$WORK/tern.json" >"$WORK/tern.check" 2>&1 || die "tern check failed: $(cat "$WORK/tern.check")"

# wait_547 SECS : until something listens on UDP 547 in $NS
wait_547() {
    local i
    for i in $(seq $(( $1 * 10 ))); do
        inns ss -Hulpn "sport = :547" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

case " $SERVERS " in *" kea-pgsql "*) pg_start "$WORK/pg";; esac
case " $SERVERS " in *" tern "*)
    log "initialising tern's embedded cluster once (template)"
    start_bg tern-template "$WORK/tern-template.out" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/tern-template"
    wait_547 120 || { tail -20 "$WORK/tern-template.out"; die "tern did not come up (template)"; }
    sleep 1; stop_pid tern-template;;
esac

start_server() {
    case $1 in
      kea-memfile)
        rm -f "$WORK"/leases6.csv*
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" kea-dhcp6 -c "$WORK/kea-memfile.json" ;;
      kea-pgsql)
        kea_db kea
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" kea-dhcp6 -c "$WORK/kea-pgsql.json" ;;
      tern)
        rm -rf "$WORK/tern-data"; cp -a "$WORK/tern-template" "$WORK/tern-data"
        start_bg srv "$WORK/$1.out" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/tern-data" ;;
    esac
    wait_547 60 || { tail -20 "$WORK/$1.out"; die "$1 not listening on UDP 547"; }
    sleep 1
    SRV_PID=$(pid_of srv)
}

# perf RATE MODE OUT
perf() {
    local rate=$1 mode=$2 out=$3
    local cmd=(ip netns exec "$CNS" perfdhcp -6 -l "$CIF" -e "$mode" -R "$CLIENTS" -r "$rate" -p "$DURATION" -W 1000000)
    echo "# ${cmd[*]}" >"$out"
    timeout -k 5 $((DURATION + 20)) "${cmd[@]}" >>"$out" 2>&1
    echo "# exit $?" >>"$out"
}
# parse OUT -> "sarr_per_s drop_pct sa_avg_ms rr_avg_ms solicits replies"
parse() {
    awk -v dur="$DURATION" '
      /Statistics for: SOLICIT-ADVERTISE/ {b=1} /Statistics for: REQUEST-REPLY/ {b=2}
      /^sent packets:/ {s[b]=$3} /^received packets:/ {r[b]=$3} /^avg delay:/ {d[b]=$3}
      END { s1=s[1]+0; a=r[2]+0; drop=(s1>0)?100*(1-a/s1):100;
            printf "%.1f %.2f %s %s %d %d\n", a/dur, drop, (d[1]==""?"nan":d[1]), (d[2]==""?"nan":d[2]), s1, a }' "$1"
}

printf '\n%-12s %-20s %8s %9s %7s %8s %8s %8s\n' server mode offered/s SARR/s drop% SA_ms RR_ms RSS_MB >&2
for mode in $MODES; do
  for rate in $RATES; do
    for s in $SERVERS; do
      start_server "$s"
      out=$WORK/perfdhcp-$s-$mode-$rate.txt
      perf "$rate" "$mode" "$out"
      rss=$(rss_kb "$SRV_PID"); pgrss=0
      [ "$s" = tern ] && pgrss=$(tree_rss_kb "$SRV_PID")
      alive srv || log "WARNING: $s (pid $SRV_PID) died during the step; see $WORK/$s.out"
      stop_pid srv
      read -r sps drop sams rrms sent acks < <(parse "$out")
      echo "$s,$mode,$rate,$sps,$drop,$sams,$rrms,$sent,$acks,$rss,$pgrss" >>"$CSV"
      printf '%-12s %-20s %8s %9s %7s %8s %8s %8s\n' "$s" "$mode" "$rate" "$sps" "$drop" "$sams" "$rrms" "$(fdiv "$rss" 1024)" >&2
    done
  done
done

if [ "$BIG_LEASES" -gt 0 ]; then
    # perfdhcp draws each exchange's DUID at random from the -R range: 3 x BIG_LEASES
    # exchanges leave ~95 % of the range with leases; the lease6 row count is the figure.
    BIG_SENDS=${BIG_SENDS:-$(( 3 * BIG_LEASES ))}
    log "tern with ~$BIG_LEASES clients' leases: perfdhcp -R $BIG_LEASES -r $BIG_RATE -n $BIG_SENDS"
    start_server tern
    rss0=$(rss_kb "$SRV_PID")
    dur=$(( BIG_SENDS / BIG_RATE + 30 ))
    out=$WORK/perfdhcp-tern-big.txt
    cmd=(ip netns exec "$CNS" perfdhcp -6 -l "$CIF" -e address-and-prefix -R "$BIG_LEASES" -r "$BIG_RATE" -n "$BIG_SENDS" -p "$dur")
    echo "# ${cmd[*]}" >"$out"
    timeout -k 5 $((dur + 20)) "${cmd[@]}" >>"$out" 2>&1
    sleep 2
    rss1=$(rss_kb "$SRV_PID"); pg1=$(tree_rss_kb "$SRV_PID")
    rows=$(inns "$PG_BIN/psql" -h "$WORK/tern-data/pg-socket" -U tern -qAtX -c "select count(*) filter (where lease_type = 0), count(*) filter (where lease_type = 2) from lease6" tern 2>/dev/null || echo "?")
    stop_pid srv
    BIG_LINE="tern with lease6 rows (addresses|prefixes) $rows: VmRSS $(fdiv "$rss0" 1024) MB idle -> $(fdiv "$rss1" 1024) MB; embedded PostgreSQL processes (VmRSS summed, shared buffers counted per process) $(fdiv "$pg1" 1024) MB"
fi

$PY - "$CSV" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print()
print("| server | mode | offered/s | SARR/s completed | drop % | SOLICIT-ADVERTISE avg ms | REQUEST-REPLY avg ms |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['server']} | {r['mode']} | {r['offered']} | {float(r['sarr_per_s']):.0f} | {r['drop_pct']} | {r['sa_avg_ms']} | {r['rr_avg_ms']} |")
summ = {}
for r in rows:
    k = (r["server"], r["mode"])
    c, p = summ.get(k, (0, 0.0))
    if float(r["drop_pct"]) < 1.0:
        c = max(c, int(r["offered"]))
    summ[k] = (c, max(p, float(r["sarr_per_s"])))
print()
print("| server | mode | highest offered/s with < 1 % drops | peak SARR/s |")
print("|---|---|---|---|")
for (s, m), (c, p) in summ.items():
    print(f"| {s} | {m} | {c} | {p:.0f} |")
print()
print("| ratio | mode | clean rate | peak SARR/s |")
print("|---|---|---|---|")
modes = sorted({m for (_, m) in summ})
for m in modes:
    for a, b in (("tern", "kea-memfile"), ("tern", "kea-pgsql")):
        if (a, m) in summ and (b, m) in summ:
            (ca, pa), (cb, pb) = summ[(a, m)], summ[(b, m)]
            f = lambda x, y: f"{x / y:.2f}" if y else "n/a"
            print(f"| {a} / {b} | {m} | {f(ca, cb)} | {f(pa, pb)} |")
EOF
[ -n "${BIG_LINE:-}" ] && echo && echo "$BIG_LINE"
echo "raw output: $WORK"
