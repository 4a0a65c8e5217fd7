"""The audit trail with the real xnoded, xnodectl and reference platform (issue #5; §3.6).

- The chain stays intact across a clean restart and across SIGKILL while events are being written
  (`xnodectl audit verify` passes, seqs contiguous, each restart continues from the stored head).
- Shipping resumes after a platform outage: the platform ends up with every event once
  (events == acked_through == the node's count) and its own re-verification of the chain passes.
- Tampering with the stopped daemon's audit table with plain SQLite — editing a row, deleting a
  row, swapping two rows — is each found by `xnodectl audit verify`, which exits non-zero and
  names the event; a daemon started on the edited table raises audit_chain_broken.

Not repeated here (tests/unit/io_stores/audit_store_test.cpp asserts it on the store itself):
SIGKILL of a writer process in the middle of a batch, pruning, quota and overflow.
test_platform_faults.py checks the platform's chain after 503s, drops and slow answers."""
import json
import os
import shutil
import signal
import sqlite3
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
started = time.time()
env = Env("audit-trail")
platform = Platform(env).start()
env.write_config(platform.port, heartbeat="5s", backoff_max="1s",
                 extra_uplink="  max_batch_records: 100\n",
                 extra_health="  alarms:\n    link_down_after: 2s\n    clear_after: 2s\n")
AUDIT_DB = os.path.join(env.dir, "state", "audit.db")


def export():
    return [json.loads(l) for l in env.ctl("audit", "export").stdout.splitlines() if l.strip()]


def verify():
    r = env.ctl("audit", "verify", check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


STATUS_FILE = os.path.join(env.dir, "run", "status.json")


def running_status():
    """The status file written by the daemon running now (the file outlives a stopped or killed
    one). Read directly: an xnodectl call while xnoded starts may take the audit store's lock
    first (xnodectl audits its own commands into the store when the daemon does not answer)."""
    try:
        with open(STATUS_FILE, encoding="utf-8") as f:
            st = json.load(f)
    except (OSError, ValueError):
        return None
    return st if env.daemon and st.get("xnoded", {}).get("pid") == env.daemon.pid else None


def start():
    env.start_daemon(wait_ready=False)
    wait_for(lambda: running_status() or env.daemon.poll() is not None, 30, "xnoded to write its status")
    if env.daemon.poll() is not None:
        raise AssertionError("xnoded exited with %s:\n%s" % (env.daemon.returncode, env.daemon_log_text()[-2000:]))


def contiguous(events):
    return [e["seq"] for e in events] == list(range(1, len(events) + 1))


sent = 0


def deliver(n, seed):
    global sent
    env.drop_file("batch-%d.ndjson" % seed, gen_records(n, seed=seed, start=sent))
    sent += n


# --- a clean restart ------------------------------------------------------------------------------
start()
deliver(1000, 1)
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= sent, 60, "delivery")
check(env.stop_daemon() == 0, "clean stop")
before = export()
start()
events = wait_for(lambda: (lambda ev: ev if any(e["action"] == "node.started" for e in ev[len(before):]) else None)(
    export()), 20, "the restart's events")
rc, text = verify()
check(rc == 0 and contiguous(events), "clean restart: chain intact, seqs 1..%d contiguous (%s)" % (len(events), text))
check(events[len(before)]["prev"] == before[-1]["hash"], "the restart continued the chain from the stored head")

# --- SIGKILL while the platform is away and events are being written ---------------------------
log("--- platform stopped, records arrive, SIGKILL")
platform.stop()
deliver(3000, 2)
wait_for(lambda: "link_down" in [a["id"] for a in (running_status() or {}).get("alarms", [])], 30,
         "the link_down alarm")
for i in range(3):
    deliver(200, 10 + i)
    time.sleep(0.3 * i)
    env.daemon.send_signal(signal.SIGKILL)
    env.daemon.wait(10)
    env.daemon = None
    start()
events = export()
rc, text = verify()
check(rc == 0 and contiguous(events), "3 × SIGKILL: chain intact, seqs 1..%d contiguous (%s)" % (len(events), text))
starts = [e for e in events if e["action"] == "node.started"]
check(len(starts) == 5, "every start audited (%d node.started)" % len(starts))

