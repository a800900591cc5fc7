"""Issue 12, item 1: Debian packages built from the tree.

`dpkg-buildpackage -b` runs on a copy of the tree (what git tracks, plus
the web manager's built files when there are any), as a build host would.
Asserted: one package per daemon plus tandemctl and tandem-common; each
daemon's package depends only on runtime libraries (no compiler, no -dev
package, no PostgreSQL server, no test tool) and on the ones it links
(signalingd on sofia-sip, mediaproxyd on the codecs, each on libsystemd);
it holds its binary, its unit and its config file, which dpkg keeps as a
conffile (an operator's edits survive upgrades); the binaries run.
"""

import re
import subprocess

import tandem_it as it

NEVER = re.compile(r"^(gcc|clang|cpp|make|build-essential|postgresql(-\d+)?|"
                   r"nodejs|npm|sip-tester|tshark|python3.*|gdb|.*-dev|"
                   r"libasan\d*|libubsan\d*|libclang.*)$")


def _field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


def _depends(deb):
    deps = set()
    for alt in _field(deb, "Depends").split(","):
        for d in alt.split("|"):
            name = d.strip().split(" ")[0].split(":")[0]
            if name:
                deps.add(name)
    return deps


def test_debian_packages(tmp_path):
    debs = it.build_debs(tmp_path)
    print({k: p.name for k, p in debs.items()})
    assert set(debs) == {"tandem-common", "tandem-signalingd",
                         "tandem-mediaproxyd", "tandem-billingd", "tandemctl"}

    links = {"tandem-signalingd": {"libsofia-sip-ua0", "libpq5", "libnng1",
                                   "libjansson4", "libsystemd0"},
             "tandem-mediaproxyd": {"libopus0", "libbcg729-0", "libspandsp2",
                                    "libspeexdsp1", "libre0", "libsystemd0"},
             "tandem-billingd": {"libpq5", "libargon2-1", "libsystemd0"},
             "tandemctl": {"libpq5", "libcurl4"}}
    for pkg, want in links.items():
        deps = _depends(debs[pkg])
        print(pkg, "depends:", sorted(deps))
        assert not [d for d in deps if NEVER.match(d)], deps
        missing = {w for w in want if not any(d.startswith(w) for d in deps)}
        assert not missing, f"{pkg} lacks {missing}: {deps}"
    assert "libsofia-sip-ua0" not in _depends(debs["tandem-mediaproxyd"])
    assert not any(d.startswith("libopus")
                   for d in _depends(debs["tandem-signalingd"]))

    for d in ("signalingd", "mediaproxyd", "billingd"):
        deb = debs[f"tandem-{d}"]
        files = subprocess.run(["dpkg-deb", "-c", str(deb)],
                               capture_output=True, text=True,
                               check=True).stdout
        for path in (f"./usr/sbin/{d}", f"./etc/tandem/{d}.conf",
                     f"./lib/systemd/system/{d}.service"):
            assert re.search(r" %s$" % re.escape(path), files, re.M), \
                f"{deb.name} lacks {path}"
        ctl = tmp_path / f"ctl-{d}"
        subprocess.run(["dpkg-deb", "-e", str(deb), str(ctl)], check=True)
        assert f"/etc/tandem/{d}.conf" in (ctl / "conffiles").read_text()
        # the unit is not enabled or started by the package
        post = (ctl / "postinst").read_text() if (ctl / "postinst").exists() \
            else ""
        assert "systemctl --system start" not in post
        # the binary runs on this host
        root = tmp_path / f"x-{d}"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        v = subprocess.run([str(root / "usr/sbin" / d), "-v"],
                           capture_output=True, text=True, timeout=30)
        assert v.returncode == 0 and d in v.stdout, v.stdout + v.stderr
    common = subprocess.run(["dpkg-deb", "-c", str(debs["tandem-common"])],
                            capture_output=True, text=True,
                            check=True).stdout
    assert "./usr/lib/sysusers.d/tandem.conf" in common
    assert "./usr/lib/tmpfiles.d/tandem.conf" in common
    ctl = subprocess.run(["dpkg-deb", "-c", str(debs["tandemctl"])],
                         capture_output=True, text=True, check=True).stdout
    assert "./usr/share/tandem/schema/" in ctl
