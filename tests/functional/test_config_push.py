"""Signed configuration push (issue #6, platform-api.md §3.7), both ways, same rules, with
config_push.require_signature on and a bureau key pair made here with openssl:
- the platform offers a signed newer version (another health interval, a second source) → applied
  without a restart: version in status and in the platform's next health report, the file
  rewritten (previous kept as .prev, .sig beside it), audited;
- a bad signature → refused, the old configuration stays, config.last_error set;
- a rollback (an older signed YAML in a newer envelope) → refused;
- a signed file placed locally + SIGHUP (or noticed on the 1 s tick) → applied; an unsigned local
  edit → refused;
- a restart on an older (validly signed) file is refused: the applied version survives restarts."""
import json
import os
import re
import signal
import subprocess

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("config-push")
platform = Platform(env, extra=["--heartbeat", "2"]).start()  # offers reach the node within 2 s

bureau = os.path.join(env.dir, "bureau")
os.makedirs(bureau)
key, pub, rogue = (os.path.join(bureau, n) for n in ("bureau.key", "bureau.pem", "rogue.key"))
subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True)
subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-out", pub], check=True, stderr=subprocess.DEVNULL)
subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", rogue], check=True)


def sign(text, with_key=key):
    """What the bureau's tooling does: openssl dgst -sha256 -sign bureau.key xnode.yaml | base64 -w0"""
    path = os.path.join(bureau, "to-sign.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", with_key, path], check=True,
                         capture_output=True).stdout
    return subprocess.run(["base64", "-w0"], input=der, check=True, capture_output=True).stdout.decode()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def place_file(text, signature):
    """The bureau's tooling writing /etc/xnode/xnode.yaml and its .sig (each renamed into place)."""
    for path, data in ((env.config_path + ".sig", signature), (env.config_path, text)):
        if data is None:
            if os.path.exists(path):
                os.unlink(path)
            continue
        with open(path + ".new", "w", encoding="utf-8") as f:
            f.write(data)
        os.rename(path + ".new", path)


def status_config():
    return env.status().get("config", {})


def push(version, text, signature):
    platform.post("/admin/nodes/scj-01/config", {"version": version, "yaml": text, "signature": signature})


env.write_config(platform.port, heartbeat="5s")
base = read(env.config_path) + 'config_push:\n  require_signature: true\n  public_key: "%s"\n' % pub


def version_of(text, v):
    """The same configuration under another top-level version."""
    return re.sub(r"^version: \d+$", "version: %d" % v, text, count=1, flags=re.M)


v1 = version_of(base, 1)
place_file(v1, sign(v1))
env.start_daemon()
pid = env.daemon.pid
wait_for(lambda: status_config().get("version") == 1, 20, "version 1 running")
check(status_config().get("last_error") is None, "starts on a signed file, no error")

# --- 1. the platform offers version 2: health interval 5s -> 6s and a second source -------------------
second = os.path.join(env.dir, "spool", "second")
os.makedirs(second)
v2 = version_of(base, 2).replace("interval: 5s", "interval: 6s").replace("health:\n", """  - name: second
    driver: spool
    resource: "%s"
    settings:
      dir: "%s"
health:
""" % (SERVICE_CASES, second), 1)
sig2 = sign(v2)
push(2, v2, sig2)
wait_for(lambda: status_config().get("version") == 2, 30, "version 2 from the platform applied")
check(env.daemon.pid == pid, "applied without a restart")
check(status_config().get("last_error") is None, "no error after the push")
check(read(env.config_path) == v2, "the configuration file now holds the pushed YAML byte for byte")
check(read(env.config_path + ".sig").strip() == sig2, "its signature beside it")
check(read(env.config_path + ".prev") == v1, "the previous file kept as xnode.yaml.prev")
wait_for(lambda: platform.get("/admin/health/scj-01").get("config", {}).get("version") == 2, 20,
         "the platform's health report to carry version 2")
check(True, "the platform's next health report says version 2")
env.drop_file("via-second.ndjson", gen_records(200, seed=61), directory=second)
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= 200, 30, "the new source's records")
check(True, "the source added by the push delivers")

# --- 2. a bad signature: refused, version 2 stays ------------------------------------------------
v3 = version_of(base, 3).replace("interval: 5s", "interval: 7s")
push(3, v3, sign(v3, with_key=rogue))
err = wait_for(lambda: status_config().get("last_error"), 30, "the refused push to show in status")
check("does not verify" in err, "last_error says the signature does not verify: " + err)
check(status_config().get("version") == 2, "still running version 2")
check(read(env.config_path) == v2, "the file is untouched")
wait_for(lambda: platform.get("/admin/health/scj-01").get("config", {}).get("last_error"), 20,
         "the platform's health report to carry the error")
check(True, "the health report to the platform carries last_error")

# --- 3. a rollback: the signed version-1 YAML in an envelope saying 4 ----------------------------
push(4, v1, sign(v1))
wait_for(lambda: "version" in (status_config().get("last_error") or "") and "4" in status_config()["last_error"], 30,
         "the rollback refused")
check(status_config().get("version") == 2, "rollback refused: still version 2 (" + status_config()["last_error"] + ")")

