#!/usr/bin/python3
"""An HTTP proxy in front of an S3 server (s3rver) for test_s3.py.

- Checks every request's AWS Signature V4 with its own implementation of
  the algorithm (AWS's "Signature Version 4 signing process", written from
  the specification, not from curl) and the secret it is given: a wrong
  signature, a signed header that was not sent or a body that does not
  match x-amz-content-sha256 is answered 403 SignatureDoesNotMatch, as AWS
  would (s3rver itself does not check V4 signatures).
- Fault injection: --fail-every N answers every Nth request 500;
  --drop-every N closes the connection on every Nth request unanswered;
  --fail-match REGEX answers 500 to every request whose
  "METHOD /path?query" matches; --delay S waits S seconds before each
  forwarded request.
- Logs one JSON line per request (method, path, query, status, bytes, and
  the body of .json objects) to --log, flushed at once, so the test counts
  requests and checks their order independently.

Prints "PORT <n>" on stdout once it listens on 127.0.0.1.
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"s3/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?"
                     r"Signature=([0-9a-f]{64})$")


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_query(raw):
    pairs = []
    for part in raw.split("&") if raw else []:
        k, _, v = part.partition("=")
        k = urllib.parse.quote(urllib.parse.unquote(k), safe="-_.~")
        v = urllib.parse.quote(urllib.parse.unquote(v), safe="-_.~")
        pairs.append((k, v))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def signature_problem(method, path, query, headers, body, secret, token):
    """None when the request is signed right with @secret, else why not."""
    auth = headers.get("Authorization")
    if not auth:
        return "no Authorization header"
    m = AUTH_RE.match(auth)
    if not m:
        return "malformed Authorization"
    _key, date, region, signed, sig = m.groups()
    names = signed.split(";")
    for need in ("host", "x-amz-date", "x-amz-content-sha256"):
        if need not in names:
            return "%s not signed" % need
    if token is not None:
        if headers.get("x-amz-security-token") != token:
            return "session token missing"
        if "x-amz-security-token" not in names:
            return "session token not signed"
    lines = []
    for n in names:
        v = headers.get(n)
        if v is None:
            return "signed header %s was not sent" % n
        lines.append("%s:%s\n" % (n, " ".join(v.strip().split())))
    payload = headers.get("x-amz-content-sha256")
    if payload != "UNSIGNED-PAYLOAD" and \
            payload != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 does not match the body"
    creq = "\n".join([method, path, canonical_query(query), "".join(lines),
                      signed, payload])
    amzdate = headers.get("x-amz-date")
    scope = "%s/%s/s3/aws4_request" % (date, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, "s3", "aws4_request"):
        k = _hmac(k, part)
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(want, sig) else "signature differs"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    @staticmethod
    def _error(code, msg):
        return ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>%s"
                "</Message></Error>" % (code, msg)).encode(), \
            [("Content-Type", "application/xml")]

    def _handle(self):
        a = self.server.args
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path, _, query = self.path.partition("?")
        with self.server.lock:
            self.server.count += 1
            count = self.server.count
        line = "%s %s?%s" % (self.command, path, query)
        problem = signature_problem(self.command, path, query, self.headers,
                                    body, a.secret, a.token)
        if problem:
            status = 403
            data, headers = self._error(
                "SignatureDoesNotMatch", "The request signature we "
                "calculated does not match (%s)" % problem)
        elif a.drop_every and count % a.drop_every == 0:
            status = 0          # a connection error: close, no answer
        elif (a.fail_every and count % a.fail_every == 0) or \
                (a.fail_match and re.search(a.fail_match, line)):
            status = 500
            data, headers = self._error("InternalError",
                                        "injected by s3_proxy.py")
        else:
            if a.delay:
                time.sleep(a.delay)
            status, data, headers = self._forward(body)
        # logged before the answer: a client that has its answer finds the
        # request in the log
        with self.server.lock:
            self.server.log.write(json.dumps({
                "method": self.command, "path": path, "query": query,
                "status": status, "bytes": len(body),
                "problem": problem,
                # indexes are small: kept for the test's order check
                "body": body.decode() if path.endswith(".json") else None})
                + "\n")
            self.server.log.flush()
        if status:
            self._answer(status, data, headers)
        else:
            self.close_connection = True

    def _forward(self, body):
        up = http.client.HTTPConnection("127.0.0.1", self.server.args.upstream,
                                        timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("expect", "connection")}
        up.request(self.command, self.path, body=body or None,
                   headers=headers)
        r = up.getresponse()
        data = r.read()
        keep = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("content-length", "connection",
                                     "transfer-encoding")]
        up.close()
        return r.status, data, keep

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass                    # a client killed mid-request (kill -9 test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--token")
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-every", type=int, default=0)
    ap.add_argument("--drop-every", type=int, default=0)
    ap.add_argument("--fail-match")
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Proxy)
    srv.args = args
    srv.lock = threading.Lock()
    srv.count = 0
    srv.log = open(args.log, "a")
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
