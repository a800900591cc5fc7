"""Issue 13, done-when 2: Kamailio in front of the phones, over TLS.

Debian's Kamailio 5.6, run in the foreground from a config written here,
is the registrar (usrloc in memory, registrar) and stateful proxy (tm, rr,
sl) for phones, with the tls module and this test's self-signed
certificate; it listens on TLS only, so everything it relays goes over
TLS.  A baresip phone (its own config dir, ausine as the source, no sound
card, auto-answer, SIP trace on) registers to it over TLS: the binding,
socket tls, is read back with `kamcmd ul.dump` over Kamailio's ctl socket.

Tandem has one routing gateway, Kamailio, with transport tls and the
phone's number as its prefix; signalingd has its TLS listener.  Two calls
from a sipp caller over UDP:

1. signalingd sends the INVITE to Kamailio over TLS, Kamailio looks the
   number up and relays it over TLS to baresip, record-routing; baresip
   answers; the caller hangs up, and the ACK and BYE take the same way
   through Kamailio's Record-Route.
2. The phone hangs up: its BYE goes to Kamailio, which relays it over TLS
   to the Contact of Tandem's INVITE, signalingd's TLS port.

Kamailio's xlog prints each request it receives and sends (onsend_route)
with its transport and Call-ID; baresip's trace shows what reached it.
Each CDR names the Kamailio gateway, answered, ended Normal by the side
that hung up.  baresip 1.0 does not check the server certificate against
sip_cafile (it registers with any certificate); Kamailio checks baresip's
against the test's CA when it connects to the phone.

Every wait polls a log, a ctl reply or the database with a deadline.
"""

import glob
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import tandem_it as it

PHONE = "15551237001"
KAM_MODULES = sorted(glob.glob("/usr/lib/*/kamailio/modules"))


def _require():
    """Skip, saying what is missing, unless Kamailio with its tls module
    and baresip with the modules the phone loads are installed."""
    if not shutil.which("kamailio") or not shutil.which("kamcmd") or \
            not KAM_MODULES:
        pytest.skip("kamailio is not installed (Debian kamailio, optional "
                    "in deploy/install-deps.sh)")
    if not Path(KAM_MODULES[0], "tls.so").exists():
        pytest.skip("Kamailio's tls module is not installed (Debian "
                    "kamailio-tls-modules, optional in "
                    "deploy/install-deps.sh)")
    mods = Path("/usr/lib/baresip/modules")
    if not shutil.which("baresip") or not all(
            (mods / m).exists() for m in ("g711.so", "ausine.so",
                                          "aubridge.so", "account.so")):
        pytest.skip("baresip is not installed (Debian baresip, optional "
                    "in deploy/install-deps.sh)")


def _certs(stack):
    """One self-signed certificate for 127.0.0.1 shared by all three
    parties: sofia's sip_tls_dir layout (agent.pem = certificate + key,
    cafile.pem), and the same files for Kamailio and baresip."""
    d = stack.dir / "kam-tls"
    d.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out",
                    str(d / "cert.pem")], check=True, capture_output=True)
    (d / "agent.pem").write_bytes((d / "cert.pem").read_bytes() +
                                  (d / "key.pem").read_bytes())
    shutil.copy(d / "cert.pem", d / "cafile.pem")
    return d


