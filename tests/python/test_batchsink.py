#!/usr/bin/python3
"""batchsink against independent truth.

Every check reads batchsink's output with a tool that is not ours (tarfile,
GNU tar, h5py, gzip, json) and compares it with data produced by a separate
gst-launch-1.0 run of the same source through multifilesink, or with split
assignments recomputed here from the documented hash.

Run by meson (suite batchsink) with GST_PLUGIN_PATH_1_0 pointing at the
build tree. Exits non-zero on the first mismatch.
"""
import glob
import gzip
import json
import math
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time


def _leave_valgrind():
    """`meson test --setup valgrind` wraps this interpreter in memcheck, which
    reports CPython's own allocator, not our code (the pipelines run in
    gst-launch-1.0 children either way). Re-exec natively: valgrind runs
    with --trace-children=no, so the new image is not traced."""
    preload = os.environ.get("LD_PRELOAD", "")
    if "vgpreload" in preload:
        env = dict(os.environ)
        env["LD_PRELOAD"] = ":".join(
            p for p in preload.split(":") if "vgpreload" not in p)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


_leave_valgrind()

import h5py  # noqa: E402
import numpy as np  # noqa: E402

M64 = (1 << 64) - 1


def split_hash(s):
    """FNV-1a 64 over UTF-8, then MurmurHash3 fmix64 (docs/batchsink.md)."""
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    h ^= h >> 33
    return h


def assign(canonical, splits):
    u = (split_hash(canonical) >> 11) / float(1 << 53)
    acc = 0.0
    for i, (name, frac) in enumerate(splits):
        acc += frac
        if u < acc or i == len(splits) - 1:
            return name


