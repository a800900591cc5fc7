"""Issue 2, done-when 2: failover from a 503 gateway to one that answers.

sipp UAC (plays g711a.pcap) -> signalingd -> gwA (sipp UAS, 503) -> gwB
(sipp UAS answering 200 and echoing RTP).  The call completes; RTP crossed
mediaproxyd in both directions (its counters in the CDR, and a loopback
capture of what gwB received); one CDR with both attempts, gwB as the
carrying gateway, the hold time, the fee of the provisioned rate to the
micro-unit, and the balance debited by exactly that fee.
"""

import json

import tandem_it as it

HOLD_MS = 8000


def test_failover_503_then_answer(stack):
    gw_a = stack.uas("gwA", "uas_reject.xml", code=503,
                     reason="Service Unavailable")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    stack.provision(doc)
    balance0 = stack.balance("cust1")
    assert balance0 == it.money("100")
    stack.start_all()

    cap = it.Capture(stack, "cap_gwB", f"udp and dst host 127.0.0.1 and "
                     f"(dst port {gw_b.media_port} or src port "
                     f"{gw_b.media_port})").start()
    uac = stack.uac("caller", "uac_pcap.xml", calls=1,
                    duration_ms=HOLD_MS, timeout_s=60)
    rc = uac.finish(75)
    cap.finish()
    assert rc == 0, f"caller's call failed (sipp exit {rc})"
    assert 200 in uac.received_codes()

    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30,
                       "the CDR in PostgreSQL")
    assert len(rows) == 1, rows
    cdr = rows[0]
    assert cdr["end_code"] == 200
    assert cdr["routing_gateway"] == "gwB"
    assert cdr["account"] == "cust1"
    assert cdr["mapping_gateway"] == "mg1"
    assert cdr["callee"].startswith("1555")
    att = [(a["gateway"], a["code"]) for a in it.attempts(stack, cdr["id"])]
    assert att == [("gwA", 503), ("gwB", 200)], att

    # the caller paused HOLD_MS between ACK and BYE
    assert HOLD_MS - 200 <= cdr["hold_ms"] <= HOLD_MS + 3000, cdr["hold_ms"]
    fee = it.expected_fee(cdr["hold_ms"], it.rate_entry(doc))
    assert fee > 0
    assert cdr["fee"] == fee, (cdr["hold_ms"], cdr["fee"], fee)
    assert stack.balance("cust1") == balance0 - fee

    # RTP crossed the media node both ways
    rtp = cdr["rtp"]
    if isinstance(rtp, str):
        rtp = json.loads(rtp)
    for leg in ("a", "b"):
        st = rtp.get(leg, {})
        assert st.get("rx_packets", 0) > 0, f"leg {leg}: {rtp}"
        assert st.get("tx_packets", 0) > 0, f"leg {leg}: {rtp}"
    # g711a.pcap has 236 packets: most of them reach the vendor
    assert rtp["a"]["rx_packets"] >= 200, rtp
    assert rtp["b"]["tx_packets"] >= 200, rtp
    # gwB echoes what it gets: it came back and went on to the caller
    assert rtp["b"]["rx_packets"] >= 200, rtp
    assert rtp["a"]["tx_packets"] >= 200, rtp
    assert cdr["media_node"] == "mp-it"

    # what the vendor's media port actually received, and sent back
    to_b = cap.count(f"udp.dstport == {gw_b.media_port}")
    from_b = cap.count(f"udp.srcport == {gw_b.media_port}")
    assert to_b >= 200, f"gwB received {to_b} RTP packets"
    assert from_b >= 200, f"gwB echoed {from_b} RTP packets"

    gw_a.quit()
    assert len(gw_a.received_requests("INVITE")) >= 1
    assert len(gw_a.received_requests("ACK")) >= 1
