"""peers - real SIP softphones and media analysis for the media tests.

Issue 3, done-when 2 and 3: linphonec (Debian linphone-cli) and baresip
driven headless on loopback, and what the tests need to judge what went
through mediaproxyd:

- Linphonec / Baresip: config directories under the test's directory, no
  sound card (linphonec "soundcard use files" with a WAV to play and one to
  record; baresip ausine as the source and aubridge as a player nobody
  listens to), auto-answer, one codec enabled.
- sipp scenario text for the media scenarios (play_pcap_audio sequences,
  SIP INFO bursts), and a pcap writer for streams sipp replays.
- Loopback capture analysis with tshark: `-z rtp,streams`, RTP fields,
  telephone-events, and the PCMA payload decoded and run through a
  Goertzel DTMF detector.
- mediaproxyd sessions found in its log and queried with media.query.

Every process started here is registered in stack.procs, so the stack
fixture stops it at teardown whatever the test did.
"""

import json
import math
import re
import signal
import struct
import subprocess
import time
import wave
from pathlib import Path

import tandem_it as it

SIPTESTER = Path("/usr/share/sip-tester")
DTMF_PCAP = {d: SIPTESTER / f"dtmf_2833_{n}.pcap" for d, n in
             [(str(i), str(i)) for i in range(10)]
             + [("*", "star"), ("#", "pound")]}
EVENT_CODE = {**{str(i): i for i in range(10)}, "*": 10, "#": 11,
              "A": 12, "B": 13, "C": 14, "D": 15}
CODE_DIGIT = {v: k for k, v in EVENT_CODE.items()}

# SDP media-line fragments: formats + rtpmap/fmtp lines (scenario @SDP@)
SDP = {
    "PCMA": "8\na=rtpmap:8 PCMA/8000",
    "PCMA+te": "8 101\na=rtpmap:8 PCMA/8000\n"
               "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16",
    "G729": "18\na=rtpmap:18 G729/8000\na=fmtp:18 annexb=no",
    "G729+te": "18 101\na=rtpmap:18 G729/8000\na=fmtp:18 annexb=no\n"
               "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16",
    "G723": "4\na=rtpmap:4 G723/8000\na=fmtp:4 annexa=no",
    "opus+te48": "96 97\na=rtpmap:96 opus/48000/2\n"
                 "a=fmtp:96 useinbandfec=1\n"
                 "a=rtpmap:97 telephone-event/48000\na=fmtp:97 0-16",
}


def sdp_lines(key):
    """@SDP@ text for a scenario: continuation lines indented like the rest
    (sipp strips the leading blanks of CDATA lines)."""
    return SDP[key].replace("\n", "\n      ")


# ---------------------------------------------------------------- audio

def write_tone_wav(path, freq=1000.0, seconds=20.0, rate=8000, amp=8000):
    """A mono 16-bit WAV with a sine tone (what a softphone plays)."""
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n):
        v = int(amp * math.sin(2 * math.pi * freq * i / rate))
        frames += struct.pack("<h", v)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return Path(path)


