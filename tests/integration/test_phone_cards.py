"""Issue 7, item 6 and done-when 5: phone cards (SPEC §2).

A mapping gateway in phone-card mode takes callees of the form
<access prefix><card number><PIN>#<destination> ('#' escaped as %23 in the
Request-URI).  `tandemctl card batch` issues cards, each with its own
prepaid account holding the face value (a top-up in the ledger).  The test
places real calls with sipp:

- the right PIN connects; the CDR carries the card, the card's account and
  the destination only (no PIN anywhere: CDR, logs); the card's balance
  moves by exactly the fee;
- a wrong PIN is refused 403 and counted; at SERVER_PHONE_CARD_PIN_ATTEMPTS
  the card locks and then even the right PIN gets 403 Card Locked;
- an expired card gets 403 Card Expired, an empty one 402 Card Empty, an
  unknown number 403 (like a wrong PIN), a callee without '#' 484;
- a card's balance is reserved and extended like an account's: the call
  is cut as BalanceExhausted at the second the card buys.
"""

import tandem_it as it

PREFIX = "88"
DEST = "15551230001"


def _doc(gw_port):
    doc = it.base_doc(gw_port, 0, gw_b=False, balance="100")
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0",
                                     "SERVER_PHONE_CARD_PIN_ATTEMPTS": "3"})
    doc["mapping_gateways"][0].update({"phone_card_mode": True,
                                       "phone_card_prefix": PREFIX})
    return doc


def _batch(stack, name, count, value, *opts):
    r = it.tandemctl(stack.conninfo, "card", "batch", name, str(count),
                     value, "retail", *opts)
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "number,pin", r.stdout
    return [tuple(l.split(",")) for l in lines[1:]]


def _refused(stack, name, callee, code, phrase):
    uac = stack.uac(name, "uac_expect_code.xml", callee=callee, code=code,
                    calls=1, timeout_s=20)
    rc = uac.finish(30)
    assert rc == 0, f"{name}: no {code} (sipp exit {rc})"
    finals = [l for l in uac.received() if l.startswith(f"SIP/2.0 {code}")]
    assert finals and phrase.lower() in finals[0].lower(), finals


def _card(stack, number):
    return stack.query("SELECT wrong_pins, locked, first_used_at"
                       " FROM phone_cards WHERE number = %s", (number,))[0]


def test_phone_card_calls(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port)
    stack.provision(doc)
    cards = _batch(stack, "b1", 3, "1.00", "--number-prefix", "77",
                   "--number-digits", "10", "--pin-digits", "4")
    empty = _batch(stack, "b0", 1, "0")
    assert len(cards) == 3 and all(len(n) == 10 and n.startswith("77")
                                   and len(p) == 4 for n, p in cards)
    (num_a, pin_a), (num_b, pin_b), (num_c, pin_c) = cards
    # the face value is a top-up in the ledger
    assert stack.balance(f"card-{num_a}") == 1000000
    assert stack.scalar("SELECT count(*) FROM payments p JOIN accounts a"
                        " ON a.id = p.account_id WHERE a.name = %s AND"
                        " p.kind = 'topup' AND p.amount = 1000000",
                        (f"card-{num_a}",)) == 1
    it.tandemctl(stack.conninfo, "card", "expire", num_c, "2020-01-01")
    stack.start_all()

    # right PIN: connects and the card pays
    uac = stack.uac("good", "uac_hold.xml",
                    callee=f"{PREFIX}{num_a}{pin_a}%23{DEST}", calls=1,
                    duration_ms=2000, timeout_s=30)
    assert uac.finish(40) == 0
    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")
    cdr = rows[0]
    assert cdr["card"] == num_a
    assert cdr["account"] == f"card-{num_a}"
    assert cdr["callee"] == DEST and cdr["callee_in"] == f"{PREFIX}#{DEST}"
    assert cdr["hold_ms"] > 1500
    fee = it.expected_fee(cdr["hold_ms"], it.rate_entry(doc))
    assert cdr["fee"] == fee > 0
    assert stack.balance(f"card-{num_a}") == 1000000 - fee
    assert stack.balance("cust1") == 100000000  # the gateway's account
    gw.quit()
    invites = gw.received_requests("INVITE")
    assert invites and f"sip:{DEST}@" in invites[0], invites
    assert _card(stack, num_a)["first_used_at"] is not None

    # wrong PINs: 403, counted, then the card locks
    wrong = "0000" if pin_b != "0000" else "1111"
    for i in range(1, 4):
        _refused(stack, f"wrong{i}", f"{PREFIX}{num_b}{wrong}%23{DEST}",
                 403, "Forbidden" if i < 3 else "Card Locked")
        assert _card(stack, num_b)["wrong_pins"] == i
    assert _card(stack, num_b)["locked"] is True
    _refused(stack, "locked", f"{PREFIX}{num_b}{pin_b}%23{DEST}", 403,
             "Card Locked")
    assert _card(stack, num_b)["wrong_pins"] == 3  # not counted further

    _refused(stack, "expired", f"{PREFIX}{num_c}{pin_c}%23{DEST}", 403,
             "Card Expired")
    _refused(stack, "empty", f"{PREFIX}{empty[0][0]}{empty[0][1]}%23{DEST}",
             402, "Card Empty")
    _refused(stack, "unknown", f"{PREFIX}1234567890123%23{DEST}", 403,
             "Forbidden")
    _refused(stack, "nohash", f"{PREFIX}{num_a}{pin_a}{DEST}", 484,
             "Address Incomplete")

    rows = it.wait_for(lambda: (lambda r: r if len(r) == 9 else None)(
        it.cdr_rows(stack)), 20, "nine CDRs")
    reasons = [r["end_reason"] for r in rows]
    assert reasons[1:] == ["CardPinWrong", "CardPinWrong", "CardLocked",
                           "CardLocked", "CardExpired", "CardEmpty",
                           "CardNotFound", "CardDialString"], reasons
    assert all(r["fee"] == 0 for r in rows[1:])
    # no PIN in any CDR or daemon log
    for n, p in cards + empty:
        for r in rows:
            assert n + p not in str(r)
        for name in ("signalingd", "billingd"):
            assert n + p not in stack.daemon(name).log()
    # the ledger still sums to every card's balance
    bad = stack.query(
        "SELECT a.name FROM accounts a LEFT JOIN balance_history h"
        " ON h.account_id = a.id WHERE a.name LIKE 'card-%%'"
        " GROUP BY a.name, a.balance"
        " HAVING a.balance <> coalesce(sum(h.delta), 0)")
    assert bad == [], bad
    listing = it.tandemctl(stack.conninfo, "card", "list", "b1").stdout
    assert f"{num_b}|card-{num_b}|1.0000|" in listing
    assert "|3|t|" in listing


