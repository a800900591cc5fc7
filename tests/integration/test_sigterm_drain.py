"""Issue 14: SIGTERM drains and exits 0 within a bound, whatever SIP
transactions are left (SPEC §9; docs/signalingd.md, "Stopping").

A caller's call is answered by a vendor gateway (sipp) that then falls
silent (SIGSTOP): the INFO, the re-INVITE and, after the caller hangs up,
the BYE that signalingd relays to it are never answered, and neither are
the OPTIONS keepalives toward it (every second).  signalingd is then sent
SIGTERM, once after the call ended (its CDR is stored) and once while the
call is still up (with keep_calls_on_stop 1 the call is left to the
next start; with 0 it is ended and its CDR stored before the exit).  It must exit 0 within STOP_BOUND_S; mediaproxyd and
billingd are stopped the same way after it.  Last, the harness itself: a
daemon it has to SIGKILL gets its threads' stacks (gdb) in its log first.
"""

import os
import re
import signal
import time

import pytest

import tandem_it as it

# docs/signalingd.md: drain (CDR acknowledgements) <= 3 s, in-dialog
# transactions <= 1 s, teardown well under 1 s
STOP_BOUND_S = 5.0


def _timed_stop(stack, name):
    t0 = time.monotonic()
    rc = stack.stop_daemon(name, timeout=15)
    took = time.monotonic() - t0
    print(f"{name}: exit {rc} {took:.2f} s after SIGTERM")
    return rc, took


def _silent_vendor_call(stack, wait2):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_GATEWAY_OPTIONS_INTERVAL"] = "1"
    doc["routing_gateways"][0]["options_keepalive"] = True
    doc["routing_gateways"][0]["media"] = {"dtmf_send": "info"}
    stack.provision(doc)
    stack.start_all()
    uac = it.Sipp(stack, "caller", "uac_pending.xml",
                  remote=f"127.0.0.1:{stack.sip_port}", service="15551230001",
                  keys={"caller": "5550100"}, calls=1,
                  subst={"@WAIT1@": 2000, "@WAIT2@": wait2}).start()
    sg = stack.daemon("signalingd")
    it.wait_for(lambda: "answered by gwA" in sg.log(), 20,
                "the vendor's answer")
    os.kill(gw.pid, signal.SIGSTOP)      # from now on the vendor is silent
    return gw, uac


def _pending_toward_vendor(stack):
    """The requests signalingd sent to the silent vendor (its log)."""
    log = stack.daemon("signalingd").log()
    assert "DTMF 5 sent by INFO to the vendor" in log, "no INFO relayed"
    assert "re-INVITE from the caller relayed" in log, "no re-INVITE relayed"
    assert "re-INVITE from the caller answered" not in log, \
        "the silent vendor answered the re-INVITE"


def _stop_rest(stack):
    for name in ("mediaproxyd", "billingd"):
        rc, took = _timed_stop(stack, name)
        assert rc == 0, f"{name} exited {rc} on SIGTERM"
        assert took <= STOP_BOUND_S, f"{name} took {took:.2f} s to stop"


def test_sigterm_after_the_call_with_requests_left_unanswered(stack):
    gw, uac = _silent_vendor_call(stack, wait2=1500)
    rc = uac.finish(30)
    assert rc == 0, f"the caller's call failed (sipp exit {rc})"
    it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR in PostgreSQL")
    _pending_toward_vendor(stack)
    time.sleep(1.5)                      # keepalive OPTIONS go unanswered
    rc, took = _timed_stop(stack, "signalingd")
    gw.kill()
    assert rc == 0, f"signalingd exited {rc} on SIGTERM"
    assert took <= STOP_BOUND_S, f"signalingd took {took:.2f} s to stop"
    rows = it.cdr_rows(stack)
    assert len(rows) == 1 and rows[0]["hold_ms"] > 0, rows
    _stop_rest(stack)


@pytest.mark.parametrize("keep_calls", [1, 0])
def test_sigterm_during_the_call_with_requests_left_unanswered(stack,
                                                               keep_calls):
    stack.conf_extra["signalingd"]["keep_calls_on_stop"] = keep_calls
    gw, uac = _silent_vendor_call(stack, wait2=60000)
    sg = stack.daemon("signalingd")
    it.wait_for(lambda: "re-INVITE from the caller relayed" in sg.log(), 20,
                "the re-INVITE toward the silent vendor")
    _pending_toward_vendor(stack)
    time.sleep(1.5)
    rc, took = _timed_stop(stack, "signalingd")
    gw.kill()
    uac.kill()
    assert rc == 0, f"signalingd exited {rc} on SIGTERM"
    assert took <= STOP_BOUND_S, f"signalingd took {took:.2f} s to stop"
    if not keep_calls:
        # ended by the server: BYE both ways, CDR stored before the exit
        rows = it.wait_for(lambda: it.cdr_rows(stack), 20, "the CDR")
        assert [r["end_reason"] for r in rows] == ["Shutdown"], rows
    _stop_rest(stack)


