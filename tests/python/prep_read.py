"""Reading an onepass-prep output folder the way a user would: through
dataset.json, tar members with tarfile, HDF5 files with h5py. Shared by
test_prep.py and test_slurm.py."""
import json
import os
import tarfile

import h5py
import numpy as np


def samples(out):
    """{key: (json dict without volatile fields, image bytes or array)} of
    every sample dataset.json lists; a key seen twice raises."""
    ds = json.load(open(os.path.join(out, "dataset.json")))
    got = {}

    def put(key, value):
        if key in got:
            raise AssertionError("sample %s listed twice" % key)
        got[key] = value

    for sh in ds["shards"]:
        path = os.path.join(out, sh["path"])
        if sh["format"] == "tar":
            members = {}
            with tarfile.open(path) as t:
                for m in t.getmembers():
                    key, ext = m.name.split(".", 1)
                    members.setdefault(key, {})[ext] = t.extractfile(m).read()
            for key, parts in members.items():
                put(key, (json.loads(parts["json"]), parts.get("jpg")))
        elif sh["format"] == "hdf5":
            with h5py.File(path, "r") as f:
                names = f["sources"].asstr()[:]
                for i in range(len(f["frame_index"])):
                    n = int(f["n_instances"][i])
                    key = "%s_%06d" % (names[f["source"][i]], f["frame_index"][i])
                    put(key, ({"keypoints": f["keypoints"][i, :n].tolist(),
                               "track": f["track"][i, :n].tolist()},
                              f["images"][i].tobytes()))
    return got


def same(a, b):
    """Two samples() results hold the same samples (NaN equal to NaN)."""
    return sorted(a) == sorted(b) and all(
        json.dumps(a[k][0], sort_keys=True) == json.dumps(b[k][0], sort_keys=True)
        and a[k][1] == b[k][1] for k in a)


def merged_hdf5(path):
    """One combined HDF5 file (OUT/dataset.h5) read as one dataset:
    ({(source, frame): keypoints}, {source: [attribute values]}, rows)."""
    kps, attrs = {}, {}
    with h5py.File(path, "r") as f:
        names = f["sources"].asstr()[:]
        src, fi, n = f["source"][:], f["frame_index"][:], f["n_instances"][:]
        k = f["keypoints"][:]
        for i in range(len(fi)):
            key = (names[src[i]], int(fi[i]))
            if key in kps:
                raise AssertionError("%s: %s twice" % (path, key))
            kps[key] = k[i, :n[i]]
        cols = sorted(f["attributes"]) if "attributes" in f else []
        for j, name in enumerate(names):
            attrs[name] = [float(f["attributes/" + c][j]) for c in cols]
        rows = len(f["images"])
        if f["images"][rows - 1].shape != f["images"].shape[1:]:
            raise AssertionError("images not readable")
    return kps, attrs, rows


def keypoints_by_frame(out):
    """{(source, frame): [instance keypoints]} with NaN for missing values."""
    res = {}
    for key, (o, _) in samples(out).items():
        if "source" in o:           # tar JSON
            src, fr = o["source"], o["frame_index"]
            kps = [[[np.nan if v is None else v for v in kp] for kp in inst["keypoints"]]
                   for inst in o["instances"]]
        else:
            src, fr = key.rsplit("_", 1)[0], int(key.rsplit("_", 1)[1])
            kps = o["keypoints"]
        res[(src, fr)] = np.array(kps, dtype=np.float32)
    return res
