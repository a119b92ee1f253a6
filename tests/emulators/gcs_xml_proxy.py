#!/usr/bin/env python3
"""Loopback proxy that makes the object_store 0.13 GCS client (XML API) work against
fake-gcs-server, whose XML API can read but not write (400 "invalid uploadType").

  gcs_xml_proxy.py --listen-port P --upstream-port U --fs-root DIR [--direct-bucket B]...

- XML `PUT /b/o` -> JSON media upload; answers with ETag and x-goog-generation.
- XML copy (`x-goog-copy-source`) -> JSON copyTo.
- XML multipart (`POST ?uploads`, `PUT ?partNumber&uploadId`, `POST ?uploadId`,
  `DELETE ?uploadId`) is buffered here and uploaded whole on completion.
- `x-goog-if-generation-match` is enforced here (fake-gcs ignores it on media uploads);
  all writes hold one lock so check-then-write is atomic (Delta's put-if-absent commits).
- `--direct-bucket` buckets are served from `<fs-root>/<bucket>/` (GET incl. Range,
  HEAD, `?list-type=2`, PUT, DELETE) without fake-gcs: files the BigQuery emulator's
  EXPORT DATA writes there lack fake-gcs's metadata xattr and break fake-gcs for that
  bucket.
- Everything else is passed through with the Host header rewritten (fake-gcs only
  serves its XML routes when Host equals its -public-host).
Stdlib only. Binds 127.0.0.1. Prints only errors. TCP_NODELAY on both sides (else
~40 ms Nagle/delayed-ACK stalls per request).
"""
import argparse
import email.utils
import http.client
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

ARGS = None
WRITE_LOCK = threading.Lock()
UPLOADS = {}  # uploadId -> {part number: bytes}
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection", "proxy-authenticate", "proxy-authorization"}


