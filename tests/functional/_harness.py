"""Functional-test harness: runs the REAL programs (xnoded, xnodectl, xnode-refplatform) over
loopback in a temporary directory, with a throwaway PKI made by scripts/gen-dev-pki.

Every wait is bounded; every process started here is stopped at exit (also on failure)."""
import atexit
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.environ.get("XNODE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("XNODE_BUILD") or os.path.join(ROOT, "build")
# A cross-built tree (scripts/ci-arm64) runs its programs under an emulator: XNODE_EMULATOR holds the
# command prefix ("qemu-aarch64 -L SYSROOT"). Each program is then started through a two-line wrapper
# script, so that every test starts it as usual (argv[0], pid, signals reach the emulated program).
# XNODE_TIMEOUT_SCALE stretches the harness's waits for the emulator's slower programs.
EMULATOR = os.environ.get("XNODE_EMULATOR", "").split()
TIMEOUT_SCALE = float(os.environ.get("XNODE_TIMEOUT_SCALE") or "1")
_wrappers = None


def program(path):
    """The command that runs the build's program `path`: itself, or its emulator wrapper."""
    global _wrappers
    if not EMULATOR or not os.path.exists(path):
        return path  # a missing program is reported by require_programs
    if _wrappers is None:
        _wrappers = tempfile.mkdtemp(prefix="xnode-emu-")
        atexit.register(shutil.rmtree, _wrappers, True)
    wrapper = os.path.join(_wrappers, os.path.basename(path))
    if not os.path.exists(wrapper):
        with open(wrapper, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\nexec %s \"$@\"\n" % " ".join(shlex.quote(a) for a in EMULATOR + [path]))
        os.chmod(wrapper, 0o755)
    return wrapper


XNODED = program(os.path.join(BUILD, "xnoded"))
XNODECTL = program(os.path.join(BUILD, "xnodectl"))
PLATFORM = program(os.path.join(BUILD, "tests", "platform", "xnode-refplatform"))
GEN_RECORDS = program(os.path.join(BUILD, "tests", "xnode-gen-records"))

# The example slice's provider and the resource whose items match xnode-gen-records.
SERVICE_CASES = None  # filled from conf/catalog.d at import


def _find_stream(suffix):
    for name in sorted(os.listdir(os.path.join(ROOT, "conf", "catalog.d"))):
        with open(os.path.join(ROOT, "conf", "catalog.d", name), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("code:") and line.rstrip('"').endswith(suffix):
                    return line.split(":", 1)[1].strip().strip('"')
    raise RuntimeError("no resource ending in %s in conf/catalog.d" % suffix)


SERVICE_CASES = _find_stream("-00004")
ENTERPRISE = _find_stream("-00001")

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except Exception:
                pass


atexit.register(_cleanup)


def log(*args):
    print("[%s]" % time.strftime("%H:%M:%S"), *args, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.1):
    timeout *= TIMEOUT_SCALE
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # a server not up yet
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


def require_programs(*paths):
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        print("not built: " + ", ".join(missing))
        sys.exit(1)


class Platform:
    def __init__(self, env, port=None, admin_port=None, extra=()):
        self.env = env
        self.port = port or free_port()
        self.admin_port = admin_port or free_port()
        self.db = os.path.join(env.dir, "platform.db")
        self.extra = list(extra)
        self.proc = None
        self.logfile = os.path.join(env.dir, "platform.log")

    @property
    def admin(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def start(self, cert="platform", crl=True):
        pki = self.env.pki
        args = [PLATFORM, "--listen", "127.0.0.1:%d" % self.port, "--admin", "127.0.0.1:%d" % self.admin_port,
                "--cert", os.path.join(pki, cert + ".crt"), "--key", os.path.join(pki, cert + ".key"),
                "--ca", os.path.join(pki, "ca.crt"), "--db", self.db] + self.extra
        if crl:
            args += ["--crl", os.path.join(pki, "crl.pem")]
        self.proc = subprocess.Popen(args, stdout=open(self.logfile, "ab"), stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        wait_for(lambda: self.get("/admin/state") is not None, 20, "the reference platform to answer")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(20)
        self.proc = None

    def get(self, path):
        return json.loads(self.get_text(path))

    def get_text(self, path):
        with urllib.request.urlopen(self.admin + path, timeout=60) as r:
            return r.read().decode()

    def post(self, path, doc=None):
        data = json.dumps(doc or {}).encode()
        req = urllib.request.Request(self.admin + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode()
            return json.loads(body) if body.strip() else None

    def stream(self, code, node="scj-01"):
        try:
            return self.get("/admin/streams/%s/%s" % (node, urllib.parse.quote(code, safe="")))
        except urllib.error.HTTPError:
            return None

    def records(self, code, node="scj-01"):
        text = self.get_text("/admin/records/%s/%s" % (node, urllib.parse.quote(code, safe="")))
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def log_text(self):
        with open(self.logfile, encoding="utf-8", errors="replace") as f:
            return f.read()


class Env:
    """A temporary directory with a PKI, a config, a catalog copy and spool directories."""

    def __init__(self, name, keep=False):
        self.dir = tempfile.mkdtemp(prefix="xnode-%s-" % name)
        self.keep = keep or os.environ.get("XNODE_KEEP_TMP") == "1"
        self.pki = os.path.join(self.dir, "pki")
        subprocess.run([os.path.join(ROOT, "scripts", "gen-dev-pki"), self.pki], check=True,
                       stdout=subprocess.DEVNULL)
        self.catalog = os.path.join(self.dir, "catalog.d")
        shutil.copytree(os.path.join(ROOT, "conf", "catalog.d"), self.catalog)
        self.spool = os.path.join(self.dir, "spool", "cases")
        os.makedirs(self.spool)
        self.daemon = None
        self.daemon_log = os.path.join(self.dir, "xnoded.log")
        self.config_path = os.path.join(self.dir, "xnode.yaml")
        atexit.register(self.cleanup)

    def cleanup(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, platform_port, durability="full", max_bytes="64MiB", on_full="block",
                     backoff_max="2s", extra_sources="", pins=None, cert="node", crl=True,
                     server_name="platform.xchg.test", heartbeat="60s", version=1, endpoints=None,
                     request_timeout="10s", extra_uplink="", extra_health=""):
        """extra_uplink / extra_health: more lines of that section, each indented by two spaces and
        ending in a newline."""
        endpoints = endpoints or ["https://127.0.0.1:%d" % platform_port]
        pin_text = "[" + ", ".join('"%s"' % p for p in (pins or [])) + "]"
        crl_line = '  crl_file: "%s/crl.pem"\n' % self.pki if crl else ""
        text = f"""# written by the functional tests
version: {version}
node:
  id: scj-01
  department: "11540100MB00000081"
  department_name: 拉萨市市场监督管理局
uplink:
  endpoints: [{", ".join('"%s"' % e for e in endpoints)}]
  server_name: {server_name}
  ca_file: "{self.pki}/ca.crt"
  cert_file: "{self.pki}/{cert}.crt"
  key_file: "{self.pki}/{cert}.key"
{crl_line}  pins: {pin_text}
  connect_timeout: 2s
  handshake_timeout: 5s
  request_timeout: {request_timeout}
  backoff_initial: 100ms
  backoff_max: {backoff_max}
{extra_uplink}queue:
  path: "{self.dir}/state/queue.db"
  durability: {durability}
  max_bytes: {max_bytes}
  on_full: {on_full}
catalog:
  dir: "{self.catalog}"
sources:
  - name: cases
    driver: spool
    resource: "{SERVICE_CASES}"
    settings:
      dir: "{self.spool}"
{extra_sources}health:
  interval: {heartbeat}
  status_file: "{self.dir}/run/status.json"
  control_socket: "{self.dir}/run/control.sock"
{extra_health}audit:
  path: "{self.dir}/state/audit.db"
log:
  level: info
"""
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)
        return self.config_path

    def start_daemon(self, env_extra=None, wait_ready=True):
        env = dict(os.environ)
        env.update(env_extra or {})
        self.daemon = subprocess.Popen([XNODED, "--config", self.config_path], stdout=open(self.daemon_log, "ab"),
                                       stderr=subprocess.STDOUT, env=env)
        _procs.append(self.daemon)
        if wait_ready:
            # Ready means a status file written by THIS process: one left by an earlier daemon of the
            # same test would otherwise let the test run on before the restarted daemon is up.
            wait_for(lambda: self._status_pid() == self.daemon.pid or self.daemon.poll() is not None,
                     30, "xnoded to write its status")
            if self.daemon.poll() is not None:
                raise AssertionError("xnoded exited with %s:\n%s" % (self.daemon.returncode, self.daemon_log_text()))
        return self.daemon

    def _status_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "status.json"), encoding="utf-8") as f:
                return json.load(f).get("xnoded", {}).get("pid")
        except (OSError, ValueError):
            return None

    def stop_daemon(self, sig=signal.SIGTERM, timeout=30):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(sig)
            self.daemon.wait(timeout)
        rc = self.daemon.returncode if self.daemon else None
        self.daemon = None
        return rc

    def daemon_log_text(self):
        with open(self.daemon_log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def ctl(self, *args, check=True):
        r = subprocess.run([XNODECTL, "-c", self.config_path] + list(args), capture_output=True, text=True, timeout=60)
        if check and r.returncode not in (0, 3):
            raise AssertionError("xnodectl %s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def status(self):
        return json.loads(self.ctl("status", "--json").stdout)

    def drop_file(self, name, lines, directory=None):
        """Writes a spool file the documented way: under a temporary name, then renamed."""
        directory = directory or self.spool
        tmp = os.path.join(directory, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
                f.write("\n")
        os.rename(tmp, os.path.join(directory, name))


def gen_records(n, seed=1, start=0):
    """Realistic records from xnode-gen-records, as NDJSON lines."""
    out = subprocess.run([GEN_RECORDS, "--count", str(n), "--seed", str(seed), "--start-id", str(start)],
                         capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if l.strip()]


class Check:
    """Counts assertions and prints the closing line ctest-friendly runners look for."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
            log("ok   -", what)
        else:
            self.failed += 1
            log("FAIL -", what)
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)
