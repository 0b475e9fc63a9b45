#!/usr/bin/python3
"""dns_zone.py -- the zone and the dnsperf query file of bench/dns.sh.

Zone (BIND master file, $ORIGIN/$TTL, relative names, omitted owners): SOA, NS, and
  h<i>  A     10.a.b.c (i in 0..N-1; answer data only, never a traffic target)
  h<i>  AAAA  2001:db8::... for every 10th i
  m<i>  MX    10 h<i>, 20 h<i+1>          (N/100 names)
  t<i>  TXT   "v=bench id=<i>"            (N/100 names)
  c<i>  CNAME h<i>                         (N/100 names: in-zone chain)
Queries (-Q lines, shuffled by a fixed seed, so every run and every server gets the same
file): 78 % A of an existing h<i>, 10 % A of a name that does not exist (NXDOMAIN), 4 %
AAAA of an h<i> that has one, 2 % AAAA of an h<i> that has none (NODATA), 2 % MX, 2 % TXT,
2 % A of a c<i> (CNAME answered with its target).
Prints one line of JSON: record counts and sample names for the answer check.
"""
import argparse
import json
import random

ap = argparse.ArgumentParser()
ap.add_argument("--zone", required=True)
ap.add_argument("--queries", required=True)
ap.add_argument("-n", type=int, default=10000, help="A records h<i>")
ap.add_argument("-Q", type=int, default=100000, help="query lines")
ap.add_argument("--origin", default="bench.test")
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()
n, o = a.n, a.origin
if n < 100:
    ap.error("-n must be at least 100")
small = n // 100


def v4(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def v6(i):
    return f"2001:db8::{(i >> 16) & 0xffff:x}:{i & 0xffff:x}"


# Chunks of lines joined once: ~1.2 M records are written in about a second.
CHUNK = 50000
counts = {"A": 0, "AAAA": 0, "MX": 0, "TXT": 0, "CNAME": 0}
with open(a.zone, "w") as f:
    f.write(f"$ORIGIN {o}.\n$TTL 3600\n"
            f"@ IN SOA ns.{o}. hostmaster.{o}. ( 1 3600 600 86400 300 )\n"
            "  IN NS ns\n  IN MX 10 ns\n  IN TXT \"bench zone of tern bench/dns.sh\"\n"
            "ns IN A 127.0.0.1\n")
    for start in range(0, n, CHUNK):
        lines = []
        for i in range(start, min(n, start + CHUNK)):
            lines.append(f"h{i} IN A {v4(i)}\n")
            if i % 10 == 0:
                lines.append(f" IN AAAA {v6(i)}\n")
        f.write("".join(lines))
    counts["A"] = n + 1
    counts["AAAA"] = (n + 9) // 10
    lines = []
    for i in range(small):
        lines.append(f"m{i} IN MX 10 h{i}\n IN MX 20 h{i + 1}\n"
                     f"t{i} IN TXT \"v=bench id={i}\"\n"
                     f"c{i} IN CNAME h{i}\n")
    f.write("".join(lines))
    counts["MX"] = 2 * small + 1
    counts["TXT"] = small + 1
    counts["CNAME"] = small

rnd = random.Random(a.seed)
ri = rnd.randrange
with open(a.queries, "w") as f:
    lines = []
    for _ in range(a.Q):
        r = ri(100)
        if r < 78:
            q = f"h{ri(n)}.{o} A"
        elif r < 88:
            q = f"nx{ri(n)}.{o} A"
        elif r < 92:
            q = f"h{10 * ri((n + 9) // 10)}.{o} AAAA"
        elif r < 94:
            q = f"h{10 * ri(n // 10) + 1 + ri(9)}.{o} AAAA"
        elif r < 96:
            q = f"m{ri(small)}.{o} MX"
        elif r < 98:
            q = f"t{ri(small)}.{o} TXT"
        else:
            q = f"c{ri(small)}.{o} A"
        lines.append(q)
        if len(lines) >= CHUNK:
            f.write("\n".join(lines) + "\n")
            lines = []
    if lines:
        f.write("\n".join(lines) + "\n")

# Names for the answer check: every kind of answer the query file asks for, and the
# zone's last A record (a server that has not finished loading does not have it).
samples = [f"h1.{o} A", f"h{n - 1}.{o} A", f"h10.{o} AAAA", f"h11.{o} AAAA",
           f"m1.{o} MX", f"t1.{o} TXT", f"c1.{o} A", f"nx1.{o} A", f"{o} SOA", f"{o} NS"]
print(json.dumps({"records": sum(counts.values()) + 2, "by_type": counts,
                  "last": f"h{n - 1}.{o}", "last_addr": v4(n - 1), "samples": samples}))
