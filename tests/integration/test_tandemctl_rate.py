"""Issue 7, done-when 6: `tandemctl rate` equals what a CDR is charged.

The demo provisioning (deploy/demo.json) is loaded; for every entry of its
retail rate table and three durations, a CDR of that call is submitted to
billingd (cdr.submit, the path every real call takes) and `tandemctl rate`
is asked the fee of the same number, duration and moment.  The two agree
to the micro-unit, and both match the SPEC §6 formula computed here
independently.  The rate output names the entry, the table and the period.
"""

import json
import re
import time
import uuid

import tandem_it as it

DURATIONS = (1, 47, 301)


def test_tandemctl_rate_equals_the_stored_fee(stack):
    doc = json.loads((it.REPO / "deploy" / "demo.json").read_text())
    stack.provision(doc)
    stack.start_daemon("billingd")
    retail = next(t for t in doc["rate_tables"]
                  if t["name"] == "demo-retail")
    api = f"http://{stack.bd_http}"
    checked = 0
    for e in retail["entries"]:
        number = e["prefix"] + "5550100"
        for secs in DURATIONS:
            now = int(time.time() * 1000)
            answer = now - secs * 1000
            cid = str(uuid.uuid4())
            cdr = {"id": cid, "account": "democust", "callee": number,
                   "caller": "5550100", "mapping_gateway": "x",
                   "setup_ms": answer - 2000, "answer_ms": answer,
                   "end_ms": now, "hold_ms": secs * 1000,
                   "end_code": 200, "end_reason": "Normal"}
            rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit",
                                       {"cdr": cdr})
            assert rc == 0 and '"cdr.submit.reply"' in out, (out, err)
            stored = stack.scalar("SELECT fee FROM cdr WHERE id = %s",
                                  (cid,))
            r = it.tandemctl(stack.conninfo, "--api", api, "rate",
                             "democust", number, str(secs), "--at",
                             str(answer), check=False)
            assert r.returncode == 0, r.stderr
            m = re.search(r"^fee\s+(\S+)$", r.stdout, re.M)
            assert m, r.stdout
            quoted = it.money(m.group(1))
            want = it.expected_fee(secs * 1000, e)
            assert quoted == stored == want, (e["prefix"], secs, quoted,
                                              stored, want, r.stdout)
            assert f"prefix '{e['prefix']}'" in r.stdout
            assert "demo-retail (period default)" in r.stdout
            checked += 1
    assert checked == 3 * len(retail["entries"])

    # bad questions get a clear answer, not a fee
    for args, msg in [(("nobody", "15551230001", "10"), "account"),
                      (("democust", "999", "10"), "number"),
                      (("democust", "1555", "-1"), "SECONDS"),
                      (("democust", "1555", "10", "--at", "yesterday"),
                       "--at")]:
        r = it.tandemctl(stack.conninfo, "--api", api, "rate", *args,
                         check=False)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)
