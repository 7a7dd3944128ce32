#!/usr/bin/python3
"""framestats against numpy on frames decoded independently.

Truth:
- the SLEAP video (1100 frames, 384x384, B-frames) decoded by ffmpeg to
  yuv420p: videoconvert's GRAY8 of the decoder's I420 is its Y plane, byte
  for byte (ffmpeg's own "gray" would expand the range);
- PNG frames written by OpenCV from seeded random arrays (8-bit gray and
  colour, 16-bit gray, odd sizes so rows are padded), read back by
  cv2.imread: PNG is lossless, so both sides see the same samples.

1. mean/std (float32) within 1e-3 of numpy (float64, two passes; for
   16-bit means above 8192, where float32's spacing exceeds 1e-3, within
   one float32 spacing), min/max exact, for GRAY8, GRAY16_LE, RGB and BGR, window=0 (shape (H, W[, 3]))
   and window=N (leading block axis, last block shorter); the get-stat
   samples equal the files; the framestats-done message counts the frames;
2. mode=sliding-mean, subtract and divide: frame i (i >= N) minus / over
   the mean of frames i-N..i-1, within 1e-3; the first N frames give no
   output; output timestamps are the input frames' own;
3. peak RSS of a child gst-launch-1.0 (VmHWM from wait4) with framestats is
   within the accumulators (18 bytes per sample, + 4 for the float32 result
   written at EOS) plus 4 frames of the same pipeline without it, and
   does not grow with the number of frames;
4. examples/blitz_analysis.py on the SLEAP video with a 16 MiB limit:
   1100 frames seen, 111 kept (113 fit: >= 90%), ROI mean equal to numpy's
   mean image over the ROI, and three PNG pictures of the stated sizes.

Skips (exit 77) under valgrind.
"""
import os
import subprocess
import sys
import tempfile

if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    sys.exit(77)

import cv2  # noqa: E402
import gi  # noqa: E402
import numpy as np  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SHARED = os.environ.get("ONEPASS_SHARED_DATA", "/work/shared/data")
VIDEO = os.path.join(SHARED, "sleap", "centered_pair_low_quality.mp4")
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples", "blitz_analysis.py")
W = H = 384
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def truth(frames):
    """mean, std (float64, two passes, in chunks), min, max over axis 0."""
    n = len(frames)
    total = np.zeros(frames.shape[1:], np.float64)
    for i in range(0, n, 100):
        total += frames[i:i + 100].sum(0, dtype=np.float64)
    mean = total / n
    sq = np.zeros_like(mean)
    for i in range(0, n, 100):
        sq += ((frames[i:i + 100] - mean) ** 2).sum(0)
    return mean, np.sqrt(sq / n), frames.min(0), frames.max(0)


def run(desc, want_samples=()):
    """Runs a pipeline to EOS; returns (framestats-done fields, samples)."""
    pipe = Gst.parse_launch(desc)
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    done = None
    while True:
        msg = bus.timed_pop_filtered(
            120 * Gst.SECOND,
            Gst.MessageType.EOS | Gst.MessageType.ERROR |
            Gst.MessageType.ELEMENT)
        assert msg is not None, "timeout: " + desc
        if msg.type == Gst.MessageType.ERROR:
            pipe.set_state(Gst.State.NULL)
            raise RuntimeError("%s: %s" % (desc, msg.parse_error()[0]))
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "framestats-done":
                done = {k: s.get_value(k) for k in
                        ("mode", "frames", "window", "blocks",
                         "output-frames", "location")}
            continue
        break
    samples = {}
    fs = pipe.get_by_name("fs")
    for stat in want_samples:
        samples[stat] = fs.emit("get-stat", stat)
    pipe.set_state(Gst.State.NULL)
    return done, samples


def sample_array(sample, dtype, shape):
    buf = sample.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    assert ok
    a = np.frombuffer(info.data, dtype).reshape(shape).copy()
    buf.unmap(info)
    return a


