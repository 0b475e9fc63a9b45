#!/usr/bin/python3
"""dns_probe.py -- load time of a DNS server for bench/dns.sh: asks NAME A every 10 ms
(UDP, no recursion desired) until the answer holds ADDR, then prints the seconds since
START (a Unix time taken just before the server was started) and exits 0; exits 1 after
--timeout seconds. No dnspython: one fixed query, the answer parsed by hand (RFC 1035 §4.1).

usage: dns_probe.py --server 127.0.0.1 --port P --name h9999.bench.test --addr 10.0.39.15
                    --start 1733600000.123 [--timeout 120]
"""
import argparse
import socket
import struct
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--server", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--name", required=True)
ap.add_argument("--addr", required=True)
ap.add_argument("--start", type=float, required=True)
ap.add_argument("--timeout", type=float, default=120)
a = ap.parse_args()

want = socket.inet_aton(a.addr)
qname = b"".join(bytes([len(lab)]) + lab.encode() for lab in a.name.rstrip(".").split(".")) + b"\0"


def skip_name(m, i):
    """Offset after the (possibly compressed) name at i (RFC 1035 §4.1.4)."""
    while True:
        n = m[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += n + 1


def has_addr(m, qid):
    if len(m) < 12:
        return False
    rid, flags, qd, an = struct.unpack("!HHHH", m[:8])
    if rid != qid or not flags & 0x8000 or flags & 0xF != 0:
        return False
    i = 12
    for _ in range(qd):
        i = skip_name(m, i) + 4
    for _ in range(an):
        i = skip_name(m, i)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", m[i:i + 10])
        i += 10
        if rtype == 1 and m[i:i + rdlen] == want:
            return True
        i += rdlen
    return False


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.01)
deadline = time.monotonic() + a.timeout
qid = 0
while time.monotonic() < deadline:
    qid = (qid + 1) & 0xFFFF
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    t0 = time.monotonic()
    try:
        s.sendto(q, (a.server, a.port))
        while True:
            m = s.recv(4096)
            if has_addr(m, qid):
                print(f"{time.time() - a.start:.3f}")
                sys.exit(0)
            if len(m) >= 2 and struct.unpack("!H", m[:2])[0] == qid:
                break  # answered, but not (yet) with the address
    except (socket.timeout, ConnectionRefusedError, OSError):
        pass
    time.sleep(max(0.0, 0.01 - (time.monotonic() - t0)))
sys.exit(1)
