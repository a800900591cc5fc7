"""Two signalingd share one billingd and one media node (issue 12, item 4;
SPEC §9 "one or two signaling hosts"): the node's signaling_url lists both,
each sees it online and relays its calls' media through it; both bill
through the one billingd; a media event (RTP timeout) ends the call on the
signalingd that owns it, and the other drops it."""

import tandem_it as it


def _uac(stack, name, sip_port, scenario, caller, **kw):
    s = it.Sipp(stack, name, scenario, remote=f"127.0.0.1:{sip_port}",
                service="15551230001",
                keys={"caller": caller, **({"pcap": str(it.G711A_PCAP)}
                                           if "pcap" in scenario else {})},
                **kw)
    return s.start()


def _online(url):
    body = it.ping(url, timeout_ms=500) or {}
    return any(n.get("online") and n.get("node_id") == "mp-it"
               for n in body.get("media_nodes", []))


def test_two_signalingd_share_billing_and_media(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_RTP_TIMEOUT"] = "2"
    stack.provision(doc)
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    sg2 = stack.add_signalingd("sg2")
    stack.conf_extra["mediaproxyd"]["signaling_url"] = \
        f"{stack.sg_events},{sg2.events}"
    stack.start_daemon("mediaproxyd")
    for url in (stack.sg_control, sg2.control):
        it.wait_for(lambda: _online(url), 15, f"the media node online at {url}")

    # one call with RTP through each signalingd, at the same time
    a = _uac(stack, "via_sg1", stack.sip_port, "uac_pcap.xml", "5550101",
             calls=1, duration_ms=3000, timeout_s=30)
    b = _uac(stack, "via_sg2", sg2.sip_port, "uac_pcap.xml", "5550102",
             calls=1, duration_ms=3000, timeout_s=30)
    assert a.finish(40) == 0 and b.finish(40) == 0
    rows = it.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        it.cdr_rows(stack)), 20, "both calls' CDRs")
    by_caller = {r["caller"]: r for r in rows}
    for caller in ("5550101", "5550102"):
        r = by_caller[caller]
        assert r["end_code"] == 200 and r["end_reason"] == "Normal", r
        assert r["media_node"] == "mp-it", r
        assert r["hold_ms"] >= 2500, r

    # a silent call on sg2: the node's RTP timeout event ends it there
    c = _uac(stack, "silent", sg2.sip_port, "uac_hold.xml", "5550103",
             calls=1, duration_ms=20000, timeout_s=40)
    row = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                               if r["caller"] == "5550103"] or None, 20,
                      "the silent call's CDR")[0]
    assert row["end_reason"] == "RtpTimeout", row
    sg1_log = stack.daemon("signalingd").log()
    assert f"media.event rtp_timeout for unknown session {row['id']}" \
        in sg1_log
    assert "media node reports RTP timeout" in sg2.proc.log()
    c.quit()
    gw.quit()
