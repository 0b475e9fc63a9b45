#!/bin/bash
# bench/d2_bracket.sh -- the burst target of issue 4, D2 and ceiling on the SAME BIND.
#
# Why: a BIND's update rate differs from one start to the next (at -n 1 ten starts gave
# 940-1,090 NCR/s; with -n 2 a start lands at one of two speeds), and so does the CPU it
# spends per update. d2_rounds.sh compares a burst with ceilings measured on other BIND
# lives, so that variance is in every ratio. Here every round is one BIND life:
#
#   fresh BIND, D2 started (idle)
#   ceiling A: BIND's own rate, CEIL_N NCR-equivalents (names ca-<i>), no D2 traffic
#   burst:     BURST_N NCRs through the D2, unpaced (names t-<i>)
#   ceiling B: as A (names cb-<i>)
#
# and the D2's rate is compared with the mean of A and B, which bracket it in time and in
# zone size (the zones hold 0, N and 2N names at the start of the three phases; the
# addresses never repeat). The D2 is running, idle, during A and B: the machine is in the
# same state as during the burst except for the D2's own work.
#
# env: ROUNDS=6 (1..20), BURST_N=10000, CEIL_N=$BURST_N, CEIL_WINDOW=8 (updates in
#      flight; 8 was BIND's best at -n 1), CEIL_SOCKETS=32, SERVERS="tern-d2" (kea-d2
#      too if asked: it loses most of a burst, so its rate is of what it kept),
#      NAMED_THREADS=1, PROBE_QPS_BURST=200, SAMPLE_BURST=100, MAX_TIME=90,
#      D2_SEVERITY=INFO, WORK=/tmp/tern-bench-d2-bracket (wiped at start)
# prints: per round and D2: ceiling A, burst, ceiling B (NCR/s), burst / mean(A, B), lost;
#         then per D2 the median and the range of those ratios. CSV: $WORK/bracket.csv
set -u
NS=${NS:-ternbench-d2}
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-6}; BURST_N=${BURST_N:-10000}; CEIL_N=${CEIL_N:-$BURST_N}
CEIL_WINDOW=${CEIL_WINDOW:-8}; CEIL_SOCKETS=${CEIL_SOCKETS:-32}; SERVERS=${SERVERS:-tern-d2}
PROBE_QPS_BURST=${PROBE_QPS_BURST:-200}; SAMPLE_BURST=${SAMPLE_BURST:-100}; MAX_TIME=${MAX_TIME:-90}
D2_SEVERITY=${D2_SEVERITY:-INFO}
export NAMED_THREADS=${NAMED_THREADS:-1}
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || die "ROUNDS must be 1..20"
[ "$BURST_N" -ge 1 ] && [ "$BURST_N" -le 100000 ] && [ "$CEIL_N" -ge 1 ] && [ "$CEIL_N" -le 100000 ] ||
    die "BURST_N and CEIL_N must be 1..100000"
NCRPORT=53001; DNSPORT=5353
tern_built
$PY -c 'import dns.update, dns.tsig' 2>/dev/null || apt-get install -y -q python3-dnspython >/dev/null || die "apt-get install python3-dnspython"
bench_init d2-bracket
kea_env
CSV=$WORK/bracket.csv
echo "round,server,ceil_a,burst,ceil_b,ratio,lost_a,lost_ptr,named_net_ticks" >"$CSV"

# ceiling OUT PREFIX FIRST : BIND's own rate on the running BIND
ceiling() {
    local cmd=(ip netns exec "$NS" $PY "$BENCH_DIR/bind_ceiling.py" --dns 127.0.0.1:$DNSPORT
               --keyname "$KEYNAME" --secret "$KEYSECRET" -n "$CEIL_N" --first "$3" --prefix "$2"
               --window "$CEIL_WINDOW" --sockets "$CEIL_SOCKETS" --max-time "$MAX_TIME")
    echo "# ${cmd[*]//$KEYSECRET/<secret>}" >"$1.cmd"
    timeout -k 5 $((MAX_TIME + 60)) "${cmd[@]}" >"$1" 2>"$1.err"
}

bind_setup "$WORK/named" "$DNSPORT"
d2_conf "$KEYSECRET"
kea-dhcp-ddns -t "$WORK/kea-dhcp-ddns.json" >"$WORK/kea-d2.check" 2>&1 || die "kea-dhcp-ddns -t: $(tail -3 "$WORK/kea-d2.check")"
"$TERN" check -c "$WORK/kea-dhcp-ddns.json" >"$WORK/tern.check" 2>&1 || die "tern check: $(cat "$WORK/tern.check")"
case " $SERVERS " in *" tern-d2 "*)
    log "initialising tern's embedded cluster once (template)"
    tern_template_data "$WORK/tern-template" "$WORK/kea-dhcp-ddns.json" 127.0.0.1 "$NCRPORT";;
