"""Operator commands through xnodectl (issues #4 and #5): every command is audited with the calling
uid — through the daemon's control socket (uid from SO_PEERCRED) while it runs, by xnodectl itself
into the same chain when it does not; quarantine retry after the catalog was fixed (the record is
then delivered exactly once), a retry that still fails keeps the entry with its reason; purge by id
and --all; the retention sweep of quarantine.retention; the socket's mode, its refusals, and its
removal at stop."""
import hashlib
import http.client
import json
import os
import socket
import sqlite3
import ssl
import stat
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("operator")
platform = Platform(env).start()
env.write_config(platform.port)
env.start_daemon()
sock_path = os.path.join(env.dir, "run", "control.sock")
UID = os.getuid()


def delivered():
    return (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0)


def quarantine():
    r = env.ctl("quarantine", "list", "--json")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def audit_events():
    return [json.loads(line) for line in env.ctl("audit", "export").stdout.splitlines() if line.strip()]


def operator_events():
    return [e for e in audit_events() if e["action"] == "operator.command"]


def place(path, text):
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(path + ".part", path)


def restart():
    """Starts the daemon again and waits for its fresh status (the old file is still there)."""
    os.unlink(os.path.join(env.dir, "run", "status.json"))
    env.start_daemon()
    wait_for(lambda: os.path.exists(sock_path), 10, "the control socket")


def raw_request(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(payload)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data.decode()) if data else None


wait_for(lambda: os.path.exists(sock_path), 10, "the control socket")
mode = stat.S_IMODE(os.stat(sock_path).st_mode)
check(stat.S_ISSOCK(os.stat(sock_path).st_mode) and mode == 0o660, "control socket made with mode %o" % mode)

# Five good records and two whose status is longer than the catalog's 20 characters.
good = [json.loads(l) for l in gen_records(5, seed=61)]
bad = [dict(r, serial="Q-%d" % i, status="pending-external-review-by-bureau") for i, r in
       enumerate(json.loads(l) for l in gen_records(2, seed=62, start=100))]
env.drop_file("mixed.ndjson", good + bad)
wait_for(lambda: delivered() >= 5, 30, "the good records delivered")
entries = wait_for(lambda: len(quarantine()) == 2 and quarantine(), 15, "two quarantine entries")
check(all("status" in e["reason"] for e in entries), "both quarantined for their status: %s" % entries[0]["reason"])
ids = sorted(e["id"] for e in entries)

# Retry before the catalog is fixed: still failing, the entry stays with its reason.
r = env.ctl("quarantine", "retry", str(ids[0]))
check(r.returncode == 0 and "still fails" in r.stdout, "retry before the fix: still fails (%s)" % r.stdout.strip())
check(len(quarantine()) == 2, "both entries still in quarantine")

# Fix the catalog: status may have 40 characters. The daemon picks the edit up on its tick.
cases_file = os.path.join(env.catalog, "00004-service-cases.yaml")
with open(cases_file, encoding="utf-8") as f:
    text = f.read()
fixed = text.replace("{name: status, title: 办件状态, type: C, length: 20}", "{name: status, title: 办件状态, type: C, length: 40}")
check(fixed != text, "the catalog edit changes the status item")
place(cases_file, fixed)
wait_for(lambda: "configuration version" in env.daemon_log_text() and
         env.daemon_log_text().count("changed: reloading") >= 1, 15, "the catalog edit applied")
time.sleep(1.5)

r = env.ctl("quarantine", "retry", str(ids[0]))
check(r.returncode == 0 and "queued in " + SERVICE_CASES in r.stdout, "retry after the fix: queued (%s)" % r.stdout.strip())
wait_for(lambda: delivered() >= 6, 30, "the retried record delivered")
r = env.ctl("quarantine", "retry", "--all", "--source", "cases")
check(r.returncode == 0 and "1 queued" in r.stdout, "retry --all --source cases queues the other one: %s" % r.stdout.strip())
wait_for(lambda: delivered() >= 7, 30, "the second retried record delivered")
check(quarantine() == [], "quarantine empty after the retries")
time.sleep(2)
records = platform.records(SERVICE_CASES)
serials = [rec.get("key") for rec in records]
check(len(records) == 7 and len(set(serials)) == 7, "the platform holds 7 records, each once (%d)" % len(records))
again = env.ctl("quarantine", "retry", str(ids[0]), check=False)
check(again.returncode == 1 and "no quarantine entry %d" % ids[0] in again.stderr,
      "retrying a retried entry again: nothing twice (%s)" % again.stderr.strip())

