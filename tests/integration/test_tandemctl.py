"""tandemctl against a real PostgreSQL (and a real billingd for `status`).

- `db migrate` on an empty database applies every migration, a second run
  is a no-op, `db version` follows;
- `provision deploy/demo.json` creates the demo exactly as documented, a
  second run changes nothing and says so;
- an update prints old -> new per field; `balance` is never reset;
- a file with problems names each JSON path, exits 1, writes nothing;
- `"delete": true` removes objects, refuses dangling references, rolls back;
- `--dry-run` writes nothing; a change NOTIFYs tandem_config;
- `status` prints billingd's table, exits 1 when billingd is unreachable.
"""

import json
import select

import pytest

import tandem_it as it

DEMO = it.REPO / "deploy" / "demo.json"


def demo():
    return json.loads(DEMO.read_text())


def dump(stack):
    """Everything provisioning writes, for before/after comparisons."""
    tables = {
        "accounts": "name", "rate_tables": "name",
        "rate_entries": "rate_table_id, prefix", "gateway_groups": "name",
        "mapping_gateways": "name", "routing_gateways": "name",
        "routing_gateway_prefixes": "routing_gateway_id, prefix",
        "system_parameters": "name", "balance_history": "id",
    }
    return {t: stack.query(f"SELECT * FROM {t} ORDER BY {o}")
            for t, o in tables.items()}


def test_migrate_fresh_database_then_noop(pg, it_root):
    pg.create_db("ctl_fresh")
    ci = pg.conninfo("ctl_fresh")
    schema = ["--schema-dir", it.REPO / "schema"]

    assert it.tandemctl(ci, "db", "version").stdout.strip() == "0"
    r = it.tandemctl(ci, *schema, "db", "migrate")
    assert "applied 0001_init.sql" in r.stdout
    first = it.tandemctl(ci, "db", "version").stdout.strip()
    assert int(first) >= 1

    r = it.tandemctl(ci, *schema, "db", "migrate")
    assert "up to date" in r.stdout and "applied" not in r.stdout
    assert it.tandemctl(ci, "db", "version").stdout.strip() == first

    conn = pg.connect("ctl_fresh")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version, name FROM schema_version "
                        "ORDER BY version")
            rows = cur.fetchall()
    finally:
        conn.close()
    assert rows[0] == (1, "init")
    assert len(rows) == int(first)


def test_demo_provisions_and_is_idempotent(stack):
    r = stack.provision(demo())
    out = r.stdout
    for line in ("created rate table demo-retail (2 entries)",
                 "created account democust", "created account demovendor",
                 "created mapping gateway demo-in",
                 "created routing gateway demo-gw-a",
                 "created routing gateway demo-gw-b"):
        assert line in out, out

    acct = stack.query("SELECT a.*, r.name AS rt FROM accounts a LEFT JOIN "
                       "rate_tables r ON r.id = a.rate_table_id "
                       "WHERE a.name = 'democust'")[0]
    assert acct["balance"] == 100_000_000 and acct["rt"] == "demo-retail"
    entries = stack.query(
        "SELECT prefix, first_interval, first_rate, next_interval, next_rate"
        " FROM rate_entries e JOIN rate_tables t ON t.id = e.rate_table_id "
        "WHERE t.name = 'demo-retail' ORDER BY prefix")
    assert entries == [
        {"prefix": "1", "first_interval": 30, "first_rate": 10000,
         "next_interval": 6, "next_rate": 10000},
        {"prefix": "44", "first_interval": 60, "first_rate": 20000,
         "next_interval": 60, "next_rate": 20000}]
    gws = stack.query("SELECT g.name, g.port, g.priority, array_agg(p.prefix "
                      "ORDER BY p.prefix) AS prefixes FROM routing_gateways g"
                      " JOIN routing_gateway_prefixes p ON p.routing_gateway_id"
                      " = g.id GROUP BY g.name, g.port, g.priority "
                      "ORDER BY g.name")
    assert gws == [
        {"name": "demo-gw-a", "port": 5071, "priority": 1,
         "prefixes": ["1", "44"]},
        {"name": "demo-gw-b", "port": 5072, "priority": 2,
         "prefixes": ["1", "44"]}]
    assert stack.scalar("SELECT ips FROM mapping_gateways "
                        "WHERE name = 'demo-in'") == ["127.0.0.1"]
    assert stack.scalar("SELECT value FROM system_parameters "
                        "WHERE name = 'SS_MEDIAPROXYMODE'") == "3"

    before = dump(stack)
    r = stack.provision(demo())
    assert "nothing changed" in r.stdout, r.stdout
    for word in ("created", "updated", "deleted"):
        assert not any(l.startswith(word) for l in r.stdout.splitlines())
    assert dump(stack) == before


