"""A loopback proxy in front of the BigQuery emulator that fails chosen jobs the way
BigQuery does, for tests of what the emulator never produces (it serialises every DML,
so it never answers "Could not serialize access ... due to concurrent update", and it
has no streaming buffer).

    python3 bq_fault_proxy.py --upstream http://127.0.0.1:9050 \
        --match "MERGE " --times 1 --message "Could not serialize access to ..."

    python3 bq_fault_proxy.py --upstream http://127.0.0.1:9050 \
        --cut-body pageToken --cut-mode close --times 1

It prints the port it listens on (127.0.0.1 only) as its first line. With --match, the
first TIMES query jobs whose SQL contains MATCH (dry runs excluded) are not forwarded:
they are answered as BigQuery answers a DML job that failed, a DONE job with
`errorResult` (reason `invalidQuery`, the message given), and later `jobs.get` calls for
them return the same failed job. With --cut-body, the first TIMES GET responses whose
URL contains the pattern arrive cut off, as a network or a proxy can deliver them:
`close` sends the headers and half the body, then closes the connection; `short`
sends half the body with a Content-Length that matches it (not whole JSON); `empty`
sends 200 with no body. `GET /_proxy/stats` answers how many jobs were failed and
bodies cut. Everything else is passed through unchanged. Standard library only.
"""
import argparse
import json
import socket
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAILED = {}  # job id -> the failed job resource
STATS = {"failed": 0, "cut": 0}
LOCK = threading.Lock()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--match")
    parser.add_argument("--times", type=int, default=1)
    parser.add_argument("--message", default="")
    parser.add_argument("--reason", default="invalidQuery")
    parser.add_argument("--cut-body")
    parser.add_argument("--cut-mode", choices=["close", "short", "empty"], default="close")
    args = parser.parse_args()
    budget = {"left": args.times}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status, payload, headers=()):
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            if not any(k.lower() == "content-type" for k, _ in headers):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _cut(self):
            """Whether this response is to arrive cut off (and spends the budget)."""
            if args.cut_body is None or self.command != "GET" or args.cut_body not in self.path:
                return False
            with LOCK:
                if budget["left"] <= 0:
                    return False
                budget["left"] -= 1
                STATS["cut"] += 1
            return True

        def _reply_cut(self, status, data, headers):
            half = data[: len(data) // 2]
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            if args.cut_mode == "close":
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(half)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            sent = half if args.cut_mode == "short" else b""
            self.send_header("Content-Length", str(len(sent)))
            self.end_headers()
            self.wfile.write(sent)

        def _forward(self, body):
            request = urllib.request.Request(
                args.upstream + self.path, data=body or None, method=self.command
            )
            for k, v in self.headers.items():
                if k.lower() not in ("host", "content-length", "connection"):
                    request.add_header(k, v)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(request, timeout=300) as response:
                    status, data, headers = response.status, response.read(), response.getheaders()
            except urllib.error.HTTPError as e:
                status, data, headers = e.code, e.read(), e.headers.items()
            if status == 200 and self._cut():
                self._reply_cut(status, data, headers)
            else:
                self._reply(status, data, headers)

        def _fault(self, body):
            """The failed job for a matching insert, else None."""
            if self.command != "POST" or not self.path.split("?")[0].endswith("/jobs"):
                return None
            try:
                job = json.loads(body)
            except ValueError:
                return None
            config = job.get("configuration", {})
            sql = config.get("query", {}).get("query", "")
            if args.match is None or config.get("dryRun") or args.match not in sql:
                return None
            with LOCK:
                if budget["left"] <= 0:
                    return None
                budget["left"] -= 1
                STATS["failed"] += 1
            error = {"reason": args.reason, "message": args.message}
            resource = {
                "kind": "bigquery#job",
                "jobReference": job.get("jobReference", {}),
                "configuration": config,
                "status": {"state": "DONE", "errorResult": error, "errors": [error]},
                "statistics": {"creationTime": "0", "startTime": "0", "endTime": "0"},
            }
            with LOCK:
                FAILED[job.get("jobReference", {}).get("jobId")] = resource
            return resource

        def _known_failure(self):
            if self.command != "GET" or "/jobs/" not in self.path:
                return None
            job_id = self.path.split("?")[0].rsplit("/jobs/", 1)[1]
            with LOCK:
                return FAILED.get(job_id)

        def _handle(self):
            if self.path == "/_proxy/stats":
                with LOCK:
                    return self._reply(200, dict(STATS))
            body = self._body()
            faked = self._fault(body) or self._known_failure()
            if faked is not None:
                self._reply(200, faked)
            else:
                self._forward(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
