"""Issue 2, done-when 6: bad input never crashes a daemon.

- malformed bus messages sent straight to each daemon's REP socket get an
  "error" reply, and health.ping still answers after each one;
- a provisioning file with an invalid field changes nothing and the error
  names the field (its JSON path);
- a config file with an unknown key makes each daemon exit non-zero with
  "file:line" on stderr, both with -t and on a real start.
"""

import json
import subprocess
import time
import uuid

import pytest

import tandem_it as it

ERROR_CODES = {"bad_request", "unknown_type", "not_found", "no_capacity",
               "unavailable", "internal", "forbidden"}
BIG = 200 * 1024


def env(type_="health.ping", body=None, **over):
    e = {"v": 1, "type": type_, "id": str(uuid.uuid4()),
         "ts": int(time.time() * 1000), "body": {} if body is None else body}
    if body is _DROP:
        del e["body"]
    for k, v in over.items():
        if v is _DROP:
            e.pop(k, None)
        else:
            e[k] = v
    return json.dumps(e).encode()


_DROP = object()

# malformed envelopes: every daemon must answer each with an error
COMMON_CASES = [
    ("not_json", b"this is not json"),
    ("empty", b""),
    ("json_array", b"[1, 2, 3]"),
    ("json_string", b'"health.ping"'),
    ("truncated", env()[:-7]),
    ("binary_garbage", bytes(range(256)) * 8),
    ("nul_bytes", b'{"v":1,"type":"health.ping"\x00\x00}'),
    ("v_2", env(v=2)),
    ("v_string", env(v="1")),
    ("v_missing", env(v=_DROP)),
    ("type_missing", env(type=_DROP)),
    ("type_number", env(type=7)),
    ("type_bad_chars", env(type="Health Ping!")),
    ("type_huge", env(type="a" * BIG)),
    ("id_missing", env(id=_DROP)),
    ("id_not_uuid", env(id="12345")),
    ("ts_negative", env(ts=-5)),
    ("ts_string", env(ts="now")),
    ("body_missing", env(body=_DROP)),
    ("body_string", env(body="x")),
    ("body_array", env(body=[1, 2])),
    ("unknown_type", env("no.such.message")),
    ("duplicate_keys", b'{"v":1,"v":1,"type":"health.ping","id":"'
     + str(uuid.uuid4()).encode() + b'","ts":1,"body":{}}'),
    ("deep_nesting", b'{"v":1,"type":"health.ping","id":"'
     + str(uuid.uuid4()).encode() + b'","ts":1,"body":'
     + b'{"a":' * 5000 + b'1' + b'}' * 5000 + b'}'),
    # over the envelope's 256 KiB but within the transport's bound
    ("oversize_256k", env(body={"junk": "y" * (256 * 1024 + 100)})),
]

# beyond the transport's bound (256 KiB + 1 KiB): the connection is closed
# before the message is kept, so there is no reply at all
HUGE_CASES = [
    ("oversize_300k", env(body={"junk": "y" * (300 * 1024)})),
    ("oversize_4m", env(body={"junk": "y" * (4 * 1024 * 1024)})),
]

U = "7d0f3c8e-2f59-4d7b-9d0e-0c6f2a1b4e55"
LEG = {"remote_ip": "127.0.0.1", "remote_port": 40000, "codec": "PCMA",
       "pt": 8, "rate": 8000, "ptime": 20, "fmtp": "", "te_pt": 101,
       "dtmf_send": "rfc2833", "dtmf_recv": "rfc2833",
       "direction": "sendrecv"}

