"""Catalog sync against the reference platform (issue #4 "Sync", platform-api.md §3.2):
- an unchanged slice sends nothing (a reload and a restart: no PUT reaches the platform);
- a conflict made on the platform side (someone else stores a new version of the node's slice) →
  the node's next PUT gets 409, it GETs the platform's copy, audits the drift, re-bases and sends
  again: the platform ends with the department's slice, exactly two PUTs;
- a 422 (the bureau refuses a resource the node accepts: the platform's admin refusal) → the
  catalog_refused alarm carries the platform's problems, records of the other resources keep
  flowing; the refusal lifted and the file edited, the slice is stored and the alarm clears."""
import http.client
import json
import os
import signal
import ssl
import time

from _harness import (ENTERPRISE, Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("catalog-sync")
platform = Platform(env).start()
env.write_config(platform.port)
env.start_daemon()
NODE = "scj-01"


def node_state():
    return platform.get("/admin/state").get("nodes", {}).get(NODE, {})


def platform_version():
    return node_state().get("catalog_version", 0)


def puts():
    return node_state().get("catalog_puts", 0)


def delivered():
    return (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0)


def xep(method, path, doc=None):
    """A request to the platform's XEP API with the node's certificate: another party (the bureau's
    tooling) acting on the node's catalog."""
    ctx = ssl.create_default_context(cafile=os.path.join(env.pki, "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(os.path.join(env.pki, "node.crt"), os.path.join(env.pki, "node.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", platform.port, context=ctx, timeout=10)
    body = json.dumps(doc, ensure_ascii=False).encode() if doc is not None else None
    conn.request(method, "/xep/v1/" + path, body=body,
                 headers={"X-XN-Node": NODE, "Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, (json.loads(text) if text.strip() else None)


def canonical_sha(resources):
    import hashlib
    ordered = sorted(resources, key=lambda r: r["code"])
    text = json.dumps(ordered, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def audit_events():
    return [json.loads(l) for l in env.ctl("audit", "export").stdout.splitlines() if l.strip()]


def place(path, text):
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(path + ".part", path)


def alarms():
    return {a["id"]: a for a in env.status().get("alarms", [])}


first = wait_for(lambda: platform_version() or None, 30, "the initial slice on the platform")
env.drop_file("a.ndjson", gen_records(200, seed=71))
wait_for(lambda: delivered() >= 200, 30, "records delivered")
puts_at_start = puts()
check(puts_at_start == 1, "one PUT stored the initial slice (version %d)" % first)

# --- an unchanged slice sends nothing: a reload, then a restart
loaded = env.daemon_log_text().count("applied")
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: env.daemon_log_text().count("applied") > loaded, 15, "the reload")
check(env.stop_daemon() == 0, "clean stop")
os.unlink(os.path.join(env.dir, "run", "status.json"))
env.start_daemon()
wait_for(lambda: env.status().get("link", {}).get("state") == "up", 30, "the link up after the restart")
env.drop_file("b.ndjson", gen_records(100, seed=72, start=1000))
wait_for(lambda: delivered() >= 300, 30, "records delivered after the restart")
time.sleep(2)
check(puts() == puts_at_start and platform_version() == first,
      "reload and restart with an unchanged slice: no PUT (%d PUTs, version %d)" % (puts(), platform_version()))

# --- a conflict made on the platform side
status, doc = xep("GET", "catalog")
check(status == 200 and doc["version"] == first, "the platform's copy read back (version %d)" % doc["version"])
theirs = doc["resources"]
edited = [r for r in theirs if r["code"] == ENTERPRISE]
check(len(edited) == 1, "the enterprise resource is in the platform's copy")
edited[0]["abstract"] = edited[0]["abstract"] + "（平台侧修订）"
status, answer = xep("PUT", "catalog", {"base_version": first, "sha256": canonical_sha(theirs), "resources": theirs})
if status == 400 and answer and answer.get("expected_sha256"):
    # our canonical form differs from RFC 8785 somewhere: take the platform's word for the hash
    status, answer = xep("PUT", "catalog", {"base_version": first, "sha256": answer["expected_sha256"], "resources": theirs})
check(status == 200 and answer["version"] == first + 1, "someone else stored version %d on the platform" % (first + 1))
puts_before = puts()

# The department edits its files (a new resource): the node's PUT is based on version `first`.
with open(os.path.join(env.catalog, "00003-inspection-results.yaml"), encoding="utf-8") as f:
    template = f.read()
new_resource = template.replace("-00003", "-00006").replace("name: 监督抽查结果", "name: 专项抽查结果", 1)
place(os.path.join(env.catalog, "00006-special-inspections.yaml"), new_resource)
wait_for(lambda: platform_version() == first + 2, 20, "the re-based slice on the platform")
check(True, "the node re-based on version %d and stored version %d" % (first + 1, first + 2))
check(puts() - puts_before == 2, "two PUTs: the stale one (409) and the re-based one (%d)" % (puts() - puts_before))
status, doc = xep("GET", "catalog")
mine = [r for r in doc["resources"] if r["code"] == ENTERPRISE][0]
check("平台侧修订" not in mine["abstract"], "the platform ends with the department's own text for the resource")
check(any(r["code"].endswith("-00006") for r in doc["resources"]), "and with the new resource")
events = audit_events()
conflict = [e for e in events if e["action"] == "catalog.conflict"]
check([e["result"] for e in conflict] == ["conflict", "reconciled"], "conflict then reconciliation audited: %s" %
      [e["result"] for e in conflict])
drift = conflict[-1]["detail"] if conflict else {}
check(drift.get("changed") == [ENTERPRISE] and any(c.endswith("-00006") for c in drift.get("only_local", [])),
      "the drift names the resource changed on the platform and the new local one: %s" % drift)
loaded_sha = [e["detail"]["catalog_sha256"] for e in events if e["action"] == "config.loaded"][-1]
check(doc["sha256"] == loaded_sha, "the platform's hash equals the node's slice hash")

# --- 422: the bureau refuses a resource the node accepts
refused_code = ENTERPRISE.replace("-00001", "-00007")
platform.post("/admin/catalog/refuse", {"code": refused_code, "reason": "资源编码未在局方目录登记"})
with open(os.path.join(env.catalog, "00001-enterprise-registration.yaml"), encoding="utf-8") as f:
    template = f.read()
check(ENTERPRISE in template, "the enterprise file holds its code")
seventh = template.replace(ENTERPRISE, refused_code).replace("-00001", "-00007")
place(os.path.join(env.catalog, "00007-refused.yaml"), seventh)
got = wait_for(lambda: alarms().get("catalog_refused"), 20, "the catalog_refused alarm")
check(refused_code in got["text"] and "局方目录" in got["text"],
      "the alarm carries the platform's problem: %s" % got["text"])
check(platform_version() == first + 2, "the platform keeps version %d" % (first + 2))
before = delivered()
env.drop_file("c.ndjson", gen_records(150, seed=73, start=5000))
wait_for(lambda: delivered() >= before + 150, 30, "records of an unaffected resource")
check(True, "records of the unaffected resource keep flowing while the slice is refused")
refused = [e for e in audit_events() if e["action"] == "catalog.refused"]
check(any(p["code"] == refused_code for e in refused for p in e["detail"].get("problems", [])),
      "catalog.refused audited with the problems")

# The bureau registers the code; the department saves the file again: stored, alarm cleared.
platform.post("/admin/catalog/refuse", {"code": refused_code, "reason": ""})
place(os.path.join(env.catalog, "00007-refused.yaml"), seventh.replace("update_cycle: daily", "update_cycle: weekly", 1)
      if "update_cycle: daily" in seventh else seventh + "\n# saved again\n")
wait_for(lambda: platform_version() == first + 3, 20, "the corrected slice stored")
wait_for(lambda: "catalog_refused" not in alarms(), 60, "the alarm to clear")
check(True, "stored as version %d and the alarm cleared" % (first + 3))

check(env.stop_daemon() == 0, "clean stop")
check(env.ctl("audit", "verify").returncode == 0, "the audit chain verifies")
platform.stop()
check.finish()