KAM_CFG = """#!KAMAILIO
# registrar and stateful proxy for phones, TLS only (written by
# tests/integration/test_kamailio_tls_phone.py)
debug=2
log_stderror=yes
children=1
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
enable_tls=yes
listen=tls:127.0.0.1:{port}
alias="127.0.0.1:{port}"

mpath="{mpath}"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
loadmodule "kex.so"

modparam("tls", "config", "{tls_cfg}")
modparam("ctl", "binrpc", "unix:{ctl}")
modparam("usrloc", "db_mode", 0)

request_route {{
	xlog("L_INFO", "kam-it: recv $rm $ru from $si:$sp over $pr "
		"call $ci\\n");
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (has_totag()) {{
		# ACK and BYE follow the Record-Route set
		if (loose_route()) {{
			t_relay();
			exit;
		}}
		if (is_method("ACK")) {{
			if (t_check_trans())
				t_relay();
			exit;
		}}
		sl_send_reply("404", "Not here");
		exit;
	}}
	if (is_method("CANCEL")) {{
		if (t_check_trans())
			t_relay();
		exit;
	}}
	t_check_trans();
	if (is_method("REGISTER")) {{
		if (!save("location"))
			sl_reply_error();
		exit;
	}}
	if (!is_method("INVITE")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	if (!lookup("location")) {{
		sl_send_reply("404", "Not Found");
		exit;
	}}
	record_route();
	if (!t_relay())
		sl_reply_error();
	exit;
}}

# every request Kamailio sends, with the transport it goes over
onsend_route {{
	xlog("L_INFO", "kam-it: send $rm $ru to $sndto(ip):$sndto(port) "
		"over $sndto(sproto) call $ci\\n");
}}
"""

# phones present no certificate; Kamailio checks the phone's against
# the test's CA when it connects to one
TLS_CFG = """[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = {d}/key.pem
certificate = {d}/cert.pem

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
ca_list = {d}/cafile.pem
"""


class Kamailio(it.Proc):
    """Kamailio in the foreground (-DD -E: logs to stderr), its config,
    TLS config and ctl socket in the test's directory."""

    def __init__(self, stack, certs):
        self.port = stack.port()
        self.ctl = stack.dir / "kamailio-ctl.sock"
        tls_cfg = stack.dir / "kamailio-tls.cfg"
        tls_cfg.write_text(TLS_CFG.format(d=certs))
        cfg = stack.dir / "kamailio.cfg"
        cfg.write_text(KAM_CFG.format(port=self.port, mpath=KAM_MODULES[0],
                                      tls_cfg=tls_cfg, ctl=self.ctl))
        super().__init__("kamailio", ["kamailio", "-f", cfg, "-DD", "-E",
                                      "-m", "32", "-M", "8", "-Y",
                                      stack.dir],
                         stack.dir / "kamailio.log", cwd=stack.dir)
        stack.procs.append(self)

    def rpc(self, *cmd):
        r = subprocess.run(["kamcmd", "-s", f"unix:{self.ctl}", *cmd],
                           capture_output=True, text=True, timeout=10)
        return r.stdout if r.returncode == 0 else None

    def start(self, timeout=20):
        super().start()

        def up():
            if not self.alive():
                raise it.ItError(f"kamailio exited:\n{self.log()[-4000:]}")
            return self.ctl.exists() and self.rpc("core.uptime")
        it.wait_for(up, timeout, "kamailio's ctl socket to answer")
        return self

    EVENT_RE = re.compile(r"kam-it: (recv|send) (\S+) (\S+) (?:from|to) "
                          r"(\S+) over (\w+) call (\S+)")

    def events(self, call_id=None):
        """Requests Kamailio received and sent (xlog in request_route and
        onsend_route), in order: [{dir, method, ruri, peer, proto}], peer
        the source of a received request, the destination of a sent one;
        only those of call_id when given."""
        return [{"dir": m[0], "method": m[1], "ruri": m[2], "peer": m[3],
                 "proto": m[4].lower()}
                for m in self.EVENT_RE.findall(self.log())
                if call_id is None or m[5] == call_id]

    def report(self):
        return f"--- kamailio ({self.log_path})\n{self.log()[-8000:]}"