# --- shipping resumes after the outage ------------------------------------------------------------
log("--- platform back")
platform = Platform(env, port=platform.port, admin_port=platform.admin_port).start()
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= sent, 90, "delivery after the outage")


def stored_events():
    """Events in the node's audit store, read directly (every xnodectl command is audited itself)."""
    con = sqlite3.connect("file:%s?mode=ro" % AUDIT_DB, uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    finally:
        con.close()


def audit_in_step():
    local = stored_events()
    remote = platform.get("/admin/audit/scj-01")
    return (local, remote) if remote["acked_through"] == local and remote["events"] == local else None


try:
    local, remote = wait_for(audit_in_step, 30, "the audit trail to reach the platform", interval=1)
    check(remote["chain_ok"], "shipping resumed after the outage: all %d events at the platform once, its "
                              "re-verification passes (%s)" % (local, remote.get("problem")))
except AssertionError as e:
    check(False, "shipping resumed after the outage (%s)" % e)
check(env.stop_daemon() == 0, "clean stop")
platform.stop()

# --- tampering with the stopped daemon's table -----------------------------------------------------
con = sqlite3.connect(AUDIT_DB)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.close()
pristine = AUDIT_DB + ".pristine"
shutil.copyfile(AUDIT_DB, pristine)
events = export()
k = len(events) // 2
log("--- tampering around event %d of %d" % (k, len(events)))


def tamper(sql_steps):
    for suffix in ("-wal", "-shm"):
        if os.path.exists(AUDIT_DB + suffix):
            os.remove(AUDIT_DB + suffix)
    shutil.copyfile(pristine, AUDIT_DB)
    con = sqlite3.connect(AUDIT_DB)
    with con:
        for sql, args in sql_steps:
            con.execute(sql, args)
    con.close()
    return verify()


rc, text = tamper([("UPDATE audit_event SET detail = ? WHERE seq = ?", ('{"records":1}', k))])
check(rc != 0 and ("event %d:" % k) in text and "edited" in text, "an edited row is found and named: %s" %
      text.replace("\n", " | "))

rc, text = tamper([("DELETE FROM audit_event WHERE seq = ?", (k,))])
check(rc != 0 and ("event %d missing" % k) in text and "deleted" in text, "a deleted row is found and named: %s" %
      text.replace("\n", " | "))

cols = "at_ms, at, actor, action, object, result, detail, prev, hash"
con = sqlite3.connect(pristine)
row_k = con.execute("SELECT %s FROM audit_event WHERE seq = ?" % cols, (k,)).fetchone()
row_k1 = con.execute("SELECT %s FROM audit_event WHERE seq = ?" % cols, (k + 1,)).fetchone()
con.close()
setter = ", ".join("%s = ?" % c.strip() for c in cols.split(","))
rc, text = tamper([("UPDATE audit_event SET %s WHERE seq = ?" % setter, row_k1 + (k,)),
                   ("UPDATE audit_event SET %s WHERE seq = ?" % setter, row_k + (k + 1,))])
check(rc != 0 and (("event %d" % k) in text or ("event %d" % (k + 1)) in text),
      "two swapped rows are found and named: %s" % text.replace("\n", " | "))

# A daemon started on an edited table says so at once (it re-verifies the tail at open).
tamper([("UPDATE audit_event SET object = ? WHERE seq = ?", ("forged", len(events) - 1))])
start()
alarms = []
try:
    alarms = wait_for(lambda: [a for a in (running_status() or {}).get("alarms", []) if a["id"] == "audit_chain_broken"],
                      15,
                      "the audit_chain_broken alarm")
except AssertionError as e:
    log(str(e))
check(bool(alarms), "a daemon started on an edited table raises audit_chain_broken: %s" %
      (alarms[0]["text"] if alarms else env.status().get("alarms")))
env.stop_daemon()
os.remove(pristine)
log("whole test: %.0f s" % (time.time() - started))
check.finish()
