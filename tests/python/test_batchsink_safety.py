#!/usr/bin/python3
"""batchsink on bad days (issue 21), checked from outside with h5py,
tarfile, gzip and json:

- a full disk (a 2 MiB tmpfs) for every format: a clean error naming the
  file and "No space left on device", a clean exit (no crash in libhdf5's
  exit handler, no hang: a time limit), and every shard the manifest
  lists intact;
- a disk too full for format=hdf5's consolidation at EOS (the shards fit,
  a copy of them does not): a clean error naming the file; a split
  consolidated before stays its one file, the failed one its shards and
  their view, every sample listed and readable;
- a stop without EOS (SIGINT without -e) for every format: the manifest
  says "complete": false and lists what is kept, and batchsink says how
  many samples it kept and dropped (printed, and as an element WARNING
  for applications);
- an existing directory as `location` (jsonl, hdf5) is refused at start,
  leaving nothing behind;
- HDF5 attributes over 64 KiB (a 5000-node skeleton) are written and read
  back, in one file and in the file consolidated from shards.

Exits non-zero on the first mismatch.
"""
import gzip
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import h5py
import numpy as np

FORMATS = ["tar", "jsonl", "dir", "hdf5"]


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def launch(desc, timeout=120):
    try:
        return subprocess.run(["gst-launch-1.0"] + desc.split(),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit("FAIL: gst-launch-1.0 did not exit within %d s: %s"
                 % (timeout, desc))


def location(d, fmt):
    return {"hdf5": os.path.join(d, "o.h5"),
            "jsonl": os.path.join(d, "o.jsonl")}.get(fmt, os.path.join(d, "o"))


def manifest_of(d, fmt):
    loc = location(d, fmt)
    if fmt in ("hdf5", "jsonl"):
        return json.load(open(loc + ".manifest.json")), d
    names = [x for x in os.listdir(loc) if x.endswith(".manifest.json")]
    expect(len(names) == 1, "%s manifests: %s" % (fmt, names))
    return json.load(open(os.path.join(loc, names[0]))), loc


def check_listed(d, fmt, how):
    """Every shard the manifest lists reads back whole; returns samples."""
    man, root = manifest_of(d, fmt)
    expect(man["complete"] is False, "%s %s: complete=%s"
           % (fmt, how, man["complete"]))
    total = 0
    for s in man["shards"]:
        path = os.path.join(root, s["name"])
        expect(os.path.getsize(path) == s["bytes"], "%s %s: %s size"
               % (fmt, how, s["name"]))
        if fmt == "tar":
            with tarfile.open(path) as t:
                n = len(t.getnames()) // 2
        elif fmt == "jsonl":
            n = len([json.loads(x) for x in open(path, "rb").read()
                     .splitlines()])
        else:
            with h5py.File(path, "r") as f:
                n = f["images"].shape[0]
                f["images"][...]
        expect(n == s["samples"], "%s %s: %s holds %d, listed %d"
               % (fmt, how, s["name"], n, s["samples"]))
        total += n
    if fmt == "dir":
        total = man["samples"]
        jsons = [x for r, _, fs in os.walk(root) for x in fs
                 if x.endswith(".json") and not x.endswith("manifest.json")]
        expect(len(jsons) >= total, "dir %s: %d json files, %d listed"
               % (how, len(jsons), total))
    if fmt == "hdf5" and man["shards"]:
        with h5py.File(location(d, fmt), "r") as f:
            expect(f["images"].shape[0] >= total, "hdf5 %s: view" % how)
    return total, man


def check_loose(root, size):
    files = [os.path.join(r, x) for r, _, fs in os.walk(root) for x in fs]
    expect(not [x for x in files if x.endswith(".partial")],
           "dir: .partial left")
    jsons = [x for x in files if x.endswith(".json")]
    for j in jsons:
        json.load(open(j))
        expect(os.path.getsize(j[:-5] + ".rgb") == size, "dir: %s" % j)
    expect(len(jsons) == len([x for x in files if x.endswith(".rgb")]),
           "dir: pairs")
    return len(jsons)


def src(n, w, h, pattern="snow"):
    return ("videotestsrc pattern=%s num-buffers=%d ! "
            "video/x-raw,format=RGB,width=%d,height=%d" % (pattern, n, w, h))


def mount_tmpfs(mnt, what):
    """A 2 MiB tmpfs at @mnt; False (and a SKIP line) where mounting is
    not permitted."""
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs",
                        mnt], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        print("SKIP %s: cannot mount a tmpfs (%s)" % (what, p.stdout.strip()))
    return p.returncode == 0


