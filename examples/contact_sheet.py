#!/usr/bin/python3
"""A contact sheet: N random samples of a onepass dataset, keypoints drawn.

    examples/contact_sheet.py DATASET OUT.png [-n 16] [--seed 0]
                              [--tile 192] [--columns 4]

DATASET is what batchsink wrote: a directory of tar shards (its
dataset.json, else every *.tar in it), one .tar shard, or an HDF5 file
(layout version 2). Each sample is scaled to a --tile x --tile square (aspect
kept, black bars) and drawn with its instances: skeleton edges as lines,
keypoints as dots, a solid circle for user labels and a hollow one for
predictions, one colour per track (the palette of annotoverlay, white when
untracked); missing points are not drawn. The caption is the sample's frame index
(and instance for tar crops). Same seed, same samples.

Only numpy, OpenCV and h5py (Debian's python3-numpy, -opencv, -h5py).
"""
import argparse
import glob
import io
import json
import os
import random
import sys
import tarfile

import cv2
import numpy as np

# annotoverlay's palette (RGB), track i takes entry i % 10
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
           (148, 103, 189), (140, 86, 75), (227, 119, 194), (188, 189, 34),
           (23, 190, 207), (255, 221, 0)]
WHITE = (255, 255, 255)
CAPTION = 16  # pixels under each tile for its caption

RAW = {"rgb": ("RGB", 3), "bgr": ("BGR", 3), "gray": ("GRAY8", 1),
       "rgba": ("RGBA", 4), "bgra": ("BGRA", 4), "rgbx": ("RGBx", 4),
       "bgrx": ("BGRx", 4)}


class Sample:
    """One picture (RGB uint8 HxWx3) and its instances: a list of
    (kind, track, K x 4 keypoints [x, y, visible, score])."""

    def __init__(self, caption, image, instances, edges):
        self.caption, self.image = caption, image
        self.instances, self.edges = instances, edges


def to_rgb(img, pixel_format):
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2RGB)
    if pixel_format.startswith("BGR"):
        return np.ascontiguousarray(img[:, :, 2::-1])
    return np.ascontiguousarray(img[:, :, :3])


# ----------------------------------------------------------------- tar
def tar_shards(path):
    if os.path.isfile(path):
        return [path]
    index = os.path.join(path, "dataset.json")
    if os.path.exists(index):
        with open(index) as f:
            return [os.path.join(path, s["path"])
                    for s in json.load(f)["shards"]
                    if s["path"].endswith(".tar")]
    return sorted(glob.glob(os.path.join(path, "*.tar")))


def tar_samples(path, n, rng):
    # key -> (shard, {extension: member}), in order; pick, then read
    keys = {}
    for shard in tar_shards(path):
        with tarfile.open(shard) as t:
            for m in t.getmembers():
                key, _, ext = m.name.partition(".")
                keys.setdefault(key, (shard, {}))[1][ext] = m.name
    keys = {k: v for k, v in keys.items() if "json" in v[1]}
    chosen = rng.sample(sorted(keys), min(n, len(keys)))
    out = []
    for key in chosen:
        shard, members = keys[key]
        with tarfile.open(shard) as t:
            ann = json.load(t.extractfile(members["json"]))
            ext = next(e for e in members if e != "json")
            data = t.extractfile(members[ext]).read()
        if ext in RAW:
            fmt, ch = RAW[ext]
            crop = ann.get("crop")
            w = crop["width"] if crop else ann["width"]
            h = crop["height"] if crop else ann["height"]
            img = to_rgb(np.frombuffer(data, np.uint8).reshape(h, w, ch), fmt)
        else:
            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                sys.exit("%s: %s.%s is not an image OpenCV reads"
                         % (shard, key, ext))
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        sk = ann.get("skeleton") or {}
        insts = [(i["kind"], i["track"] if i["track"] is not None else -1,
                  np.array([[np.nan if v is None else v for v in k]
                            for k in i["keypoints"]], float).reshape(-1, 4))
                 for i in ann["instances"]]
        # keys end in _<frame:06>_<instance:02>
        parts = key.rsplit("_", 2)
        caption = "frame %d #%d" % (int(parts[1]), int(parts[2])) \
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() \
            else key
        out.append(Sample(caption, img, insts, sk.get("edges", [])))
    return out


