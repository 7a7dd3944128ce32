#!/usr/bin/python3
"""ramcache against independent truth.

Truth: ffmpeg decodes centered_pair_low_quality.mp4 (1100 frames, 384x384,
B-frames) to raw yuv420p; avdec_h264 and ffmpeg share libavcodec, so every
frame must match byte for byte.

1. the PyGObject example (examples/ramcache_random_access.py) prints the md5
   of frames fetched with get-frame: they match ffmpeg's frames;
2. in-process pipeline ... ! ramcache ! appsink: the first pass matches
   ffmpeg frame by frame; DEFAULT and TIME seeks are served from RAM
   (hits rise, a probe on ramcache's sink pad sees no seek go upstream) and
   give the exact frames; a seek past the cache goes upstream; a seek back
   while upstream still decodes replays from RAM and hands over to the live
   decoder without a missing or repeated frame;
3. peak RSS (the kernel's VmHWM of a child gst-launch-1.0, from wait4) with
   all 1100 frames cached is at most 1.05 x N x frame size + 64 MiB and at
   least N x frame size (the cache really holds them); with max-bytes set
   to 100 frames it stays within the bound for 100 frames, for the window
   and spill policies.
4. labels ride along: annotfilter ! ramcache loop=1 ! batchsink format=jsonl
   writes every labeled frame twice, the replay's line (frame_index, pts,
   keypoints) identical to the first pass's and to annotfilter ! batchsink
   without ramcache (replays keep the frames' annotation metas).
5. export-location: the .npy opens with numpy.load(mmap_mode="r") as a
   memmap over the file (no copy) and equals ffmpeg's frames: GRAY8 as
   (1100, 384, 384) uint8, I420 as (1100, 221184) raw frames; with
   policy=spill the spill file itself becomes the .npy (from-spill=true,
   spill-dir unused, a 4096-byte header page + the frames; the GstCheck
   test checks the inode); FILE.index.npy lists the frame indices;
6. policy=subsample with a known budget (108 GRAY8 frames) over the 1100
   frames whose duration decodebin reports: step 1100/106 chosen up front,
   106 frames cached (>= 90% of 108; the old doubling kept 69), exactly the
   frames ceil(j * 1100 / 106), equal to ffmpeg's.

Skips (exit 77) under valgrind: these checks are not memcheck targets.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    sys.exit(77)

import gi  # noqa: E402
import numpy as np  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SHARED = os.environ.get("ONEPASS_SHARED_DATA", "/work/shared/data")
VIDEO = os.path.join(SHARED, "sleap", "centered_pair_low_quality.mp4")
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples",
                       "ramcache_random_access.py")
W = H = 384
FRAME = W * H * 3 // 2
N = 1100
MIB = 1024 * 1024
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def ffmpeg_md5s():
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-threads", "1", "-i", VIDEO, "-f",
         "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True, stdout=subprocess.PIPE).stdout
    assert len(raw) % FRAME == 0
    return [hashlib.md5(raw[i:i + FRAME]).hexdigest()
            for i in range(0, len(raw), FRAME)]


def test_example(truth):
    idx = [0, 10, 5, 1099, 543, 1100]
    out = subprocess.run(
        [sys.executable, EXAMPLE, VIDEO] + [str(i) for i in idx],
        check=True, stdout=subprocess.PIPE, text=True, timeout=300).stdout
    lines = out.strip().splitlines()
    seen = {}
    for ln in lines:
        f = ln.split()
        if len(f) == 8 and f[0] == "frame" and f[4] == "size":
            seen[int(f[1])] = (int(f[5]), f[7])
    for i in idx[:-1]:
        check(i in seen and seen[i] == (FRAME, truth[i]),
              "example frame %d: %s != %s" % (i, seen.get(i), truth[i]))
    check("frame 1100 not cached" in lines, "example: frame 1100 cached?")
    check(lines[-1] == "cached-frames %d cached-bytes %d hits 5 misses 1"
          % (N, N * FRAME), "example stats: " + lines[-1])


def md5_of(sample):
    buf = sample.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    d = hashlib.md5(bytes(info.data)).hexdigest()
    buf.unmap(info)
    return d


def test_pipeline(truth):
    p = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! videoconvert ! "
        "video/x-raw,format=I420 ! ramcache name=cache ! "
        "appsink name=out sync=false" % VIDEO)
    cache = p.get_by_name("cache")
    sink = p.get_by_name("out")
    upstream_seeks = []

    def probe(pad, info):
        ev = info.get_event()
        if ev.type == Gst.EventType.SEEK:
            upstream_seeks.append(ev.parse_seek())
        return Gst.PadProbeReturn.OK

    cache.get_static_pad("sink").add_probe(
        Gst.PadProbeType.EVENT_UPSTREAM, probe)
    p.set_state(Gst.State.PLAYING)

    # pass 1: everything forwarded, bit exact, in order
    got = []
    while True:
        s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if s is None:
            break
        got.append(md5_of(s))
    check(sink.get_property("eos"), "appsink did not reach EOS")
    check(got == truth, "first pass differs from ffmpeg (%d frames)"
          % len(got))
    check(cache.get_property("cached-frames") == N, "cached-frames")

    # DEFAULT seek into the cache: frames 500.. exact, offsets = index
    ok = p.seek(1.0, Gst.Format.DEFAULT,
                Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE,
                Gst.SeekType.SET, 500, Gst.SeekType.NONE, -1)
    check(ok, "DEFAULT seek refused")
    for k in range(20):
        s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        check(s is not None and md5_of(s) == truth[500 + k]
              and s.get_buffer().offset == 500 + k,
              "DEFAULT seek: frame %d" % (500 + k))

    # appsink 1.22 reuses its last sample on a caps event after a flush and
    # warns if the application still holds it: drop ours before seeking
    s = None
    # TIME seek half way into frame 1000 (first pts is 2 frames in at 15 fps)
    first_pts = cache.emit("get-frame", 0).get_buffer().pts
    t = first_pts + 1000 * Gst.SECOND // 15 + Gst.SECOND // 30
    ok = p.seek(1.0, Gst.Format.TIME,
                Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE,
                Gst.SeekType.SET, t, Gst.SeekType.NONE, -1)
    check(ok, "TIME seek refused")
    rest = []
    while True:
        s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if s is None:
            break
        rest.append(md5_of(s))
    check(rest == truth[1000:], "TIME seek: frames 1000..1099 (%d got)"
          % len(rest))
    check(sink.get_property("eos"), "no EOS after the replay")
    # 2 seeks + the get-frame that read first_pts
    check(cache.get_property("hits") == 3,
          "hits %d" % cache.get_property("hits"))
    check(upstream_seeks == [], "upstream saw %r" % upstream_seeks)

    # random access with get-frame, any order
    for i in (1099, 0, 733, 1, 321):
        s = cache.emit("get-frame", i)
        check(s is not None and md5_of(s) == truth[i], "get-frame %d" % i)
    check(cache.emit("get-frame", N) is None, "get-frame past the end")
    p.set_state(Gst.State.NULL)


def test_seek_midstream(truth):
    """Seek back while upstream still decodes: frames 100.. come from RAM
    up to the newest cached frame, then live from the decoder, seamlessly."""
    p = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! videoconvert ! "
        "video/x-raw,format=I420 ! ramcache name=cache ! "
        "appsink name=out sync=false max-buffers=4" % VIDEO)
    cache = p.get_by_name("cache")
    sink = p.get_by_name("out")
    p.set_state(Gst.State.PLAYING)
    for i in range(600):
        s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        check(s is not None and md5_of(s) == truth[i], "live frame %d" % i)
    s = None
    ok = p.seek(1.0, Gst.Format.DEFAULT, Gst.SeekFlags.FLUSH,
                Gst.SeekType.SET, 100, Gst.SeekType.NONE, -1)
    check(ok, "mid-stream seek refused")
    got = []
    while True:
        s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if s is None:
            break
        got.append(md5_of(s))
    check(got == truth[100:], "mid-stream seek: %d frames, first mismatch %s"
          % (len(got), next((100 + k for k, (x, y) in
                             enumerate(zip(got, truth[100:])) if x != y),
                            None)))
    check(cache.get_property("hits") == 1, "mid-stream hits")
    p.set_state(Gst.State.NULL)


def test_seek_upstream():
    """A window of 100 frames: a seek before it goes upstream."""
    p = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! videoconvert ! "
        "video/x-raw,format=I420 ! ramcache name=cache max-frames=100 ! "
        "appsink name=out sync=false" % VIDEO)
    cache = p.get_by_name("cache")
    sink = p.get_by_name("out")
    seen = []
    cache.get_static_pad("sink").add_probe(
        Gst.PadProbeType.EVENT_UPSTREAM,
        lambda pad, info: (seen.append(info.get_event().type)
                           if info.get_event().type == Gst.EventType.SEEK
                           else None) or Gst.PadProbeReturn.OK)
    p.set_state(Gst.State.PLAYING)
    n = 0
    while sink.emit("try-pull-sample", 30 * Gst.SECOND) is not None:
        n += 1
    check(n == N and cache.get_property("cached-frames") == 100
          and cache.get_property("evicted") == N - 100, "window of 100")
    p.seek(1.0, Gst.Format.DEFAULT, Gst.SeekFlags.FLUSH,
           Gst.SeekType.SET, 20, Gst.SeekType.NONE, -1)
    s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
    check(s is not None, "no frame after an upstream seek")
    check(len(seen) == 1, "upstream seeks: %d" % len(seen))
    check(cache.get_property("misses") == 1, "misses")
    p.set_state(Gst.State.NULL)


# Linux carries the high-water RSS across fork + exec, so a child forked
# from this (large) process would report our peak. A small fresh python
# forks gst-launch-1.0 and reports its kernel peak RSS (VmHWM) from wait4.
RSS_HELPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss * 1024)
"""


