#!/usr/bin/python3
"""format=hdf5 after a clean EOS: one self-contained file per split
(docs/batchsink.md, "HDF5 shards, views and the consolidated file").

The same labelled pipeline (videotestsrc + COCO labels written here, with
1 instance per frame at first and up to 3 later, so that shards have
different instance axes; split train/val by frame) runs three times:
shards of 7 samples (rows copied through hyperslabs), shards of 64 (the
per-instance datasets' 64-row chunks line up: copied chunk by chunk) and
one shard that never rotates (the file batchsink always wrote whole).
Checked from outside with h5py, json and stock filesink:
- the directory holds exactly `o.<split>.h5` per split, its manifest and
  dataset.json: no shard, no `.partial`;
- every per-sample dataset is real (`is_virtual` False), no
  `combined_from`; shapes, dtypes, chunking, compression, fill values and
  attributes are those of the never-rotated run's file, and so is every
  value;
- independently: every image equals stock filesink's frame of its
  `frame_index`, keypoints and `n_instances` equal the COCO file's, the
  instance axis past `n_instances` is NaN padding;
- the manifest and dataset.json list the one file per split with its
  sample count and size on disk (and the last key and sources the
  never-rotated run lists); `batchsink-shard-closed` announces it;
- the file copied alone into an empty directory reads the same;
- `onepass-prep --merge` of the directory presents each consolidated file
  through `dataset.<split>.h5`, a view naming that one file.

Exits non-zero on the first mismatch.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

W, H, N, K = 32, 24, 140, 3
SRC = ("videotestsrc pattern=ball num-buffers=%d ! "
       "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1"
       % (N, W, H))
PER_SAMPLE = ["images", "keypoints", "n_instances", "track", "kind", "score",
              "bbox", "frame_index", "pts", "source", "augment"]


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def launch(args, timeout=120):
    p = subprocess.run(["gst-launch-1.0"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    expect(p.returncode == 0, "gst-launch-1.0 %s: %s"
           % (" ".join(args), p.stdout[-2000:]))
    return p.stdout


def n_instances(i):
    return 1 if i < 30 else 1 + i % 3


def point(i, j, q):
    return float((i + 5 * j + 3 * q) % W), float((2 * i + j + q) % H)


def write_labels(path):
    anns = []
    for i in range(N):
        for j in range(n_instances(i)):
            kps = []
            for q in range(K):
                kps += list(point(i, j, q)) + [2]
            anns.append({"id": len(anns) + 1, "image_id": i + 1,
                         "category_id": 1, "keypoints": kps})
    json.dump({
        "images": [{"id": i + 1, "file_name": "clip/f_%d.png" % i,
                    "frame_index": i, "width": W, "height": H}
                   for i in range(N)],
        "annotations": anns,
        "categories": [{"id": 1, "name": "dot", "keypoints": ["a", "b", "c"],
                        "skeleton": [[1, 2], [2, 3]]}]}, open(path, "w"))


def reference(tmp):
    raw = os.path.join(tmp, "ref.rgb")
    launch(SRC.split() + ["!", "filesink", "location=" + raw])
    return np.fromfile(raw, dtype=np.uint8).reshape(N, H, W, 3)


def run(tmp, labels, shard):
    d = os.path.join(tmp, "shard%d" % shard)
    os.makedirs(d)
    loc = os.path.join(d, "o.h5")
    out = launch(["-m"] + SRC.split() + [
        "!", "annotfilter", "location=" + labels, "!", "batchsink",
        "format=hdf5", "location=" + loc, "split=train=0.5,val=0.5",
        "split-by=frame", "max-shard-samples=%d" % shard, "batch-size=8"])
    return d, loc, out


def check_dir(d, loc, out, how):
    left = sorted(x for x in os.listdir(d) if not x.startswith("."))
    expect(left == ["dataset.json", "o.h5.manifest.json", "o.train.h5",
                    "o.val.h5"], "%s: files %s" % (how, left))
    man = json.load(open(loc + ".manifest.json"))
    want = [("o.%s.h5" % s, s) for s in ("train", "val")]
    expect(man["complete"] is True and
           [(s["name"], s["split"]) for s in man["shards"]] == want,
           "%s: manifest lists %s" % (how, man["shards"]))
    rows = 0
    for s in man["shards"]:
        path = os.path.join(d, s["name"])
        with h5py.File(path, "r") as f:
            n = f["images"].shape[0]
        expect(s["samples"] == n and s["bytes"] == os.path.getsize(path),
               "%s: %s listed with %d samples %d bytes, holds %d in %d"
               % (how, s["name"], s["samples"], s["bytes"], n,
                  os.path.getsize(path)))
        announced = [x for x in out.splitlines()
                     if "batchsink-shard-closed" in x and path in x]
        expect(len(announced) == 1 and "samples=(guint64)%d" % n
               in announced[0], "%s: %s announced %s" % (how, s["name"],
                                                         announced))
        rows += n
    expect(man["samples"] == rows == N and man["shard_count"] == 2,
           "%s: manifest totals %d samples %d shards (%d rows)"
           % (how, man["samples"], man["shard_count"], rows))
    ds = json.load(open(os.path.join(d, "dataset.json")))
    expect(sorted((s["path"], s["samples"], s["bytes"]) for s in ds["shards"])
           == sorted((s["name"], s["samples"], s["bytes"])
                     for s in man["shards"]),
           "%s: dataset.json lists %s" % (how, ds["shards"]))
    return man


def check_truth(path, ref, how):
    """Images, keypoints, instance counts against filesink and the labels."""
    with h5py.File(path, "r") as f:
        frames = f["frame_index"][...]
        expect(np.array_equal(f["images"][...], ref[frames]),
               "%s: images differ from filesink's frames" % how)
        kp = f["keypoints"][...]
        nins = f["n_instances"][...]
        for r, i in enumerate(frames):
            expect(nins[r] == n_instances(i), "%s: frame %d has %d "
                   "instances, labels %d" % (how, i, nins[r],
                                             n_instances(i)))
            want = np.array([[point(i, j, q) for q in range(K)]
                             for j in range(nins[r])], dtype=np.float32)
            expect(np.array_equal(kp[r, :nins[r], :, :2], want),
                   "%s: frame %d keypoints %s, labels %s"
                   % (how, i, kp[r, :nins[r], :, :2].tolist(),
                      want.tolist()))
            expect(np.isnan(kp[r, nins[r]:]).all(), "%s: frame %d padding"
                   % (how, i))
        return frames


def same_file(got, want, how):
    """@got holds what @want holds, in the same layout."""
    with h5py.File(got, "r") as f, h5py.File(want, "r") as g:
        expect(sorted(f.keys()) == sorted(g.keys()), "%s: datasets %s, "
               "want %s" % (how, sorted(f.keys()), sorted(g.keys())))
        expect("combined_from" not in f.attrs, "%s: combined_from" % how)
        expect(sorted(f.attrs.keys()) == sorted(g.attrs.keys()) and all(
            np.array_equal(f.attrs[k], g.attrs[k]) for k in g.attrs),
            "%s: root attributes" % how)
        for name in g:
            a, b = f[name], g[name]
            expect(not a.is_virtual, "%s: %s is virtual" % (how, name))
            expect(a.shape == b.shape and a.dtype == b.dtype, "%s: %s %s %s,"
                   " want %s %s" % (how, name, a.shape, a.dtype, b.shape,
                                    b.dtype))
            expect(np.array_equal(a[...], b[...],
                                  equal_nan=a.dtype.kind == "f"),
                   "%s: %s values differ" % (how, name))
            expect(dict(a.attrs) == dict(b.attrs), "%s: %s attributes"
                   % (how, name))
            if name in PER_SAMPLE:
                expect(a.chunks == b.chunks and a.compression ==
                       b.compression and a.compression_opts ==
                       b.compression_opts and a.maxshape == b.maxshape,
                       "%s: %s chunks %s %s, want %s %s"
                       % (how, name, a.chunks, a.compression, b.chunks,
                          b.compression))
                expect(np.array_equal(np.array(a.fillvalue),
                                      np.array(b.fillvalue), equal_nan=True),
                       "%s: %s fill value %s, want %s"
                       % (how, name, a.fillvalue, b.fillvalue))


def check_merge(d, how):
    """onepass-prep --merge: dataset.<split>.h5 over the consolidated file."""
    tool = os.environ.get("ONEPASS_PREP_TOOL")
    if not tool:
        print("SKIP %s merge: ONEPASS_PREP_TOOL not set" % how)
        return
    p = subprocess.run([tool, "--merge", d], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    expect(p.returncode == 0, "%s: onepass-prep --merge: %s" % (how, p.stdout))
    for split in ("train", "val"):
        with h5py.File(os.path.join(d, "dataset.%s.h5" % split), "r") as f, \
                h5py.File(os.path.join(d, "o.%s.h5" % split), "r") as g:
            names = sorted({s.file_name for s in
                            f["images"].virtual_sources()})
            expect(names == ["o.%s.h5" % split], "%s merge %s: view of %s"
                   % (how, split, names))
            for name in PER_SAMPLE:
                expect(np.array_equal(f[name][...], g[name][...],
                                      equal_nan=g[name].dtype.kind == "f"),
                       "%s merge %s: %s differs" % (how, split, name))


def main():
    with tempfile.TemporaryDirectory(prefix="batchsink-consolidate-") as tmp:
        labels = os.path.join(tmp, "labels.json")
        write_labels(labels)
        ref = reference(tmp)
        whole_d, whole, whole_out = run(tmp, labels, 100000)
        whole_man = check_dir(whole_d, whole, whole_out, "one shard")
        for shard in (7, 64):
            d, loc, out = run(tmp, labels, shard)
            how = "shards of %d" % shard
            man = check_dir(d, loc, out, how)
            # the split's last sample key and its sources, as one shard has
            expect([(s["samples"], s["last_key"], s["sources"])
                    for s in man["shards"]] ==
                   [(s["samples"], s["last_key"], s["sources"])
                    for s in whole_man["shards"]],
                   "%s: manifest entries %s, one shard's %s"
                   % (how, man["shards"], whole_man["shards"]))
            frames = []
            for split in ("train", "val"):
                path = os.path.join(d, "o.%s.h5" % split)
                frames += check_truth(path, ref, "%s %s" % (how, split))\
                    .tolist()
                same_file(path, os.path.join(whole_d, "o.%s.h5" % split),
                          "%s %s" % (how, split))
                alone = os.path.join(tmp, "alone-%d-%s" % (shard, split))
                os.makedirs(alone)
                shutil.copy(path, alone)
                same_file(os.path.join(alone, os.path.basename(path)), path,
                          "%s %s copied alone" % (how, split))
            expect(sorted(frames) == list(range(N)), "%s: frames %s"
                   % (how, sorted(frames)))
            check_merge(d, how)
            print("ok %s: %s, one real file per split, equal to the "
                  "never-rotated run's and to filesink/labels, also copied "
                  "alone, merged by onepass-prep" % (how, ", ".join("%s %d samples %d bytes"
                                            % (s["name"], s["samples"],
                                               s["bytes"])
                                            for s in man["shards"])))
    print("all consolidate checks passed")


if __name__ == "__main__":
    main()
