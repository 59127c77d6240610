#!/usr/bin/env python3
"""faultproxy.py - a fault-injecting HTTP/1.1 reverse proxy for ja's S3 tests.

    faultproxy.py --upstream 127.0.0.1:PORT [--port 0] [--fault SPEC]... [options]

Listens on 127.0.0.1 only, prints "faultproxy listening on 127.0.0.1:PORT" on stdout
when ready, and forwards each request of a keep-alive client connection to the
upstream on a fresh upstream connection (request head bytes unchanged, so SigV4
signatures, which cover Host, stay valid). Bodies are streamed, never buffered.

A fault plan is a list of rules separated by ';' (or given as several --fault):

    KIND[:ARG][,n=N|inf][,every=K][,method=M[|M...]][,path=SUBSTRING][,after=BYTES][,half]

    500            answer 500 InternalError (S3 XML body) without forwarding
    503            answer 503 SlowDown (S3 XML body) without forwarding
    reset          forward, send the response head and part of the body, then RST
    truncate       forward, send the head (full Content-Length) and part of the body, FIN
    stall:S        take the request, send nothing for S seconds, then close;
                   with ",half": forward and send the head and half the body first
    trickle:BPS    forward, send the response body at about BPS bytes/s
    reset-upload   read part of the request body (100 Continue is sent if asked), RST
    redirect:REGION  answer 301 PermanentRedirect naming REGION (x-amz-bucket-region)
    skew           answer 403 RequestTimeTooSkewed (with the proxy's Date header)

A rule injects into the first N requests it matches (default N=1), or with every=K
into every Kth matching request (then N defaults to inf). "Part of the body" is
after=BYTES, by default half the Content-Length (half of the first piece read for
chunked bodies); when the response body is empty, reset and truncate send nothing
at all. The first matching rule that wants a request gets it; later rules still
count it as seen. Other requests pass through.

Control endpoints (never forwarded; no S3 bucket name can contain '_'):
    GET  /__faultproxy/stats       JSON counters and the last injections
    GET  /__faultproxy/stats.txt   "NAME VALUE" lines
    GET  /__faultproxy/plan        the plan with per-rule seen/injected counts
    PUT  /__faultproxy/plan        replace the plan with the SPEC in the body
    POST /__faultproxy/reset-stats zero the counters

Exits on SIGTERM/SIGINT, when its parent process dies, and with --watch-stdin at
end of file on stdin. Python 3 standard library only.
"""

import argparse
import collections
import ctypes
import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import termios
import threading
import time

CONTROL = "/__faultproxy/"
KINDS = ("500", "503", "reset", "truncate", "stall", "trickle", "reset-upload", "redirect", "skew")
BUF = 65536
MAX_LINE = 16384
MAX_HEAD = 65536
MAX_HEADERS = 200
MAX_CONTROL_BODY = 65536


class ProtocolError(Exception):
    """A peer sent something that is not HTTP/1.1 as this proxy understands it."""


class Closed(Exception):
    """The peer closed its side before the message was complete."""


class Cut(Exception):
    """The fault's byte budget for the response body is used up."""


class UpstreamGone(Exception):
    """Writing to the upstream failed while forwarding a request body."""


# ---------------------------------------------------------------- messages


