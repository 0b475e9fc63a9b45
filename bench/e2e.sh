#!/bin/bash
# bench/e2e.sh -- DHCP to DNS end to end: does every acknowledged lease's name reach DNS?
#
#   kea    perfdhcp -> kea-dhcp4 (memfile) -> NCR over UDP -> kea-dhcp-ddns -> BIND
#   tern   perfdhcp -> tern's DHCPv4 engine -> tern.ncr_queue (in the lease transaction)
#          -> tern's d2 -> BIND          (one `tern serve`, one config file)
#
# Both DHCP servers get the same Dhcp4 section. Every client sends a name: perfdhcp puts the
# same Client FQDN option (81, S flag, `client.example.com.`) in every DISCOVER and REQUEST,
# as it cannot vary one per client; `ddns-replace-client-name: when-present` then names each
# lease from its address: myhost-127-16-0-5.example.com. (CLIENT_FQDN= sends no option and
# uses `always` instead.) Forward (example.com) and reverse
# (127.in-addr.arpa) updates, TSIG hmac-sha256, conflict resolution on (Kea's default).
#
# Layout: netns $NS (only lo); DHCP server on 127.0.0.1:67, perfdhcp as a relay from
# 127.0.0.2 (`-4 -g single -l 127.0.0.2`), as bench/dhcp4.sh; D2 NCRs on 127.0.0.1:53001;
# BIND on 127.0.0.1:5353. Every server is started fresh for every step, stopped by PID.
#
# Per step: perfdhcp at RATE for DURATION s; then the zones are read by AXFR (dig, TSIG)
# every second until the A and PTR counts have not changed for SETTLE s (at most
# MAX_SETTLE s). Leases = distinct addresses with a name in the server's lease store
# (Kea: its memfile CSV; tern: lease4); names = myhost-* A records in example.com.
# missing = leases - names (a lease whose name is not in DNS at the end); for tern the NCRs
# still pending in its queue at that moment are shown too (late, not lost).
#
# env:
#   RATES="400 800 1600"   perfdhcp -r per step
#   DURATION=10            perfdhcp -p; hard cap DURATION+20 s
#   CLIENTS=1000000        perfdhcp -R (few repeats: each lease is mostly a new client)
#   SERVERS="kea tern"
#   SETTLE=5 MAX_SETTLE=120
#   CLIENT_FQDN=05000006636c69656e74076578616d706c6503636f6d00   option 81's data (flags S|E,
#                          rcodes, client.example.com. in wire form); empty: no option
#   NAMED_THREADS=2
#   WORK=/tmp/tern-bench-e2e (wiped at start; kept afterwards)
# prints: a table per step and the ratio of names in DNS per lease; CSV in $WORK/e2e.csv
set -u
# its own netns (not dhcp4.sh's "ternbench"), so the two can run at the same time
NS=${NS:-ternbench-e2e}
. "$(dirname "$0")/lib.sh"
RATES=${RATES:-"400 800 1600"}; DURATION=${DURATION:-10}; CLIENTS=${CLIENTS:-1000000}
SERVERS=${SERVERS:-"kea tern"}; SETTLE=${SETTLE:-5}; MAX_SETTLE=${MAX_SETTLE:-120}
export NAMED_THREADS=${NAMED_THREADS:-2}
CLIENT_FQDN=${CLIENT_FQDN-05000006636c69656e74076578616d706c6503636f6d00}
if [ -n "$CLIENT_FQDN" ]; then REPLACE=when-present; FQDN_OPT=(-o "81,$CLIENT_FQDN")
else REPLACE=always; FQDN_OPT=(); fi
NCRPORT=53001; DNSPORT=5353
tern_built
bench_init e2e
kea_env
CSV=$WORK/e2e.csv
echo "server,rate,discovers,acks,leases,a_records,ptr_records,missing,settle_s,dhcp_warn_error,d2_warn_error,rcvbuf_drops,queued_at_end" >"$CSV"