def test_bye_while_signalingd_restarts_is_answered(stack):
    """Found by the multi-host test: a call kept up across a restart must
    take the caller's BYE, whenever it comes.  Here it comes while the old
    process drains (kept open 3 s by the CDR of an unanswered call that
    billingd, stopped, does not acknowledge): the old process ends the call (200, one CDR, hold as the
    caller had it), or, were it already gone, the BYE's retransmission
    reaches the new one.  Never a 481 and a call left to the RTP timeout.
    """
    gw = stack.uas("gwA", "uas_answer.xml")
    silent = stack.uas("gwS", "uas_answer.xml", rtp_echo=False)
    doc = it.base_doc(gw.port, 0, gw_b=False)
    for t in doc["rate_tables"]:
        t["entries"].append(dict(t["entries"][0], prefix="2"))
    doc["routing_gateways"].append(
        dict(doc["routing_gateways"][0], name="gwS", port=silent.port,
             prefixes=["2"]))
    doc["system_parameters"]["SS_FAILOVER_NO_PROVISIONAL_MS"] = "20000"
    stack.provision(doc)
    stack.start_all()
    os.kill(silent.pid, signal.SIGSTOP)
    sg = stack.daemon("signalingd")

    uac = stack.uac("caller", "uac_hold.xml", duration_ms=4000, calls=1,
                    timeout_s=60)
    it.wait_for(lambda: "answered by gwA" in sg.log(), 20,
                "the vendor's answer")
    t_answer = time.monotonic()
    pending = stack.uac("caller2", "uac_expect_code.xml",
                        callee="25551230001", code=503, calls=1,
                        timeout_s=60)
    it.wait_for(lambda: "via gwS" in sg.log(), 20, "the INVITE toward gwS")
    # billingd does not acknowledge the unanswered call's CDR: the drain
    # lasts its 3 s, and the caller's BYE (at ~4 s) comes in the middle
    bd = stack.daemon("billingd")
    time.sleep(max(0.0, t_answer + 3.5 - time.monotonic()))
    os.kill(bd.pid, signal.SIGSTOP)
    rc, took = _timed_stop(stack, "signalingd")
    os.kill(bd.pid, signal.SIGCONT)
    assert rc == 0, f"signalingd exited {rc} on SIGTERM"
    old_log = sg.log()
    stack.start_daemon("signalingd")
    rc = uac.finish(60)
    pending.kill()
    silent.kill()
    assert rc == 0, "the caller's BYE was not answered 200 (sipp exit " \
        f"{rc}):\n" + uac.messages()[-3000:]
    rows = it.wait_for(lambda: [r for r in it.cdr_rows(stack)
                                if r["callee"].endswith("15551230001")]
                       or None, 30, "the call's CDR")
    gw.quit()
    print("kept call:", [(r["end_reason"], r["hold_ms"]) for r in rows])
    print("drain:", [ln for ln in old_log.splitlines()
                     if "kept up" in ln or "drained" in ln
                     or "left up" in ln])
    assert len(rows) == 1, rows
    assert rows[0]["end_reason"] == "Normal", rows[0]["end_reason"]
    assert 3900 <= rows[0]["hold_ms"] <= 6000, rows[0]["hold_ms"]


def test_cdr_of_a_call_ending_as_the_drain_is_cut_is_kept(stack):
    """A call that ended while signalingd drains but whose media node does
    not answer media.delete before the drain is cut (3 s; the node is
    stopped, media_timeout_ms 5 s) has its journal line "down" already:
    its CDR is written at the cut, without RTP statistics, and the next
    start sends it.  It was lost before."""
    stack.conf_extra["signalingd"]["media_timeout_ms"] = 5000
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    stack.start_all()
    sg = stack.daemon("signalingd")
    mp = stack.daemon("mediaproxyd")
    uac = stack.uac("caller", "uac_hold.xml", duration_ms=3000, calls=1,
                    timeout_s=60)
    it.wait_for(lambda: "answered by gwA" in sg.log(), 20,
                "the vendor's answer")
    os.kill(mp.pid, signal.SIGSTOP)         # media.delete goes unanswered
    it.wait_for(lambda: "BYE from caller" in sg.log(), 20,
                "the caller's BYE")
    rc, took = _timed_stop(stack, "signalingd")
    assert rc == 0, f"signalingd exited {rc} on SIGTERM"
    assert "written without waiting for the media node" in sg.log()
    os.kill(mp.pid, signal.SIGCONT)
    stack.start_daemon("signalingd")
    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30, "the CDR")
    uac.kill()
    gw.quit()
    print("CDR:", [(r["end_reason"], r["hold_ms"]) for r in rows])
    assert len(rows) == 1 and rows[0]["end_reason"] == "Normal", rows
    assert 2900 <= rows[0]["hold_ms"] <= 4000, rows[0]["hold_ms"]


def test_harness_dumps_the_stacks_of_a_daemon_it_kills(stack):
    """A daemon that does not stop gets its stacks in its log (gdb)."""
    stack.start_daemon("billingd")
    bd = stack.daemon("billingd")
    os.kill(bd.pid, signal.SIGSTOP)      # will not react to SIGTERM
    rc = bd.stop(signal.SIGTERM, timeout=2)
    assert rc == -signal.SIGKILL, rc
    log = bd.log()
    assert "still running 2s after" in log and "stacks before SIGKILL" in log
    dump = log[log.index("stacks before SIGKILL"):]
    assert re.search(r"Thread 1 .*\n#0 ", dump), dump[:3000]
    assert "main (" in dump, dump[:3000]
