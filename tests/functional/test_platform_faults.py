"""Platform faults (issue #3): the reference platform misbehaves on purpose while the real xnoded
delivers — bursts of 503 with Retry-After, connections dropped after the request was read (handled
and then dropped: the platform stored what the node never heard acknowledged; and dropped
unhandled), slow answers (within and beyond the node's request timeout) — and every record still
arrives exactly once: stored == N, no mismatches, no declared gaps, the stored records are the
records dropped in the spool, each once, in seq order. Resent duplicates the platform ignores are
fine and expected.

Then a 403: the bureau disables the node → `xnodectl status --json` shows the platform_forbidden
alarm and the node stops sending (no request for a while, nothing stored); enabled again →
after uplink.forbidden_backoff (its 1 min floor) delivery resumes and the alarm clears."""
import json
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
started = time.time()
env = Env("platform-faults")
platform = Platform(env).start()
FORBIDDEN_BACKOFF_S = 60  # the configuration's floor for uplink.forbidden_backoff
REQUEST_TIMEOUT_S = 2
ALARM_CLEAR_AFTER_S = 5  # hysteresis: an alarm clears once its condition has been gone this long
# Small batches: more requests, so each fault meets batches rather than only hello or health.
env.write_config(platform.port, backoff_max="1s", request_timeout="%ds" % REQUEST_TIMEOUT_S,
                 extra_uplink="  max_batch_records: 50\n  forbidden_backoff: %ds\n" % FORBIDDEN_BACKOFF_S,
                 extra_health="  alarms:\n    clear_after: %ds\n" % ALARM_CLEAR_AFTER_S)
env.start_daemon()

sent = []  # every record dropped in the spool so far, in order


def faults():
    return platform.get("/admin/state")["faults"]


def stream():
    return platform.stream(SERVICE_CASES) or {}


def deliver(name, n, seed, timeout=90):
    """Drops n new records and waits until the platform acknowledges all records so far."""
    lines = gen_records(n, seed=seed, start=len(sent))
    sent.extend(lines)
    env.drop_file(name + ".ndjson", lines)
    try:
        wait_for(lambda: stream().get("acked_through", 0) >= len(sent), timeout,
                 "%d records acknowledged" % len(sent), interval=0.2)
    except AssertionError as e:
        log(str(e))


def check_exactly_once(title):
    st = stream()
    total = len(sent)
    counters = {k: st.get(k) for k in ("acked_through", "stored", "duplicates", "mismatches", "gap_records")}
    check(st.get("acked_through") == total and st.get("stored") == total,
          "%s: all %d records delivered and stored once %s" % (title, total, json.dumps(counters)))
    check(st.get("mismatches") == 0 and st.get("gap_records") == 0 and not st.get("gaps"),
          "%s: no mismatches, no declared gaps" % title)
    recs = platform.records(SERVICE_CASES)
    check([r["seq"] for r in recs] == list(range(1, total + 1)), "%s: seqs 1..%d, each once" % (title, total))
    stored = [r["data"]["serial"] for r in recs]
    expected = [json.loads(l)["serial"] for l in sent]
    check(sorted(stored) == sorted(expected) and len(set(stored)) == total,
          "%s: the stored records are the spooled ones, none twice, none lost" % title)
    return st


def check_link_up(title):
    """Once answers work again, the status says so (not a stale "degraded" from the last fault)."""
    link = {}
    try:
        link = wait_for(lambda: (lambda l: l if l["state"] == "up" else None)(env.status()["link"]), 10,
                        "the link to read up", interval=0.5)
    except AssertionError as e:
        log(str(e))
        link = env.status()["link"]
    check(link.get("state") == "up", "%s: status shows the link up again (%s%s)" %
          (title, link.get("state"), ": " + link["cause"] if link.get("cause") else ""))


wait_for(lambda: env.status()["link"]["state"] == "up", 20, "the link to come up", interval=0.2)
deliver("warm-up", 200, seed=1)
check_exactly_once("warm-up")