def test_disk_full(tmp):
    mnt = os.path.join(tmp, "full")
    if not mount_tmpfs(mnt, "disk full"):
        return
    try:
        for fmt in FORMATS:
            d = os.path.join(mnt, fmt)
            os.makedirs(d)
            # jsonl writes only the JSON: many more samples to fill 2 MiB
            n, shard, w = (60000, 5000, 8) if fmt == "jsonl" else \
                (400, 50, 64)
            p = launch("%s ! batchsink format=%s location=%s "
                       "max-shard-samples=%d" % (src(n, w, 48), fmt,
                                                 location(d, fmt), shard))
            out = p.stdout
            expect(p.returncode == 1, "%s: exit %d on a full disk: %s"
                   % (fmt, p.returncode, out[-2000:]))
            expect("Caught SIG" not in out and "Spinning" not in out and
                   "CRITICAL" not in out, "%s: crash: %s" % (fmt, out))
            err = [x for x in out.splitlines() if x.startswith("ERROR: from")]
            expect(err and "No space left on device" in err[0] and
                   ('"%s' % d) in err[0] and ".partial" in err[0],
                   "%s: error %s" % (fmt, err))
            if fmt == "dir" and not [x for x in os.listdir(
                    location(d, fmt)) if x.endswith(".manifest.json")]:
                # no room left for its manifest: every loose file must
                # still be whole, none half-written
                kept = check_loose(location(d, fmt), 64 * 48 * 3)
                print("ok disk full (dir): exit 1, %d whole samples, no "
                      ".partial (no room for the manifest)" % kept)
                subprocess.run(["rm", "-rf", d])
                continue
            kept, man = check_listed(d, fmt, "disk full")
            expect(kept > 0 or fmt == "dir", "%s: nothing kept" % fmt)
            print("ok disk full (%s): \"%s\", exit 1, %d samples in %d "
                  "intact shards" % (fmt, err[0].split(": ", 2)[2][:70],
                                     kept, len(man["shards"])))
            subprocess.run(["rm", "-rf", d])
    finally:
        subprocess.run(["umount", mnt])


def check_split_kept(mnt, man, split, consolidated, how):
    """@split is its one real file (@consolidated) or its listed shards and
    their view; returns its frame indices."""
    names = [s["name"] for s in man["shards"] if s["split"] == split]
    shards = sorted(x for x in os.listdir(mnt)
                    if x.startswith("o.%s-" % split))
    path = os.path.join(mnt, "o.%s.h5" % split)
    with h5py.File(path, "r") as f:
        if consolidated:
            expect(names == ["o.%s.h5" % split] and not shards and
                   not f["images"].is_virtual, "%s: %s not consolidated: "
                   "listed %s, shards %s" % (how, split, names, shards))
            return f["frame_index"][...].tolist()
        expect(sorted(names) == shards and shards and
               f["images"].is_virtual, "%s: %s listed %s, shards %s"
               % (how, split, names, shards))
        parts = [h5py.File(os.path.join(mnt, x), "r") for x in names]
        for name in ("images", "frame_index", "pts"):
            expect((f[name][...] == np.concatenate(
                [g[name][...] for g in parts])).all(),
                "%s: %s view %s differs from the shards'" % (how, split,
                                                            name))
        for g in parts:
            g.close()
        return f["frame_index"][...].tolist()


