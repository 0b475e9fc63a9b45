#!/usr/bin/env bash
# bench/dns.sh -- authoritative DNS: dnsperf against Knot DNS 3.2, BIND 9.18 and tern's zone
# server in one run, on the same zone file and the same query file, one server at a time.
#
#   bench/dns.sh                                  # 10,000-name zone, 15 s per server (~2 min)
#   ZONE_RECORDS=1000000 bench/dns.sh             # the large zone: load time and RSS matter
#   SERVERS="knot bind" ROUNDS=3 bench/dns.sh
#
# Zone bench.test (bench/dns_zone.py): ZONE_RECORDS A records h<i>, AAAA on every 10th, and
# ZONE_RECORDS/100 names each of MX, TXT and CNAME, as a BIND zone file with SOA and NS.
# Queries: QUERIES lines shuffled with a fixed seed: 78 % A of existing names, 10 %
# NXDOMAIN, 4 % AAAA, 2 % AAAA NODATA, 2 % MX, 2 % TXT, 2 % CNAME (A of a c<i>).
#
# Servers (each on its own port in the netns, started fresh for every round):
#   knot  knotd -c WORK/knot.conf (udp-workers KNOT_WORKERS, tcp-workers 1,
#         background-workers 1, zone file loaded, no journal, never written back)   :5301
#   bind  named -g -c WORK/named.conf -n NAMED_THREADS (primary zone from the file,
#         minimal-responses yes, recursion no)                                        :5302
#   tern  tern serve -c WORK/tern.json --data-dir WORK/tern-data, tern.json holding only
#         a Dns section (listen-on + the zone with "file"). tern imports the file into its
#         embedded PostgreSQL on the first start (timed separately: "import" = initdb +
#         migrations + import + serving); every round then starts it again on that data
#         dir, so its load time is the cold start from the store                       :5303
# Per server and round: load time (start -> the zone's LAST name answered with its
# address, bench/dns_probe.py every 10 ms), VmRSS after loading and after the load (tern:
# its own process; its PostgreSQL's summed VmRSS shown apart), the answers to 10 sample
# queries compared with dig against the first server's (status, AA, answer section),
# then dnsperf -s 127.0.0.1 -p PORT -d QUERIES_FILE -c CLIENTS -T THREADS -l DURATION -q
# OUTSTANDING: queries/s, average and max latency, lost, rcodes; the server's CPU time per
# answered query; the netns' UDP RcvbufErrors delta (kernel drops).
#
# env:
#   ZONE_RECORDS=10000   A records (at most 5,000,000)
#   QUERIES=100000       query file lines (at most 5,000,000); dnsperf loops over it
#   DURATION=15          seconds of dnsperf per server and round (at most 300)
#   CLIENTS=8 THREADS=1 OUTSTANDING=200   dnsperf -c, -T, -q (the peers' anchor: -c 8 -q 200 -T 1)
#   SERVERS="knot bind tern"   which, in this order (the first one's answers are the reference)
#   ROUNDS=1             rounds of all SERVERS (at most 10); medians when more than one
#   KNOT_WORKERS=2 NAMED_THREADS=2
#   LOAD_TIMEOUT         seconds a server may take to load (default 60; 600 above 100k records)
#   TERN                 tern binary (target/release/tern of this checkout)
#   WORK=/tmp/tern-bench-dns   scratch (wiped at start, kept afterwards: configs, logs, raw dnsperf)
#   KEEP_TERN_DATA=0     1 keeps tern's data dir (WORK/tern-data, its embedded PostgreSQL) after the run
#   OUT                  bench/results/dns-DATE.txt (dns-DATE-<N>.txt for other ZONE_RECORDS)
# Network: netns $NS (default ternbench-dns), loopback only. Processes: started by start_bg,
# stopped by PID. Needs root, knot, bind9, dnsperf, python3; tern built (for SERVERS with tern).
set -uo pipefail
NS=${NS:-ternbench-dns}
. "$(dirname "$0")/lib.sh"

