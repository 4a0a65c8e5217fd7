"""SIGHUP reload: a bad configuration is refused and the old one keeps running (reported in status
as config.last_error); a good one is applied without a restart (a new source starts taking records)."""
import json
import os
import re
import signal
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("reload")
platform = Platform(env).start()
env.write_config(platform.port)
env.start_daemon()
pid = env.daemon.pid

with open(env.config_path, encoding="utf-8") as f:
    good = f.read()
with open(env.config_path, "w", encoding="utf-8") as f:
    f.write(good.replace("max_bytes: 64MiB", "max_bytes: 1MiB"))
env.daemon.send_signal(signal.SIGHUP)


def last_error():
    cfg = env.status().get("config", {})
    return cfg.get("last_error")


err = wait_for(last_error, 20, "the refused reload to show in status")
check("queue.max_bytes" in err, "status names the refused key: " + err)
check(env.daemon.poll() is None and env.daemon.pid == pid, "the daemon keeps running on the old configuration")
lines = gen_records(500, seed=21)
env.drop_file("still-working.ndjson", lines)
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= 500, 30, "delivery on the old config")
check(True, "records still flow after a refused reload")

# A good change: a second spool source for the same resource.
second = os.path.join(env.dir, "spool", "second")
os.makedirs(second)
extra = good.replace("health:\n", """  - name: second
    driver: spool
    resource: "%s"
    settings:
      dir: "%s"
health:
""" % (SERVICE_CASES, second), 1)
extra = extra.replace("version: 1", "version: 2", 1)
with open(env.config_path, "w", encoding="utf-8") as f:
    f.write(extra)
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: env.status().get("config", {}).get("version") == 2 and last_error() is None, 20, "version 2 applied")
check(True, "the good configuration (version 2) is applied and last_error cleared")
env.drop_file("via-second.ndjson", gen_records(300, seed=22, start=10001), directory=second)
wait_for(lambda: platform.stream(SERVICE_CASES)["acked_through"] >= 800, 30, "the new source's records delivered")
check(platform.stream(SERVICE_CASES)["stored"] == 800, "the new source feeds the stream without a restart")
check(env.daemon.pid == pid, "same process throughout")

# A key that cannot change while running (queue.linger): the reload is taken, the key waits for a
# restart, and both the status file and `xnodectl status` say so.
needs_restart = extra.replace("version: 2", "version: 3", 1)
if "linger:" in needs_restart:
    needs_restart = re.sub(r"linger: *\S+", "linger: 7ms", needs_restart, count=1)
else:
    needs_restart = needs_restart.replace("queue:\n", "queue:\n  linger: 7ms\n", 1)
with open(env.config_path, "w", encoding="utf-8") as f:
    f.write(needs_restart)
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: env.status().get("config", {}).get("version") == 3, 20, "version 3 applied")
status_doc = wait_for(lambda: (lambda d: d if "queue.linger" in (d.get("xnoded", {}).get("restart_needed") or "") else None)(
    json.load(open(os.path.join(env.dir, "run", "status.json"), encoding="utf-8"))), 20, "restart_needed in the status file")
check(True, "status file names queue.linger as waiting for a restart")
text = env.ctl("status").stdout
check("restart needed for: queue.linger" in text, "xnodectl status says a restart is needed:\n" + text)
log_text = env.daemon_log_text()
check("reload refused" in log_text, "the refusal is logged")
check(env.stop_daemon() == 0, "clean stop")
platform.stop()
check.finish()