def test_consolidate_full(tmp):
    """Snow frames (5.6 KB each) whose shards fit in 2 MiB, but not their
    consolidated copy. Splits are consolidated in name order once every
    split's last shard is committed, so nothing may be lost: a split done
    before the failure is its one file, the failed one and the rest their
    shards and views, every sample listed and readable. First the train
    split fails (half the samples), then the val split after a small
    train split was consolidated."""
    cases = [(220, 50, "train=0.5,val=0.5", "train", []),
             (160, 20, "train=0.2,val=0.8", "val", ["train"])]
    for i, (n, shard, split, fails, done) in enumerate(cases):
        mnt = os.path.join(tmp, "full-consolidate%d" % i)
        if not mount_tmpfs(mnt, "consolidation on a full disk"):
            return
        how = "consolidation (%s fails)" % fails
        try:
            loc = location(mnt, "hdf5")
            p = launch("%s ! batchsink format=hdf5 location=%s "
                       "max-shard-samples=%d split=%s split-by=sample"
                       % (src(n, 64, 48), loc, shard, split))
            out = p.stdout
            expect(p.returncode == 1, "%s: exit %d on a full disk: %s"
                   % (how, p.returncode, out[-2000:]))
            expect("Caught SIG" not in out and "CRITICAL" not in out,
                   "%s: crash: %s" % (how, out))
            err = [x for x in out.splitlines() if x.startswith("ERROR: from")]
            failed = os.path.join(mnt, "o.%s.h5" % fails)
            expect(err and "No space left on device" in err[0] and
                   ('"%s.partial"' % failed) in err[0] and
                   "shards of" in err[0], "%s: error %s" % (how, err))
            expect("kept %d samples" % n in out and "dropped 0" in out,
                   "%s: warning %s" % (how, out[-600:]))
            man = json.load(open(loc + ".manifest.json"))
            expect(man["complete"] is False and man["samples"] == n == sum(
                s["samples"] for s in man["shards"]), "%s: %d samples "
                "listed, want %d" % (how, man["samples"], n))
            for s in man["shards"]:
                path = os.path.join(mnt, s["name"])
                with h5py.File(path, "r") as f:
                    expect(f["images"].shape[0] == s["samples"] and
                           os.path.getsize(path) == s["bytes"],
                           "%s: %s" % (how, s["name"]))
            frames = []
            for sp in ("train", "val"):
                frames += check_split_kept(mnt, man, sp, sp in done, how)
            expect(sorted(frames) == list(range(n)), "%s: frames %s"
                   % (how, sorted(frames)))
            print("ok disk full at consolidation: \"%s\", exit 1; %s "
                  "consolidated, the rest shards and views: all %d samples "
                  "listed and read back" % (err[0].split(": ", 2)[2][:50],
                                            done or "none", n))
        finally:
            subprocess.run(["umount", mnt])


