"""Outage (issue #3): the platform is down while records arrive → they queue → it comes back → all
are delivered, none stored twice; the first batch is acknowledged within the back-off cap + 2 s of
the platform being reachable again."""
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("outage")
platform = Platform(env)  # not started yet: its port refuses connections
CAP = 10.0
env.write_config(platform.port, backoff_max="10s")
env.start_daemon()
N = 20000
lines = gen_records(N, seed=5)
env.drop_file("during-outage.ndjson", lines)
wait_for(lambda: env.status()["queue"]["records"] == N, 60, "records queued while the platform is down")
check(True, "records queue while the platform is down")
status = env.status()
check(status["link"]["state"] == "down", "link reported down: " + str(status["link"].get("cause")))
time.sleep(CAP + 3)  # let the back-off reach its cap

platform.start()
back = time.time()
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) > 0, CAP + 10, "the first ack")
first_ack = time.time() - back
log("first batch acknowledged %.2f s after the platform came back" % first_ack)
check(first_ack <= CAP + 2, "first ack within cap + 2 s (%.2f s)" % first_ack)
wait_for(lambda: platform.stream(SERVICE_CASES)["acked_through"] >= N, 60, "everything delivered")
st = platform.stream(SERVICE_CASES)
check(st["stored"] == N and st["mismatches"] == 0, "all delivered, none stored twice")
wait_for(lambda: env.status()["queue"]["records"] == 0, 20, "queue drained")
check(True, "queue drained after the outage")
check(env.stop_daemon() == 0, "clean stop")
platform.stop()
check.finish()
