"""The HTTP push source driver with the REAL xnoded and a real HTTP client (curl), issue #7:
records POSTed to /v1/sources/{name}/records arrive at the reference platform exactly once and in
order; 401, 404, 405, 413 and 400 (all or nothing: nothing of a refused request is stored); a resend
with the same Idempotency-Key — after a success, after the client timed out (daemon SIGSTOPped while
it waited), after a daemon restart — stores nothing twice; a gzip body; the
optional mutual-TLS listener; 503 + Retry-After when the queue is full (platform down, block mode)."""
import gzip
import json
import os
import signal
import subprocess
import time

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, free_port,
                      gen_records, log, require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
env = Env("http-push")
platform = Platform(env).start()

TOKEN = "push-token-7f3a9c2e51d84b06"
token_file = os.path.join(env.dir, "push.token")
with open(token_file, "w") as f:
    f.write(TOKEN + "\n")
os.chmod(token_file, 0o600)
PORT, TLS_PORT = free_port(), free_port()
pki = env.pki


def sources(max_request="64KiB"):
    return f"""  - name: push
    driver: http
    resource: "{SERVICE_CASES}"
    settings:
      listen: "127.0.0.1:{PORT}"
      token_file: "{token_file}"
      max_request_bytes: {max_request}
      idle_timeout: 5s
  - name: push-tls
    driver: http
    resource: "{SERVICE_CASES}"
    settings:
      listen: "127.0.0.1:{TLS_PORT}"
      token_file: "{token_file}"
      tls_cert: "{pki}/platform.crt"
      tls_key: "{pki}/platform.key"
      tls_client_ca: "{pki}/ca.crt"
"""


def curl(body, source="push", token=TOKEN, key=None, method="POST", headers=(), tls=False, client_cert=True,
         max_time=30):
    """Returns (status, json body or text, response headers); status 0 when curl itself failed."""
    body_file = os.path.join(env.dir, "body.bin")
    with open(body_file, "wb") as f:
        f.write(body if isinstance(body, bytes) else body.encode())
    out_file, head_file = os.path.join(env.dir, "out.json"), os.path.join(env.dir, "head.txt")
    for p in (out_file, head_file):
        if os.path.exists(p):
            os.remove(p)
    url = "%s://127.0.0.1:%d/v1/sources/%s/records" % ("https" if tls else "http", TLS_PORT if tls else PORT, source)
    cmd = ["curl", "-sS", "--max-time", str(max_time), "-o", out_file, "-D", head_file, "-w", "%{http_code}", "-X", method,
           "-H", "Content-Type: application/x-ndjson"]
    if method == "POST":
        cmd += ["--data-binary", "@" + body_file]
    if token is not None:
        cmd += ["-H", "Authorization: Bearer " + token]
    if key:
        cmd += ["-H", "Idempotency-Key: " + key]
    for h in headers:
        cmd += ["-H", h]
    if tls:
        cmd += ["--cacert", pki + "/ca.crt"]
        if client_cert:
            cmd += ["--cert", pki + "/node.crt", "--key", pki + "/node.key"]
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    status = int(r.stdout.strip() or 0) if r.returncode == 0 else 0
    text = open(out_file, encoding="utf-8").read() if os.path.exists(out_file) else r.stderr
    try:
        doc = json.loads(text)
    except ValueError:
        doc = text
    head = open(head_file).read().lower() if os.path.exists(head_file) else ""
    return status, doc, head


def serial(line):
    return json.loads(line)["serial"]


# --check-config refuses a listener on the extranet side (any address not loopback / private LAN).
env.write_config(platform.port, extra_sources=sources().replace("127.0.0.1:%d" % PORT, "0.0.0.0:%d" % PORT))
r = subprocess.run([XNODED, "--check-config", env.config_path], capture_output=True, text=True, timeout=60)
check(r.returncode != 0 and "extranet" in r.stdout + r.stderr,
      "--check-config refuses listen 0.0.0.0 (%d: %s)" % (r.returncode, (r.stdout + r.stderr).strip()[:160]))

env.write_config(platform.port, extra_sources=sources())
env.start_daemon()
wait_for(lambda: curl("", token="x")[0] == 401, 20, "the push listener to answer")

