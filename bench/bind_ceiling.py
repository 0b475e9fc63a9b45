#!/usr/bin/python3
"""bind_ceiling.py -- the DNS server's own RFC 2136 update ceiling: TSIG-signed UPDATEs,
--window of them in flight at once over --sockets UDP sockets (default one), no D2 in
between.

The updates have the shape a D2 sends for one NCR (add, conflict resolution on):
  forward: zone <zone>, prerequisite "name not in use", add A + DHCID
  reverse: zone <rzone>, delete the PTR and DHCID RRsets, add PTR + DHCID
(Kea's D2 and tern's send exactly these, RFC 4703 sections 5.3.1 and 5.4), so --n NCR-equivalents are 2 x --n UPDATE messages (forward i, then reverse i).
All messages are built and TSIG-signed (hmac-sha256) before the clock starts, so Python's
signing cost is not measured (BIND accepts them: time-signed is within the 300 s fudge).
Answers are matched by message id; an unanswered update is resent after --timeout.
Bounded by --n (<= 100000 NCR-equivalents) and --max-time. Prints one JSON object.
"""
import argparse, base64, hashlib, json, select, socket, sys, time
import dns.name, dns.rdataclass, dns.rdatatype, dns.tsig, dns.tsigkeyring, dns.update


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dns", default="127.0.0.1:5353")
    ap.add_argument("--zone", default="example.com")
    ap.add_argument("--rzone", default="10.in-addr.arpa")
    ap.add_argument("--keyname", required=True)
    ap.add_argument("--secret", required=True, help="base64")
    ap.add_argument("--prefix", default="c")
    ap.add_argument("-n", type=int, default=4000, help="NCR-equivalents (2 updates each)")
    ap.add_argument("--first", type=int, default=1,
                    help="index of the first name (PREFIX<i>, address 10.x.y.z from i)")
    ap.add_argument("--window", type=int, default=16, help="updates in flight")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--max-time", type=float, default=120.0)
    ap.add_argument("--sockets", type=int, default=1,
                    help="UDP sockets (source ports) the updates are spread over, round robin")
    a = ap.parse_args()
    if not 0 < a.n <= 100000:
        sys.exit("-n must be 1..100000")
    if not 0 < a.first or a.first + a.n > 1 << 24:
        sys.exit("--first + -n must stay within 10.0.0.0/8")
    host, port = a.dns.rsplit(":", 1)
    server = (host, int(port))
    keyring = dns.tsigkeyring.from_text({a.keyname: a.secret})
    keyname = dns.name.from_text(a.keyname)

    msgs = []
    for i in range(a.first, a.first + a.n):
        fqdn = f"{a.prefix}{i}.{a.zone}."
        ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        dhcid = base64.b64encode(b"\x00\x00\x01" + hashlib.sha256(fqdn.encode()).digest()).decode()
        f = dns.update.UpdateMessage(a.zone, keyring=keyring, keyname=keyname,
                                     keyalgorithm=dns.tsig.HMAC_SHA256)
        f.absent(fqdn)
        f.add(fqdn, 300, "A", ip)
        f.add(fqdn, 300, "DHCID", dhcid)
        rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
        r = dns.update.UpdateMessage(a.rzone, keyring=keyring, keyname=keyname,
                                     keyalgorithm=dns.tsig.HMAC_SHA256)
        r.delete(rev, "PTR")
        r.delete(rev, "DHCID")
        r.add(rev, 300, "PTR", fqdn)
        r.add(rev, 300, "DHCID", dhcid)
        msgs.append(f)
        msgs.append(r)
    wires = []
    for k, m in enumerate(msgs):
        m.id = k % 65536
        wires.append(m.to_wire())
    # ids repeat every 65536 messages; with window <= 1000 they never collide in flight
    socks = []
    for _ in range(max(1, min(a.sockets, 256))):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.connect(server)
        socks.append(s)
    total = len(wires)
    nxt = 0
    inflight = {}            # id -> (index, t_sent)
    rcodes = {}
    done = 0
    lat = []
    resent = 0
    t0 = time.monotonic()
    deadline = t0 + a.max_time
    while (nxt < total or inflight) and time.monotonic() < deadline:
        while nxt < total and len(inflight) < a.window:
            mid = nxt % 65536
            socks[nxt % len(socks)].send(wires[nxt])
            inflight[mid] = (nxt, time.monotonic())
            nxt += 1
        ready, _, _ = select.select(socks, [], [], 0.01)
        now = time.monotonic()
        for s in ready:
            while True:
                try:
                    data = s.recv(65535)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if len(data) < 4:
                    continue
                mid = (data[0] << 8) | data[1]
                ent = inflight.pop(mid, None)
                if ent is None:
                    continue
                rc = data[3] & 0x0F
                rcodes[rc] = rcodes.get(rc, 0) + 1
                done += 1
                lat.append(now - ent[1])
        for mid, (idx, ts) in list(inflight.items()):
            if now - ts > a.timeout:
                socks[idx % len(socks)].send(wires[idx])
                inflight[mid] = (idx, now)
                resent += 1
    el = time.monotonic() - t0
    lat.sort()
    p = lambda q: round(1000 * lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None
    names = {0: "NOERROR", 2: "SERVFAIL", 5: "REFUSED", 6: "YXDOMAIN", 8: "NXRRSET", 9: "NOTAUTH"}
    print(json.dumps({
        "ncr_equivalents": a.n, "updates": total, "window": a.window, "sockets": len(socks), "answered": done,
        "unanswered": total - done, "resent": resent, "elapsed_s": round(el, 3),
        "updates_per_s": round(done / el, 1), "ncr_equiv_per_s": round(done / el / 2, 1),
        "rcodes": {names.get(k, str(k)): v for k, v in rcodes.items()},
        "lat_p50_ms": p(0.5), "lat_p99_ms": p(0.99),
    }), flush=True)


if __name__ == "__main__":
    main()
