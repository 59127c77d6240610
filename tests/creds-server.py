#!/usr/bin/env python3
"""creds-server.py - loopback stand-in for AWS credential endpoints, for creds_test.c.

Serves, on 127.0.0.1 and a free port (printed as the first line of stdout):
  EC2 instance metadata (IMDSv2)
    PUT /latest/api/token                           needs X-aws-ec2-metadata-token-ttl-seconds
    GET /latest/meta-data/iam/security-credentials/ needs X-aws-ec2-metadata-token -> role name
    GET /latest/meta-data/iam/security-credentials/ROLE                            -> credentials
  the container credentials endpoint
    GET /container/creds                            needs Authorization: AUTH      -> credentials
  control, so a test can change behaviour between requests
    GET /_control/MODE     ok | fail (500) | badjson | v1 (no IMDSv2) | norole | failcode
    GET /_control/expires/SECONDS   lifetime of the credentials handed out next
    GET /_control/count    number of credential documents served so far

A wrong or missing token or Authorization header gets 401.  Each credentials
document has a new serial number in its AccessKeyId, so a test can see a refresh.
The server exits when its stdin closes (the test ended, however it ended) or on
SIGTERM, so it never outlives the test.  Python 3 standard library only.
"""
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

TOKEN = "imds-session-token-5be1c0de"
AUTH = "container-auth-token-9f3a77"
ROLE = "ja-test-role"
ROLES = "/latest/meta-data/iam/security-credentials/"

state = {"mode": "ok", "serial": 0, "lifetime": 6 * 3600}
lock = threading.Lock()


def creds_doc(prefix):
    with lock:
        state["serial"] += 1
        n = state["serial"]
        lifetime = state["lifetime"]
        mode = state["mode"]
    now = datetime.datetime.now(datetime.timezone.utc)
    exp = now + datetime.timedelta(seconds=lifetime)
    doc = {
        "Code": "Failure" if mode == "failcode" else "Success",
        "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIA%s%04d" % (prefix, n),
        "SecretAccessKey": "HUSH-%s-%d" % (prefix, n),
        "Token": "SESSIONTOKEN-%s-%d" % (prefix, n),
        "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body = json.dumps(doc)
    if mode == "badjson":
        body = body.replace(",", "", 3)  # still holds the secret, no longer JSON
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def send(self, code, body="", ctype="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def mode(self):
        with lock:
            return state["mode"]

    def control(self, what):
        with lock:
            if what.startswith("expires/"):
                state["lifetime"] = int(what.split("/", 1)[1])
            elif what == "count":
                return self.send(200, str(state["serial"]))
            else:
                state["mode"] = what
        self.send(200, "ok")

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.send(404)
        if self.mode() == "fail":
            return self.send(500)
        if self.mode() == "v1":
            return self.send(403)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.send(400)
        self.send(200, TOKEN)

    def imds_token_ok(self):
        return self.mode() == "v1" or self.headers.get("X-aws-ec2-metadata-token") == TOKEN

    def do_GET(self):
        if self.path.startswith("/_control/"):
            return self.control(self.path[len("/_control/"):])
        if self.mode() == "fail":
            return self.send(500)
        if self.path == "/container/creds":
            if self.headers.get("Authorization") != AUTH:
                return self.send(401, "bad authorization")
            return self.send(200, creds_doc("CONT"), "application/json")
        if self.path.startswith(ROLES):
            if not self.imds_token_ok():
                return self.send(401)
            role = self.path[len(ROLES):]
            if role == "":
                if self.mode() == "norole":
                    return self.send(404)
                return self.send(200, ROLE + "\n")
            if role != ROLE:
                return self.send(404)
            return self.send(200, creds_doc("IMDS"), "application/json")
        self.send(404)


def main():
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    print(httpd.server_address[1], flush=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