# Purge: two records without their required name.
nameless = [dict(json.loads(l), serial="P-%d" % i) for i, l in enumerate(gen_records(3, seed=63, start=200))]
for n in nameless:
    n.pop("name")
env.drop_file("nameless.ndjson", nameless)
entries = wait_for(lambda: len(quarantine()) == 3 and quarantine(), 15, "three nameless records quarantined")
first = min(e["id"] for e in entries)
r = env.ctl("quarantine", "purge", str(first))
check(r.returncode == 0 and "purged 1 " in r.stdout, "purge ID: %s" % r.stdout.strip())
check(len(quarantine()) == 2, "two left")
bad_purge = env.ctl("quarantine", "purge", check=False)
check(bad_purge.returncode == 2 and "needs ID" in bad_purge.stderr, "purge without a selection is refused: %s" % bad_purge.stderr.strip())
r = env.ctl("quarantine", "purge", "--all")
check(r.returncode == 0 and "purged 2 " in r.stdout and quarantine() == [], "purge --all: %s" % r.stdout.strip())

# The socket refuses what is not a request, and a request that names its own uid.
resp = raw_request(b"hello\n")
check(resp and resp["ok"] is False and "request" in resp.get("error", ""), "garbage refused: %s" % resp)
resp = raw_request(b'{"v":1,"mode":"run","argv":["quarantine","purge","--all"],"uid":0}\n')
check(resp and resp["ok"] is False and "uid" in resp.get("error", ""), "a client-supplied uid is refused: %s" % resp)
resp = raw_request(b"x" * 20000)
check(resp and resp["ok"] is False and "longer than" in resp.get("error", ""), "an oversized request refused")

# Every command above is in the audit trail with our uid (read-only ones too).
ops = operator_events()
by_object = {}
for e in ops:
    by_object.setdefault(e["object"], []).append(e)
check(all(e["actor"] == "uid:%d" % UID and e["detail"]["uid"] == UID for e in ops),
      "%d operator.command events, all with actor uid:%d" % (len(ops), UID))
retry_events = by_object.get("quarantine retry %d" % ids[0], [])
check([e["result"] for e in retry_events] == ["ok", "ok", "failed"] and retry_events[1]["detail"]["queued"] == 1,
      "the three retries of entry %d audited: %s" % (ids[0], [e["result"] for e in retry_events]))
check(by_object.get("quarantine purge --all", [{}])[0].get("detail", {}).get("purged") == 2, "purge --all audited with its count")
check(any(o == "quarantine list --json" for o in by_object) and
      all(e["detail"].get("via") == "control_socket" for e in ops), "read-only commands audited through the socket")

# Stop: the socket file goes; a mutating command needs the daemon, a read-only one is audited by xnodectl.
check(env.stop_daemon() == 0, "clean stop")
check(not os.path.exists(sock_path), "control socket removed at stop")
r = env.ctl("quarantine", "purge", "--all", check=False)
check(r.returncode == 1 and "not running" in r.stderr, "purge without the daemon: %s" % r.stderr.strip())
r = env.ctl("queue", "streams")
check(r.returncode == 0 and "not audited" not in r.stderr, "a read-only command works without the daemon")
ops = operator_events()
offline = [e for e in ops if e["object"] == "queue streams"]
check(len(offline) == 1 and offline[0]["detail"].get("via") == "xnodectl" and offline[0]["actor"] == "uid:%d" % UID,
      "audited by xnodectl itself with uid %d" % UID)
check(env.ctl("audit", "verify").returncode == 0, "the audit chain verifies with xnodectl's own events in it")

# Retention: two entries quarantined 100 days ago (quarantine.retention is 90 days by default).
# A stale socket file from a crash is replaced at start.
with open(sock_path, "w"):
    pass
