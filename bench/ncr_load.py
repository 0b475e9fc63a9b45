#!/usr/bin/python3
"""ncr_load.py -- send N NameChangeRequests (Kea's UDP wire format) to a DHCP-DDNS server
and measure, from the DNS side only, how many became visible, how fast, and how late.

Wire format (Kea 2.2 NameChangeRequest::toFormat, ncr-format JSON over UDP): one NCR per
datagram = 2-byte big-endian length + that many bytes of JSON. The server never answers.

Load:     N adds (change-type 0), forward + reverse, conflict resolution on, names
          <prefix><i>.<zone>., addresses 10.x.y.z, paced at --rate NCR/s (0 = as fast as
          the socket takes them). Bounded by N (<= 100000) and --max-time.
Measures: * latency NCR sent -> A record answered by the DNS server, for every --sample-th
            NCR: a prober queries that name (no RD) until the answer holds the A record,
            again after 5 % of the time waited so far (1..250 ms), all probes capped at
            --probe-qps (2000) so that they do not load the server being measured;
            latency = receive time of that answer - send time (resolution ~5 %, >= 1 ms).
          * completion: after the last send, the SOA serials of the forward and reverse
            zones every --poll (0.05) s (BIND adds 1 per applied UPDATE) until both grew
            by N and an AXFR finds all N A and N PTR records, or the serials have not
            changed for --settle s, or --max-time has passed since the first send; then
            the records are counted by AXFR. completed_per_s = A records visible / (start
            of the poll that first saw the final serials - first send); resolution --poll.
          * lost = N - A records visible at the end (PTR likewise).
Prints one JSON object on stdout.
"""
import argparse, hashlib, heapq, json, select, socket, struct, sys, threading, time
import dns.flags, dns.message, dns.name, dns.query, dns.rdatatype


def ncr_datagram(i, prefix, zone, lease_len):
    fqdn = f"{prefix}{i}.{zone}."
    ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    chaddr = bytes([0x02, 0x42, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    # RFC 4701 DHCID RDATA: identifier type 0x0000 (htype + chaddr), digest type 1 (SHA-256)
    digest = hashlib.sha256(b"\x01" + chaddr + dns.name.from_text(fqdn).to_wire()).digest()
    body = json.dumps({
        "change-type": 0, "forward-change": True, "reverse-change": True,
        "fqdn": fqdn, "ip-address": ip,
        "dhcid": (b"\x00\x00\x01" + digest).hex().upper(),
        "lease-expires-on": time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + lease_len)),
        "lease-length": lease_len, "use-conflict-resolution": True,
    }, separators=(",", ":")).encode()
    return fqdn, struct.pack("!H", len(body)) + body


class Prober(threading.Thread):
    """Polls sampled names over UDP until their A record is answered.

    The probes must not load the DNS server they measure: a name is re-probed after
    5 % of the time it has waited so far (1 ms .. 250 ms), and all probes together are
    capped at --probe-qps. Resolution: about 5 % of each latency, at least 1 ms.
    """

    def __init__(self, server, max_qps):
        super().__init__(daemon=True)
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.lock = threading.Lock()
        self.pending = {}        # name -> time the NCR was sent
        self.heap = []           # (next probe at, name); stale entries skipped
        self.inflight = {}       # query id -> name
        self.lat = []
        self.queries = 0
        self.max_qps = max_qps
        self.stop_at = None      # monotonic deadline once the sender is done
        self.next_id = 1

    def watch(self, name, t):
        with self.lock:
            self.pending[name] = t
            heapq.heappush(self.heap, (t + 0.001, name))

    def run(self):
        tokens, last = 0.0, time.monotonic()
        while True:
            now = time.monotonic()
            tokens = min(tokens + (now - last) * self.max_qps, self.max_qps / 100.0 + 1)
            last = now
            due = []
            with self.lock:
                if self.stop_at is not None and (now > self.stop_at or not self.pending):
                    return
                while self.heap and self.heap[0][0] <= now and tokens >= 1:
                    _, name = heapq.heappop(self.heap)
                    t = self.pending.get(name)
                    if t is None:
                        continue
                    tokens -= 1
                    due.append(name)
                    wait = min(max(0.05 * (now - t), 0.001), 0.25)
                    heapq.heappush(self.heap, (now + wait, name))
                nxt = self.heap[0][0] - now if self.heap else 0.01
            for name in due:
                q = dns.message.make_query(name, dns.rdatatype.A)
                q.flags &= ~dns.flags.RD
                q.id = self.next_id
                self.next_id = (self.next_id % 65535) + 1
                self.inflight[q.id] = name
                try:
                    self.sock.sendto(q.to_wire(), self.server)
                    self.queries += 1
                except OSError:
                    pass
            r, _, _ = select.select([self.sock], [], [], min(max(nxt, 0.0005), 0.01))
            while r:
                try:
                    data = self.sock.recv(4096)
                except BlockingIOError:
                    break
                t = time.monotonic()
                try:
                    m = dns.message.from_wire(data)
                except Exception:
                    continue
                name = self.inflight.pop(m.id, None)
                if name is None:
                    continue
                if any(rr.rdtype == dns.rdatatype.A for rr in m.answer):
                    with self.lock:
                        t0 = self.pending.pop(name, None)
                    if t0 is not None:
                        self.lat.append(t - t0)
            if len(self.inflight) > 20000:
                self.inflight.clear()