# bind_e2e : lib.sh's BIND (example.com, 10.in-addr.arpa) plus 127.in-addr.arpa for the
# leases' reverse names
bind_e2e() {
    bind_setup "$WORK/named" "$DNSPORT"
    local d=$WORK/named
    cat >"$d/zones/127.in-addr.arpa.db" <<EOF
\$TTL 300
@   IN SOA ns.example.com. hostmaster.example.com. ( 1 3600 600 86400 300 )
    IN NS  ns.example.com.
EOF
    echo "zone \"127.in-addr.arpa\" { type primary; file \"127.in-addr.arpa.db\"; allow-update { key \"$KEYNAME\"; }; };" >>"$d/named.conf"
    named-checkconf "$d/named.conf" || die "named.conf invalid"
}

# the sections, rendered after each fresh BIND (new key)
dhcp4_section() {   # dhcp4_section LOGFILE
    cat <<EOF
"Dhcp4": {
  "interfaces-config": { "interfaces": [ "lo/127.0.0.1" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$WORK/leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
  "multi-threading": { "enable-multi-threading": false },
  "dhcp-ddns": { "enable-updates": true, "server-ip": "127.0.0.1", "server-port": $NCRPORT,
                 "ncr-protocol": "UDP", "ncr-format": "JSON" },
  "ddns-send-updates": true,
  "ddns-replace-client-name": "$REPLACE",
  "ddns-generated-prefix": "myhost",
  "ddns-qualifying-suffix": "example.com",
  "subnet4": [ { "id": 1, "subnet": "127.0.0.0/8",
                 "pools": [ { "pool": "127.16.0.0 - 127.31.255.255" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                 "output_options": [ { "output": "$1" } ] } ]
}
EOF
}
d2_section() {      # d2_section LOGFILE
    cat <<EOF
"DhcpDdns": {
  "ip-address": "127.0.0.1", "port": $NCRPORT,
  "dns-server-timeout": 1000,
  "ncr-protocol": "UDP", "ncr-format": "JSON",
  "tsig-keys": [ { "name": "$KEYNAME", "algorithm": "HMAC-SHA256", "secret": "$KEYSECRET" } ],
  "forward-ddns": { "ddns-domains": [
      { "name": "example.com.", "key-name": "$KEYNAME",
        "dns-servers": [ { "ip-address": "127.0.0.1", "port": $DNSPORT } ] } ] },
  "reverse-ddns": { "ddns-domains": [
      { "name": "127.in-addr.arpa.", "key-name": "$KEYNAME",
        "dns-servers": [ { "ip-address": "127.0.0.1", "port": $DNSPORT } ] } ] },
  "loggers": [ { "name": "kea-dhcp-ddns", "severity": "WARN",
                 "output_options": [ { "output": "$1" } ] } ]
}
EOF
}
render() {
    { echo "// rendered by tern bench/e2e.sh (Kea 2.2)"; echo "{"; dhcp4_section "$WORK/kea-dhcp4.log"; echo "}"; } >"$WORK/kea-dhcp4.json"
    { echo "// rendered by tern bench/e2e.sh (Kea 2.2)"; echo "{"; d2_section "$WORK/kea-d2.log"; echo "}"; } >"$WORK/kea-d2.json"
    # tern: both sections in one file (the same text as Kea's two files)
    { echo "// rendered by tern bench/e2e.sh: Kea's two sections in one file"; echo "{"
      dhcp4_section "$WORK/tern.log"; echo ","; d2_section "$WORK/tern.log"; echo "}"; } >"$WORK/tern.json"
}

bind_e2e; render
kea-dhcp4 -t "$WORK/kea-dhcp4.json" >"$WORK/kea-dhcp4.check" 2>&1 || die "kea-dhcp4 -t: $(tail -3 "$WORK/kea-dhcp4.check")"
kea-dhcp-ddns -t "$WORK/kea-d2.json" >"$WORK/kea-d2.check" 2>&1 || die "kea-dhcp-ddns -t: $(tail -3 "$WORK/kea-d2.check")"
"$TERN" check -c "$WORK/tern.json" >"$WORK/tern.check" 2>&1 || die "tern check: $(cat "$WORK/tern.check")"
case " $SERVERS " in *" tern "*)
    log "initialising tern's embedded cluster once (template)"
    tern_template_data "$WORK/tern-template" "$WORK/tern.json" 127.0.0.1 67
    # the new cluster's writes go to disk now, not under the first step's load
    sync;;
esac

# count_rr ZONE TYPE PREFIX : records of TYPE whose owner starts with PREFIX (AXFR, TSIG)
count_rr() {
    inns dig -p "$DNSPORT" @127.0.0.1 "$1" AXFR -y "hmac-sha256:$KEYNAME:$KEYSECRET" +time=10 +tries=1 2>/dev/null \
        | awk -v t="$2" -v p="$3" '$4 == t && index($1, p) == 1 { n++ } END { print n + 0 }'
}
# leases SERVER : distinct leased addresses that carry a name
leases() {
    case $1 in
      kea)  awk -F, 'NR > 1 && $9 != "" && $4 > 0 { a[$1] = 1 } END { print length(a) }' "$WORK"/leases4.csv* 2>/dev/null ;;
      tern) inns "$PG_BIN/psql" -h "$WORK/tern-data/pg-socket" -U tern -qAtX \
                -c "select count(*) from lease4 where hostname is not null and hostname <> ''" tern 2>/dev/null || echo "?" ;;
    esac
}

printf '\n%-6s %7s %9s %7s %7s %8s %8s %8s %7s\n' server rate/s DISCOVERs ACKs leases A PTR missing settle_s >&2
for rate in $RATES; do
  for s in $SERVERS; do
    bind_e2e; render; bind_start "$WORK/named" "$DNSPORT"
    rm -f "$WORK"/leases4.csv* "$WORK"/kea-dhcp4.log "$WORK"/kea-d2.log "$WORK"/tern.log
    case $s in
      kea)  start_bg d2 "$WORK/kea-d2.out" ip netns exec "$NS" kea-dhcp-ddns -c "$WORK/kea-d2.json"
            wait_udp 127.0.0.1 "$NCRPORT" 30 || die "kea-dhcp-ddns not listening"
            start_bg dhcp "$WORK/kea-dhcp4.out" ip netns exec "$NS" kea-dhcp4 -c "$WORK/kea-dhcp4.json" ;;
      tern) rm -rf "$WORK/tern-data"; cp -a "$WORK/tern-template" "$WORK/tern-data"
            start_bg dhcp "$WORK/tern.out" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/tern-data" ;;
    esac
    wait_udp 127.0.0.1 67 60 || { tail -20 "$WORK/$s"*.out; die "$s not listening on 127.0.0.1:67"; }
    sleep 1
    out=$WORK/perfdhcp-$s-$rate.txt
    cmd=(ip netns exec "$NS" perfdhcp -4 -g single -l 127.0.0.2 -R "$CLIENTS" -r "$rate" -p "$DURATION" -W 1000000 "${FQDN_OPT[@]}" 127.0.0.1)
    echo "# ${cmd[*]}" >"$out"
    rb0=$(udp_rcvbuf_errors)
    timeout -k 5 $((DURATION + 20)) "${cmd[@]}" >>"$out" 2>&1
    echo "# exit $?" >>"$out"
    # settle: until the DNS counts stop changing (bounded)
    t0=$(date +%s); last=""; stable_since=$t0
    while :; do
        a=$(count_rr example.com A myhost-); p=$(count_rr 127.in-addr.arpa PTR "")
        now=$(date +%s)
        [ "$a $p" != "$last" ] && { last="$a $p"; stable_since=$now; }
        [ $((now - stable_since)) -ge "$SETTLE" ] && break
        [ $((now - t0)) -ge "$MAX_SETTLE" ] && { log "WARNING: $s $rate/s: DNS still changing after $MAX_SETTLE s"; break; }
        sleep 1
    done
    settle=$((stable_since - t0))
    rb=$(( $(udp_rcvbuf_errors) - rb0 ))
    n_leases=$(leases "$s")
    # tern: NCRs still waiting in its queue when the settle time ran out (not lost: they
    # are applied later); Kea has no such place, so "-"
    queued="-"
    [ "$s" = tern ] && queued=$(inns "$PG_BIN/psql" -h "$WORK/tern-data/pg-socket" -U tern -qAtX \
        -c "select count(*) from tern.ncr_queue where state in ('pending', 'in_progress')" tern 2>/dev/null || echo "?")
    read -r disc acks < <(awk '/Statistics for: DISCOVER-OFFER/ {b=1} /Statistics for: REQUEST-ACK/ {b=2}
        /^sent packets:/ {s[b]=$3} /^received packets:/ {r[b]=$3} END { print s[1]+0, r[2]+0 }' "$out")
    alive dhcp || log "WARNING: $s DHCP server died during the step"
    stop_pid dhcp; stop_pid d2; stop_pid named
    case $s in
      kea)  dwe=$(grep -cE ' (WARN|ERROR|FATAL) ' "$WORK/kea-dhcp4.log" 2>/dev/null); d2we=$(grep -cE ' (WARN|ERROR|FATAL) ' "$WORK/kea-d2.log" 2>/dev/null)
            cp "$WORK/kea-dhcp4.log" "$WORK/kea-dhcp4-$rate.log" 2>/dev/null; cp "$WORK/kea-d2.log" "$WORK/kea-d2-$rate.log" 2>/dev/null ;;
      tern) dwe=$(grep -E ' (WARN|ERROR|FATAL) ' "$WORK/tern.log" 2>/dev/null | grep -vc 'DHCP_DDNS\|TERN_CONFIG_UNSUPPORTED')
            d2we=$(grep -E ' (WARN|ERROR|FATAL) ' "$WORK/tern.log" 2>/dev/null | grep -c 'DHCP_DDNS')
            cp "$WORK/tern.log" "$WORK/tern-$rate.log" 2>/dev/null ;;
    esac
    missing="?"; [[ "$n_leases" =~ ^[0-9]+$ ]] && missing=$((n_leases - a))
    echo "$s,$rate,$disc,$acks,$n_leases,$a,$p,$missing,$settle,${dwe:-0},${d2we:-0},$rb,$queued" >>"$CSV"
    printf '%-6s %7s %9s %7s %7s %8s %8s %8s %7s\n' "$s" "$rate" "$disc" "$acks" "$n_leases" "$a" "$p" "$missing" "$settle" >&2
  done
