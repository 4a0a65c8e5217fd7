"""Refusals (issue #3): every TLS identity or protocol failure between the real xnoded and its peer
ends the handshake before any request — nothing reaches the platform — and the operator can read
why, both in the daemon's log and in `xnodectl status --json` (link down, with the cause).

Node side (the daemon refuses the platform): a certificate from another CA, a certificate for
another name (and a configured server_name the certificate does not carry), a revoked certificate
(node-side CRL), a key that matches none of the configured pins. Platform side (the platform
refuses the node): a revoked, an expired and a foreign-CA node certificate. Outdated peers: an
OpenSSL (Python ssl) server that speaks only TLS 1.1, and one that offers only CBC suites. No TLS
at all: a peer that accepts and stays silent (handshake timeout) and a plain-HTTP peer. And a
certificate of the right CA for another node id: the handshake works, the platform answers 403
identity_mismatch to hello, the node raises platform_forbidden and waits.

A final control run with the right settings (and the right pin) delivers every queued record:
the data was there all along, the refusals were what held it back."""
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import warnings

from _harness import (Check, Env, GEN_RECORDS, PLATFORM, SERVICE_CASES, XNODECTL, XNODED, Platform, gen_records, log,
                      require_programs, wait_for)

require_programs(XNODED, XNODECTL, PLATFORM, GEN_RECORDS)
check = Check()
started = time.time()
env = Env("refusals")
platform = Platform(env)
N = 200
env.drop_file("held.ndjson", gen_records(N, seed=11))


def platform_requests():
    """XEP requests the platform received (counted since it started), and records it stored."""
    state = platform.get("/admin/state")
    stored = sum(s.get("stored", 0) for n in state["nodes"].values() for s in n["streams"].values())
    return state["faults"]["requests"], stored


class CountingHandler(http.server.BaseHTTPRequestHandler):
    """An HTTPS peer that counts every request it gets (none is expected)."""
    protocol_version = "HTTP/1.1"
    requests = 0

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        type(self).requests += 1
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST


