#!/usr/bin/env python3
"""The scapy baseline for `bootcheck load`'s ceiling (ci/bench.sh): a closed-loop
send/receive of BOOTREQUESTs to the null responder over the same veth, one exchange
at a time with srp1 (scapy's usual request/reply idiom) and, for a fairer number, in
batches with srp. Runs inside the lab's client namespace; prints one JSON line.

    scapy-loop.py IFACE SECONDS
"""
import json
import sys
import time

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, conf, srp, srp1  # noqa: E402

conf.verb = 0
# Replies to a broadcast request come from the server, not from 255.255.255.255
# (scapy's usual setting for DHCP).
conf.checkIPaddr = False
iface, secs = sys.argv[1], float(sys.argv[2])


def request(i):
    mac = bytes([0x02, 0, 0, 0, 0xbe, 0x01])
    return (
        Ether(src="02:00:00:00:be:01", dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(op=1, xid=0x5CA90000 + i, chaddr=mac + b"\0" * 10)
        / DHCP(options=["end"])
    )


def single():
    n = ok = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        r = srp1(request(n), iface=iface, timeout=1)
        n += 1
        ok += int(r is not None and BOOTP in r and r[BOOTP].op == 2)
    return n, ok, time.monotonic() - t0


def batched(size=256):
    n = ok = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        ans, _ = srp([request(n + i) for i in range(size)], iface=iface, timeout=1, multi=False)
        n += size
        ok += len(ans)
    return n, ok, time.monotonic() - t0


s = single()
b = batched()
print(json.dumps({
    "srp1": {"sent": s[0], "answered": s[1], "seconds": round(s[2], 2), "exchanges_per_s": round(s[1] / s[2], 1)},
    "srp_batch256": {"sent": b[0], "answered": b[1], "seconds": round(b[2], 2), "exchanges_per_s": round(b[1] / b[2], 1)},
}))
