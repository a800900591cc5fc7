"""CDR search and the streamed CSV export over the API (SPEC §7): every
filter, newest first, pages of at most 1000, roles (a customer sees its
own CDRs and never the vendor side), bad filters refused, and a CSV that
holds exactly the matching CDRs."""
import csv
import io
import time
import uuid

import tandem_it as it


def _submit(stack, account, callee, end_code, answered, setup_ms, hold_s=0,
            mgw="mg1", gw="gwA"):
    cid = str(uuid.uuid4())
    answer = setup_ms + 2000 if answered else 0
    end = (answer + hold_s * 1000) if answered else setup_ms + 3000
    cdr = {"id": cid, "account": account, "callee": callee,
           "caller": "5550100", "mapping_gateway": mgw,
           "routing_gateway": gw, "vendor": "vend1",
           "setup_ms": setup_ms, "answer_ms": answer, "end_ms": end,
           "hold_ms": hold_s * 1000 if answered else 0,
           "end_code": end_code,
           "end_reason": "Normal" if answered else "Failed"}
    rc, out, err = it.busprobe(stack.bd_bus, "cdr.submit", {"cdr": cdr})
    assert rc == 0 and '"cdr.submit.reply"' in out, (out, err)
    return cid


def test_cdr_search_and_export(stack):
    doc = it.base_doc(stack.port(), 0, gw_b=False, extra_accounts=[
        {"name": "cust2", "type": "customer", "rate_table": "retail",
         "balance": "100"}])
    stack.provision(doc)
    stack.start_daemon("billingd")
    addr = stack.bd_http
    now = int(time.time() * 1000)
    made = []
    # (account, callee, code, answered, minutes ago)
    plan = [("cust1", "15551230001", 200, True, 50),
            ("cust1", "15551230002", 486, False, 40),
            ("cust1", "15551239999", 480, False, 30),
            ("cust1", "15551230004", 503, False, 20),
            ("cust2", "15551230005", 200, True, 10),
            ("cust1", "15551230006", 200, True, 60 * 30)]  # 30 hours ago
    for acc, callee, code, ans, ago in plan:
        made.append(_submit(stack, acc, callee, code, ans,
                            now - ago * 60000, hold_s=30))

    def ids(query, **kw):
        status, _, js = it.api(addr, "GET", "/api/v1/cdrs" + query, **kw)
        assert status == 200, (query, js)
        return [c["id"] for c in js["items"]]

    # default: the last 24 hours, newest first
    assert ids("") == [made[4], made[3], made[2], made[1], made[0]]
    assert ids(f"?from={now - 31 * 3600000}") == \
        [made[4], made[3], made[2], made[1], made[0], made[5]]
    assert ids("?result=answered") == [made[4], made[0]]
    assert ids("?result=busy") == [made[1]]
    assert ids("?result=no_answer") == [made[2]]
    assert ids("?result=failed") == [made[3]]
    assert ids("?number=9999") == [made[2]]
    assert ids("?account=cust2") == [made[4]]
    assert ids("?gateway=mg1&limit=2") == [made[4], made[3]]
    assert ids("?limit=2&offset=2") == [made[2], made[1]]
    iso_from = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                             time.gmtime((now - 45 * 60000) / 1000))
    iso_to = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                           time.gmtime((now - 15 * 60000) / 1000))
    assert ids(f"?from={iso_from}&to={iso_to}") == \
        [made[3], made[2], made[1]]

    status, _, js = it.api(addr, "GET", "/api/v1/cdrs?result=answered")
    row = js["items"][-1]
    assert row["fee"] == "0.0076" or it.money(row["fee"]) > 0, row
    assert row["vendor"] == "vend1" and "vendor_cost" in row

    # bad filters: a clear 400, whatever they carry
    for bad in ("result=ok", "from=yesterday", "to=2026-13-01",
                "number=1%27%20OR%201%3D1", "limit=5000",
                f"from={now}&to={now - 1}", "number="):
        status, _, js = it.api(addr, "GET", f"/api/v1/cdrs?{bad}")
        assert status == 400, (bad, js)
    # SQL in a name filter is only a name
    assert ids("?account=cust1%27%20OR%20%271%27%3D%271") == []

    # a customer user: its own CDRs, without the vendor side
    it.api(addr, "POST", "/api/v1/users",
           {"username": "c2", "password": "c2-Password-1",
            "role": "customer", "account": "cust2"})
    status, hdrs, _ = it.api(addr, "POST", "/api/v1/login",
                             {"username": "c2",
                              "password": "c2-Password-1"}, token="")
    assert status == 200
    cookie = None
    for c in hdrs["set-cookie"]:
        cookie = c.split(";", 1)[0]
    status, _, js = it.api(addr, "GET", "/api/v1/cdrs", token="",
                           headers={"Cookie": cookie})
    assert status == 200, js
    assert [c["id"] for c in js["items"]] == [made[4]]
    assert "vendor" not in js["items"][0] and \
        "vendor_cost" not in js["items"][0]
    status, _, js = it.api(addr, "GET", "/api/v1/cdrs?account=cust1",
                           token="", headers={"Cookie": cookie})
    assert status == 200 and js["items"] == [], js

    # the export: exactly the matching CDRs, streamed
    status, hdrs, text = it.api(
        addr, "GET", f"/api/v1/cdrs.csv?from={now - 31 * 3600000}")
    assert status == 200, text
    assert hdrs["content-type"].startswith("text/csv")
    assert hdrs.get("transfer-encoding") == "chunked", hdrs
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == \
        [made[4], made[3], made[2], made[1], made[0], made[5]]
    assert rows[0]["account"] == "cust2" and rows[0]["fee"]
    status, _, text = it.api(addr, "GET", "/api/v1/cdrs.csv?result=busy")
    assert [r["id"] for r in csv.DictReader(io.StringIO(text))] == \
        [made[1]]
    status, _, js = it.api(addr, "GET", "/api/v1/cdrs.csv?result=x")
    assert status == 400, js
    assert stack.scalar("SELECT count(*) FROM audit_log WHERE action = "
                        "'export'") == 2


def test_cdr_export_streams_many_rows(stack):
    """An export larger than one chunk arrives whole, in order."""
    stack.provision(it.base_doc(stack.port(), 0, gw_b=False))
    stack.start_daemon("billingd")
    n = 4500
    stack.query(
        "INSERT INTO cdr (id, setup_time, account, callee, setup_ms, "
        "answer_ms, end_ms, hold_ms, fee, end_code) SELECT "
        "gen_random_uuid(), now() - make_interval(secs => i), 'cust1', "
        "'1555' || i, 0, 0, 0, 0, i, 486 FROM generate_series(1, %s) i",
        (n,))
    status, _, text = it.api(stack.bd_http, "GET", "/api/v1/cdrs.csv",
                             timeout=60)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == n
    assert [r["callee"] for r in rows[:3]] == ["15551", "15552", "15553"]
    assert rows[-1]["callee"] == f"1555{n}"
    assert rows[0]["fee"] == "0.000001"
