"""Fixtures of Tandem's integration tests.

- `pg`: one private PostgreSQL cluster per test session (deploy/pg.sh) on a
  free port under a temp dir, with a template database migrated by
  `tandemctl db migrate`.
- `stack`: per test, a fresh database cloned from the template, generated
  daemon config files on free ports, and the processes the test starts
  (daemons from $BUILD, sipp peers).  Teardown stops everything, fails the
  test on a sanitizer report or an unclean SIGTERM exit, and prints the logs
  when the test failed.

Set TANDEM_IT_KEEP=1 to keep the temp dir (its path is printed).
"""

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tandem_it as it  # noqa: E402


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def it_root():
    root = Path(tempfile.mkdtemp(prefix="tandem-it-"))
    os.chmod(root, 0o755)  # the postgres user must reach pg/
    yield root
    if os.environ.get("TANDEM_IT_KEEP") == "1":
        print(f"\nintegration temp dir kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(it_root):
    cluster = it.Pg(it_root, it.PORTS.one())
    cluster.start()
    try:
        cluster.create_db("tandem_tmpl")
        r = it.tandemctl(cluster.conninfo("tandem_tmpl"), "db", "migrate")
        cluster.migrate_output = r.stdout + r.stderr
        # every test database has the admin web user and its API token
        it.tandemctl(cluster.conninfo("tandem_tmpl"), "user", "add",
                     it.ADMIN_USER, "admin", input=it.ADMIN_PASSWORD + "\n")
        r = it.tandemctl(cluster.conninfo("tandem_tmpl"), "user", "token",
                         it.ADMIN_USER, "it")
        it.API_TOKEN = r.stdout.strip()
        yield cluster
    finally:
        cluster.stop()


def _stack_fixture(request, pg, it_root, tls=None):
    name = request.node.name.replace("/", "_").replace("[", "_") \
        .replace("]", "")[:60]
    dbname = "t_" + "".join(c if c.isalnum() else "_" for c in name).lower()
    s = it.Stack(it_root / name, pg, dbname[:60], "tandem_tmpl", tls=tls)
    failed_teardown = []
    try:
        yield s
    finally:
        rcs = s.stop_all()
        s.release_ports()
        for d, rc in rcs.items():
            if rc not in (0, None):
                failed_teardown.append(
                    f"{d} exited {rc} on SIGTERM (expected 0)")
        reps = s.sanitizer_reports()
        failed_teardown += [f"sanitizer report in {r}" for r in reps]
        rep = getattr(request.node, "rep_call", None)
        if failed_teardown or (rep is not None and rep.failed):
            print(f"\n##### logs of {request.node.name} (dir {s.dir})")
            print(s.report())
        if failed_teardown:
            pytest.fail("\n".join(failed_teardown), pytrace=False)


@pytest.fixture
def stack(request, pg, it_root):
    """A database of its own plus the test's daemons and peers."""
    yield from _stack_fixture(request, pg, it_root)


@pytest.fixture
def tls_stack(request, pg, it_root):
    """A stack whose bus runs over tls+tcp:// (tandemctl pki certificates)."""
    yield from _stack_fixture(request, pg, it_root, tls=True)


@pytest.fixture
def conf_stack(request, it_root):
    """Config files and daemons only, no database (config tests)."""
    yield from _stack_fixture(request, None, it_root)


@pytest.fixture
def tmpdir_755(tmp_path):
    os.chmod(tmp_path, 0o755)
    return tmp_path


def pytest_configure(config):
    # sipp and the daemons are killed by pid; make sure a Ctrl-C in the
    # middle of the run still reaches teardown
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(
        KeyboardInterrupt()))