class Reader:
    """Buffered reads from a socket: whole lines, or whatever is there."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def line(self, limit=MAX_LINE):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return out
            if len(self.buf) > limit:
                raise ProtocolError("line longer than %d bytes" % limit)
            data = self.sock.recv(BUF)
            if not data:
                raise Closed()
            self.buf += data

    def some(self, n):
        """Between 1 and n bytes."""
        if self.buf:
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out
        data = self.sock.recv(min(n, BUF))
        if not data:
            raise Closed()
        return data


class Head:
    """A request or response head: first line, headers, and the raw bytes."""

    def __init__(self, first, headers, raw):
        self.first = first
        self.headers = headers
        self.raw = raw

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name]

    def get(self, name):
        vals = self.all(name)
        return vals[-1] if vals else None

    def tokens(self, name):
        return [t.strip().lower() for v in self.all(name) for t in v.split(",") if t.strip()]


TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def read_head(reader):
    """Read one message head; Closed if the peer closes before its first byte."""
    raw = bytearray()
    first = None
    headers = []
    while True:
        try:
            line = reader.line()
        except Closed:
            if raw:
                raise ProtocolError("connection closed inside a message head")
            raise
        raw += line
        if len(raw) > MAX_HEAD:
            raise ProtocolError("message head longer than %d bytes" % MAX_HEAD)
        text = line.rstrip(b"\r\n")
        if first is None:
            if not text:  # empty lines before a request line are allowed
                raw.clear()
                continue
            first = text.decode("latin-1")
            continue
        if not text:
            return Head(first, headers, bytes(raw))
        if text[:1] in (b" ", b"\t"):
            raise ProtocolError("folded header line")
        name, sep, value = text.partition(b":")
        if not sep or not TOKEN.match(name):
            raise ProtocolError("bad header line %r" % text[:80])
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        if len(headers) > MAX_HEADERS:
            raise ProtocolError("more than %d headers" % MAX_HEADERS)


def parse_length(head):
    vals = {v.strip() for v in ",".join(head.all("content-length")).split(",")}
    if len(vals) != 1:
        raise ProtocolError("conflicting Content-Length values")
    v = vals.pop()
    if not v.isdigit() or len(v) > 18:
        raise ProtocolError("bad Content-Length %r" % v[:30])
    return int(v)


def request_framing(head):
    """('chunked', None) or ('length', N)."""
    if head.all("transfer-encoding"):
        if head.all("content-length"):
            raise ProtocolError("both Transfer-Encoding and Content-Length")
        codings = head.tokens("transfer-encoding")
        if not codings or codings[-1] != "chunked":
            raise ProtocolError("request Transfer-Encoding does not end in chunked")
        return "chunked", None
    if head.all("content-length"):
        return "length", parse_length(head)
    return "length", 0


def response_framing(method, status, head):
    """('length', N), ('chunked', None) or ('close', None)."""
    if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
        return "length", 0
    if head.all("transfer-encoding"):
        codings = head.tokens("transfer-encoding")
        return ("chunked", None) if codings and codings[-1] == "chunked" else ("close", None)
    if head.all("content-length"):
        return "length", parse_length(head)
    return "close", None


def copy_body(reader, framing, length, out):
    """Stream one body from reader to out(bytes), wire bytes unchanged."""
    if framing == "length":
        left = length
        while left:
            data = reader.some(min(left, BUF))
            out(data)
            left -= len(data)
    elif framing == "chunked":
        while True:
            line = reader.line(4096)
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 15 or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise ProtocolError("bad chunk size line %r" % line[:40])
            out(line)
            left = int(size_text, 16)
            if left == 0:
                break
            while left:
                data = reader.some(min(left, BUF))
                out(data)
                left -= len(data)
            end = reader.line(4096)
            if end.strip(b"\r\n"):
                raise ProtocolError("chunk data not followed by CRLF")
            out(end)
        for _ in range(MAX_HEADERS + 1):  # trailers, then the empty line
            line = reader.line()
            out(line)
            if not line.strip(b"\r\n"):
                return
        raise ProtocolError("too many trailer lines")
    else:
        while True:
            try:
                data = reader.some(BUF)
            except Closed:
                return
            out(data)


class Sink:
    """Sends a body to the client (or to nowhere: sock None), optionally cut short or paced."""

    def __init__(self, sock, limit=None, bps=None):
        self.sock = sock
        self.limit = limit  # None, a byte count, or "half" (of the first piece)
        self.bps = bps
        self.sent = 0
        self.t0 = None

    def __call__(self, data):
        if self.limit == "half":
            self.limit = len(data) // 2
        if self.limit is not None:
            room = self.limit - self.sent
            if len(data) >= room:
                self._send(data[:room])
                raise Cut()
        self._send(data)

    def _send(self, data):
        if not data:
            return
        if self.sock is None:  # only counting (reset-upload reads part of a request)
            self.sent += len(data)
            return
        if not self.bps:
            self.sock.sendall(data)
            self.sent += len(data)
            return
        if self.t0 is None:
            self.t0 = time.monotonic()
        step = max(1, self.bps // 20)
        for i in range(0, len(data), step):
            delay = self.t0 + self.sent / self.bps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            piece = data[i : i + step]
            self.sock.sendall(piece)
            self.sent += len(piece)


# ---------------------------------------------------------------- fault plan


class Rule:
    def __init__(self, text):
        self.text = text
        tokens = [t.strip() for t in text.split(",")]
        kind, _, arg = tokens[0].partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        self.kind = kind
        self.arg = None
        if kind == "stall":
            self.arg = float(arg) if arg else 5.0
            if not 0 <= self.arg <= 3600:
                raise ValueError("stall seconds out of range: %r" % arg)
        elif kind == "redirect":
            if not re.fullmatch(r"[a-z0-9-]{1,32}", arg or ""):
                raise ValueError("redirect needs a region: redirect:REGION")
            self.arg = arg
        elif kind == "trickle":
            if not arg.isdigit() or int(arg) < 1:
                raise ValueError("trickle needs a rate in bytes/s: trickle:BPS")
            self.arg = int(arg)
        elif arg:
            raise ValueError("%s takes no :argument" % kind)
        self.n, self.every, self.methods, self.path, self.after, self.half = 1, None, None, None, None, False
        n_given = False
        for tok in tokens[1:]:
            key, eq, val = tok.partition("=")
            key = key.strip().lower()
            if key == "half" and not eq and kind == "stall":
                self.half = True
            elif key == "n" and eq:
                n_given = True
                self.n = None if val in ("inf", "*") else positive(val, "n")
            elif key == "every" and eq:
                self.every = positive(val, "every")
            elif key == "method" and eq:
                self.methods = {m.strip().upper() for m in val.split("|") if m.strip()}
            elif key == "path" and eq:
                self.path = val
            elif key == "after" and eq and kind in ("reset", "truncate", "stall", "reset-upload"):
                self.after = positive(val, "after", zero=True)
            else:
                raise ValueError("unknown option %r for %s" % (tok, kind))
        if self.every and not n_given:
            self.n = None
        self.seen = 0
        self.injected = 0

    def matches(self, method, target):
        if self.methods and method not in self.methods:
            return False
        return self.path is None or self.path in target

    def wants(self):
        if self.n is not None and self.injected >= self.n:
            return False
        return not self.every or self.seen % self.every == 0

    def describe(self):
        return "%s (seen %d, injected %d)" % (self.text, self.seen, self.injected)


def positive(val, what, zero=False):
    if not val.isdigit() or (int(val) == 0 and not zero) or len(val) > 15:
        raise ValueError("%s must be a %s integer, not %r" % (what, "non-negative" if zero else "positive", val))
    return int(val)


def parse_plan(texts):
    rules = []
    for text in texts:
        for part in re.split(r"[;\n]", text):
            if part.strip():
                rules.append(Rule(part.strip()))
    return rules


# ---------------------------------------------------------------- the proxy


class Proxy:
    def __init__(self, upstream, rules, args):
        self.upstream = upstream
        self.rules = rules
        self.args = args
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(args.max_conns)
        self.active = 0
        self.zero()

    def zero(self):
        self.stats = collections.OrderedDict(
            (k, 0)
            for k in ("requests", "forwarded", "passthrough", "injected", "connections", "upstream_errors", "aborted", "bad_requests")
        )
        self.injected = collections.OrderedDict((k, 0) for k in KINDS)
        self.log = collections.deque(maxlen=100)

    def count(self, name, by=1):
        with self.lock:
            self.stats[name] += by

    def pick(self, method, target):
        """The rule that injects into this request, or None; counts the request."""
        with self.lock:
            self.stats["requests"] += 1
            chosen = None
            for rule in self.rules:
                if rule.matches(method, target):
                    rule.seen += 1
                    if chosen is None and rule.wants():
                        rule.injected += 1
                        chosen = rule
            if chosen:
                self.stats["injected"] += 1
                self.injected[chosen.kind] += 1
                self.log.append("%s %s %s" % (chosen.kind, method, target))
        if chosen:
            say("inject %s: %s %s" % (chosen.text, method, target))
        return chosen

    def snapshot(self):
        with self.lock:
            out = collections.OrderedDict(self.stats)
            out["active"] = self.active
            out["injected_by_kind"] = collections.OrderedDict(self.injected)
            out["log"] = list(self.log)
            return out

    def stats_text(self):
        snap = self.snapshot()
        lines = ["%s %d" % (k, v) for k, v in snap.items() if isinstance(v, int)]
        lines += ["injected.%s %d" % (k, v) for k, v in snap["injected_by_kind"].items()]
        return "\n".join(lines) + "\n"

    def plan_text(self):
        with self.lock:
            return "".join(r.describe() + "\n" for r in self.rules)


def say(msg):
    try:
        sys.stderr.write("faultproxy: %s\n" % msg)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def reset(sock):
    """Abort the connection with an RST, after what was sent has left."""
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        try:
            unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
        except OSError:
            break
        if unsent == 0:
            break
        time.sleep(0.01)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def graceful_close(sock, wait=2.0):
    """FIN, then drain what the client still sends, so that close() sends no RST."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            if not sock.recv(BUF):
                break
    except OSError:
        pass
    sock.close()