ZONE_RECORDS=${ZONE_RECORDS:-10000}; QUERIES=${QUERIES:-100000}; DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-8}; THREADS=${THREADS:-1}; OUTSTANDING=${OUTSTANDING:-200}
SERVERS=${SERVERS:-"knot bind tern"}; ROUNDS=${ROUNDS:-1}
KNOT_WORKERS=${KNOT_WORKERS:-2}; NAMED_THREADS=${NAMED_THREADS:-2}
if [ "$ZONE_RECORDS" -gt 100000 ]; then LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}; else LOAD_TIMEOUT=${LOAD_TIMEOUT:-60}; fi
suffix=""; [ "$ZONE_RECORDS" = 10000 ] || suffix="-$ZONE_RECORDS"
OUT=${OUT:-$BENCH_DIR/results/dns-$(date -u +%F)$suffix.txt}
[ "$ZONE_RECORDS" -ge 100 ] && [ "$ZONE_RECORDS" -le 5000000 ] || die "ZONE_RECORDS 100..5,000,000"
[ "$QUERIES" -ge 1 ] && [ "$QUERIES" -le 5000000 ] || die "QUERIES 1..5,000,000"
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 300 ] || die "DURATION 1..300"
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 10 ] || die "ROUNDS 1..10"
for s in $SERVERS; do case $s in knot|bind|tern) ;; *) die "unknown server $s (knot bind tern)";; esac; done
command -v dnsperf >/dev/null || die "dnsperf missing (apt-get install dnsperf)"
case " $SERVERS " in *" knot "*) command -v knotd >/dev/null || die "knotd missing (apt-get install knot)";; esac
case " $SERVERS " in *" bind "*) command -v named >/dev/null || die "named missing (apt-get install bind9)";; esac
case " $SERVERS " in *" tern "*) tern_built;; esac

ZONE=bench.test
declare -A PORT=([knot]=5301 [bind]=5302 [tern]=5303)
HZ=$(getconf CLK_TCK)

bench_init dns
exec > >(tee "$WORK/dns.out.txt") 2>&1
ZONEFILE=$WORK/bench.zone; QFILE=$WORK/queries.txt
t0=$(date +%s.%N)
META=$($PY "$BENCH_DIR/dns_zone.py" --zone "$ZONEFILE" --queries "$QFILE" -n "$ZONE_RECORDS" -Q "$QUERIES" --origin "$ZONE") \
    || die "dns_zone.py failed"
log "zone and queries generated in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s: $META"
meta() { $PY -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print("\n".join(v) if isinstance(v, list) else v)' "$META" "$1"; }
LAST=$(meta last); LAST_ADDR=$(meta last_addr); NREC=$(meta records)
mapfile -t SAMPLES < <(meta samples)

# ---- configs ---------------------------------------------------------------------------
mkdir -p "$WORK/knot" "$WORK/named"
cat >"$WORK/knot.conf" <<EOF
# rendered by tern bench/dns.sh: Knot DNS 3.2, the zone file as it is, nothing written back
server:
    rundir: "$WORK/knot"
    listen: 127.0.0.1@${PORT[knot]}
    udp-workers: $KNOT_WORKERS
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$WORK/knot"
log:
  - target: stderr
    any: warning
zone:
  - domain: $ZONE
    storage: "$WORK/knot"
    file: "$ZONEFILE"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
EOF
cat >"$WORK/named.conf" <<EOF
// rendered by tern bench/dns.sh: BIND 9.18, primary for the zone file, no recursion
options {
    directory "$WORK/named";
    pid-file none;
    listen-on port ${PORT[bind]} { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    notify no;
    dnssec-validation no;
    minimal-responses yes;
    zone-statistics no;
    allow-transfer { none; };
};
controls { };
zone "$ZONE" { type primary; file "$ZONEFILE"; };
EOF
cat >"$WORK/tern.json" <<EOF
{"Dns": {"listen-on": [{"ip-address": "127.0.0.1", "port": ${PORT[tern]}}],
         "zones": [{"name": "$ZONE.", "file": "$ZONEFILE"}]}}
EOF
case " $SERVERS " in *" knot "*) knotc -c "$WORK/knot.conf" conf-check >"$WORK/knot.check" 2>&1 || die "knot.conf: $(cat "$WORK/knot.check")";; esac
case " $SERVERS " in *" bind "*) named-checkconf "$WORK/named.conf" || die "named.conf invalid";; esac
case " $SERVERS " in *" tern "*) "$TERN" check -c "$WORK/tern.json" >"$WORK/tern.check" 2>&1 || die "tern check: $(cat "$WORK/tern.check")";; esac

