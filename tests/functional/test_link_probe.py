"""Link liveness probe (issue #5, health.probe_interval): a platform that goes SILENT — its packets
dropped, no FIN, no RST — is reported `down` within about one probe interval while the node is idle,
and the records queued meanwhile arrive exactly once when it answers again.

A silent cut cannot be made on loopback, so the test builds its own pair of network namespaces
joined by a veth pair with private addresses that exist only inside them (10.200.0.1/30 for the
reference platform, 10.200.0.2/30 for xnoded); nothing touches the host's interfaces. The cut is an
nftables rule in the platform's namespace that drops the XEP port both ways. Needs root, `ip` and
`nft` (exit 77, skipped, otherwise). Namespaces, rules and processes are removed at exit, also on a
failure."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, _procs, gen_records, log,
                      require_programs, wait_for)

if os.geteuid() != 0:
    print("skipped: network namespaces and nftables need root")
    sys.exit(77)
for tool in ("ip", "nft", "openssl"):
    if not shutil.which(tool):
        print("skipped: `%s` is missing (scripts/setup installs iproute2 and nftables)" % tool)
        sys.exit(77)
require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)

PROBE_S = 3           # health.probe_interval under test
STATUS_EVERY_S = 2    # the daemon writes its status file every 2 s
SLACK_S = 1.5         # scheduling, the 1 s tick
NSP = "xnp-%d" % os.getpid()  # the platform's namespace
NSD = "xnd-%d" % os.getpid()  # the daemon's namespace
PLATFORM_IP, NODE_IP = "10.200.0.1", "10.200.0.2"
XEP_PORT, ADMIN_PORT = 8443, 8080  # the namespaces are new: any port is free
check = Check()


def run(*args, ns=None, input_text=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, input=input_text, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


env = Env("link-probe")
procs = []


def cleanup():
    # Processes first (they keep a namespace alive), then the namespaces (their veth ends and nft
    # tables go with them).
    for p in procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    for ns in (NSD, NSP):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


atexit.register(cleanup)  # runs before Env's cleanup (atexit is last in, first out)

# --- the namespaces ------------------------------------------------------------------------------
run("ip", "netns", "add", NSP)
run("ip", "netns", "add", NSD)
run("ip", "-n", NSP, "link", "add", "vp", "type", "veth", "peer", "name", "vd", "netns", NSD)
run("ip", "-n", NSP, "addr", "add", PLATFORM_IP + "/30", "dev", "vp")
run("ip", "-n", NSD, "addr", "add", NODE_IP + "/30", "dev", "vd")
for ns, dev in ((NSP, "vp"), (NSD, "vd")):
    run("ip", "-n", ns, "link", "set", "lo", "up")
    run("ip", "-n", ns, "link", "set", dev, "up")
check(NSP in run("ip", "netns", "list") and NSD in run("ip", "netns", "list"), "namespaces %s and %s made" % (NSP, NSD))

# The node checks the platform's certificate against uplink.server_name, not the address it dials.
san = run("openssl", "x509", "-in", os.path.join(env.pki, "platform.crt"), "-noout", "-ext", "subjectAltName")
check("DNS:platform.xchg.test" in san, "the platform certificate's SAN names uplink.server_name: %s" %
      " ".join(san.split()))

# --- the reference platform in its namespace ----------------------------------------------------
platform_log = os.path.join(env.dir, "platform.log")
platform = subprocess.Popen(
    ["ip", "netns", "exec", NSP, PLATFORM, "--listen", "%s:%d" % (PLATFORM_IP, XEP_PORT),
     "--admin", "127.0.0.1:%d" % ADMIN_PORT, "--cert", os.path.join(env.pki, "platform.crt"),
     "--key", os.path.join(env.pki, "platform.key"), "--ca", os.path.join(env.pki, "ca.crt"),
     "--crl", os.path.join(env.pki, "crl.pem"), "--db", os.path.join(env.dir, "platform.db")],
    stdout=open(platform_log, "ab"), stderr=subprocess.STDOUT)
procs.append(platform)
_procs.append(platform)

ADMIN_GET = ("import sys, urllib.request\n"
             "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())\n")


def admin(path):
    """GET on the platform's admin port, from inside its namespace (its loopback is its own)."""
    return json.loads(run(sys.executable, "-c", ADMIN_GET, "http://127.0.0.1:%d%s" % (ADMIN_PORT, path), ns=NSP))


def parse_time(text):
    """RFC 3339 with milliseconds and Z, as the status file writes it, to a POSIX time."""
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def stream():
    import urllib.parse
    try:
        return admin("/admin/streams/scj-01/%s" % urllib.parse.quote(SERVICE_CASES, safe=""))
    except AssertionError:
        return {}


