"""Issue 12, item 5 (first part): a media node drains on SIGTERM.

mediaproxyd with drain_timeout_s: SIGTERM keeps the sessions it has until
they end and takes no new one; its heartbeat says it drains, so signalingd
sends no new call to it (with no other node: 503 MediaUnavailable at once,
no media.offer); it exits 0 once its last session ended. A second SIGTERM
closes what is left at once, and without drain_timeout_s SIGTERM closes
every session (the former behaviour).
"""

import os
import signal
import time

import tandem_it as it


def _node_sessions(stack):
    body = it.ping(stack.mp_bus, timeout_ms=1000) or {}
    return body.get("calls")


def _sg_node(stack):
    body = it.ping(stack.sg_control, timeout_ms=1000) or {}
    nodes = body.get("media_nodes") or [{}]
    return nodes[0]


def test_sigterm_drains_the_node(stack):
    stack.conf_extra["mediaproxyd"]["drain_timeout_s"] = 60
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    mp = stack.daemon("mediaproxyd")
    uac = stack.uac("caller", "uac_pcap.xml", calls=1, duration_ms=7000,
                    timeout_s=40)
    it.wait_for(lambda: _node_sessions(stack) == 1, 15,
                "the call's media session on the node")

    mp.send_signal(signal.SIGTERM)
    it.wait_for(lambda: _sg_node(stack).get("draining") is True, 5,
                "signalingd to see the node draining")
    assert mp.alive(), "mediaproxyd stopped instead of draining"
    assert "SIGTERM: draining 1 sessions" in mp.log()

    # a new call: no node takes it, and none is asked
    offers = mp.log().count("request media.offer")
    late = stack.uac("late", "uac_expect_code.xml", code=503, calls=1,
                     timeout_s=20)
    assert late.finish(20) == 0
    assert mp.log().count("request media.offer") == offers
    assert mp.alive()

    # the call on the node goes on to its normal end, media and all
    assert uac.finish(40) == 0
    t0 = time.monotonic()
    assert mp.wait(10) == 0, "mediaproxyd did not exit after its last call"
    print(f"mediaproxyd exited {time.monotonic() - t0:.1f} s after the call")
    assert "drained: no session left, stopping" in mp.log()
    rows = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                                if r["end_code"] == 200] or None, 15,
                       "the drained call's CDR")
    assert rows[0]["end_reason"] == "Normal", rows[0]
    assert rows[0]["rtp"]["a"]["rx_packets"] > 100, rows[0]["rtp"]
    late_rows = [r for r in it.cdr_rows(stack) if r["end_code"] == 503]
    assert [r["end_reason"] for r in late_rows] == ["MediaUnavailable"]
    gw.quit()


def test_second_sigterm_and_no_drain(stack):
    stack.conf_extra["mediaproxyd"]["drain_timeout_s"] = 60
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    mp = stack.daemon("mediaproxyd")
    uac = stack.uac("caller", "uac_pcap.xml", calls=1, duration_ms=20000,
                    timeout_s=40)
    it.wait_for(lambda: _node_sessions(stack) == 1, 15, "a media session")
    mp.send_signal(signal.SIGTERM)
    it.wait_for(lambda: "SIGTERM: draining" in mp.log(), 5, "the drain")
    mp.send_signal(signal.SIGTERM)
    assert mp.wait(5) == 0
    assert "second SIGTERM: closing 1 sessions now" in mp.log()

    # drain_timeout_s 0 (the default): SIGTERM closes at once
    stack.conf_extra["mediaproxyd"]["drain_timeout_s"] = 0
    stack.start_daemon("mediaproxyd")
    stack.wait_media_online()
    uac.quit()
    uac2 = stack.uac("caller2", "uac_pcap.xml", calls=1, duration_ms=20000,
                     timeout_s=40)
    it.wait_for(lambda: _node_sessions(stack) == 1, 15, "a media session")
    mp = stack.daemon("mediaproxyd")
    mp.send_signal(signal.SIGTERM)
    assert mp.wait(5) == 0
    assert "draining" not in mp.log().split("started")[-1]
    uac2.quit()
    gw.quit()