def test_card_batch_bad_input(stack):
    stack.provision(_doc(5060))
    cases = [
        (["x", "0", "1", "retail"], "count:"),
        (["--", "x", "2", "-1", "retail"], "value:"),
        (["x", "2", "1.0000001", "retail"], "value:"),
        (["x", "2", "1", "nosuch"], "rate_table:"),
        (["x", "2", "1", "retail", "--agent", "nosuch"], "agent:"),
        (["x", "2", "1", "retail", "--agent", "cust1"], "agent:"),
        (["x", "2", "1", "retail", "--expires", "2001-01-01"], "expires:"),
        (["x", "2", "1", "retail", "--expires", "soon"], "expires:"),
        (["x", "2", "1", "retail", "--pin-digits", "3"], "pin_digits:"),
        (["x", "2", "1", "retail", "--number-digits", "40"],
         "number_digits:"),
        (["x", "2", "1", "retail", "--number-prefix", "12a"],
         "number_prefix:"),
    ]
    for args, field in cases:
        r = it.tandemctl(stack.conninfo, "card", "batch", *args, check=False)
        assert r.returncode == 1 and field in r.stderr, (args, r.stderr)
    assert stack.scalar("SELECT count(*) FROM phone_card_batches") == 0
    assert stack.scalar("SELECT count(*) FROM accounts"
                        " WHERE name LIKE 'card-%%'") == 0
    _batch(stack, "ok", 2, "5")
    r = it.tandemctl(stack.conninfo, "card", "batch", "ok", "1", "5",
                     "retail", check=False)
    assert r.returncode == 1 and "name:" in r.stderr
    # provisioning refuses a bad access prefix, naming the field
    doc = _doc(5060)
    doc["mapping_gateways"][0]["phone_card_prefix"] = "8#"
    r = stack.provision(doc, check=False)
    assert r.returncode != 0 and "phone_card_prefix" in r.stderr, r.stderr


def test_card_balance_is_reserved_and_runs_out(stack):
    """A card is reserved and extended like an account: 0.03 at 0.01/s
    buys 3 s, so a 10 s call is cut as BalanceExhausted at 3 s with fee
    0.03 and the card at exactly 0."""
    gw = stack.uas("gwA", "uas_answer.xml")
    doc = _doc(gw.port)
    doc["system_parameters"][
        "SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME"] = "2"
    doc["rate_tables"].append({"name": "cardrate", "entries": [
        {"prefix": "1", "area_name": "US", "connect_fee": "0",
         "first_interval": 1, "first_rate": "0.6", "next_interval": 1,
         "next_rate": "0.6"}]})
    stack.provision(doc)
    r = it.tandemctl(stack.conninfo, "card", "batch", "small", "1", "0.03",
                     "cardrate")
    num, pin = r.stdout.strip().splitlines()[1].split(",")
    stack.start_all()
    uac = stack.uac("call", "uac_hold.xml",
                    callee=f"{PREFIX}{num}{pin}%23{DEST}", calls=1,
                    duration_ms=10000, timeout_s=30)
    uac.finish(40)
    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 20, "the CDR")
    gw.quit()
    cdr = rows[0]
    assert cdr["card"] == num and cdr["end_reason"] == "BalanceExhausted", \
        (cdr["card"], cdr["end_reason"])
    assert cdr["fee"] == 30000, cdr["fee"]
    assert 2900 <= cdr["hold_ms"] <= 4000, cdr["hold_ms"]
    assert stack.balance(f"card-{num}") == 0
