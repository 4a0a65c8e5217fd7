#!/usr/bin/env python3
"""Interop: the node's HTTPS client (mbedTLS) against an OpenSSL-based server (Python's ssl).

    tests/functional/tls_interop.py [--build BUILD_DIR]

Makes a throwaway PKI with scripts/gen-dev-pki, starts an HTTPS server on 127.0.0.1 that
requires a client certificate, and drives tests/tools/https_get.cpp (xnode-https-get) against it:
a mutual-TLS GET and a gzip POST must succeed; a client that trusts another CA, a client without
a certificate, a server that offers only CBC suites and one that speaks only TLS 1.1 must fail.
Exit status 0 when every check passes. Standard library only.
"""
import argparse
import gzip
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output readable
        pass

    def _answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _peer(self):
        cert = self.connection.getpeercert() or {}
        subject = dict(x[0] for x in cert.get("subject", ()))
        return subject.get("commonName"), subject.get("organizationalUnitName")

    def do_GET(self):
        cn, ou = self._peer()
        self._answer(200, {"path": self.path, "cn": cn, "ou": ou, "node": self.headers.get("X-XN-Node"),
                           "tls": self.connection.version(), "cipher": self.connection.cipher()[0]})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding:
            self._answer(400, {"error": "malformed", "message": "unsupported encoding"})
            return
        self._answer(200, {"encoding": encoding, "length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()})


def start_server(pki, configure):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "platform.crt"), os.path.join(pki, "platform.key"))
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    configure(ctx)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run_client(tool, pki, port, *extra, ca="ca.crt", cert=True, path="/xep/v1/hello"):
    # A cross-built tree runs under its emulator (scripts/ci-arm64 sets XNODE_EMULATOR, see _harness.py).
    cmd = os.environ.get("XNODE_EMULATOR", "").split()
    cmd += [tool, "--ca", os.path.join(pki, ca), "--server-name", "platform.xchg.test", "--timeout-ms", "5000",
            "--header", "X-XN-Node: scj-01"]
    if cert:
        cmd += ["--cert", os.path.join(pki, "node.crt"), "--key", os.path.join(pki, "node.key")]
    cmd += list(extra) + ["https://127.0.0.1:%d%s" % (port, path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XNODE_BUILD", os.path.join(ROOT, "build")))
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "xnode-https-get")
    if not os.access(tool, os.X_OK):
        print("tls_interop: %s not built (cmake --build %s --target xnode-https-get)" % (tool, args.build))
        return 2

    failures = []

    def check(name, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))
        if not ok:
            failures.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        pki = os.path.join(tmp, "pki")
        subprocess.run([os.path.join(ROOT, "scripts", "gen-dev-pki"), pki], check=True, stdout=subprocess.DEVNULL)

        httpd = start_server(pki, lambda ctx: None)
        port = httpd.server_address[1]
        r = run_client(tool, pki, port)
        ok = r.returncode == 0 and r.stdout.startswith("200\n")
        body = json.loads(r.stdout.split("\n", 1)[1]) if ok else {}
        check("mutual TLS GET against OpenSSL", ok and body.get("cn") == "scj-01" and body.get("node") == "scj-01"
              and body.get("path") == "/xep/v1/hello", r.stderr + r.stdout)
        check("negotiated TLS 1.2+ with an AEAD suite", ok and body.get("tls") in ("TLSv1.2", "TLSv1.3")
              and ("GCM" in body.get("cipher", "") or "CHACHA20" in body.get("cipher", "")), str(body))

        payload = "".join('{"seq": %d, "op": "upsert"}\n' % i for i in range(1, 2001))
        r = run_client(tool, pki, port, "--method", "POST", "--data", payload, "--gzip",
                       "--header", "Content-Type: application/x-ndjson", path="/xep/v1/streams/x/batches")
        ok = r.returncode == 0 and r.stdout.startswith("200\n")
        body = json.loads(r.stdout.split("\n", 1)[1]) if ok else {}
        check("gzip POST body arrives intact", ok and body.get("encoding") == "gzip"
              and body.get("sha256") == hashlib.sha256(payload.encode()).hexdigest(), r.stderr + r.stdout)

        r = run_client(tool, pki, port, ca="other-ca.crt")
        check("client refuses a server certificate from another CA",
              r.returncode == 1 and "tls error" in r.stderr and "trusted CA" in r.stderr, r.stderr)

        r = run_client(tool, pki, port, cert=False)
        check("OpenSSL server refuses a client without certificate", r.returncode == 1, r.stderr + r.stdout)

        r = run_client(tool, pki, port, "--pin", "00" * 32)
        check("pin mismatch is refused", r.returncode == 1 and "pin mismatch" in r.stderr, r.stderr)
        httpd.shutdown()

        def cbc_only(ctx):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA")
        httpd = start_server(pki, cbc_only)
        r = run_client(tool, pki, httpd.server_address[1])
        check("client refuses a server offering only CBC suites", r.returncode == 1 and "tls error" in r.stderr,
              r.stderr + r.stdout)
        httpd.shutdown()

        # Python marks TLS 1.1 deprecated; configuring an outdated peer is the point here.
        warnings.filterwarnings("ignore", category=DeprecationWarning)

        def tls11_only(ctx):
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        try:
            httpd = start_server(pki, tls11_only)
        except (ssl.SSLError, ValueError) as e:
            print("skip TLS 1.1-only server: this OpenSSL cannot be configured for it (%s)" % e)
        else:
            r = run_client(tool, pki, httpd.server_address[1])
            check("client refuses a server speaking only TLS 1.1", r.returncode == 1 and "tls error" in r.stderr,
                  r.stderr + r.stdout)
            httpd.shutdown()

    print("tls_interop: %s" % ("all checks passed" if not failures else "%d failed" % len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
