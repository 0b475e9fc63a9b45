#!/bin/bash
# bench/d2.sh -- DHCP-DDNS: the same N NCRs, sent over UDP in Kea's format, to Kea's
# kea-dhcp-ddns and to tern's d2 (`tern serve -c <the same kea-dhcp-ddns.conf>`), each
# against a fresh BIND 9 (TSIG hmac-sha256, forward example.com + reverse 10.in-addr.arpa),
# in one run; then BIND's own ceiling for the same updates without a D2.
#
# Layout: netns $NS, everything on its 127.0.0.1: D2 listens for NCRs on :53001, BIND on
# :5353. Sender: bench/ncr_load.py (latency = NCR sent -> A record answered, every SAMPLE-th
# NCR; completion and losses from AXFR). Ceiling: bench/bind_ceiling.py.
#
# env:
#   N=4000               NCRs per paced step (adds, forward + reverse, conflict resolution on)
#   RATES="500 1000 0"   offered NCR/s per step; 0 = unthrottled burst
#   BURST_N=10000        NCRs of the burst step (rate 0)
#   SERVERS="kea-d2 tern-d2"
#   SAMPLE=20            latency probe on every SAMPLE-th NCR
#   SAMPLE_BURST=100     the same for the burst: its NCRs wait seconds in a queue, and
#                        probing 500 of them held the prober at its 2,000 queries/s cap
#                        (a fifth of a core, and queries BIND answers) for the whole
#                        burst, load the ceiling runs do not have
#   PROBE_QPS_BURST=200  cap on the burst's probe queries/s (paced steps: 2,000): the 100
#                        probes all start within 0.1 s and at 2,000/s the prober took 15-50 %
#                        of a core for the first seconds of the burst (4,500 queries)
#   MAX_TIME=90          hard cap per step (sending + completion), seconds
#   D2_SEVERITY=INFO     both D2s log at this level (INFO: per-update success lines counted)
#   CEIL_WINDOWS="1 8 32"  BIND ceiling: updates in flight; "" skips the ceiling
#   CEIL_N=$N            NCR-equivalents per ceiling run (d2_rounds.sh: BURST_N, so the zone
#                        grows as far as in the burst)
#   CEIL_SOCKETS=1       UDP sockets (source ports) the ceiling's updates are spread over
#                        (d2_rounds.sh: 32, so that BIND's threads share the packet work
#                        the way they do for the D2s, which use many sockets)
#   NAMED_THREADS=2      named -n
#   WORK=/tmp/tern-bench-d2 (wiped at start; kept afterwards)
#   TERN_DATA=$WORK/tern-data  tern's data dir (its embedded PostgreSQL); e.g. on /dev/shm
#                        to see what tern's own disk writes cost BIND, whose zones stay in WORK
# prints: per-step table, ratios tern/Kea, BIND ceiling; CSV in $WORK/d2.csv
set -u
# its own netns (not dhcp4.sh's "ternbench"), so the two can run at the same time
NS=${NS:-ternbench-d2}
. "$(dirname "$0")/lib.sh"
N=${N:-4000}; BURST_N=${BURST_N:-10000}; RATES=${RATES:-"500 1000 0"}; SERVERS=${SERVERS:-"kea-d2 tern-d2"}
SAMPLE=${SAMPLE:-20}; SAMPLE_BURST=${SAMPLE_BURST:-100}; PROBE_QPS_BURST=${PROBE_QPS_BURST:-200}; MAX_TIME=${MAX_TIME:-90}; D2_SEVERITY=${D2_SEVERITY:-INFO}
CEIL_WINDOWS=${CEIL_WINDOWS-"1 8 32"}; CEIL_N=${CEIL_N:-$N}; CEIL_SOCKETS=${CEIL_SOCKETS:-1}
export NAMED_THREADS=${NAMED_THREADS:-2}
NCRPORT=53001; DNSPORT=5353
tern_built
$PY -c 'import dns.update, dns.tsig' 2>/dev/null || apt-get install -y -q python3-dnspython >/dev/null || die "apt-get install python3-dnspython"
bench_init d2
kea_env
CSV=$WORK/d2.csv
echo "server,rate,n,sent,send_errors,offered_per_s,a_visible,ptr_visible,lost_a,lost_ptr,complete_s,completed_per_s,lat_p50_ms,lat_p99_ms,lat_max_ms,lat_missing,log_add_ok,log_add_failed,log_queue_full,log_warn_error,rss_kb,rcvbuf_drops,cpu_ms_per_ncr,named_net_ticks" >"$CSV"

