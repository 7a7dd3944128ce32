#!/usr/bin/python3
"""Mutation campaign for the HDF5 label readers (issue 21).

Copies real SLEAP .slp / analysis .h5 files, damages each copy (random byte
flips, zeroed runs, truncation, bytes inside HDF5 metadata: object headers,
compound member entries, global heap collections), runs
`onepass-labels --summary` on it with a time limit and counts what happened:

  ok       the reader read it (a flip in unused bytes, raw data, padding)
  error    a clean error message naming the file (what we want for damage)
  crash    killed by a signal (SIGSEGV, SIGABRT, SIGFPE...): a bug
  hang     still running after the time limit: a bug
  silent   exit status non-zero without naming the file: a bug

  bench/mutate_labels.py [--count 1000] [--seed 1] [--timeout 10]
      [--keep-crashes DIR] [--tool build/tools/onepass-labels] [FILES...]

Default files: ../shared/data/sleap/*.slp and *.h5 beside the worktree, else
tests/data/sleap/, plus two small files made here with h5py (a SLEAP 1.2
.slp with chunked tables and an analysis .h5 with variable-length strings),
which are all it uses when neither folder exists. Crashing, hanging and
silent inputs are copied to --keep-crashes (default /tmp/onepass-mutants)
for replay. Exits 1 when any was seen. docs/benchmarks.md has the counts.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# HDF5 metadata signatures: object headers, B-trees, local and global heaps
SIGS = (b"OHDR", b"OCHK", b"TREE", b"HEAP", b"GCOL", b"SNOD", b"BTHD",
        b"FRHP", b"FHDB", b"BTLF")
# compound member names of the SLEAP tables: a member's offset follows its
# (8-byte padded) name in a version 1 datatype message
MEMBERS = (b"frame_idx", b"instance_id_start", b"instance_type", b"x\0",
           b"y\0", b"score", b"point_id_start", b"video\0", b"skeleton")


def make_slp(path):
    """A small SLEAP 1.2 file as SLEAP writes it: chunked compound tables,
    fixed-length json strings, two labeled frames of two nodes."""
    import h5py
    import numpy as np
    inst = np.dtype([("instance_id", "i8"), ("instance_type", "u1"),
                     ("frame_id", "u8"), ("skeleton", "u4"), ("track", "i4"),
                     ("from_predicted", "i8"), ("score", "f4"),
                     ("point_id_start", "u8"), ("point_id_end", "u8"),
                     ("tracking_score", "f4")])
    frame = np.dtype([("frame_id", "u8"), ("video", "u4"),
                      ("frame_idx", "u8"), ("instance_id_start", "u8"),
                      ("instance_id_end", "u8")])
    point = np.dtype([("x", "f8"), ("y", "f8"), ("visible", "?"),
                      ("complete", "?")])
    pred = np.dtype([("x", "f8"), ("y", "f8"), ("visible", "?"),
                     ("complete", "?"), ("score", "f8")])
    nodes = [{"name": n, "weight": 1.0} for n in ("A", "B")]
    skel = {"directed": True, "multigraph": True,
            "graph": {"name": "made", "num_edges_inserted": 1},
            "nodes": [{"id": 0}, {"id": 1}],
            "links": [{"source": 0, "target": 1, "key": 0}]}
    meta = {"version": "2.0.0", "skeletons": [skel], "nodes": nodes,
            "videos": [], "tracks": [], "suggestions": [],
            "negative_anchors": {}, "provenance": {}}
    video = {"backend": {"filename": "clip.mp4", "grayscale": True,
                         "dataset": "", "input_format": ""}}
    with h5py.File(path, "w") as f:
        g = f.create_group("metadata")
        g.attrs["format_id"] = 1.2
        g.attrs["json"] = np.bytes_(json.dumps(meta))
        f.create_dataset("videos_json", data=[np.bytes_(json.dumps(video))],
                         maxshape=(None,))
        f.create_dataset("tracks_json", data=np.zeros(0), maxshape=(None,))
        f.create_dataset("frames", maxshape=(None,), data=np.array(
            [(0, 0, 3, 0, 1), (1, 0, 7, 1, 2)], dtype=frame))
        f.create_dataset("instances", maxshape=(None,), data=np.array(
            [(0, 0, 0, 0, -1, -1, np.nan, 0, 2, 0),
             (1, 1, 1, 0, -1, -1, 0.8, 0, 2, 0)], dtype=inst))
        f.create_dataset("points", maxshape=(None,), data=np.array(
            [(1.5, 2.5, True, False), (3.5, 4.5, True, False)], dtype=point))
        f.create_dataset("pred_points", maxshape=(None,), data=np.array(
            [(5.0, 6.0, True, False, 0.9), (7.0, 8.0, True, False, 0.7)],
            dtype=pred))
    return path


def make_analysis(path):
    """A small analysis file as sleap-io writes it: variable-length string
    datasets and "dims" attributes (global heap objects), gzip arrays."""
    import h5py
    import numpy as np
    frames, tracks, nodes = 4, 2, 3
    vstr = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        xy = np.arange(frames * tracks * nodes * 2, dtype="f8")
        for name, data, dims in (
                ("tracks", xy.reshape(frames, tracks, nodes, 2),
                 ["frame", "track", "node", "xy"]),
                ("track_occupancy", np.ones((frames, tracks), "u1"),
                 ["frame", "track"]),
                ("point_scores", np.ones((frames, tracks, nodes)),
                 ["frame", "track", "node"])):
            d = f.create_dataset(name, data=data, compression="gzip")
            d.attrs["dims"] = json.dumps(dims)
        f.create_dataset("node_names", data=["head", "thorax", "tail"],
                         dtype=vstr)
        f.create_dataset("track_names", data=["t0", "t1"], dtype=vstr)
        f.create_dataset("video_path", data="clip.mp4", dtype=vstr)
        f.attrs["skeleton_name"] = "made"
    return path


def find_all(b, needle):
    out, i = [], b.find(needle)
    while i >= 0:
        out.append(i)
        i = b.find(needle, i + 1)
    return out


def mutate(data, rng):
    """One damaged copy of data, with a word for how."""
    b = bytearray(data)
    how = rng.choice(["flip", "flip", "zero", "truncate", "header", "ff",
                      "member", "gcol"])
    if how == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif how == "zero":
        i = rng.randrange(len(b))
        n = rng.randint(1, 64)
        b[i:i + n] = bytes(min(n, len(b) - i))
    elif how == "ff":
        i = rng.randrange(len(b))
        n = rng.randint(1, 16)
        b[i:i + n] = b"\xff" * min(n, len(b) - i)
    elif how == "truncate":
        del b[rng.randrange(max(1, len(b) // 4), len(b)):]
    else:
        # the metadata libhdf5 trusts: object headers and B-trees, the
        # bytes after a compound member's name (its offset, then its
        # type), the object headers inside a global heap collection
        if how == "member":
            sigs = [i + 8 * (len(m) // 8 + 1) for m in MEMBERS
                    for i in find_all(b, m)]
        elif how == "gcol":
            sigs = [i + 16 + 16 * rng.randrange(8)
                    for i in find_all(b, b"GCOL")]
        else:
            sigs = [i for s in SIGS for i in find_all(b, s)]
        base = rng.choice(sigs) if sigs else 0
        span = 16 if how != "header" else 96
        for _ in range(rng.randint(1, 4)):
            i = min(len(b) - 1, base + rng.randrange(span))
            b[i] = rng.randrange(256)
    return bytes(b), how


def default_files(gen_dir):
    files = []
    for d in (os.path.join(os.path.dirname(ROOT), "shared", "data", "sleap"),
              os.path.join(ROOT, "tests", "data", "sleap")):
        files = sorted(glob.glob(os.path.join(d, "*.slp")) +
                       glob.glob(os.path.join(d, "*.h5")))
        if files:
            break
    return files + [make_slp(os.path.join(gen_dir, "made.slp")),
                    make_analysis(os.path.join(gen_dir, "made.analysis.h5"))]


def classify(tool, path, timeout):
    """ok, error, crash, hang or silent, and the signal name of a crash"""
    try:
        p = subprocess.run([tool, "--summary", path],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang", ""
    if p.returncode == 0:
        return "ok", ""
    if p.returncode < 0:
        return "crash", signal.Signals(-p.returncode).name
    if path.encode() in p.stderr:
        return "error", ""
    return "silent", ""


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--keep-crashes", default="/tmp/onepass-mutants")
    ap.add_argument("--tool", default=os.path.join(ROOT, "build", "tools",
                                                   "onepass-labels"))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if not os.access(a.tool, os.X_OK):
        sys.exit("no tool at %s (build first, or pass --tool)" % a.tool)
    tmp = tempfile.mkdtemp(prefix="mutate-")
    files = a.files or default_files(tmp)
    rng = random.Random(a.seed)
    os.makedirs(a.keep_crashes, exist_ok=True)
    counts = {k: 0 for k in ("ok", "error", "crash", "hang", "silent")}
    bad = []
    originals = {f: open(f, "rb").read() for f in files}
    for n in range(a.count):
        src = files[n % len(files)]
        data, how = mutate(originals[src], rng)
        name = "m%05d-%s" % (n, os.path.basename(src))
        path = os.path.join(tmp, name)
        with open(path, "wb") as fh:
            fh.write(data)
        kind, sig = classify(a.tool, path, a.timeout)
        counts[kind] += 1
        if kind in ("crash", "hang", "silent"):
            keep = os.path.join(a.keep_crashes, name)
            shutil.copy(path, keep)
            bad.append((kind + (" " + sig if sig else ""), how, keep))
        os.unlink(path)
    shutil.rmtree(tmp)
    print("mutants: %d of %d files (seed %d, tool %s)" % (
        a.count, len(files), a.seed, a.tool))
    for k, label in (("ok", "ok"), ("error", "clean error"),
                     ("crash", "crash (signal)"), ("hang", "hang"),
                     ("silent", "error not naming the file")):
        print("  %-26s %d" % (label, counts[k]))
    for kind, how, keep in bad:
        print("  %s (%s): %s" % (kind, how, keep))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
