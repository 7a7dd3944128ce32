#!/usr/bin/python3
"""cropextract vs OpenCV: cut + scale 328x328 crops from 1280x720 RGB frames.

One process, one run, same frames and rectangles:
  ours  = time(videotestsrc ! annotfilter ! cropextract ! fakesink)
        - time(videotestsrc ! annotfilter ! fakesink)    (per crop, so the
          crop's buffer, metas and push are included)
  cv2   = cv2.resize(frame[rect], (328, 328), INTER_LINEAR) (per crop,
          cv2.setNumThreads(1); rects clipped to the frame, no border fill,
          no metadata: the baseline does strictly less work)
Rects follow cropextract's documented `fit` rule (padding 0.1) on labels
made by ../shared/bench/make_sleap_labels.py (2 instances per frame, boxes
of about 130 px, so crops are upscaled about 2.2x).

usage: bench/cropextract.py [--frames 500] [--runs 5] [--padding 0.1]
                            [--build DIR]
Prints medians over the runs and the ratio cv2 / ours (>= 1: we are at
least as fast).
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
W, H, CROP = 1280, 720, 328


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--padding", type=float, default=0.1,
                    help="cropextract padding; 1.5 makes ~520 px rects, "
                    "so crops are shrunk instead of enlarged")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-cropextract"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    return ap.parse_args()


args = parse_args()
os.environ["GST_PLUGIN_PATH"] = "%s/gst:%s/ext" % (args.build, args.build)

import cv2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def fit_rect(xs, ys, padding=0.1):
    """cropextract's fit rule (gst/cropextract/cropbox.c), square crop."""
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    bw, bh = x1 - x0, y1 - y0
    l, r = x0 - bw * padding + 0.5, x1 + bw * padding + 0.5
    t, b = y0 - bh * padding + 0.5, y1 + bh * padding + 0.5
    side = max(1, math.ceil(max(r - l, b - t) - 1e-6))
    cx, cy = (l + r) / 2, (t + b) / 2
    return (math.floor(cx - side / 2 + 0.5), math.floor(cy - side / 2 + 0.5),
            side, side)


def load_rects(slp):
    with h5py.File(slp, "r") as f:
        frames = f["frames"][:]
        insts = f["instances"][:]
        pts = f["points"][:]
    rects = []
    for fr in frames:
        for i in range(fr["instance_id_start"], fr["instance_id_end"]):
            p = pts[insts[i]["point_id_start"]:insts[i]["point_id_end"]]
            ok = p["visible"] & ~np.isnan(p["x"]) & ~np.isnan(p["y"])
            rects.append(fit_rect(p["x"][ok], p["y"][ok], args.padding))
    return rects


def run_cv2(frame, rects):
    cv2.setNumThreads(1)
    t0 = time.perf_counter()
    for (x, y, w, h) in rects:
        xa, ya = max(x, 0), max(y, 0)
        xb, yb = min(x + w, W), min(y + h, H)
        out = cv2.resize(frame[ya:yb, xa:xb], (CROP, CROP),
                         interpolation=cv2.INTER_LINEAR)
    del out
    return time.perf_counter() - t0


def run_pipeline(slp, n, with_crop, count_buffers=False):
    """Seconds from PLAYING to EOS, all in C threads (videotestsrc makes the
    frames); with count_buffers (untimed check runs only: a Python callback
    per buffer would dominate) also the number of buffers at the sink."""
    desc = ("videotestsrc num-buffers=%d pattern=solid-color "
            "foreground-color=0xff808080 ! "
            "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1 ! "
            "annotfilter location=%s ! %s fakesink name=sink sync=false "
            "signal-handoffs=%s" % (n, W, H, slp,
                                    "cropextract padding=%g ! " % args.padding
                                    if with_crop else "",
                                    "true" if count_buffers else "false"))
    pipe = Gst.parse_launch(desc)
    count = [0]
    if count_buffers:
        pipe.get_by_name("sink").connect(
            "handoff", lambda *a: count.__setitem__(0, count[0] + 1))
    # labels load in NULL->PAUSED, before the clock starts
    pipe.set_state(Gst.State.PAUSED)
    pipe.get_state(Gst.CLOCK_TIME_NONE)
    t0 = time.perf_counter()
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(
        600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    dt = time.perf_counter() - t0
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        sys.exit("pipeline failed: %s" % (msg.parse_error()[0].message
                                          if msg else "timeout"))
    return dt, count[0]


def main():
    Gst.init(None)
    for name in ("annotfilter", "cropextract"):
        if Gst.ElementFactory.find(name) is None:
            sys.exit("%s not found under %s: build first" % (name, args.build))
    tmp = tempfile.mkdtemp(prefix="cropextract-bench-")
    slp = os.path.join(tmp, "bench.slp")
    subprocess.run([sys.executable,
                    os.path.join(args.shared, "bench", "make_sleap_labels.py"),
                    slp, "--video", os.path.join(tmp, "bench.mp4"),
                    "--frames", str(args.frames), "--width", str(W),
                    "--height", str(H)], check=True, stdout=subprocess.DEVNULL)
    rects = load_rects(slp)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    sides = [r[2] for r in rects]
    print("frames %d, crops %d, rect side median %d (min %d, max %d)" %
          (args.frames, len(rects), statistics.median(sides), min(sides),
           max(sides)))

    # check run (untimed): every instance gives a crop
    _, n_crops = run_pipeline(slp, args.frames, True, True)
    _, n_frames = run_pipeline(slp, args.frames, False, True)
    if n_crops != len(rects) or n_frames != args.frames:
        sys.exit("expected %d crops / %d frames, got %d / %d" %
                 (len(rects), args.frames, n_crops, n_frames))

    ours, base = [], []
    for run in range(args.runs):
        t_with, _ = run_pipeline(slp, args.frames, True)
        t_without, _ = run_pipeline(slp, args.frames, False)
        t_cv2 = run_cv2(frame, rects)
        ours.append((t_with - t_without) / n_crops * 1e3)
        base.append(t_cv2 / len(rects) * 1e3)
        print("run %d: pipeline with %.3f s, without %.3f s -> %.4f ms/crop; "
              "cv2.resize %.4f ms/crop" % (run, t_with, t_without, ours[-1],
                                          base[-1]))
    mo, mb = statistics.median(ours), statistics.median(base)
    print("median cropextract %.4f ms/crop (target <= 0.2), cv2.resize "
          "%.4f ms/crop, ratio cv2/cropextract %.2fx" % (mo, mb, mb / mo))


if __name__ == "__main__":
    main()
