"""Exactly-once intake across crashes (issue #2): SIGKILL the real xnoded at random moments while it
takes spool files in, at least 20 times; in the end the queue holds every record exactly once."""
import json
import os
import random
import signal
import time

from _harness import (Check, Env, GEN_RECORDS, SERVICE_CASES, XNODECTL, XNODED, gen_records, log, require_programs,
                      wait_for)

require_programs(XNODED, XNODECTL, GEN_RECORDS)
check = Check()
rng = random.Random(int(os.environ.get("XNODE_SEED", "20261129")))
env = Env("crash-intake")
# No platform: the records stay in the queue, where this test looks for them.
env.write_config(1, backoff_max="10s")

ROUND, FILES = 20000, 4
dropped = []
rounds = 0


def drop_round():
    global rounds
    lines = gen_records(ROUND, seed=3, start=1 + rounds * ROUND)
    per = ROUND // FILES
    for i in range(FILES):
        env.drop_file("r%02d-part-%d.ndjson" % (rounds, i), lines[i * per:(i + 1) * per])
    dropped.extend(lines)
    rounds += 1


def remaining_files():
    return [n for n in os.listdir(env.spool) if n.endswith(".ndjson")]


drop_round()
kills = 0
deadline = time.time() + 600
while kills < 25 and time.time() < deadline:
    if not remaining_files():
        drop_round()  # intake is fast: keep files coming so that every kill lands mid-intake
    env.start_daemon(wait_ready=False)
    time.sleep(rng.uniform(0.03, 0.4))
    env.daemon.send_signal(signal.SIGKILL)
    env.daemon.wait(10)
    env.daemon = None
    kills += 1
log("killed xnoded %d times over %d round(s) of %d records; %d file(s) left" % (kills, rounds, ROUND, len(remaining_files())))
check(kills >= 20, "xnoded was SIGKILLed at least 20 times during intake (%d)" % kills)
lines = dropped
N = len(dropped)

env.start_daemon()
wait_for(lambda: not remaining_files(), 120, "every spool file consumed")
# The intake of the last file is committed before the file is removed; give the status a moment.
body = env.ctl("queue", "show", SERVICE_CASES, "--limit", str(N + 1000)).stdout
recs = [json.loads(l) for l in body.splitlines() if l.strip()]
serials = [r["data"]["serial"] for r in recs]
expected = {json.loads(l)["serial"] for l in lines}
check(len(recs) == N, "the queue holds exactly %d records (%d)" % (N, len(recs)))
check(len(set(serials)) == len(serials), "no record was taken twice")
check(set(serials) == expected, "no record was lost")
check([r["seq"] for r in recs] == list(range(1, len(recs) + 1)), "seqs are consecutive from 1")
check(env.stop_daemon() == 0, "clean stop")
check.finish()
