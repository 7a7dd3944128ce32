#!/usr/bin/python3
"""op_h5_combine (ext/batchsink/h5vds.c) against h5py.

Several complete layout-v2 HDF5 files are combined into one file of
virtual datasets; h5py must read every row of the combined file equal to
the row of the input it came from (the instance axis padded as the writer
pads), `source` remapped into the merged `sources` table, the per-source
columns merged, and the combined file must still open from another working
directory and after its directory is moved (relative paths). Mismatched
skeletons, image shapes and pixel formats are refused with an error naming
the files, and leave an existing output as it was.

Usage: test_batchsink_h5vds.py OP_H5_COMBINE (the test front of
op_h5_combine, built in ext/batchsink). Exits non-zero on a mismatch.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

COMBINE = os.path.abspath(sys.argv[1])
DATA = os.environ.get("ONEPASS_SHARED_DATA",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", "data"))
VIDEO = os.path.join(DATA, "sleap", "centered_pair_low_quality.mp4")
SLP = os.path.join(DATA, "sleap", "labels.v002.slp")

PER_SAMPLE = ["images", "keypoints", "n_instances", "track", "kind", "score",
              "bbox", "frame_index", "pts", "instance", "rect"]
PER_INSTANCE = {"keypoints", "track", "kind", "score", "bbox"}
PAD = {"keypoints": np.nan, "track": -1, "kind": 255, "score": np.nan,
       "bbox": np.nan}


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def combine(out, inputs, cwd=None, consolidate=False):
    return subprocess.run([COMBINE] + (["--consolidate"] if consolidate
                                       else []) + [out] + inputs, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60)


def strs(a):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a]


def write_fixture(path, rows, ni, sources, src_idx, k=3, hw=(4, 5),
                  nodes=("a", "b", "c"), pixel_format="RGB", crops=True,
                  columns=None, seed=0):
    """A layout-v2 file as hdf5writer.c writes it (fill values included)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        im = f.create_dataset("images", data=rng.integers(
            0, 255, (rows, hw[0], hw[1], 3), dtype=np.uint8),
            chunks=(1, hw[0], hw[1], 3) if rows else None)
        im.attrs["pixel_format"] = pixel_format
        im.attrs["layout"] = "NHWC"
        kp = rng.random((rows, ni, k, 4), dtype=np.float32)
        nins = rng.integers(0, ni + 1, rows).astype(np.int32)
        track = rng.integers(0, 9, (rows, ni)).astype(np.int32)
        kind = rng.integers(0, 3, (rows, ni)).astype(np.uint8)
        score = rng.random((rows, ni), dtype=np.float32)
        bbox = rng.random((rows, ni, 4), dtype=np.float32)
        for i in range(rows):
            kp[i, nins[i]:] = np.nan
            track[i, nins[i]:] = -1
            kind[i, nins[i]:] = 255
            score[i, nins[i]:] = np.nan
            bbox[i, nins[i]:] = np.nan

        def ds(name, data, fill=None):
            maxshape = (None,) + data.shape[1:]
            f.create_dataset(name, data=data, maxshape=maxshape,
                             chunks=True, fillvalue=fill)
        ds("keypoints", kp, np.nan)
        ds("n_instances", nins)
        ds("track", track, -1)
        ds("kind", kind, 255)
        ds("score", score, np.nan)
        ds("bbox", bbox, np.nan)
        ds("frame_index", rng.integers(0, 1000, rows).astype(np.int64))
        ds("pts", rng.integers(0, 10 ** 9, rows).astype(np.int64))
        ds("source", np.array(src_idx, dtype=np.int32))
        if crops:
            ds("instance", rng.integers(0, 4, rows).astype(np.int32))
            ds("rect", rng.integers(0, 99, (rows, 4)).astype(np.int32))
        f.create_dataset("sources", data=[s[0] for s in sources],
                         dtype=h5py.string_dtype())
        f.create_dataset("source_width", data=np.array(
            [s[1] for s in sources], dtype=np.int32))
        f.create_dataset("source_height", data=np.array(
            [s[2] for s in sources], dtype=np.int32))
        for col, vals in (columns or {}).items():
            f.create_dataset("attributes/" + col, data=np.array(vals))
        f.attrs["layout_version"] = np.int32(2)
        f.attrs["onepass_version"] = "test"
        f.attrs["coordinates"] = "crop coordinates"
        f.attrs["skeleton_name"] = "sk"
        f.attrs.create("nodes", list(nodes), dtype=h5py.string_dtype())
        f.attrs["edges"] = np.array([[0, 1], [1, 2]], dtype=np.int32)
        f.attrs["symmetries"] = np.zeros((0, 2), dtype=np.int32)