done

$PY - "$CSV" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print()
print("| pipeline | offered DORA/s | DISCOVERs sent | ACKs | leases with a name | A in DNS | PTR in DNS | names missing | of which still queued | settle s | WARN+ERROR DHCP / D2 | kernel rcvbuf drops |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['server']} | {r['rate']} | {r['discovers']} | {r['acks']} | {r['leases']} | {r['a_records']} | {r['ptr_records']} "
          f"| {r['missing']} | {r['queued_at_end']} | {r['settle_s']} | {r['dhcp_warn_error']} / {r['d2_warn_error']} | {r['rcvbuf_drops']} |")
by = {}
for r in rows:
    by.setdefault(r["rate"], {})[r["server"]] = r
print()
print("| offered DORA/s | kea: names in DNS / leases | tern: names in DNS / leases | tern / kea names in DNS |")
print("|---|---|---|---|")
def frac(r):
    try:
        l, a = int(r["leases"]), int(r["a_records"])
        return f"{a}/{l} = {100.0 * a / l:.1f} %" if l else "n/a"
    except Exception:
        return "n/a"
for rate, d in by.items():
    k, t = d.get("kea"), d.get("tern")
    try:
        ratio = f"{int(t['a_records']) / int(k['a_records']):.2f}"
    except Exception:
        ratio = "n/a"
    print(f"| {rate} | {frac(k) if k else 'n/a'} | {frac(t) if t else 'n/a'} | {ratio} |")
EOF
echo "raw output: $WORK"