def test_update_prints_changes_and_keeps_balance(stack):
    stack.provision(demo())
    stack.query("UPDATE accounts SET balance = 42 WHERE name = 'democust'")

    doc = demo()
    doc["routing_gateways"][0]["port"] = 5073
    doc["routing_gateways"][0]["prefixes"] = ["1", "49"]
    doc["rate_tables"][0]["entries"][0]["first_rate"] = "0.0120"
    doc["accounts"][0]["balance"] = "500"      # creation only: ignored
    doc["accounts"][0]["credit_limit"] = "10.25"
    r = stack.provision(doc)
    out = r.stdout
    assert "updated routing gateway demo-gw-a: port 5071 -> 5073" in out, out
    assert "prefixes added: 49" in out and "prefixes removed: 44" in out
    assert "first_rate 0.01 -> 0.012" in out
    assert "updated account democust: credit_limit 0 -> 10.25" in out
    assert "balance" not in out
    assert stack.balance("democust") == 42
    assert stack.scalar("SELECT credit_limit FROM accounts "
                        "WHERE name = 'democust'") == 10_250_000
    assert "nothing changed" in stack.provision(doc).stdout


BAD = [
    ("routing_gateways[1].port: must be 1..65535",
     lambda d: d["routing_gateways"][1].__setitem__("port", 0)),
    ("rate_tables[0].entries[1].next_rate: at most 6 decimals",
     lambda d: d["rate_tables"][0]["entries"][1].__setitem__(
         "next_rate", "0.0000001")),
    ("accounts[0].balance: must be a decimal string",
     lambda d: d["accounts"][0].__setitem__("balance", 100)),
    ("mapping_gateways[0].ips[0]: not an IPv4/IPv6 address",
     lambda d: d["mapping_gateways"][0].__setitem__("ips", ["1.2.3.999"])),
    ("routing_gateways[0].prefixes[0]: a prefix is digits only",
     lambda d: d["routing_gateways"][0].__setitem__("prefixes", ["1a"])),
    ("routing_gateways[0].stop_codes[0]: must be 400..699",
     lambda d: d["routing_gateways"][0].__setitem__("stop_codes", [200])),
    ("system_parameters.SS_NO_SUCH: unknown system parameter",
     lambda d: d["system_parameters"].__setitem__("SS_NO_SUCH", "1")),
    ("accounts[1].buy_rate_table: no rate table named \"nope\"",
     lambda d: d["accounts"][1].__setitem__("buy_rate_table", "nope")),
    ("routing_gateways[0].account: account \"democust\" is a customer",
     lambda d: d["routing_gateways"][0].__setitem__("account", "democust")),
    ("phone_books: unknown section",
     lambda d: d.__setitem__("phone_books", [])),
    ("work_calendars[0].time_zone: unknown time zone",
     lambda d: d.__setitem__("work_calendars", [
         {"name": "c", "time_zone": "Mars/Olympus"}])),
    ("work_calendars[0].work_end: must be after work_start",
     lambda d: d.__setitem__("work_calendars", [
         {"name": "c", "work_start": "18:00", "work_end": "09:00"}])),
    ("mapping_gateways[0].phone_card_prefix: a prefix is digits only",
     lambda d: d["mapping_gateways"][0].__setitem__("phone_card_prefix",
                                                    "8#")),
]


@pytest.mark.parametrize("message,mutate", BAD,
                         ids=[m.split(":")[0] for m, _ in BAD])
