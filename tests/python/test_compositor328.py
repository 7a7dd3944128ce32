#!/usr/bin/python3
"""compositor328 on real decoded video against OpenCV.

Makes a small H.264 clip, the seed's crop video and rectangles JSON
(tools/make_composite_inputs.py, a copy of ../shared/bench's), runs
  full.mp4 -> decode -> sink_full, crops.mp4 -> decode -> sink_crop,
  compositor328 rects-location=rects.json -> appsink
and compares every output frame with the seed's own paste (numpy slice +
cv2.resize INTER_LINEAR) of the same decoded frames: RGB bytes within 1,
and in I420 the Y plane within 1 of cv2.resize on the crop's Y plane.
Then both inputs replayed from RAM (ramcache loop=2, with and without
annotfilter's metas on the full frames): all 3 x N frames get the rect of
the frame they replay, at the right place (issue 11: replays used to be
numbered N, N+1, ... and missed 2 N rectangles).
Exits non-zero on any mismatch. Skips (exit 77) under valgrind: Python,
OpenCV and videoconvert leak on their own; the element's memcheck run is
tests/check/elements/compositor328.c."""
import json
import os
import subprocess
import sys
import tempfile

if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    sys.exit(77)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstApp, GstVideo  # noqa: E402

Gst.init(None)
W, H, N = 320, 240, 40


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(desc, prepare=None, caps_only=False):
    """Runs a pipeline with an appsink named out; returns the frames as
    numpy arrays (one per plane layout given by caps) and element messages
    (or, with caps_only, the first sample's caps).
    prepare(pipeline) may set things up before it plays."""
    pipe = Gst.parse_launch(desc)
    if prepare:
        prepare(pipe)
    sink = pipe.get_by_name("out")
    frames, msgs = [], []
    pipe.set_state(Gst.State.PLAYING)
    while True:
        sample = sink.try_pull_sample(30 * Gst.SECOND)
        if sample is not None and caps_only:
            caps = sample.get_caps()
            pipe.set_state(Gst.State.NULL)
            return caps
        if sample is None:
            break
        buf = sample.get_buffer()
        s = sample.get_caps().get_structure(0)
        w, h = s.get_value("width"), s.get_value("height")
        ok, info = buf.map(Gst.MapFlags.READ)
        data = np.frombuffer(info.data, np.uint8).copy()
        buf.unmap(info)
        frames.append((s.get_value("format"), w, h, data))
    bus = pipe.get_bus()
    while True:
        m = bus.pop()
        if m is None:
            break
        if m.type == Gst.MessageType.ERROR:
            err, dbg = m.parse_error()
            fail("pipeline error: %s (%s)" % (err.message, dbg))
        if m.type == Gst.MessageType.ELEMENT:
            msgs.append(m.get_structure())
    pipe.set_state(Gst.State.NULL)
    return frames, msgs


def rgb(frame):
    fmt, w, h, data = frame
    stride = (w * 3 + 3) & ~3
    return data[: stride * h].reshape(h, stride)[:, : w * 3].reshape(h, w, 3)


def y_plane(frame):
    fmt, w, h, data = frame
    stride = (w + 3) & ~3
    return data[: stride * h].reshape(h, stride)[:, :w]


def decode(path, fmt):
    frames, _ = run("filesrc location=%s ! decodebin ! videoconvert ! "
                    "video/x-raw,format=%s ! appsink name=out sync=false"
                    % (path, fmt))
    return frames


def composite(full, crops, rects, fmt, prepare=None):
    return run(prepare=prepare, desc=
        "compositor328 name=c rects-location=%s ! appsink name=out sync=false "
        "filesrc location=%s ! decodebin ! videoconvert ! video/x-raw,format=%s"
        " ! queue ! c.sink_full "
        "filesrc location=%s ! decodebin ! videoconvert ! video/x-raw,format=%s"
        " ! queue ! c.sink_crop" % (rects, full, fmt, crops, fmt))