def peak_rss(props):
    """Peak RSS (bytes) of a gst-launch child decoding into ramcache."""
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + VIDEO, "!",
           "decodebin", "!", "videoconvert", "!", "video/x-raw,format=I420",
           "!", "ramcache"] + props + ["!", "fakesink"]
    out = subprocess.run([sys.executable, "-c", RSS_HELPER] + cmd,
                         check=True, stdout=subprocess.PIPE, text=True,
                         timeout=300).stdout.split()
    check(out[0] == "0", "gst-launch failed: " + " ".join(cmd))
    return int(out[1])


def test_rss():
    spill = tempfile.mkdtemp(prefix="ramcache-test-")
    full = peak_rss([])
    bound = 1.05 * N * FRAME + 64 * MIB
    print("all %d frames: peak RSS %.1f MiB, frames %.1f MiB, bound %.1f MiB"
          % (N, full / MIB, N * FRAME / MIB, bound / MIB))
    check(full <= bound, "peak RSS over the bound")
    check(full >= N * FRAME, "peak RSS below the cached bytes?")
    for props in (["max-bytes=%d" % (100 * FRAME)],
                  ["max-bytes=%d" % (100 * FRAME), "policy=spill",
                   "spill-dir=" + spill]):
        rss = peak_rss(props)
        bound = 1.05 * 100 * FRAME + 64 * MIB
        print("%s: peak RSS %.1f MiB, bound %.1f MiB"
              % (" ".join(props), rss / MIB, bound / MIB))
        check(rss <= bound, "peak RSS over the bound with " + props[-1])
    check(os.listdir(spill) == [], "spill file left behind")
    os.rmdir(spill)