class TlsPhone(it.Proc):
    """baresip registering to Kamailio over TLS: auto-answer, PCMA only,
    ausine as the source, aubridge as the player, its own config dir (and
    HOME); -s traces every SIP message with its transport.  baresip's TLS
    listener is its sip_listen port + 1."""

    def __init__(self, stack, certs, proxy_port, number):
        home = stack.dir / "phone"
        home.mkdir()
        self.sip_port = stack.port_block(2)
        self.tls_port = self.sip_port + 1
        self.proxy_port = proxy_port
        self.number = number
        rtp = stack.port_block(10, align=2)
        (home / "config").write_text(f"""poll_method epoll
net_interface 127.0.0.1
sip_listen 127.0.0.1:{self.sip_port}
sip_trans_def tls
sip_certificate {certs}/agent.pem
sip_cafile {certs}/cafile.pem
audio_player aubridge,nil
audio_source ausine,1000
audio_alert aubridge,nil
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
auplay_channels 2
audio_level no
rtp_ports {rtp}-{rtp + 9}
rtcp_mux no
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_app account.so
module_app menu.so
""")
        (home / "accounts").write_text(
            f"<sip:{number}@127.0.0.1:{proxy_port};transport=tls>;"
            f"regint=600;audio_codecs=PCMA;answermode=auto\n")
        (home / "contacts").write_text("")
        super().__init__("phone", ["baresip", "-f", home, "-s"],
                         stack.dir / "phone.log", env={"HOME": str(home)},
                         cwd=home)
        stack.procs.append(self)

    TRACE_RE = re.compile(r"^TLS 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+)"
                          r"\r?\n(.*?)(?=\x1b\[|\Z)", re.M | re.S)

    def received(self, call_id):
        """SIP messages of call_id the phone received (the -s trace: a
        "TLS src -> dst" line, then the message): those to its TLS
        listener, or from Kamailio's port on the connection it registered
        over."""
        out = []
        for src, dst, msg in self.TRACE_RE.findall(self.log()):
            if int(dst) == self.tls_port or int(src) == self.proxy_port:
                if re.search(rf"^Call-ID:\s*{re.escape(call_id)}\s*$",
                             msg, re.M | re.I):
                    out.append(msg)
        return out

    def established(self):
        """Callers of the calls the phone established, in order."""
        return re.findall(rf"{self.number}@127\.0\.0\.1: Call established: "
                          r"sip:(\d+)@", self.log())

    def ended(self):
        return re.findall(r"Call with sip:(\d+)@\S+ (terminated)",
                          self.log())

    def report(self):
        return f"--- baresip phone ({self.log_path})\n{self.log()[-8000:]}"


def _doc(kam_port):
    doc = it.base_doc(0, 0, gw_b=False)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    gw = doc["routing_gateways"][0]
    gw.update({"name": "kamailio", "port": kam_port, "transport": "tls",
               "prefixes": [PHONE]})
    return doc


def test_phone_behind_kamailio_over_tls(stack):
    _require()
    certs = _certs(stack)
    kam = Kamailio(stack, certs)
    phone = TlsPhone(stack, certs, kam.port, PHONE)
    try:
        _register(kam.start(), phone.start())
        _calls(stack, certs, kam, phone)
    except BaseException:
        print(kam.report())
        print(phone.report())
        raise
    kam.stop(signal.SIGTERM, timeout=10)


def _register(kam, phone):
    def registered():
        if not phone.alive():
            raise it.ItError(f"baresip exited:\n{phone.log()[-3000:]}")
        dump = kam.rpc("ul.dump") or ""
        return f"AoR: {PHONE}" in dump and dump
    dump = it.wait_for(registered, 20, "the phone's binding in Kamailio")
    assert re.search(r"Socket: tls:127\.0\.0\.1:%d\b" % kam.port, dump), dump
    assert re.search(rf"Address: sip:{PHONE}\S*@127\.0\.0\.1:"
                     rf"{phone.tls_port};transport=tls", dump), dump
    reg = [e for e in kam.events() if e["method"] == "REGISTER"]
    assert len(reg) == 1 and reg[0]["proto"] == "tls", reg
    assert re.search(rf"{PHONE}@127\.0\.0\.1: \{{0/TLS/v4\}} 200 OK",
                     phone.log()), phone.log()[-3000:]


