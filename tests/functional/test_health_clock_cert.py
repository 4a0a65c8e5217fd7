"""Clock offset and certificate expiry with real events (issue #5): the reference platform's clock
runs 5 s ahead (--clock-offset-ms 5000) and the node presents a client certificate that expires in
10 days (node-expiring.crt from scripts/gen-dev-pki).

→ the clock_offset alarm (limit 2 s) and the cert_expiring alarm (30 days) are raised; the offset
(≈ 5000 ms) and the days left (10) are in `xnodectl status --json`, in the health report the
platform stored, and on the Prometheus endpoint; both raises are audited."""
import json
import time
import urllib.request

from _harness import (Check, Env, PLATFORM, XNODECTL, XNODED, Platform, free_port, log, require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM)
check = Check()
started = time.time()
OFFSET_MS = 5000
env = Env("health-clock-cert")
platform = Platform(env, extra=["--clock-offset-ms", str(OFFSET_MS)]).start()
metrics_port = free_port()
env.write_config(platform.port, cert="node-expiring", heartbeat="5s",
                 extra_health='  prometheus_listen: "127.0.0.1:%d"\n' % metrics_port)
env.start_daemon()


def alarms():
    return {a["id"]: a for a in env.status().get("alarms", [])}


wait_for(lambda: env.status()["link"]["state"] == "up", 20, "the link to come up", interval=0.2)
found = wait_for(lambda: (lambda a: a if "clock_offset" in a and "cert_expiring" in a else None)(alarms()), 20,
                 "the clock_offset and cert_expiring alarms", interval=0.5)
status = env.status()
offset = status["link"]["clock_offset_ms"]
log("status: clock offset %s ms, certificate %s days left" % (offset, status["tls"]["days_left"]))
check(offset is not None and abs(offset - OFFSET_MS) <= 500, "status: clock offset %s ms (platform ahead %d ms)" %
      (offset, OFFSET_MS))
check(status["tls"]["days_left"] == 10, "status: client certificate days left %s" % status["tls"]["days_left"])
check(found["clock_offset"]["severity"] == "warning" and str(offset) in found["clock_offset"]["text"],
      "status: clock_offset alarm: %s" % found["clock_offset"]["text"])
check("10 days" in found["cert_expiring"]["text"], "status: cert_expiring alarm: %s" % found["cert_expiring"]["text"])
human = env.ctl("status").stdout
check("clock_offset" in human and "cert_expiring" in human, "xnodectl status lists both alarms")


def platform_report():
    try:
        r = json.loads(platform.get_text("/admin/health/scj-01"))
    except Exception:
        return None
    ids = [a["id"] for a in r.get("alarms", [])]
    return r if "clock_offset" in ids and "cert_expiring" in ids else None


report = wait_for(platform_report, 20, "a report with both alarms at the platform", interval=0.5)
r_offset = report["link"]["clock_offset_ms"]
check(r_offset is not None and abs(r_offset - OFFSET_MS) <= 500,
      "platform's stored report: clock offset %s ms" % r_offset)
check(report["tls"]["days_left"] == 10 and report["tls"]["client_cert_expires"],
      "platform's stored report: certificate expires %s, %s days left" % (report["tls"]["client_cert_expires"],
                                                                           report["tls"]["days_left"]))

with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=5) as r:
    text = r.read().decode()
samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
m_offset = float(samples.get("xnode_clock_offset_seconds", "nan"))
m_expiry = float(samples.get("xnode_tls_client_cert_expiry_seconds", "nan"))
check(abs(m_offset - OFFSET_MS / 1000) <= 0.5, "metrics: xnode_clock_offset_seconds %s" % m_offset)
check(10 * 86400 <= m_expiry <= 10 * 86400 + 3600, "metrics: xnode_tls_client_cert_expiry_seconds %s (10 d + <1 h)" %
      m_expiry)
check(samples.get('xnode_alarm_active{alarm="clock_offset",severity="warning"}') == "1" and
      samples.get('xnode_alarm_active{alarm="cert_expiring",severity="warning"}') == "1",
      "metrics: both alarms active")

events = [json.loads(l) for l in env.ctl("audit", "export").stdout.splitlines() if l.strip()]
raised = {e["object"] for e in events if e["action"] == "alarm.raised"}
check({"clock_offset", "cert_expiring"} <= raised, "both raises audited (%s)" % sorted(raised))
check(env.stop_daemon() == 0, "clean stop")
platform.stop()
log("whole test: %.0f s" % (time.time() - started))
check.finish()
