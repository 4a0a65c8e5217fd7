"""The postgres source driver with the REAL xnoded (issue #7): a PostgreSQL 15 server started here
(initdb as an unprivileged user, Unix socket in the test directory), a table of realistic service
cases (the items of the example catalog's resource -00004, many rows sharing one timestamp), and
xnoded SIGKILLed at random moments during the initial load. In the end the queue holds every row
exactly once, in cursor order, with consecutive seqs; rows added later arrive too."""
import json
import os
import pwd
import random
import signal
import subprocess
import time

from _harness import (Check, Env, GEN_RECORDS, SERVICE_CASES, TIMEOUT_SCALE, XNODECTL, XNODED, gen_records, log,
                      require_programs, wait_for)

PG_BIN = "/usr/lib/postgresql/15/bin"
require_programs(XNODED, XNODECTL, GEN_RECORDS)
if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
    print("PostgreSQL 15 server not installed (%s): skipped" % PG_BIN)
    raise SystemExit(77)

check = Check()
rng = random.Random(int(os.environ.get("XNODE_SEED", "20261129")))
env = Env("postgres-source")


class PgServer:
    """initdb refuses root: as root the server runs as `postgres` (or `nobody`)."""

    def __init__(self, base):
        self.dir = os.path.join(base, "pg")
        os.mkdir(self.dir, 0o700)
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chmod(base, 0o755)  # the server user must reach its directory
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
                break
        self.run("initdb", "-D", self.dir + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        self.start()

    def run(self, program, *args):
        cmd = [os.path.join(PG_BIN, program)] + list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=120)

    def start(self):
        self.run("pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/log", "-w", "-o",
                 "-k %s -p 5432 -c listen_addresses=" % self.dir, "start")

    def stop(self):
        self.run("pg_ctl", "-D", self.dir + "/data", "-m", "fast", "-w", "stop")

    def conninfo(self, db="biz"):
        return "host=%s port=5432 user=postgres dbname=%s" % (self.dir, db)

    def psql(self, sql, db="biz", stdin=None):
        subprocess.run([os.path.join(PG_BIN, "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-d", self.conninfo(db), "-c", sql],
                       check=True, input=stdin, text=True, stdout=subprocess.DEVNULL, timeout=120)


pg = PgServer(env.dir)
pg.psql("CREATE DATABASE biz ENCODING 'UTF8' TEMPLATE template0", db="postgres")
COLUMNS = ["id", "name", "citizen_id", "uscc", "amount", "ts", "region_code", "region_name", "department",
           "service_item", "status", "serial"]
pg.psql("CREATE TABLE cases (id bigint PRIMARY KEY, name text NOT NULL, citizen_id text, uscc text, "
        "amount numeric(12,2), ts timestamptz NOT NULL, region_code varchar(6), region_name text, department text, "
        "service_item text, status text, serial text UNIQUE NOT NULL, "
        "updated_at timestamptz NOT NULL DEFAULT '2026-03-23 08:00:00+08')")


def load(lines):
    """COPY the generated records in; every row shares updated_at, so only the tie-breaker orders them."""
    rows = []
    for line in lines:
        rec = json.loads(line)
        rows.append("\t".join("\\N" if rec.get(c) is None else str(rec[c]) for c in COLUMNS))
    pg.psql("COPY cases (%s) FROM STDIN" % ", ".join(COLUMNS), stdin="\n".join(rows) + "\n")


N = 20000
first = gen_records(N, seed=7, start=1)
load(first)
env.write_config(1, backoff_max="10s", extra_sources=f"""  - name: cases-db
    driver: postgres
    resource: "{SERVICE_CASES}"
    settings:
      conninfo: "{pg.conninfo()}"
      query: "SELECT * FROM cases"
      cursor: [updated_at, id]
      batch_size: 25
      poll_interval: 200ms
""")



def queued():
    body = env.ctl("queue", "show", SERVICE_CASES, "--limit", str(3 * N)).stdout
    return [json.loads(l) for l in body.splitlines() if l.strip()]


def queued_count():
    streams = env.status().get("queue", {}).get("streams", {})
    return streams.get(SERVICE_CASES, {}).get("last_seq", 0)


# Kill while the load is under way: each start gets a short, random life (pages of 25 rows, each
# one fsynced queue transaction, so the load spans many kills: since a lone submitter's commit no
# longer waits for the group-commit linger, pages of 100 let the load outrun the kills).
kills, counts = 0, []
deadline = time.time() + 300
while kills < 12 and time.time() < deadline:
    env.start_daemon(wait_ready=False)
    # Under an emulator (XNODE_TIMEOUT_SCALE) the start alone takes longer: the lives stretch with it.
    time.sleep(rng.uniform(0.05, 0.4) * TIMEOUT_SCALE)
    env.daemon.send_signal(signal.SIGKILL)
    env.daemon.wait(10)
    env.daemon = None
    kills += 1
    counts.append(queued_count())
    if counts[-1] >= N:
        break
mid_load = [c for c in counts if 0 < c < N]
log("killed xnoded %d times; rows queued after each kill: %s" % (kills, counts))
check(len(mid_load) >= 3, "at least 3 kills landed mid-load (%d)" % len(mid_load))

env.start_daemon()
wait_for(lambda: len(queued()) >= N, 180, "every row queued")
# Increments after the load: rows sharing the last timestamp (higher ids) and a later one.
more = gen_records(1000, seed=8, start=N + 1)
load(more)
pg.psql("UPDATE cases SET updated_at = '2026-03-24 08:00:00+08' WHERE id > %d" % (N + 500))
wait_for(lambda: len(queued()) >= N + 1000, 60, "the increment queued")
time.sleep(1)  # a repeat would show up within a few polls
recs = queued()
serials = [r["data"]["serial"] for r in recs]
expected = [json.loads(l)["serial"] for l in first + more]
check(len(recs) == N + 1000, "the queue holds exactly %d records (%d)" % (N + 1000, len(recs)))
check(len(set(serials)) == len(serials), "no row was taken twice")
check(set(serials) == set(expected), "no row was lost")
check(serials == expected, "rows queued in cursor order")
check([r["seq"] for r in recs] == list(range(1, len(recs) + 1)), "seqs are consecutive from 1")
sample = recs[0]["data"]
check(isinstance(sample["id"], int) and isinstance(sample["amount"], (int, float)), "numbers travel as numbers")
check(sample["ts"].endswith("Z"), "timestamps as RFC 3339 (%s)" % sample["ts"])
check("updated_at" not in sample, "undeclared columns stripped by the intake")

status = env.status()
sources = {s["name"]: s for s in status.get("sources", [])}
check(sources.get("cases-db", {}).get("state") in ("ok", "idle"), "source state ok/idle (%s)" % sources.get("cases-db"))

# The database going away: the source shows error with the reason, and recovers.
pg.stop()
wait_for(lambda: {s["name"]: s for s in env.status().get("sources", [])}["cases-db"]["state"] == "error", 30,
         "source state error")
pg.start()
wait_for(lambda: {s["name"]: s for s in env.status().get("sources", [])}["cases-db"]["state"] in ("ok", "idle"), 60,
         "source recovered")
check(True, "source went to error while the database was down, and recovered")
check(env.stop_daemon() == 0, "clean stop")
pg.stop()

# The configuration check knows the driver's settings: a table source with a column map passes;
# a password in the connection string is refused with the line.
def check_config(settings):
    env.write_config(1, extra_sources=f"""  - name: cases-table
    driver: postgres
    resource: "{SERVICE_CASES}"
    settings:
{settings}""")
    return subprocess.run([XNODED, "--check-config", env.config_path], capture_output=True, text=True, timeout=60)


good = check_config(f"""      conninfo: "{pg.conninfo()}"
      table: public.cases
      columns: {{serial: serial, name: name, ts: ts}}
      cursor: [updated_at, id]
      soft_delete_column: deleted
""")
check(good.returncode == 0, "--check-config accepts a table source (%s)" % good.stderr.strip()[:300])
bad = check_config(f"""      conninfo: "{pg.conninfo()} password=hunter2"
      query: "SELECT * FROM cases"
      cursor: [id]
""")
check(bad.returncode != 0 and "password" in bad.stderr, "--check-config refuses a password in conninfo (%s)" % bad.stderr.strip()[:300])
check("hunter2" not in bad.stderr, "the refused connection string is not repeated (no password in the log)")
check.finish()
