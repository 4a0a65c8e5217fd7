"""Happy path: records dropped in spool files (NDJSON and CSV) arrive at the reference platform
exactly once, in order, through the real xnoded over mutual TLS; bad lines go to quarantine."""
import json

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("delivery")
platform = Platform(env).start()
env.write_config(platform.port)

N = 3000
lines = gen_records(N, seed=7)
env.drop_file("a.ndjson", lines[:1000])
env.drop_file("b.jsonl", lines[1000:2000] + ["{not json", '{"id": "x"}'])
env.start_daemon()
env.drop_file("c.ndjson", lines[2000:])

wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= N, 60, "all records acknowledged")
st = platform.stream(SERVICE_CASES)
check(st["acked_through"] == N, "platform acked_through = %d" % N)
check(st.get("stored", st.get("records")) == N, "platform stored exactly %d records" % N)
check(st.get("duplicates", 0) == 0 and st.get("mismatches", 0) == 0, "no duplicates stored, no mismatches")
recs = platform.records(SERVICE_CASES)
check([r["seq"] for r in recs] == list(range(1, N + 1)), "seqs 1..N in order")
serials = [r["data"]["serial"] for r in recs]
expected = [json.loads(l)["serial"] for l in lines]
check(sorted(serials) == sorted(expected) and len(set(serials)) == N, "every record once, none lost")
check(serials[:1000] == expected[:1000], "a file's records keep their order")

q = env.ctl("quarantine", "list", "--json").stdout.splitlines()
check(len(q) == 2, "the two bad lines are in quarantine (%d)" % len(q))
reasons = " ".join(json.loads(l)["reason"] for l in q)
check("b.jsonl:1001" in " ".join(json.loads(l)["origin"] for l in q), "quarantine names file and line")
check(len(reasons) > 0, "quarantine says why: " + reasons[:160])

status = env.status()
check(status["queue"]["records"] == 0, "xnodectl status: queue drained")
check(status.get("link", {}).get("state") == "up", "xnodectl status: link up")
human = env.ctl("status").stdout
check(SERVICE_CASES in human and "link:" in human, "human status shows the link and the stream")
rc = env.stop_daemon()
check(rc == 0, "xnoded stops cleanly on SIGTERM (exit %s)" % rc)
platform.stop()
check.finish()