# ---------------------------------------------------------------- HDF5
def h5_samples(path, n, rng):
    import h5py

    kinds = {0: "user", 1: "predicted", 2: "detection"}
    with h5py.File(path, "r") as f:
        if f.attrs.get("layout_version") != 2:
            sys.exit("%s: not a onepass HDF5 of layout version 2" % path)
        images = f["images"]
        fmt = images.attrs["pixel_format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        edges = f.attrs["edges"].reshape(-1, 2).tolist() \
            if "edges" in f.attrs else []
        sources = f["sources"].asstr()[:]
        chosen = sorted(rng.sample(range(len(images)), min(n, len(images))))
        out = []
        for i in chosen:
            k = int(f["n_instances"][i])
            insts = [(kinds.get(int(f["kind"][i, j]), "user"),
                      int(f["track"][i, j]), f["keypoints"][i, j])
                     for j in range(k)]
            caption = "frame %d" % int(f["frame_index"][i])
            if len(sources) > 1:
                caption = "%s %s" % (sources[f["source"][i]], caption)
            out.append(Sample(caption, to_rgb(images[i], fmt), insts, edges))
    return out


# ------------------------------------------------------------- drawing
def draw_tile(s, tile):
    h, w = s.image.shape[:2]
    scale = tile / max(w, h)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    ox, oy = (tile - tw) // 2, (tile - th) // 2
    canvas = np.zeros((tile + CAPTION, tile, 3), np.uint8)
    canvas[oy:oy + th, ox:ox + tw] = cv2.resize(
        s.image, (tw, th), interpolation=cv2.INTER_AREA)
    sx, sy = tw / w, th / h

    def at(x, y):
        # pixel centres at integers on both sides: the corner -0.5 maps to
        # -0.5; 4 fractional bits for cv2's sub-pixel drawing
        return (int(round(((x + 0.5) * sx - 0.5 + ox) * 16)),
                int(round(((y + 0.5) * sy - 0.5 + oy) * 16)))

    for kind, track, kp in s.instances:
        col = PALETTE[track % 10] if track >= 0 else WHITE
        ok = (kp[:, 2] > 0) & ~np.isnan(kp[:, 0]) & ~np.isnan(kp[:, 1])
        for a, b in s.edges:
            if a < len(kp) and b < len(kp) and ok[a] and ok[b]:
                cv2.line(canvas, at(*kp[a, :2]), at(*kp[b, :2]), col, 1,
                         cv2.LINE_AA, 4)
        for x, y in kp[ok, :2]:
            cv2.circle(canvas, at(x, y), 3 * 16, col,
                       -1 if kind == "user" else 1, cv2.LINE_AA, 4)
    cv2.putText(canvas, s.caption[-(tile // 8):], (2, tile + CAPTION - 4),
                cv2.FONT_HERSHEY_PLAIN, 0.8, WHITE, 1, cv2.LINE_AA)
    return canvas


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=16, help="samples (default 16)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tile", type=int, default=192)
    ap.add_argument("--columns", type=int, default=4)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    if a.dataset.endswith((".h5", ".hdf5")):
        samples = h5_samples(a.dataset, a.n, rng)
    else:
        samples = tar_samples(a.dataset, a.n, rng)
    if not samples:
        sys.exit("%s: no samples" % a.dataset)
    cols = min(a.columns, len(samples))
    rows = (len(samples) + cols - 1) // cols
    th = a.tile + CAPTION
    sheet = np.zeros((rows * th, cols * a.tile, 3), np.uint8)
    for i, s in enumerate(samples):
        r, c = divmod(i, cols)
        sheet[r * th:(r + 1) * th, c * a.tile:(c + 1) * a.tile] = \
            draw_tile(s, a.tile)
    if not cv2.imwrite(a.out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        sys.exit("%s: cannot write the PNG" % a.out)
    print("%s: %d samples of %s, %dx%d pixels"
          % (a.out, len(samples), a.dataset, sheet.shape[1], sheet.shape[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
