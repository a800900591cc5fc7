"""Issue 7, done-when 3: tariffs by time (SPEC §6).

cust1 is sold by the package period rate "pkg": table "work" (0.01/s) in
working hours, "offwork" (0.02/s) outside them; its own table "retail"
(0.005/s) is the default.  The calendar is rewritten before each call
around the current time, so each case is decided by the wall clock of the
answer: inside working hours; after they ended; on a holiday; on a
non-working weekday; in a time zone where it is working time while in UTC
it is not; on either side of a boundary 10 s away; and with
SERVER_PERIOD_RATE_ENABLED or SERVER_WORK_CALENDAR_ENABLED off.  Each
asserts the CDR's rate_period and its fee to the micro-unit.
"""

import datetime as dt
import signal
import time
from zoneinfo import ZoneInfo

import tandem_it as it

PER_S = {"work": 10000, "offwork": 20000, "retail": 5000}
HOLD_MS = 1200


def _entry(per_s):
    return {"prefix": "1", "area_name": "US", "connect_fee": "0",
            "first_interval": 1, "first_rate": f"{per_s * 60 / 1e6:.4f}",
            "next_interval": 1, "next_rate": f"{per_s * 60 / 1e6:.4f}"}


def _doc(gw_port, cal, params=None):
    doc = it.base_doc(gw_port, 0, gw_b=False)
    doc["system_parameters"].update({"SS_MEDIAPROXYMODE": "0"})
    doc["system_parameters"].update(params or {})
    doc["rate_tables"] = [t for t in doc["rate_tables"]
                          if t["name"] == "wholesale"]
    for name, per_s in PER_S.items():
        doc["rate_tables"].append({"name": name,
                                   "entries": [_entry(per_s)]})
    doc["work_calendars"] = [dict(name="cal", **cal)]
    doc["package_period_rates"] = [{"name": "pkg", "calendar": "cal",
                                    "working_rate_table": "work",
                                    "non_working_rate_table": "offwork"}]
    doc["accounts"][0]["package_period_rate"] = "pkg"
    return doc


def _hhmmss(t):
    return t.strftime("%H:%M:%S")


def _tz_not_near_midnight(candidates, margin_s=1200):
    """A zone whose local time is not within margin_s of midnight."""
    now = dt.datetime.now(dt.timezone.utc)
    for tz in candidates:
        local = now.astimezone(ZoneInfo(tz))
        secs = local.hour * 3600 + local.minute * 60 + local.second
        if margin_s < secs < 86400 - margin_s:
            return tz, local
    raise AssertionError("no candidate zone away from midnight")


def _window(local, before_s, after_s):
    return {"work_start": _hhmmss(local - dt.timedelta(seconds=before_s)),
            "work_end": _hhmmss(local + dt.timedelta(seconds=after_s))}


def _call_and_check(stack, name, want_period, want_table, seen):
    uac = stack.uac(name, "uac_hold.xml", calls=1, duration_ms=HOLD_MS,
                    timeout_s=30)
    assert uac.finish(40) == 0, f"{name}: call failed"
    rows = it.wait_for(lambda: (lambda r: r if len(r) > seen else None)(
        it.cdr_rows(stack)), 20, f"the CDR of {name}")
    cdr = rows[-1]
    s = it.billable_seconds(cdr["hold_ms"])
    assert cdr["rate_period"] == want_period, (name, cdr["rate_period"])
    assert cdr["fee"] == s * PER_S[want_table], (name, cdr["hold_ms"],
                                                 cdr["fee"], want_table)
    return len(rows)


def test_period_rates_and_calendars(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    tz, local = _tz_not_near_midnight(["UTC", "Asia/Tokyo",
                                       "America/New_York"])
    all_days = list(range(1, 8))
    base = dict(time_zone=tz, working_days=all_days, holidays=[])
    stack.provision(_doc(gw.port, dict(base, **_window(local, 600, 600))))
    stack.start_all()
    seen = 0

    def case(cal, want_period, want_table, name, params=None):
        nonlocal seen
        stack.provision(_doc(gw.port, cal, params))
        if params is not None:
            stack.daemon("billingd").send_signal(signal.SIGHUP)
            time.sleep(1)
        seen = _call_and_check(stack, name, want_period, want_table, seen)

    now = lambda: dt.datetime.now(ZoneInfo(tz))    # noqa: E731
    today = now().date()
    # inside working hours, then after they ended
    case(dict(base, **_window(now(), 600, 600)), "working", "work", "in")
    case(dict(base, **_window(now(), 1200, -600)), "non_working",
         "offwork", "after")
    # a holiday, a non-working weekday: non-working all day
    case(dict(base, holidays=[today.isoformat()],
              **_window(now(), 600, 600)), "non_working", "offwork",
         "holiday")
    case(dict(base, working_days=[d for d in all_days
                                  if d != today.isoweekday()],
              **_window(now(), 600, 600)), "non_working", "offwork",
         "weekday_off")
    # the calendar's own zone: working time there, not in UTC
    tz2, local2 = _tz_not_near_midnight(["Asia/Kolkata", "Asia/Tokyo",
                                         "America/Los_Angeles"], 3 * 3600)
    utc = dt.datetime.now(dt.timezone.utc)
    assert abs((local2.replace(tzinfo=None) -
                utc.replace(tzinfo=None)).total_seconds()) > 3600
    case(dict(base, time_zone=tz2, **_window(local2, 600, 600)), "working",
         "work", "zone")
    # either side of a boundary a few seconds away
    end = now() + dt.timedelta(seconds=10)
    cal = dict(base, work_start=_hhmmss(end - dt.timedelta(seconds=1200)),
               work_end=_hhmmss(end))
    case(cal, "working", "work", "before_end")
    while now() < end + dt.timedelta(seconds=1):
        time.sleep(0.2)
    case(cal, "non_working", "offwork", "after_end")
    # switches off: no calendar (every moment working), no period rates
    case(dict(base, **_window(now(), 1200, -600)), "working", "work",
         "cal_off", {"SERVER_WORK_CALENDAR_ENABLED": "0"})
    case(dict(base, **_window(now(), 1200, -600)), "default", "retail",
         "period_off", {"SERVER_WORK_CALENDAR_ENABLED": "1",
                        "SERVER_PERIOD_RATE_ENABLED": "0"})
    gw.quit()