version() {
    case $1 in
      knot) knotd -V | awk '{print "Knot " $NF}' ;;
      bind) named -v | awk '{print "BIND " $2}' ;;
      tern) echo "tern $("$TERN" version 2>/dev/null | cut -d' ' -f2)" ;;
    esac
}

# ---- one server ------------------------------------------------------------------------
# server_start S LOG : start S in the netns; sets LOAD_S (start -> the zone's last name
# answered) or returns 1 when it did not load within LOAD_TIMEOUT
server_start() {
    local s=$1 out=$2 t p
    inns ss -Hulnp "sport = :${PORT[$s]}" | grep -q . && die "port ${PORT[$s]} busy in $NS"
    t=$(date +%s.%N)
    case $s in
      knot) start_bg srv "$out" ip netns exec "$NS" knotd -c "$WORK/knot.conf" ;;
      bind) start_bg srv "$out" ip netns exec "$NS" named -g -c "$WORK/named.conf" -n "$NAMED_THREADS" ;;
      tern) start_bg srv "$out" ip netns exec "$NS" "$TERN" serve -c "$WORK/tern.json" --data-dir "$WORK/tern-data" ;;
    esac
    LOAD_S=$(inns $PY "$BENCH_DIR/dns_probe.py" --port "${PORT[$s]}" --name "$LAST" --addr "$LAST_ADDR" \
        --start "$t" --timeout "$LOAD_TIMEOUT") || { log "$s did not answer $LAST within $LOAD_TIMEOUT s"; tail -20 "$out"; return 1; }
    p=$(pid_of srv)
    alive srv || { tail -20 "$out"; return 1; }
    log "$s (pid $p, $(cat /proc/"$p"/comm)) answers $LAST after $LOAD_S s"
}

# answers S PORT : the sample queries' status, AA bit and answer section (sorted), one line each
answers() {
    local q
    for q in "${SAMPLES[@]}"; do
        # shellcheck disable=SC2086
        inns dig +norec +tries=2 +time=2 -p "$2" @127.0.0.1 $q +noall +comments +answer | awk -v q="$q" '
            /status:/ { st = $0; sub(/.*status: /, "", st); sub(/,.*/, "", st) }
            /^;; flags:/ { aa = ($0 ~ / aa[ ;]/) ? "aa" : "no-aa" }
            /^[^;]/ && NF >= 5 { r = tolower($1) " " $2 " " $4; for (i = 5; i <= NF; i++) r = r " " $i; rr[++n] = r }
            END { s = ""; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rr[j] < rr[i]) { t = rr[i]; rr[i] = rr[j]; rr[j] = t }
                  for (i = 1; i <= n; i++) s = s " | " rr[i]
                  printf "%s: %s %s%s\n", q, st ? st : "NO-ANSWER", aa, s }'
    done
}
cpu_ticks() { awk '{ sub(/^[0-9]+ \(.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

CSV=$WORK/dns.csv
echo "round,server,load_s,rss_load_kb,pg_rss_load_kb,rss_after_kb,hwm_kb,qps,avg_ms,max_ms,lost,sent,completed,noerror,nxdomain,other_rcodes,cpu_us_per_query,rcvbuf_drops,answers,resp_bytes,load_before" >"$CSV"
REF=""; IMPORT_S=""; IMPORT_RSS=""

# tern: the first start imports the zone file into a new store; timed apart
case " $SERVERS " in *" tern "*)
    rm -rf "$WORK/tern-data"
    log "tern: first start on an empty data dir (initdb, migrations, import of $NREC records)"
    if server_start tern "$WORK/tern-import.log"; then
        IMPORT_S=$LOAD_S; IMPORT_RSS=$(rss_kb "$(pid_of srv)")
        grep -m1 TERN_READY "$WORK/tern-import.log" >/dev/null || log "WARNING: tern answers but logged no TERN_READY"
    else
        IMPORT_S="failed"
    fi
    stop_pid srv;;
