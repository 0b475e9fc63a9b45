#!/bin/bash
# bench/d2_rounds.sh -- the burst target of issue 4, measured so that chance does not
# decide it: ROUNDS times in a row, one d2.sh burst step per D2 (BURST_N NCRs, unpaced)
# followed at once by BIND's own ceiling (CEIL_WINDOWS, CEIL_N = BURST_N NCR-equivalents,
# so the zones grow as far as in the burst), each run on a freshly started BIND.
#
# What decides BIND's rate here, and so how the target figure is taken: BIND fsyncs its
# journal once per UPDATE and handles each zone on one of its worker threads. Started
# with 2 threads (NAMED_THREADS=2, as on this 2-CPU box), a BIND puts the forward and the
# reverse zone on one thread or on two (by chance, as far as seen here) for its whole
# life: on one it runs like `named -n 1` (~1,050-1,250 NCR/s here), on two at
# ~1,450-1,800. A burst and a ceiling measured on different BIND lives are therefore
# compared only when both had the same kind: the share of the update work done by
# named's less busy worker thread tells them apart (under ~35 %: zones on one thread;
# ~40-50 %: on two). The ceiling spreads its updates over 32 sockets, as the D2s do, so
# that the packet work lands on BIND's threads the same way. Per kind: tern's median against the best window's median.
#
# env: ROUNDS=5, BURST_N=10000, SERVERS="kea-d2 tern-d2", CEIL_WINDOWS="8 32",
#      CEIL_SOCKETS=32, NAMED_THREADS=2, BASE=/tmp/tern-bench-d2-rounds (wiped at start;
#      round r in $BASE/r)
# NAMED_THREADS=1 makes every BIND the first kind, and the figures steadier.
# prints: per round: each D2's completed NCR/s (lost), the best ceiling of the round and
# tern % of it (mixed kinds: a rough figure), and the kind of BIND of every run; then per
# kind the medians and tern % of the best window.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-5}; BASE=${BASE:-/tmp/tern-bench-d2-rounds}
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || { echo "ROUNDS must be 1..20" >&2; exit 1; }
rm -rf "$BASE"; mkdir -p "$BASE"
for r in $(seq 1 "$ROUNDS"); do
    echo "[$(date +%T)] round $r of $ROUNDS" >&2
    WORK=$BASE/$r RATES=0 CEIL_N=${CEIL_N:-${BURST_N:-10000}} CEIL_WINDOWS=${CEIL_WINDOWS-"8 32"} CEIL_SOCKETS=${CEIL_SOCKETS:-32} SERVERS=${SERVERS:-"kea-d2 tern-d2"} \
        "$BENCH_DIR/d2.sh" >"$BASE/round-$r.txt" 2>&1 || { tail -20 "$BASE/round-$r.txt"; exit 1; }
done
/usr/bin/python3 - "$BASE" "$ROUNDS" <<'PY'
import csv, json, statistics, sys
base, rounds = sys.argv[1], int(sys.argv[2])

def kind(split):
    """'1' = both zones on one worker thread (always so with -n 1), '2' = on two."""
    t = sorted((int(x) for x in (split or "").split("/") if x.isdigit()), reverse=True)[:2]
    if len(t) < 2 or not sum(t):
        return "-"
    return "2" if t[1] / sum(t) >= 0.35 else "1"

runs = []          # (round, who, window, NCR/s, lost, kind)
for r in range(1, rounds + 1):
    for x in csv.DictReader(open(f"{base}/{r}/d2.csv")):
        runs.append((r, x["server"], None, float(x["completed_per_s"] or 0), float(x["lost_a"] or 0),
                     kind(x.get("named_net_ticks"))))
    ceil = [json.loads(l) for l in open(f"{base}/{r}/ceiling.jsonl") if l.strip()]
    thr = [l.split() for l in open(f"{base}/{r}/ceiling-threads.txt") if l.strip()]
    for c, t in zip(ceil, thr):
        runs.append((r, "ceiling", c["window"], c["ncr_equiv_per_s"], 0, kind(t[1] if len(t) > 1 else "")))

def fmt(x, f="{:.0f}"):
    return f.format(x) if x is not None else "n/a"

print("| round | kea-d2 NCR/s (lost) | tern-d2 NCR/s (lost) | best ceiling NCR/s | tern % of it | BIND kind: kea / tern / ceiling W |")
print("|---|---|---|---|---|---|")
for r in range(1, rounds + 1):
    mine = [x for x in runs if x[0] == r]
    get = lambda who: next((x for x in mine if x[1] == who), None)
    kea, tern = get("kea-d2"), get("tern-d2")
    ceils = [x for x in mine if x[1] == "ceiling"]
    best = max((x[3] for x in ceils), default=None)
    kinds = f"{kea[5] if kea else '.'} / {tern[5] if tern else '.'} / " + " ".join(f"{x[2]}:{x[5]}" for x in ceils)
    print(f"| {r} | {fmt(kea[3]) if kea else 'n/a'} ({fmt(kea[4]) if kea else 'n/a'}) "
          f"| {fmt(tern[3]) if tern else 'n/a'} ({fmt(tern[4]) if tern else 'n/a'}) | {fmt(best)} "
          f"| {fmt(100 * tern[3] / best) if tern and best else 'n/a'} % | {kinds} |")
print("BIND kind: 1 = forward and reverse zone on one worker thread, 2 = on two ('-': not known)")
names = {"1": "zones on one thread", "2": "zones on two threads", "-": "kind not known"}
for k in ("1", "2", "-"):
    mine = [x for x in runs if x[5] == k]
    if not mine:
        continue
    tern = [x[3] for x in mine if x[1] == "tern-d2"]
    kea = [x[3] for x in mine if x[1] == "kea-d2"]
    per_w = {}
    for x in mine:
        if x[1] == "ceiling":
            per_w.setdefault(x[2], []).append(x[3])
    meds = {w: statistics.median(v) for w, v in sorted(per_w.items())}
    line = f"{names[k]}: ceiling median " + ", ".join(f"W={w} {m:.0f} (of {len(per_w[w])})" for w, m in meds.items())
    if tern:
        line += f"; tern-d2 median {statistics.median(tern):.0f} (of {len(tern)})"
        if meds:
            w, m = max(meds.items(), key=lambda x: x[1])
            line += f" = {100 * statistics.median(tern) / m:.0f} % of W={w}"
    if kea:
        line += f"; kea-d2 median {statistics.median(kea):.0f} (of {len(kea)}, over the NCRs it kept)"
    print(line)
lost = lambda who: sum(x[4] for x in runs if x[1] == who)
print(f"lost in all rounds: tern-d2 {lost('tern-d2'):.0f}, kea-d2 {lost('kea-d2'):.0f}")
PY
echo "raw output: $BASE"
