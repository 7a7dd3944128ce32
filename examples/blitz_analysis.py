#!/usr/bin/python3
"""Whole-video analysis within a memory limit, the BLITZ way, in one decode.

One pipeline decodes the video once to GRAY8:

    filesrc ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 !
        ramcache policy=subsample max-bytes=LIMIT export-location=OUT/frames.npy !
        framestats location=OUT/stats ! fakesink

- ramcache keeps as many frames as fit in the memory limit, spread evenly
  over the video (the step is chosen up front from the video's duration),
  and at the end writes them as OUT/frames.npy (+ frames.index.npy), which
  numpy maps without a copy;
- framestats sees every frame and computes the per-pixel mean, std, min and
  max over the whole video in constant memory (OUT/stats/*.npy; the script
  also fetches mean and std with the get-stat action signal).

Then it saves three pictures: OUT/mean.png and OUT/std.png (with the ROI
drawn) and OUT/roi_curve.png (the ROI's mean intensity in every cached
frame against the frame index, with the whole-video ROI mean from
framestats), and prints:

    frames <decoded> size <W>x<H> limit <MiB> MiB kept <n> (<percent>% of
    what fits) step <num>/<den>
    roi <x>,<y>,<w>,<h> mean <value> std-mean <value>
    peak-rss <MiB> MiB
    wrote OUT/mean.png OUT/std.png OUT/roi_curve.png

usage: blitz_analysis.py VIDEO OUT [--memory-mib N] [--roi X,Y,W,H]
Run with GST_PLUGIN_PATH pointing at the build tree's gst/ folder. Needs
python3-matplotlib (Debian).
"""
import argparse
import os
import resource
import sys

import gi
import numpy as np

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402


def run(video, out, limit):
    """Plays the pipeline to EOS; returns (framestats element, messages)."""
    pipeline = Gst.parse_launch(
        "filesrc name=src ! decodebin ! videoconvert ! "
        "video/x-raw,format=GRAY8 ! ramcache name=cache policy=subsample ! "
        "framestats name=stats ! fakesink")
    pipeline.get_by_name("src").set_property("location", video)
    cache = pipeline.get_by_name("cache")
    cache.set_property("max-bytes", limit)
    cache.set_property("export-location", os.path.join(out, "frames.npy"))
    stats = pipeline.get_by_name("stats")
    stats.set_property("location", os.path.join(out, "stats"))

    msgs = {}
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    while True:
        msg = bus.timed_pop(Gst.CLOCK_TIME_NONE)
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            pipeline.set_state(Gst.State.NULL)
            raise SystemExit("error: %s (%s)" % (err.message, dbg))
        if msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            msgs[s.get_name()] = {s.nth_field_name(i):
                                  s.get_value(s.nth_field_name(i))
                                  for i in range(s.n_fields())}
    # results stay available until the element stops
    result = {}
    for stat in ("mean", "std"):
        sample = stats.emit("get-stat", stat)
        st = sample.get_caps().get_structure(0)
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        result[stat] = np.frombuffer(info.data, np.float32).reshape(
            st.get_value("height"), st.get_value("width")).copy()
        buf.unmap(info)
    pipeline.set_state(Gst.State.NULL)
    return result, msgs


def picture(img, title, path, roi, cmap, label):
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(img, cmap=cmap)
    x, y, w, h = roi
    ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False,
                           edgecolor="red", linewidth=1.5))
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label=label)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("out")
    ap.add_argument("--memory-mib", type=float, default=64,
                    help="memory limit for the cached frames (MiB)")
    ap.add_argument("--roi", default=None,
                    help="X,Y,W,H (default: a centred square, 1/4 of the "
                    "smaller side)")
    a = ap.parse_args()

    Gst.init(None)
    os.makedirs(a.out, exist_ok=True)
    limit = int(a.memory_mib * 2**20)
    res, msgs = run(a.video, a.out, limit)

    done = msgs["framestats-done"]
    exported = msgs["ramcache-exported"]
    plan = msgs.get("ramcache-plan", {})
    # numpy maps the cache's export: no copy of the frames
    frames = np.load(exported["location"], mmap_mode="r")
    index = np.load(exported["index-location"])
    n, height, width = frames.shape
    fit = plan.get("capacity", n)
    print("frames %d size %dx%d limit %g MiB kept %d (%.0f%% of what fits) "
          "step %d/%d" % (done["frames"], width, height, a.memory_mib, n,
                          100.0 * n / max(fit, 1), plan.get("step-num", 1),
                          plan.get("step-den", 1)))

    if a.roi:
        roi = tuple(int(v) for v in a.roi.split(","))
    else:
        side = min(width, height) // 4
        roi = ((width - side) // 2, (height - side) // 2, side, side)
    x, y, w, h = roi
    curve = frames[:, y:y + h, x:x + w].mean(axis=(1, 2))
    roi_mean = float(res["mean"][y:y + h, x:x + w].mean())
    print("roi %d,%d,%d,%d mean %.3f std-mean %.3f" %
          (x, y, w, h, roi_mean, float(res["std"][y:y + h, x:x + w].mean())))

    paths = [os.path.join(a.out, p) for p in
             ("mean.png", "std.png", "roi_curve.png")]
    picture(res["mean"], "per-pixel mean over %d frames" % done["frames"],
            paths[0], roi, "gray", "mean intensity")
    picture(res["std"], "per-pixel std over %d frames" % done["frames"],
            paths[1], roi, "magma", "std of intensity")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(index, curve, lw=1, label="ROI mean, %d cached frames" % n)
    ax.axhline(roi_mean, color="red", ls="--", lw=1,
               label="ROI of the mean image (all %d frames)" % done["frames"])
    ax.set_xlabel("frame index")
    ax.set_ylabel("mean intensity in ROI")
    ax.set_title("ROI %d,%d %dx%d" % roi)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=100)
    plt.close(fig)

    print("peak-rss %.1f MiB" %
          (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    print("wrote " + " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