def wav_stats(path):
    """(seconds, rms) of a 16-bit mono/stereo WAV; (0, 0) when missing."""
    try:
        with wave.open(str(path), "rb") as w:
            n = w.getnframes()
            ch = w.getnchannels()
            rate = w.getframerate()
            data = w.readframes(n)
    except (FileNotFoundError, EOFError, wave.Error):
        return 0.0, 0.0
    samples = struct.unpack(f"<{len(data) // 2}h", data[:len(data) // 2 * 2])
    if not samples:
        return 0.0, 0.0
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    return n / rate / 1.0, rms if ch else 0.0


def alaw_to_lin(b):
    """G.711 A-law byte -> 16-bit linear sample."""
    b ^= 0x55
    exp = (b >> 4) & 7
    mant = b & 0x0F
    if exp == 0:
        v = (mant << 4) + 8
    else:
        v = ((mant << 4) + 0x108) << (exp - 1)
    return v if b & 0x80 else -v


ALAW = [alaw_to_lin(i) for i in range(256)]
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def lin_to_alaw(pcm):
    """16-bit linear sample -> G.711 A-law byte."""
    pcm = max(-32768, min(32767, int(pcm)))
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    pcm >>= 3
    seg = 0
    while seg < 8 and pcm > _ALAW_SEG_END[seg]:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1 if seg < 2 else pcm >> seg) & 0x0F
    return aval ^ mask


def dtmf_samples(digit, ms, rate=8000, amp=6000):
    """A DTMF tone pair (each tone at amp, about -13 dBm0)."""
    row = next(i for i, r in enumerate(DTMF_KEYS) if digit in r)
    col = DTMF_KEYS[row].index(digit)
    lo, hi = DTMF_LOW[row], DTMF_HIGH[col]
    return [amp * (math.sin(2 * math.pi * lo * i / rate)
                   + math.sin(2 * math.pi * hi * i / rate))
            for i in range(int(rate * ms / 1000))]

DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")


def _goertzel(block, freq, rate):
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in block:
        s0 = x + k * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - k * s1 * s2


def goertzel_digits(samples, rate=8000, block=205, min_blocks=2):
    """DTMF digits in linear PCM samples (a Goertzel detector).

    A block is a digit when its strongest low and high group tones carry
    most of the block's energy, each group's second tone is weak and the
    level is above -40 dBm0-ish; a digit is a run of at least min_blocks
    blocks of it; a different or empty block ends the run.  Two runs of
    the same digit less than 40 ms apart are one digit: 40 ms is DTMF's
    shortest pause between digits, and a shorter break is a dropout (a
    late packet concealed), not a second key press.
    Returns [(digit, start_s, length_s)].
    """
    out = []
    run_d, run_n, run_start = None, 0, 0

    def close():
        if run_d is not None and run_n >= min_blocks:
            out.append((run_d, run_start * block / rate,
                        run_n * block / rate))

    for bi in range(len(samples) // block):
        blk = samples[bi * block:(bi + 1) * block]
        energy = sum(x * x for x in blk)
        d = None
        if energy / block > 100.0 ** 2:  # rms > 100 (about -50 dBm0)
            norm = energy * block / 2
            lo = [_goertzel(blk, f, rate) / norm for f in DTMF_LOW]
            hi = [_goertzel(blk, f, rate) / norm for f in DTMF_HIGH]
            li = max(range(4), key=lambda i: lo[i])
            hj = max(range(4), key=lambda j: hi[j])
            lo2 = max(v for i, v in enumerate(lo) if i != li)
            hi2 = max(v for j, v in enumerate(hi) if j != hj)
            if (lo[li] > 0.15 and hi[hj] > 0.15
                    and lo[li] + hi[hj] > 0.6
                    and lo2 < lo[li] / 6 and hi2 < hi[hj] / 6):
                d = DTMF_KEYS[li][hj]
        if d == run_d and d is not None:
            run_n += 1
            continue
        close()
        run_d, run_n, run_start = d, (1 if d else 0), bi
    close()
    merged = []
    for d, start, length in out:
        if merged and merged[-1][0] == d and \
                start - (merged[-1][1] + merged[-1][2]) < 0.040:
            merged[-1] = (d, merged[-1][1], start + length - merged[-1][1])
        else:
            merged.append((d, start, length))
    return merged


def tone_check(samples, rate=8000, lo=500, hi=1500, step=5):
    """(dominant frequency in [lo, hi] by a Goertzel scan, share of the
    window's energy at that frequency (1.0 = a pure tone), rms) of one
    second taken from the middle of samples."""
    n = min(len(samples), rate)
    if n < rate // 4:
        return 0, 0.0, 0.0
    mid = len(samples) // 2
    win = samples[max(0, mid - n // 2):max(0, mid - n // 2) + n]
    energy = sum(x * x for x in win)
    if not energy:
        return 0, 0.0, 0.0
    best = max(range(lo, hi + 1, step),
               key=lambda f: _goertzel(win, f, rate))
    share = _goertzel(win, best, rate) / (energy * len(win) / 2)
    return best, share, math.sqrt(energy / len(win))


# ---------------------------------------------------------------- pcap

def write_rtp_pcap(path, packets):
    """A pcap (Ethernet/IPv4/UDP) of RTP payloads for sipp's
    play_pcap_audio; packets: [(time_s, rtp_bytes)].  sipp replays the RTP
    as is with the original timing, to the answered media address."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, rtp in packets:
            udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0,
                             64, 17, 0, bytes([10, 0, 0, 1]),
                             bytes([10, 0, 0, 2])) + udp
            eth = b"\x00\x01\x02\x03\x04\x05" * 2 + b"\x08\x00" + ip
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(eth), len(eth)))
            f.write(eth)
    return Path(path)


def rtp_header(pt, seq, ts, ssrc, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt,
                       seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)


def pcma_with_events_pcap(path, digits, lead_s=1.0, gap_s=0.8, tail_s=1.0,
                          ssrc=0x5EED0001, te_pt=101):
    """PCMA silence every 20 ms for the whole stream, with RFC 4733 events
    for `digits` (100 ms each: marker start, updates every 20 ms, three end
    packets), one SSRC and one sequence: what a phone sending RFC 2833
    digits sends.  The audio keeps flowing during the events, as a real
    phone's does."""
    pkts = []
    seq = 1000
    ts = 8000
    t = 0.0
    silence = b"\xd5" * 160
    plan = []
    at = lead_s
    for d in digits:
        plan.append((at, d))
        at += 0.1 + gap_s
    total = at + tail_s
    ev_i = 0
    while t < total:
        pkts.append((t, rtp_header(8, seq, ts, ssrc) + silence))
        seq += 1
        if ev_i < len(plan) and t >= plan[ev_i][0]:
            d = plan[ev_i][1]
            ev_ts = ts
            code = EVENT_CODE[d]
            for k in range(5):  # 0..80 ms of event time, at 20 ms steps
                dur = 160 * k
                pkts.append((t + 0.02 * k + 0.001,
                             rtp_header(te_pt, seq, ev_ts, ssrc, k == 0)
                             + struct.pack("!BBH", code, 10, dur)))
                seq += 1
            for _ in range(3):
                pkts.append((t + 0.1 + 0.001,
                             rtp_header(te_pt, seq, ev_ts, ssrc)
                             + struct.pack("!BBH", code, 0x80 | 10, 800)))
                seq += 1
            ev_i += 1
        ts += 160
        t += 0.02
    pkts.sort(key=lambda p: p[0])
    # sequence numbers in sending order
    out = []
    for i, (tt, p) in enumerate(pkts):
        out.append((tt, p[:2] + struct.pack("!H", (1000 + i) & 0xFFFF)
                    + p[4:]))
    return write_rtp_pcap(path, out)


def pcma_tones_pcap(path, digits, lead_s=1.0, tone_ms=100, gap_s=0.6,
                    tail_s=1.0, ssrc=0x5EED0002):
    """PCMA every 20 ms (one SSRC): silence with the DTMF tones of
    `digits` in the audio (inband), tone_ms each, gap_s apart."""
    rate = 8000
    pcm = [0.0] * int(lead_s * rate)
    for d in digits:
        pcm += dtmf_samples(d, tone_ms) + [0.0] * int(gap_s * rate)
    pcm += [0.0] * int(tail_s * rate)
    pcm += [0.0] * (-len(pcm) % 160)
    pkts = []
    for i in range(len(pcm) // 160):
        pl = bytes(lin_to_alaw(x) for x in pcm[i * 160:(i + 1) * 160])
        pkts.append((i * 0.02, rtp_header(8, 2000 + i, 8000 + 160 * i,
                                          ssrc, i == 0) + pl))
    return write_rtp_pcap(path, pkts)


# ---------------------------------------------------------------- sipp text

def plays(items):
    """@PLAYS@ for uac_media_play.xml: [(pcap, pause_ms_after)]."""
    out = []
    for pcap, pause in items:
        out.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/>'
                   f'</action></nop>')
        if pause:
            out.append(f'  <pause milliseconds="{int(pause)}"/>')
    return "\n".join(out)


def info_requests(digits, gap_ms=700, duration=160, first_cseq=10):
    """@INFOS@ for uas_media_info.xml: one INFO per digit."""
    out = []
    for i, d in enumerate(digits):
        out.append(f"""  <send retrans="500">
    <![CDATA[
      INFO [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local_to];tag=[pid]SIPpTag10[call_number]
      To: [$remote_from]
      Call-ID: [call_id]
      CSeq: {first_cseq + i} INFO
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={d}
      Duration={duration}
    ]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="{int(gap_ms)}"/>""")
    return "\n".join(out)


def info_digits(sipp):
    """Digits of the INFO requests a sipp received, in order
    [(content_type, signal)]."""
    out = []
    blocks = re.split(r"^-{10,}.*$", sipp.messages(), flags=re.M)
    for b in blocks:
        if not re.search(r"message received", b):
            continue
        if not re.search(r"^\s*INFO ", b, re.M):
            continue
        ct = re.search(r"^\s*(?:Content-Type|c):\s*(\S+)", b, re.M | re.I)
        sig = re.search(r"^\s*Signal\s*=\s*(\S+)", b, re.M | re.I)
        out.append((ct.group(1).lower() if ct else "",
                    sig.group(1) if sig else None))
    return out


def answered_sdp(sipp):
    """m= and a=rtpmap lines of the SDP in the 200 OK a sipp UAC got."""
    for b in re.split(r"^-{10,}.*$", sipp.messages(), flags=re.M):
        if "message received" in b and re.search(r"SIP/2\.0 200", b) \
                and "m=audio" in b:
            return [l.strip() for l in b.splitlines()
                    if re.match(r"\s*(m=|a=rtpmap|a=fmtp)", l)]
    return []


def answered_media_port(sipp):
    """Media port of the SDP in the 200 OK a sipp UAC received."""
    for b in re.split(r"^-{10,}.*$", sipp.messages(), flags=re.M):
        if "message received" in b and re.search(r"SIP/2\.0 200", b) \
                and "m=audio" in b:
            m = re.search(r"^\s*m=audio (\d+)", b, re.M)
            if m:
                return int(m.group(1))
    return None


# ---------------------------------------------------------------- softphones

class _Phone(it.Proc):
    """A softphone process with a config dir of its own under the test's
    directory (HOME points there too: nothing is read from or written to
    the real home)."""

    def __init__(self, stack, name, argv, stdin_pipe=False):
        self.stack = stack
        self.home = stack.dir / name
        self.home.mkdir(exist_ok=True)
        # linphonec only starts its SIP transports once its database opens
        (self.home / ".local" / "share" / "linphone").mkdir(parents=True,
                                                            exist_ok=True)
        self.stdin_pipe = stdin_pipe
        super().__init__(name, argv, stack.dir / f"{name}.log",
                         env={"HOME": str(self.home)}, cwd=self.home)
        stack.procs.append(self)

    def start(self):
        log = open(self.log_path, "ab")
        log.write(("+ " + " ".join(self.argv) + "\n").encode())
        log.flush()
        self.p = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if self.stdin_pipe else
            subprocess.DEVNULL, stdout=log, stderr=log, env=self.env,
            cwd=self.cwd, start_new_session=True)
        log.close()
        return self

    def command(self, line):
        if self.p and self.p.stdin and self.alive():
            self.p.stdin.write((line + "\n").encode())
            self.p.stdin.flush()

    def report(self):
        return f"--- {self.name} ({self.log_path})\n{self.log()[-8000:]}"


class Linphonec(_Phone):
    """linphonec as a vendor gateway: listens on its own SIP port,
    auto-answers, one codec enabled, plays a WAV (files mode, no sound
    card) and records what it receives to another WAV."""

    def __init__(self, stack, name, codec="G729", rate=8000, play=None):
        self.sip_port = stack.port()
        self.rtp_port = stack.port_block(2, align=2)
        self.codec = codec
        self.codec_rate = rate
        self.play_wav = Path(play) if play else None
        self.record_wav = stack.dir / name / "received.wav"
        home = stack.dir / name
        home.mkdir(exist_ok=True)
        rc = home / "linphonerc"
        rc.write_text(f"""[sip]
sip_port={self.sip_port}
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
default_proxy=-1
guess_hostname=0
contact=sip:vendor@127.0.0.1:{self.sip_port}
register_only_when_network_is_up=0
ipv6=0
[rtp]
audio_rtp_port={self.rtp_port}
audio_jitt_comp=60
nortp_timeout=60
rtcp_enabled=1
[net]
mtu=1300
[sound]
echocancellation=0
agc=0
[video]
enabled=0
[misc]
max_calls=2
history_max_size=0
""")
        argv = ["linphonec", "-c", rc, "-a", "-d", "4",
                "-l", home / "linphonec-debug.log"]
        super().__init__(stack, name, argv, stdin_pipe=True)

    @property
    def addr(self):
        return f"127.0.0.1:{self.sip_port}"

    def start(self, timeout=20):
        super().start()
        self.command("codec list")
        rows = it.wait_for(self._codecs, timeout,
                           f"linphonec {self.name} codec list")
        want = None
        for idx, mime, rate in rows:
            if mime.lower() == self.codec.lower() and rate == self.codec_rate:
                want = idx
        if want is None:
            return None
        for idx, _, _ in rows:
            if idx != want:
                self.command(f"codec disable {idx}")
        self.command(f"codec enable {want}")
        self.command("soundcard use files")
        if self.play_wav:
            self.command(f"play {self.play_wav}")
        self.command(f"record {self.record_wav}")
        self.command("autoanswer enable")
        self.command("codec list")
        it.wait_for(lambda: self._enabled() == [self.codec.lower()], timeout,
                    f"linphonec {self.name}: only {self.codec} enabled")
        it.wait_for(lambda: self._bound(), timeout,
                    f"linphonec {self.name} to listen on UDP {self.sip_port}")
        return self

    def _bound(self):
        if not self.alive():
            raise it.ItError(f"linphonec exited:\n{self.log()[-3000:]}")
        s = it.socket.socket(it.socket.AF_INET, it.socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", self.sip_port))
        except OSError:
            return True
        finally:
            s.close()
        return False

    def _codec_lines(self):
        return re.findall(r"^\s*(?:linphonec> )?\s*(\d+): (\S+) \((\d+)\) "
                          r"(enabled|disabled)", self.log(), re.M)

    def _codecs(self):
        rows = self._codec_lines()
        # the first complete listing
        out = []
        for idx, mime, rate, _ in rows:
            i = int(idx)
            if out and i == 0:
                break
            out.append((i, mime, int(rate)))
        return out if len(out) >= 5 else None

    def _enabled(self):
        rows = self._codec_lines()
        # the last listing: from its last "0:" row
        last0 = max((i for i, r in enumerate(rows) if r[0] == "0"),
                    default=None)
        if last0 is None or last0 == 0:
            return None
        return [r[1].lower() for r in rows[last0:] if r[3] == "enabled"]

    def debug_log(self):
        try:
            return (self.home / "linphonec-debug.log").read_text(
                errors="replace")
        except FileNotFoundError:
            return ""

    def has_codec(self):
        rows = self._codecs() or []
        return any(m.lower() == self.codec.lower() and r == self.codec_rate
                   for _, m, r in rows)

    def quit(self):
        self.command("terminate all")
        time.sleep(0.3)
        self.command("quit")
        try:
            self.wait(10)
        except TimeoutError:
            self.stop(signal.SIGTERM, timeout=5)


class Baresip(_Phone):
    """baresip as a caller: one codec, the ausine source (a tone), the
    aubridge player (received audio goes nowhere), dials `uri` once it is
    up; SIGTERM hangs up (BYE) and exits."""

    def __init__(self, stack, name, uri, codec="opus/48000/1",
                 tone_hz=1000, user="5550100"):
        self.sip_port = stack.port()
        self.rtp_port = stack.port_block(10, align=2)
        home = stack.dir / name
        home.mkdir(exist_ok=True)
        (home / "config").write_text(f"""poll_method epoll
net_interface 127.0.0.1
sip_listen 127.0.0.1:{self.sip_port}
sip_trans_def udp
audio_player aubridge,nil
audio_source ausine,{tone_hz}
audio_alert aubridge,nil
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
auplay_channels 2
audio_level no
rtp_ports {self.rtp_port}-{self.rtp_port + 9}
rtcp_mux no
jitter_buffer_delay 1-10
module_path /usr/lib/baresip/modules
module opus.so
module g711.so
module ausine.so
module aubridge.so
module_app account.so
module_app menu.so
opus_stereo no
opus_sprop_stereo no
""")
        (home / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{self.sip_port}>;regint=0;"
            f"audio_codecs={codec};answermode=manual\n")
        (home / "contacts").write_text("")
        argv = ["baresip", "-f", home, "-e", f"/dial {uri}"]
        super().__init__(stack, name, argv)

    def hangup(self):
        """SIGTERM: baresip sends BYE and exits."""
        return self.stop(signal.SIGTERM, timeout=10)


# ---------------------------------------------------------------- capture

# RTP is recognised by its header, before the UDP port table: a port of
# the node's range that tshark assigns to another protocol (32512 is
# "uaudp") would otherwise hide that leg's packets now and then, as the
# ports are drawn at random
TSHARK_RTP = ["-o", "rtp.heuristic_rtp:TRUE", "-o",
              "udp.try_heuristic_first:TRUE"]


def tshark_fields(pcap, display_filter, fields, extra=()):
    argv = ["tshark", "-r", str(pcap), *TSHARK_RTP, *extra, "-Y",
            display_filter, "-T", "fields", "-E", "separator=|"]
    for f in fields:
        argv += ["-e", f]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise it.ItError(f"tshark failed: {r.stderr}")
    return [l.split("|") for l in r.stdout.splitlines() if l.strip()]


def rtp_streams(pcap):
    """tshark -z rtp,streams: [{src_port, dst_port, ssrc, payload, pkts,
    lost, ...}] (lost as tshark prints it, a count)."""
    r = subprocess.run(["tshark", "-r", str(pcap), *TSHARK_RTP, "-q", "-z",
                        "rtp,streams"], capture_output=True, text=True,
                       timeout=120)
    if r.returncode:
        raise it.ItError(f"tshark failed: {r.stderr}")
    out = []
    for line in r.stdout.splitlines():
        # [start time, end time,] src ip, port, dst ip, port, SSRC,
        # payload, packets, lost (percent), ...
        m = re.match(r"\s*(?:[\d.]+\s+[\d.]+\s+)?(\S+)\s+(\d+)\s+(\S+)"
                     r"\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(\S+)\s+(\d+)\s+(-?\d+)"
                     r"\s+\((-?[\d.]+)%\)", line)
        if m:
            out.append({"src": m.group(1), "src_port": int(m.group(2)),
                        "dst": m.group(3), "dst_port": int(m.group(4)),
                        "ssrc": m.group(5), "payload": m.group(6).strip(),
                        "pkts": int(m.group(7)), "lost": int(m.group(8)),
                        "lost_pct": float(m.group(9)), "line": line})
    return out, r.stdout


def rtp_packets(pcap, display_filter):
    """[(frame time, src port, dst port, pt, seq, ts, ssrc, marker, payload
    hex)] of the RTP packets matching display_filter."""
    rows = tshark_fields(pcap, f"rtp && ({display_filter})",
                         ["frame.time_relative", "udp.srcport", "udp.dstport",
                          "rtp.p_type", "rtp.seq", "rtp.timestamp",
                          "rtp.ssrc", "rtp.marker", "rtp.payload"])
    out = []
    for r in rows:
        try:
            out.append((float(r[0]), int(r[1]), int(r[2]), int(r[3]),
                        int(r[4]), int(r[5]), int(r[6], 16), r[7] in
                        ("1", "True"), r[8].replace(":", "")))
        except (ValueError, IndexError):
            continue
    return out


def udp_payloads(pcap, display_filter):
    """[(src port, dst port, bytes)] of UDP datagrams (whatever tshark
    thinks of their content: RTP events are read here byte by byte)."""
    rows = tshark_fields(pcap, display_filter,
                         ["udp.srcport", "udp.dstport", "udp.payload"])
    out = []
    for r in rows:
        try:
            out.append((int(r[0]), int(r[1]), bytes.fromhex(
                r[2].replace(":", ""))))
        except (ValueError, IndexError):
            continue
    return out


def parse_rtp(b):
    """(pt, marker, seq, ts, ssrc, payload) or None."""
    if len(b) < 12 or b[0] >> 6 != 2:
        return None
    cc = b[0] & 0x0F
    off = 12 + 4 * cc
    if b[0] & 0x10:
        if len(b) < off + 4:
            return None
        off += 4 + 4 * struct.unpack("!H", b[off + 2:off + 4])[0]
    end = len(b)
    if b[0] & 0x20 and end > off:
        end -= b[-1]
    if off > end:
        return None
    pt = b[1] & 0x7F
    if 72 <= pt <= 79:  # RTCP
        return None
    seq, ts, ssrc = struct.unpack("!HII", b[2:12])
    return pt, bool(b[1] & 0x80), seq, ts, ssrc, b[off:end]


def events_in(datagrams, te_pt):
    """RFC 4733 digits in a packet list: [(digit, ts, n_end_packets,
    marker_seen, max_duration)] grouped by (SSRC, timestamp, event code),
    in order.  (RFC 4733 tells events apart by timestamp: two digits on one
    timestamp show here as two entries with the same ts.)"""
    evs = {}
    order = []
    for b in datagrams:
        r = parse_rtp(b)
        if not r or r[0] != te_pt or len(r[5]) < 4:
            continue
        pt, marker, seq, ts, ssrc, pl = r
        code, flags, dur = struct.unpack("!BBH", pl[:4])
        key = (ssrc, ts, code)
        if key not in evs:
            evs[key] = {"code": code, "ends": 0, "marker": False, "dur": 0}
            order.append(key)
        e = evs[key]
        e["marker"] |= marker
        e["dur"] = max(e["dur"], dur)
        if flags & 0x80:
            e["ends"] += 1
    return [(CODE_DIGIT.get(evs[k]["code"], f"?{evs[k]['code']}"), k[1],
             evs[k]["ends"], evs[k]["marker"], evs[k]["dur"])
            for k in order]


def pcma_audio(datagrams):
    """Linear samples of the PT 8 packets of one stream, in sequence
    order (the list is one direction of one leg)."""
    pk = []
    for b in datagrams:
        r = parse_rtp(b)
        if r and r[0] == 8:
            pk.append(r)
    if not pk:
        return []
    # unwrap 16-bit sequence numbers in arrival order, then sort
    ext, last, base = [], None, 0
    for r in pk:
        s = r[2]
        if last is not None and s < last and last - s > 30000:
            base += 65536
        last = s
        ext.append((base + s, r[5]))
    ext.sort(key=lambda x: x[0])
    out = []
    for _, pl in ext:
        out.extend(ALAW[x] for x in pl)
    return out


# ---------------------------------------------------------------- mediaproxyd

CREATED_RE = re.compile(
    r"\[([0-9a-f-]{36})\] created \(call-id ([^)]*)\): a (\d+) remote "
    r"(\S+):(\d+) (\S+), b (\d+) remote (\S+):(\d+) (\S+)")
ENGINE_RE = re.compile(r"\[([0-9a-f-]{36})\] media engine: (.*)")


def mp_sessions(stack):
    """Sessions mediaproxyd logged as created, oldest first."""
    out = []
    for m in CREATED_RE.finditer(stack.daemon("mediaproxyd").log()):
        out.append({"session": m.group(1), "call_id": m.group(2),
                    "a_port": int(m.group(3)), "b_port": int(m.group(7)),
                    "a_codec": m.group(6), "b_codec": m.group(10)})
    return out


def mp_engine_lines(stack, session=None):
    return [m.group(0) for m in
            ENGINE_RE.finditer(stack.daemon("mediaproxyd").log())
            if session is None or m.group(1) == session]


def mp_on_engine(stack, session):
    """Whether the session's last plan put it on the media engine (log
    lines "media engine: ..." / "media engine dropped: plain relay")."""
    on = False
    for l in stack.daemon("mediaproxyd").log().splitlines():
        if f"[{session}] media engine dropped" in l:
            on = False
        elif f"[{session}] media engine:" in l:
            on = True
    return on


def media_query(stack, session):
    """media.query reply body ({"session", "stats": {"a", "b"}})."""
    rc, out, err = it.busprobe(stack.mp_bus, "media.query",
                               {"session": session}, timeout_ms=3000)
    if rc != 0:
        raise it.ItError(f"media.query failed ({rc}): {out} {err}")
    env = json.loads(out)
    if env.get("type") != "media.query.reply":
        raise it.ItError(f"media.query: {out}")
    return env["body"]


def log_lines(proc, pattern):
    return [l for l in proc.log().splitlines() if re.search(pattern, l)]


def media_doc(stack_doc, mg_media=None, gw_media=None):
    """Set the `media` objects of mg1 and gwA in a base_doc."""
    if mg_media is not None:
        stack_doc["mapping_gateways"][0]["media"] = mg_media
    if gw_media is not None:
        stack_doc["routing_gateways"][0]["media"] = gw_media
    return stack_doc


def cdr_rtp(stack):
    rows = it.wait_for(lambda: it.cdr_rows(stack) or None, 30,
                       "the CDR in PostgreSQL")
    cdr = rows[-1]
    rtp = cdr["rtp"]
    if isinstance(rtp, str):
        rtp = json.loads(rtp)
    return cdr, rtp


# ---------------------------------------------------------------- sipp peers

def sipp_uac(stack, name, sdp="PCMA+te", play_items=(), hold_ms=1000,
             mport="[media_port]", callee="15551230001", caller="5550100",
             timeout_s=90, **kw):
    """A sipp caller running uac_media_play.xml (one call).  -aa: an
    in-dialog INFO (or OPTIONS, NOTIFY, UPDATE) is answered 200 at any
    point instead of aborting the call; it stays in the message trace."""
    kw["extra"] = ["-aa", *kw.get("extra", ())]
    subst = {"@SDP@": sdp_lines(sdp), "@MPORT@": mport,
             "@PLAYS@": plays(play_items), "@HOLD@": int(hold_ms)}
    s = it.Sipp(stack, name, "uac_media_play.xml",
                remote=f"127.0.0.1:{stack.sip_port}", service=callee,
                keys={"caller": caller}, subst=subst, calls=1,
                timeout_s=timeout_s, **kw)
    return s.start()


def sipp_late_uac(stack, name, sdp="PCMA+te", play_items=(), hold_ms=1000,
                  callee="15551230001", caller="5550100", answer=True,
                  timeout_s=90, **kw):
    """A sipp caller that makes no offer (uac_late_play.xml, one call): its
    answer (the media lines of sdp) goes in the ACK, or no SDP at all when
    answer is false."""
    kw["extra"] = ["-aa", *kw.get("extra", ())]
    ack_sdp = ("      v=0\n"
               "      o=user1 53655765 2353687637 IN IP[local_ip_type] "
               "[local_ip]\n"
               "      s=-\n"
               "      c=IN IP[media_ip_type] [media_ip]\n"
               "      t=0 0\n"
               f"      m=audio [media_port] RTP/AVP {sdp_lines(sdp)}\n"
               "      a=ptime:20\n"
               "      a=sendrecv\n") if answer else ""
    subst = {"@ACKTYPE@": "Content-Type: application/sdp" if answer
             else "Subject: no answer", "@ACKSDP@": ack_sdp,
             "@PLAYS@": plays(play_items), "@HOLD@": int(hold_ms)}
    s = it.Sipp(stack, name, "uac_late_play.xml",
                remote=f"127.0.0.1:{stack.sip_port}", service=callee,
                keys={"caller": caller}, subst=subst, calls=1,
                timeout_s=timeout_s, **kw)
    return s.start()


def sipp_uas(stack, name, scenario="uas_media_answer.xml", sdp="PCMA",
             rtp_echo=True, subst=None, **kw):
    """A sipp vendor gateway (runs until stopped)."""
    sub = {"@SDP@": sdp_lines(sdp), "@PLAYS@": ""}
    sub.update(subst or {})
    s = it.Sipp(stack, name, scenario, subst=sub, rtp_echo=rtp_echo, **kw)
    s.start()
    it.wait_for(lambda: s.alive() and not it.Ports._free(s.port), 10,
                f"sipp {name} to bind {s.port}")
    return s


def flows(pcap):
    """Per (src port, dst port) RTP flow of a capture: {"pts": {pt: n},
    "pkts", "lost" (sequence gaps per SSRC, audio and events together),
    "ssrcs"}."""
    out = {}
    seqs = {}
    for t, sp, dp, pt, seq, ts, ssrc, m, pl in rtp_packets(pcap, "udp"):
        f = out.setdefault((sp, dp), {"pts": {}, "pkts": 0, "lost": 0,
                                      "ssrcs": set()})
        f["pts"][pt] = f["pts"].get(pt, 0) + 1
        f["pkts"] += 1
        f["ssrcs"].add(ssrc)
        seqs.setdefault((sp, dp, ssrc), []).append(seq)
    for (sp, dp, ssrc), ss in seqs.items():
        ext, base, last = [], 0, None
        for s in ss:
            if last is not None and s < last and last - s > 30000:
                base += 65536
            last = s
            ext.append(base + s)
        uniq = set(ext)
        out[(sp, dp)]["lost"] += max(0, max(uniq) - min(uniq) + 1 - len(uniq))
    return out


def flows_text(fl):
    return "\n".join(f"  {sp} -> {dp}: {f['pkts']} pkts, pts {f['pts']}, "
                     f"lost {f['lost']}, ssrcs {len(f['ssrcs'])}"
                     for (sp, dp), f in sorted(fl.items()))


def media_capture(stack, name="cap_media"):
    """tshark on everything that reaches or leaves the node's RTP range."""
    return it.Capture(stack, name, f"udp portrange {stack.rtp_min}-"
                      f"{stack.rtp_max + 1}").start()


def vendor_hold_resume(method, sdp):
    """@PLAYS@ for uas_media_answer.xml: answer the hold and the resume
    (recvonly, then sendrecv) on the same media address, each sent by
    method (re-INVITE, then its ACK, or UPDATE)."""
    out = []
    for i, direction in ((1, "recvonly"), (2, "sendrecv")):
        ack = '  <recv request="ACK" crlf="true"/>\n' \
            if method == "INVITE" else ""
        out.append(f"""  <recv request="{method}" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 {2353687637 + i} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {sdp_lines(sdp)}
      a=ptime:20
      a={direction}
    ]]>
  </send>
{ack}""")
    return "\n".join(out)
