#!/usr/bin/python3
"""What an interrupted format=hdf5 run keeps (docs/batchsink.md, "After a
stop").

Each trial runs a long gst-launch-1.0 pipeline writing HDF5 in small
shards and stops it at a random moment: kill -9, or SIGINT without -e.
Afterwards, read with h5py only:
- the run's manifest says "complete": false and lists shards, each a
  complete file h5py opens;
- `<stem>.h5` (what a user opens) opens and holds the listed shards'
  samples (or one complete shard more: a kill between the view's rewrite
  and the manifest's): frames 0..N-1 in order, every image byte-identical
  to the same frame written by stock filesink;
- at most one `.partial` is left (kill -9) or none (SIGINT);
- a rerun of the same command starts again and completes: at its clean
  EOS the shards are consolidated into the one real (not virtual) file
  `<stem>.h5`, the only file left, which the manifest lists alone.

usage: test_batchsink_stops.py [--kills N] [--seed S]
The default suite runs 3 kills; the soak command is
  tests/python/test_batchsink_stops.py --kills 20
(with GST_PLUGIN_PATH_1_0 set as meson test sets it). Prints what survived
each stop. Exits non-zero on the first mismatch.
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

W, H = 32, 24
SHARD = 25
SRC = ("videotestsrc pattern=ball num-buffers=%d ! "
       "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1")


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def reference(tmp, n):
    """The first @n frames as stock filesink writes them."""
    raw = os.path.join(tmp, "ref.rgb")
    p = subprocess.run(["gst-launch-1.0", "-q"] + (SRC % (n, W, H)).split() +
                       ["!", "filesink", "location=" + raw],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    expect(p.returncode == 0, "reference: %s" % p.stdout)
    data = np.fromfile(raw, dtype=np.uint8)
    return data.reshape(n, H, W, 3)


def start(loc, n=1000000):
    # identity sleep-time keeps the run long (about 2 ms a frame)
    desc = (SRC % (n, W, H)) + (" ! identity sleep-time=2000 ! batchsink "
                                "format=hdf5 location=%s max-shard-samples=%d "
                                "batch-size=8" % (loc, SHARD))
    return subprocess.Popen(["gst-launch-1.0"] + desc.split(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def missing_shards(path):
    """docs/batchsink.md's check: the files the view at @path needs but
    cannot find ([] for a self-contained file)."""
    d = os.path.dirname(os.path.abspath(path))
    with h5py.File(path, "r") as f:
        if not f["images"].is_virtual:
            return []
        return sorted({s.file_name for s in f["images"].virtual_sources()
                       if not os.path.exists(os.path.join(d, s.file_name))})


def check_kept(loc, ref, how, partials_allowed):
    d = os.path.dirname(loc)
    man_path = loc + ".manifest.json"
    partials = glob.glob(os.path.join(d, "*.partial"))
    expect(len(partials) <= partials_allowed, "%s: .partial files %s"
           % (how, partials))
    if not os.path.exists(man_path):
        # stopped before the first shard was committed: nothing listed,
        # and nothing that looks complete
        expect(not os.path.exists(loc), "%s: view without manifest" % how)
        return 0, 0
    man = json.load(open(man_path))
    expect(man["complete"] is False, "%s: manifest complete=%s"
           % (how, man["complete"]))
    listed = 0
    for s in man["shards"]:
        with h5py.File(os.path.join(d, s["name"]), "r") as g:
            expect(g["images"].shape[0] == s["samples"],
                   "%s: %s holds %d, manifest %d" % (how, s["name"],
                                                     g["images"].shape[0],
                                                     s["samples"]))
        listed += s["samples"]
    expect(sum(s["samples"] for s in man["shards"]) == man["samples"] or
           man["samples"] >= listed, "%s: manifest counts" % how)
    if not man["shards"]:
        return 0, 0
    with h5py.File(loc, "r") as f:
        n = f["images"].shape[0]
        # the view is rewritten before the manifest lists the new shard: a
        # kill in between leaves the view one complete shard ahead
        parts = [os.path.join(d, x) for x in f.attrs["combined_from"]]
        expect(listed <= n <= listed + SHARD and len(parts) in (
            len(man["shards"]), len(man["shards"]) + 1),
            "%s: view holds %d samples in %d shards, manifest %d in %d"
            % (how, n, len(parts), listed, len(man["shards"])))
        expect(sum(h5py.File(x, "r")["images"].shape[0] for x in parts) == n,
               "%s: view rows differ from its shards'" % how)
        expect(f["frame_index"][...].tolist() == list(range(n)),
               "%s: frame indices %s" % (how, f["frame_index"][...]))
        expect(np.array_equal(f["images"][...], ref[:n]),
               "%s: images differ from filesink's" % how)
        names = sorted(f.attrs["combined_from"])
    # the view needs its shards: copied alone it would read zeros, and the
    # documented check says so
    expect(missing_shards(loc) == [], "%s: shards missing in place" % how)
    alone = os.path.join(d, "alone")
    os.makedirs(alone)
    shutil.copy(loc, alone)
    expect(missing_shards(os.path.join(alone, "o.h5")) == names,
           "%s: the view copied alone misses %s, want %s"
           % (how, missing_shards(os.path.join(alone, "o.h5")), names))
    shutil.rmtree(alone)
    return n, len(man["shards"])


def trial(tmp, i, ref, rng, sig):
    d = os.path.join(tmp, "run%d" % i)
    os.makedirs(d)
    loc = os.path.join(d, "o.h5")
    p = start(loc)
    # a random moment after the first shard was committed
    t0 = time.time()
    while not os.path.exists(loc + ".manifest.json"):
        if time.time() - t0 > 30 or p.poll() is not None:
            p.kill()
            sys.exit("FAIL: no shard committed after %.0f s: %s"
                     % (time.time() - t0, p.communicate()[0]))
        time.sleep(0.01)
    wait = rng.uniform(0, 2.0)
    time.sleep(wait)
    wait = time.time() - t0
    if p.poll() is not None:
        sys.exit("FAIL: pipeline ended early: %s" % p.communicate()[0])
    p.send_signal(sig)
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("FAIL: no exit 30 s after %s" % sig.name)
    how = "%s at %.2f s" % (sig.name, wait)
    n, shards = check_kept(loc, ref, how, 1 if sig == signal.SIGKILL else 0)
    expect(n >= SHARD, "%s: only %d samples kept" % (how, n))
    if sig == signal.SIGINT:
        expect("Segmentation" not in out and "CRITICAL" not in out,
               "%s: %s" % (how, out))
        expect("dropped" in out and "kept %d samples" % n in out,
               "%s: no warning with the counts: %s" % (how, out))
    print("%s: %d samples in %d shards survived, view and shards read "
          "back identical" % (how, n, shards))
    return d, loc, n


def consolidated(loc, n, how):
    """After a clean EOS: `<stem>.h5` alone, real datasets, listed alone."""
    d = os.path.dirname(loc)
    left = sorted(x for x in os.listdir(d) if not x.startswith("."))
    expect(left == ["dataset.json", "o.h5", "o.h5.manifest.json"],
           "%s: files %s" % (how, left))
    man = json.load(open(loc + ".manifest.json"))
    expect(man["complete"] is True and man["samples"] == n and
           [(s["name"], s["samples"], s["bytes"]) for s in man["shards"]] ==
           [("o.h5", n, os.path.getsize(loc))], "%s manifest: %s" % (how, man))
    with h5py.File(loc, "r") as f:
        expect(not f["images"].is_virtual and "combined_from" not in f.attrs,
               "%s: o.h5 is still a view" % how)
    expect(missing_shards(loc) == [], "%s: o.h5 needs shards" % how)


def rerun(loc, ref):
    """The same command after the kill starts again and completes."""
    n = 60
    p = start(loc, n)
    out, _ = p.communicate(timeout=120)
    expect(p.returncode == 0, "rerun: %s" % out)
    man = json.load(open(loc + ".manifest.json"))
    expect(man["complete"] is True and man["samples"] == n,
           "rerun manifest: %s" % man)
    consolidated(loc, n, "rerun")
    with h5py.File(loc, "r") as f:
        expect(np.array_equal(f["images"][...], ref[:n]) and
               f["frame_index"][...].tolist() == list(range(n)),
               "rerun rows")
    print("ok rerun after the kill: %d samples, complete, consolidated into "
          "one real o.h5" % n)
    # overwrite=true with fewer samples: no shard of the earlier run stays
    n = 30
    p = start(loc, n)
    p.wait()
    expect(p.returncode != 0, "rerun of a complete run not refused")
    p = subprocess.run(["gst-launch-1.0", "-q"] + (
        (SRC % (n, W, H)) + " ! batchsink format=hdf5 location=%s "
        "max-shard-samples=%d overwrite=true" % (loc, SHARD)).split(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=120)
    expect(p.returncode == 0, "overwrite: %s" % p.stdout)
    consolidated(loc, n, "overwrite")
    with h5py.File(loc, "r") as f:
        expect(np.array_equal(f["images"][...], ref[:n]), "overwrite rows")
    print("ok overwrite=true: %d samples, no shard of either run left"
          % n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    print("seed %d" % seed)
    with tempfile.TemporaryDirectory(prefix="batchsink-stops-") as tmp:
        ref = reference(tmp, 3000)
        kept = []
        last = None
        for i in range(args.kills):
            last = trial(tmp, i, ref, rng, signal.SIGKILL)
            kept.append(last[2])
        rerun(last[1], ref)
        trial(tmp, args.kills, ref, rng, signal.SIGINT)
        print("ok %d kill -9: %d..%d samples kept (shards of %d), every "
              "listed shard in the view" % (args.kills, min(kept), max(kept),
                                            SHARD))


if __name__ == "__main__":
    main()