esac

for round in $(seq "$ROUNDS"); do
  for s in $SERVERS; do
    [ "$s" = tern ] && [ "$IMPORT_S" = failed ] && { echo "$round,$s,failed,,,,,,,,,,,,,,,,,," >>"$CSV"; continue; }
    out=$WORK/$s-$round.log
    server_start "$s" "$out" || { stop_pid srv; echo "$round,$s,failed,,,,,,,,,,,,,,,,,," >>"$CSV"; continue; }
    p=$(pid_of srv)
    sleep 1                                   # let a just-loaded server settle (freed load buffers)
    rss_load=$(rss_kb "$p"); pg_rss=""; [ "$s" = tern ] && pg_rss=$(tree_rss_kb "$p")
    answers "$s" "${PORT[$s]}" >"$WORK/answers-$s-$round.txt"
    if [ -z "$REF" ]; then REF=$WORK/answers-$s-$round.txt; match=reference
    elif cmp -s "$REF" "$WORK/answers-$s-$round.txt"; then match=same
    else match=DIFFER; log "WARNING: $s answers differently from $(basename "$REF"):"
         diff "$REF" "$WORK/answers-$s-$round.txt" | sed 's/^/    /' >&2
    fi
    load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)
    raw=$WORK/dnsperf-$s-$round.txt
    cmd=(ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$QFILE" -c "$CLIENTS" -T "$THREADS" -l "$DURATION" -q "$OUTSTANDING")
    echo "# ${cmd[*]}" >"$raw"
    log "$s round $round: ${cmd[*]:4} (load before $load)"
    rb0=$(udp_rcvbuf_errors); c0=$(cpu_ticks "$p")
    timeout -k 5 $((DURATION + 30)) "${cmd[@]}" >>"$raw" 2>&1 || log "WARNING: dnsperf exited $? against $s"
    rb=$(( $(udp_rcvbuf_errors) - rb0 )); c=$(( $(cpu_ticks "$p") - c0 ))
    alive srv || log "WARNING: $s (pid $p) died during the load; see $out"
    rss_after=$(rss_kb "$p"); hwm=$(hwm_kb "$p")
    stop_pid srv
    awk -v r="$round" -v s="$s" -v ld="$LOAD_S" -v rl="$rss_load" -v pr="$pg_rss" -v ra="$rss_after" -v hwm="$hwm" \
        -v cpu="$c" -v hz="$HZ" -v rb="$rb" -v m="$match" -v load="$load" '
        /Queries sent:/ { sent = $3 } /Queries completed:/ { done = $3 } /Queries lost:/ { lost = $3 }
        /Queries per second:/ { qps = $4 }
        /Average packet size:/ { resp = $NF }
        /Average Latency/ { avg = $4; mx = $8; sub(/\)/, "", mx) }
        /Response codes:/ { sub(/.*Response codes: /, ""); n = split($0, f, /, /)
            for (i = 1; i <= n; i++) { split(f[i], kv, " "); rc[kv[1]] = kv[2]; if (kv[1] != "NOERROR" && kv[1] != "NXDOMAIN") oth = oth kv[1] ":" kv[2] " " } }
        END { us = (done > 0) ? 1e6 * cpu / hz / done : 0
              printf "%s,%s,%s,%s,%s,%s,%s,%s,%.3f,%.3f,%s,%s,%s,%s,%s,%s,%.2f,%s,%s,%s,%s\n", r, s, ld, rl, pr, ra, hwm, qps,
                  avg * 1000, mx * 1000, lost, sent, done, rc["NOERROR"] + 0, rc["NXDOMAIN"] + 0, oth, us, rb, m, resp, load }' "$raw" >>"$CSV"
    tail -1 "$CSV"
  done