def check_rows(out, inputs, virtual=True):
    """Every row of @out equals its input's row; instance padding past the
    input's instance axis reads as the writer's fill. @virtual: whether
    @out's per-sample datasets must be virtual (a view) or real (a
    consolidated file)."""
    with h5py.File(out, "r") as f:
        ins = [h5py.File(p, "r") for p in inputs]
        total = sum(g["images"].shape[0] for g in ins)
        merged = strs(f["sources"][...])
        for name in PER_SAMPLE:
            if name not in ins[0]:
                expect(name not in f, "%s in a frames file" % name)
                continue
            expect(f[name].is_virtual == virtual, "%s: is_virtual %s"
                   % (name, f[name].is_virtual))
            got = f[name][...]
            expect(got.shape[0] == total, "%s: %d rows, want %d"
                   % (name, got.shape[0], total))
            at = 0
            for g in ins:
                want = g[name][...]
                n = want.shape[0]
                part = got[at:at + n]
                if name in PER_INSTANCE:
                    ni = want.shape[1]
                    pad = part[:, ni:]
                    expect(np.isnan(pad).all() if np.isnan(PAD[name])
                           else (pad == PAD[name]).all(),
                           "%s padding past %d instances" % (name, ni))
                    part = part[:, :ni]
                expect(np.array_equal(part, want, equal_nan=True),
                       "%s rows %d..%d differ from %s"
                       % (name, at, at + n, g.filename))
                at += n
        at = 0
        for g in ins:
            names = strs(g["sources"][...])
            for i, s in enumerate(g["source"][...]):
                m = f["source"][at + i]
                expect(merged[m] == names[s], "row %d source %s, want %s"
                       % (at + i, merged[m], names[s]))
                w = int(f["source_width"][m])
                expect(w == g["source_width"][s] or not g["source_width"][s],
                       "source %s width %d" % (names[s], w))
            at += g["images"].shape[0]
        expect(dict(f.attrs)["layout_version"] == 2 and
               strs(f.attrs["nodes"]) == strs(ins[0].attrs["nodes"]) and
               f["images"].attrs["pixel_format"] ==
               ins[0]["images"].attrs["pixel_format"], "attributes")
        for g in ins:
            g.close()
        return total, merged


def test_fixtures(tmp):
    d = os.path.join(tmp, "fx")
    os.makedirs(os.path.join(d, "shards"))
    a = os.path.join(d, "shards", "a.h5")
    b = os.path.join(d, "shards", "b.h5")
    c = os.path.join(d, "shards", "c.h5")
    write_fixture(a, 7, 1, [("v1", 640, 480), ("v2", 0, 0)],
                  [0, 1, 0, 0, 1, 1, 0], columns={"beta": [1.5, 2.5]},
                  seed=1)
    write_fixture(b, 5, 3, [("v2", 320, 240), ("v3", 100, 50)],
                  [1, 0, 1, 1, 0], columns={"beta": [2.5, 7.0],
                                            "mass": [3.0, 4.0]}, seed=2)
    write_fixture(c, 0, 2, [], [], seed=3)
    out = os.path.join(d, "view", "all.h5")
    os.makedirs(os.path.dirname(out))
    p = combine(out, [a, c, b])
    expect(p.returncode == 0, "combine failed: %s" % p.stdout)
    expect(not os.path.exists(out + ".partial"), ".partial left")
    total, merged = check_rows(out, [a, c, b])
    expect(total == 12 and merged == ["v1", "v2", "v3"],
           "merged %d rows, sources %s" % (total, merged))
    with h5py.File(out, "r") as f:
        expect(f["keypoints"].shape == (12, 3, 3, 4), "keypoints shape %s"
               % (f["keypoints"].shape,))
        expect(f["source_width"][...].tolist() == [640, 320, 100] and
               f["source_height"][...].tolist() == [480, 240, 50],
               "source sizes %s" % f["source_width"][...])
        expect(np.array_equal(f["attributes/beta"][...], [1.5, 2.5, 7.0]),
               "beta %s" % f["attributes/beta"][...])
        mass = f["attributes/mass"][...]
        expect(np.isnan(mass[0]) and mass[1:].tolist() == [3.0, 4.0],
               "mass %s" % mass)
        vs = sorted({s.file_name for s in f["images"].virtual_sources()})
        expect(vs == ["../shards/a.h5", "../shards/b.h5"],
               "virtual sources %s" % vs)
        expect(strs(f.attrs["combined_from"]) == ["../shards/a.h5",
               "../shards/c.h5", "../shards/b.h5"], "combined_from")
    # relative paths: another working directory, then the tree moved
    with tempfile.TemporaryDirectory() as elsewhere:
        cwd = os.getcwd()
        os.chdir(elsewhere)
        try:
            check_rows(out, [a, c, b])
            moved = os.path.join(tmp, "fx-moved")
            shutil.move(d, moved)
            with h5py.File(os.path.join(moved, "view", "all.h5"), "r") as f:
                with h5py.File(os.path.join(moved, "shards", "b.h5"),
                               "r") as g:
                    expect(np.array_equal(f["images"][7:], g["images"][...]),
                           "images after moving the directory")
            shutil.move(moved, d)
        finally:
            os.chdir(cwd)
    print("ok combine fixtures: 12 rows from 3 files (1 empty), I 1 and 3, "
          "3 merged sources, 2 columns, relative paths")
    return a, b, out