class HttpError(Exception):
    def __init__(self, status, code, msg=""):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def upstream(method, path, body=None, headers=None):
    """One request to fake-gcs; returns (status, headers list, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", ARGS.upstream_port, timeout=300)
    try:
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def q(s):
    return quote(s, safe="")


# ---- object primitives, dispatching on direct (filesystem) vs fake-gcs buckets ----

def fs_path(bucket, name):
    root = os.path.realpath(os.path.join(ARGS.fs_root, bucket))
    p = os.path.realpath(os.path.join(root, name))
    if not p.startswith(root + os.sep):
        raise HttpError(400, "InvalidArgument", "bad object name")
    return p


def fs_meta(path):
    st = os.stat(path)
    return {"size": st.st_size, "generation": str(st.st_mtime_ns),
            "etag": '"%x-%x"' % (st.st_mtime_ns, st.st_size), "mtime": st.st_mtime}


def generation(bucket, name):
    """Current generation of an object, or None if it does not exist."""
    if bucket in ARGS.direct_bucket:
        p = fs_path(bucket, name)
        return fs_meta(p)["generation"] if os.path.isfile(p) else None
    st, _, body = upstream("GET", f"/storage/v1/b/{q(bucket)}/o/{q(name)}")
    if st == 404:
        return None
    if st != 200:
        raise HttpError(502, "UpstreamError", body.decode(errors="replace"))
    return str(json.loads(body)["generation"])


def read_object(bucket, name):
    if bucket in ARGS.direct_bucket:
        p = fs_path(bucket, name)
        if not os.path.isfile(p):
            raise HttpError(404, "NoSuchKey")
        with open(p, "rb") as f:
            return f.read()
    st, _, body = upstream("GET", f"/storage/v1/b/{q(bucket)}/o/{q(name)}?alt=media")
    if st != 200:
        raise HttpError(st if st == 404 else 502, "NoSuchKey" if st == 404 else "UpstreamError")
    return body


def write_object(bucket, name, data, content_type):
    """Store an object; returns (etag, generation)."""
    if bucket in ARGS.direct_bucket:
        p = fs_path(bucket, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = f"{p}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)  # atomic: readers never see a half-written file
        m = fs_meta(p)
        return m["etag"], m["generation"]
    st, _, body = upstream(
        "POST", f"/upload/storage/v1/b/{q(bucket)}/o?uploadType=media&name={q(name)}",
        body=data, headers={"Content-Type": content_type, "Content-Length": str(len(data))})
    if st != 200:
        raise HttpError(502, "UpstreamError", body.decode(errors="replace"))
    o = json.loads(body)
    return f'"{o.get("etag") or o.get("md5Hash")}"', str(o["generation"])


def check_precondition(headers, bucket, name):
    want = headers.get("x-goog-if-generation-match")
    if want is None:
        return
    have = generation(bucket, name)
    if (want == "0" and have is not None) or (want != "0" and have != want):
        raise HttpError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")


# ---- direct-bucket reads ----

def fs_get(h, bucket, name, head):
    p = fs_path(bucket, name)
    if not os.path.isfile(p):
        raise HttpError(404, "NoSuchKey", "The specified key does not exist.")
    m = fs_meta(p)
    size, start, end, status = m["size"], 0, m["size"] - 1, 200
    rng = h.headers.get("Range")
    if rng and rng.startswith("bytes="):
        a, _, b = rng[6:].split(",")[0].strip().partition("-")
        if a == "":
            start, end = max(0, size - int(b)), size - 1  # suffix range "bytes=-N"
        else:
            start, end = int(a), min(int(b), size - 1) if b else size - 1
        if start >= size or start > end:
            raise HttpError(416, "InvalidRange", "The requested range cannot be satisfied.")
        status = 206
    inm, im = h.headers.get("If-None-Match"), h.headers.get("If-Match")
    if im is not None and im not in ("*", m["etag"]):
        raise HttpError(412, "PreconditionFailed")
    if inm is not None and inm in ("*", m["etag"]):
        status, start, end = 304, 0, -1
    hdrs = {"ETag": m["etag"], "x-goog-generation": m["generation"],
            "Last-Modified": email.utils.formatdate(m["mtime"], usegmt=True),
            "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
    if status == 206:
        hdrs["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = b""
    if not head and end >= start:
        with open(p, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
    hdrs["Content-Length"] = str(end - start + 1 if status != 304 else 0)
    h.reply(status, hdrs, body, head=head)


def fs_list(h, bucket, qs):
    """ListObjectsV2 as object_store uses it: prefix, delimiter, continuation-token,
    start-after, max-keys. The continuation token is the last key/prefix returned."""
    root = os.path.join(ARGS.fs_root, bucket)
    prefix, delim = qs.get("prefix", ""), qs.get("delimiter", "")
    after = qs.get("continuation-token") or qs.get("start-after") or ""
    max_keys = int(qs.get("max-keys", "1000"))
    entries = {}  # key or common prefix -> meta (None for a prefix)
    for dirpath, _, files in os.walk(root):
        for fn in files:
            if fn.endswith(".tmp"):
                continue
            full = os.path.join(dirpath, fn)
            key = os.path.relpath(full, root).replace(os.sep, "/")
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            if delim and delim in rest:
                entries[prefix + rest.split(delim)[0] + delim] = None
            else:
                try:
                    entries[key] = fs_meta(full)
                except FileNotFoundError:
                    pass
    keys = [k for k in sorted(entries) if k > after]
    page, more = keys[:max_keys], len(keys) > max_keys
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01">',
           f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
           f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
           f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>"]
    if delim:
        out.append(f"<Delimiter>{escape(delim)}</Delimiter>")
    for k in page:
        m = entries[k]
        if m is None:
            out.append(f"<CommonPrefixes><Prefix>{escape(k)}</Prefix></CommonPrefixes>")
        else:
            lm = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(m["mtime"]))
            out.append(f"<Contents><Key>{escape(k)}</Key><Size>{m['size']}</Size>"
                       f"<LastModified>{lm}.000Z</LastModified>"
                       f"<ETag>{escape(m['etag'])}</ETag></Contents>")
    if more:
        out.append(f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>")
    out.append("</ListBucketResult>")
    h.reply(200, {"Content-Type": "application/xml"}, "".join(out).encode())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: object_store pools connections
    disable_nagle_algorithm = True  # TCP_NODELAY on the client side

    def log_request(self, code="-", size="-"):
        pass  # quiet: only errors go to stderr

    def reply(self, status, headers, body=b"", head=False):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head and self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_GET

    def dispatch(self):
        body = self.read_body()
        try:
            self.route(body)
        except HttpError as e:
            xml = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{e.code}</Code>"
                   f"<Message>{escape(e.msg)}</Message></Error>").encode()
            self.reply(e.status, {"Content-Type": "application/xml"}, xml)

    def route(self, body):
        u = urlsplit(self.path)
        qs = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        parts = u.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        name = unquote(parts[1]) if len(parts) > 1 else ""
        # JSON/upload API paths and the bucket list go straight to fake-gcs.
        xml = bucket not in ("", "storage", "upload", "download", "_internal")
        m, direct = self.command, bucket in ARGS.direct_bucket
        if xml and name:
            if m == "POST" and "uploads" in qs:
                uid = uuid.uuid4().hex
                UPLOADS[uid] = {}
                return self.reply(200, {"Content-Type": "application/xml"}, (
                    "<?xml version='1.0' encoding='UTF-8'?><InitiateMultipartUploadResult>"
                    f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(name)}</Key>"
                    f"<UploadId>{uid}</UploadId></InitiateMultipartUploadResult>").encode())
            if "uploadId" in qs:
                parts_ = UPLOADS.get(qs["uploadId"])
                if parts_ is None:
                    if m == "DELETE":
                        return self.reply(204, {})
                    raise HttpError(404, "NoSuchUpload", "unknown uploadId")
                if m == "PUT" and "partNumber" in qs:
                    parts_[int(qs["partNumber"])] = body
                    return self.reply(200, {"ETag": f'"{uuid.uuid4().hex}"'})
                if m == "DELETE":
                    UPLOADS.pop(qs["uploadId"], None)
                    return self.reply(204, {})
                if m == "POST":  # complete: the part list in the body is implied by order
                    data = b"".join(parts_[k] for k in sorted(parts_))
                    with WRITE_LOCK:
                        check_precondition(self.headers, bucket, name)
                        etag, gen = write_object(bucket, name, data, "application/octet-stream")
                    UPLOADS.pop(qs["uploadId"], None)
                    return self.reply(200, {"Content-Type": "application/xml", "ETag": etag,
                                            "x-goog-generation": gen}, (
                        "<?xml version='1.0' encoding='UTF-8'?><CompleteMultipartUploadResult>"
                        f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(name)}</Key>"
                        f"<ETag>{escape(etag)}</ETag></CompleteMultipartUploadResult>").encode())
            if m == "PUT":
                src = self.headers.get("x-goog-copy-source")
                with WRITE_LOCK:
                    check_precondition(self.headers, bucket, name)
                    if src:
                        sb, _, so = unquote(src).lstrip("/").partition("/")
                        if sb in ARGS.direct_bucket or direct:
                            etag, gen = write_object(bucket, name, read_object(sb, so),
                                                     "application/octet-stream")
                        else:
                            st, _, rb = upstream("POST", f"/storage/v1/b/{q(sb)}/o/{q(so)}"
                                                 f"/copyTo/b/{q(bucket)}/o/{q(name)}",
                                                 body=b"", headers={"Content-Length": "0"})
                            if st == 404:
                                raise HttpError(404, "NoSuchKey", "copy source not found")
                            if st != 200:
                                raise HttpError(502, "UpstreamError", rb.decode(errors="replace"))
                            o = json.loads(rb)
                            etag, gen = f'"{o.get("etag") or o.get("md5Hash")}"', str(o["generation"])
                        return self.reply(200, {"ETag": etag, "x-goog-generation": gen,
                                                "Content-Type": "application/xml"},
                                          f"<CopyObjectResult><ETag>{escape(etag)}</ETag></CopyObjectResult>".encode())
                    ctype = self.headers.get("Content-Type", "application/octet-stream")
                    etag, gen = write_object(bucket, name, body, ctype)
                return self.reply(200, {"ETag": etag, "x-goog-generation": gen})
            if direct and m in ("GET", "HEAD"):
                return fs_get(self, bucket, name, m == "HEAD")
            if direct and m == "DELETE":
                with WRITE_LOCK:
                    p = fs_path(bucket, name)
                    if not os.path.isfile(p):
                        raise HttpError(404, "NoSuchKey", "The specified key does not exist.")
                    os.remove(p)
                return self.reply(204, {})
            if m == "DELETE":
                with WRITE_LOCK:  # do not interleave with a conditional check-then-write
                    return self.passthrough(body)
        if direct and xml and not name and m == "GET" and qs.get("list-type") == "2":
            return fs_list(self, bucket, qs)
        if direct and xml and not name and m in ("GET", "HEAD"):
            return self.reply(200, {"Content-Type": "application/xml"}, b"")
        self.passthrough(body)

    def passthrough(self, body):
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP | {"host", "content-length"}}
        hdrs["Host"] = f"127.0.0.1:{ARGS.upstream_port}"
        if body or self.command in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = str(len(body))
        st, rh, rb = upstream(self.command, self.path, body=body or None, headers=hdrs)
        out = {}
        for k, v in rh:
            if k.lower() not in HOP | {"date", "server"}:  # send_response adds its own
                out[k] = v  # (no repeated headers matter to object_store)
        if self.command != "HEAD":
            out["Content-Length"] = str(len(rb))
        self.reply(st, out, rb)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # parallel tests open many connections at once

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--fs-root", required=True)
    ap.add_argument("--direct-bucket", action="append", default=[])
    ARGS = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = Server(("127.0.0.1", ARGS.listen_port), Handler)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
