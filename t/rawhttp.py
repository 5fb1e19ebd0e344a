#!/usr/bin/env python3
"""t/rawhttp.py - raw socket clients for the HTTP limit tests.

Each subcommand prints what the server sent (status lines, one per line)
and how the connection ended, so the shell tests can compare text.
"""
import socket
import ssl
import sys
import time


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_all(s, timeout):
    """Read until the server closes or timeout passes; return (bytes, closed)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True


def responses(data):
    """Split a byte stream into (status line, body) pairs by Content-Length."""
    out = []
    while b"\r\n\r\n" in data:
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body, data = rest[:length], rest[length:]
        if not lines[0].startswith("HTTP/1.1 100 "):
            out.append((lines[0], body.decode(errors="replace")))
    return out


def status_lines(data):
    return [status for status, _ in responses(data)]


def read_responses(s, count, timeout=5.0):
    """Read until count complete responses arrived (or close, or timeout)."""
    s.settimeout(timeout)
    data = b""
    while len(responses(data)) < count:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def report(data, closed):
    for status, body in responses(data):
        print(status)
        if body:
            print("body " + body.rstrip("\n"))
    print("closed" if closed else "open")


def cmd_send(port, payload, wait="3"):
    """Send payload (Python escapes) in one write, report what came back."""
    s = connect(port)
    s.sendall(payload.encode().decode("unicode_escape").encode("latin-1"))
    report(*read_all(s, float(wait)))


def cmd_dribble(port, seconds, interval):
    """Slowloris: a request line, then one header byte every interval."""
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    deadline = time.monotonic() + float(seconds)
    closed = False
    data = b""
    s.settimeout(float(interval))
    while time.monotonic() < deadline:
        try:
            s.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        try:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
        except socket.timeout:
            pass
    if not closed:
        more, closed = read_all(s, 1.0)
        data += more
    report(data, closed)


def cmd_idle(port, seconds):
    """One request, then silence: does the server close the idle connection?"""
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    report(*read_all(s, float(seconds)))


def cmd_silent(port, seconds):
    """Connect and never send a byte."""
    s = connect(port)
    report(*read_all(s, float(seconds)))


def cmd_cap(port, count):
    """Hold count connections open, then try one more."""
    held = []
    for _ in range(int(count)):
        s = connect(port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        read_responses(s, 1)
        held.append(s)
    extra = connect(port)
    try:
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_all(extra, 1.0)
    print("extra " + ("closed" if closed and not data else "served"))
    held.pop().close()
    time.sleep(0.3)
    again = connect(port)
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = read_responses(again, 1)
    print("after one left " + ("served" if status_lines(data) else "closed"))


def cmd_tls_plain(port):
    """Plain HTTP to a TLS port."""
    cmd_send(port, "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", "3")


def cmd_tls_pipeline(port, cafile):
    """Pipelined requests over TLS, in one write."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            print(s.version())
            for line in status_lines(data):
                print(line)


def main():
    cmd, port, *args = sys.argv[1:]
    globals()["cmd_" + cmd.replace("-", "_")](int(port), *args)


if __name__ == "__main__":
    main()
