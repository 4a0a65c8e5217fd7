"""Local sampling at health.probe_interval (issue #5): the real xnoded and the reference platform over
loopback, probe_interval 2 s.

The client certificate's file is replaced while the daemon runs (a rotation, no reload) with one
that expires in 10 days → `tls.days_left` reads 10 within one probe interval (+ the 2 s status file
+ slack) and the cert_expiring alarm follows; the state volume's free space is in the status. Before
the probe interval was read, the certificate's dates were read at start and once an hour."""
import json
import os
import shutil
import time

from _harness import Check, Env, PLATFORM, XNODECTL, XNODED, Platform, log, require_programs, wait_for

require_programs(XNODED, XNODECTL, PLATFORM)
check = Check()
PROBE_S = 2
STATUS_EVERY_S = 2
SLACK_S = 1.5

env = Env("probe-sampling")
platform = Platform(env).start()
env.write_config(platform.port, extra_health="  probe_interval: %ds\n" % PROBE_S)
env.start_daemon()


def status():
    with open(os.path.join(env.dir, "run", "status.json"), encoding="utf-8") as f:
        return json.load(f)


wait_for(lambda: status()["link"]["state"] == "up", 20, "the link to come up", interval=0.2)
st = status()
days = st["tls"]["days_left"]
check(days is not None and days > 30, "the first certificate: %s days left" % days)
check((st["queue"].get("disk_free_bytes") or 0) > 0, "free space on the state volume sampled: %s bytes" %
      st["queue"].get("disk_free_bytes"))

# A rotation the way an operator does it: the new files put in place under the configured names.
for ext in ("crt", "key"):
    tmp = os.path.join(env.pki, "node.%s.new" % ext)
    shutil.copyfile(os.path.join(env.pki, "node-expiring.%s" % ext), tmp)
    os.replace(tmp, os.path.join(env.pki, "node.%s" % ext))
rotated_at = time.time()
wait_for(lambda: status()["tls"]["days_left"] == 10, PROBE_S + STATUS_EVERY_S + SLACK_S + 10,
         "the rotated certificate's days left", interval=0.2)
seen = time.time() - rotated_at
log("rotated certificate seen after %.1f s" % seen)
check(seen <= PROBE_S + STATUS_EVERY_S + SLACK_S, "rotated certificate: 10 days left within probe_interval %d s "
      "(+ status file %d s + %.1f s slack): %.1f s" % (PROBE_S, STATUS_EVERY_S, SLACK_S, seen))
alarm = wait_for(lambda: [a for a in status().get("alarms", []) if a["id"] == "cert_expiring"], 30,
                 "the cert_expiring alarm", interval=0.5)
check(bool(alarm), "cert_expiring raised without a reload: %s" % alarm[0].get("text"))
check(env.stop_daemon() == 0, "clean stop")
platform.stop()
check.finish()