esac

for r in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    d=$WORK/$r-$s; mkdir -p "$d"
    log "round $r of $ROUNDS: $s"
    bind_setup "$WORK/named" "$DNSPORT"; d2_conf "$KEYSECRET"; bind_start "$WORK/named" "$DNSPORT"
    rm -f "$WORK/d2.log"
    case $s in
      kea-d2)  start_bg d2 "$d/d2.out" ip netns exec "$NS" kea-dhcp-ddns -c "$WORK/kea-dhcp-ddns.json" ;;
      tern-d2) rm -rf "$WORK/tern-data"; cp -a "$WORK/tern-template" "$WORK/tern-data"
               start_bg d2 "$d/d2.out" ip netns exec "$NS" "$TERN" serve -c "$WORK/kea-dhcp-ddns.json" --data-dir "$WORK/tern-data" ;;
      *) die "unknown server $s" ;;
    esac
    wait_udp 127.0.0.1 "$NCRPORT" 60 || { tail -20 "$d/d2.out"; die "$s not listening on 127.0.0.1:$NCRPORT"; }
    sleep 1
    ceiling "$d/ceil-a.json" ca- 1
    cmd=(ip netns exec "$NS" $PY "$BENCH_DIR/ncr_load.py" --ncr 127.0.0.1:$NCRPORT --dns 127.0.0.1:$DNSPORT
         -n "$BURST_N" --first $((CEIL_N + 1)) --rate 0 --sample "$SAMPLE_BURST" --probe-qps "$PROBE_QPS_BURST"
         --max-time "$MAX_TIME" --prefix t-)
    echo "# ${cmd[*]}" >"$d/burst.json.cmd"
    timeout -k 5 $((MAX_TIME + 60)) "${cmd[@]}" >"$d/burst.json" 2>"$d/burst.json.err"
    alive d2 || log "WARNING: $s died during the burst; see $d/d2.out"
    ceiling "$d/ceil-b.json" cb- $((CEIL_N + BURST_N + 1))
    split=$(named_net_split)
    stop_pid d2; stop_pid named
    cp "$WORK/d2.log" "$d/d2.log" 2>/dev/null || true
    $PY - "$d" "$r" "$s" "$split" <<'EOF' | tee -a "$CSV" >&2
import json, sys
d, r, s, split = sys.argv[1:]
def last(f, key):
    try:
        return json.loads(open(f).read().strip().splitlines()[-1])
    except Exception:
        return None
a, b, x = last(f"{d}/ceil-a.json", 0), last(f"{d}/ceil-b.json", 0), last(f"{d}/burst.json", 0)
ca = a["ncr_equiv_per_s"] if a and not a["unanswered"] else None
cb = b["ncr_equiv_per_s"] if b and not b["unanswered"] else None
bu = x["completed_per_s"] if x else None
ratio = round(bu / ((ca + cb) / 2), 3) if bu and ca and cb else ""
print(",".join(str(v if v is not None else "") for v in
      [r, s, ca, bu, cb, ratio, x and x["lost_a"], x and x["lost_ptr"], split]))
EOF
  done
done

$PY - "$CSV" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print()
print("| round | D2 | ceiling A NCR/s | D2 burst NCR/s | ceiling B NCR/s | burst / mean(A, B) | lost A/PTR |")
print("|---|---|---|---|---|---|---|")
for x in rows:
    pc = f"{100 * float(x['ratio']):.0f} %" if x["ratio"] else "n/a"
    print(f"| {x['round']} | {x['server']} | {x['ceil_a']} | {x['burst']} | {x['ceil_b']} | {pc} | {x['lost_a']}/{x['lost_ptr']} |")
print()
for s in dict.fromkeys(x["server"] for x in rows):
    rs = sorted(float(x["ratio"]) for x in rows if x["server"] == s and x["ratio"])
    lost = sum(int(x["lost_a"] or 0) + int(x["lost_ptr"] or 0) for x in rows if x["server"] == s)
    if rs:
        print(f"{s}: burst / same-BIND ceiling, median {100 * statistics.median(rs):.1f} % "
              f"(mean {100 * statistics.mean(rs):.1f} %, {100 * rs[0]:.0f}-{100 * rs[-1]:.0f} %, "
              f"{len(rs)} rounds); records lost (A + PTR) {lost}")
EOF
echo "raw output: $WORK"
