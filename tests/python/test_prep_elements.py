#!/usr/bin/python3
"""annotfilter `source` and `node-map`, batchsink `attributes`: generated
videos and JSON-lines labels (prep_fixtures.py) through the real elements,
the HDF5 read back with h5py and compared with the labels mapped in Python;
dataset.json and the tar keys checked; the refusals checked by message."""
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import prep_fixtures as fx  # noqa: E402

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def launch(video, labels, filt, sink):
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + video, "!", "decodebin", "!",
           "annotfilter", "location=" + labels] + filt + [
           "!", "videoconvert", "!", "video/x-raw,format=RGB", "!", "batchsink"] + sink
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check_hdf5(tmp):
    """Skeleton B (snout, tailbase, paw) mapped onto (head, tail, ear)."""
    src = fx.make_sessions(os.path.join(tmp, "sess"), sessions=("s1", "s2"), cameras=("camA",))
    fx.write_node_map(os.path.join(tmp, "map.csv"))
    fx.write_betas(os.path.join(tmp, "betas.csv"), ["s1_camA", "s2_camA", "unused"])
    out = os.path.join(tmp, "h5", "s2_camA.h5")
    os.makedirs(os.path.dirname(out))
    p = launch(os.path.join(tmp, "sess/s2/camA.mp4"), os.path.join(tmp, "sess/s2/camA.jsonl"),
               ["source=s2_camA", "node-map=" + os.path.join(tmp, "map.csv")],
               ["format=hdf5", "location=" + out, "attributes=" + os.path.join(tmp, "betas.csv")])
    if p.returncode != 0:
        fail("hdf5 run failed: " + p.stderr)
        return
    nodes, truth = src["s2_camA"]
    with h5py.File(out, "r") as f:
        if [n.decode() if isinstance(n, bytes) else n for n in f.attrs["nodes"]] != fx.TARGET:
            fail("nodes %s, want %s" % (list(f.attrs["nodes"]), fx.TARGET))
        if f.attrs["skeleton_name"] != "map":
            fail("skeleton_name %r, want 'map'" % f.attrs["skeleton_name"])
        if len(f.attrs["edges"]) != 0:
            fail("mapped skeleton has edges %s" % f.attrs["edges"])
        if list(f["sources"].asstr()[:]) != ["s2_camA"]:
            fail("sources %s" % list(f["sources"].asstr()[:]))
        if list(f["frame_index"][:]) != sorted(truth):
            fail("frames %s, want %s" % (list(f["frame_index"][:]), sorted(truth)))
        kp = f["keypoints"][:]
        for row, fr in enumerate(f["frame_index"][:]):
            want = np.array(fx.mapped(truth[fr], nodes), dtype=np.float32)
            n = f["n_instances"][row]
            if n != len(want) or not np.array_equal(kp[row, :n], want, equal_nan=True):
                fail("frame %d: keypoints %s, want %s" % (fr, kp[row, :n].tolist(), want.tolist()))
                break
        # the target's ear has no source node in skeleton B: NaN everywhere
        if not np.all(np.isnan(kp[:, :, 2, :2])):
            fail("ear (unmapped target node) is not NaN")
        for i, col in enumerate(["beta0", "beta1", "beta2"]):
            got = f["attributes/" + col][:]
            if got.dtype != np.float64 or list(got) != [fx.betas("s2_camA")[i]]:
                fail("attributes/%s = %s, want %s" % (col, got, [fx.betas("s2_camA")[i]]))
    ds = json.load(open(os.path.join(tmp, "h5", "dataset.json")))
    want = dict(zip(["beta0", "beta1", "beta2"], fx.betas("s2_camA")))
    if ds["sources"] != [{"name": "s2_camA", "width": 64, "height": 64, "attributes": want}]:
        fail("dataset.json sources %s" % ds["sources"])


def check_tar(tmp):
    """Two cameras named alike in two sessions: distinct keys by `source`."""
    outdir = os.path.join(tmp, "tar")
    for s in ("s1", "s2"):
        p = launch(os.path.join(tmp, "sess", s, "camA.mp4"),
                   os.path.join(tmp, "sess", s, "camA.jsonl"),
                   ["source=" + s + "_camA", "node-map=" + os.path.join(tmp, "map.csv")],
                   ["format=tar", "location=" + outdir,
                    "attributes=" + os.path.join(tmp, "betas.csv")])
        if p.returncode != 0:
            fail("tar run %s failed: %s" % (s, p.stderr))
            return
    ds = json.load(open(os.path.join(outdir, "dataset.json")))
    if ds.get("skeleton") is None or ds["skeleton"]["nodes"] != fx.TARGET:
        fail("tar dataset.json skeleton %s (two source skeletons mapped onto one)" % ds.get("skeleton"))
    names = sorted(s["name"] for s in ds["sources"])
    if names != ["s1_camA", "s2_camA"]:
        fail("tar sources %s" % names)
    for s in ds["sources"]:
        if s.get("attributes") != dict(zip(["beta0", "beta1", "beta2"], fx.betas(s["name"]))):
            fail("tar source %s attributes %s" % (s["name"], s.get("attributes")))
    keys = set()
    for sh in ds["shards"]:
        with tarfile.open(os.path.join(outdir, sh["path"])) as t:
            keys |= {m.name.split(".")[0] for m in t.getmembers()}
    prefixes = sorted({k.rsplit("_", 2)[0] for k in keys})
    if prefixes != ["s1_camA", "s2_camA"]:
        fail("key prefixes %s" % prefixes)


def check_refusals(tmp):
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("from,to\nleg,head\n")
    video, labels = os.path.join(tmp, "sess/s1/camA.mp4"), os.path.join(tmp, "sess/s1/camA.jsonl")
    p = launch(video, labels, ["node-map=" + bad], ["format=jsonl", "location=" + os.path.join(tmp, "x.jsonl")])
    if p.returncode == 0 or bad not in p.stderr + p.stdout or "nose" not in p.stderr + p.stdout:
        fail("a map naming none of the nodes was not refused clearly: %s" % (p.stdout + p.stderr))
    with open(bad, "w") as f:
        f.write("nose,head\ntail,head\n")
    p = launch(video, labels, ["node-map=" + bad], ["format=jsonl", "location=" + os.path.join(tmp, "y.jsonl")])
    if p.returncode == 0 or "both" not in p.stdout + p.stderr:
        fail("two nodes onto one target not refused: %s" % (p.stdout + p.stderr))
    betas = os.path.join(tmp, "betas2.csv")
    fx.write_betas(betas, ["other"])
    p = launch(video, labels, ["source=s1_camA"],
               ["format=hdf5", "location=" + os.path.join(tmp, "z.h5"), "attributes=" + betas])
    msg = p.stdout + p.stderr
    if p.returncode == 0 or "s1_camA" not in msg or betas not in msg:
        fail("a source without attributes row was not refused clearly: %s" % msg)
    if os.path.exists(os.path.join(tmp, "z.h5")):
        fail("refused run left z.h5")
    with open(betas, "w") as f:
        f.write("source,beta0\ns1_camA,abc\n")
    p = launch(video, labels, [], ["format=tar", "location=" + os.path.join(tmp, "t2"), "attributes=" + betas])
    if p.returncode == 0 or "not a number" not in p.stdout + p.stderr:
        fail("a non-numeric attribute was not refused: %s" % (p.stdout + p.stderr))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_hdf5(tmp)
        check_tar(tmp)
        check_refusals(tmp)
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
