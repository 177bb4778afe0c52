#!/usr/bin/env python3
"""rfc7208.py - the openspf RFC 7208 test suite against relayguard's SPF path.

Each scenario of the suite (a YAML document with "tests" and "zonedata")
becomes a zone for a real DNS server: unbound, started on a loopback port
chosen at run time, with "." a static local zone so that nothing leaves
127.0.0.0/8.  relayguard's SPF path (test/spf/spf_eval: spf.c, libspf2 on
the shared libunbound resolver) then runs every test of the scenario and
its result is compared with the expected one (or ones), and with the
expected explanation when the test gives one.  Output is TAP, one line per
test; failures whose cause is in libspf2 are listed in rfc7208-known.txt
and reported as TODO with that reason.

The suite is test data kept outside the repository: $RFC7208_TESTS, or
$top_srcdir/../shared/testdata/rfc7208-tests.yml.  Without it, without
PyYAML or without unbound the whole test is skipped with a message.

Zone data conventions of the suite (its header comments; pyspf's driver):
SPF records are also published as TXT unless the name lists TXT records
itself ("TXT: NONE" means: no TXT at all); "TIMEOUT" makes queries for the
name time out, except for the types it lists (unbound: local-zone deny,
which still answers the local data it has).
"""
import os
import subprocess
import sys
import tempfile
import time


def tap_skip(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)


def find_suite(top_srcdir):
    path = os.environ.get("RFC7208_TESTS") or os.path.join(
        top_srcdir, "..", "shared", "testdata", "rfc7208-tests.yml")
    return path if os.path.exists(path) else None


# ---- zone data to unbound.conf(5) ------------------------------------------

def esc_bytes(data, keep):
    """Presentation-format escaping: bytes outside KEEP become \\DDD."""
    out = []
    for b in data:
        c = chr(b)
        out.append(c if c in keep else "\\%03d" % b)
    return "".join(out)


NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
TXT_CHARS = set(chr(c) for c in range(0x20, 0x7f)) - set('"\\\'')


def dname(name):
    labels = name.rstrip(".").split(".")
    return ".".join(esc_bytes(l.encode("utf-8"), NAME_CHARS) for l in labels) + "."


def txt_rdata(value):
    strings = value if isinstance(value, list) else [value]
    parts = []
    for s in strings:
        data = str(s).encode("utf-8")
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        parts.extend('"%s"' % esc_bytes(c, TXT_CHARS) for c in chunks)
    return " ".join(parts) or '""'  # a TXT record holds at least one string


def zone_lines(zonedata):
    lines = []
    timeouts = [n.lower().rstrip(".") for n, recs in zonedata.items() if "TIMEOUT" in recs]
    for name, records in zonedata.items():
        owner = dname(name)
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        if "TIMEOUT" in records:
            lines.append('local-zone: "%s" deny' % owner)
        elif any(name.lower().rstrip(".").endswith("." + t) for t in timeouts):
            # A deny zone covers its subtree; a name below a TIMEOUT name
            # answers normally (NODATA for types it lacks).
            lines.append('local-zone: "%s" static' % owner)
        for r in records:
            if not isinstance(r, dict):
                continue
            for rtype, value in r.items():
                types = [rtype]
                if rtype == "SPF" and not has_txt:
                    types.append("TXT")  # the suite's SPF-to-TXT duplication
                for t in types:
                    if t in ("TXT", "SPF"):
                        if value == "NONE":
                            continue
                        rdata = txt_rdata(value)
                    elif t == "MX":
                        rdata = "%d %s" % (value[0], dname(value[1]))
                    elif t in ("PTR", "CNAME"):
                        rdata = dname(value)
                    else:
                        rdata = str(value)
                    lines.append("local-data: '%s 300 IN %s %s'" % (owner, t, rdata))
    return lines


# ---- the DNS server --------------------------------------------------------