# --- a burst of 503 busy with Retry-After -------------------------------------------------------
log("--- 503 burst")
BURST, RETRY_AFTER_S = 4, 2  # Retry-After above backoff_max (1 s): waiting it out is the node's choice
before = faults()
platform.post("/admin/faults/fail", {"count": BURST, "retry_after_s": RETRY_AFTER_S})
t0 = time.time()
deliver("busy", 1000, seed=2)
took = time.time() - t0
after = faults()
check(after["failed"] - before["failed"] == BURST and after["fail_next"] == 0,
      "503 burst: all %d injected 503s were met (%d)" % (BURST, after["failed"] - before["failed"]))
# One request at a time: each 503 costs the node Retry-After before it asks again.
check(BURST * RETRY_AFTER_S * 0.9 <= took <= BURST * RETRY_AFTER_S + 10,
      "503 burst: Retry-After honoured, no longer (%.1f s for %d × %d s)" % (took, BURST, RETRY_AFTER_S))
check(after["requests"] - before["requests"] <= BURST + 1000 // 50 + 10,
      "503 burst: no hammering (%d requests)" % (after["requests"] - before["requests"]))
check_exactly_once("503 burst")
check_link_up("503 burst")
log_text = env.daemon_log_text()
check("503" in log_text and "busy" in log_text, "503 burst: the daemon logged the busy answers")

# --- dropped after handling: stored at the platform, never acknowledged to the node -------------
log("--- drop after handling")
before = faults()
dup_before = stream().get("duplicates", 0)
platform.post("/admin/faults/drop", {"count": 4, "handle": True})
deliver("dropped-handled", 1000, seed=3)
after = faults()
check(after["dropped"] - before["dropped"] == 4, "drop (handled): 4 connections dropped after handling")
st = check_exactly_once("drop (handled)")
log("duplicates resent and ignored: %d" % (st["duplicates"] - dup_before))

# --- dropped unhandled ---------------------------------------------------------------------------
log("--- drop unhandled")
before = faults()
platform.post("/admin/faults/drop", {"count": 4, "handle": False})
deliver("dropped-unhandled", 1000, seed=4)
after = faults()
check(after["dropped"] - before["dropped"] == 4, "drop (unhandled): 4 connections dropped without handling")
check_exactly_once("drop (unhandled)")
check_link_up("drops")

# --- slow answers -------------------------------------------------------------------------------
log("--- slow answers within the request timeout")
platform.post("/admin/faults/delay", {"ms": 700})
deliver("slow", 500, seed=5)
check_exactly_once("slow answers (0.7 s)")

log("--- answers slower than the request timeout while batches flow")
# Turned on while batches flow, so the batch in flight is stored at the platform and its answer
# comes after the node gave up: the node must learn from hello's acked_through, not store twice.
base = len(sent)
lines = gen_records(5000, seed=6, start=len(sent))
sent.extend(lines)
env.drop_file("too-slow.ndjson", lines)
wait_for(lambda: stream().get("acked_through", 0) > base, 30, "batches of the next file to flow", interval=0.05)
platform.post("/admin/faults/delay", {"ms": int(REQUEST_TIMEOUT_S * 1000 + 800)})
time.sleep(3 * (REQUEST_TIMEOUT_S + 1))  # several requests time out at the node
mid = stream().get("acked_through", 0)
log("platform acked_through while too slow: %d of %d" % (mid, len(sent)))
timeouts = env.status()["link"]["errors_24h"].get("timeout", 0)
check(timeouts > 0, "too slow: the node counted request timeouts (%d)" % timeouts)
platform.post("/admin/faults/delay", {"ms": 0})
try:
    wait_for(lambda: stream().get("acked_through", 0) >= len(sent), 90, "delivery after the slow spell", interval=0.2)
except AssertionError as e:
    log(str(e))
platform.post("/admin/faults/clear")
check_exactly_once("answers beyond the timeout")
wait_for(lambda: env.status()["queue"]["records"] == 0, 20, "the node's queue to drain")
check(True, "faults: the node's queue drained")