def compare(outdir, frames, window, what):
    """The four .npy files against numpy over the frames (blocks)."""
    n = len(frames)
    blocks = [frames] if window == 0 else \
        [frames[i:i + window] for i in range(0, n, window)]
    res = {s: np.load(os.path.join(outdir, s + ".npy"), mmap_mode="r")
           for s in ("mean", "std", "min", "max")}
    shape = frames.shape[1:] if window == 0 else \
        (len(blocks),) + frames.shape[1:]
    for s, a in res.items():
        check(a.shape == shape, "%s %s shape %s, want %s" %
              (what, s, a.shape, shape))
    check(res["mean"].dtype == np.float32 and res["std"].dtype ==
          np.float32, what + " mean/std are float32")
    check(res["min"].dtype == frames.dtype and
          res["max"].dtype == frames.dtype,
          "%s min/max dtype %s, want %s" % (what, res["min"].dtype,
                                            frames.dtype))
    if any(a.shape != shape for a in res.values()):
        return res
    for b, blk in enumerate(blocks):
        mean, std, mn, mx = truth(blk)
        pick = (lambda a: a) if window == 0 else (lambda a: a[b])
        # float32 cannot hold 16-bit means to 1e-3 (its spacing is 0.004
        # at 32768): the bound is 1e-3 or one float32 spacing of the value
        for s, t in (("mean", mean), ("std", std)):
            tol = np.maximum(1e-3, np.spacing(np.abs(t).astype(np.float32)))
            err = np.abs(pick(res[s]) - t)
            check((err <= tol).all(), "%s block %d %s max abs error %g "
                  "(beyond 1e-3 and float32 spacing)" % (what, b, s,
                                                        err.max()))
        check(np.array_equal(pick(res["min"]), mn),
              "%s block %d min differs" % (what, b))
        check(np.array_equal(pick(res["max"]), mx),
              "%s block %d max differs" % (what, b))
    print("%s: %d frames, %d block(s), ok" % (what, n, len(blocks)))
    return res