def test_loop_keeps_labels():
    import json
    import shutil
    slp = os.path.join(SHARED, "sleap", "centered_pair_predictions.slp")
    tmp = tempfile.mkdtemp(prefix="ramcache-labels-")
    outs = {}
    for name, cache in (("plain", ""), ("loop", "ramcache loop=1 ! ")):
        out = os.path.join(tmp, name + ".jsonl")
        subprocess.run(
            ["gst-launch-1.0", "-q", "filesrc", "location=" + VIDEO, "!",
             "decodebin", "!", "annotfilter", "location=" + slp,
             "instances=predicted", "!"] + cache.split() +
            ["batchsink", "format=jsonl", "location=" + out], check=True)
        with open(out) as fh:
            outs[name] = [json.loads(line) for line in fh]
    shutil.rmtree(tmp)  # the jsonl files and batchsink's manifests
    plain, loop = outs["plain"], outs["loop"]
    n = len(plain)
    check(n > 1000, "annotfilter passed %d labeled frames" % n)
    check(len(loop) == 2 * n, "loop=1 wrote %d lines, expected %d"
          % (len(loop), 2 * n))
    key = lambda o: json.dumps(o, sort_keys=True)  # noqa: E731
    bad = [i for i in range(min(n, len(loop))) if key(loop[i]) != key(plain[i])]
    check(not bad, "first pass differs from annotfilter at %s" % bad[:3])
    bad = [i for i in range(n, len(loop)) if key(loop[i]) != key(plain[i - n])]
    check(not bad, "replay lines differ from the frames they replay, e.g. "
          "%s" % [loop[i].get("frame_index") for i in bad[:3]])
    print("loop keeps labels: %d frames, replay lines identical" % n)


def run_messages(desc):
    """Runs @desc to EOS; returns its element messages {name: fields}."""
    pipe = Gst.parse_launch(desc)
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    got = {}
    while True:
        msg = bus.timed_pop(120 * Gst.SECOND)
        assert msg is not None, "timeout: " + desc
        if msg.type == Gst.MessageType.ERROR:
            pipe.set_state(Gst.State.NULL)
            raise RuntimeError("%s: %s" % (desc, msg.parse_error()[0]))
        if msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ELEMENT:
            st = msg.get_structure()
            got[st.get_name()] = {st.nth_field_name(i):
                                  st.get_value(st.nth_field_name(i))
                                  for i in range(st.n_fields())}
    pipe.set_state(Gst.State.NULL)
    return got


