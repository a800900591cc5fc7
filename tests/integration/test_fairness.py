"""Issue 9, item 6: one customer does not starve the rest.

- `test_cps_flood_is_counted_not_written`: customer `flood` (mapping
  gateway mg_flood, 127.0.0.3, cps_limit 5) sends 300 INVITEs at 100/s
  while customer cust1 (mg1, 127.0.0.1) places 20 calls at 5/s.  Every call
  of cust1 connects; the flood's refused INVITEs get 503 with Retry-After
  and leave no CDR (only the admitted ones are written), signalingd's
  health.ping `refused` counts each of them under `cps` and mg_flood, and
  billingd raises an `admission_refused` alarm for mg_flood, and the log
  has no line per refusal, only summary lines (one when refusals
  start, then one per 10 s at most) whose counts add up to the refusals.
- `test_port_share`: a media node of 40 port pairs with
  account_port_share_pct 50 (the shipped default): customer `flood` holds
  10 calls (20 pairs), its 11th to 14th get 503 (no media), while cust1's
  calls still connect; mediaproxyd's health.ping `share_refused` counts
  the refused offers.
"""

import re

import tandem_it as it

FLOOD_IP = "127.0.0.3"


def _doc(gw_port, cps_limit=0):
    return it.base_doc(gw_port, 0, gw_b=False,
                       **it.second_customer("flood", FLOOD_IP, cps_limit))


def test_cps_flood_is_counted_not_written(stack):
    gw = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    stack.provision(_doc(gw.port, cps_limit=5))
    stack.start_all()
    sg = stack.daemon("signalingd")

    flood = stack.uac("flood", "uac_hold.xml", ip=FLOOD_IP, calls=300,
                      limit=300, rate=100, duration_ms=500, timeout_s=60)
    good = stack.uac("cust1", "uac_hold.xml", calls=20, limit=20, rate=5,
                     duration_ms=500, timeout_s=60)
    grc = good.finish(90)
    flood.finish(90)  # most of its calls fail (503): by design

    assert grc == 0, f"cust1's calls failed while the flood ran " \
        f"(sipp exit {grc}): {good.received_codes()}"
    codes = flood.received_codes()
    refused = codes.count(503)
    refused_calls = flood.call_ids_answered(503)
    admitted = flood.call_ids_answered(200)
    print(f"flood: {len(flood.sent_call_ids())} INVITEs, {refused} x 503 "
          f"({len(refused_calls)} calls), {len(admitted)} answered")
    assert len(flood.sent_call_ids()) == 300
    assert len(refused_calls) >= 200, \
        f"only {len(refused_calls)} of 300 refused: {codes[:20]}"
    assert len(admitted) >= 5, "not even the CPS budget was admitted"
    assert len(admitted) + len(refused_calls) == 300

    # only real calls are written: cust1's 20 and the flood's admitted
    it.wait_for(lambda: len(it.cdr_rows(stack)) >= 20 + len(admitted), 30,
                "the CDRs of the admitted calls")
    rows = it.cdr_rows(stack)
    flood_rows = [r for r in rows if r["account"] == "flood"]
    assert not [r for r in rows if r["end_reason"] == "CpsLimit"], \
        "a CDR for a refused attempt"
    assert {r["call_id_a"] for r in flood_rows} == admitted, \
        (len(flood_rows), len(admitted))
    assert len(flood_rows) == len(admitted)
    cust1 = [r for r in rows if r["account"] == "cust1"]
    assert len(cust1) == 20 and all(r["end_code"] == 200 for r in cust1)

    # counted in signalingd's statistics
    ref = it.ping(stack.sg_control)["refused"]
    print("health.ping refused:", ref)
    assert ref["cps"] == refused, (ref, refused)
    assert ref["by_gateway"] == {"mg_flood": refused}, ref
    assert ref["total"] == refused, ref

    # and an alarm for the flooding gateway (billingd, from health.ping)
    it.wait_for(lambda: stack.query(
        "SELECT subject FROM alarms WHERE kind = 'admission_refused'"),
        15, "the admission_refused alarm")
    subjects = {r["subject"] for r in stack.query(
        "SELECT subject FROM alarms WHERE kind = 'admission_refused'")}
    assert subjects == {"mg_flood"}, subjects

    # no log line per refusal: one summary line when refusals start, then
    # at most one per 10 s, together telling every refusal
    def told():
        return [int(n) for n in re.findall(r"admission refused (\d+) calls",
                                           sg.log())]
    it.wait_for(lambda: sum(told()) == refused or None, 25,
                f"summary lines telling all {refused} refusals")
    assert len(told()) <= 2, told()
    lines = sg.log().splitlines()
    assert not [l for l in lines if "CpsLimit" in l], \
        [l for l in lines if "CpsLimit" in l][:5]


def test_port_share(stack):
    gw = stack.uas("gwA", "uas_answer.xml", rtp_echo=False)
    stack.provision(_doc(gw.port))
    # 40 pairs: one account may hold 50 % = 20 pairs = 10 calls
    lo = stack.rtp_min + (stack.rtp_min % 2)
    stack.conf_extra["mediaproxyd"].update(
        {"port_min": lo, "port_max": lo + 79,
         "account_port_share_pct": 50})
    stack.start_all()

    held = stack.uac("flood", "uac_hold.xml", ip=FLOOD_IP, calls=14,
                     limit=14, rate=20, duration_ms=8000, timeout_s=60)

    def ten_up():
        body = it.ping(stack.mp_bus) or {}
        return body.get("calls", 0) >= 10 and \
            body.get("share_refused", 0) >= 4
    it.wait_for(ten_up, 30, "10 calls of `flood` held, 4 refused")
    good = stack.uac("cust1", "uac_hold.xml", calls=5, limit=5, rate=10,
                     duration_ms=1000, timeout_s=60)
    grc = good.finish(60)
    held.finish(60)
    mp = it.ping(stack.mp_bus)
    print("mediaproxyd health.ping:", mp)
    assert grc == 0, f"cust1 did not connect (sipp exit {grc}): " \
        f"{good.received_codes()}"
    assert mp["share_refused"] == 4, mp
    rows = it.wait_for(lambda: len(it.cdr_rows(stack)) >= 19 and
                       it.cdr_rows(stack) or None, 30, "19 CDRs")
    flood = [r for r in rows if r["account"] == "flood"]
    assert sorted(r["end_code"] for r in flood) == [200] * 10 + [503] * 4
    assert {r["end_reason"] for r in flood if r["end_code"] == 503} == \
        {"MediaUnavailable"}
