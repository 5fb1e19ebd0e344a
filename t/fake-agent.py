#!/usr/bin/env python3
"""t/fake-agent.py - a scripted agent for t/82-temperctl-client.sh.

usage: fake-agent.py PORT TLS_PORT CERT KEY LOG

Serves plain HTTP on 127.0.0.1:PORT and HTTPS on TLS_PORT.  Each request's
headers ("Name: value" lines) and body ("body: ...") are appended to LOG.
Each path answers one way a real agent might, well or badly.
"""
import http.server
import json
import socketserver
import ssl
import sys
import threading
import time

port, tls_port, cert, key, log_path = sys.argv[1:6]
log_lock = threading.Lock()

STATUS = {"node": "tls-node", "version": "0", "roles": "agent", "ready": True,
          "topology": "8 CPUs", "kubernetes": {"configured": True, "pods_synced": True,
                                              "node_synced": True, "annotation_patches": 0,
                                              "annotation_patch_failures": 0},
          "enforcement": {"mode": "auto", "state": "plan-only", "reason": "test"},
          "safe_mode": {"active": False, "annotation": False, "api": False},
          "plan": {"generation": 1, "passes": 1, "pods": 0, "layers": [], "notes": [],
                   "membership": "cgroup"}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        with log_lock, open(log_path, "a") as log:
            log.write("request: %s %s\n" % (self.command, self.path))
            for name, value in self.headers.items():
                log.write("%s: %s\n" % (name, value))
            log.write("body: %s\n" % body.decode("utf-8", "replace"))

    def send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        self.record(body)
        path = self.path.split("?")[0]
        if self.path == "/api/v1/config?generation=7":
            self.wfile.write(b"garbage that is not HTTP\r\n\r\n")
            self.close_connection = True
        elif path == "/api/v1/status":
            self.send(200, json.dumps(STATUS))
        elif path == "/api/v1/pods":
            self.send(500, '{"error":"the pod store is on fire"}')
        elif path == "/api/v1/reload":
            self.send(405, '{"error":"method POST not allowed on /api/v1/reload"}')
        elif path == "/api/v1/safe-mode":
            self.send(200, '{"active":true,"api":true,"annotation":false}')
        elif path == "/api/v1/config":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b'[{"name":', b'"chunked"}]'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/api/v1/config/generations":
            self.send(200, "<html>a proxy's error page</html>", "text/html")
        elif path == "/api/v1/config/diff":
            self.send_response(200)
            self.send_header("Content-Type", "text/x-diff")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"--- generation 1\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/api/v1/trace":
            time.sleep(30)
        else:
            self.send(404, '{"error":"no such path: %s"}' % path)

    do_GET = handle_any
    do_POST = handle_any


def serve(server):
    server.serve_forever()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    plain = Server(("127.0.0.1", int(port)), Handler)
    secure = Server(("127.0.0.1", int(tls_port)), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    threading.Thread(target=serve, args=(secure,), daemon=True).start()
    serve(plain)


if __name__ == "__main__":
    main()