def wait_for_close(sock, seconds):
    """Sleep up to seconds, reading and dropping client data; stop early at EOF."""
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if select.select([sock], [], [], left)[0] and not sock.recv(BUF):
                return
    except OSError:
        return


def simple_response(status, reason, body, ctype, keep, extra=()):
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: " + ctype, "Content-Length: %d" % len(body)]
    lines += list(extra)
    lines.append("Connection: keep-alive" if keep else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def s3_error(kind, method, keep):
    code, status, reason, message = {
        "500": ("InternalError", 500, "Internal Server Error", "We encountered an internal error. Please try again."),
        "503": ("SlowDown", 503, "Slow Down", "Please reduce your request rate."),
    }[kind]
    rid = "FAULTPROXY%08X" % (int(time.monotonic() * 1000) & 0xFFFFFFFF)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
        "<RequestId>%s</RequestId><HostId>faultproxy</HostId></Error>" % (code, message, rid)
    ).encode()
    resp = simple_response(status, reason, body, "application/xml", keep, ["x-amz-request-id: " + rid])
    if method == "HEAD":
        resp = resp[: resp.index(b"\r\n\r\n") + 4]
    return resp


def s3_redirect(region, method, keep):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>'
        "<Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>"
        "<Endpoint>s3.%s.amazonaws.com</Endpoint><Region>%s</Region><RequestId>FAULTPROXY</RequestId></Error>"
        % (region, region)
    ).encode()
    resp = simple_response(301, "Moved Permanently", body, "application/xml", keep, ["x-amz-bucket-region: " + region])
    if method == "HEAD":
        resp = resp[: resp.index(b"\r\n\r\n") + 4]
    return resp


