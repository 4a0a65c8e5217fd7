"""Link health with real events (issue #5): the real xnoded and the reference platform over loopback,
the Prometheus endpoint on.

Platform stopped → the link reads `down` within one heartbeat (the request that finds the platform
gone) → the link_down alarm is raised after health.alarms.link_down_after → platform back → the
link is up, the alarm clears after clear_after → the platform receives a current report carrying
`last_outage` {start, end, cause}, and nothing from the outage is replayed (every report it gets
afterwards is dated after its return) → the raise and the clear are audited → the Prometheus
endpoint shows the same state as `xnodectl status --json`, answers 404 for another path and 405
for another method. The audit trail reaches the platform complete after the outage."""
import json
import os
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request

from _harness import (Check, Env, PLATFORM, XNODECTL, XNODED, Platform, free_port, log, require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM)
check = Check()
started = time.time()
HEARTBEAT_S = 5      # the schema's floor for health.interval: the node asks the platform this often
LINK_DOWN_AFTER_S = 3
CLEAR_AFTER_S = 3
STATUS_EVERY_S = 2   # the daemon writes its status file every 2 s
CONNECT_TIMEOUT_S = 2

env = Env("health-link")
platform = Platform(env).start()
metrics_port = free_port()
env.write_config(platform.port, heartbeat="%ds" % HEARTBEAT_S, backoff_max="1s",
                 extra_health='  prometheus_listen: "127.0.0.1:%d"\n  alarms:\n    link_down_after: %ds\n'
                              '    clear_after: %ds\n' % (metrics_port, LINK_DOWN_AFTER_S, CLEAR_AFTER_S))
env.start_daemon()
METRICS = "http://127.0.0.1:%d/metrics" % metrics_port


def scrape():
    """The exposition as {'name{labels}': value}, and its content type."""
    with urllib.request.urlopen(METRICS, timeout=5) as r:
        ctype = r.headers.get("Content-Type")
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples, ctype, text


def http_status(url, method="GET"):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def link():
    return env.status()["link"]


def alarm_ids():
    return [a["id"] for a in env.status().get("alarms", [])]


wait_for(lambda: link()["state"] == "up", 20, "the link to come up", interval=0.2)
samples, ctype, text = scrape()
check(ctype == "text/plain; version=0.0.4; charset=utf-8", "metrics: content type of format 0.0.4 (%s)" % ctype)
check(samples.get('xnode_link_state{state="up"}') == 1 and samples.get('xnode_link_state{state="down"}') == 0,
      "metrics: link up, as the status says")
check('xnode_info{node="scj-01",version="' in text and "# TYPE xnode_queue_records gauge" in text,
      "metrics: info labels and TYPE lines")
check(http_status(METRICS.replace("/metrics", "/other")) == 404, "metrics endpoint: 404 for another path")
check(http_status(METRICS, "POST") == 405, "metrics endpoint: 405 for another method")