def test_killed_node_ends_its_calls_billed_until_media_stopped(stack):
    """Issue 12, item 5: a media node that dies (kill -9) takes its calls
    with it: signalingd ends them with MediaNodeLost as soon as the node's
    connection closes, and bills them only until the node was last heard,
    not until the call was ended; new calls do not go to it."""
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    mp = stack.daemon("mediaproxyd")
    uac = stack.uac("caller", "uac_pcap.xml", calls=1, duration_ms=30000,
                    timeout_s=60)
    it.wait_for(lambda: _node_sessions(stack) == 1, 15, "a media session")
    time.sleep(2)  # a few seconds of talk before the crash
    kill_ms = time.time() * 1000
    mp.kill()
    sg = stack.daemon("signalingd")
    it.wait_for(lambda: "ended (MediaNodeLost)" in sg.log(), 5,
                "signalingd to end the dead node's call")
    row = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                               if r["end_reason"] == "MediaNodeLost"] or None,
                      15, "the CDR of the call on the dead node")[0]
    billed_until = row["answer_ms"] + row["hold_ms"]
    print(f"killed at {kill_ms:.0f}, billed until {billed_until} "
          f"(hold {row['hold_ms']} ms)")
    # heartbeats every 500 ms: the call is billed until the last one
    assert kill_ms - 1500 <= billed_until <= kill_ms + 200, row
    assert row["end_code"] == 200 and row["end_direction"] == "server"
    # the dead node gets no new call
    late = stack.uac("late", "uac_expect_code.xml", code=503, calls=1,
                     timeout_s=20)
    assert late.finish(20) == 0
    late_row = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                                    if r["end_code"] == 503] or None,
                           15, "the refused call's CDR")
    assert [r["end_reason"] for r in late_row] == ["MediaUnavailable"]
    uac.quit()
    gw.quit()


def test_node_lost_before_the_answer_bills_nothing(stack):
    """Found by the multi-host test: a call answered after its media node
    was last heard (the node froze between media.offer and the vendor's
    200) ends MediaNodeLost with no talk billed.  Its end was put before
    its answer, so billingd quarantined the CDR as implausible and the
    call had none."""
    gw = stack.uas("gwA", "uas_answer.xml", subst={
        '<send retrans="500">':
        '<pause milliseconds="2500"/><send retrans="500">'})
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    mp = stack.daemon("mediaproxyd")
    sg = stack.daemon("signalingd")
    uac = stack.uac("caller", "uac_hold.xml", calls=1, duration_ms=30000,
                    timeout_s=60)
    it.wait_for(lambda: _node_sessions(stack) == 1, 15, "a media session")
    os.kill(mp.pid, signal.SIGSTOP)        # heartbeats stop before the 200
    it.wait_for(lambda: "ended (MediaNodeLost)" in sg.log(), 20,
                "signalingd to end the frozen node's call")
    row = it.wait_for(lambda: it.cdr_rows(stack) or None, 20,
                      "the call's CDR (not quarantined)")[0]
    os.kill(mp.pid, signal.SIGCONT)
    uac.kill()
    gw.quit()
    print("CDR:", row["end_reason"], row["answer_ms"], row["end_ms"],
          row["hold_ms"], row["fee"])
    assert row["end_reason"] == "MediaNodeLost"
    assert row["answer_ms"] and row["end_ms"] == row["answer_ms"], row
    assert row["hold_ms"] == 0 and row["fee"] == 0, row
    assert stack.scalar("SELECT count(*) FROM cdr_quarantine") == 0


def test_ss_rtp_timeout_is_the_calls(stack):
    """SS_RTP_TIMEOUT (issue 12, item 5) decides a call's RTP timeout, not
    the node's rtp_timeout_s (30 s here): the caller's 7 s of RTP end, the
    vendor sends none, and the call ends RtpTimeout about 2 s later
    instead of at the caller's BYE 20 s after the answer."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_RTP_TIMEOUT"] = "2"
    stack.provision(doc)
    stack.start_all()
    uac = stack.uac("caller", "uac_pcap.xml", calls=1, duration_ms=20000,
                    timeout_s=40)
    row = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                               if r["end_code"] == 200] or None, 20,
                      "the silent call's CDR")[0]
    print("hold", row["hold_ms"], row["end_reason"])
    assert row["end_reason"] == "RtpTimeout", row
    assert 7000 <= row["hold_ms"] <= 14000, row
    uac.quit()
    gw.quit()
