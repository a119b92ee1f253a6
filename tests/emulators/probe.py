#!/usr/bin/env python3
"""Smoke check of the loopback emulators (stdlib only):
    scripts/emulators run -- python3 tests/emulators/probe.py
Uses the COMPLETENESS_TEST_* variables written by `scripts/emulators start`.
Prints one OK line per check; exits 1 with a message on the first failure."""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

E = os.environ
GCS, BQ, S3 = E["COMPLETENESS_TEST_GCS_ENDPOINT"], E["COMPLETENESS_TEST_BQ_ENDPOINT"], E["COMPLETENESS_TEST_S3_ENDPOINT"]
PROJECT, STAGING, EXPORTS = E["COMPLETENESS_TEST_BQ_PROJECT"], E["COMPLETENESS_TEST_STAGING_BUCKET"], E["COMPLETENESS_TEST_EXPORT_BUCKET"]
RUN = uuid.uuid4().hex[:8]  # unique names: the probe may run twice against one state dir
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print(f"OK {msg}", flush=True)


def http(method, url, body=None, headers=None):
    """Returns (status, headers, body); never raises on HTTP status."""
    if isinstance(body, (dict, list)):
        body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with NO_PROXY.open(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def expect(status, want, what, body=b""):
    if status != want:
        fail(f"{what}: HTTP {status}, expected {want}: {body[:500]!r}")


def obj(bucket, name):
    return f"{GCS}/{bucket}/{quote(name, safe='')}"  # object_store encodes '/' too


def xml_keys(body):
    import xml.etree.ElementTree as ET
    root = ET.fromstring(body)
    return [el.text for el in root.iter() if el.tag.split("}")[-1] == "Key"]


# ---------------- GCS through the XML proxy ----------------
def gcs():
    name = f"probe/{RUN}/hello.txt"
    st, h, b = http("PUT", obj(STAGING, name), b"hello", {"Content-Type": "text/plain"})
    expect(st, 200, "XML PUT", b)
    if not h.get("ETag") or not h.get("x-goog-generation"):
        fail(f"XML PUT: missing ETag/x-goog-generation: {dict(h)}")
    st, h, b = http("GET", obj(STAGING, name))
    expect(st, 200, "XML GET", b)
    if b != b"hello" or not h.get("Last-Modified"):
        fail(f"XML GET returned {b!r} {dict(h)}")
    st, h, b = http("GET", obj(STAGING, name), headers={"Range": "bytes=1-3"})
    expect(st, 206, "XML GET range", b)
    if b != b"ell":
        fail(f"range GET returned {b!r}")
    ok("gcs put/get/range")
    st, _, b = http("GET", f"{GCS}/{STAGING}?list-type=2&prefix={quote(f'probe/{RUN}/')}")
    expect(st, 200, "XML list", b)
    if xml_keys(b) != [name]:
        fail(f"XML list: {b!r}")
    ok("gcs list")
    # Multipart as object_store does it: initiate, parts, complete.
    big = f"probe/{RUN}/big.bin"
    st, _, b = http("POST", obj(STAGING, big) + "?uploads", b"")
    expect(st, 200, "multipart initiate", b)
    upload_id = b.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    chunks = [os.urandom(5 << 20), os.urandom(5 << 20), os.urandom(1 << 20)]
    etags = []
    for i, c in enumerate(chunks, 1):
        st, h, b = http("PUT", obj(STAGING, big) + f"?partNumber={i}&uploadId={upload_id}", c)
        expect(st, 200, f"multipart part {i}", b)
        etags.append(h["ETag"])
    parts = "".join(f"<Part><PartNumber>{i}</PartNumber><ETag>{t}</ETag></Part>" for i, t in enumerate(etags, 1))
    st, h, b = http("POST", obj(STAGING, big) + f"?uploadId={upload_id}",
                    f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode())
    expect(st, 200, "multipart complete", b)
    if b"<ETag>" not in b:
        fail(f"multipart complete body: {b!r}")
    st, _, b = http("GET", obj(STAGING, big))
    if b != b"".join(chunks):
        fail(f"multipart object: {len(b)} bytes differ from the {sum(map(len, chunks))} uploaded")
    ok("gcs multipart 11 MiB")
    st, _, b = http("PUT", obj(STAGING, name), b"again", {"x-goog-if-generation-match": "0"})
    expect(st, 412, "put-if-absent on an existing object", b)
    st, _, b = http("PUT", obj(STAGING, f"probe/{RUN}/new.txt"), b"x", {"x-goog-if-generation-match": "0"})
    expect(st, 200, "put-if-absent on a new object", b)
    ok("gcs if-generation-match=0 -> 412")


# ---------------- BigQuery ----------------
def bq(method, path, body=None, want=200):
    st, _, b = http(method, f"{BQ}/bigquery/v2/projects/{PROJECT}{path}", body)
    expect(st, want, f"BigQuery {method} {path}", b)
    return json.loads(b) if b else {}


def job(configuration, what):
    """jobs.insert + poll jobs.get. bqemulator reports failures in status.errorResult
    (and sometimes as HTTP 200 with an `errors` array), so check both."""
    j = bq("POST", "/jobs", {"jobReference": {"projectId": PROJECT, "jobId": f"probe_{uuid.uuid4().hex}"},
                             "configuration": configuration})
    jid = j["jobReference"]["jobId"]
    deadline = time.time() + 120
    while j.get("status", {}).get("state") != "DONE":
        if time.time() > deadline:
            fail(f"{what}: job {jid} not DONE after 120 s: {j}")
        time.sleep(0.1)
        j = bq("GET", f"/jobs/{jid}?location={j['jobReference'].get('location', 'US')}")
    err = j["status"].get("errorResult") or j.get("errors")
    if err:
        fail(f"{what}: {err}")
    return j


def query(sql, what):
    return job({"query": {"query": sql, "useLegacySql": False}}, what)


def bigquery():
    ds = f"probe_{RUN}"
    bq("POST", "/datasets", {"datasetReference": {"projectId": PROJECT, "datasetId": ds}})
    schema = {"fields": [
        {"name": "id", "type": "STRING", "mode": "REQUIRED"},
        {"name": "hc", "type": "RECORD", "mode": "NULLABLE", "fields": [
            {"name": "dates", "type": "DATE", "mode": "REPEATED"},
            {"name": "n", "type": "INT64"},
            {"name": "ratio", "type": "FLOAT64"}]}]}
    bq("POST", f"/datasets/{ds}/tables",
       {"tableReference": {"projectId": PROJECT, "datasetId": ds, "tableId": "t"}, "schema": schema})
    t = bq("GET", f"/datasets/{ds}/tables/t")
    sub = [f["name"] for f in t["schema"]["fields"][1].get("fields", [])]
    if sub != ["dates", "n", "ratio"]:
        fail(f"tables.get RECORD schema: {t['schema']}")
    ok("bq dataset + table with RECORD(REPEATED DATE, INT64, FLOAT64)")
    r = bq("POST", f"/datasets/{ds}/tables/t/insertAll", {"rows": [
        {"insertId": "1", "json": {"id": "a", "hc": {"dates": ["2024-01-01", "2024-01-02"], "n": 2, "ratio": 0.5}}},
        {"insertId": "2", "json": {"id": "b", "hc": {"dates": [], "n": 0, "ratio": 0.0}}}]})
    if r.get("insertErrors"):
        fail(f"insertAll: {r['insertErrors']}")
    ok("bq insertAll")

    query(f"EXPORT DATA OPTIONS(uri='gs://{EXPORTS}/probe/{RUN}/*.parquet', format='PARQUET', overwrite=true) "
          f"AS SELECT id, hc FROM `{PROJECT}.{ds}.t` ORDER BY id", "EXPORT DATA")
    st, _, b = http("GET", f"{GCS}/{EXPORTS}?list-type=2&prefix={quote(f'probe/{RUN}/')}")
    expect(st, 200, "list exports via proxy", b)
    keys = [k for k in xml_keys(b) if k.endswith(".parquet")]
    if not keys:
        fail(f"EXPORT DATA wrote no .parquet listed by the proxy: {b!r}")
    st, _, pq = http("GET", obj(EXPORTS, keys[0]))
    expect(st, 200, "GET exported file", pq)
    if pq[:4] != b"PAR1" or pq[-4:] != b"PAR1":
        fail(f"{keys[0]} is not Parquet")
    ok(f"bq EXPORT DATA -> {len(keys)} parquet file(s), read through the proxy")

    # Load: the exported Parquet, uploaded to the staging bucket through the proxy.
    staged = f"probe/{RUN}/load.parquet"
    st, _, b = http("PUT", obj(STAGING, staged), pq)
    expect(st, 200, "PUT parquet to staging", b)
    j = job({"load": {"sourceUris": [f"gs://{STAGING}/{staged}"], "sourceFormat": "PARQUET",
                      "destinationTable": {"projectId": PROJECT, "datasetId": ds, "tableId": "loaded"},
                      "schema": schema, "writeDisposition": "WRITE_TRUNCATE",
                      "createDisposition": "CREATE_IF_NEEDED"}}, "load job")
    rows = j.get("statistics", {}).get("load", {}).get("outputRows")
    if str(rows) != "2":
        fail(f"load job statistics.load.outputRows = {rows!r}, expected 2: {j.get('statistics')}")
    ok("bq load job from gs://staging (outputRows=2)")

    j = query(f"""MERGE `{PROJECT}.{ds}.t` T USING `{PROJECT}.{ds}.loaded` S ON T.id = S.id
                  WHEN MATCHED THEN UPDATE SET hc = STRUCT(ARRAY_CONCAT(S.hc.dates, [DATE '2024-02-01']) AS dates,
                                                           S.hc.n + 1 AS n, S.hc.ratio AS ratio)""", "MERGE")
    n = j.get("statistics", {}).get("query", {}).get("numDmlAffectedRows")
    if str(n) != "2":
        fail(f"MERGE numDmlAffectedRows = {n!r}, expected 2: {j.get('statistics')}")
    j = query(f"SELECT id, hc.n, ARRAY_LENGTH(hc.dates) FROM `{PROJECT}.{ds}.t` ORDER BY id", "SELECT after MERGE")
    res = bq("GET", f"/queries/{j['jobReference']['jobId']}")
    got = [[c["v"] for c in row["f"]] for row in res.get("rows", [])]
    if got != [["a", "3", "3"], ["b", "1", "1"]]:
        fail(f"rows after MERGE: {got}")
    ok("bq MERGE (numDmlAffectedRows=2, struct + array updated)")


# ---------------- S3 (moto) ----------------
def s3():
    # moto checks no signature, but answers 403 to anonymous object requests (no
    # Authorization header), and stores an EMPTY object when a PUT says
    # Content-Type: application/x-www-form-urlencoded (urllib's default).
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, "
                             "SignedHeaders=host, Signature=0", "Content-Type": "application/octet-stream"}
    bucket = f"probe-{RUN}"
    st, _, b = http("PUT", f"{S3}/{bucket}", b"", auth)
    expect(st, 200, "S3 create bucket", b)
    st, _, b = http("PUT", f"{S3}/{bucket}/a/b.txt", b"s3 hello", auth)
    expect(st, 200, "S3 PUT", b)
    st, _, b = http("GET", f"{S3}/{bucket}/a/b.txt", headers=auth)
    expect(st, 200, "S3 GET", b)
    if b != b"s3 hello":
        fail(f"S3 GET returned {b!r}")
    ok("s3 put/get")


if __name__ == "__main__":
    gcs()
    bigquery()
    s3()
    print("probe: all checks passed")