def raw(data, timeout=8):
    """Sends bytes, returns what comes back until the endpoint closes (b"" if it closes at once)."""
    with socket.create_connection(("127.0.0.1", metrics_port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


# Exactly 8 KiB without the end of the head (nothing left unread, so the close is a clean FIN).
big = b"GET /metrics HTTP/1.1\r\nX: "
big += b"a" * (8192 - len(big))
check(raw(big).startswith(b"HTTP/1.1 431 "),
      "metrics endpoint: a request head over 8 KiB is refused (431)")
check(raw(b"GET /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 200 OK\r\n"), "metrics endpoint: raw GET answered")
# Bounded: 4 connections at a time, the next is closed at once; an idle one is dropped after 5 s.
idle = [socket.create_connection(("127.0.0.1", metrics_port), timeout=10) for _ in range(4)]
time.sleep(0.5)
t = time.time()
check(raw(b"", timeout=3) == b"" and time.time() - t < 2, "metrics endpoint: a 5th connection is closed at once")
t = time.time()
closed = idle[0].recv(1) == b""
check(closed and 4 <= time.time() - t <= 8, "metrics endpoint: an idle connection is dropped after %.1f s" %
      (time.time() - t))
for s in idle:
    s.close()
time.sleep(0.5)
check(http_status(METRICS) == 200, "metrics endpoint: serving again once the connections are gone")

# --- the outage ---------------------------------------------------------------------------------
log("--- platform stopped")
platform.stop()
stopped_at = time.time()
down = wait_for(lambda: (lambda l: l if l["state"] == "down" else None)(link()), 30, "the link to read down",
                interval=0.2)
took = time.time() - stopped_at
# The next request (a heartbeat at the latest) finds the platform gone; the status file shows it
# at its next write.
limit = HEARTBEAT_S + CONNECT_TIMEOUT_S + STATUS_EVERY_S + 1
check(took <= limit, "link down %.1f s after the platform stopped (within one heartbeat: ≤ %d s): %s" %
      (took, limit, down.get("cause")))
wait_for(lambda: "link_down" in alarm_ids(), LINK_DOWN_AFTER_S + 15, "the link_down alarm", interval=0.2)
raised_after = time.time() - stopped_at
check(raised_after >= LINK_DOWN_AFTER_S, "link_down raised %.1f s after the stop (link_down_after %d s)" %
      (raised_after, LINK_DOWN_AFTER_S))
samples, _, _ = scrape()
check(samples.get('xnode_link_state{state="down"}') == 1 and
      samples.get('xnode_alarm_active{alarm="link_down",severity="critical"}') == 1,
      "metrics: link down and the link_down alarm active, as the status says")
check(samples.get("xnode_link_downtime_24h_seconds", 0) >= LINK_DOWN_AFTER_S,
      "metrics: downtime counts the current outage (%s s)" % samples.get("xnode_link_downtime_24h_seconds"))

# Keep it down a few heartbeats: the reports the node could not send must not be replayed later.
time.sleep(2 * HEARTBEAT_S)
db = os.path.join(env.dir, "platform.db")


def health_rows():
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute("SELECT id, received_at, report FROM health_reports WHERE node_id='scj-01' ORDER BY id").fetchall()
    finally:
        con.close()


rows_before = len(health_rows())
log("--- platform back")
platform = Platform(env, port=platform.port, admin_port=platform.admin_port).start()
back_at = time.time()
wait_for(lambda: link()["state"] == "up", HEARTBEAT_S + 15, "the link to come back", interval=0.2)
log("link up %.1f s after the platform came back" % (time.time() - back_at))
wait_for(lambda: "link_down" not in alarm_ids(), CLEAR_AFTER_S + 10, "the link_down alarm to clear", interval=0.2)
cleared_after = time.time() - back_at
check(cleared_after >= CLEAR_AFTER_S - 0.5, "link_down cleared %.1f s after the platform came back (clear_after %d s)" %
      (cleared_after, CLEAR_AFTER_S))

wait_for(lambda: len(health_rows()) > rows_before, 15, "a health report after the outage", interval=0.2)
time.sleep(1)
after = [json.loads(r[2]) for r in health_rows()[rows_before:]]
first = after[0]
outage = first["link"].get("last_outage") or {}
log("first report after the outage: link %s, last_outage %s" % (first["link"]["state"], json.dumps(outage)))
check(first["link"]["state"] == "up" and outage.get("start") and outage.get("end") and outage.get("cause"),
      "the first report after the outage is current and carries last_outage {start, end, cause}")
to_epoch = lambda t: time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
check(to_epoch(outage["start"]) >= stopped_at - 2 and to_epoch(outage["end"]) >= back_at - 2,
      "last_outage spans the platform's absence (%s .. %s)" % (outage.get("start"), outage.get("end")))
stale = [r["time"] for r in after if to_epoch(r["time"]) < back_at - 1]
check(not stale, "no stale report replayed after the outage (%d reports since, dated before the return: %s)" %
      (len(after), stale))
# One report at once on the link's return, one more when the alarm cleared, then heartbeats.
window = time.time() - back_at
check(len(after) <= 2 + int(window / HEARTBEAT_S) + 1, "%d reports in the %.0f s since the return: no burst" %
      (len(after), window))

# --- audited ------------------------------------------------------------------------------------
events = [json.loads(l) for l in env.ctl("audit", "export").stdout.splitlines() if l.strip()]
raised = [e for e in events if e["action"] == "alarm.raised" and e["object"] == "link_down"]
cleared = [e for e in events if e["action"] == "alarm.cleared" and e["object"] == "link_down"]
check(len(raised) == 1 and len(cleared) == 1 and raised[0]["seq"] < cleared[0]["seq"],
      "the raise and the clear of link_down audited once each, in order")
check(raised and raised[0]["detail"].get("severity") == "critical", "the raise is audited as critical")
check(any(e["action"] == "link.down" for e in events) and any(e["action"] == "link.up" for e in events),
      "link.down and link.up audited")

samples, _, _ = scrape()
status = env.status()
check(samples.get('xnode_link_state{state="up"}') == 1 and
      samples.get('xnode_alarm_active{alarm="link_down",severity="critical"}') == 0,
      "metrics: link up again, alarm inactive")
check(samples.get("xnode_link_last_outage_seconds", -1) >= 2 * HEARTBEAT_S,
      "metrics: the last outage lasted %s s" % samples.get("xnode_link_last_outage_seconds"))
check(samples.get("xnode_link_reconnects_24h") == status["link"]["reconnects_24h"],
      "metrics and status agree on reconnects (%s)" % status["link"]["reconnects_24h"])


def stored_events():
    """Events in the node's audit store, read directly (every xnodectl command is audited itself)."""
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(env.dir, "state", "audit.db"), uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    finally:
        con.close()


def audit_in_step():
    local = stored_events()
    remote = platform.get("/admin/audit/scj-01")
    return (local, remote) if remote["acked_through"] == local and remote["events"] == local else None


try:
    local, remote = wait_for(audit_in_step, 20, "the audit trail to reach the platform", interval=1)
    check(remote["chain_ok"], "audit shipping resumed after the outage: all %d events at the platform, "
                              "none twice, chain verified there" % local)
except AssertionError as e:
    check(False, "audit shipping resumed after the outage (%s)" % e)

# --- reload moves the endpoint -------------------------------------------------------------------
old_port, metrics_port = metrics_port, free_port()
env.write_config(platform.port, heartbeat="%ds" % HEARTBEAT_S, backoff_max="1s",
                 extra_health='  prometheus_listen: "127.0.0.1:%d"\n  alarms:\n    link_down_after: %ds\n'
                              '    clear_after: %ds\n' % (metrics_port, LINK_DOWN_AFTER_S, CLEAR_AFTER_S))
env.daemon.send_signal(signal.SIGHUP)
METRICS = "http://127.0.0.1:%d/metrics" % metrics_port


def old_port_closed():
    try:
        socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
        return False
    except OSError:
        return True


try:
    wait_for(lambda: scrape()[0].get('xnode_link_state{state="up"}') == 1 and old_port_closed(), 15,
             "the endpoint to move on reload", interval=0.2)
    check(True, "SIGHUP with a new prometheus_listen: served on the new port, the old one closed, no restart")
except AssertionError as e:
    check(False, "the endpoint moves on reload (%s)" % e)

check(env.stop_daemon() == 0, "clean stop")
platform.stop()
log("whole test: %.0f s" % (time.time() - started))
check.finish()
