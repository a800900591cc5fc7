"""sip_flood.py - a scanner flood for the SIP edge test (test_sip_edge.py).

Run inside the test's network namespace:

    sip_flood.py TARGET_IP TARGET_PORT RATE SECONDS SRC_IP...

Every source sends OPTIONS, REGISTER and INVITE in turn, half of the
sources with a scanner User-Agent and half with none, RATE requests/s in
all, paced in 5 ms ticks, for SECONDS s; then listens 1 s more.  Prints
"flooding" once the first requests are out, then one JSON line:
{"sent": N, "answered": {src: n}, "elapsed": s}.
"""

import json
import socket
import sys
import time
import uuid

METHODS = ("OPTIONS", "REGISTER", "INVITE")


def request(method, src, sport, dst, dport, n, scanner):
    ruri = (f"sip:{dst}:{dport}" if method == "REGISTER"
            else f"sip:{100 + n % 900}@{dst}:{dport}")
    user = f"{100 + n % 900}"
    lines = [f"{method} {ruri} SIP/2.0",
             f"Via: SIP/2.0/UDP {src}:{sport};"
             f"branch=z9hG4bK{uuid.uuid4().hex}",
             "Max-Forwards: 70",
             f"From: <sip:{user}@{dst}>;tag={n}",
             f"To: <sip:{user}@{dst}>",
             f"Call-ID: {uuid.uuid4().hex}@{src}",
             f"CSeq: 1 {method}",
             f"Contact: <sip:{user}@{src}:{sport}>"]
    if scanner:
        lines.append("User-Agent: friendly-scanner")
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def main(argv):
    dst, dport, rate, seconds = argv[0], int(argv[1]), int(argv[2]), \
        float(argv[3])
    socks = []
    for i, ip in enumerate(argv[4:]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 0))
        s.setblocking(False)
        socks.append((ip, s.getsockname()[1], s, i % 2 == 0))
    answered = {ip: 0 for ip, _, _, _ in socks}

    def drain():
        for ip, _, s, _ in socks:
            while True:
                try:
                    s.recv(65535)
                except BlockingIOError:
                    break
                answered[ip] += 1

    tick = 0.005
    sent = 0
    start = time.monotonic()
    n = 0
    announced = False
    while time.monotonic() - start < seconds:
        due = int(rate * (time.monotonic() - start))
        while n < due:
            ip, port, s, scanner = socks[n % len(socks)]
            try:
                s.sendto(request(METHODS[n % 3], ip, port, dst, dport, n,
                                 scanner), (dst, dport))
                sent += 1
            except BlockingIOError:
                pass
            n += 1
        drain()
        if n and not announced:
            print("flooding", flush=True)  # the test starts its calls
            announced = True
        time.sleep(tick)
    elapsed = time.monotonic() - start
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    print(json.dumps({"sent": sent, "answered": answered,
                      "elapsed": elapsed}))


if __name__ == "__main__":
    main(sys.argv[1:])
