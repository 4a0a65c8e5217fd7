#!/usr/bin/env python3
"""End-to-end figures of issues #2 and #3, measured on the REAL programs over loopback.

    xnode_bench.py intake   -> intake_records_per_s, intake_peak_rss_mib (= peak_rss_mib)
    xnode_bench.py e2e      -> e2e_records_per_s, backlog_drain_records_per_s, xnoded_peak_rss_mib,
                               xnoded_cpu_s_per_million, platform_cpu_s_per_million,
                               xnoded_outage_cpu_percent (and a few supporting figures)

Environment: XNODE_ROOT (source tree), XNODE_BUILD (a Release build holding xnoded, xnodectl,
tests/platform/xnode-refplatform, tests/xnode-gen-records), XNODE_BENCH_RECORDS (default 1000000),
XNODE_BENCH_DIR (parent of the temporary directory, default /var/tmp: on disk, not tmpfs, because
durability is part of what is measured), XNODE_BENCH_OUTAGE_S (default 30), XNODE_KEEP_TMP=1 keeps
the directory. Figures go to stdout as `name: value`; progress goes to stderr.

Every wait is bounded and every process started here is killed at exit, also on failure or signal."""
import atexit
import json
import os
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

ROOT = os.environ.get("XNODE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("XNODE_BUILD") or os.path.join(ROOT, "build-bench")
XNODED = os.path.join(BUILD, "xnoded")
XNODECTL = os.path.join(BUILD, "xnodectl")
PLATFORM = os.path.join(BUILD, "tests", "platform", "xnode-refplatform")
GEN_RECORDS = os.path.join(BUILD, "tests", "xnode-gen-records")
RECORDS = int(os.environ.get("XNODE_BENCH_RECORDS", "1000000"))
OUTAGE_S = float(os.environ.get("XNODE_BENCH_OUTAGE_S", "30"))
NODE_ID = "scj-01"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Generous bounds (this machine is shared): 2,000 records/s, a fiftieth of the target, still ends.
WAIT_LIMIT_S = max(120.0, RECORDS / 2000.0)

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def progress(*args):
    print("[%s]" % time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def figure(name, value):
    if isinstance(value, float):
        value = ("%.2f" % value) if value < 100 else ("%.0f" % value)
    print("%s: %s" % (name, value), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, urllib.error.URLError) as e:  # not up yet
            last = e
        time.sleep(interval)
    raise SystemExit("bench: timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


# --- /proc ---------------------------------------------------------------------------------------

def cpu_seconds(pid):
    """user + system CPU seconds of a process (its own threads; no children are involved here)."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK  # fields 14 and 15: utime, stime


def thread_cpu(pid):
    """{tid: CPU seconds} of every thread of a process, in creation order (the threads are not named,
    so the order tells them apart: main/network loop first)."""
    out = {}
    for tid in sorted(int(t) for t in os.listdir("/proc/%d/task" % pid)):
        try:
            out[tid] = cpu_seconds_path("/proc/%d/task/%d/stat" % (pid, tid))
        except OSError:
            pass  # the thread ended
    return out


def cpu_seconds_path(path):
    with open(path) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def thread_report(before, after):
    parts = ["%d:%.2f" % (tid, after[tid] - before.get(tid, 0.0)) for tid in after]
    return "per-thread CPU s (tid:s, creation order) " + " ".join(parts)


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise ValueError("%s missing in /proc/%d/status" % (key, pid))


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- the pieces --------------------------------------------------------------------------------

def find_stream(suffix):
    folder = os.path.join(ROOT, "conf", "catalog.d")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("code:") and line.rstrip('"').endswith(suffix):
                    return line.split(":", 1)[1].strip().strip('"')
    raise SystemExit("bench: no resource ending in %s in conf/catalog.d" % suffix)


# The resource whose declared items match what xnode-gen-records produces.
STREAM = find_stream("-00004")


class Workdir:
    def __init__(self, name):
        parent = os.environ.get("XNODE_BENCH_DIR", "/var/tmp")
        self.dir = tempfile.mkdtemp(prefix="xnode-bench-%s-" % name, dir=parent)
        self.pki = os.path.join(self.dir, "pki")
        subprocess.run([os.path.join(ROOT, "scripts", "gen-dev-pki"), self.pki], check=True,
                       stdout=subprocess.DEVNULL)
        self.catalog = os.path.join(self.dir, "catalog.d")
        shutil.copytree(os.path.join(ROOT, "conf", "catalog.d"), self.catalog)
        atexit.register(self.remove)

    def remove(self):
        if os.environ.get("XNODE_KEEP_TMP") == "1":
            progress("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def generate(self, name, count, seed=42):
        """Writes `count` records as spool files of 10,000 records into a staging directory on the
        same file system as the spool, so that dropping them is a rename per file."""
        staging = os.path.join(self.dir, "staging-" + name)
        os.makedirs(staging)
        subprocess.run([GEN_RECORDS, "--count", str(count), "--per-file", "10000", "--out", staging,
                        "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
        files = sorted(n for n in os.listdir(staging) if not n.startswith("."))
        size = sum(os.path.getsize(os.path.join(staging, n)) for n in files)
        return staging, files, size


class Platform:
    def __init__(self, work, name, port=None):
        self.work = work
        self.port = port or free_port()
        self.admin_port = free_port()
        self.db = os.path.join(work.dir, name + "-platform.db")
        self.log = os.path.join(work.dir, name + "-platform.log")
        self.proc = None

    def start(self):
        pki = self.work.pki
        # The reference platform's store runs WAL with synchronous=FULL (tests/platform/sqlite_db.cpp).
        args = [PLATFORM, "--listen", "127.0.0.1:%d" % self.port, "--admin", "127.0.0.1:%d" % self.admin_port,
                "--cert", os.path.join(pki, "platform.crt"), "--key", os.path.join(pki, "platform.key"),
                "--ca", os.path.join(pki, "ca.crt"), "--crl", os.path.join(pki, "crl.pem"), "--db", self.db]
        wrapper = os.environ.get("XNODE_BENCH_PLATFORM_WRAPPER", "").split()
        self.proc = subprocess.Popen(wrapper + args, cwd=self.work.dir, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        return self

    def wait_ready(self):
        wait_for(lambda: self.get("/admin/ping") is not None, 120, "the reference platform to answer", 0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.admin_port, path), timeout=30) as r:
            return json.loads(r.read().decode())

    def stream(self):
        try:
            return self.get("/admin/streams/%s/%s" % (NODE_ID, urllib.parse.quote(STREAM, safe="")))
        except urllib.error.HTTPError:
            return None  # no record of the stream yet

    def acked(self):
        # /admin/state answers from memory; the stream report also reads gaps and rejections from
        # SQLite, which would compete with the ingest being measured.
        try:
            node = self.get("/admin/state").get("nodes", {}).get(NODE_ID, {})
        except (urllib.error.URLError, OSError):
            return 0  # still starting
        s = node.get("streams", {}).get(STREAM)
        return int(s.get("acked_through", 0)) if s else 0


class Daemon:
    def __init__(self, work, name, platform_port):
        self.work = work
        self.base = os.path.join(work.dir, name)
        self.spool = os.path.join(self.base, "spool")
        os.makedirs(self.spool)
        self.config = os.path.join(self.base, "xnode.yaml")
        self.status_file = os.path.join(self.base, "run", "status.json")
        self.log = os.path.join(self.base, "xnoded.log")
        self.proc = None
        pki = work.pki
        # Product defaults everywhere except paths and a queue quota that holds the whole backlog:
        # durability full, default back-off (500 ms doubling to 10 s), default batch limits.
        text = f"""# written by tests/bench/e2e/xnode_bench.py
version: 1
node:
  id: {NODE_ID}
  department: "11540100MB00000081"
  department_name: 拉萨市市场监督管理局
uplink:
  endpoints: ["https://127.0.0.1:{platform_port}"]
  server_name: platform.xchg.test
  ca_file: "{pki}/ca.crt"
  cert_file: "{pki}/node.crt"
  key_file: "{pki}/node.key"
  crl_file: "{pki}/crl.pem"
queue:
  path: "{self.base}/state/queue.db"
  durability: full
  max_bytes: 2GiB
  on_full: block
catalog:
  dir: "{work.catalog}"
sources:
  - name: cases
    driver: spool
    resource: "{STREAM}"
    settings:
      dir: "{self.spool}"
health:
  status_file: "{self.status_file}"
audit:
  path: "{self.base}/state/audit.db"
log:
  level: info
"""
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self):
        # XNODE_BENCH_WRAPPER runs the daemon under a tool, e.g. "valgrind --tool=massif" (figures
        # are then the tool's, not the daemon's: use it to find where memory goes, on small runs).
        wrapper = os.environ.get("XNODE_BENCH_WRAPPER", "").split()
        self.proc = subprocess.Popen(wrapper + [XNODED, "--config", self.config], cwd=self.base, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        wait_for(lambda: os.path.exists(self.status_file) or self.proc.poll() is not None, 120,
                 "xnoded to write its status file")
        if self.proc.poll() is not None:
            raise SystemExit("bench: xnoded exited with %s; its log:\n%s" % (self.proc.returncode, self.log_tail()))
        return self

    def log_tail(self, lines=30):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def status(self):
        r = subprocess.run([XNODECTL, "-c", self.config, "status", "--json"], capture_output=True, text=True,
                           timeout=60)
        if r.returncode not in (0, 3):
            raise ValueError("xnodectl status failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return json.loads(r.stdout)

    def queued(self):
        """Records taken into the queue for the stream (last_seq: pending plus acknowledged)."""
        s = self.status().get("queue", {}).get("streams", {}).get(STREAM)
        return int(s.get("last_seq", 0)) if s else 0

    def quarantined(self):
        return int(self.status().get("quarantine", {}).get("records", 0))

    def drop(self, staging, files):
        for name in files:
            os.rename(os.path.join(staging, name), os.path.join(self.spool, name))

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def peak_rss_mib(self):
        return proc_status_kib(self.proc.pid, "VmHWM") / 1024.0


def require_programs():
    missing = [p for p in (XNODED, XNODECTL, PLATFORM, GEN_RECORDS) if not os.access(p, os.X_OK)]
    if missing:
        raise SystemExit("bench: not built: " + ", ".join(missing))


def wait_queued(daemon, count, what):
    """Polls the queue (xnodectl reads the SQLite file) until `count` records are in it."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            raise SystemExit("bench: xnoded died (%s):\n%s" % (daemon.proc.returncode, daemon.log_tail()))
        if daemon.queued() >= count:
            return time.monotonic()
        time.sleep(0.2)
    raise SystemExit("bench: %s: only %d of %d records queued after %.0f s" % (what, daemon.queued(), count, WAIT_LIMIT_S))


def wait_acked(platform, daemon, count, what, first_ack=None):
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            raise SystemExit("bench: xnoded died (%s):\n%s" % (daemon.proc.returncode, daemon.log_tail()))
        acked = platform.acked()
        if first_ack is not None and acked > 0 and not first_ack:
            first_ack.append(time.monotonic())
        if acked >= count:
            return time.monotonic()
        time.sleep(0.1)
    raise SystemExit("bench: %s: the platform acknowledged %d of %d after %.0f s" % (what, platform.acked(), count,
                                                                                    WAIT_LIMIT_S))


def check_delivery(platform, count, what):
    s = platform.stream() or {}
    stored = s.get("stored", s.get("records"))
    for key, expected in (("duplicates", 0), ("mismatches", 0), ("gap_records", 0)):
        if key in s and int(s[key]) != expected:
            raise SystemExit("bench: %s: the platform reports %s = %s" % (what, key, s[key]))
    if stored is not None and int(stored) != count:
        raise SystemExit("bench: %s: the platform stored %s records, expected %d" % (what, stored, count))
    progress("%s: platform stream %s" % (what, json.dumps({k: s.get(k) for k in
                                                           ("acked_through", "stored", "duplicates",
                                                            "mismatches", "rejected", "batches")})))


# --- the benchmarks ----------------------------------------------------------------------------

def bench_intake():
    work = Workdir("intake")
    progress("load average before: %s; generating %d records" % (load_average(), RECORDS))
    staging, files, size = work.generate("intake", RECORDS)
    # A platform that is absent: nothing listens on this port, so every record stays queued.
    daemon = Daemon(work, "intake", free_port()).start()
    time.sleep(1.0)  # let start-up settle, so the figure is about intake alone
    cpu0, th0 = daemon.cpu(), thread_cpu(daemon.proc.pid)
    t0 = time.monotonic()
    daemon.drop(staging, files)
    t1 = wait_queued(daemon, RECORDS, "intake")
    cpu1 = daemon.cpu()
    progress("intake: xnoded " + thread_report(th0, thread_cpu(daemon.proc.pid)))
    rss = daemon.peak_rss_mib()
    quarantined = daemon.quarantined()
    progress("intake: %d records (%.0f MB NDJSON) queued in %.2f s, daemon CPU %.2f s, quarantine %d, load %s"
             % (RECORDS, size / 1e6, t1 - t0, cpu1 - cpu0, quarantined, load_average()))
    if quarantined:
        raise SystemExit("bench: intake: %d records went to the quarantine" % quarantined)
    daemon.stop()
    figure("intake_records_per_s", RECORDS / (t1 - t0))
    figure("intake_peak_rss_mib", rss)
    figure("peak_rss_mib", rss)
    figure("intake_xnoded_cpu_s_per_million", (cpu1 - cpu0) * 1e6 / RECORDS)


def bench_e2e():
    work = Workdir("e2e")
    progress("load average before: %s; generating 2 x %d records" % (load_average(), RECORDS))
    staging_a, files_a, size_a = work.generate("live", RECORDS, seed=42)
    staging_b, files_b, _ = work.generate("backlog", RECORDS, seed=43)

    # 1. Live: daemon and platform both running, the files dropped, time until all acknowledged.
    platform = Platform(work, "live").start()
    platform.wait_ready()
    daemon = Daemon(work, "live", platform.port).start()
    # The link is up once the hello went through: the platform then knows the node's streams.
    wait_for(lambda: NODE_ID in json.dumps(platform.get("/admin/state")), 120, "the node's hello", 0.1)
    time.sleep(1.0)
    d0, p0 = daemon.cpu(), cpu_seconds(platform.proc.pid)
    dt0, pt0 = thread_cpu(daemon.proc.pid), thread_cpu(platform.proc.pid)
    t0 = time.monotonic()
    daemon.drop(staging_a, files_a)
    t1 = wait_acked(platform, daemon, RECORDS, "e2e")
    d1, p1 = daemon.cpu(), cpu_seconds(platform.proc.pid)
    progress("e2e: xnoded " + thread_report(dt0, thread_cpu(daemon.proc.pid)))
    progress("e2e: platform " + thread_report(pt0, thread_cpu(platform.proc.pid)))
    rss = daemon.peak_rss_mib()
    platform_rss = proc_status_kib(platform.proc.pid, "VmHWM") / 1024.0
    check_delivery(platform, RECORDS, "e2e")
    progress("e2e: %d records (%.0f MB NDJSON) acknowledged %.2f s after the drop; CPU xnoded %.2f s, platform "
             "%.2f s; load %s" % (RECORDS, size_a / 1e6, t1 - t0, d1 - d0, p1 - p0, load_average()))
    daemon.stop()
    platform.stop()

    # 2. Backlog: the platform is absent while the records are taken in; then 30 s of outage with
    #    the records queued (the daemon's CPU is measured); then the platform starts.
    port = free_port()
    daemon = Daemon(work, "backlog", port).start()
    q0 = time.monotonic()
    daemon.drop(staging_b, files_b)
    q1 = wait_queued(daemon, RECORDS, "backlog intake")
    progress("backlog: %d records queued in %.2f s; measuring %.0f s of outage" % (RECORDS, q1 - q0, OUTAGE_S))
    time.sleep(2.0)  # the intake's last group commit and compression settle
    o0, ot0 = daemon.cpu(), time.monotonic()
    time.sleep(OUTAGE_S)
    o1, ot1 = daemon.cpu(), time.monotonic()
    outage_percent = (o1 - o0) * 100.0 / (ot1 - ot0)
    progress("outage: xnoded used %.2f s CPU in %.1f s" % (o1 - o0, ot1 - ot0))
    platform = Platform(work, "backlog", port=port)
    first_ack = []
    b0 = time.monotonic()
    bd0, bt0 = daemon.cpu(), thread_cpu(daemon.proc.pid)
    platform.start()
    b1 = wait_acked(platform, daemon, RECORDS, "backlog drain", first_ack)
    bd1, bp1 = daemon.cpu(), cpu_seconds(platform.proc.pid)
    progress("backlog: xnoded " + thread_report(bt0, thread_cpu(daemon.proc.pid)))
    check_delivery(platform, RECORDS, "backlog")
    backlog_rss = daemon.peak_rss_mib()
    first = (first_ack[0] - b0) if first_ack else (b1 - b0)
    progress("backlog: all acknowledged %.2f s after the platform was started (first acknowledgement after "
             "%.2f s); xnoded CPU %.2f s; load %s" % (b1 - b0, first, bd1 - bd0, load_average()))
    daemon.stop()
    platform.stop()

    figure("e2e_records_per_s", RECORDS / (t1 - t0))
    figure("backlog_drain_records_per_s", RECORDS / (b1 - b0))
    figure("xnoded_peak_rss_mib", max(rss, backlog_rss))
    figure("xnoded_cpu_s_per_million", (d1 - d0) * 1e6 / RECORDS)
    figure("platform_cpu_s_per_million", (p1 - p0) * 1e6 / RECORDS)
    figure("xnoded_outage_cpu_percent", outage_percent)
    # Supporting figures: where the drain time goes.
    figure("backlog_first_ack_s", first)
    if b1 - b0 > first:
        figure("backlog_transfer_records_per_s", RECORDS / (b1 - b0 - first))
    figure("backlog_xnoded_cpu_s_per_million", (bd1 - bd0) * 1e6 / RECORDS)
    figure("backlog_platform_cpu_s_per_million", bp1 * 1e6 / RECORDS)  # includes its start-up
    figure("platform_peak_rss_mib", platform_rss)
    figure("load_average", '"%s"' % load_average())


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("intake", "e2e"):
        raise SystemExit("usage: xnode_bench.py intake|e2e")
    require_programs()
    {"intake": bench_intake, "e2e": bench_e2e}[sys.argv[1]]()


if __name__ == "__main__":
    main()