# tree_cpu_ticks PID : CPU time (clock ticks: user + system, plus reaped children's) of
# PID and all its descendants -- for tern that includes its embedded PostgreSQL. On a
# shared 2-core machine the CPU a D2 spends per NCR is steadier than its throughput.
tree_cpu_ticks() {
    awk -v root="$1" '
        FNR == 1 { line = $0; sub(/^[0-9]+ \(.*\) /, "", line); split(line, f, " ")
                   pid = FILENAME; sub("/proc/", "", pid); sub("/stat", "", pid)
                   ppid[pid] = f[2]; cpu[pid] = f[12] + f[13] + f[14] + f[15] }
        END { n = 1; want[root] = 1; changed = 1
              while (changed) { changed = 0
                  for (p in ppid) if (!(p in want) && (ppid[p] in want)) { want[p] = 1; changed = 1 } }
              for (p in want) t += cpu[p]; print t + 0 }' /proc/[0-9]*/stat 2>/dev/null
}
HZ=$(getconf CLK_TCK)

# one BIND for the template and config checks
bind_setup "$WORK/named" "$DNSPORT"
d2_conf "$KEYSECRET"
kea-dhcp-ddns -t "$WORK/kea-dhcp-ddns.json" >"$WORK/kea-d2.check" 2>&1 || die "kea-dhcp-ddns -t: $(tail -3 "$WORK/kea-d2.check")"
"$TERN" check -c "$WORK/kea-dhcp-ddns.json" >"$WORK/tern.check" 2>&1 || die "tern check: $(cat "$WORK/tern.check")"
case " $SERVERS " in *" tern-d2 "*)
    log "initialising tern's embedded cluster once (template)"
    tern_template_data "$WORK/tern-template" "$WORK/kea-dhcp-ddns.json" 127.0.0.1 "$NCRPORT"
    rm -f "$WORK/d2.log";;
esac

TERN_DATA=${TERN_DATA:-$WORK/tern-data}
step=0
for rate in $RATES; do
  for s in $SERVERS; do
    step=$((step + 1))
    # fresh BIND (new key each time, so the D2 config is rendered again)
    bind_setup "$WORK/named" "$DNSPORT"; d2_conf "$KEYSECRET"; bind_start "$WORK/named" "$DNSPORT"
    rm -f "$WORK/d2.log"
    case $s in
      kea-d2)  start_bg d2 "$WORK/$s.out" ip netns exec "$NS" kea-dhcp-ddns -c "$WORK/kea-dhcp-ddns.json" ;;
      tern-d2) rm -rf "$TERN_DATA"; cp -a "$WORK/tern-template" "$TERN_DATA"
               start_bg d2 "$WORK/$s.out" ip netns exec "$NS" "$TERN" serve -c "$WORK/kea-dhcp-ddns.json" --data-dir "$TERN_DATA" ;;
    esac
    wait_udp 127.0.0.1 "$NCRPORT" 60 || { tail -20 "$WORK/$s.out"; die "$s not listening on 127.0.0.1:$NCRPORT"; }
    sleep 1
    D2PID=$(pid_of d2)
    out=$WORK/ncr-$s-$rate.json
    n=$N; sample=$SAMPLE; qps=2000; [ "$rate" = 0 ] && { n=$BURST_N; sample=$SAMPLE_BURST; qps=$PROBE_QPS_BURST; }
    cmd=(ip netns exec "$NS" $PY "$BENCH_DIR/ncr_load.py" --ncr 127.0.0.1:$NCRPORT --dns 127.0.0.1:$DNSPORT
         -n "$n" --rate "$rate" --sample "$sample" --probe-qps "$qps" --max-time "$MAX_TIME" --prefix "h$step-")
    echo "# ${cmd[*]}" >"$out.cmd"
    rb0=$(udp_rcvbuf_errors); cpu0=$(tree_cpu_ticks "$D2PID")
    timeout -k 5 $((MAX_TIME + 60)) "${cmd[@]}" >"$out" 2>"$out.err"
    rb=$(( $(udp_rcvbuf_errors) - rb0 )); cpu=$(( $(tree_cpu_ticks "$D2PID") - cpu0 ))
    rss=$(rss_kb "$D2PID")
    alive d2 || log "WARNING: $s (pid $D2PID) died during the step; see $WORK/$s.out"
    split=$(named_net_split)
    stop_pid d2; stop_pid named
    cp "$WORK/d2.log" "$WORK/d2-$s-$rate.log" 2>/dev/null || touch "$WORK/d2-$s-$rate.log"
    lf=$WORK/d2-$s-$rate.log
    ok=$(grep -c DHCP_DDNS_ADD_SUCCEEDED "$lf"); fail=$(grep -c DHCP_DDNS_ADD_FAILED "$lf")
    qf=$(grep -c DHCP_DDNS_QUEUE_MGR_QUEUE_FULL "$lf"); we=$(grep -cE ' (WARN|ERROR|FATAL) ' "$lf")
    $PY - "$out" "$s" "$ok" "$fail" "$qf" "$we" "$rss" "$rb" "$cpu" "$HZ" "$split" <<'EOF' | tee -a "$CSV" >&2
import json, sys
f, s, ok, fail, qf, we, rss, rb, cpu, hz, split = sys.argv[1:]
try:
    r = json.loads(open(f).read().strip().splitlines()[-1])
except Exception:
    print(f"{s},?,?,,,,,,,,,,,,,,{ok},{fail},{qf},{we},{rss},{rb},,{split}"); sys.exit()