def launch(desc, check=True):
    p = subprocess.run(["gst-launch-1.0", "-q"] + desc.split(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    if check and p.returncode != 0:
        sys.exit("FAIL: gst-launch-1.0 %s\n%s" % (desc, p.stdout))
    return p


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def reference_frames(src, caps, n, tmp, name):
    """The same source written buffer by buffer by stock multifilesink."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    launch("%s num-buffers=%d ! %s ! multifilesink location=%s/%%05d"
           % (src, n, caps, d))
    return [open(f, "rb").read() for f in sorted(glob.glob(d + "/*"))]


def test_hdf5_pixels(tmp):
    # width 33 RGB: GStreamer pads rows to 100 bytes, the dataset must not
    n, w, h = 12, 33, 20
    src = "videotestsrc pattern=ball"
    caps = "video/x-raw,format=RGB,width=%d,height=%d" % (w, h)
    refs = reference_frames(src, caps, n, tmp, "h5ref")
    out = os.path.join(tmp, "o.h5")
    launch("%s num-buffers=%d ! %s ! batchsink format=hdf5 location=%s "
           "batch-size=5" % (src, n, caps, out))
    expect(not os.path.exists(out + ".partial"), "hdf5 .partial left")
    with h5py.File(out, "r") as f:
        im = f["images"]
        expect(im.shape == (n, h, w, 3) and im.dtype == np.uint8,
               "images %s %s" % (im.shape, im.dtype))
        for i, raw in enumerate(refs):
            stride = len(raw) // h
            ref = np.frombuffer(raw, np.uint8).reshape(h, stride)[:, :w * 3]
            expect((im[i].reshape(h, w * 3) == ref).all(),
                   "hdf5 image %d differs from multifilesink's" % i)
        expect(f["frame_index"][...].tolist() == list(range(n)),
               "frame_index %s" % f["frame_index"][...])
        expect(f["keypoints"].shape == (n, 0, 0, 4), "keypoints shape %s"
               % (f["keypoints"].shape,))
        expect(f["n_instances"][...].tolist() == [0] * n, "n_instances")
        expect("rect" not in f, "whole frames have no rect")
    print("ok hdf5 pixels")


DATA = os.environ.get("ONEPASS_SHARED_DATA",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", "..", "..", "shared", "data"))
VIDEO = os.path.join(DATA, "sleap", "centered_pair_low_quality.mp4")


def strs(a):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a]


def test_hdf5_v2_sleap(tmp):
    """Whole frames with several instances (labels.v002.slp: 9 user
    instances on 5 frames), read as a PyTorch/SLEAP user would: every
    instance of a frame in keypoints[i, :n_instances[i]], against an
    independent h5py reading of the .slp (sleap_truth.py). With a split the
    split name goes before the user's extension."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sleap_truth
    slp = os.path.join(DATA, "sleap", "labels.v002.slp")
    truth = sleap_truth.select(sleap_truth.read_slp(slp)["frames"], 0, "user")
    loc = os.path.join(tmp, "h5v2", "frames.2024-05.h5")
    splits = [("train", 0.5), ("val", 0.5)]
    launch("filesrc location=%s ! decodebin ! annotfilter location=%s ! "
           "videoconvert ! video/x-raw,format=RGB ! batchsink format=hdf5 "
           "location=%s split=train=0.5,val=0.5 split-by=frame"
           % (VIDEO, slp, loc))
    want_split = {f: assign("centered_pair_low_quality/frame/%d" % f, splits)
                  for f in truth}
    files = sorted(os.listdir(os.path.dirname(loc)))
    want_files = sorted({"frames.2024-05.%s.h5" % s
                         for s in want_split.values()})
    expect([f for f in files if f.endswith(".h5")] == want_files,
           "files %s, want %s" % (files, want_files))
    seen = {}
    for name in want_files:
        with h5py.File(os.path.join(os.path.dirname(loc), name), "r") as f:
            split = name.split(".")[-2]
            n = f["images"].shape[0]
            expect(f["images"].shape[1:] == (384, 384, 3), "images shape")
            expect(f["images"].attrs["pixel_format"] == "RGB" and
                   f["images"].attrs["layout"] == "NHWC", "image attrs")
            expect(f.attrs["layout_version"] == 2, "layout_version")
            expect(strs(f.attrs["nodes"]) == ["head", "abdomen"], "nodes")
            expect(f.attrs["edges"].tolist() == [[0, 1]], "edges")
            expect(f.attrs["symmetries"].shape == (0, 2), "symmetries")
            expect("frame coordinates" in f.attrs["coordinates"],
                   "coordinates attr")
            expect(strs(f["sources"][...]) == ["centered_pair_low_quality"],
                   "sources")
            expect(f["source_width"][0] == 384 and f["source_height"][0] == 384,
                   "source size")
            most = max(len(truth[int(fi)]) for fi in f["frame_index"][...])
            expect(f["keypoints"].shape == (n, most, 2, 4),
                   "keypoints shape %s" % (f["keypoints"].shape,))
            for i in range(n):
                fi = int(f["frame_index"][i])
                want = truth[fi]
                expect(want_split[fi] == split, "frame %d in %s" % (fi, split))
                expect(fi not in seen, "frame %d twice" % fi)
                seen[fi] = True
                ni = int(f["n_instances"][i])
                expect(ni == len(want), "frame %d: %d instances, want %d"
                       % (fi, ni, len(want)))
                # the buffer's timestamp (after annotfilter's skip seeks it
                # need not be fi / fps exactly): known and in frame order
                expect(f["pts"][i] >= 0 and (i == 0 or f["pts"][i] >
                       f["pts"][i - 1]), "frame %d pts %d" % (fi, f["pts"][i]))
                kp = f["keypoints"][i]
                for j, inst in enumerate(want):
                    for q, (x, y, vis, _) in enumerate(inst["keypoints"]):
                        got = kp[j, q]
                        if math.isnan(x):
                            expect(np.isnan(got[:2]).all() and got[2] == 0,
                                   "frame %d inst %d node %d missing" % (fi, j, q))
                        else:
                            expect(abs(got[0] - x) < 1e-4 and
                                   abs(got[1] - y) < 1e-4 and got[2] == vis,
                                   "frame %d inst %d node %d: %s vs %s"
                                   % (fi, j, q, got, (x, y, vis)))
                    expect(f["kind"][i, j] == 0 and f["track"][i, j] ==
                           inst["track"] and np.isnan(f["score"][i, j]),
                           "frame %d inst %d kind/track/score" % (fi, j))
                # padding: NaN keypoints, kind 255
                expect(np.isnan(kp[ni:]).all() and
                       (f["kind"][i, ni:] == 255).all(), "padding")
    expect(sorted(seen) == sorted(truth), "frames %s" % sorted(seen))
    print("ok hdf5 v2 (%d frames, %d instances)"
          % (len(seen), sum(len(v) for v in truth.values())))


def test_tar_jpeg_bytes(tmp):
    n = 30
    src = "videotestsrc pattern=smpte"
    caps = "video/x-raw,width=64,height=48 ! jpegenc"
    refs = reference_frames(src, caps, n, tmp, "jpgref")
    out = os.path.join(tmp, "tarj")
    launch("%s num-buffers=%d ! %s ! batchsink location=%s "
           "max-shard-samples=8 batch-size=3" % (src, n, caps, out))
    # the run is named after its first sample's source
    man = json.load(open(os.path.join(out, "unlabeled.manifest.json")))
    expect(man["complete"] is True and man["format"] == "tar", "manifest")
    expect([s["samples"] for s in man["shards"]] == [8, 8, 8, 6],
           "shard sizes %s" % man["shards"])
    got = {}
    for s in man["shards"]:
        path = os.path.join(out, s["name"])
        expect(re.fullmatch(r"data-unlabeled-\d{6}\.tar", s["name"]),
               s["name"])
        expect(os.path.getsize(path) == s["bytes"], "bytes of " + path)
        listing = subprocess.run(["tar", "-tvf", path], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
        expect(len(listing.splitlines()) == 2 * s["samples"], listing)
        with tarfile.open(path) as t:
            for m in t.getmembers():
                expect(m.isfile() and "/" not in m.name and
                       not m.name.startswith("."), "member " + m.name)
                got[m.name] = t.extractfile(m).read()
    for i, ref in enumerate(refs):
        key = "unlabeled_%06d_00" % i
        expect(got.get(key + ".jpg") == ref, key + ".jpg differs")
        ann = json.loads(got[key + ".json"])
        expect(ann["frame_index"] == i and ann["instances"] == [],
               key + ".json " + str(ann))
    expect(len(got) == 2 * n, "member count %d" % len(got))
    print("ok tar jpeg bytes")


def test_split_assignment(tmp):
    n = 400
    splits = [("train", 0.8), ("val", 0.2)]
    outs = []
    for run in range(2):
        out = os.path.join(tmp, "split%d" % run)
        launch("videotestsrc num-buffers=%d ! video/x-raw,width=8,height=8 ! "
               "pngenc ! batchsink location=%s split=train=0.8,val=0.2 "
               "split-by=frame max-shard-samples=50" % (n, out))
        where = {}
        for s in json.load(open(out + "/dataset.json"))["shards"]:
            with tarfile.open(os.path.join(out, s["path"])) as t:
                for name in t.getnames():
                    if name.endswith(".json"):
                        where[name[:-5]] = s["split"]
        outs.append(where)
    expect(outs[0] == outs[1], "two runs split differently")
    where = outs[0]
    expect(len(where) == n, "samples %d" % len(where))
    for i in range(n):
        want = assign("unlabeled/frame/%d" % i, splits)
        got = where["unlabeled_%06d_00" % i]
        expect(got == want, "frame %d in %s, expected %s" % (i, got, want))
    val = sum(1 for v in where.values() if v == "val") / n
    expect(abs(val - 0.2) < 0.05, "val fraction %.3f" % val)
    print("ok split assignment (val %.3f)" % val)


def test_jsonl_gzip(tmp):
    out = os.path.join(tmp, "f.jsonl.gz")
    launch("videotestsrc num-buffers=50 ! video/x-raw,format=I420,width=16,"
           "height=8 ! batchsink format=jsonl location=%s" % out)
    subprocess.run(["gzip", "-t", out], check=True)
    lines = gzip.open(out, "rt").read().splitlines()
    expect(len(lines) == 50, "%d lines" % len(lines))
    for i, line in enumerate(lines):
        a = json.loads(line)
        expect(a["frame_index"] == i and a["width"] == 16 and
               a["height"] == 8, line)
    # fits in one shard: the one unnumbered file, listed in the manifest
    man = json.load(open(out + ".manifest.json"))
    expect(man["complete"] is True and man["format"] == "jsonl" and
           [s["name"] for s in man["shards"]] == ["f.jsonl.gz"],
           "manifest %s" % man)
    expect(not glob.glob(os.path.join(tmp, "f-*")), "numbered shard")
    print("ok jsonl gzip")


def jsonl_shards(loc, split=None):
    """Shards of one split of a jsonl run, in order, from the manifest;
    checks names, sizes, gzip -t and that every line is JSON."""
    d = os.path.dirname(loc)
    base = os.path.basename(loc)
    stem, ext = base.split(".", 1)
    man = json.load(open(loc + ".manifest.json"))
    expect(man["format"] == "jsonl", "format")
    shards = [s for s in man["shards"] if s["split"] == (split or "data")]
    out = []
    for k, s in enumerate(shards):
        want = "%s%s-%06d.%s" % (stem, "." + split if split else "", k, ext)
        expect(s["name"] == want, "shard %s, expected %s" % (s["name"], want))
        path = os.path.join(d, s["name"])
        expect(os.path.getsize(path) == s["bytes"], "bytes of " + path)
        if path.endswith(".gz"):
            subprocess.run(["gzip", "-t", path], check=True)
            raw = gzip.open(path, "rb").read()
        else:
            raw = open(path, "rb").read()
        lines = raw.decode().splitlines()
        expect(raw.endswith(b"\n") and len(lines) == s["samples"],
               "lines of " + path)
        out.append((s, raw, [json.loads(line) for line in lines]))
    return man, out


def test_jsonl_rotation(tmp):
    """Rotated shards concatenated are exactly the unrotated file of the
    same source: nothing lost, nothing repeated, order kept."""
    n = 300
    src = ("videotestsrc num-buffers=%d ! video/x-raw,format=I420,width=16,"
           "height=8" % n)
    one = os.path.join(tmp, "one.jsonl")
    launch("%s ! batchsink format=jsonl location=%s" % (src, one))
    whole = open(one, "rb").read()
    longest = max(len(x) + 1 for x in whole.splitlines())

    # by bytes, plain text
    rot = os.path.join(tmp, "rb", "f.jsonl")
    launch("%s ! batchsink format=jsonl location=%s max-shard-bytes=4000 "
           "batch-size=16" % (src, rot))
    man, shards = jsonl_shards(rot)
    expect(man["complete"] is True and man["samples"] == n, "manifest")
    expect(len(shards) > 3, "%d shards" % len(shards))
    for s, raw, _ in shards[:-1]:
        expect(4000 <= len(raw) < 4000 + longest, "%s: %d bytes"
               % (s["name"], len(raw)))
    expect(b"".join(raw for _, raw, _ in shards) == whole,
           "shards by bytes differ from the unrotated file")
    expect(not os.path.exists(rot), "unnumbered file left after rotation")

    # by samples, gzip, with a split
    splits = [("train", 0.7), ("val", 0.3)]
    rot = os.path.join(tmp, "rs", "f.jsonl.gz")
    launch("%s ! batchsink format=jsonl location=%s max-shard-samples=40 "
           "split=train=0.7,val=0.3 split-by=frame" % (src, rot))
    ref = [json.loads(x) for x in whole.splitlines()]
    total = 0
    for name, _ in splits:
        man, shards = jsonl_shards(rot, name)
        got = [a for _, _, lines in shards for a in lines]
        want = [a for a in ref
                if assign("unlabeled/frame/%d" % a["frame_index"], splits)
                == name]
        expect(got == want, "split %s: shards differ from the reference" %
               name)
        expect([s["samples"] for s, _, _ in shards][:-1] ==
               [40] * (len(shards) - 1), "samples per shard")
        total += len(got)
    expect(total == n and man["samples"] == n, "total %d" % total)
    print("ok jsonl rotation (%d shards)" % man["shard_count"])


def test_kill_9_jsonl(tmp, split=None):
    """kill -9 mid-run: listed shards complete (gzip -t, whole lines), at
    most one data .partial per split, no unnumbered file."""
    d = os.path.join(tmp, "killedj-%s" % (split or "nosplit"))
    loc = os.path.join(d, "k.jsonl.gz")
    names = [x.split("=")[0] for x in split.split(",")] if split else [None]
    per = 3000
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=100000000",
           "!", "video/x-raw,width=16,height=8", "!", "batchsink",
           "format=jsonl", "location=" + loc, "max-shard-samples=%d" % per,
           "batch-size=64", "split-by=sample"]
    if split:
        cmd.append("split=" + split)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    man_path = loc + ".manifest.json"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            try:
                if len(json.load(open(man_path))["shards"]) >= 3:
                    break
            except (OSError, ValueError):
                expect(not os.path.exists(man_path) or
                       json.load(open(man_path)), "manifest unreadable")
            time.sleep(0.02)
        else:
            sys.exit("FAIL: no 3 jsonl shards within 120 s")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    man = json.load(open(man_path))
    expect(man["complete"] is False, "killed run marked complete")
    listed = {s["name"] for s in man["shards"]}
    for name in names:
        _, shards = jsonl_shards(loc, name)
        frames = [a["frame_index"] for _, _, lines in shards for a in lines]
        expect(all(s["samples"] == per for s, _, _ in shards), "shard sizes")
        expect(frames == sorted(frames) and len(set(frames)) == len(frames),
               "order across shards")
        if not split:
            expect(frames == list(range(len(frames))), "frames lost")
    files = os.listdir(d)
    partial = [f for f in files if f.endswith(".jsonl.gz.partial")]
    expect(len(partial) <= len(names), "partials %s" % partial)
    expect(all(f.endswith((".jsonl.gz.partial", ".manifest.json.partial",
                           "dataset.json.partial"))
               for f in files if f.endswith(".partial")), "partials %s"
           % files)
    final = [f for f in files if f.endswith(".jsonl.gz")]
    expect(all(re.fullmatch(r"k(\.\w+)?-\d{6}\.jsonl\.gz", f)
               for f in final), "unnumbered file after a kill: %s" % final)
    extra = [f for f in final if f not in listed]
    expect(len(extra) <= len(names), "unlisted shards %s" % extra)
    for f in extra:
        path = os.path.join(d, f)
        subprocess.run(["gzip", "-t", path], check=True)
        expect(len(gzip.open(path).read().splitlines()) == per,
               "unlisted shard " + f)
    print("ok kill -9 jsonl (split %s): %d shards listed, %d partial, "
          "%d unlisted" % (split, len(listed), len(partial), len(extra)))


def test_kill_9(tmp, split=None):
    """At most one .partial per split (one open shard per split)."""
    out = os.path.join(tmp, "killed-%s" % (split or "nosplit"))
    n_splits = len(split.split(",")) if split else 1
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=1000000",
           "pattern=snow", "!", "video/x-raw,width=96,height=64", "!",
           "jpegenc", "!", "batchsink", "location=" + out,
           "max-shard-samples=40", "batch-size=8", "split-by=sample"]
    if split:
        cmd.append("split=" + split)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    man_path = os.path.join(out, "unlabeled.manifest.json")
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            try:
                if len(json.load(open(man_path))["shards"]) >= 3:
                    break
            except (OSError, ValueError):
                # a reader must never see a half manifest: only absence
                expect(not os.path.exists(man_path) or
                       json.load(open(man_path)), "manifest unreadable")
            time.sleep(0.05)
        else:
            sys.exit("FAIL: no 3 shards within 120 s")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    man = json.load(open(man_path))
    expect(man["complete"] is False, "killed run marked complete")
    listed = {s["name"] for s in man["shards"]}
    for s in man["shards"]:
        path = os.path.join(out, s["name"])
        expect(os.path.getsize(path) == s["bytes"], "size of " + path)
        with tarfile.open(path) as t:
            names = t.getnames()
        expect(len(names) == 2 * s["samples"] == 80, "members of " + path)
        subprocess.run(["tar", "-tf", path], check=True,
                       stdout=subprocess.DEVNULL)
    files = os.listdir(out)
    partial = [f for f in files if f.endswith(".tar.partial")]
    expect(len(partial) <= n_splits, "partials %s" % partial)
    # a shard renamed just before the kill may miss from the manifest: it
    # must still be complete
    extra = [f for f in files if f.endswith(".tar") and f not in listed]
    expect(len(extra) <= n_splits, "unlisted shards %s" % extra)
    for f in extra:
        with tarfile.open(os.path.join(out, f)) as t:
            expect(len(t.getnames()) == 80, "unlisted shard " + f)
    print("ok kill -9 (split %s): %d shards listed, %d partial, %d unlisted"
          % (split, len(listed), len(partial), len(extra)))


def base_plus_ext(path):
    """WebDataset's key rule (webdataset/tariterators.py), reimplemented:
    the key is everything up to the first dot after the last '/'."""
    m = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", path)
    return (m.group(1), m.group(2)) if m else (None, None)


def wds_samples(path):
    """Samples of one shard the way WebDataset's group_by_keys makes them:
    a new sample whenever the key changes; a repeated suffix is an error."""
    samples = []
    with tarfile.open(path) as t:
        for m in t:
            key, ext = base_plus_ext(m.name)
            expect(key is not None, "member without extension " + m.name)
            if not samples or samples[-1]["__key__"] != key:
                samples.append({"__key__": key})
            expect(ext.lower() not in samples[-1],
                   "%s: duplicate %s in sample %s" % (path, ext, key))
            samples[-1][ext.lower()] = t.extractfile(m).read()
    return samples


def dataset_keys(out):
    """Every sample of every shard dataset.json lists: key -> (shard, json);
    a key twice is an error."""
    ds = json.load(open(os.path.join(out, "dataset.json")))
    keys = {}
    for sh in ds["shards"]:
        path = os.path.join(out, sh["path"])
        expect(os.path.getsize(path) == sh["bytes"], "bytes of " + path)
        got = wds_samples(path)
        expect(len(got) == sh["samples"], "%s: %d WebDataset samples, "
               "dataset.json says %d" % (path, len(got), sh["samples"]))
        for smp in got:
            expect(set(smp) == {"__key__", "jpg", "json"}, "members of %s in %s"
                   % (smp["__key__"], path))
            expect(smp["__key__"] not in keys, "key %s twice (%s, %s)"
                   % (smp["__key__"], keys.get(smp["__key__"], ("",))[0], path))
            keys[smp["__key__"]] = (sh["path"], json.loads(smp["json"]))
    return ds, keys


CONC_NAMES = ["cam.1 left.mp4", "2023.05.01_mouse3.mp4", "m\u00e4use \u00fc.mp4"]


def crop_pipeline(video, out, *extra):
    slp = os.path.join(DATA, "sleap", "labels.v002.slp")
    return ["gst-launch-1.0", "-q", "filesrc", "location=" + video, "!",
            "decodebin", "!", "annotfilter", "location=" + slp, "!",
            "cropextract", "width=48", "height=48", "!", "videoconvert", "!",
            "video/x-raw,format=RGB", "!", "jpegenc", "!", "batchsink",
            "location=" + out, "split=train=0.5,val=0.5", "split-by=sample",
            "max-shard-samples=2", "batch-size=1"] + list(extra)


def test_concurrent_runs(tmp):
    """Three videos whose names have dots, spaces and non-ASCII characters,
    three pipelines at the same time into one directory: every shard has a
    name of its own, dataset.json lists all of them, WebDataset's grouping
    gives one sample per crop and every sample is there exactly once. A
    rerun fails and leaves the data as it was; overwrite=true replaces a run
    without duplicating it."""
    d = os.path.join(tmp, "videos")
    os.makedirs(d)
    for n in CONC_NAMES:
        os.symlink(VIDEO, os.path.join(d, n))
    # reference: one video alone (9 user instances on 5 frames)
    ref = os.path.join(tmp, "conc-ref")
    p = subprocess.run(crop_pipeline(os.path.join(d, CONC_NAMES[0]), ref),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    expect(p.returncode == 0, p.stdout)
    _, ref_keys = dataset_keys(ref)
    ref_tails = sorted(k[len("cam_1_left"):] for k in ref_keys)
    expect(len(ref_tails) == 9 and all(k.startswith("cam_1_left_")
                                       for k in ref_keys), sorted(ref_keys))

    out = os.path.join(tmp, "conc")
    procs = [subprocess.Popen(crop_pipeline(os.path.join(d, n), out),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for n in CONC_NAMES]
    for pr in procs:
        o, _ = pr.communicate(timeout=300)
        expect(pr.returncode == 0, "concurrent run failed: %s" % o)
    ds, keys = dataset_keys(out)
    # annotfilter names sources with the same sanitiser as batchsink's keys:
    # one '_' per character (a, umlaut, space, u umlaut)
    prefixes = ["cam_1_left", "2023_05_01_mouse3", "m_use__"]
    want = sorted(pre + t for pre in prefixes for t in ref_tails)
    expect(sorted(keys) == want, "keys %s, want %s" % (sorted(keys), want))
    for k, (shard, ann) in keys.items():
        expect(k == "%s_%06d_%02d" % (
            op_sanitize(ann["source"]), ann["frame_index"],
            ann["crop"]["instance"]), "key %s vs its JSON" % k)
        expect(assign(k, [("train", 0.5), ("val", 0.5)]) ==
               shard.split("-")[0], "%s in %s" % (k, shard))
    expect(sorted(r["manifest"] for r in ds["runs"]) ==
           sorted(pre + ".manifest.json" for pre in prefixes) and
           all(r["complete"] for r in ds["runs"]), "runs %s" % ds["runs"])
    expect(ds["skeleton"]["nodes"] == ["head", "abdomen"], "skeleton")
    # the per-source table says what the samples say: the video's 384x384,
    # which cropextract passes on from annotfilter
    sizes = {ann["source"]: (ann.get("source_width", 0),
                             ann.get("source_height", 0))
             for _, ann in keys.values()}
    expect(sorted(x["name"] for x in ds["sources"]) == sorted(prefixes) and
           all((x["width"], x["height"]) == sizes[x["name"]] and
               (x["width"], x["height"]) == (384, 384)
               for x in ds["sources"]),
           "sources %s, samples say %s" % (ds["sources"], sizes))
    names = sorted(f for f in os.listdir(out) if f.endswith(".tar"))
    expect(names == sorted(sh["path"] for sh in ds["shards"]),
           "files %s vs dataset.json" % names)

    # a rerun of a complete run: an error, nothing touched
    before = {f: os.stat(os.path.join(out, f)).st_mtime_ns for f in names}
    index = open(os.path.join(out, "dataset.json")).read()
    p = subprocess.run(crop_pipeline(os.path.join(d, CONC_NAMES[1]), out),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    expect(p.returncode != 0 and "overwrite=true" in p.stdout,
           "rerun: %s" % p.stdout)
    expect({f: os.stat(os.path.join(out, f)).st_mtime_ns for f in names} ==
           before and open(os.path.join(out, "dataset.json")).read() == index,
           "a refused rerun changed the dataset")
    # asked for: replaced, not duplicated
    p = subprocess.run(crop_pipeline(os.path.join(d, CONC_NAMES[1]), out,
                                     "overwrite=true"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    expect(p.returncode == 0, p.stdout)
    _, keys2 = dataset_keys(out)
    expect(sorted(keys2) == want, "after overwrite: %d keys" % len(keys2))
    print("ok concurrent runs: %d samples from %d pipelines, %d shards, "
          "rerun refused, overwrite replaces" % (len(keys), len(procs),
                                                len(ds["shards"])))


def op_sanitize(name):
    """The key rule of docs/batchsink.md: one '_' per character outside
    [A-Za-z0-9_-]."""
    return "".join(c if (c.isascii() and (c.isalnum() or c in "_-")) else "_"
                   for c in name)[:64] or "unknown"


def test_resume_after_kill(tmp, fmt="tar"):
    """kill -9 in the middle, then the same command again: the shards the
    first run completed stay as they are, the second run continues after
    them, and every frame is in the dataset exactly once."""
    n = 1500
    out = os.path.join(tmp, "resume-" + fmt)
    if fmt == "jsonl":
        os.makedirs(out)
        loc = os.path.join(out, "r.jsonl.gz")
        man_path = loc + ".manifest.json"
    else:
        loc = out
        man_path = os.path.join(out, "unlabeled.manifest.json")
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=%d" % n,
           "pattern=ball", "!", "video/x-raw,width=64,height=48,framerate=30/1",
           "!", "jpegenc", "!", "identity", "sleep-time=2000", "!",
           "batchsink", "format=" + fmt, "location=" + loc,
           "max-shard-samples=40", "batch-size=8"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            try:
                if len(json.load(open(man_path))["shards"]) >= 3:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        else:
            sys.exit("FAIL: no 3 shards within 120 s")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    man = json.load(open(man_path))
    expect(man["complete"] is False, "killed run complete")
    kept = {s["name"]: os.stat(os.path.join(out, s["name"])).st_mtime_ns
            for s in man["shards"]}
    q = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    expect(q.returncode == 0, "resume failed: %s" % q.stdout)
    man2 = json.load(open(man_path))
    expect(man2["complete"] is True and man2["samples"] == n,
           "resumed manifest: %s samples" % man2["samples"])
    for name, mtime in kept.items():
        expect(os.stat(os.path.join(out, name)).st_mtime_ns == mtime,
               "kept shard %s rewritten" % name)
    frames = []
    for s in man2["shards"]:
        path = os.path.join(out, s["name"])
        if fmt == "jsonl":
            frames += [json.loads(x)["frame_index"]
                       for x in gzip.open(path).read().splitlines()]
        else:
            for smp in wds_samples(path):
                frames.append(json.loads(smp["json"])["frame_index"])
    expect(frames == list(range(n)), "frames after resume: %d, %d unique"
           % (len(frames), len(set(frames))))
    ds = json.load(open(os.path.join(out, "dataset.json")))
    expect([x["path"] for x in ds["shards"]] ==
           [x["name"] for x in man2["shards"]] and
           all(x["sources"] == ["unlabeled"] for x in ds["shards"]) and
           ds["sources"] == [{"name": "unlabeled", "width": 0, "height": 0}],
           "dataset.json after resume: %s" % ds)
    print("ok resume after kill -9 (%s): %d shards kept, %d samples once"
          % (fmt, len(kept), n))


def main():
    with tempfile.TemporaryDirectory(prefix="batchsink-py-") as tmp:
        test_hdf5_pixels(tmp)
        test_hdf5_v2_sleap(tmp)
        test_tar_jpeg_bytes(tmp)
        test_split_assignment(tmp)
        test_jsonl_gzip(tmp)
        test_jsonl_rotation(tmp)
        test_kill_9_jsonl(tmp)
        test_kill_9_jsonl(tmp, "train=0.5,val=0.5")
        test_kill_9(tmp)
        test_kill_9(tmp, "train=0.5,val=0.5")
        test_concurrent_runs(tmp)
        test_resume_after_kill(tmp)
        test_resume_after_kill(tmp, "jsonl")
    print("all batchsink python checks passed")


if __name__ == "__main__":
    main()
