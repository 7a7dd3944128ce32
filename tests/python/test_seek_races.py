#!/usr/bin/python3
"""annotfilter's own seeks leave from a helper thread, so on a loaded
machine the stream can get ahead of them. Here the race is made certain: a
pad probe holds annotfilter's seek on its way upstream until the stream
has done what the loaded machine would let it do first.

- The seek to the last labeled frame held until annotfilter has pushed its
  EOS (seen in CI: qtdemux played the end again, annotfilter-stats was
  posted twice and gst-launch failed with "reason error"): the stream ends
  once, one annotfilter-stats, no error, every labeled frame passed once.
- The seek to a labeled frame held until the stream has decoded past that
  frame: every labeled frame still passes once, in order, with its own
  image (the Y plane against ffmpeg's frame)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import numpy as np

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstApp, GstVideo  # noqa: E402,F401

W, H, N, RATE = 320, 240, 200, 25
LABELS = [3, 4, 60, 61, 120, N - 1]
FAILURES = []

Gst.init(None)


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def make_video(tmp):
    path = os.path.join(tmp, "v.mp4")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=%dx%d:rate=%d" % (W, H, RATE), "-frames:v", str(N),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "50", path], check=True)
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-f",
                          "rawvideo", "-pix_fmt", "yuv420p", "-"], check=True,
                         capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, W * H * 3 // 2)
    return path, frames[:, :W * H].reshape(-1, H, W)  # the Y planes


def write_labels(path):
    with open(path, "w") as f:
        for i, n in enumerate(LABELS):
            d = {"frame_index": n, "width": W, "height": H,
                 "instances": [{"kind": "user", "track": -1, "keypoints": [[n + 0.5, 7.5, 1, None]]}]}
            if i == 0:
                d["skeleton"] = {"name": "s", "nodes": ["a"], "edges": []}
            f.write(json.dumps(d) + "\n")


def drain(bus, stats, errors):
    """Collects the bus's errors and annotfilter-stats; returns the EOS count."""
    eos = 0
    msg = bus.pop()
    while msg:
        if msg.type == Gst.MessageType.ERROR:
            errors.append(msg.parse_error()[0].message)
        elif msg.type == Gst.MessageType.EOS:
            eos += 1
        elif msg.type == Gst.MessageType.ELEMENT and \
                msg.get_structure().get_name() == "annotfilter-stats":
            stats.append(msg.get_structure())
        msg = bus.pop()
    return eos


def run(video, labels, hold_seek_to, release):
    """Plays the video through annotfilter into an appsink; annotfilter's
    seek to frame @hold_seek_to waits upstream of annotfilter until
    release(state) is true (checked as the stream goes on)."""
    pipe = Gst.parse_launch(
        "filesrc location=%s ! qtdemux ! h264parse ! avdec_h264 name=dec ! "
        "annotfilter name=af location=%s skip=true skip-min-frames=5 ! "
        "appsink name=sink sync=false emit-signals=false" % (video, labels))
    state = {"eos": False, "images": [], "held": False}
    cond = threading.Condition()
    target = hold_seek_to / RATE

    def on_upstream(pad, info):
        ev = info.get_event()
        if ev.type == Gst.EventType.SEEK:
            start = ev.parse_seek()[4] / Gst.SECOND
            if 0 <= start - target < 1.0 / RATE:
                with cond:
                    state["held"] = True
                    if not cond.wait_for(lambda: release(state), timeout=10):
                        fail("the stream never got ahead of the held seek")
        return Gst.PadProbeReturn.OK

    def on_decoded(pad, info):
        pts = info.get_buffer().pts
        with cond:
            state["decoded_pts"] = pts
            cond.notify_all()
        return Gst.PadProbeReturn.OK

    def on_eos(pad, info):
        if info.get_event().type == Gst.EventType.EOS:
            with cond:
                state["eos"] = True
                cond.notify_all()
        return Gst.PadProbeReturn.OK

    dec_src = pipe.get_by_name("dec").get_static_pad("src")
    dec_src.add_probe(Gst.PadProbeType.EVENT_UPSTREAM, on_upstream)
    dec_src.add_probe(Gst.PadProbeType.BUFFER, on_decoded)
    pipe.get_by_name("af").get_static_pad("src").add_probe(
        Gst.PadProbeType.EVENT_DOWNSTREAM, on_eos)
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    stats, errors, eos = [], [], 0
    while True:
        sample = sink.try_pull_sample(10 * Gst.MSECOND)
        if sample:
            buf = sample.get_buffer()
            vmeta = GstVideo.buffer_get_video_meta(buf)
            stride, offset = (vmeta.stride[0], vmeta.offset[0]) if vmeta else (W, 0)
            ok, m = buf.map(Gst.MapFlags.READ)
            plane = np.frombuffer(m.data, np.uint8)[offset:offset + stride * H]
            state["images"].append(plane.reshape(H, stride)[:, :W].copy())
            buf.unmap(m)
        eos += drain(bus, stats, errors)
        if errors or (eos and sink.is_eos()):
            break
    # what a late seek would still make upstream do, before the teardown
    threading.Event().wait(0.3)
    drain(bus, stats, errors)
    pipe.set_state(Gst.State.NULL)
    return state, stats, errors


def check(what, video, truth, labels, hold, release):
    state, stats, errors = run(video, labels, hold, release)
    if not state["held"]:
        fail("%s: annotfilter sent no seek to frame %d" % (what, hold))
    if errors:
        fail("%s: errors %s" % (what, errors))
    if len(stats) != 1:
        fail("%s: annotfilter-stats posted %d times" % (what, len(stats)))
    elif stats[0].get_value("frames-passed") != len(LABELS):
        fail("%s: frames-passed %s, %d labeled" % (what, stats[0].get_value("frames-passed"),
                                                   len(LABELS)))
    if len(state["images"]) != len(LABELS):
        fail("%s: %d frames reached the sink, %d labeled" % (what, len(state["images"]),
                                                            len(LABELS)))
    for n, img in zip(LABELS, state["images"]):
        if not np.array_equal(img, truth[n]):
            fail("%s: the frame passed for label %d is not ffmpeg's frame %d" % (what, n, n))
    if not FAILURES:
        print("%s: one stats message, %d frames passed with their own images" %
              (what, len(state["images"])))


def main():
    tmp = tempfile.mkdtemp(prefix="test-seek-races-")
    try:
        video, truth = make_video(tmp)
        labels = os.path.join(tmp, "labels.jsonl")
        write_labels(labels)
        check("seek to the last frame held past the EOS", video, truth, labels, N - 1,
              lambda st: st["eos"])
        # frame 120's seek leaves after frame 61; the stream goes on decoding
        check("seek to frame 120 held until frame 130 was decoded", video, truth, labels, 120,
              lambda st: st.get("decoded_pts", 0) >= 130 * Gst.SECOND // RATE or st["eos"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("seek races: %d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