def count(server, zone, rtype, prefix):
    """Records of rtype whose owner (PTR: whose target) starts with prefix, by AXFR."""
    n = 0
    try:
        for msg in dns.query.xfr(server[0], zone, port=server[1], lifetime=30):
            for rrset in msg.answer:
                if rrset.rdtype != rtype:
                    continue
                if rtype == dns.rdatatype.PTR:
                    n += sum(1 for rr in rrset if rr.target.to_text().startswith(prefix))
                elif rrset.name.to_text().startswith(prefix):
                    n += len(rrset)
    except Exception as e:
        print(f"AXFR {zone}: {e}", file=sys.stderr)
        return -1
    return n


def serial(server, zone):
    """The zone's SOA serial, or None."""
    q = dns.message.make_query(zone, dns.rdatatype.SOA)
    q.flags &= ~dns.flags.RD
    try:
        m = dns.query.udp(q, server[0], port=server[1], timeout=1.0)
        for rrset in m.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
    except Exception:
        pass
    return None


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))], 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ncr", default="127.0.0.1:53001", help="D2 address:port")
    ap.add_argument("--dns", default="127.0.0.1:5353", help="DNS server address:port")
    ap.add_argument("--zone", default="example.com")
    ap.add_argument("--rzone", default="10.in-addr.arpa")
    ap.add_argument("--prefix", default="h")
    ap.add_argument("-n", type=int, default=4000)
    ap.add_argument("--first", type=int, default=1,
                    help="index of the first NCR (name PREFIX<i>, address 10.x.y.z from i)")
    ap.add_argument("--rate", type=float, default=500.0, help="NCR/s, 0 = unthrottled")
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--lease-length", type=int, default=3600)
    ap.add_argument("--max-time", type=float, default=120.0)
    ap.add_argument("--poll", type=float, default=0.05, help="SOA serial poll interval, s")
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--probe-qps", type=float, default=2000.0, help="cap on latency probes/s")
    a = ap.parse_args()
    if not 0 < a.n <= 100000:
        sys.exit("-n must be 1..100000")
    if not 0 < a.first or a.first + a.n > 1 << 24:
        sys.exit("--first + -n must stay within 10.0.0.0/8")
    ncr = (a.ncr.rsplit(":", 1)[0], int(a.ncr.rsplit(":", 1)[1]))
    dnss = (a.dns.rsplit(":", 1)[0], int(a.dns.rsplit(":", 1)[1]))

    base = (serial(dnss, a.zone), serial(dnss, a.rzone))
    grams = [ncr_datagram(i, a.prefix, a.zone, a.lease_length) for i in range(a.first, a.first + a.n)]
    prober = Prober(dnss, a.probe_qps)
    prober.start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sent = errors = 0
    t0 = time.monotonic()
    deadline = t0 + a.max_time
    gap = 1.0 / a.rate if a.rate > 0 else 0.0
    for k, (fqdn, pkt) in enumerate(grams):
        if gap:
            d = t0 + k * gap - time.monotonic()
            if d > 0:
                time.sleep(d)
        t = time.monotonic()
        if t > deadline:
            break
        try:
            s.sendto(pkt, ncr)
            sent += 1
        except OSError:
            errors += 1      # e.g. ECONNREFUSED: nothing listening (the listener closed)
        if a.sample and k % a.sample == 0:
            prober.watch(fqdn, t)
    t_sent = time.monotonic()

    # Completion is watched through the zones' SOA serials (BIND adds 1 per applied
    # UPDATE): cheap to poll, so polling does not slow the server it measures the way
    # AXFRs of 10,000 records every 0.25 s would. The records are counted by AXFR once
    # the serials say everything could be there, and at the end.
    prefix = a.prefix
    last = base
    t_last_growth = t_sent
    fwd = rev = -1
    next_axfr = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()      # the serials below are at least this old
        cur = (serial(dnss, a.zone), serial(dnss, a.rzone))
        if cur != last and None not in cur:
            t_last_growth = now
            last = cur
        grown = [c - b if c is not None and b is not None else 0 for c, b in zip(cur, base)]
        if min(grown) >= sent and now >= next_axfr:
            fwd = count(dnss, a.zone, dns.rdatatype.A, prefix)
            rev = count(dnss, a.rzone, dns.rdatatype.PTR, prefix)
            if fwd >= sent and rev >= sent:
                break
            next_axfr = time.monotonic() + 1.0
        if time.monotonic() - t_last_growth > a.settle:
            break
        time.sleep(a.poll)
    if fwd < sent or rev < sent:
        fwd = count(dnss, a.zone, dns.rdatatype.A, prefix)
        rev = count(dnss, a.rzone, dns.rdatatype.PTR, prefix)
    # give probes of lost names one more second, then stop the prober
    with prober.lock:
        prober.stop_at = time.monotonic() + 1.0
    prober.join(timeout=5)
    el = t_last_growth - t0
    res = {
        "n": a.n, "rate": a.rate, "sent": sent, "send_errors": errors,
        "send_s": round(t_sent - t0, 3), "offered_per_s": round(sent / max(t_sent - t0, 1e-9), 1),
        "a_visible": fwd, "ptr_visible": rev, "lost_a": a.n - fwd if fwd >= 0 else None,
        "lost_ptr": a.n - rev if rev >= 0 else None,
        "complete_s": round(el, 3),
        "completed_per_s": round(fwd / el, 1) if fwd > 0 and el > 0 else 0.0,
        "lat_samples": len(prober.lat), "lat_missing": len(prober.pending),
        "lat_p50_ms": pct(prober.lat, 50), "lat_p99_ms": pct(prober.lat, 99),
        "lat_max_ms": pct(prober.lat, 100), "probe_queries": prober.queries,
    }
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
