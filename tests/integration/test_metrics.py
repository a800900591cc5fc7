"""Prometheus metrics (issue 12, item 6 and done-when 2): every daemon serves
/metrics on metrics_listen in a format promtool accepts; Debian's prometheus
server, started here, scrapes all three, and what it reads back through its
HTTP API matches what sipp holds: answered calls up, media sessions, and
after the calls the counters of attempts and final codes."""

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest

import tandem_it as it

DAEMONS = ("signalingd", "mediaproxyd", "billingd")
HELD = 4

pytestmark = pytest.mark.skipif(not shutil.which("prometheus"),
                                reason="prometheus is not installed")


def _get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def _prom_query(port, q):
    """Instant query through Prometheus' HTTP API: {labels: value}."""
    url = (f"http://127.0.0.1:{port}/api/v1/query?"
           + urllib.parse.urlencode({"query": q}))
    _, _, body = _get(url)
    js = json.loads(body)
    assert js["status"] == "success", js
    return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1])
            for r in js["data"]["result"]}


def _one(port, q):
    r = _prom_query(port, q)
    return next(iter(r.values())) if len(r) == 1 else None


def _sipp_current_calls(uac):
    """CurrentCall of sipp's last statistics line (-fd 1)."""
    lines = [x for x in uac.stat_file.read_text().splitlines() if x]
    if len(lines) < 2:
        return None
    head = lines[0].split(";")
    return int(lines[-1].split(";")[head.index("CurrentCall")])


def test_prometheus_scrapes_every_daemon(stack):
    gw = stack.uas("gwA", "uas_answer.xml")
    stack.provision(it.base_doc(gw.port, 0, gw_b=False))
    mport = {d: stack.port() for d in DAEMONS}
    for d in DAEMONS:
        stack.conf_extra[d]["metrics_listen"] = f"127.0.0.1:{mport[d]}"
    stack.start_all()

    # the exposition format, as Prometheus' own checker reads it
    for d in DAEMONS:
        url = f"http://127.0.0.1:{mport[d]}/metrics"
        status, headers, text = _get(url)
        assert status == 200, (d, status)
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        chk = subprocess.run(["promtool", "check", "metrics"], input=text,
                             capture_output=True, text=True, timeout=30)
        assert chk.returncode == 0 and not chk.stdout.strip() \
            and not chk.stderr.strip(), (d, chk.stdout, chk.stderr)
        # every daemon's own memory: its resident set
        rss = [float(ln.split()[1]) for ln in text.splitlines()
               if ln.startswith("process_resident_memory_bytes ")]
        assert len(rss) == 1 and rss[0] > 1 << 20, (d, rss)
        assert _get(f"http://127.0.0.1:{mport[d]}/x")[0] == 404
        assert _get(url, "POST")[0] == 405

    prom_port = stack.port()
    cfg = stack.dir / "prometheus.yml"
    cfg.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n" + "".join(
            f"  - job_name: {d}\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{mport[d]}']\n" for d in DAEMONS))
    prom = it.Proc("prometheus", [
        "prometheus", f"--config.file={cfg}",
        f"--storage.tsdb.path={stack.dir / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}"],
        stack.dir / "prometheus.log")
    stack.procs.append(prom)
    prom.start()

    def all_up():
        try:
            r = _prom_query(prom_port, "up")
        except (OSError, ValueError):
            return None
        return len(r) == len(DAEMONS) and all(v == 1 for v in r.values())

    it.wait_for(all_up, 30, "prometheus scraping the three daemons")

    uac = stack.uac("held", "uac_hold.xml", calls=HELD, limit=HELD,
                    rate=HELD * 5, duration_ms=12000, timeout_s=60,
                    extra=("-fd", "1"))

    def held():
        up = _one(prom_port, 'tandem_signaling_calls_active{state="answered"}')
        if up != HELD or _sipp_current_calls(uac) != HELD:
            return None
        return up

    it.wait_for(held, 10, f"{HELD} answered calls through Prometheus")
    # the media node holds one session per call
    it.wait_for(lambda: _one(prom_port, "tandem_media_sessions_active")
                == HELD, 5, "the media sessions through Prometheus")
    assert uac.finish(40) == 0

    def ended():
        return _one(prom_port,
                    'tandem_signaling_calls_ended_total{code="200"}') == HELD

    it.wait_for(ended, 10, "the ended calls' counter")
    assert _one(prom_port, 'tandem_signaling_calls_active{state="answered"}') \
        == 0
    assert _one(prom_port, 'tandem_signaling_gateway_answered_total'
                '{gateway="gwA"}') == HELD
    assert _one(prom_port, 'tandem_signaling_gateway_attempts_total'
                '{gateway="gwA"}') == HELD
    assert _one(prom_port, "tandem_signaling_calls_total") == HELD
    assert _one(prom_port, "tandem_signaling_billing_auth_seconds_count") \
        == HELD
    assert _one(prom_port, 'tandem_signaling_media_nodes{state="online"}') == 1

    # the Grafana dashboard: every query valid, every series it reads there
    dash = json.loads((it.REPO / "deploy/grafana/tandem-dashboard.json")
                      .read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 25
    for e in exprs:
        _prom_query(prom_port, e)
    for name in sorted({n for e in exprs
                        for n in re.findall(r"tandem_[a-z_]+", e)}):
        assert _prom_query(prom_port, f'count({{__name__="{name}"}})'), \
            f"the dashboard reads {name}, which no daemon serves"
    gw.quit()
