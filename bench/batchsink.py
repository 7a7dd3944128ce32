#!/usr/bin/python3
"""Benchmark: 10000 328x328 JPEG crops through batchsink format=tar against
format=dir (the seed layout: one JPEG + one JSON file per crop in
train/<track>/), in the same run, plus a plain `cat > file` of the bytes the
tar run wrote.

The crops are made once (videotestsrc snow at 82x82 scaled to 328x328, about
30 KB each, like real crops), cached in $ONEPASS_BENCH_DIR (default
/tmp/onepass-bench), and pushed from memory through appsrc so both formats
see identical buffers. Each timing is a median of --runs runs, alternating
tar and dir; "end to end" includes a final `sync`, so both layouts pay for
putting their data on disk (tar also fsyncs each shard itself).

usage: bench/batchsink.py [--count 10000] [--runs 3] [--out DIR]
needs GST_PLUGIN_PATH to include build-*/ext (or an installed onepass).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def make_crops(count, cache):
    path = os.path.join(cache, "crops_%d.bin" % count)
    idx = path + ".sizes"
    if not (os.path.exists(path) and os.path.exists(idx)):
        os.makedirs(cache, exist_ok=True)
        pipe = Gst.parse_launch(
            "videotestsrc pattern=snow num-buffers=%d ! "
            "video/x-raw,width=82,height=82 ! videoscale ! "
            "video/x-raw,width=328,height=328 ! jpegenc ! "
            "appsink name=s sync=false" % count)
        sink = pipe.get_by_name("s")
        pipe.set_state(Gst.State.PLAYING)
        with open(path + ".tmp", "wb") as f, open(idx + ".tmp", "w") as g:
            while True:
                sample = sink.emit("pull-sample")
                if sample is None:
                    break
                data = sample.get_buffer().extract_dup(
                    0, sample.get_buffer().get_size())
                f.write(data)
                g.write("%d\n" % len(data))
        pipe.set_state(Gst.State.NULL)
        os.rename(path + ".tmp", path)
        os.rename(idx + ".tmp", idx)
    data = open(path, "rb").read()
    sizes = [int(x) for x in open(idx)]
    crops, off = [], 0
    for s in sizes:
        crops.append(data[off:off + s])
        off += s
    return crops, path


def run_batchsink(crops, fmt, out):
    pipe = Gst.parse_launch(
        "appsrc name=src format=time max-bytes=0 caps=image/jpeg ! "
        "batchsink format=%s location=%s split=train=1" % (fmt, out))
    src = pipe.get_by_name("src")
    bufs = [Gst.Buffer.new_wrapped(c) for c in crops]
    bus = pipe.get_bus()
    t0 = time.monotonic()
    pipe.set_state(Gst.State.PLAYING)
    for b in bufs:
        src.emit("push-buffer", b)
    src.emit("end-of-stream")
    msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    t1 = time.monotonic()
    subprocess.run(["sync"], check=True)
    t2 = time.monotonic()
    pipe.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        raise SystemExit("batchsink %s failed: %s" % (fmt, msg.parse_error()))
    return t1 - t0, t2 - t0


def count_files(d):
    """files, bytes, and shards (the rest: the run's manifest, dataset.json
    and the run's lock file)"""
    n = b = shards = 0
    for root, _, files in os.walk(d):
        for f in files:
            n += 1
            shards += f.endswith(".tar")
            b += os.path.getsize(os.path.join(root, f))
    return n, b, shards


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=None, help="scratch dir (local disk)")
    ap.add_argument("--cache", default=os.environ.get(
        "ONEPASS_BENCH_DIR", "/tmp/onepass-bench"))
    a = ap.parse_args()
    Gst.init(None)
    crops, _ = make_crops(a.count, a.cache)
    payload = sum(len(c) for c in crops)
    scratch = tempfile.mkdtemp(prefix="bs-bench-", dir=a.out)
    res = {"tar": [], "dir": []}
    stats = {}
    try:
        for r in range(a.runs):
            for fmt in ("tar", "dir"):
                out = os.path.join(scratch, "%s%d" % (fmt, r))
                res[fmt].append(run_batchsink(crops, fmt, out))
                stats[fmt] = count_files(out)
                shutil.rmtree(out)
                subprocess.run(["sync"], check=True)
        # cat > file of the bytes the tar run wrote (one file, then sync)
        out = os.path.join(scratch, "tarcat")
        run_batchsink(crops, "tar", out)
        shards = sorted(os.path.join(out, f) for f in os.listdir(out)
                        if f.endswith(".tar"))
        cat_t = []
        for r in range(a.runs):
            dst = os.path.join(scratch, "cat%d" % r)
            t0 = time.monotonic()
            with open(dst, "wb") as f:
                subprocess.run(["cat"] + shards, stdout=f, check=True)
            subprocess.run(["sync"], check=True)
            cat_t.append(time.monotonic() - t0)
            os.unlink(dst)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {f: (statistics.median(x[0] for x in v),
               statistics.median(x[1] for x in v)) for f, v in res.items()}
    tar_bytes = stats["tar"][1]
    cat_med = statistics.median(cat_t)
    print("batchsink benchmark: %d JPEG crops 328x328, %.1f MB payload, "
          "median of %d runs" % (len(crops), payload / 1e6, a.runs))
    print("%-28s %10s %14s %8s %12s" % ("", "pipeline s", "end-to-end s",
                                        "files", "MB/s e2e"))
    for f, label in (("tar", "batchsink format=tar"),
                     ("dir", "batchsink format=dir (seed)")):
        n, b = stats[f][:2]
        print("%-28s %10.2f %14.2f %8d %12.1f" % (
            label, med[f][0], med[f][1], n, b / med[f][1] / 1e6))
    print("%-28s %10s %14.2f %8d %12.1f" % (
        "cat > file (tar's bytes)", "-", cat_med, 1, tar_bytes / cat_med / 1e6))
    print("ratio dir/tar: pipeline %.2fx, end to end %.2fx" % (
        med["dir"][0] / med["tar"][0], med["dir"][1] / med["tar"][1]))
    print("tar bytes/s vs cat > file: %.2f" % (
        (tar_bytes / med["tar"][1]) / (tar_bytes / cat_med)))
    print("files: tar %d (%d shards + index and lock files), dir %d" % (
        stats["tar"][0], stats["tar"][2], stats["dir"][0]))


if __name__ == "__main__":
    main()
