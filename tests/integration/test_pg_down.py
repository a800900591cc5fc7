"""signalingd without PostgreSQL (issue 12, item 4): it starts from the last
good tables it saved, serves calls with them, and catches up with what
changed meanwhile once PostgreSQL is back.  signalingd reaches PostgreSQL
through a TCP gate the test closes (connections refused) and opens again;
billingd keeps its own connection, so the calls are billed throughout."""

import json
import re
import socket
import threading

import tandem_it as it


class TcpGate:
    """127.0.0.1:port forwarding to target_port while open; closed, it
    refuses connections and cuts the ones it carried."""

    def __init__(self, port, target_port):
        self.port = port
        self.target = target_port
        self.lsock = None
        self.conns = []
        self.lock = threading.Lock()

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.lsock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def close(self):
        s, self.lsock = self.lsock, None
        if s:
            s.shutdown(socket.SHUT_RDWR)
            s.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def _accept(self, s):
        while True:
            try:
                a, _ = s.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                a.close()
                continue
            with self.lock:
                self.conns += [a, b]
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(x, y),
                                 daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _call(stack, name):
    n = len(it.cdr_rows(stack))
    uac = stack.uac(name, "uac_hold.xml", calls=1, duration_ms=300,
                    timeout_s=20)
    assert uac.finish(30) == 0, f"{name} failed"
    rows = it.wait_for(lambda: (lambda r: r if len(r) > n else None)(
        it.cdr_rows(stack)), 20, f"the CDR of {name}")
    return rows[-1]


def test_signalingd_serves_from_last_good_tables(stack):
    gw_a = stack.uas("gwA", "uas_answer.xml")
    gw_b = stack.uas("gwB", "uas_answer.xml")
    doc = it.base_doc(gw_a.port, gw_b.port)
    doc["system_parameters"]["SS_MEDIAPROXYMODE"] = "0"
    stack.provision(doc)
    pg_port = int(re.search(r"port=(\d+)", stack.conninfo).group(1))
    gate = TcpGate(stack.port(), pg_port)
    gate.open()
    try:
        stack.conf_extra["signalingd"]["db"] = re.sub(
            r"port=\d+", f"port={gate.port}", stack.conninfo)
        stack.start_all()
        assert _call(stack, "before")["routing_gateway"] == "gwA"
        saved = stack.spool / "tables.json"
        it.wait_for(saved.exists, 10, "the last good tables on disk")
        assert json.loads(saved.read_text())["version"] == 1

        # PostgreSQL unreachable: signalingd restarts on the saved tables
        stack.stop_daemon("signalingd")
        gate.close()
        stack.start_daemon("signalingd")
        sg = stack.daemon("signalingd")
        assert "serving the last good tables" in sg.log()
        row = _call(stack, "while_down")
        assert row["routing_gateway"] == "gwA"
        assert row["end_reason"] == "Normal", row

        # changed meanwhile: gwB first; applied once PostgreSQL is back
        doc["routing_gateways"][0]["priority"] = 3
        stack.provision(doc)
        n = sg.log().count("routing tables reloaded")
        gate.open()
        it.wait_for(lambda: sg.log().count("routing tables reloaded") > n,
                    20, "the reload once PostgreSQL is back")
        assert _call(stack, "after")["routing_gateway"] == "gwB"
        assert sg.alive()
    finally:
        gate.close()
    gw_a.quit()
    gw_b.quit()
