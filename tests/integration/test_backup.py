"""Issue 12, item 7: tandemctl backup / restore.

A provisioned database with money moved and a CDR-bearing history is
backed up with its config files, restored into an empty database: every
table holds the same rows, and every number of the rate tables is rated
the same at several durations by `tandemctl rate` against both. A restore
never goes over data, and never writes over a config file.
"""

import subprocess

import tandem_it as it

DURATIONS = (0, 1, 6, 7, 61, 3600)


def _tables(stack, db):
    conn = stack.pg.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND "
                        "table_type = 'BASE TABLE' ORDER BY 1")
            names = [r[0] for r in cur.fetchall()]
            out = {}
            for n in names:
                cur.execute(f'SELECT count(*), md5(coalesce(string_agg('
                            f't::text, \'|\' ORDER BY t::text), \'\')) '
                            f'FROM "{n}" t')
                out[n] = cur.fetchone()
            return out
    finally:
        conn.close()


def test_backup_restore_rates_and_routes_the_same(stack, tmp_path):
    doc = it.base_doc(stack.port(), stack.port())
    doc["rate_tables"][0]["entries"].append(
        {"prefix": "44", "area_name": "UK", "connect_fee": "0.0100",
         "first_interval": 30, "first_rate": "0.0200",
         "next_interval": 6, "next_rate": "0.0170"})
    stack.provision(doc)
    stack.ctl("payment", "topup", "cust1", "12.3456")

    conf = tmp_path / "etc"
    conf.mkdir()
    for d in it.DAEMONS:
        (conf / f"{d}.conf").write_text(
            stack.write_conf(d, name=f"{d}-b.conf").read_text())
    backup = tmp_path / "tandem.tar.gz"
    r = stack.ctl("backup", backup, "--conf-dir", conf)
    print(r.stdout)
    assert "3 config files" in r.stdout
    listing = subprocess.run(["tar", "-tzf", str(backup)], check=True,
                             capture_output=True, text=True).stdout.split()
    assert {"manifest.json", "database.dump", "conf/signalingd.conf",
            "conf/mediaproxyd.conf", "conf/billingd.conf"} <= \
        {x.lstrip("./") for x in listing}, listing

    newdb = stack.db + "_restored"
    stack.pg.create_db(newdb)
    ci = stack.pg.conninfo(newdb)
    etc2 = tmp_path / "etc2"
    etc2.mkdir()
    (etc2 / "billingd.conf").write_text("# the new host's own\n")
    r = it.tandemctl(ci, "restore", backup, "--conf-dir", etc2)
    print(r.stdout)
    assert "2 config files written" in r.stdout and "1 kept" in r.stdout
    assert (etc2 / "billingd.conf").read_text() == "# the new host's own\n"
    assert (etc2 / "signalingd.conf").read_text() == \
        (conf / "signalingd.conf").read_text()

    # the same rows in every table: routing, rates, accounts, balances
    a, b = _tables(stack, stack.db), _tables(stack, newdb)
    assert a.keys() == b.keys() and len(a) > 20
    diff = [t for t in a if a[t] != b[t]]
    assert not diff, {t: (a[t], b[t]) for t in diff}

    # rated the same: billingd on the first database, then on the restored
    # one (tandemctl rate asks billingd's API)
    api = f"http://{stack.bd_http}"

    def rates(ci):
        out = {}
        for number in ("15551230001", "441234567890"):
            for secs in DURATIONS:
                out[(number, secs)] = it.tandemctl(
                    ci, "--api", api, "rate", "cust1", number, secs, "--at",
                    "2026-12-06T12:00Z").stdout
        return out

    stack.start_daemon("billingd")
    before = rates(stack.conninfo)
    stack.stop_daemon("billingd")
    first = stack.conninfo
    stack.conninfo = ci
    try:
        stack.start_daemon("billingd")
        after = rates(ci)
        stack.stop_daemon("billingd")
    finally:
        stack.conninfo = first
    assert before == after
    assert all("fee" in v for v in before.values()), before
    print(before[("441234567890", 61)])

    # never over data
    r = it.tandemctl(ci, "restore", backup, check=False)
    assert r.returncode != 0 and "empty database" in r.stderr, r.stderr
    # and not a backup: refused with a clear message
    junk = tmp_path / "junk.tar.gz"
    subprocess.run(["tar", "-czf", str(junk), "-C", str(conf), "."],
                   check=True)
    other = stack.db + "_junk"
    stack.pg.create_db(other)
    r = it.tandemctl(stack.pg.conninfo(other), "restore", junk, check=False)
    assert r.returncode != 0 and "not a tandemctl backup" in r.stderr