done = max(int(r["a_visible"]), 1)
cpu_ms = round(1000.0 * int(cpu) / int(hz) / done, 3)
print(",".join(str(x) for x in [s, r["rate"], r["n"], r["sent"], r["send_errors"], r["offered_per_s"],
      r["a_visible"], r["ptr_visible"], r["lost_a"], r["lost_ptr"], r["complete_s"], r["completed_per_s"],
      r["lat_p50_ms"], r["lat_p99_ms"], r["lat_max_ms"], r["lat_missing"], ok, fail, qf, we, rss, rb, cpu_ms, split]))
EOF
  done
done

# ---- BIND's own ceiling: the same updates, TSIG-signed, W in flight, no D2 ----
CEIL=$WORK/ceiling.jsonl; : >"$CEIL"; : >"$WORK/ceiling-threads.txt"
for w in $CEIL_WINDOWS; do
    bind_setup "$WORK/named" "$DNSPORT"; bind_start "$WORK/named" "$DNSPORT"
    cmd=(ip netns exec "$NS" $PY "$BENCH_DIR/bind_ceiling.py" --dns 127.0.0.1:$DNSPORT --keyname "$KEYNAME"
         --secret "$KEYSECRET" -n "$CEIL_N" --window "$w" --sockets "$CEIL_SOCKETS" --max-time "$MAX_TIME")
    echo "# ${cmd[*]//$KEYSECRET/<secret>}" >"$WORK/ceiling-$w.cmd"
    # one line in each file per finished run, so that d2_rounds.sh can pair them
    timeout -k 5 $((MAX_TIME + 60)) "${cmd[@]}" >>"$CEIL" 2>"$WORK/ceiling-$w.err" &&
        echo "$w $(named_net_split)" >>"$WORK/ceiling-threads.txt"
    stop_pid named
    tail -1 "$CEIL" >&2
done

$PY - "$CSV" "$CEIL" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ceil = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
def f(x):
    try: return float(x)
    except: return None
print()
print("| D2 | offered NCR/s | NCRs sent | A visible | PTR visible | lost (A/PTR) | completed NCR/s | DNS updates/s | p50 ms | p99 ms | max ms | log ADD_SUCCEEDED / ADD_FAILED / QUEUE_FULL / WARN+ERROR | kernel rcvbuf drops | RSS MB | D2 CPU ms/NCR |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    rate = f"burst ({float(r['offered_per_s']):.0f}/s)" if f(r["rate"]) == 0 else f"{f(r['rate']):.0f}"
    cps = f(r["completed_per_s"]) or 0
    print(f"| {r['server']} | {rate} | {r['sent']} | {r['a_visible']} | {r['ptr_visible']} | {r['lost_a']}/{r['lost_ptr']} "
          f"| {cps:.0f} | {2*cps:.0f} | {r['lat_p50_ms']} | {r['lat_p99_ms']} | {r['lat_max_ms']} "
          f"| {r['log_add_ok']} / {r['log_add_failed']} / {r['log_queue_full']} / {r['log_warn_error']} | {r['rcvbuf_drops']} | {int(r['rss_kb'] or 0)/1024:.1f} | {r['cpu_ms_per_ncr']} |")
best = max((c["updates_per_s"] for c in ceil), default=None)
print()
if ceil:
    print("BIND ceiling (same update shapes: forward absent+A+DHCID, reverse delete PTR+DHCID, add PTR+DHCID; TSIG hmac-sha256; no D2):")
    print()
    print("| updates in flight | updates answered | updates/s | = NCR/s equivalent | rcodes | p50 / p99 ms |")
    print("|---|---|---|---|---|---|")
    for c in ceil:
        print(f"| {c['window']} | {c['answered']}/{c['updates']} | {c['updates_per_s']:.0f} | {c['ncr_equiv_per_s']:.0f} | {c['rcodes']} | {c['lat_p50_ms']} / {c['lat_p99_ms']} |")
print()
print("| offered NCR/s | tern-d2 / kea-d2 completed NCR/s | tern-d2 lost | kea-d2 lost | kea-d2 % of BIND ceiling | tern-d2 % of BIND ceiling |")
print("|---|---|---|---|---|---|")
by = {}
for r in rows: by.setdefault(r["rate"], {})[r["server"]] = r
for rate, d in by.items():
    k, t = d.get("kea-d2"), d.get("tern-d2")
    kc = f(k["completed_per_s"]) if k else None
    tc = f(t["completed_per_s"]) if t else None
    ratio = f"{tc/kc:.2f}" if kc and tc else "n/a"
    pc = lambda c: f"{100*2*c/best:.0f} %" if c and best else "n/a"
    print(f"| {'burst' if f(rate)==0 else f'{f(rate):.0f}'} | {ratio} | {t['lost_a'] if t else ''} | {k['lost_a'] if k else ''} | {pc(kc)} | {pc(tc)} |")
EOF
echo "raw output: $WORK"