class OutdatedPeer:
    """A Python ssl (OpenSSL) server with the platform's certificate, configured by `configure`;
    `handshakes` lists the TLS version and suite of every handshake that completed."""

    def __init__(self, configure):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(env.pki, "platform.crt"), os.path.join(env.pki, "platform.key"))
        ctx.load_verify_locations(os.path.join(env.pki, "ca.crt"))
        ctx.verify_mode = ssl.CERT_REQUIRED
        configure(ctx)
        self.handshakes = []
        self.failures = []
        peer = self

        class Server(http.server.ThreadingHTTPServer):
            def get_request(self):
                sock, addr = self.socket.accept()
                try:
                    tls = ctx.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    peer.failures.append(str(e))
                    sock.close()
                    raise
                peer.handshakes.append((tls.version(), tls.cipher()[0]))
                return tls, addr

        CountingHandler.requests = 0
        self.httpd = Server(("127.0.0.1", 0), CountingHandler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def client_handshake(self, configure):
        """Proves what the peer speaks: an OpenSSL client configured alike completes a handshake."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(env.pki, "ca.crt"))
        ctx.load_cert_chain(os.path.join(env.pki, "node.crt"), os.path.join(env.pki, "node.key"))
        configure(ctx)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="platform.xchg.test") as tls:
                return tls.version(), tls.cipher()[0]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def any_of(reasons, text):
    return any(r in text for r in reasons)


def run_refused(title, log_reason, cause_reason, port, platform_reason=None, error_class="tls", **config):
    """Starts xnoded against a peer on `port` that one side must refuse; checks the log line, the
    status and (for the reference platform) that no request arrived. A reason is a text or a tuple
    of texts any of which will do."""
    log_reason = (log_reason,) if isinstance(log_reason, str) else log_reason
    cause_reason = (cause_reason,) if isinstance(cause_reason, str) else cause_reason
    log("--- " + title)
    env.write_config(port, backoff_max="1s", **config)
    status_file = os.path.join(env.dir, "run", "status.json")
    if os.path.exists(status_file):
        os.remove(status_file)
    mark = len(env.daemon_log_text()) if os.path.exists(env.daemon_log) else 0
    env.start_daemon()

    def logged():
        text = env.daemon_log_text()[mark:]
        return [l for l in text.splitlines() if any_of(log_reason, l)]
    lines = []
    try:
        lines = wait_for(logged, 20, "the daemon to log one of %s" % (log_reason,))
    except AssertionError as e:
        log(str(e))
    check(bool(lines), "%s: the log names the reason: %s" % (title, lines[0] if lines else
                                                           env.daemon_log_text()[mark:][-600:]))

    def down_with_cause():
        link = env.status().get("link", {})
        return link if link.get("state") == "down" and any_of(cause_reason, link.get("cause", "")) else None
    link = None
    try:
        link = wait_for(down_with_cause, 15, "status: link down with a cause in %s" % (cause_reason,), interval=0.5)
    except AssertionError as e:
        log(str(e))
    link = link or env.status().get("link", {})
    check(link.get("state") == "down" and any_of(cause_reason, link.get("cause", "")),
          "%s: xnodectl status --json: link %s, cause: %s" % (title, link.get("state"), link.get("cause")))
    check(link.get("errors_24h", {}).get(error_class, 0) > 0, "%s: counted as %s errors (%s)" %
          (title, error_class, link.get("errors_24h")))
    if platform_reason is not None:
        requests, stored = platform_requests()
        check(requests == 0 and stored == 0, "%s: no request reached the platform (requests %d, stored %d)" %
              (title, requests, stored))
        refusals = [l for l in platform.log_text().splitlines() if "handshake" in l and "refused" in l]
        check(any(platform_reason in l for l in refusals),
              "%s: the platform saw the handshake fail: %s" % (title, refusals[-1] if refusals else "(none)"))
    pending = env.status()["queue"]["records"]
    check(pending == N, "%s: all %d records still queued (%d)" % (title, N, pending))
    check(env.stop_daemon() == 0, "%s: clean stop" % title)


def with_platform(cert, crl=True):
    platform.stop()
    if os.path.exists(platform.logfile):
        os.remove(platform.logfile)
    platform.start(cert=cert, crl=crl)


# --- the daemon refuses the platform -----------------------------------------------------------
with_platform("other-platform")
run_refused("platform certificate from another CA", "not issued by a trusted CA", "trusted CA", platform.port,
            platform_reason="unknown_ca")

with_platform("platform-wrongname")
run_refused("platform certificate for another name", "hostname mismatch", "hostname mismatch", platform.port,
            platform_reason="")

with_platform("platform")
run_refused("configured server_name not in the certificate", "hostname mismatch", "hostname mismatch",
            platform.port, platform_reason="", server_name="elsewhere.xchg.test")

with_platform("platform-revoked")
run_refused("revoked platform certificate (node-side CRL)", "revoked", "revoked", platform.port,
            platform_reason="certificate_revoked")

with_platform("platform")
run_refused("pin mismatch", "pin mismatch", "pin mismatch", platform.port, platform_reason="",
            pins=["ab" * 32])

# --- the platform refuses the node ---------------------------------------------------------------
# A fresh platform each time: its refusal log is rate-limited, and each case must find its own line.
with_platform("platform")
run_refused("revoked node certificate", "certificate_revoked", "certificate_revoked", platform.port,
            platform_reason="revoked", cert="node-revoked")
with_platform("platform")
run_refused("expired node certificate", "certificate_expired", "certificate_expired", platform.port,
            platform_reason="expired", cert="node-expired")
with_platform("platform")
run_refused("node certificate from another CA", "unknown_ca", "unknown_ca", platform.port,
            platform_reason="trusted CA", cert="other-node")

# --- outdated peers ------------------------------------------------------------------------------
# Python marks TLS 1.1 deprecated; configuring an outdated peer is the point here.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def tls11_only(ctx):
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # Debian's OpenSSL refuses TLS 1.1 at the default level


def cbc_only(ctx):
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:"
                    "ECDHE-ECDSA-AES256-SHA")


# xnoded offers TLS 1.2+ and AEAD suites only, none of which exists in TLS 1.1: an OpenSSL peer capped
# at 1.1 finds no shared suite and answers handshake_failure (some versions say protocol_version).
# Either way the handshake ends before a single application byte.
for title, configure, reason in (("peer speaking only TLS 1.1", tls11_only, ("protocol_version", "handshake_failure")),
                                 ("peer offering only CBC suites", cbc_only, ("handshake_failure",))):
    try:
        peer = OutdatedPeer(configure)
    except (ssl.SSLError, ValueError) as e:
        check(False, "%s: this OpenSSL cannot be configured for it (%s)" % (title, e))
        continue
    try:
        version, suite = peer.client_handshake(configure)
        proven = (version == "TLSv1.1") if configure is tls11_only else ("GCM" not in suite and "CHACHA" not in suite)
        check(proven, "%s: an OpenSSL client completes %s with %s" % (title, version, suite))
    except (ssl.SSLError, OSError) as e:
        check(False, "%s: the peer does not even accept an OpenSSL client configured alike (%s)" % (title, e))
    # The server thread records the probe's handshake on its own time: wait for it, then forget it.
    wait_for(lambda: peer.handshakes, 5, "the peer to record the probe handshake", interval=0.05)
    peer.handshakes.clear()
    run_refused(title, reason, reason, peer.port)
    check(not peer.handshakes and CountingHandler.requests == 0,
          "%s: no handshake completed with xnoded, no request sent (%s; %d requests)" %
          (title, peer.handshakes, CountingHandler.requests))
    check(bool(peer.failures), "%s: the peer saw the handshake fail: %s" % (title, peer.failures[-1][:160]
                                                                         if peer.failures else "(none)"))
    peer.stop()

# --- peers that are no TLS server at all ----------------------------------------------------------
class RawPeer:
    """A TCP listener that either holds every connection silent (a tarpit: the handshake must time
    out) or answers whatever arrives with a plain-HTTP 400 (a misconfigured endpoint)."""

    def __init__(self, answer_plain_http):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.received = b""
        self.answer = answer_plain_http
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.answer:
                self.held.append(conn)
                continue
            try:
                conn.settimeout(5)
                self.received += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            conn.close()

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()


tarpit = RawPeer(answer_plain_http=False)
run_refused("peer that accepts but never answers (handshake timeout)", "timeout", "timeout", tarpit.port,
            error_class="timeout")
check(len(tarpit.held) >= 1, "tarpit: the daemon connected (%d connections held)" % len(tarpit.held))
tarpit.stop()

plain = RawPeer(answer_plain_http=True)
run_refused("plain HTTP peer", "invalid SSL record", "invalid SSL record", plain.port)
check(plain.received.startswith(b"\x16\x03") and b"X-XN-Node" not in plain.received,
      "plain HTTP peer: it got a TLS ClientHello, never a request in clear")
plain.stop()

# --- a certificate of the right CA for another node: TLS succeeds, the platform answers 403 ----------
log("--- node certificate for another node id (identity_mismatch)")
impostor = os.path.join(env.pki, "impostor")
with open(impostor + ".ext", "w", encoding="ascii") as f:
    f.write("basicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature\n"
            "extendedKeyUsage = clientAuth\n")
for cmd in (["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", impostor + ".key"],
            ["openssl", "req", "-new", "-key", impostor + ".key", "-subj", "/OU=11540100MB0000008X/CN=scj-09",
             "-out", impostor + ".csr"],
            ["openssl", "x509", "-req", "-in", impostor + ".csr", "-CA", os.path.join(env.pki, "ca.crt"),
             "-CAkey", os.path.join(env.pki, "ca.key"), "-CAcreateserial", "-days", "30", "-sha256",
             "-extfile", impostor + ".ext", "-out", impostor + ".crt"]):
    subprocess.run(cmd, check=True, capture_output=True)
with_platform("platform")
env.write_config(platform.port, backoff_max="1s", cert="impostor")
os.remove(os.path.join(env.dir, "run", "status.json"))
mark = len(env.daemon_log_text())
env.start_daemon()


def forbidden_alarm():
    return [a for a in env.status().get("alarms", []) if a.get("id") == "platform_forbidden"]


alarm = []
try:
    alarm = wait_for(forbidden_alarm, 20, "the platform_forbidden alarm", interval=0.5)
except AssertionError as e:
    log(str(e))
check(bool(alarm) and "identity_mismatch" in alarm[0].get("text", ""),
      "identity mismatch: status shows platform_forbidden: %s" % (alarm[0].get("text") if alarm else "(none)"))
lines = [l for l in env.daemon_log_text()[mark:].splitlines() if "403" in l and "identity_mismatch" in l]
check(bool(lines), "identity mismatch: the log names it: %s" % (lines[0] if lines else "(none)"))
time.sleep(3)
requests, stored = platform_requests()
check(stored == 0 and requests <= 2, "identity mismatch: refused at hello, nothing stored, no retry storm "
      "(requests %d, stored %d)" % (requests, stored))
check(env.status()["queue"]["records"] == N, "identity mismatch: all %d records still queued" % N)
check(env.stop_daemon() == 0, "identity mismatch: clean stop")

# --- control: the same queue, right settings, pinned key -------------------------------------------
log("--- control: right certificate, name and pin")
with open(os.path.join(env.pki, "platform.pin"), encoding="ascii") as f:
    right_pin = f.read().strip()
with_platform("platform")
env.write_config(platform.port, backoff_max="1s", pins=["ab" * 32, right_pin])
env.start_daemon()
wait_for(lambda: (platform.stream(SERVICE_CASES) or {}).get("acked_through", 0) >= N, 60, "the held records")
st = platform.stream(SERVICE_CASES)
check(st["stored"] == N and st["mismatches"] == 0, "control: all %d held records delivered once (%s)" %
      (N, json.dumps({k: st[k] for k in ("stored", "duplicates", "mismatches")})))
wait_for(lambda: env.status()["link"]["state"] == "up", 15, "status: link up", interval=0.5)
check(True, "control: status shows the link up")
check(env.stop_daemon() == 0, "control: clean stop")
platform.stop()
elapsed = time.time() - started
log("whole test: %.0f s" % elapsed)
check(elapsed < 240, "the whole test stays within 4 minutes (%.0f s)" % elapsed)
check.finish()