done

# ---- summary ---------------------------------------------------------------------------
VERSIONS=$(for s in $SERVERS; do version "$s"; done | paste -sd, | sed 's/,/, /g')
KNOT_INFO=""; BIND_INFO=""
case " $SERVERS " in *" knot "*) KNOT_INFO="knotd udp-workers $KNOT_WORKERS; ";; esac
case " $SERVERS " in *" bind "*) BIND_INFO="named -n $NAMED_THREADS; ";; esac
{
    echo "# bench/dns.sh $(date -u '+%F %H:%M') UTC: $VERSIONS; $(nproc) cores; zone $ZONE $NREC records" \
         "($ZONE_RECORDS A names), $QUERIES queries; dnsperf -c $CLIENTS -T $THREADS -q $OUTSTANDING -l $DURATION;" \
         "${KNOT_INFO}${BIND_INFO}$ROUNDS round(s)"
    echo
    $PY - "$CSV" "$IMPORT_S" "$IMPORT_RSS" "$ZONE_RECORDS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
import_s, import_rss = sys.argv[2], sys.argv[3]
def num(v):
    try: return float(v)
    except (TypeError, ValueError): return None
def med(s, k):
    v = [num(r[k]) for r in rows if r["server"] == s and num(r[k]) is not None]
    return statistics.median(v) if v else None
def mb(kb): return "" if kb is None else f"{kb / 1024:.1f}"
print("| round | server | load s | RSS after load MB | RSS after run MB | queries/s | avg ms | max ms | lost | completed | NOERROR / NXDOMAIN / other | server CPU µs/query | kernel rcvbuf drops | answers | avg response B | load before |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["load_s"] == "failed":
        print(f"| {r['round']} | {r['server']} | failed | | | | | | | | | | | | | |"); continue
    rss = mb(num(r["rss_load_kb"])) + (f" (+ PostgreSQL {mb(num(r['pg_rss_load_kb']))})" if r["pg_rss_load_kb"] else "")
    qps = num(r["qps"])
    print(f"| {r['round']} | {r['server']} | {r['load_s']} | {rss} | {mb(num(r['rss_after_kb']))} | "
          f"{'' if qps is None else f'{qps:,.0f}'} | {r['avg_ms']} | {r['max_ms']} | {r['lost']} | {r['completed']} | "
          f"{r['noerror']} / {r['nxdomain']} / {r['other_rcodes'].strip() or 0} | {r['cpu_us_per_query']} | {r['rcvbuf_drops']} | "
          f"{r['answers']} | {r['resp_bytes']} | {r['load_before']} |")
servers = list(dict.fromkeys(r["server"] for r in rows))
q = {s: med(s, "qps") for s in servers}
multi = len({r["round"] for r in rows}) > 1
print()
if multi:
    print("medians over the rounds: " + "; ".join(
        f"{s} {q[s]:,.0f} q/s, avg {med(s, 'avg_ms'):.3f} ms, load {med(s, 'load_s'):.2f} s" for s in servers if q[s]))
def ratio(a, b):
    return f"{q[a] / q[b]:.2f}" if q.get(a) and q.get(b) else "n/a"
pairs = [("tern", "knot"), ("tern", "bind"), ("knot", "bind")]
print("queries/s ratios" + (" (medians)" if multi else "") + ": " +
      ", ".join(f"{a}/{b} = {ratio(a, b)}" for a, b in pairs if a in servers and b in servers))
cpu = {s: med(s, "cpu_us_per_query") for s in servers}
print("server CPU µs per answered query" + (" (medians)" if multi else "") + ": " +
      ", ".join(f"{s} {cpu[s]:.2f}" for s in servers if cpu[s]) +
      " -- steadier than queries/s when other work shares the cores; "
      + ", ".join(f"{a}/{b} = {cpu[a] / cpu[b]:.2f}" for a, b in pairs
                  if a in servers and b in servers and cpu[a] and cpu[b]) + " (below 1: the first needs less CPU per query)")
if import_s:
    print(f"tern first start on an empty data dir (initdb + migrations + import + first answer): {import_s} s, "
          f"VmRSS then {mb(num(import_rss))} MB; the 'load s' of tern's rows is a restart that loads the zone from its store")
if "tern" in servers and q.get("tern") and q.get("knot"):
    lost = max(int(num(r["lost"]) or 0) for r in rows if r["server"] == "tern")
    ok = q["tern"] >= q["knot"] and lost == 0
    print(f"target (issue 18): tern >= 1.0x Knot's queries/s with 0 lost: {'met' if ok else 'NOT met'} "
          f"({ratio('tern', 'knot')}x, lost up to {lost})")
if "tern" in servers and med("tern", "load_s") is not None:
    n = int(sys.argv[4])
    ld = max(num(r["load_s"]) for r in rows if r["server"] == "tern" and num(r["load_s"]) is not None)
    if n >= 1000000:
        print(f"target (issue 18): the 1M zone loaded cold in <= 5 s: {'met' if ld <= 5 else 'NOT met'} (slowest restart {ld:.2f} s)")
    if med("bind", "rss_load_kb"):
        t, b = med("tern", "rss_load_kb"), med("bind", "rss_load_kb")
        print(f"target (zone-server.md, what tern must do, 7): RSS <= BIND's on the same zone: {'met' if t <= b else 'NOT met'} "
              f"(tern {mb(t)} MB, its PostgreSQL not counted, BIND {mb(b)} MB)")
EOF
    # where tern's start went, from its own log lines (seconds after TERN_STARTING)
    for f in "$WORK/tern-import.log" "$WORK"/tern-[0-9]*.log; do
        [ -f "$f" ] || continue
        awk -v f="$(basename "$f" .log)" '
            { split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3] }
            / TERN_STARTING / { t0 = s }
            / STORE_EMBEDDED_STARTED / { pg = s - t0 }
            / DNS_ZONE_IMPORTED / { imp = s - t0 }
            / DNS_LISTENING / && !ls { ls = s - t0 }
            / DNS_ZONES_LOADED / { for (i = 1; i < NF; i++) if ($i == "in") z = $(i + 1) / 1000 }
            END { if (t0 == "") exit
                  printf "tern %s (its log): PostgreSQL up %.2f s", f, pg
                  if (imp != "") printf ", zone imported %.2f s", imp
                  printf ", zones loaded from the store in %.2f s, listening %.2f s after start\n", z, ls }' "$f"
    done
} | tee "$WORK/summary.md"
mkdir -p "$(dirname "$OUT")"
{
    cat "$WORK/summary.md"; echo
    echo "## sample answers (reference: $(basename "${REF:-none}"))"; [ -n "$REF" ] && sed 's/^/    /' "$REF"
    echo; echo "## raw dnsperf output"
    for f in "$WORK"/dnsperf-*.txt; do [ -f "$f" ] || continue; echo "### $(basename "$f" .txt)"; sed 's/^/    /' "$f"; done
} >"$OUT"
# tern's store of a 1M-record zone is some hundred MB: not kept unless asked
[ "${KEEP_TERN_DATA:-0}" = 1 ] || rm -rf "$WORK/tern-data"
log "written $OUT (raw files in $WORK)"