def s3_skew(method, keep):
    now = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RequestTimeTooSkewed</Code>'
        "<Message>The difference between the request time and the current time is too large.</Message>"
        "<RequestId>FAULTPROXY</RequestId></Error>"
    ).encode()
    resp = simple_response(403, "Forbidden", body, "application/xml", keep, ["Date: " + now])
    if method == "HEAD":
        resp = resp[: resp.index(b"\r\n\r\n") + 4]
    return resp


def log_headers(path, method, target, req):
    """One line per request: method, target and the headers, secrets redacted."""
    hidden = ("authorization", "x-amz-security-token")
    parts = ["%s: %s" % (k.lower(), "<redacted>" if k.lower() in hidden else v) for k, v in req.headers]
    with open(path, "a", encoding="utf-8", errors="replace") as f:
        f.write("%s %s | %s\n" % (method, target, " | ".join(parts)))


def response_head(head, close):
    """The upstream's response head without hop-by-hop headers, for the client."""
    lines = [head.first]
    for k, v in head.headers:
        if k.lower() not in ("connection", "keep-alive", "proxy-connection"):
            lines.append("%s: %s" % (k, v))
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    """One client connection: requests are handled one after the other."""

    def __init__(self, proxy, sock):
        self.proxy = proxy
        self.sock = sock
        self.client = Reader(sock)
        self.counted = False  # in stats["connections"]: once it carries a proxied request

    def run(self):
        args = self.proxy.args
        outcome = "close"
        try:
            while True:
                self.sock.settimeout(args.idle_timeout)
                try:
                    head = read_head(self.client)
                except (Closed, socket.timeout):
                    break
                self.sock.settimeout(args.io_timeout)
                outcome = self.handle(head)
                if outcome != "keep":
                    break
        except ProtocolError as e:
            self.proxy.count("bad_requests")
            say("bad request: %s" % e)
            try:
                self.sock.sendall(simple_response(400, "Bad Request", (str(e) + "\n").encode(), "text/plain", False))
            except OSError:
                pass
        except (OSError, Closed) as e:
            say("client connection: %s" % (e or type(e).__name__))
            outcome = "done"
        if outcome != "done":
            graceful_close(self.sock)
        else:
            self.sock.close()

    def handle(self, req):
        parts = req.first.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ProtocolError("bad request line %r" % req.first[:80])
        method, target, version = parts
        framing, length = request_framing(req)
        keep = version == "HTTP/1.1" and "close" not in req.tokens("connection")
        if target.startswith(CONTROL):
            return self.control(method, target, framing, length, keep)
        if not self.counted:
            self.counted = True
            self.proxy.count("connections")
        expect = "100-continue" in req.tokens("expect")
        has_body = framing == "chunked" or length > 0
        rule = self.proxy.pick(method, target)
        kind = rule.kind if rule else None

        if self.proxy.args.log_headers:
            log_headers(self.proxy.args.log_headers, method, target, req)
        if kind in ("500", "503", "redirect", "skew"):
            if kind == "redirect":
                answer = lambda k: s3_redirect(rule.arg, method, k)
            elif kind == "skew":
                answer = lambda k: s3_skew(method, k)
            else:
                answer = lambda k: s3_error(kind, method, k)
            if expect and has_body:  # refuse before the body, as S3 does
                self.sock.sendall(answer(False))
                return "close"
            copy_body(self.client, framing, length, lambda data: None)
            self.sock.sendall(answer(keep))
            return "keep" if keep else "close"
        if kind == "reset-upload":
            if expect and has_body:
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            limit = rule.after if rule.after is not None else (length // 2 if framing == "length" else BUF // 2)
            try:
                copy_body(self.client, framing, length, Sink(None, limit=limit))
            except Cut:
                pass
            reset(self.sock)
            return "done"
        if kind == "stall" and not rule.half:
            wait_for_close(self.sock, rule.arg)
            return "close"
        return self.forward(req, method, framing, length, keep, expect and has_body, rule)

    def forward(self, req, method, framing, length, keep, expect, rule):
        args = self.proxy.args
        kind = rule.kind if rule else None
        try:
            up = socket.create_connection(self.proxy.upstream, timeout=args.io_timeout)
        except OSError as e:
            self.proxy.count("upstream_errors")
            say("upstream connect: %s" % e)
            self.sock.sendall(simple_response(502, "Bad Gateway", b"faultproxy: upstream unreachable\n", "text/plain", False))
            return "close"
        try:
            return self.exchange(up, req, method, framing, length, keep, expect, kind, rule)
        except (UpstreamGone, ProtocolError, Closed, socket.timeout) as e:
            # either side broke off mid-exchange: the client connection cannot go on
            self.proxy.count("aborted")
            say("upstream exchange for %s: %s" % (method, e or type(e).__name__))
            return "done"
        finally:
            up.close()

    def exchange(self, up, req, method, framing, length, keep, expect, kind, rule):
        self.proxy.count("forwarded")
        upr = Reader(up)
        up.sendall(req.raw)
        body_sent = True
        if expect:  # the client waits for 100 Continue (or a while) before its body
            ready = select.select([up, self.sock], [], [], self.proxy.args.io_timeout)[0]
            if up in ready:
                interim = read_head(upr)
                if status_of(interim) // 100 != 1:
                    return self.relay(upr, interim, method, False, kind, rule, early=True)
                self.sock.sendall(interim.raw)

        def to_upstream(data):
            try:
                up.sendall(data)
            except OSError as e:
                raise UpstreamGone(str(e))

        try:
            copy_body(self.client, framing, length, to_upstream)
        except UpstreamGone:
            body_sent = False  # the upstream may still have answered
        resp = read_head(upr)
        while 100 <= status_of(resp) < 200:
            if status_of(resp) != 101:
                self.sock.sendall(resp.raw)
            resp = read_head(upr)
        return self.relay(upr, resp, method, keep and body_sent, kind, rule)

    def relay(self, upr, resp, method, keep, kind, rule, early=False):
        rframing, rlength = response_framing(method, status_of(resp), resp)
        close = early or not keep or rframing == "close" or kind in ("reset", "truncate", "stall")
        sink = Sink(self.sock)
        if kind in ("reset", "truncate", "stall"):
            if rframing == "length" and rlength == 0:
                if kind == "reset":
                    reset(self.sock)
                    return "done"
                if kind == "stall":
                    self.sock.sendall(response_head(resp, True))
                    wait_for_close(self.sock, rule.arg)
                return "close"
            after = rule.after if rule.after is not None else (rlength // 2 if rframing == "length" else "half")
            sink = Sink(self.sock, limit=after)
        elif kind == "trickle":
            sink = Sink(self.sock, bps=rule.arg)
        self.sock.sendall(response_head(resp, close))
        try:
            copy_body(upr, rframing, rlength, sink)
        except Cut:
            pass
        if kind == "reset":
            reset(self.sock)
            return "done"
        if kind == "stall":
            wait_for_close(self.sock, rule.arg)
        if kind is None:
            self.proxy.count("passthrough")
        return "close" if close else "keep"

    def control(self, method, target, framing, length, keep):
        body = bytearray()

        def collect(data):
            body.extend(data)
            if len(body) > MAX_CONTROL_BODY:
                raise ProtocolError("control body too large")

        copy_body(self.client, framing, length, collect)
        path = target[len(CONTROL) - 1 :].split("?", 1)[0]
        proxy = self.proxy
        status, ctype, out = 200, "text/plain", b""
        if path == "/stats" and method == "GET":
            ctype, out = "application/json", (json.dumps(proxy.snapshot(), indent=1) + "\n").encode()
        elif path == "/stats.txt" and method == "GET":
            out = proxy.stats_text().encode()
        elif path == "/plan" and method == "GET":
            out = proxy.plan_text().encode()
        elif path == "/plan" and method in ("PUT", "POST"):
            try:
                rules = parse_plan([body.decode("utf-8")])
            except (ValueError, UnicodeDecodeError) as e:
                status, out = 400, ("bad fault plan: %s\n" % e).encode()
            else:
                with proxy.lock:
                    proxy.rules = rules
                say("plan: %s" % ("; ".join(r.text for r in rules) or "(pass-through)"))
                out = proxy.plan_text().encode()
        elif path == "/reset-stats" and method == "POST":
            with proxy.lock:
                proxy.zero()
        else:
            status, out = 404, b"unknown control request\n"
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        self.sock.sendall(simple_response(status, reason, out, ctype, keep))
        return "keep" if keep else "close"


def status_of(head):
    parts = head.first.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise ProtocolError("bad status line %r" % head.first[:80])
    return int(parts[1])


# ---------------------------------------------------------------- main


def serve(proxy, listener, stop, parent):
    def worker(sock):
        with proxy.lock:
            proxy.active += 1
        try:
            Connection(proxy, sock).run()
        except Exception as e:  # a bug must not kill the proxy; say it and drop the connection
            say("internal error: %r" % e)
            sock.close()
        finally:
            with proxy.lock:
                proxy.active -= 1
            proxy.slots.release()

    listener.settimeout(0.25)
    while not stop.is_set():
        if os.getppid() != parent:
            say("parent process gone; exiting")
            break
        if not proxy.slots.acquire(timeout=0.25):
            continue  # at max connections: new ones wait in the listen queue
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            proxy.slots.release()
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=worker, args=(sock,), daemon=True).start()


def die_with_parent():
    """Ask Linux for SIGTERM when the parent exits (the poll in serve() is the fallback)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    ap = argparse.ArgumentParser(description="fault-injecting HTTP/1.1 reverse proxy (see the module docstring)")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the server")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--fault", action="append", default=[], help="fault plan rule(s), see above")
    ap.add_argument("--max-conns", type=int, default=64, help="client connections served at once")
    ap.add_argument("--idle-timeout", type=float, default=60.0, help="seconds a keep-alive connection may idle")
    ap.add_argument("--io-timeout", type=float, default=60.0, help="seconds a read or write may block")
    ap.add_argument("--log-headers", metavar="FILE", help="append each request's headers (secrets redacted) to FILE")
    ap.add_argument("--watch-stdin", action="store_true", help="exit at end of file on stdin")
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if not host or not port.isdigit():
        ap.error("--upstream must be HOST:PORT")
    if args.max_conns < 1:
        ap.error("--max-conns must be at least 1")
    try:
        rules = parse_plan(args.fault)
    except ValueError as e:
        ap.error("bad fault plan: %s" % e)

    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    die_with_parent()
    if args.watch_stdin:

        def watch():
            while os.read(0, 4096):
                pass
            stop.set()

        threading.Thread(target=watch, daemon=True).start()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    proxy = Proxy((host, int(port)), rules, args)
    print("faultproxy listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    serve(proxy, listener, stop, parent)
    listener.close()
    sys.stdout.flush()
    os._exit(0)  # connection threads are daemons; do not wait for slow clients


if __name__ == "__main__":
    main()