# well-formed envelopes whose body is wrong for the type
TYPED_CASES = {
    "billingd": [
        ("auth_empty", env("auth.request", {})),
        ("auth_wrong_types", env("auth.request", {
            "call": 12, "account": ["cust1"], "caller": {}, "callee": 1,
            "mapping_gateway": True})),
        ("auth_bad_uuid", env("auth.request", {
            "call": "not-a-uuid", "account": "cust1", "caller": "1",
            "callee": "1555", "mapping_gateway": "mg1"})),
        ("auth_huge_account", env("auth.request", {
            "call": U, "account": "c" * BIG, "caller": "1",
            "callee": "1555", "mapping_gateway": "mg1"})),
        ("auth_card_not_digits", env("auth.request", {
            "call": U, "account": "cust1", "callee": "1555",
            "card": "12ab"})),
        ("auth_card_wrong_type", env("auth.request", {
            "call": U, "account": "cust1", "callee": "1555", "card": 12})),
        ("auth_card_huge", env("auth.request", {
            "call": U, "account": "cust1", "callee": "1555",
            "card": "1" * BIG})),
        ("extend_empty", env("auth.extend", {})),
        ("extend_no_granted", env("auth.extend", {
            "call": U, "account": "cust1", "callee": "1555"})),
        ("extend_granted_zero", env("auth.extend", {
            "call": U, "account": "cust1", "callee": "1555",
            "granted_s": 0})),
        ("extend_granted_huge", env("auth.extend", {
            "call": U, "account": "cust1", "callee": "1555",
            "granted_s": 10 ** 15})),
        ("extend_wrong_types", env("auth.extend", {
            "call": U, "account": "cust1", "callee": "1555",
            "granted_s": "60", "resume": "yes"})),
        ("release_missing", env("auth.release", {})),
        ("cdr_not_object", env("cdr.submit", {"cdr": "nope"})),
        ("cdr_missing", env("cdr.submit", {})),
        ("cdr_bad_id", env("cdr.submit", {"cdr": {"id": "123"}})),
        ("cdr_wrong_types", env("cdr.submit", {"cdr": {
            "id": U, "setup_ms": "yesterday", "hold_ms": -5,
            "end_code": "200", "attempts": "none", "account": 5}})),
        ("cdr_huge_callee", env("cdr.submit", {"cdr": {
            "id": U, "callee": "1" * BIG, "account": "cust1",
            "setup_ms": 1, "end_ms": 2}})),
    ],
    "mediaproxyd": [
        ("offer_empty", env("media.offer", {})),
        ("offer_legs_wrong_type", env("media.offer", {
            "session": U, "call_id": "x", "a": "leg", "b": 5})),
        ("offer_bad_session", env("media.offer", {
            "session": 42, "call_id": "x", "a": LEG, "b": LEG})),
        ("offer_port_range", env("media.offer", {
            "session": U, "call_id": "x", "a": dict(LEG, remote_port=70000),
            "b": LEG})),
        ("offer_pt_range", env("media.offer", {
            "session": U, "call_id": "x", "a": dict(LEG, pt=300), "b": LEG})),
        ("offer_huge_call_id", env("media.offer", {
            "session": U, "call_id": "c" * BIG, "a": LEG, "b": LEG})),
        ("offer_bad_direction", env("media.offer", {
            "session": U, "call_id": "x", "a": dict(LEG, direction=7),
            "b": LEG})),
        ("delete_missing", env("media.delete", {})),
        ("delete_unknown", env("media.delete", {"session": U})),
        ("query_wrong_type", env("media.query", {"session": ["x"]})),
        ("answer_unknown", env("media.answer", {"session": U, "a": LEG})),
    ],
    "signalingd": [
        ("hangup_wrong", env("call.hangup", {"call": 5})),
        ("hangup_unknown", env("call.hangup", {"call": U})),
        ("route_analyze_wrong", env("route.analyze", {"callee": ["1"]})),
        ("gateway_lock_wrong", env("gateway.lock", {"gateway": {},
                                                    "locked": "yes"})),
        ("route_analyze_huge", env("route.analyze", {"callee": "1" * BIG})),
        ("auth_to_wrong_daemon", env("auth.request", {"call": U})),
    ],
}


def start_only(stack, daemon):
    if daemon in ("billingd", "signalingd"):
        stack.provision(it.base_doc(stack.port(), stack.port()))
    stack.start_daemon(daemon)