os.unlink(sock_path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
s.close()
restart()
env.drop_file("nameless2.ndjson", [dict(n, serial="R-%s" % n["serial"]) for n in nameless])
wait_for(lambda: len(quarantine()) == 3, 15, "three new quarantine entries")
check(env.stop_daemon() == 0, "stop before ageing the entries")
db = sqlite3.connect(os.path.join(env.dir, "state", "queue.db"))
db.execute("UPDATE quarantine SET at_ms = at_ms - 100 * 86400000 WHERE id IN (SELECT id FROM quarantine ORDER BY id LIMIT 2)")
db.commit()
db.close()
restart()
check(stat.S_ISSOCK(os.stat(sock_path).st_mode), "a stale socket file replaced at start")
wait_for(lambda: len(quarantine()) == 1, 15, "the sweep of the two old entries")
check(True, "the retention sweep removed the entries older than 90 days, kept the recent one")
st = wait_for(lambda: env.status().get("xnoded", {}).get("quarantine_retention_removed") == 2 and env.status(), 10,
              "status to count the swept entries")
check(st["xnoded"]["quarantine_retention_removed"] == 2, "status counts 2 entries removed by retention")
check(env.stop_daemon() == 0, "clean stop")
expired = [e for e in audit_events() if e["action"] == "quarantine.expired"]
check(len(expired) == 1 and expired[0]["detail"]["removed"] == 2, "the sweep audited once with its count")

# Records the platform rejected (`rejected` in a batch answer) retry the same way. Someone stores a
# stricter copy of the slice on the platform (status at most 3 characters), so the platform rejects
# the node's records; a restart makes the node reconcile (its files are the source of truth), and
# the retry then delivers them.
def xep(method, path, doc=None):
    ctx = ssl.create_default_context(cafile=os.path.join(env.pki, "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(os.path.join(env.pki, "node.crt"), os.path.join(env.pki, "node.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", platform.port, context=ctx, timeout=10)
    conn.request(method, "/xep/v1/" + path, body=json.dumps(doc, ensure_ascii=False).encode() if doc else None,
                 headers={"X-XN-Node": "scj-01", "Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, (json.loads(text) if text.strip() else None)


def platform_version():
    return platform.get("/admin/state").get("nodes", {}).get("scj-01", {}).get("catalog_version", 0)


restart()
env.ctl("quarantine", "purge", "--all")
status, doc = xep("GET", "catalog")
version = doc["version"]
for r in doc["resources"]:
    if r["code"] == SERVICE_CASES:
        for item in r["items"]:
            if item["name"] == "status":
                item["length"] = 3
ordered = sorted(doc["resources"], key=lambda r: r["code"])
sha = hashlib.sha256(json.dumps(ordered, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
status, answer = xep("PUT", "catalog", {"base_version": version, "sha256": sha, "resources": doc["resources"]})
if status == 400 and answer and answer.get("expected_sha256"):
    status, answer = xep("PUT", "catalog", {"base_version": version, "sha256": answer["expected_sha256"],
                                            "resources": doc["resources"]})
check(status == 200, "a stricter slice stored on the platform side (version %s)" % (answer or {}).get("version"))
before = delivered()
env.drop_file("strict.ndjson", gen_records(3, seed=64, start=300))
entries = wait_for(lambda: len(quarantine()) == 3 and quarantine(), 30, "three records rejected by the platform")
check(all(e["source"] == "platform" and e["origin"].startswith("seq ") for e in entries),
      "quarantined as platform rejections: %s" % entries[0]["reason"])
check(env.stop_daemon() == 0, "stop")
restart()
wait_for(lambda: platform_version() == version + 2, 30, "the node's slice back on the platform")
r = env.ctl("quarantine", "retry", "--all")
check(r.returncode == 0 and "3 queued" in r.stdout, "platform rejections retried: %s" % r.stdout.strip().splitlines()[-1])
wait_for(lambda: len(platform.records(SERVICE_CASES)) == 7 + 3, 30, "the retried records accepted by the platform")
check(quarantine() == [], "quarantine empty")
check(env.stop_daemon() == 0, "clean stop")
check(env.ctl("audit", "verify").returncode == 0, "the audit chain verifies")
platform.stop()
check.finish()