# --- 4. a signed file placed locally + SIGHUP: applied -------------------------------------------
v5 = version_of(v2, 5)
place_file(v5, sign(v5))
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: status_config().get("version") == 5, 20, "the signed local file applied")
check(status_config().get("last_error") is None, "signed version 5 applied from the file, error cleared")

# --- 5. unsigned local edits are refused ---------------------------------------------------------
v6 = version_of(v2, 6)
place_file(v6, read(env.config_path + ".sig"))  # the old signature does not cover the new bytes
env.daemon.send_signal(signal.SIGHUP)
err = wait_for(lambda: status_config().get("last_error"), 20, "the unsigned edit refused")
check("does not verify" in err and status_config().get("version") == 5, "an edit under the old signature is refused")
place_file(v6, None)
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: "unsigned" in (status_config().get("last_error") or ""), 20, "a file without .sig refused")
check(status_config().get("version") == 5, "a file without a signature is refused")
v4file = version_of(v2, 4)
place_file(v4file, sign(v4file))
env.daemon.send_signal(signal.SIGHUP)
wait_for(lambda: "not newer" in (status_config().get("last_error") or ""), 20, "an older signed file refused")
check(status_config().get("version") == 5, "an older signed file is refused (no rollback)")

# --- 5b. no SIGHUP needed: a signed pair placed by the tooling is noticed on the tick -------------
v8 = version_of(v2, 8)
place_file(v8, sign(v8))
wait_for(lambda: status_config().get("version") == 8, 20, "the placed file noticed without SIGHUP")
check(status_config().get("last_error") is None, "a signed file placed without SIGHUP is applied (version 8)")

# --- 5c. a push that cannot be written (xnode.yaml.tmp is in the way) changes nothing -------------
os.mkdir(env.config_path + ".tmp")
v10 = version_of(v2, 10)
push(10, v10, sign(v10))
err = wait_for(lambda: status_config().get("last_error"), 30, "the unwritable push refused")
check("cannot write the configuration file" in err and status_config().get("version") == 8,
      "a push that cannot be written is refused, version 8 stays: " + err)
check(read(env.config_path) == v8 and read(env.config_path + ".prev") != v8, "xnode.yaml and .prev untouched")
check(not os.path.exists(env.config_path + ".sig.tmp"), "no temporary file left behind")
os.rmdir(env.config_path + ".tmp")
check(env.daemon.pid == pid, "same process throughout")

check(env.stop_daemon() == 0, "clean stop")
events = [json.loads(line) for line in env.ctl("audit", "export").stdout.splitlines() if line.strip()]
applied = [e for e in events if e["action"] == "config.applied"]
check(any(e["detail"].get("version") == 2 and len(e["detail"].get("sha256", "")) == 64 for e in applied),
      "config.applied audited with version and SHA-256")
refused = [e for e in events if e["action"] == "config.refused"]
reasons = [e["detail"].get("reason", "") for e in refused]
log("refusals:", reasons)
check(len(refused) >= 5, "each refusal audited as config.refused (%d)" % len(refused))
check(any(e["detail"].get("origin") == "platform" for e in refused), "platform refusals say where they came from")

# --- 6. a restart cannot roll back: a validly signed version 4 file is refused at start -----------
place_file(v4file, sign(v4file))
env.start_daemon(wait_ready=False)
rc = env.daemon.wait(30)
check(rc == 1, "start on the older signed file refused (exit %s)" % rc)
check("no rollback" in env.daemon_log_text(), "the log says why")
place_file(v8, sign(v8))
os.unlink(os.path.join(env.dir, "run", "status.json"))
env.start_daemon()
wait_for(lambda: status_config().get("version") in (8, 10), 20, "a start on version 8")
check(True, "starts on the version it applied last")
# A refusal is remembered per run: the restarted node asks again for the waiting version 10, which
# can be written now.
wait_for(lambda: status_config().get("version") == 10, 30, "the waiting version 10 applied after the restart")
check(read(env.config_path) == v10, "the restarted node takes the waiting push once it can be written")
check(env.stop_daemon() == 0, "clean stop")

# --- 7. --check-config checks the signature too; a key that is not P-256 stops the start ----------
r = subprocess.run([XNODED, "--check-config", env.config_path], capture_output=True, text=True, timeout=30)
check(r.returncode == 0, "--check-config accepts the signed file")
place_file(v8 + "# an unsigned comment\n", read(env.config_path + ".sig"))
r = subprocess.run([XNODED, "--check-config", env.config_path], capture_output=True, text=True, timeout=30)
check(r.returncode == 1 and "does not verify" in r.stderr, "--check-config refuses a file its .sig does not cover")
p384 = os.path.join(bureau, "p384.pem")
subprocess.run("openssl ecparam -name secp384r1 -genkey -noout | openssl ec -pubout -out %s" % p384, shell=True,
               check=True, stderr=subprocess.DEVNULL)
v9 = version_of(v8, 9).replace(pub, p384)
place_file(v9, sign(v9))
env.start_daemon(wait_ready=False)
rc = env.daemon.wait(30)
check(rc == 1 and "not an ECDSA P-256" in env.daemon_log_text(), "a bureau key on another curve: not started")
platform.stop()
check.finish()