wait_for(lambda: admin("/admin/state") is not None, 20, "the reference platform to answer")

# --- xnoded in the other namespace ---------------------------------------------------------------
env.write_config(XEP_PORT, endpoints=["https://%s:%d" % (PLATFORM_IP, XEP_PORT)], backoff_max="1s",
                 heartbeat="60s", extra_health="  probe_interval: %ds\n" % PROBE_S)
daemon = subprocess.Popen(["ip", "netns", "exec", NSD, XNODED, "--config", env.config_path],
                          stdout=open(env.daemon_log, "ab"), stderr=subprocess.STDOUT)
procs.append(daemon)
_procs.append(daemon)
env.daemon = daemon  # `ip netns exec` execs: the pid is xnoded's
wait_for(lambda: env._status_pid() == daemon.pid or daemon.poll() is not None, 30, "xnoded to write its status")
check(daemon.poll() is None, "xnoded runs in %s" % NSD)


def status():
    """The status file itself: every xnodectl command is audited and its audit event shipped at once,
    so polling through xnodectl would keep the link busy and the node never idle."""
    with open(os.path.join(env.dir, "run", "status.json"), encoding="utf-8") as f:
        return json.load(f)


def link():
    return status()["link"]


wait_for(lambda: link()["state"] == "up", 20, "the link to come up across the veth pair", interval=0.2)
check(True, "link up to %s" % link().get("endpoint", PLATFORM_IP))

N1, N2 = 200, 150
env.drop_file("before.ndjson", gen_records(N1, seed=7))
wait_for(lambda: stream().get("acked_through", 0) >= N1, 30, "the first records delivered")
check(stream().get("stored") == N1, "%d records delivered before the cut" % N1)
time.sleep(6)  # audit_linger and the batch.acked audit events: then nothing is due until the heartbeat
check(link()["state"] == "up", "link up and idle before the cut")

# --- the silent cut ---------------------------------------------------------------------------
CUT_RULES = """table inet xnode_cut {
  chain in { type filter hook input priority 0; policy accept; tcp dport %d drop; }
  chain out { type filter hook output priority 0; policy accept; tcp sport %d drop; }
}
""" % (XEP_PORT, XEP_PORT)
run("nft", "-f", "-", ns=NSP, input_text=CUT_RULES)
cut_at = time.time()
log("cut: the platform's port %d now drops every packet, both ways" % XEP_PORT)
down = wait_for(lambda: (lambda l: l if l["state"] == "down" else None)(link()),
                PROBE_S + STATUS_EVERY_S + SLACK_S + 10, "the link to read down", interval=0.2)
seen_after = time.time() - cut_at
found_after = parse_time(down["since"]) - cut_at
log("link down %.1f s after the cut (status file read %.1f s after it): %s" % (found_after, seen_after,
                                                                              down.get("cause")))
check(found_after <= PROBE_S + SLACK_S, "silent cut: link down within probe_interval %d s (+ %.1f s slack): %.1f s" %
      (PROBE_S, SLACK_S, found_after))
check(seen_after <= PROBE_S + STATUS_EVERY_S + SLACK_S,
      "the status file says so within %d s more: %.1f s" % (STATUS_EVERY_S, seen_after))
check("idle connection" in (down.get("cause") or ""), "the cause names the lost idle connection: %s" % down.get("cause"))

env.drop_file("during.ndjson", gen_records(N2, seed=8, start=N1))
wait_for(lambda: status()["queue"]["records"] == N2, 20, "records queued during the cut")
check(stream().get("stored") == N1, "nothing reached the platform during the cut")
check(link()["state"] == "down", "the link stays down while the platform is silent")

run("nft", "delete", "table", "inet", "xnode_cut", ns=NSP)
back_at = time.time()
log("cut removed")
wait_for(lambda: stream().get("acked_through", 0) >= N1 + N2, 30, "the queued records delivered")
log("delivered %.1f s after the cut was removed" % (time.time() - back_at))
st = stream()
check(st.get("stored") == N1 + N2 and st.get("mismatches", 0) == 0 and st.get("acked_through") == N1 + N2,
      "every record once: %d stored, acked through %d, %d mismatches" % (st.get("stored"), st.get("acked_through"),
                                                                      st.get("mismatches", 0)))
wait_for(lambda: link()["state"] == "up", 20, "the link to read up again", interval=0.2)
wait_for(lambda: status()["queue"]["records"] == 0, 20, "the queue to drain")
check(True, "link up again, queue drained")
check(env.stop_daemon() == 0, "clean stop")
check.finish()