@pytest.mark.parametrize("daemon", it.DAEMONS)
def test_malformed_bus_messages(request, daemon):
    # mediaproxyd needs no database
    stack = request.getfixturevalue(
        "conf_stack" if daemon == "mediaproxyd" else "stack")
    start_only(stack, daemon)
    url = stack.rep_url(daemon)
    proc = stack.daemon(daemon)
    problems = []
    for name, data in COMMON_CASES + TYPED_CASES[daemon]:
        rc, out, err = it.busprobe(url, raw=data, timeout_ms=5000)
        if rc != 1:
            problems.append(f"{name}: expected an error reply, busprobe "
                            f"exit {rc}, reply {out[:300]!r} {err[:300]!r}")
        else:
            body = json.loads(out).get("body", {})
            if body.get("code") not in ERROR_CODES or \
                    not isinstance(body.get("message"), str):
                problems.append(f"{name}: error body not per docs/bus.md: "
                                f"{out[:300]}")
        if not proc.alive():
            problems.append(f"{name}: {daemon} died (exit "
                            f"{proc.p.returncode})")
            break
        pong = it.ping(url, timeout_ms=3000)
        if not pong or pong.get("daemon") != daemon:
            problems.append(f"{name}: health.ping afterwards: {pong!r}")
    for name, data in HUGE_CASES:
        rc, out, err = it.busprobe(url, raw=data, timeout_ms=5000)
        if rc != 4 or out:
            problems.append(f"{name}: expected the connection closed, "
                            f"busprobe exit {rc}, reply {out[:300]!r}")
        if not proc.alive():
            problems.append(f"{name}: {daemon} died")
            break
    assert not problems, "\n".join(problems)
    # and the daemon still serves normally
    pong = it.ping(url)
    assert pong and pong["daemon"] == daemon and pong["health"] in (
        "ok", "degraded")


# ------------------------------------------------------------ provisioning

SNAPSHOT_TABLES = {
    "accounts": "name", "rate_tables": "name",
    "rate_entries": "rate_table_id, prefix", "mapping_gateways": "name",
    "routing_gateways": "name",
    "routing_gateway_prefixes": "routing_gateway_id, prefix",
    "system_parameters": "name", "balance_history": "id",
}


def snapshot(stack):
    return {t: stack.query(f"SELECT * FROM {t} ORDER BY {o}")
            for t, o in SNAPSHOT_TABLES.items()}


def _bad_docs(good):
    """(expected path in the message, document) pairs; each document also
    carries valid changes that must not be applied."""
    out = []

    def variant(path, mutate):
        doc = json.loads(json.dumps(good))
        # valid changes in the same file: must not be written either
        doc["accounts"].append({"name": "newacct", "type": "customer",
                                "balance": "5", "rate_table": "retail"})
        doc["system_parameters"]["SS_GATEWAY_SWITCH_LIMIT"] = "3"
        doc["routing_gateways"][0]["priority"] = 7
        mutate(doc)
        out.append((path, doc))

    variant("accounts[0].balance",
            lambda d: d["accounts"][0].__setitem__("balance", 100))
    variant("routing_gateways[1].port",
            lambda d: d["routing_gateways"][1].__setitem__("port", 70000))
    variant("mapping_gateways[0].colour",
            lambda d: d["mapping_gateways"][0].__setitem__("colour", "blue"))
    variant("rate_tables[0].entries[0].first_rate",
            lambda d: d["rate_tables"][0]["entries"][0].__setitem__(
                "first_rate", "abc"))
    variant("mapping_gateways[0].auth_mode",
            lambda d: d["mapping_gateways"][0].__setitem__("auth_mode",
                                                           "telepathy"))
    return out


def test_invalid_provisioning_changes_nothing(stack):
    good = it.base_doc(stack.port(), stack.port())
    stack.provision(good)
    before = snapshot(stack)
    assert before["accounts"], "the valid document created nothing"
    for path, doc in _bad_docs(good):
        r = stack.provision(doc, check=False)
        text = r.stdout + r.stderr
        assert r.returncode != 0, f"{path}: accepted:\n{text}"
        assert path in text, f"error does not name {path}:\n{text}"
        assert snapshot(stack) == before, f"{path}: database changed"
    # re-running the valid file is still accepted and changes nothing
    r = stack.provision(good)
    assert snapshot(stack) == before, "re-provisioning changed data"


# ------------------------------------------------------------ config files