def composite_loop(full, crops, rects, fmt, labels=None):
    tag = ("annotfilter location=%s ! " % labels) if labels else ""
    return run(
        "compositor328 name=c rects-location=%s ! appsink name=out sync=false "
        "filesrc location=%s ! decodebin ! videoconvert ! video/x-raw,format=%s"
        " ! %sramcache loop=2 ! queue ! c.sink_full "
        "filesrc location=%s ! decodebin ! videoconvert ! video/x-raw,format=%s"
        " ! ramcache loop=2 ! queue ! c.sink_crop"
        % (rects, full, fmt, tag, crops, fmt))


def write_labels(path, source):
    """One labeled instance on every frame, so annotfilter passes them all
    and attaches each frame's annotation meta (its frame index)."""
    with open(path, "w") as fh:
        for i in range(N):
            obj = {"source": source, "frame_index": i, "width": W,
                   "height": H,
                   "instances": [{"track": -1, "kind": "user", "score": None,
                                  "bbox": [1.0, 1.0, 4.0, 4.0],
                                  "keypoints": [[2.0, 2.0, 1, None]]}]}
            if i == 0:
                obj["skeleton"] = {"name": "s", "nodes": ["a"], "edges": []}
            fh.write(json.dumps(obj) + "\n")


def check_loop(out, msgs, fulls, cropsd, rects, what):
    """3 passes: output frame k is frame k % N with its own crop pasted."""
    if len(out) != 3 * N:
        fail("%s: %d frames out, expected %d" % (what, len(out), 3 * N))
    for k in range(3 * N):
        i = k % N
        want = rgb(fulls[i]).copy()
        x1, y1, x2, y2 = rects[str(i)]
        want[y1:y2, x1:x2] = cv2.resize(rgb(cropsd[i]), (x2 - x1, y2 - y1),
                                        interpolation=cv2.INTER_LINEAR)
        diff = np.abs(rgb(out[k]).astype(int) - want.astype(int))
        if diff.max() > 1:
            fail("%s: output frame %d (frame %d, pass %d) differs from the "
                 "paste at its rect by %d" % (what, k, i, k // N, diff.max()))
    stats = [m for m in msgs if m.get_name() == "compositor328-stats"]
    if len(stats) != 1 or stats[0].get_value("crops-pasted") != 3 * N or \
            stats[0].get_value("crops-dropped") != 0 or \
            stats[0].get_value("rects-missing") != 0:
        fail("%s: stats message: %s" % (what, [m.to_string() for m in stats]))
    print("%s: %d frames, every rect placed" % (what, 3 * N))


def yuv_to_rgb(frame, caps_colorimetry):
    """An I420 frame (default layout) as BGR by the exact formula of its
    colour matrix and range, chroma of each 2x2 block (nearest)."""
    _, w, h, data = frame
    info = GstVideo.VideoInfo()
    info.set_format(GstVideo.VideoFormat.I420, w, h)
    if caps_colorimetry:
        info.colorimetry.from_string(caps_colorimetry)
    planes = []
    for p, (pw, ph) in enumerate(((w, h), ((w + 1) // 2, (h + 1) // 2),
                                  ((w + 1) // 2, (h + 1) // 2))):
        o, st = info.offset[p], info.stride[p]
        planes.append(data[o:o + st * ph].reshape(ph, st)[:, :pw]
                      .astype(float))
    y, u, v = planes
    u = np.repeat(np.repeat(u, 2, 0), 2, 1)[:h, :w] - 128
    v = np.repeat(np.repeat(v, 2, 0), 2, 1)[:h, :w] - 128
    ok, kr, kb = GstVideo.VideoColorMatrix.get_Kr_Kb(info.colorimetry.matrix)
    if info.colorimetry.range == getattr(GstVideo.VideoColorRange, "0_255"):
        kc = 1.0
    else:
        y, kc = (y - 16) * 255 / 219, 255 / 224
    kg = 1 - kr - kb
    r = y + 2 * (1 - kr) * kc * v
    g = y - 2 * kb * (1 - kb) / kg * kc * u - 2 * kr * (1 - kr) / kg * kc * v
    b = y + 2 * (1 - kb) * kc * u
    return np.clip(np.rint(np.dstack([b, g, r])), 0, 255)


def check_to_rgb(full, crops, rects_path, composited):
    """Decoder's I420 in, BGR/RGB out (downstream asks for it): the same
    composite as the I420 run (@composited), converted by the frame's
    colour matrix. Within 1: each of the three 16-bit terms is floored to
    1/32 of a level and the coefficients are rounded to 1/8192, which moves
    a byte by at most 1 from the exact formula (computed here in floats
    from GstVideo's Kr/Kb of the caps' colorimetry)."""
    caps = run("filesrc location=%s ! decodebin ! appsink name=out "
               "sync=false" % full, caps_only=True)
    colorimetry = caps.get_structure(0).get_string("colorimetry")
    for fmt in ("BGR", "RGB"):
        out, msgs = run(
            "compositor328 name=c rects-location=%s ! video/x-raw,format=%s ! "
            "appsink name=out sync=false "
            "filesrc location=%s ! decodebin ! queue ! c.sink_full "
            "filesrc location=%s ! decodebin ! queue ! c.sink_crop"
            % (rects_path, fmt, full, crops))
        if len(out) != N or any(f[0] != fmt for f in out):
            fail("I420 -> %s: %d frames out, formats %s"
                 % (fmt, len(out), sorted(set(f[0] for f in out))))
        worst = 0
        for i in range(N):
            want = yuv_to_rgb(composited[i], colorimetry)
            got = rgb(out[i]).astype(float)
            if fmt == "RGB":
                got = got[:, :, ::-1]
            d = int(np.abs(got - want).max())
            worst = max(worst, d)
            if d > 1:
                fail("I420 -> %s frame %d differs from the colour matrix's "
                     "conversion by %d" % (fmt, i, d))
        stats = [m for m in msgs if m.get_name() == "compositor328-stats"]
        if len(stats) != 1 or stats[0].get_value("crops-pasted") != N:
            fail("I420 -> %s stats: %s" % (fmt, [m.to_string() for m in stats]))
        print("I420 in, %s out: %d frames within %d of the colour matrix "
              "(%s)" % (fmt, N, worst, colorimetry))


def check_crop_size_change(tmp):
    """Issue 21: crops whose caps change size mid-stream (appsrc, solid
    colours: 16x16 red, then 8x8 green, then 16x16 blue) are each pasted with
    their own size, never mapped with the newer caps."""
    rects = os.path.join(tmp, "square.json")
    n = 9
    with open(rects, "w") as fh:
        json.dump({str(i): [8, 8, 24, 24] for i in range(n)}, fh)
    colours = [(255, 0, 0)] * 3 + [(0, 255, 0)] * 3 + [(0, 0, 255)] * 3
    sizes = [16] * 3 + [8] * 3 + [16] * 3

    def feed(pipe):
        src = pipe.get_by_name("crops")
        for i in range(n):
            size = sizes[i]
            src.set_property("caps", Gst.Caps.from_string(
                "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1"
                % (size, size)))
            data = np.zeros((size, size, 3), np.uint8)
            data[:, :] = colours[i]
            buf = Gst.Buffer.new_wrapped(data.tobytes())
            buf.pts = i * Gst.SECOND // 30
            buf.duration = Gst.SECOND // 30
            src.emit("push-buffer", buf)
        src.emit("end-of-stream")

    out, _ = run(
        "compositor328 name=c rects-location=%s ! appsink name=out sync=false "
        "videotestsrc num-buffers=%d pattern=black ! "
        "video/x-raw,format=RGB,width=64,height=48,framerate=30/1 ! c.sink_full "
        "appsrc name=crops format=time ! c.sink_crop" % (rects, n), feed)
    if len(out) != n:
        fail("crop size change: %d frames out, want %d" % (len(out), n))
    for i in range(n):
        frame = rgb(out[i])
        patch = frame[8:24, 8:24].reshape(-1, 3)
        if not (patch == colours[i]).all():
            fail("crop size change: frame %d pasted %s, want %s everywhere"
                 % (i, patch[0].tolist(), colours[i]))
        if frame[0:8].any():
            fail("crop size change: frame %d has paint outside the rect" % i)
    os.unlink(rects)
    print("crop size changes 16 -> 8 -> 16: every crop pasted at its own size")


def check_augmented_not_pasted(tmp):
    """annotaugment copies of a crop are never pasted back (their pixels no
    longer match the rect): originals pasted, copies dropped and counted,
    one warning."""
    labels = os.path.join(tmp, "aug.jsonl")
    with open(labels, "w") as fh:
        for i in range(4):
            fh.write(json.dumps({"frame_index": i, "instances": [
                {"kind": "detection", "bbox": [10, 8, 20, 16]}]}) + "\n")
    pipe = Gst.parse_launch(
        "videotestsrc num-buffers=4 ! video/x-raw,format=RGB,width=64,"
        "height=48,framerate=30/1 ! "
        "annotfilter instances=detection location=%s ! tee name=t "
        "t. ! queue ! c.sink_full "
        "t. ! queue ! cropextract width=16 height=16 ! annotaugment copies=2 "
        "include-original=true brightness=0.2 seed=3 ! c.sink_crop "
        "compositor328 name=c ! fakesink" % labels)
    pipe.set_state(Gst.State.PLAYING)
    warnings = []
    while True:
        m = pipe.get_bus().timed_pop_filtered(
            20 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR |
            Gst.MessageType.WARNING)
        if m is None or m.type == Gst.MessageType.EOS:
            break
        if m.type == Gst.MessageType.ERROR:
            fail("augmented crops: %s" % m.parse_error()[0].message)
        warnings.append(m.parse_warning()[0].message)
    c = pipe.get_by_name("c")
    pasted, dropped = c.get_property("crops-pasted"), \
        c.get_property("crops-dropped")
    pipe.set_state(Gst.State.NULL)
    if (pasted, dropped) != (4, 8):
        fail("augmented crops: %d pasted, %d dropped; want 4 originals pasted, "
             "8 copies dropped" % (pasted, dropped))
    aug = [w for w in warnings if "augmented" in w]
    if len(aug) != 1:
        fail("augmented crops: want one warning, got %r" % warnings)
    os.unlink(labels)
    print("augmented crops: 4 originals pasted, 8 copies dropped, one warning")


def main():
    # a copy of ../shared/bench's generator: the suite runs without ../shared
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools")
    tmp = tempfile.mkdtemp(prefix="compositor328-")
    full = os.path.join(tmp, "full.mp4")
    crops = os.path.join(tmp, "crops.mp4")
    rects_path = os.path.join(tmp, "rects.json")
    subprocess.run(
        ["gst-launch-1.0", "-q", "videotestsrc", "pattern=smpte",
         "horizontal-speed=3", "num-buffers=%d" % N, "!",
         "video/x-raw,format=I420,width=%d,height=%d,framerate=30/1" % (W, H),
         "!",
         "x264enc", "speed-preset=faster", "key-int-max=15", "bframes=2", "!",
         "mp4mux", "!", "filesink", "location=" + full], check=True)
    subprocess.run([sys.executable,
                    os.path.join(bench, "make_composite_inputs.py"),
                    full, crops, rects_path], check=True,
                   stdout=subprocess.DEVNULL)
    with open(rects_path) as fh:
        rects = json.load(fh)

    # RGB: the seed's paste on the same decoded frames
    fulls, cropsd = decode(full, "RGB"), decode(crops, "RGB")
    out, msgs = composite(full, crops, rects_path, "RGB")
    if len(out) != len(fulls) or len(fulls) != N or len(cropsd) != N:
        fail("frame counts: out %d, full %d, crops %d, expected %d"
             % (len(out), len(fulls), len(cropsd), N))
    worst = 0
    for i in range(N):
        want = rgb(fulls[i]).copy()
        x1, y1, x2, y2 = rects[str(i)]
        want[y1:y2, x1:x2] = cv2.resize(rgb(cropsd[i]), (x2 - x1, y2 - y1),
                                        interpolation=cv2.INTER_LINEAR)
        diff = np.abs(rgb(out[i]).astype(int) - want.astype(int))
        worst = max(worst, int(diff.max()))
        if diff.max() > 1:
            fail("RGB frame %d differs from OpenCV by %d" % (i, diff.max()))
        outside = np.ones(want.shape[:2], bool)
        outside[y1:y2, x1:x2] = False
        if (rgb(out[i])[outside] != rgb(fulls[i])[outside]).any():
            fail("RGB frame %d changed outside its rect" % i)
    stats = [m for m in msgs if m.get_name() == "compositor328-stats"]
    if len(stats) != 1 or stats[0].get_value("crops-pasted") != N or \
            stats[0].get_value("crops-dropped") != 0:
        fail("stats message: %s" % [m.to_string() for m in stats])
    print("RGB: %d frames match OpenCV within %d" % (N, worst))

    # alpha is controllable: 0 for the first half of the frames, then 1
    gi.require_version("GstController", "1.0")
    from gi.repository import GstController

    def alpha_steps(pipe):
        c = pipe.get_by_name("c")
        cs = GstController.InterpolationControlSource()
        cs.set_property("mode", GstController.InterpolationMode.NONE)
        cs.set(0, 0.0)
        cs.set(Gst.util_uint64_scale(N // 2, Gst.SECOND, 30), 1.0)
        c.add_control_binding(
            GstController.DirectControlBinding.new_absolute(c, "alpha", cs))
        pipe._keep = cs  # the binding holds it too; keep Python's alive
    out, _ = composite(full, crops, rects_path, "RGB", prepare=alpha_steps)
    for i in range(N):
        x1, y1, x2, y2 = rects[str(i)]
        want = rgb(fulls[i]).copy()
        if i >= N // 2:
            want[y1:y2, x1:x2] = cv2.resize(rgb(cropsd[i]), (x2 - x1, y2 - y1),
                                            interpolation=cv2.INTER_LINEAR)
        d = np.abs(rgb(out[i]).astype(int) - want.astype(int)).max()
        if d > 1:
            fail("controlled alpha: frame %d is %s the %s picture (off by %d)"
                 % (i, "not", "pasted" if i >= N // 2 else "unpasted", d))
    print("controlled alpha: frames 0-%d unpasted, %d-%d pasted"
          % (N // 2 - 1, N // 2, N - 1))

    # replays from RAM keep the frames' indices
    out, msgs = composite_loop(full, crops, rects_path, "RGB")
    check_loop(out, msgs, fulls, cropsd, rects, "ramcache loop=2")
    labels = os.path.join(tmp, "labels.jsonl")
    write_labels(labels, "full")
    out, msgs = composite_loop(full, crops, rects_path, "RGB", labels)
    check_loop(out, msgs, fulls, cropsd, rects,
               "annotfilter ! ramcache loop=2")
    os.unlink(labels)

    # I420: compare the Y plane (decoders agree bit for bit on YUV)
    fulls, cropsd = decode(full, "I420"), decode(crops, "I420")
    out, _ = composite(full, crops, rects_path, "I420")
    if len(out) != N:
        fail("I420: %d frames out" % len(out))
    worst = 0
    for i in range(N):
        want = y_plane(fulls[i]).copy()
        x1, y1, x2, y2 = rects[str(i)]
        want[y1:y2, x1:x2] = cv2.resize(y_plane(cropsd[i]),
                                        (x2 - x1, y2 - y1),
                                        interpolation=cv2.INTER_LINEAR)
        diff = np.abs(y_plane(out[i]).astype(int) - want.astype(int))
        worst = max(worst, int(diff.max()))
        if diff.max() > 1:
            fail("I420 frame %d Y differs from OpenCV by %d" % (i, diff.max()))
    print("I420: %d frames' Y planes match OpenCV within %d" % (N, worst))
    check_to_rgb(full, crops, rects_path, out)
    check_crop_size_change(tmp)
    check_augmented_not_pasted(tmp)
    for f in (full, crops, rects_path):
        os.unlink(f)
    os.rmdir(tmp)
    print("OK")


if __name__ == "__main__":
    main()
