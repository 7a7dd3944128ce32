#!/usr/bin/python3
"""Benchmark: object-storage requests for N JPEG crops, batchsink's shards
(location=s3://) against one upload per crop (the seed's way: loose files,
each its own object), on a local s3rver.

- ours: `batchsink format=tar location=s3://bucket/tar/` straight from the
  pipeline (default shard and part sizes), then reading it all back the way
  a training job would (dataset.json, then each shard: one GET each).
- baseline: `batchsink format=dir` to a local folder (one .jpg + one .json
  per crop), then one boto3 put_object per file, then reading back (one
  LIST page per 1000 keys + one GET per file). "crops only" counts the
  images alone (1 request per crop), the friendliest baseline.

Requests are counted by tests/python/tools/s3_proxy.py, in front of the
server for both (it also checks every SigV4 signature); batchsink's own
count (batchsink-progress `requests`) is printed beside it. Wall seconds
are on localhost, where a request costs ~1 ms: against a real store each
request costs 10-100 ms, so the request count is the figure that carries
over (and the one object stores bill).

usage: bench/s3_requests.py [--crops 1000]
needs GST_PLUGIN_PATH to include the build tree, node/npm (s3rver), boto3.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
import test_s3 as t  # noqa: E402  (its servers and helpers)


def crops(n, sink):
    return ["videotestsrc", "pattern=snow", "num-buffers=%d" % n, "!",
            "video/x-raw,width=82,height=82", "!", "videoscale", "!",
            "video/x-raw,width=328,height=328", "!", "jpegenc", "!",
            "batchsink"] + sink


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="s3-bench-") as tmp:
        srv = t.Servers(tmp)
        try:
            # ours
            url, log = srv.proxy()
            t0 = time.time()
            p = t.run(crops(a.crops, ["format=tar", "endpoint=" + url,
                                      "location=s3://%s/tar/" % t.BUCKET]))
            ours_write_s = time.time() - t0
            ours_write = len(t.requests_log(log))
            reported, sent = t.final_progress(p.stdout)
            pcli = t.s3_client(int(url.rsplit(":", 1)[1]))
            n0 = len(t.requests_log(log))
            t0 = time.time()
            ds, got = t.remote_dataset(pcli, "tar/")
            ours_read_s = time.time() - t0
            ours_read = len(t.requests_log(log)) - n0
            assert len(got) == 2 * a.crops, len(got)
            # baseline: loose files, one object each
            local = os.path.join(tmp, "dir")
            t0 = time.time()
            t.run(crops(a.crops, ["format=dir", "location=" + local]))
            files = []
            for root, _, names in os.walk(local):
                files += [os.path.join(root, n) for n in names
                          if n.endswith((".jpg", ".json"))]
            url2, log2 = srv.proxy()
            bcli = t.s3_client(int(url2.rsplit(":", 1)[1]))
            for f in sorted(files):
                with open(f, "rb") as fh:
                    bcli.put_object(Bucket=t.BUCKET, Body=fh.read(),
                                    Key="dir/" + os.path.relpath(f, local))
            base_write_s = time.time() - t0
            base_write = len(t.requests_log(log2))
            n0 = base_write
            t0 = time.time()
            keys = []
            for page in bcli.get_paginator("list_objects_v2").paginate(
                    Bucket=t.BUCKET, Prefix="dir/"):
                keys += [o["Key"] for o in page.get("Contents", [])]
            for k in keys:
                t.get(bcli, k)
            base_read_s = time.time() - t0
            base_read = len(t.requests_log(log2)) - n0
            jpgs = sum(1 for f in files if f.endswith(".jpg"))
        finally:
            srv.stop()
    mb = sum(sh["bytes"] for sh in ds["shards"]) / 1e6
    print("S3 requests for %d JPEG crops 328x328 (%.1f MB of tar shards), "
          "local s3rver" % (a.crops, mb))
    print("%-44s %9s %9s %9s %9s" % ("", "write req", "write s", "read req",
                                      "read s"))
    print("%-44s %9d %9.2f %9d %9.2f" % (
        "batchsink tar -> s3:// (%d shard)" % len(ds["shards"]), ours_write,
        ours_write_s, ours_read, ours_read_s))
    print("%-44s %9d %9.2f %9d %9.2f" % (
        "dir + 1 PUT per file (%d files)" % len(files), base_write,
        base_write_s, base_read, base_read_s))
    print("%-44s %9d %9s %9d %9s" % ("crops only (1 PUT, 1 GET per crop)",
                                      jpgs, "-", jpgs, "-"))
    print("batchsink-progress requests=%d upload-bytes=%d (proxy counted %d)"
          % (reported, sent, ours_write))
    print("ratio: write %.0fx fewer requests (%.0fx vs crops only), read "
          "%.0fx fewer" % (base_write / ours_write, jpgs / ours_write,
                           base_read / ours_read))
    if reported != ours_write:
        sys.exit("batchsink's count differs from the proxy's")


if __name__ == "__main__":
    main()
