#!/usr/bin/python3
"""cropextract on real data against truth computed here with h5py.

centered_pair_low_quality.mp4 (15 fps) + centered_pair_predictions.slp:
annotfilter instances=predicted ! cropextract must give, for every frame
index, as many 328x328 crops as that frame has predicted instances with at
least one present keypoint (visible and x, y not NaN), each with the frame's
PTS, and one GAP-free stream of exactly that many buffers in total.
Exits non-zero on any mismatch.
"""
import collections
import os
import subprocess
import sys

# Under `meson test --setup valgrind` this interpreter runs in memcheck, which
# reports CPython's and h5py's own uninitialised reads and dlopen leaks.
# Memcheck of the element itself is the C suite's job (its realdata test
# runs the same pipeline); here the check runs in an untraced child.
if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    env = dict(os.environ)
    env["LD_PRELOAD"] = ""
    os._exit(subprocess.call([sys.executable, os.path.abspath(__file__)],
                             env=env))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

FPS = 15


def truth(slp):
    """frame index -> number of counted predicted instances"""
    per_frame = collections.Counter()
    with h5py.File(slp, "r") as f:
        frames = f["frames"][:]
        insts = f["instances"][:]
        pts = f["pred_points"][:]
    for fr in frames:
        for i in range(fr["instance_id_start"], fr["instance_id_end"]):
            inst = insts[i]
            if inst["instance_type"] != 1:
                continue
            p = pts[inst["point_id_start"]:inst["point_id_end"]]
            present = p["visible"] & ~np.isnan(p["x"]) & ~np.isnan(p["y"])
            if present.sum() >= 1:
                per_frame[int(fr["frame_idx"])] += 1
    return per_frame


def main():
    data = os.environ.get("ONEPASS_SHARED_DATA",
                          os.path.join(os.path.dirname(__file__), "..", "..",
                                       "..", "shared", "data"))
    video = os.path.join(data, "sleap", "centered_pair_low_quality.mp4")
    slp = os.path.join(data, "sleap", "centered_pair_predictions.slp")
    want = truth(slp)

    Gst.init(None)
    for name in ("annotfilter", "cropextract"):
        if Gst.ElementFactory.find(name) is None:
            sys.exit("FAIL: element %s not found" % name)
    pipe = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! annotfilter location=%s "
        "instances=predicted ! cropextract ! fakesink name=s sync=false "
        "signal-handoffs=true" % (video, slp))
    pts_seen = collections.Counter()
    sizes = set()

    def on_handoff(sink, buf, pad):
        pts_seen[buf.pts] += 1
        s = pad.get_current_caps().get_structure(0)
        sizes.add((s.get_int("width")[1], s.get_int("height")[1],
                   tuple(s.get_fraction("framerate")[1:])))

    pipe.get_by_name("s").connect("handoff", on_handoff)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(
        300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        sys.exit("FAIL: pipeline: %s" %
                 (msg.parse_error()[0].message if msg else "timeout"))

    # frame index relative to the first frame (the design's rule); frame 0
    # has instances, so the first crop's PTS is the first frame's
    if want[0] == 0:
        sys.exit("FAIL: truth has no instance in frame 0, cannot anchor")
    first = min(pts_seen)
    got = collections.Counter()
    for pts, n in pts_seen.items():
        got[int(round((pts - first) * FPS / Gst.SECOND))] += n

    errors = []
    if sum(got.values()) != sum(want.values()):
        errors.append("crops: got %d, want %d" % (sum(got.values()),
                                                  sum(want.values())))
    bad = [f for f in set(want) | set(got) if got[f] != want[f]]
    if bad:
        f = min(bad)
        errors.append("%d frames differ, first %d: got %d, want %d" %
                      (len(bad), f, got[f], want[f]))
    if sizes != {(328, 328, (0, 1))}:
        errors.append("caps: %s" % sizes)
    if errors:
        sys.exit("FAIL: " + "; ".join(errors))
    print("ok: %d crops over %d frames, per-frame counts match h5py" %
          (sum(got.values()), len(want)))


if __name__ == "__main__":
    main()
