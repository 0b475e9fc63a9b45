#!/bin/bash
# bench/d2_rounds.sh -- the burst target of issue 4, measured so that the machine's drift
# does not decide it: ROUNDS times in a row, one d2.sh burst step per D2 (BURST_N NCRs,
# unpaced) followed at once by BIND's own ceiling (CEIL_WINDOWS), each round on fresh
# BIND/D2/store. BIND fsyncs its journal once per UPDATE, so on this machine's shared
# disk its ceiling drifts by +-25 % within minutes; a D2 figure is compared with the
# ceiling measured right after it, and the medians over the rounds are reported.
#
# env: ROUNDS=5, BURST_N=10000, SERVERS="kea-d2 tern-d2", CEIL_WINDOWS="8 32",
#      BASE=/tmp/tern-bench-d2-rounds (wiped at start; round r in $BASE/r)
# prints: per round and median: each D2's completed NCR/s and lost, the best ceiling
# (NCR/s equivalent), tern % of it, tern / kea.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-5}; BASE=${BASE:-/tmp/tern-bench-d2-rounds}
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || { echo "ROUNDS must be 1..20" >&2; exit 1; }
rm -rf "$BASE"; mkdir -p "$BASE"
for r in $(seq 1 "$ROUNDS"); do
    echo "[$(date +%T)] round $r of $ROUNDS" >&2
    WORK=$BASE/$r RATES=0 CEIL_WINDOWS=${CEIL_WINDOWS-"8 32"} SERVERS=${SERVERS:-"kea-d2 tern-d2"} \
        "$BENCH_DIR/d2.sh" >"$BASE/round-$r.txt" 2>&1 || { tail -20 "$BASE/round-$r.txt"; exit 1; }
done
/usr/bin/python3 - "$BASE" "$ROUNDS" <<'PY'
import csv, json, statistics, sys
base, rounds = sys.argv[1], int(sys.argv[2])
rows = []
for r in range(1, rounds + 1):
    d = {x["server"]: x for x in csv.DictReader(open(f"{base}/{r}/d2.csv"))}
    ceil = [json.loads(l) for l in open(f"{base}/{r}/ceiling.jsonl") if l.strip()]
    best = max((c["ncr_equiv_per_s"] for c in ceil), default=None)
    g = lambda s, k: float(d[s][k]) if s in d else None
    rows.append({"round": r, "kea": g("kea-d2", "completed_per_s"), "kea_lost": g("kea-d2", "lost_a"),
                 "tern": g("tern-d2", "completed_per_s"), "tern_lost": g("tern-d2", "lost_a"), "ceiling": best})
def pct(t, c): return 100 * t / c if t and c else None
def fmt(x, f="{:.0f}"): return f.format(x) if x is not None else "n/a"
print("| round | kea-d2 NCR/s (lost) | tern-d2 NCR/s (lost) | BIND ceiling NCR/s | tern % of ceiling | tern / kea |")
print("|---|---|---|---|---|---|")
for x in rows:
    print(f"| {x['round']} | {fmt(x['kea'])} ({fmt(x['kea_lost'])}) | {fmt(x['tern'])} ({fmt(x['tern_lost'])}) "
          f"| {fmt(x['ceiling'])} | {fmt(pct(x['tern'], x['ceiling']))} % | {fmt(x['tern'] / x['kea'] if x['tern'] and x['kea'] else None, '{:.2f}')} |")
med = lambda k: statistics.median([x[k] for x in rows if x[k] is not None]) if any(x[k] is not None for x in rows) else None
pcts = [pct(x["tern"], x["ceiling"]) for x in rows if pct(x["tern"], x["ceiling"])]
ratios = [x["tern"] / x["kea"] for x in rows if x["tern"] and x["kea"]]
print(f"| median | {fmt(med('kea'))} | {fmt(med('tern'))} | {fmt(med('ceiling'))} "
      f"| {fmt(statistics.median(pcts) if pcts else None)} % | {fmt(statistics.median(ratios) if ratios else None, '{:.2f}')} |")
print(f"lost in all rounds: tern-d2 {sum(x['tern_lost'] or 0 for x in rows):.0f}, kea-d2 {sum(x['kea_lost'] or 0 for x in rows):.0f}")
PY
echo "raw output: $BASE"
