"""Catalog files edited while the daemon runs (issue #4 "Sync"): a new resource file is picked up
without SIGHUP and reaches the platform's catalog; an invalid edit keeps the last valid slice in
force, shows in status and the log, and records keep flowing; the fixed file is applied."""
import json
import os
import sqlite3
import time

from _harness import (ENTERPRISE, Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("catalog-live")
platform = Platform(env).start()
env.write_config(platform.port)
# The department last saved its slice 400 days ago: its yearly review is due (Art. 12).
long_ago = time.time() - 400 * 86400
for name in os.listdir(env.catalog):
    os.utime(os.path.join(env.catalog, name), (long_ago, long_ago))
env.start_daemon()
pid = env.daemon.pid
NODE = "scj-01"


def platform_catalog_version():
    node = platform.get("/admin/state").get("nodes", {}).get(NODE)
    return node.get("catalog_version", 0) if node else 0


def status_catalog_version():
    return env.status().get("catalog", {}).get("version")


def last_error():
    return env.status().get("config", {}).get("last_error")


def place(path, text):
    """Write a catalog file the way tooling does: complete, then renamed into place (an editor that
    writes in place may be caught half-way by a tick; that is refused and then applied, but this test
    counts the audit events and wants one reload per edit)."""
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(path + ".part", path)


def delivered():
    return (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0)


wait_for(lambda: "yearly review is due" in env.daemon_log_text(), 15, "the yearly-review warning")
check(True, "a slice not edited for 400 days gives the yearly-review warning")
first = wait_for(lambda: platform_catalog_version() or None, 30, "the initial slice on the platform")
wait_for(lambda: status_catalog_version() == first, 20, "status to show the confirmed catalog version")
check(True, "initial slice stored on the platform at version %d" % first)

# (a) A new, valid resource file: same department, next resource number.
with open(os.path.join(env.catalog, "00003-inspection-results.yaml"), encoding="utf-8") as f:
    template = f.read()
new_resource = template.replace("-00003", "-00006").replace("name: 监督抽查结果", "name: 专项抽查结果", 1)
check(new_resource != template and "-00006" in new_resource, "the new resource differs from its template")
new_path = os.path.join(env.catalog, "00006-special-inspections.yaml")
place(new_path, new_resource)
t0 = time.monotonic()
wait_for(lambda: platform_catalog_version() > first, 15, "the new slice version on the platform")
took = time.monotonic() - t0
second = platform_catalog_version()
check(second == first + 1, "the platform stored the edited slice as version %d (was %d)" % (second, first))
check(took < 10, "picked up and synced within %.1f s, no SIGHUP" % took)
wait_for(lambda: status_catalog_version() == second, 20, "status to show catalog version %d" % second)
check(env.daemon.pid == pid and env.daemon.poll() is None, "same process, still running")
log_text = env.daemon_log_text()
check("catalog files in" in log_text and "changed: reloading" in log_text, "the log says why it reloaded")

# (b) An invalid edit: an unknown update cycle in the new file. The last valid slice stays in force.
place(new_path, new_resource.replace("update_cycle: monthly", "update_cycle: fortnightly", 1))
err = wait_for(last_error, 15, "the refused catalog edit to show in status")
check("00006-special-inspections.yaml" in err and "update_cycle" in err, "status names the file and the field: " + err)
check(env.daemon.poll() is None and env.daemon.pid == pid, "the daemon keeps running on the last valid slice")
before = delivered()
env.drop_file("during-bad-edit.ndjson", gen_records(400, seed=31))
wait_for(lambda: delivered() >= before + 400, 30, "records delivered while the catalog edit is refused")
check(True, "records keep flowing while the edit is refused")
time.sleep(3)  # a refused edit must not be synced: give it more than a tick to go wrong
check(platform_catalog_version() == second, "the platform still holds version %d" % second)
log_text = env.daemon_log_text()
check("00006-special-inspections.yaml:" in log_text and "reload refused" in log_text,
      "the error line (file:line:col) and the refusal are logged")

# (c) The fix: a valid change of the same resource, applied and synced.
place(new_path, new_resource.replace("update_cycle: monthly", "update_cycle: weekly", 1))
wait_for(lambda: platform_catalog_version() > second, 15, "the fixed slice on the platform")
check(platform_catalog_version() == second + 1, "the fixed slice stored as version %d" % (second + 1))
wait_for(lambda: last_error() is None, 15, "the error cleared from status")
check(True, "status no longer shows an error")

# Removing the resource file is a change too.
os.unlink(new_path)
wait_for(lambda: platform_catalog_version() > second + 1, 15, "the slice without the new resource")
check(True, "a removed resource file is synced as well")

check(env.stop_daemon() == 0, "clean stop")

# The audit trail: every applied catalog edit is a config.loaded with the new slice's hash, the
# refused one a config.refused naming the error, and each stored version a catalog.synced.
events = [json.loads(line) for line in env.ctl("audit", "export").stdout.splitlines() if line.strip()]
loaded = [e for e in events if e["action"] == "config.loaded"]
hashes = [e["detail"].get("catalog_sha256") for e in loaded]
check(len(loaded) == 4 and None not in hashes and len(set(hashes[:3])) == 3,
      "4 slices loaded (start, add, fix, remove), the first three each with its own hash")
check(hashes[0] == hashes[-1], "removing the file gives back the original slice's hash")
refused = [e for e in events if e["action"] == "config.refused"]
check(len(refused) == 1 and "update_cycle" in refused[0]["detail"].get("first_error", ""),
      "the invalid edit audited once as refused")
# (the uplink session audits "catalog:N" too; the daemon's event carries the stored version)
synced = [e["detail"]["version"] for e in events if e["action"] == "catalog.synced" and e["object"] == "catalog"]
check(synced[-3:] == [second, second + 1, second + 2], "catalog.synced for each new version: %s" % synced)
check(env.ctl("audit", "verify").returncode == 0, "the audit chain verifies")

# Overdue, across a restart: the last intake times live in the queue file. Make the stored times
# three days old (as if the node had been off), restart, and the daily and realtime resources
# with no fresh record are overdue; a record for one of them takes it off the list.
queue_db = os.path.join(env.dir, "state", "queue.db")
db = sqlite3.connect(queue_db)
stored = dict(db.execute("SELECT key, value FROM source_marks WHERE source = '_intake'").fetchall())
check("_since" in stored and SERVICE_CASES in stored, "tracking start and last intake persisted: %s" % sorted(stored))
three_days_ago = str(int((time.time() - 3 * 86400) * 1000))
db.execute("UPDATE source_marks SET value = ? WHERE source = '_intake'", (three_days_ago,))
db.commit()
db.close()
env.start_daemon()


def overdue_codes():
    return sorted(o["code"] for o in env.status().get("catalog", {}).get("overdue", []))


expected = sorted([ENTERPRISE, SERVICE_CASES, ENTERPRISE.replace("101003/", "101004/").replace("-00001", "-00002")])
got = wait_for(lambda: overdue_codes() == expected and overdue_codes(), 20, "the overdue list after restart")
check(True, "daily and realtime resources overdue after 3 silent days, monthly and share-none not: %s" % got)
alarms = [a["id"] for a in env.status().get("alarms", [])]
check("overdue_resources" in alarms, "the overdue_resources alarm is raised: %s" % alarms)
entry = [o for o in env.status()["catalog"]["overdue"] if o["code"] == SERVICE_CASES][0]
check(entry["update_cycle"] == "realtime" and entry["last_update"] is not None,
      "the entry names the cycle and the last record's time: %s" % entry)
env.drop_file("fresh.ndjson", gen_records(10, seed=41, start=50001))
wait_for(lambda: SERVICE_CASES not in overdue_codes(), 20, "a fresh record to clear the resource's overdue state")
check(len(overdue_codes()) == 2, "only the resources still silent stay overdue")
check(env.stop_daemon() == 0, "clean stop after the overdue check")
platform.stop()
check.finish()