def test_sigint(tmp):
    for fmt in FORMATS:
        d = os.path.join(tmp, "int-" + fmt)
        os.makedirs(d)
        desc = ("%s ! identity sleep-time=3000 ! batchsink format=%s "
                "location=%s max-shard-samples=20 batch-size=4"
                % (src(100000, 16, 12, "ball"), fmt, location(d, fmt)))
        p = subprocess.Popen(["gst-launch-1.0"] + desc.split(),
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            sys.exit("FAIL: %s: no exit after SIGINT" % fmt)
        kept, man = check_listed(d, fmt, "SIGINT")
        line = [x for x in out.splitlines() if "stopped before EOS" in x]
        expect(line and ("kept %d samples" % kept) in line[0] and
               "dropped" in line[0], "%s: warning %s (kept %d)\n%s"
               % (fmt, line, kept, out[-1500:]))
        expect(kept > 0, "%s: nothing kept" % fmt)
        print("ok SIGINT (%s): manifest complete=false, %d samples in %d "
              "shards; %s" % (fmt, kept, len(man["shards"]),
                              line[0].split(": ", 1)[1][:60]))
    # applications get the same as an element WARNING on the bus
    code = r"""
import sys, time, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
p = Gst.parse_launch(sys.argv[1])
bus = p.get_bus()
got = []
# posted while batchsink stops (going to NULL): a sync handler sees it
bus.enable_sync_message_emission()
bus.connect("sync-message::warning", lambda b, m: got.append(
    m.parse_warning()))
p.set_state(Gst.State.PLAYING)
time.sleep(1.0)
p.set_state(Gst.State.NULL)
for err, dbg in got:
    if "stopped before EOS" in err.message:
        print(err.message, "|", dbg)
        break
else:
    sys.exit("no warning")
"""
    d = os.path.join(tmp, "int-app")
    desc = ("%s ! identity sleep-time=3000 ! batchsink format=dir "
            "location=%s batch-size=4" % (src(100000, 16, 12, "ball"), d))
    p = subprocess.run([sys.executable, "-c", code, desc],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    expect(p.returncode == 0 and "kept=" in p.stdout and "dropped=" in
           p.stdout, "application warning: %s" % p.stdout)
    print("ok stop from an application: WARNING %s"
          % p.stdout.strip().split("|")[-1])


def test_directory_location(tmp):
    # overwrite=true: before, jsonl failed only at EOS and left a manifest
    for fmt, extra in [("jsonl", ""), ("jsonl", "overwrite=true"),
                       ("hdf5", ""), ("hdf5", "overwrite=true")]:
        parent = os.path.join(tmp, "isdir-%s-%s" % (fmt, extra[:4]))
        loc = os.path.join(parent, "out.h5")
        os.makedirs(loc)
        p = launch("%s ! batchsink format=%s location=%s %s"
                   % (src(5, 8, 8), fmt, loc, extra))
        expect(p.returncode > 0, "%s: directory accepted: %s"
               % (fmt, p.stdout))
        err = [x for x in p.stdout.splitlines() if x.startswith("ERROR")]
        expect(err and "is a directory" in err[0] and loc in err[0],
               "%s: error %s" % (fmt, err))
        expect(os.listdir(parent) == ["out.h5"] and not os.listdir(loc),
               "%s: left %s %s" % (fmt, os.listdir(parent), os.listdir(loc)))
        print("ok %s %s refuses a directory at start: %s"
              % (fmt, extra, err[0].split(": ", 2)[2][:90]))


def test_large_attributes(tmp):
    k = 5000
    names = ["node_with_a_fairly_long_name_%05d" % i for i in range(k)]
    coco = {
        "images": [{"id": i + 1, "file_name": "clip/f_%d.png" % i,
                    "frame_index": i, "width": 32, "height": 24}
                   for i in range(3)],
        "annotations": [{"id": i + 1, "image_id": i + 1, "category_id": 1,
                         "keypoints": [v for q in range(k) for v in
                                       (float(q % 32), float(q % 24), 2)]}
                        for i in range(3)],
        "categories": [{"id": 1, "name": "big", "keypoints": names,
                        "skeleton": [[i + 1, i + 2] for i in range(k - 1)]}],
    }
    labels = os.path.join(tmp, "big.json")
    json.dump(coco, open(labels, "w"))
    for shard in [100, 1]:
        d = os.path.join(tmp, "big%d" % shard)
        loc = os.path.join(d, "o.h5")
        p = launch("%s ! annotfilter location=%s ! batchsink format=hdf5 "
                   "location=%s max-shard-samples=%d"
                   % (src(3, 32, 24), labels, loc, shard))
        expect(p.returncode == 0, "large skeleton: %s" % p.stdout[-1500:])
        with h5py.File(loc, "r") as f:
            got = [x.decode() if isinstance(x, bytes) else x
                   for x in f.attrs["nodes"]]
            expect(got == names, "nodes: %d read back" % len(got))
            expect(f.attrs["edges"].tolist() ==
                   [[i, i + 1] for i in range(k - 1)], "edges")
            kp = f["keypoints"][...]
            expect(kp.shape == (3, 1, k, 4) and kp[2, 0, 4999, 0] == 4999 % 32
                   and kp[2, 0, 4999, 1] == 4999 % 24, "keypoints")
            expect(not f["images"].is_virtual, "o.h5 is a view after EOS")
        print("ok %d-node skeleton (nodes %d KiB, edges %d KiB) in %s"
              % (k, 16 * k // 1024, 8 * (k - 1) // 1024,
                 "the file consolidated from 3 shards" if shard == 1
                 else "one file"))


def main():
    with tempfile.TemporaryDirectory(prefix="batchsink-safety-") as tmp:
        test_directory_location(tmp)
        test_large_attributes(tmp)
        test_sigint(tmp)
        test_disk_full(tmp)
        test_consolidate_full(tmp)
    print("all batchsink safety checks passed")


if __name__ == "__main__":
    main()