# --- 403: the bureau disables the node ---------------------------------------------------------
log("--- 403 forbidden")
platform.post("/admin/nodes/scj-01/disable")
stored_before = stream().get("stored", 0)
lines = gen_records(300, seed=7, start=len(sent))
sent.extend(lines)
env.drop_file("while-disabled.ndjson", lines)


def forbidden_alarm():
    return [a for a in env.status().get("alarms", []) if a.get("id") == "platform_forbidden"]


alarm = []
try:
    alarm = wait_for(forbidden_alarm, 30, "the platform_forbidden alarm", interval=0.5)
except AssertionError as e:
    log(str(e))
check(bool(alarm), "403: xnodectl status --json shows platform_forbidden: %s" % (alarm[0].get("text") if alarm else
                                                                                   env.status().get("alarms")))
disabled_at = time.time()
check(any("403" in l and "forbidden" in l for l in env.daemon_log_text().splitlines()),
      "403: the daemon logged the refusal")
requests_then = faults()["requests"]
time.sleep(10)
requests_later = faults()["requests"]
check(requests_later == requests_then, "403: nothing sent while forbidden (%d requests in 10 s)" %
      (requests_later - requests_then))
check(stream().get("stored") == stored_before, "403: nothing stored while disabled")
check(env.status()["queue"]["records"] == 300, "403: the records wait in the node's queue")
human = env.ctl("status").stdout
check("platform_forbidden" in human, "403: the human status lists the alarm")

platform.post("/admin/nodes/scj-01/enable")
try:
    wait_for(lambda: stream().get("acked_through", 0) >= len(sent), FORBIDDEN_BACKOFF_S + 30,
             "delivery to resume after enabling", interval=0.5)
except AssertionError as e:
    log(str(e))
resumed_after = time.time() - disabled_at
log("delivery resumed %.0f s after the refusal (forbidden_backoff %d s)" % (resumed_after, FORBIDDEN_BACKOFF_S))
check_exactly_once("after 403")
check_link_up("after 403")
try:
    wait_for(lambda: not forbidden_alarm(), ALARM_CLEAR_AFTER_S + 15, "the alarm to clear", interval=0.5)
    check(True, "403: platform_forbidden cleared once the platform accepts again")
except AssertionError as e:
    check(False, "403: platform_forbidden cleared (%s)" % e)

# --- what the platform was told about all this ----------------------------------------------------
def platform_health():
    try:
        return json.loads(platform.get_text("/admin/health/scj-01"))
    except Exception:
        return None


report = None
try:
    report = wait_for(lambda: (lambda h: h if h and h["link"]["state"] == "up" and h["link"].get("last_outage")
                               else None)(platform_health()), 30, "a health report with the link up and its last outage",
                      interval=0.5)
except AssertionError as e:
    log(str(e))
link = (report or platform_health() or {}).get("link", {})
check(bool(report), "health report at the platform: link %s, last outage %s" % (link.get("state"),
                                                                                 json.dumps(link.get("last_outage"))))
errors = link.get("errors_24h", {})
check(errors.get("http_5xx", 0) >= BURST and errors.get("timeout", 0) > 0 and errors.get("http_4xx", 0) > 0,
      "health report counts the faults: %s" % json.dumps(errors))


def audit_in_step():
    local = len([l for l in env.ctl("audit", "export").stdout.splitlines() if l.strip()])
    remote = platform.get("/admin/audit/scj-01")
    return (local, remote) if remote["acked_through"] == local and remote["events"] == local else None


try:
    local, remote = wait_for(audit_in_step, 15, "the audit trail to reach the platform", interval=1)
    check(remote["chain_ok"], "audit: all %d events at the platform, chain intact after the faults (%s)" %
          (local, remote.get("problem")))
except AssertionError as e:
    check(False, "audit: the platform holds the node's whole audit trail (%s)" % e)
verify = env.ctl("audit", "verify", check=False)
check(verify.returncode == 0, "audit: xnodectl audit verify: %s" % (verify.stdout + verify.stderr).strip()[:200])

check(env.stop_daemon() == 0, "clean stop")
platform.stop()
log("whole test: %.0f s" % (time.time() - started))
check.finish()