def test_refusals(tmp, a, b, out):
    d = os.path.dirname(a)
    before = open(out, "rb").read()
    cases = [
        ("skel.h5", dict(nodes=("a", "B", "c")),
         ['different skeletons', 'node 1', '"b"', '"B"']),
        ("shape.h5", dict(hw=(4, 6)), ["shape", "(2, 4, 6, 3)"]),
        ("pf.h5", dict(pixel_format="BGR"), ["BGR", "RGB", "pixel format"]),
        ("frames.h5", dict(crops=False), ["whole frames", "crops"]),
        ("k.h5", dict(k=4, nodes=("a", "b", "c", "d")), ["skeleton"]),
    ]
    for name, kw, words in cases:
        bad = os.path.join(d, name)
        write_fixture(bad, 2, 1, [("v9", 0, 0)], [0, 0], **kw)
        p = combine(out, [a, bad])
        expect(p.returncode == 1, "%s accepted: %s" % (name, p.stdout))
        for w in words + [bad]:
            expect(w in p.stdout, "%s: %r not in %r" % (name, w, p.stdout))
        if "skeleton" in words[0]:
            expect(a in p.stdout, "%s: first file not named" % name)
        expect(open(out, "rb").read() == before, "%s: output changed" % name)
        expect(not os.path.exists(out + ".partial"), "%s: .partial" % name)
    p = combine(out, [a, os.path.join(d, "missing.h5")])
    expect(p.returncode == 1 and "missing.h5" in p.stdout,
           "missing input: %s" % p.stdout)
    print("ok combine refuses other skeletons, shapes, pixel formats, "
          "frames with crops, missing files (output kept)")