def video_y():
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-threads", "1", "-i", VIDEO, "-f",
         "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True, stdout=subprocess.PIPE).stdout
    fr = np.frombuffer(raw, np.uint8).reshape(-1, W * H * 3 // 2)
    return np.ascontiguousarray(fr[:, :W * H]).reshape(-1, H, W)


def test_video(tmp, y):
    check(len(y) == 1100, "ffmpeg decoded %d frames" % len(y))
    for window in (0, 400):
        out = os.path.join(tmp, "video%d" % window)
        done, samples = run(
            "filesrc location=%s ! decodebin ! videoconvert ! "
            "video/x-raw,format=GRAY8 ! framestats name=fs window=%d "
            "location=%s ! fakesink" % (VIDEO, window, out),
            ("mean", "min"))
        check(done is not None and done["frames"] == len(y) and
              done["blocks"] == (1 if window == 0 else 3) and
              done["location"] == out,
              "video window=%d: framestats-done %s" % (window, done))
        res = compare(out, y, window, "video GRAY8 window=%d" % window)
        # get-stat: the whole stream, or the last (300-frame) block
        last = (lambda a: a) if window == 0 else (lambda a: a[-1])
        m = samples["mean"]
        check(m is not None and
              m.get_caps().get_structure(0).get_name() ==
              "video/x-onepass-float" and
              m.get_info().get_value("frames") ==
              (1100 if window == 0 else 300),
              "video window=%d: get-stat mean sample" % window)
        if m is not None:
            check(np.array_equal(sample_array(m, np.float32, (H, W)),
                                 last(res["mean"])),
                  "video window=%d: get-stat mean equals mean.npy" % window)
        mn = samples["min"]
        if mn is not None:
            check(np.array_equal(sample_array(mn, np.uint8, (H, W)),
                                 last(res["min"])),
                  "video window=%d: get-stat min equals min.npy" % window)


def write_pngs(d, frames):
    os.makedirs(d)
    for i, f in enumerate(frames):
        assert cv2.imwrite(os.path.join(d, "%04d.png" % i), f)


def read_pngs(d, n, flags):
    return np.stack([cv2.imread(os.path.join(d, "%04d.png" % i), flags)
                     for i in range(n)])


def png_source(d):
    return ("multifilesrc location=%s/%%04d.png caps=image/png,"
            "framerate=10/1 ! pngdec ! videoconvert" % d)


def test_pngs(tmp):
    rng = np.random.default_rng(17)
    n = 23
    # slowly varying means plus noise: std and mean both matter
    base = rng.integers(0, 200, (37, 41, 3))
    col = [np.clip(base + rng.integers(0, 56, (37, 41, 3)) * (i % 5), 0,
                   255).astype(np.uint8) for i in range(n)]
    write_pngs(os.path.join(tmp, "rgb"), col)
    bgr = read_pngs(os.path.join(tmp, "rgb"), n, cv2.IMREAD_COLOR)
    check(np.array_equal(bgr, np.stack(col)), "PNG round trip (colour)")
    g16 = [(rng.integers(0, 65536, (29, 33)) // (1 + i % 3)).astype(
        np.uint16) for i in range(n)]
    write_pngs(os.path.join(tmp, "g16"), g16)
    gray16 = read_pngs(os.path.join(tmp, "g16"), n, cv2.IMREAD_UNCHANGED)
    check(gray16.dtype == np.uint16, "16-bit PNG read back as uint16")
    g8 = [rng.integers(1, 256, (23, 37)).astype(np.uint8) for i in range(n)]
    write_pngs(os.path.join(tmp, "g8"), g8)
    gray8 = read_pngs(os.path.join(tmp, "g8"), n, cv2.IMREAD_UNCHANGED)

    cases = [("g8", "GRAY8", gray8), ("g16", "GRAY16_LE", gray16),
             ("rgb", "BGR", bgr), ("rgb", "RGB", bgr[..., ::-1])]
    for src, fmt, frames in cases:
        for window in (0, 10):
            out = os.path.join(tmp, "out-%s-%d" % (fmt, window))
            done, _ = run("%s ! video/x-raw,format=%s ! framestats name=fs "
                          "window=%d location=%s ! fakesink" %
                          (png_source(os.path.join(tmp, src)), fmt, window,
                           out))
            check(done is not None and done["frames"] == n,
                  "%s: framestats-done %s" % (fmt, done))
            compare(out, np.ascontiguousarray(frames), window,
                    "%s %dx%d window=%d" % (fmt, frames.shape[2],
                                            frames.shape[1], window))
    return gray8, bgr


def pull_sliding(desc):
    pipe = Gst.parse_launch(desc)
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    out = []
    while True:
        s = sink.emit("try-pull-sample", 60 * Gst.SECOND)
        if s is None:
            break
        st = s.get_caps().get_structure(0)
        w, h = st.get_value("width"), st.get_value("height")
        fmt = st.get_value("format")
        shape = (h, w) if fmt == "GRAY32F" else (h, w, 3)
        out.append((s.get_buffer().pts, st.get_name(), fmt,
                    sample_array(s, np.float32, shape)))
    msg = pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg:
        raise RuntimeError(msg.parse_error()[0])
    return out


def test_sliding(tmp, gray8, bgr):
    n = len(gray8)
    for fmt, src, frames in (("GRAY8", "g8", gray8), ("BGR", "rgb", bgr)):
        for op, window in (("subtract", 4), ("divide", 7)):
            got = pull_sliding(
                "%s ! video/x-raw,format=%s ! framestats mode=sliding-mean "
                "window=%d normalization=%s ! appsink name=sink sync=false" %
                (png_source(os.path.join(tmp, src)), fmt, window, op))
            what = "sliding-mean %s %s window=%d" % (fmt, op, window)
            check(len(got) == n - window,
                  "%s: %d frames out, want %d" % (what, len(got),
                                                  n - window))
            want_fmt = "GRAY32F" if fmt == "GRAY8" else "BGR32F"
            err = 0.0
            for k, (pts, name, f, a) in enumerate(got):
                i = k + window
                check(name == "video/x-onepass-float" and f == want_fmt,
                      "%s: caps %s %s" % (what, name, f))
                check(pts == i * Gst.SECOND // 10,
                      "%s: output %d has pts %d, want frame %d's" %
                      (what, k, pts, i))
                prev = frames[i - window:i].astype(np.float64).mean(0)
                x = frames[i].astype(np.float64)
                want = x - prev if op == "subtract" else x / prev
                err = max(err, float(np.abs(a - want).max()))
            check(err <= 1e-3, "%s: max abs error %g" % (what, err))
            print("%s: %d frames, max abs error %.2g" % (what, len(got), err))


# A bare interpreter forks gst-launch-1.0 and reports its peak RSS from
# wait4: forking from this (large) process would count our own pages, the
# kernel keeps the pre-exec high-water mark.
RSS_HELPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss * 1024)
"""


def peak_rss(desc):
    """Peak RSS in bytes of a child gst-launch-1.0 running @desc."""
    out = subprocess.run([sys.executable, "-c", RSS_HELPER, "gst-launch-1.0",
                          "-q"] + desc.split(), check=True,
                         stdout=subprocess.PIPE, text=True,
                         timeout=300).stdout.split()
    assert out[0] == "0", desc
    return int(out[1])


def least_peak_rss(desc, runs=3):
    """The smallest of a few peak RSS readings: another test rewriting the
    shared registry at the same moment makes a run rescan plugins, which
    adds megabytes that are not framestats'."""
    return min(peak_rss(desc) for _ in range(runs))