@pytest.mark.parametrize("daemon", it.DAEMONS)
def test_config_unknown_key(conf_stack, daemon):
    stack = conf_stack
    exe = str(it.binary(daemon))
    good = stack.write_conf(daemon, name=f"{daemon}-good.conf")
    r = subprocess.run([exe, "-t", "-f", str(good)], capture_output=True,
                       text=True, timeout=30, env=dict(it.SAN_ENV))
    assert r.returncode == 0, f"-t rejects a valid config:\n{r.stderr}"

    bad = stack.write_conf(daemon, extra_lines=["", "bogus_key 42"],
                           name=f"{daemon}-bad.conf")
    line = len(bad.read_text().splitlines())
    where = f"{bad}:{line}"
    r = subprocess.run([exe, "-t", "-f", str(bad)], capture_output=True,
                       text=True, timeout=30, env=dict(it.SAN_ENV))
    assert r.returncode != 0, f"{daemon} -t accepted an unknown key"
    assert where in r.stderr, f"stderr does not name {where}:\n{r.stderr}"

    # a real start fails the same way, and quickly
    r = subprocess.run([exe, "-F", "-f", str(bad)], capture_output=True,
                       text=True, timeout=30, env=dict(it.SAN_ENV))
    assert r.returncode != 0, f"{daemon} started with an unknown key"
    assert where in r.stderr, f"stderr does not name {where}:\n{r.stderr}"
    assert not it.SANITIZER_RE.search(r.stderr), r.stderr


@pytest.mark.parametrize("daemon", it.DAEMONS)
def test_config_out_of_range(conf_stack, daemon):
    stack = conf_stack
    key = {"signalingd": "auth_timeout_ms 0",
           "mediaproxyd": "port_min 5",
           "billingd": "log_level shouty"}[daemon]
    bad = stack.write_conf(daemon, name=f"{daemon}-range.conf")
    lines = bad.read_text().splitlines()
    k = key.split()[0]
    lines = [l for l in lines if not l.startswith(k + " ")] + [key]
    bad.write_text("\n".join(lines) + "\n")
    where = f"{bad}:{len(lines)}"
    r = subprocess.run([str(it.binary(daemon)), "-t", "-f", str(bad)],
                       capture_output=True, text=True, timeout=30,
                       env=dict(it.SAN_ENV))
    assert r.returncode != 0, f"{daemon} -t accepted {key!r}"
    assert where in r.stderr, f"stderr does not name {where}:\n{r.stderr}"


# every key that holds an address, a port or a bus URL (issue 12, "bad
# input"): each bad value refused by -t with file:line and the key named
BAD_ADDRESSES = {
    "signalingd": [("sip_listen", "127.0.0.1:124536"),
                   ("sip_listen", "pbx.example:5060"),
                   ("bus_events", "tcp://127.0.0.1:124536"),
                   ("bus_control", "tcp://127.0.0.1:99999"),
                   ("billing_url", "tcp://127.0.0.1:70000"),
                   ("media_nodes",
                    "tcp://127.0.0.1:7621,tcp://127.0.0.1:124536"),
                   ("metrics_listen", "127.0.0.1:124536")],
    "mediaproxyd": [("bus_listen", "tcp://127.0.0.1:124536"),
                    ("signaling_url", "tcp://127.0.0.1:65536"),
                    ("rtp_ip", "10.0.0.256"),
                    ("rtp_advertise_ip", "pbx.example"),
                    ("metrics_listen", "0.0.0.0")],
    "billingd": [("http_listen", "127.0.0.1:124536"),
                 ("http_listen", "127.0.0.1"),
                 ("bus_listen", "tcp://127.0.0.1:124536"),
                 ("signaling_url", "tcp://127.0.0.1:99999"),
                 ("metrics_listen", "metrics.example:9643")],
}


@pytest.mark.parametrize("daemon", it.DAEMONS)
def test_config_bad_addresses(conf_stack, daemon):
    stack = conf_stack
    for key, value in BAD_ADDRESSES[daemon]:
        bad = stack.write_conf(daemon, name=f"{daemon}-addr.conf")
        lines = [l for l in bad.read_text().splitlines()
                 if not l.startswith(key + " ")] + ["", f"{key} {value}"]
        bad.write_text("\n".join(lines) + "\n")
        where = f"{bad}:{len(lines)}: {key}"
        r = subprocess.run([str(it.binary(daemon)), "-t", "-f", str(bad)],
                           capture_output=True, text=True, timeout=30,
                           env=dict(it.SAN_ENV))
        assert r.returncode != 0, f"{daemon} -t accepted {key} {value}"
        assert where in r.stderr, \
            f"{key} {value}: stderr does not name {where}:\n{r.stderr}"
        assert not it.SANITIZER_RE.search(r.stderr), r.stderr
