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

ROUND = 20000
dropped = []


def drop_round():
    r = len(dropped) // ROUND
    lines = gen_records(ROUND, seed=11, start=1 + r * ROUND)
    for i in range(4):
        env.drop_file("d-%02d-%d.ndjson" % (r, i), lines[i * 5000:(i + 1) * 5000])
    dropped.extend(lines)


def acked():
    return (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0)


drop_round()
kills = 0
deadline = time.time() + 600
while kills < 25 and time.time() < deadline:
    if acked() >= len(dropped):
        drop_round()  # delivery is fast: keep records coming so that every kill lands mid-delivery
    env.start_daemon(wait_ready=False)
    time.sleep(rng.uniform(0.1, 0.8))
    env.daemon.send_signal(signal.SIGKILL)
    env.daemon.wait(10)
    env.daemon = None
    kills += 1
N = len(dropped)
lines = dropped
log("killed xnoded %d times; %d records dropped; platform acked_through %d" % (kills, N, acked()))
check(kills >= 20, "xnoded was SIGKILLed at least 20 times during delivery (%d)" % kills)

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