lines = gen_records(700, seed=11)
sent = []  # serials expected at the platform, in push order

# --- delivery: 100 records a request, answered only once durable -----------------------------
for i in range(3):
    part = lines[i * 100:(i + 1) * 100]
    status, doc, _ = curl("\n".join(part) + "\n")
    check(status == 200 and doc.get("accepted") == 100 and doc.get("queued") == 100,
          "request %d: 200 accepted 100 queued 100 (%s %s)" % (i, status, doc))
    sent += [serial(l) for l in part]

# --- refusals ------------------------------------------------------------------------------
status, doc, head = curl("\n".join(lines[300:310]), token="wrong-token-000000000000")
check(status == 401 and "www-authenticate: bearer" in head, "wrong token: 401 with WWW-Authenticate (%s)" % status)
status, _, _ = curl("\n".join(lines[300:310]), token=None)
check(status == 401, "missing token: 401 (%s)" % status)
status, doc, _ = curl("\n".join(lines[300:310]), source="nope")
check(status == 404 and "unknown source" in str(doc), "unknown source: 404 (%s %s)" % (status, doc))
status, _, head = curl("", method="GET")
check(status == 405 and "allow: post" in head, "GET: 405 with Allow: POST (%s)" % status)
big = "\n".join(lines[:300]) * 2  # ~180 KiB > 64 KiB
status, doc, _ = curl(big)
check(status == 413, "body above max_request_bytes: 413 (%s %s)" % (status, str(doc)[:120]))
bad = lines[300:305] + ["{not json", "[1,2]"] + lines[305:310]
status, doc, _ = curl("\n".join(bad) + "\n")
ok400 = status == 400 and isinstance(doc, dict) and [e["line"] for e in doc.get("lines", [])] == [6, 7]
check(ok400, "bad lines: 400 naming lines 6 and 7, nothing stored (%s %s)" % (status, str(doc)[:200]))
status, doc, _ = curl("")
check(status == 400, "empty body: 400 (%s)" % status)

# --- a catalog refusal is not an HTTP error: it goes to the quarantine ---------------------------
wrong = json.loads(lines[310])
del wrong["serial"]  # the key item missing
status, doc, _ = curl("\n".join([lines[311], json.dumps(wrong, ensure_ascii=False)]) + "\n")
check(status == 200 and doc.get("accepted") == 2 and doc.get("queued") == 1 and doc.get("not_queued") == 1,
      "a record the catalog refuses: 200, queued 1 of 2 (%s %s)" % (status, doc))
sent.append(serial(lines[311]))

# --- idempotency: a resend after the first succeeded stores nothing twice ----------------------
part = lines[320:420]
status, first, _ = curl("\n".join(part), key="batch-0001")
check(status == 200 and first.get("accepted") == 100, "keyed request: 200 (%s %s)" % (status, first))
sent += [serial(l) for l in part]
status, again, head = curl("\n".join(part), key="batch-0001")
check(status == 200 and again.get("accepted") == 100 and again.get("replayed") is True
      and "idempotency-replayed: true" in head, "same key again: the first answer, replayed (%s %s)" % (status, again))

# --- a client that times out and resends: the daemon is stopped (SIGSTOP) while curl waits ---------
part = gen_records(100, seed=13, start=100000)
os.kill(env.daemon.pid, signal.SIGSTOP)
status, _, _ = curl("\n".join(part), key="batch-timeout", max_time=2)
os.kill(env.daemon.pid, signal.SIGCONT)
check(status == 0, "client gave up after its timeout (%s)" % status)
answers = []
for _ in range(50):  # 409 while the first request is still being stored: ask again
    status, doc, _ = curl("\n".join(part), key="batch-timeout")
    answers.append(status)
    if status != 409:
        break
    time.sleep(0.2)
check(status == 200 and doc.get("accepted") == 100 and doc.get("replayed") is True,
      "resend after the timeout: the first request's answer, replayed (%s %s)" % (answers, doc))
sent += [serial(l) for l in part]