def decoded(fmt):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-threads", "1", "-i", VIDEO, "-f",
         "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True, stdout=subprocess.PIPE).stdout
    fr = np.frombuffer(raw, np.uint8).reshape(-1, FRAME)
    if fmt == "I420":
        return fr
    # videoconvert's GRAY8 of I420 is the Y plane
    return np.ascontiguousarray(fr[:, :W * H]).reshape(-1, H, W)


def check_memmap(path, want, what):
    a = np.load(path, mmap_mode="r")
    check(isinstance(a, np.memmap) and not a.flags.owndata and
          a.filename == os.path.abspath(path),
          "%s: numpy.load(mmap_mode='r') gives a memmap over the file" % what)
    check(a.shape == want.shape and a.dtype == want.dtype,
          "%s: shape %s %s, want %s %s" % (what, a.shape, a.dtype,
                                           want.shape, want.dtype))
    if a.shape == want.shape:
        bad = [i for i in range(len(a)) if not np.array_equal(a[i], want[i])]
        check(not bad, "%s: %d frames differ from ffmpeg's, first %s" %
              (what, len(bad), bad[:3]))
    del a


def test_export():
    src = ("filesrc location=%s ! decodebin ! videoconvert ! "
           "video/x-raw,format=%%s ! " % VIDEO)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("GRAY8", "I420"):
            want = decoded(fmt)
            npy = os.path.join(tmp, "frames-%s.npy" % fmt)
            got = run_messages(src % fmt + "ramcache export-location=%s ! "
                               "fakesink" % npy)
            ex = got.get("ramcache-exported", {})
            check(ex.get("frames") == N and ex.get("from-spill") is False,
                  "export %s: ramcache-exported %s" % (fmt, ex))
            check_memmap(npy, want, "export %s" % fmt)
            idx = np.load(ex.get("index-location", npy + ".missing"))
            check(np.array_equal(idx, np.arange(N)),
                  "export %s: index file 0..1099" % fmt)
            os.unlink(npy)

        # spill: 100 frames in RAM, the rest in the file that becomes the .npy
        want = decoded("GRAY8")
        npy = os.path.join(tmp, "spilled.npy")
        spill_dir = os.path.join(tmp, "spill")
        os.mkdir(spill_dir)
        desc = (src % "GRAY8" + "ramcache policy=spill spill-dir=%s "
                "max-bytes=%d export-location=%s ! fakesink" %
                (spill_dir, 100 * W * H, npy))
        got = run_messages(desc)
        ex = got.get("ramcache-exported", {})
        check(ex.get("frames") == N and ex.get("from-spill") is True,
              "spill export: ramcache-exported %s" % ex)
        check(not os.listdir(spill_dir), "spill export: spill-dir unused")
        check(os.path.getsize(npy) == 4096 + N * W * H,
              "spill export: %d bytes, want the header page + frames" %
              os.path.getsize(npy))
        check_memmap(npy, want, "spill export")
        return want


def test_subsample_budget(y):
    budget = 108
    with tempfile.TemporaryDirectory() as tmp:
        npy = os.path.join(tmp, "sub.npy")
        got = run_messages(
            "filesrc location=%s ! decodebin ! videoconvert ! "
            "video/x-raw,format=GRAY8 ! ramcache policy=subsample "
            "max-bytes=%d export-location=%s ! fakesink" %
            (VIDEO, budget * W * H, npy))
        plan = got.get("ramcache-plan", {})
        check(plan.get("duration-frames") == N and
              plan.get("capacity") == budget and
              plan.get("step-num") == N and plan.get("step-den") == 106,
              "subsample: ramcache-plan %s" % plan)
        check("ramcache-full" not in got, "subsample: the cache never filled")
        ex = got.get("ramcache-exported", {})
        kept = ex.get("frames", 0)
        check(kept >= 0.9 * budget, "subsample: %d frames kept of %d that "
              "fit (< 90%%)" % (kept, budget))
        want_idx = [-(-j * N // 106) for j in range(106)]
        idx = np.load(ex["index-location"]) if ex else np.array([])
        check(list(idx) == want_idx,
              "subsample: indices %s..., want ceil(j * 1100 / 106)" %
              list(idx[:5]))
        if list(idx) == want_idx:
            check_memmap(npy, y[idx], "subsample export")
        print("subsample: %d of %d frames kept, step %d/%d" %
              (kept, budget, plan.get("step-num", 0),
               plan.get("step-den", 0)))


def main():
    Gst.init(None)
    truth = ffmpeg_md5s()
    check(len(truth) == N, "ffmpeg decoded %d frames" % len(truth))
    test_example(truth)
    test_pipeline(truth)
    test_seek_midstream(truth)
    test_seek_upstream()
    test_rss()
    test_loop_keeps_labels()
    y = test_export()
    test_subsample_budget(y)
    if FAILURES:
        print("%d failures" % len(FAILURES))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