def test_bad_file_names_the_path_and_writes_nothing(stack, message, mutate):
    stack.provision(demo())
    before = dump(stack)
    doc = demo()
    # valid changes in the same file must not be written either
    doc["routing_gateways"][1]["priority"] = 9
    doc["accounts"].append({"name": "extra", "balance": "1"})
    mutate(doc)
    r = stack.provision(doc, check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert message in r.stderr, r.stderr
    assert "nothing written" in r.stderr
    assert r.stdout == ""
    assert dump(stack) == before


def test_calendars_period_rates_phones(stack):
    doc = demo()
    doc["work_calendars"] = [{
        "name": "uk", "time_zone": "Europe/London", "working_days": [1, 2, 3],
        "work_start": "08:30", "work_end": "17:30",
        "holidays": ["2026-12-26", "2026-12-25"]}]
    doc["package_period_rates"] = [{
        "name": "uk-ppr", "calendar": "uk",
        "working_rate_table": "demo-retail",
        "non_working_rate_table": "demo-wholesale"}]
    doc["accounts"][0]["package_period_rate"] = "uk-ppr"
    doc["routing_gateways"][1]["work_calendar"] = "uk"
    doc["routing_gateways"][1]["active_period"] = "working"
    doc["phones"] = [{"number": "1001", "password": "s3cret",
                      "account": "democust"}]
    r = stack.provision(doc)
    assert "created work calendar uk" in r.stdout
    assert "created phone 1001" in r.stdout
    assert "s3cret" not in r.stdout
    cal = stack.query("SELECT time_zone, working_days, work_start::text AS s,"
                      " work_end::text AS e, array(SELECT day::text FROM "
                      "holidays h WHERE h.calendar_id = c.id ORDER BY day) "
                      "AS days FROM work_calendars c")[0]
    assert cal == {"time_zone": "Europe/London", "working_days": [1, 2, 3],
                   "s": "08:30:00", "e": "17:30:00",
                   "days": ["2026-12-25", "2026-12-26"]}
    assert stack.scalar("SELECT p.name FROM accounts a JOIN "
                        "package_period_rates p ON p.id = "
                        "a.package_period_rate_id WHERE a.name = "
                        "'democust'") == "uk-ppr"
    assert "nothing changed" in stack.provision(doc).stdout

    doc["work_calendars"][0]["holidays"] = ["2027-01-01"]
    doc["phones"][0]["delete"] = True
    r = stack.provision(doc)
    assert ("holidays added: 2027-01-01, holidays removed: 2026-12-25, "
            "2026-12-26") in r.stdout, r.stdout
    assert "deleted phone 1001" in r.stdout
    assert stack.scalar("SELECT count(*) FROM phones") == 0


def test_dial_plans(stack):
    doc = demo()
    doc["mapping_gateways"][0]["callee_dial_plan"] = [
        {"prefix": "00", "strip": 2},
        {"regex": "^0[1-9]", "strip": 1, "prepend": "44",
         "min_length": 10, "max_length": 11}]
    stack.provision(doc)
    plan = stack.scalar("SELECT callee_dial_plan FROM mapping_gateways "
                        "WHERE name = 'demo-in'")
    assert plan == [
        {"prefix": "00", "regex": "", "strip": 2, "prepend": "",
         "min_length": 0, "max_length": 0},
        {"prefix": "", "regex": "^0[1-9]", "strip": 1, "prepend": "44",
         "min_length": 10, "max_length": 11}]
    assert "nothing changed" in stack.provision(doc).stdout

    doc["mapping_gateways"][0]["callee_dial_plan"][1]["regex"] = "^0++"
    r = stack.provision(doc, check=False)
    assert r.returncode == 1
    assert "mapping_gateways[0].callee_dial_plan[1].regex:" in r.stderr


def test_media_settings(stack):
    doc = demo()
    doc["routing_gateways"][0]["media"] = {
        "codec_mode": "specified", "specified_codec": "G729",
        "media_proxy": "off"}
    stack.provision(doc)
    media = stack.scalar("SELECT media FROM routing_gateways "
                         "WHERE name = 'demo-gw-a'")
    assert media == {
        "codec_mode": "specified", "codecs": [], "specified_codec": "G729",
        "allow_transcoding": False, "g729_mode": "auto",
        "dtmf_receive": "all", "dtmf_send": "auto", "rfc2833_pt": 101,
        "use_peer_rfc2833": True, "media_proxy": "off"}
    assert "nothing changed" in stack.provision(doc).stdout

    doc["routing_gateways"][0]["media"]["codecs"] = ["GSM"]
    r = stack.provision(doc, check=False)
    assert r.returncode == 1
    assert ("routing_gateways[0].media.codecs[0]: must be one of PCMA, "
            "PCMU, G729, G722, opus, G723") in r.stderr


def test_identity_and_caller_pool(stack):
    doc = demo()
    gw = doc["routing_gateways"][0]
    gw["identity"] = {"pai": "caller", "extra_headers": "list",
                      "headers": ["X-Account"]}
    gw["caller_pool"] = {"enabled": True, "numbers": ["15550001"]}
    stack.provision(doc)
    row = stack.query("SELECT identity, caller_pool FROM routing_gateways "
                      "WHERE name = 'demo-gw-a'")[0]
    assert row["identity"] == {
        "pai": "caller", "privacy": "none", "ppi": "none",
        "extra_headers": "list", "headers": ["X-Account"],
        "peer_number_source": "from"}
    assert row["caller_pool"] == {"enabled": True, "numbers": ["15550001"],
                                  "multiplexes": 1}
    assert "nothing changed" in stack.provision(doc).stdout

    gw["identity"]["headers"] = ["Via"]
    r = stack.provision(doc, check=False)
    assert r.returncode == 1
    assert "routing_gateways[0].identity.headers[0]: Via" in r.stderr


def test_delete(stack):
    stack.provision(demo())

    # a referenced account cannot go: everything rolls back
    before = dump(stack)
    r = stack.provision({
        "routing_gateways": [{"name": "demo-gw-b", "delete": True}],
        "accounts": [{"name": "democust", "delete": True}]}, check=False)
    assert r.returncode == 1
    assert "accounts[0]: cannot delete account democust" in r.stderr
    assert dump(stack) == before

    r = stack.provision({
        "routing_gateways": [{"name": "demo-gw-b", "delete": True}],
        "mapping_gateways": [{"name": "demo-in", "delete": True}],
        "accounts": [{"name": "democust", "delete": True}]})
    assert "deleted routing gateway demo-gw-b" in r.stdout
    assert "deleted mapping gateway demo-in" in r.stdout
    assert "deleted account democust" in r.stdout
    assert stack.scalar("SELECT count(*) FROM accounts "
                        "WHERE name = 'democust'") == 0
    assert stack.scalar("SELECT count(*) FROM routing_gateways") == 1

    r = stack.provision({"routing_gateways": [{"name": "demo-gw-b",
                                               "delete": True}]})
    assert "nothing changed" in r.stdout


def test_dry_run_writes_nothing(stack):
    before = dump(stack)
    r = stack.ctl("provision", "--dry-run", DEMO)
    assert "created account democust" in r.stdout
    assert "dry run" in r.stdout
    assert dump(stack) == before


def test_change_notifies_tandem_config(stack):
    conn = stack.pg.connect(stack.db)
    got = []
    try:
        with conn.cursor() as cur:
            cur.execute("LISTEN tandem_config")
        stack.provision(demo())
        stack.provision(demo())          # no change: no notification
        deadline = it.time.monotonic() + 3
        while it.time.monotonic() < deadline:
            if select.select([conn], [], [], 0.2)[0]:
                conn.poll()
                while conn.notifies:
                    got.append(json.loads(conn.notifies.pop(0).payload))
    finally:
        conn.close()
    assert len(got) == 1, got
    assert got[0]["source"] == "tandemctl"
    assert "routing_gateways" in got[0]["changed"]


def test_status_unreachable(stack):
    port = it.PORTS.one()
    r = stack.ctl("--api", f"http://127.0.0.1:{port}", "--timeout", "2000",
                  "status", check=False)
    assert r.returncode == 1
    assert "unreachable" in r.stderr and str(port) in r.stderr


def test_status_from_billingd(stack):
    stack.start_daemon("billingd")
    r = stack.ctl("--api", f"http://{stack.bd_http}", "status", check=False)
    # signalingd is not running: billingd reports it down -> exit 3
    assert r.returncode == 3, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["DAEMON", "NODE", "VERSION"]
    bd = next(l for l in lines if l.startswith("billingd"))
    assert "bd-it" in bd and " ok" in bd
    sg = next(l for l in lines if l.startswith("signalingd"))
    assert "down" in sg
    assert any(l.startswith("MEDIA NODE") for l in lines)


def test_status_all_daemons(stack):
    stack.provision(demo())
    stack.start_all()
    r = stack.ctl("--api", f"http://{stack.bd_http}", "status", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    for daemon, node in (("billingd", "bd-it"), ("signalingd", "sg-it")):
        row = next(l for l in lines if l.startswith(daemon))
        assert node in row and " ok" in row, row
    media = next(l for l in lines if l.startswith("mp-it"))
    assert stack.mp_bus in media and " yes " in media, media


def test_provision_is_in_the_audit_log(stack):
    """Every write through the model leaves an audit row: provisioning
    too, with who ran it, the file and the change lines."""
    doc = demo()
    stack.provision(doc)
    rows = stack.query("SELECT actor, action, object, detail FROM audit_log"
                       " WHERE action = 'provision'")
    assert len(rows) == 1, rows
    assert rows[0]["actor"].startswith("tandemctl:")
    assert rows[0]["object"].endswith(".json")
    assert "created routing gateway" in rows[0]["detail"]["changes"]
    stack.provision(doc)  # nothing changed: nothing to audit
    assert stack.scalar("SELECT count(*) FROM audit_log WHERE action = "
                        "'provision'") == 1