# --- gzip body ---------------------------------------------------------------------------------
part = lines[420:520]
status, doc, _ = curl(gzip.compress(("\n".join(part) + "\n").encode()), headers=["Content-Encoding: gzip"])
check(status == 200 and doc.get("accepted") == 100, "gzip body: 200 accepted 100 (%s %s)" % (status, doc))
sent += [serial(l) for l in part]
status, doc, _ = curl(b"\x1f\x8b not really gzip", headers=["Content-Encoding: gzip"])
check(status == 400, "corrupt gzip: 400 (%s)" % status)
bomb = gzip.compress(b"\n" * (1 << 20))
status, doc, _ = curl(bomb, headers=["Content-Encoding: gzip"])
check(status == 413, "gzip decoding to more than max_request_bytes: 413 (%s)" % status)

# --- the mutual-TLS listener --------------------------------------------------------------------
part = lines[520:620]
status, doc, _ = curl("\n".join(part), source="push-tls", tls=True)
check(status == 200 and doc.get("accepted") == 100, "TLS listener with a client certificate: 200 (%s %s)" % (status, doc))
sent += [serial(l) for l in part]
status, doc, _ = curl("\n".join(lines[620:630]), source="push-tls", tls=True, client_cert=False)
check(status == 0, "TLS listener without a client certificate: handshake refused (%s)" % status)

# --- everything arrives once, in order ----------------------------------------------------------
total = len(sent)
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= total, 60, "all records acknowledged")
recs = platform.records(SERVICE_CASES)
got = [r["data"]["serial"] for r in recs]
check(len(got) == total and len(set(got)) == total, "platform holds exactly %d records (%d)" % (total, len(got)))
check(got == sent, "in the order they were pushed")
q = env.ctl("quarantine", "list", "--json").stdout.splitlines()
check(len(q) == 1 and json.loads(q[0])["origin"].startswith("http:request-"), "one quarantined record, origin http:…")

# --- the key is remembered across a restart ---------------------------------------------------
rc = env.stop_daemon()
check(rc == 0, "xnoded stops cleanly (exit %s)" % rc)
env.start_daemon()
wait_for(lambda: curl("", token="x")[0] == 401, 20, "the push listener to answer again")
status, again, head = curl("\n".join(lines[320:420]), key="batch-0001")
check(status == 200 and again.get("accepted") == 100 and again.get("replayed") is True,
      "same key after a restart: replayed, nothing stored (%s %s)" % (status, again))
time.sleep(1.5)
st = platform.stream(SERVICE_CASES)
check(st.get("acked_through") == total and env.status()["queue"]["records"] == 0, "still %d records, none queued" % total)

# --- back-pressure: 503 + Retry-After when the queue is full ------------------------------------
env.stop_daemon()
platform.stop()
env.write_config(platform.port, durability="normal", max_bytes="16MiB", extra_sources=sources("8MiB"))
env.start_daemon()
wait_for(lambda: curl("", token="x")[0] == 401, 20, "the push listener to answer (queue of 16 MiB)")
chunk = "\n".join(gen_records(20000, seed=12)) + "\n"  # ~6 MiB
full = None
for i in range(40):  # a 16 MiB queue holds ~220,000 of these records (compressed)
    status, doc, head = curl(chunk)
    log("fill request %d: %s %s" % (i, status, str(doc)[:100]))
    if status != 200:
        full = (status, doc, head)
        break
check(full is not None and full[0] == 503 and "retry-after:" in full[2],
      "queue full: 503 with Retry-After (%s)" % str(full and (full[0], str(full[1])[:120])))

def push_state():
    with open(os.path.join(env.dir, "run", "status.json"), encoding="utf-8") as f:
        doc = json.load(f)
    return [s.get("state") for s in doc.get("xnoded", {}).get("intake", []) if s.get("name") == "push"]


try:
    wait_for(lambda: push_state() == ["blocked"], 10, "the source to show blocked")
    check(True, "status file: the source shows blocked")
except AssertionError as e:
    check(False, "status file: the source shows blocked (%s)" % e)
rc = env.stop_daemon()
check(rc == 0, "xnoded stops cleanly with the queue full (exit %s)" % rc)
check.finish()
