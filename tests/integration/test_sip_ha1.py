"""SIP secrets stored as HA1 (issue 9, item 2; SPEC §8).

Phones and password-mode mapping gateways are provisioned (tandemctl and
the API); the database then holds HA1 = md5(user:tandem:password) and no
clear-text password anywhere in their rows; a phone's REGISTER and a
gateway's INVITE with the right password pass, a wrong one is refused.
Re-provisioning the same password is "unchanged", a new one is "password
changed", and a new username without the password is refused (the stored
hash is of the old name).  Migration 0010 converts rows of an older
database."""

import hashlib
import shutil

import tandem_it as it
from test_digest_replay import Client, _auth, _challenge


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def _columns(stack, table):
    return {r["column_name"] for r in stack.query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s", (table,))}


def test_db_holds_ha1_and_digest_works(stack):
    gw = stack.uas("gwA", "uas_reject.xml", code=486, reason="Busy Here")
    doc = it.base_doc(gw.port, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    doc["mapping_gateways"].append(
        {"name": "pbx", "account": "cust1", "auth_mode": "password",
         "username": "pbx1", "password": "Pbx-secret-1"})
    doc["phones"] = [{"number": "7001", "account": "cust1",
                      "password": "Phone-secret-1"}]
    stack.provision(doc)
    stack.start_daemon("billingd")
    st, _, js = it.api(stack.bd_http, "POST", "/api/v1/phones",
                       {"number": "7002", "account": "cust1",
                        "password": "Phone-secret-2"})
    assert st == 201, js
    assert "password" not in js and "ha1" not in js, js

    # no clear-text column, no clear text in any row, HA1 as RFC 2617 says
    for table in ("phones", "mapping_gateways"):
        cols = _columns(stack, table)
        assert "ha1" in cols and "password" not in cols, cols
    for pw in ("Pbx-secret-1", "Phone-secret-1", "Phone-secret-2"):
        assert stack.scalar(
            "SELECT (SELECT count(*) FROM phones t WHERE t::text LIKE %s)"
            " + (SELECT count(*) FROM mapping_gateways t"
            "    WHERE t::text LIKE %s)", (f"%{pw}%", f"%{pw}%")) == 0
    rows = {r["number"]: r["ha1"] for r in stack.query(
        "SELECT number, ha1 FROM phones")}
    assert rows == {"7001": _md5("7001:tandem:Phone-secret-1"),
                    "7002": _md5("7002:tandem:Phone-secret-2")}, rows
    assert stack.scalar("SELECT ha1 FROM mapping_gateways WHERE name = 'pbx'"
                        ) == _md5("pbx1:tandem:Pbx-secret-1")
    # the API (md_export) never gives it back, one phone or the list
    st, _, js = it.api(stack.bd_http, "GET", "/api/v1/phones/7001")
    assert st == 200 and "password" not in js and "ha1" not in js, js
    st, _, js = it.api(stack.bd_http, "GET", "/api/v1/phones")
    assert st == 200 and rows["7001"] not in str(js), js
    assert "Phone-secret" not in str(js), js

    # the same password again: unchanged; a new one: changed
    r = stack.provision(doc)
    assert "unchanged phone 7001" in r.stdout, r.stdout
    assert "unchanged mapping gateway pbx" in r.stdout, r.stdout
    doc["phones"][0]["password"] = "Phone-secret-1b"
    r = stack.provision(doc)
    assert "updated phone 7001: password changed" in r.stdout, r.stdout
    # a new digest user without the password cannot keep a valid HA1
    st, _, js = it.api(stack.bd_http, "PATCH",
                       "/api/v1/mapping_gateways/pbx", {"username": "pbx2"},
                       validate=False)
    assert st >= 400 and "required when username changes" in str(js), js
    assert stack.scalar("SELECT username FROM mapping_gateways "
                        "WHERE name = 'pbx'") == "pbx1"

    stack.start_daemon("signalingd")
    cl = Client(stack, "127.0.0.7")
    ruri = f"sip:127.0.0.1:{stack.sip_port}"
    for number, pw, want in (("7001", "Phone-secret-1", 401),
                             ("7001", "Phone-secret-1b", 200),
                             ("7002", "Phone-secret-2", 200),
                             ("7002", "Phone-secret-1", 401)):
        code, text = cl.request("REGISTER", ruri, number, number)
        assert code == 401, text
        cred = _auth(number, pw, "REGISTER", ruri, _challenge(text))
        code, text = cl.request("REGISTER", ruri, number, number, auth=cred)
        assert code == want, (number, pw, text)
        if want == 401:
            assert "stale=true" not in text, text

    uri = f"sip:15551230001@127.0.0.1:{stack.sip_port}"
    for pw, want in (("Pbx-secret-2", 407), ("Pbx-secret-1", 486)):
        code, text = cl.request("INVITE", uri, "pbx1", "15551230001")
        assert code == 407, text
        cred = _auth("pbx1", pw, "INVITE", uri, _challenge(text))
        code, text = cl.request("INVITE", uri, "pbx1", "15551230001",
                                auth=cred)
        assert code == want, (pw, text)
    gw.quit()


def test_migration_converts_clear_passwords(stack, tmp_path):
    """A database before 0010 with clear passwords comes out with HA1."""
    old = tmp_path / "schema-old"
    old.mkdir()
    for f in sorted((it.REPO / "schema").glob("*.sql")):
        if int(f.name[:4]) < 10:
            shutil.copy(f, old)
    name = stack.db + "_old"
    stack.pg.create_db(name)
    conninfo = stack.pg.conninfo(name)
    it.tandemctl(conninfo, "--schema-dir", str(old), "db", "migrate")
    conn = stack.pg.connect(name)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO accounts (name) VALUES ('c') "
                        "RETURNING id")
            acc = cur.fetchone()[0]
            cur.execute("INSERT INTO phones (number, password, account_id)"
                        " VALUES ('7001', 'Old-secret-1', %s)", (acc,))
            cur.execute("INSERT INTO mapping_gateways (name, account_id,"
                        " auth_mode, username, password) VALUES"
                        " ('pw', %s, 'password', 'u1', 'Old-secret-2'),"
                        " ('ip', %s, 'ip', NULL, NULL)", (acc, acc))
        it.tandemctl(conninfo, "--schema-dir", str(it.REPO / "schema"),
                     "db", "migrate")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT ha1 FROM phones")
            assert cur.fetchall() == [(_md5("7001:tandem:Old-secret-1"),)]
            cur.execute("SELECT name, ha1 FROM mapping_gateways ORDER BY 1")
            assert cur.fetchall() == [
                ("ip", None), ("pw", _md5("u1:tandem:Old-secret-2"))]
            cur.execute("SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name IN ('phones', 'mapping_gateways')"
                        " AND column_name = 'password'")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
        admin = stack.pg.connect("postgres")
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