def _calls(stack, certs, kam, phone):
    tls_port = stack.port()
    stack.conf_extra["signalingd"].update(
        {"sip_tls_listen": f"127.0.0.1:{tls_port}", "sip_tls_dir": str(certs)})
    stack.provision(_doc(kam.port))
    stack.start_daemon("billingd")
    stack.start_daemon("signalingd")
    kam_tls = f"127.0.0.1:{kam.port};transport=tls"

    # 1: the caller hangs up
    uac = stack.uac("caller1", "uac_hold.xml", callee=PHONE, calls=1,
                    duration_ms=1000, timeout_s=30)
    assert uac.finish(40) == 0, uac.report()
    cdr1 = it.wait_for(lambda: it.cdr_rows(stack), 20, "the first CDR")[0]
    b1 = cdr1["call_id_b"]
    ended = it.wait_for(lambda: phone.ended(), 10,
                        "the first call to end at the phone")
    assert ended == [("5550100", "terminated")], phone.log()[-3000:]
    assert phone.established() == ["5550100"], phone.log()[-3000:]
    # Tandem -> Kamailio: INVITE, ACK and BYE over TLS (the ACK and BYE by
    # Kamailio's Record-Route); Kamailio -> phone: the same, over TLS
    got = kam.events(b1)
    assert [(e["dir"], e["method"], e["proto"]) for e in got] == [
        ("recv", "INVITE", "tls"), ("send", "INVITE", "tls"),
        ("recv", "ACK", "tls"), ("send", "ACK", "tls"),
        ("recv", "BYE", "tls"), ("send", "BYE", "tls")], got
    assert got[0]["ruri"] == f"sip:{PHONE}@{kam_tls}", got
    for e in got[1::2]:  # relayed to the phone's TLS listener
        assert e["peer"] == f"127.0.0.1:{phone.tls_port}", got
    assert [m.split(" ", 1)[0] for m in phone.received(b1)] == [
        "INVITE", "ACK", "BYE"], phone.log()[-3000:]
    assert phone.received(b1)[0].startswith(f"INVITE sip:{PHONE}-")

    # 2: the phone hangs up (SIGTERM: baresip sends BYE, unregisters and
    # exits): Kamailio relays the BYE over TLS to signalingd's TLS port,
    # the Contact of Tandem's INVITE
    uac = stack.uac("caller2", "uac_wait_bye.xml", callee=PHONE, calls=1,
                    timeout_s=30)
    it.wait_for(lambda: len(phone.established()) == 2, 20,
                "the second call to be established at the phone")
    phone.stop(signal.SIGTERM, timeout=10)
    assert uac.finish(20) == 0, uac.report()
    rows = it.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        it.cdr_rows(stack)), 20, "the second CDR")
    cdr2 = rows[1]
    got = kam.events(cdr2["call_id_b"])
    assert [(e["dir"], e["method"], e["proto"]) for e in got] == [
        ("recv", "INVITE", "tls"), ("send", "INVITE", "tls"),
        ("recv", "ACK", "tls"), ("send", "ACK", "tls"),
        ("recv", "BYE", "tls"), ("send", "BYE", "tls")], got
    assert got[4]["ruri"] == f"sip:127.0.0.1:{tls_port};transport=tls", got
    assert got[5]["peer"] == f"127.0.0.1:{tls_port}", got

    for cdr, side in ((cdr1, "caller"), (cdr2, "callee")):
        assert cdr["routing_gateway"] == "kamailio", cdr
        assert cdr["callee"] == PHONE and cdr["dst_ip"] == "127.0.0.1", cdr
        assert cdr["answer_ms"] > 0 and cdr["end_reason"] == "Normal", cdr
        assert cdr["end_direction"] == side, cdr
    assert stack.daemon("signalingd").alive()