class Unbound:
    def __init__(self, workdir, lines):
        self.dir = workdir
        self.proc = None
        self.port = None
        for attempt in range(10):
            port = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
            conf = os.path.join(workdir, "unbound.conf")
            log = os.path.join(workdir, "unbound.log")
            with open(conf, "w") as f:
                f.write("server:\n")
                for l in ['interface: 127.0.0.1@%d' % port, 'port: %d' % port,
                          'username: ""', 'chroot: ""', 'directory: "%s"' % workdir,
                          'pidfile: "%s/unbound.pid"' % workdir, 'logfile: "%s"' % log,
                          'use-syslog: no', 'verbosity: 1', 'num-threads: 1',
                          'so-reuseport: no', 'do-ip6: no', 'do-not-query-localhost: yes',
                          'access-control: 127.0.0.0/8 allow', 'module-config: "iterator"',
                          'minimal-responses: yes', 'rrset-roundrobin: no',
                          'local-zone: "." static'] + lines:
                    f.write("\t%s\n" % l)
                f.write("remote-control:\n\tcontrol-enable: no\n")
            if os.path.exists(log):
                os.unlink(log)
            self.proc = subprocess.Popen(["unbound", "-d", "-c", conf],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if os.path.exists(log) and "start of service" in open(log).read():
                    self.port = port
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("unbound did not start: " +
                           (open(log).read() if os.path.exists(log) else "no log"))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.proc = None


# ---- running and comparing -------------------------------------------------

def load_known(path):
    known = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(":")
                known[name.strip()] = why.strip()
    return known


def run_scenario(doc, spf_eval, libunbound_conf, workdir):
    srv = Unbound(workdir, zone_lines(doc.get("zonedata") or {}))
    try:
        conf = os.path.join(workdir, "relayguard.conf")
        with open(conf, "w") as f:
            f.write("dns_resolvers = 127.0.0.1@%d\n" % srv.port)
            f.write("dns_config = %s\n" % libunbound_conf)
            f.write("dns_timeout = %s\n" % os.environ.get("RFC7208_TIMEOUT", "1s"))
        names = list(doc["tests"])
        cases = []
        for i, name in enumerate(names):
            t = doc["tests"][name]
            cases.append("%d\t%s\t%s\t%s" % (i, t["host"], t.get("helo", ""), t.get("mailfrom", "")))
        out = subprocess.run([spf_eval, conf], input="\n".join(cases) + "\n",
                             capture_output=True, text=True, errors="replace")
        if out.returncode != 0:
            raise RuntimeError("spf_eval failed: " + out.stderr)
        results = {}
        for line in out.stdout.splitlines():
            f = line.split("\t")
            results[names[int(f[0])]] = f[1:] + [""] * (4 - len(f))
        return results
    finally:
        srv.stop()


def main():
    top_srcdir = os.environ.get("top_srcdir", ".")
    top_builddir = os.environ.get("top_builddir", ".")
    suite = find_suite(top_srcdir)
    if suite is None:
        tap_skip("RFC 7208 test suite not found (set RFC7208_TESTS or put it in "
                 "../shared/testdata/rfc7208-tests.yml)")
    try:
        import yaml
    except ImportError:
        tap_skip("PyYAML missing (Debian: apt-get install python3-yaml)")
    if subprocess.run(["sh", "-c", "command -v unbound"], capture_output=True).returncode != 0:
        tap_skip("unbound missing (Debian: apt-get install unbound)")
    spf_eval = os.path.join(top_builddir, "test", "spf", "spf_eval")
    libunbound_conf = os.path.abspath(os.path.join(top_srcdir, "test", "dns", "libunbound.conf"))
    known = load_known(os.path.join(top_srcdir, "test", "spf", "rfc7208-known.txt"))
    docs = [d for d in yaml.safe_load_all(open(suite, encoding="utf-8")) if d]

    n = passed = todo = 0
    failed = []
    with tempfile.TemporaryDirectory(prefix="rgspf.") as tmp:
        for k, doc in enumerate(docs):
            workdir = os.path.join(tmp, str(k))
            os.mkdir(workdir)
            results = run_scenario(doc, spf_eval, libunbound_conf, workdir)
            for name, t in doc["tests"].items():
                n += 1
                want = t["result"] if isinstance(t["result"], list) else [t["result"]]
                got, explanation, problem = results.get(name, ["(none)", "", ""])[:3]
                ok = got in want
                if ok and "explanation" in t and got == "fail":
                    if t["explanation"] == "DEFAULT":
                        # The suite's word for "the implementation's default"
                        # (spf.c: SPF_server_set_explanation).
                        ok = " is not one of the designated mail servers of " in explanation
                    else:
                        ok = explanation == t["explanation"]
                desc = "%s: %s (want %s, got %s%s)" % (
                    doc["description"], name, "|".join(want), got,
                    ", " + problem if problem else "")
                if ok:
                    passed += 1
                    print("ok %d - %s%s" % (n, desc, " # TODO fixed? listed in rfc7208-known.txt"
                                            if name in known else ""))
                elif name in known:
                    todo += 1
                    print("not ok %d - %s # TODO %s" % (n, desc, known[name]))
                else:
                    failed.append(name)
                    print("not ok %d - %s" % (n, desc))
                    if "explanation" in t:
                        print("#   explanation want: %r" % t["explanation"])
                        print("#   explanation got:  %r" % explanation)
    print("1..%d" % n)
    print("# RFC 7208 suite: %d of %d pass; %d known failures (libspf2); %d unexpected" %
          (passed, n, todo, len(failed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
