#!/usr/bin/python3
"""Look at augmented crops: each crop and its annotaugment copies with the
moved keypoints drawn by annotoverlay, in one PNG (a row per crop: the
original, then the copies).

    python3 examples/augment_preview.py VIDEO LABELS OUT.png \
        [--copies 4] [--crops 4] [--seed 0] [--size 160]

The pipeline it runs (printed on stderr) is the one to check an
augmentation with:

    filesrc ! decodebin ! annotfilter ! cropextract ! videoconvert !
    video/x-raw,format=RGB ! annotaugment copies=K include-original=true
    hflip=0.5 rotate=180 scale=0.1 translate=0.05 brightness=0.1
    contrast=0.2 ! annotoverlay point-radius=2 ! pngenc !
    multifilesink location=DIR/aug-%05d.png

Needs the build tree's plugins on GST_PLUGIN_PATH_1_0 (or an installed
onepass) and python3-opencv for the tiling.
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys
import tempfile

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video")
    ap.add_argument("labels")
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--crops", type=int, default=4,
                    help="crops to show (the first ones of the video)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=160, help="crop size")
    ap.add_argument("--instances", default="predicted")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="augment-preview-") as tmp:
        per_crop = a.copies + 1
        pipeline = (
            "filesrc location={video} ! decodebin ! "
            "annotfilter location={labels} instances={inst} ! "
            "cropextract width={s} height={s} ! videoconvert ! "
            "video/x-raw,format=RGB ! identity eos-after={n} ! "
            "annotaugment copies={k} include-original=true seed={seed} "
            "hflip=0.5 rotate=180 scale=0.1 translate=0.05 brightness=0.1 "
            "contrast=0.2 ! annotoverlay point-radius=2 ! pngenc ! "
            "multifilesink location={tmp}/aug-%05d.png").format(
                video=shlex.quote(a.video), labels=shlex.quote(a.labels),
                inst=a.instances, s=a.size, n=a.crops, k=a.copies,
                seed=a.seed, tmp=shlex.quote(tmp))
        print("gst-launch-1.0 " + pipeline, file=sys.stderr)
        subprocess.run(["gst-launch-1.0", "-q"] + shlex.split(pipeline),
                       check=True)
        files = sorted(glob.glob(os.path.join(tmp, "aug-*.png")))
        # identity eos-after counts its input buffers: a crop more or
        # less may arrive; show whole rows only
        rows = min(a.crops, len(files) // per_crop)
        if rows == 0:
            sys.exit("no crops came out of the pipeline")
        tiles = [cv2.imread(f) for f in files[:rows * per_crop]]
        pad = 4
        h, w = tiles[0].shape[:2]
        sheet = np.full((rows * (h + pad) + pad, per_crop * (w + pad) + pad,
                         3), 255, np.uint8)
        for i, t in enumerate(tiles):
            r, c = divmod(i, per_crop)
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            sheet[y:y + h, x:x + w] = t
        cv2.imwrite(a.out, sheet)
        print("%s: %d crops x (original + %d copies)" % (a.out, rows,
                                                         a.copies))


if __name__ == "__main__":
    main()