def test_memory():
    w, h = 640, 480
    frame = w * h
    # 2 x uint64 sums + min + max per sample, and one float32 result being
    # written at EOS
    state = 22 * frame
    src = ("videotestsrc pattern=snow num-buffers=%d ! "
           "video/x-raw,format=GRAY8,width=%d,height=%d ! ")
    rss = {}
    for n in (30, 600):
        base = least_peak_rss(src % (n, w, h) + "fakesink")
        fs = least_peak_rss(src % (n, w, h) + "framestats ! fakesink")
        rss[n] = fs
        extra = fs - base
        print("memory: %d frames: %.1f MiB without, %.1f MiB with framestats"
              " (+%.1f MiB; accumulators %.1f MiB, frame %.2f MiB)" %
              (n, base / 2**20, fs / 2**20, extra / 2**20, state / 2**20,
               frame / 2**20))
        check(extra <= state + 4 * frame,
              "framestats over %d frames adds %d bytes of RSS, more than "
              "the accumulators + 4 frames (%d)" % (n, extra,
                                                    state + 4 * frame))
    check(rss[600] - rss[30] <= 2 * frame,
          "framestats RSS grows with the frames: %d bytes more for 600 "
          "than for 30" % (rss[600] - rss[30]))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24],
                                                               "big")


def test_example(tmp, y):
    out = os.path.join(tmp, "blitz")
    env = dict(os.environ, GST_PLUGIN_PATH=os.environ.get(
        "GST_PLUGIN_PATH_1_0", ""))
    p = subprocess.run([sys.executable, EXAMPLE, VIDEO, out, "--memory-mib",
                        "16"], env=env, stdout=subprocess.PIPE, text=True,
                       timeout=300)
    check(p.returncode == 0, "blitz_analysis.py exit %d" % p.returncode)
    lines = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()
             if ln.strip()}
    print(p.stdout.strip())
    f = lines.get("frames", [])
    # 16 MiB / 147456-byte frames = 113 slots; 2% margin: 111
    check(f[:2] == ["frames", "1100"] and f[6:9] == ["MiB", "kept", "111"],
          "example: frames line %s" % f)
    r = lines.get("roi", [])
    if len(r) >= 4:
        x, yy, w, h = (int(v) for v in r[1].split(","))
        want = truth(y)[0][yy:yy + h, x:x + w].mean()
        check(abs(float(r[3]) - want) <= 1e-3,
              "example: roi mean %s, numpy %.4f" % (r[3], want))
    else:
        check(False, "example: no roi line")
    for name, size in (("mean.png", (600, 500)), ("std.png", (600, 500)),
                       ("roi_curve.png", (800, 400))):
        path = os.path.join(out, name)
        got = png_size(path) if os.path.exists(path) else None
        check(got == size, "example: %s is a PNG of %s, want %s" %
              (name, got, size))


def main():
    Gst.init(None)
    if not Gst.ElementFactory.find("framestats"):
        print("framestats not found")
        return 1
    y = video_y()
    with tempfile.TemporaryDirectory() as tmp:
        test_video(tmp, y)
        test_example(tmp, y)
        gray8, bgr = test_pngs(tmp)
        test_sliding(tmp, gray8, bgr)
    test_memory()
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("all framestats checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