def test_batchsink_files(tmp):
    """Two files batchsink wrote (a split): frames with several instances."""
    d = os.path.join(tmp, "bs")
    loc = os.path.join(d, "frames.h5")
    os.makedirs(d)
    p = subprocess.run(
        ["gst-launch-1.0", "-q", "filesrc", "location=" + VIDEO, "!",
         "decodebin", "!", "annotfilter", "location=" + SLP, "!",
         "videoconvert", "!", "video/x-raw,format=RGB", "!", "batchsink",
         "format=hdf5", "location=" + loc, "split=train=0.5,val=0.5",
         "split-by=frame"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=300)
    expect(p.returncode == 0, "batchsink: %s" % p.stdout)
    inputs = [os.path.join(d, "frames.train.h5"),
              os.path.join(d, "frames.val.h5")]
    out = os.path.join(d, "frames.all.h5")
    p = combine(os.path.basename(out), [os.path.basename(x) for x in inputs],
                cwd=d)
    expect(p.returncode == 0, "combine: %s" % p.stdout)
    total, merged = check_rows(out, inputs)
    expect(total == 5 and merged == ["centered_pair_low_quality"],
           "%d rows, %s" % (total, merged))
    print("ok combine batchsink's train + val files (%d frames)" % total)
    # a combined file (or a writer's view) is an input like any other
    again = os.path.join(d, "twice.h5")
    p = combine(again, [out, inputs[0]])
    expect(p.returncode == 0, "combine a combined file: %s" % p.stdout)
    total, _ = check_rows(again, [out, inputs[0]])
    with h5py.File(inputs[0], "r") as g:
        expect(total == 5 + g["images"].shape[0], "nested rows %d" % total)
    print("ok combine a combined file with one of its inputs (%d rows)"
          % total)


def same_layout(got, want, name):
    """@got's dataset @name is chunked, filtered and filled like @want's."""
    g, w = got[name], want[name]
    expect(g.chunks == w.chunks or w.chunks is None,
           "%s chunks %s, input %s" % (name, g.chunks, w.chunks))
    expect(g.compression == w.compression and
           g.compression_opts == w.compression_opts,
           "%s compression %s, input %s" % (name, g.compression,
                                            w.compression))
    expect(np.array_equal(np.array(g.fillvalue), np.array(w.fillvalue),
                          equal_nan=True), "%s fill %s, input %s"
           % (name, g.fillvalue, w.fillvalue))
    expect(dict(g.attrs) == dict(w.attrs), "%s attributes" % name)


def test_consolidate(tmp, a, b, view):
    """op_h5_consolidate: the same rows as the view, in real datasets of
    the first input's layout, that read the same once copied alone."""
    c = os.path.join(os.path.dirname(a), "c.h5")
    out = os.path.join(tmp, "fx", "view", "real.h5")
    p = combine(out, [a, c, b], consolidate=True)
    expect(p.returncode == 0, "consolidate failed: %s" % p.stdout)
    expect(not os.path.exists(out + ".partial"), ".partial left")
    total, merged = check_rows(out, [a, c, b], virtual=False)
    expect(total == 12 and merged == ["v1", "v2", "v3"],
           "consolidated %d rows, sources %s" % (total, merged))
    alone = os.path.join(tmp, "alone")
    os.makedirs(alone)
    shutil.copy(out, alone)
    with h5py.File(os.path.join(alone, "real.h5"), "r") as f, \
            h5py.File(view, "r") as v, h5py.File(a, "r") as g:
        expect("combined_from" not in f.attrs, "combined_from kept")
        expect(sorted(f.keys()) == sorted(v.keys()), "datasets %s, view %s"
               % (sorted(f.keys()), sorted(v.keys())))
        for name in v:
            if isinstance(v[name], h5py.Group):
                for col in v[name]:
                    expect(np.array_equal(f[name][col][...], v[name][col][...],
                                          equal_nan=True), name + col)
                continue
            expect(f[name].shape == v[name].shape and
                   f[name].dtype == v[name].dtype,
                   "%s: %s %s, view %s %s" % (name, f[name].shape,
                                              f[name].dtype, v[name].shape,
                                              v[name].dtype))
            expect(np.array_equal(f[name][...], v[name][...],
                                  equal_nan=f[name].dtype.kind == "f"),
                   "%s differs from the view once copied alone" % name)
            if name in PER_SAMPLE:
                same_layout(f, g, name)
        vattrs = {k: x for k, x in v.attrs.items() if k != "combined_from"}
        expect(sorted(f.attrs.keys()) == sorted(vattrs.keys()),
               "root attributes %s" % sorted(f.attrs.keys()))
        # images are chunked by row and gzip'd: copied as stored on disk
        for row in range(7):
            raw = f["images"].id.read_direct_chunk((row, 0, 0, 0))
            expect(raw == g["images"].id.read_direct_chunk((row, 0, 0, 0)),
                   "stored chunk of image %d differs from the input's" % row)
    print("ok consolidate fixtures: 12 rows in real datasets (input "
          "chunking, gzip, fills), identical to the view, copied alone")
    # a view is an input like any other (read through its mappings)
    again = os.path.join(tmp, "fx", "view", "again.h5")
    p = combine(again, [view, a], consolidate=True)
    expect(p.returncode == 0, "consolidate a view: %s" % p.stdout)
    total, _ = check_rows(again, [view, a], virtual=False)
    expect(total == 19, "consolidated view + input: %d rows" % total)
    print("ok consolidate a view with one of its inputs (%d rows)" % total)


def main():
    with tempfile.TemporaryDirectory(prefix="batchsink-h5vds-") as tmp:
        a, b, out = test_fixtures(tmp)
        test_consolidate(tmp, a, b, out)
        test_refusals(tmp, a, b, out)
        test_batchsink_files(tmp)
    print("all h5vds checks passed")


if __name__ == "__main__":
    main()
