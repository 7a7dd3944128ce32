#!/usr/bin/python3
"""Benchmark compositor328 against the seed's OpenCV compositing, side by side.

1. Per-frame paste cost: one 328x328 RGB crop onto a 1280x720 RGB frame at
   the seed's moving rectangles. a) In the element: CPU time of a pipeline
   that pastes minus the same pipeline whose rects file is empty (crops
   matched, not pasted), per frame (noisy: a difference of two runs).
   OpenCV = cv2.resize + slice paste (+ the frame copy the seed makes), CPU
   time per frame, in this process, one thread. b) The paste code alone
   (paste.c compiled into a small driver) against cv2.resize + paste, both
   writing into 8 frames in turn.
2. Whole video: decode full + crops, composite, discard. The seed
   (../shared/bench/seed_composite.py: preload both videos as BGR, then
   paste) and our pipelines as a user writes them, the runs interleaved
   (seed, ours, ours, ... in each round) so the machine's noise hits all
   alike: ours in the decoder's I420; ours in BGR like the seed (decoders
   -> queue -> compositor328 -> video/x-raw,format=BGR: pasted in I420,
   converted once on output); for reference the older BGR pipeline with a
   videoconvert on each input; and decode alone (the floor). Wall seconds,
   CPU seconds (user + sys) and peak RSS of each process (/usr/bin/time),
   medians, free on all cores and (the design's CPU convention) pinned to
   core 0 with taskset; then ratios seed / ours, our peak RSS on a 3x longer video, and
   the output of ours (BGR) against the seed's paste of the same frames.
Inputs are made once and cached in bench/.cache/.

usage: compositor328_bench.py [--frames 300] [--runs 3] [--plugin-path DIR]
                              [--skip-paste]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
SHARED_BENCH = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench"))


def make_inputs(n):
    full = os.path.join(CACHE, "c328_full%d.mp4" % n)
    crops = os.path.join(CACHE, "c328_crops%d.mp4" % n)
    rects = os.path.join(CACHE, "c328_rects%d.json" % n)
    if not os.path.exists(rects):
        os.makedirs(CACHE, exist_ok=True)
        print("making %d-frame inputs in %s ..." % (n, CACHE), flush=True)
        # make_video.sh's pipeline, with I420 (a camera's 4:2:0; unset, x264enc
        # picks 10-bit 4:4:4) and without h264parse (absent here; mp4mux
        # takes x264enc's avc output directly)
        subprocess.run(
            ["gst-launch-1.0", "-q", "videotestsrc", "pattern=smpte",
             "horizontal-speed=3", "num-buffers=%d" % n, "!",
             "video/x-raw,format=I420,width=1280,height=720,framerate=30/1",
             "!", "x264enc", "speed-preset=faster", "bitrate=4000",
             "key-int-max=60", "bframes=2", "!", "mp4mux", "!", "filesink",
             "location=" + full], check=True)
        subprocess.run([sys.executable,
                        os.path.join(SHARED_BENCH, "make_composite_inputs.py"),
                        full, crops, rects + ".tmp"], check=True,
                       stdout=subprocess.DEVNULL)
        os.rename(rects + ".tmp", rects)
    return full, crops, rects


def run_child(cmd, env=None):
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process.
    RSS comes from /usr/bin/time: wait4's ru_maxrss would also count this
    (large, OpenCV-loaded) Python process, which the child starts as a fork
    of."""
    fd, rss_file = tempfile.mkstemp(prefix="c328-rss-")
    os.close(fd)
    t0 = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] +
                            cmd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    with open(rss_file) as fh:
        rss = int(fh.read().split()[-1]) / 1024.0
    os.unlink(rss_file)
    if status != 0:
        sys.exit("failed (%d): %s\n%s" % (status, " ".join(cmd),
                                          out.decode(errors="replace")))
    return wall, ru.ru_utime + ru.ru_stime, rss, out


def gst_env(plugin_path):
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = plugin_path
    return env


def paste_cost(env, rects300, frames, runs):
    with open(rects300) as fh:
        base = json.load(fh)
    rects = {str(i): base[str(i % len(base))] for i in range(frames)}
    full_rects = os.path.join(CACHE, "c328_paste_rects.json")
    empty_rects = os.path.join(CACHE, "c328_empty_rects.json")
    with open(full_rects, "w") as fh:
        json.dump(rects, fh)
    with open(empty_rects, "w") as fh:
        fh.write("{}")

    def pipeline(rects_path):
        return ["gst-launch-1.0", "-q",
                "compositor328", "name=c", "rects-location=" + rects_path,
                "!", "fakesink", "sync=false",
                "videotestsrc", "pattern=black", "num-buffers=%d" % frames, "!",
                "video/x-raw,format=RGB,width=1280,height=720,framerate=30/1",
                "!", "c.sink_full",
                "videotestsrc", "pattern=snow", "num-buffers=%d" % frames, "!",
                "video/x-raw,format=RGB,width=328,height=328,framerate=30/1",
                "!", "c.sink_crop"]

    ours = []
    for _ in range(runs):
        with_paste = run_child(pipeline(full_rects), env)[1]
        without = run_child(pipeline(empty_rects), env)[1]
        ours.append((with_paste - without) * 1000 / frames)

    import cv2
    import numpy as np
    cv2.setNumThreads(1)
    rng = np.random.default_rng(0)
    frame = np.zeros((720, 1280, 3), np.uint8)
    crop = rng.integers(0, 256, (328, 328, 3), np.uint8)
    cv_copy, cv_nocopy = [], []
    for _ in range(runs):
        for with_copy, acc in ((True, cv_copy), (False, cv_nocopy)):
            t0 = time.process_time()
            for i in range(frames):
                x1, y1, x2, y2 = rects[str(i)]
                f = frame.copy() if with_copy else frame
                f[y1:y2, x1:x2] = cv2.resize(crop, (x2 - x1, y2 - y1),
                                             interpolation=cv2.INTER_LINEAR)
            acc.append((time.process_time() - t0) * 1000 / frames)
    return (statistics.median(ours), statistics.median(cv_copy),
            statistics.median(cv_nocopy))


KERNEL_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <gst/video/video.h>
#include "paste.h"
/* argv: format, frames, rects as x,y,w,h;... (one per paste, cycled) */
int
main (int argc, char **argv)
{
  GstVideoInfo fi, ci;
  GstBuffer *f[8], *c;
  GstVideoFrame ff, cf;
  gint i, n = atoi (argv[2]), nr = 0, r[4096][4];
  gchar **parts = g_strsplit (argv[3], ";", -1);
  clock_t t0;

  gst_init (NULL, NULL);
  for (nr = 0; parts[nr] && nr < 4096; nr++)
    sscanf (parts[nr], "%d,%d,%d,%d", &r[nr][0], &r[nr][1], &r[nr][2],
        &r[nr][3]);
  gst_video_info_set_format (&fi, gst_video_format_from_string (argv[1]),
      1280, 720);
  gst_video_info_set_format (&ci, gst_video_format_from_string (argv[1]),
      328, 328);
  for (i = 0; i < 8; i++) {
    f[i] = gst_buffer_new_allocate (NULL, fi.size, NULL);
    gst_buffer_memset (f[i], 0, 0, fi.size);
  }
  c = gst_buffer_new_allocate (NULL, ci.size, NULL);
  gst_buffer_memset (c, 0, 77, ci.size);
  t0 = clock ();
  for (i = 0; i < n; i++) {
    gst_video_frame_map (&ff, &fi, f[i % 8], GST_MAP_READWRITE);
    gst_video_frame_map (&cf, &ci, c, GST_MAP_READ);
    op_paste_crop (&ff, &cf, r[i % nr], 1.0);
    gst_video_frame_unmap (&cf);
    gst_video_frame_unmap (&ff);
  }
  printf ("%.4f\n", (clock () - t0) * 1000.0 / CLOCKS_PER_SEC / n);
  return 0;
}
"""


def kernel_cost(rects300, frames, runs):
    """compositor328's paste code (gst/compositor328/paste.c, built here at
    -O3 like the plugin) vs cv2.resize + paste, both cycling over 8 frames so
    neither works on a cache-hot frame."""
    src = os.path.join(ROOT, "gst", "compositor328")
    pixel = os.path.join(ROOT, "gst", "pixel")
    exe = os.path.join(CACHE, "c328_paste_kernel")
    with open(exe + ".c", "w") as fh:
        fh.write(KERNEL_C)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                            "gstreamer-video-1.0"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O3", "-I", src, "-I", pixel, exe + ".c",
                    os.path.join(src, "paste.c"),
                    os.path.join(pixel, "oppixel.c"), "-o", exe] + flags +
                   ["-lm"], check=True)
    with open(rects300) as fh:
        base = json.load(fh)
    rl = [base[str(i)] for i in range(len(base))]
    arg = ";".join("%d,%d,%d,%d" % (x1, y1, x2 - x1, y2 - y1)
                   for x1, y1, x2, y2 in rl)
    ours = [float(subprocess.run([exe, "RGB", str(frames), arg], check=True,
                                 capture_output=True, text=True).stdout)
            for _ in range(runs)]
    import cv2
    import numpy as np
    cv2.setNumThreads(1)
    fr = [np.zeros((720, 1280, 3), np.uint8) for _ in range(8)]
    crop = np.full((328, 328, 3), 77, np.uint8)
    cv = []
    for _ in range(runs):
        t0 = time.process_time()
        for i in range(frames):
            x1, y1, x2, y2 = rl[i % len(rl)]
            fr[i % 8][y1:y2, x1:x2] = cv2.resize(
                crop, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
        cv.append((time.process_time() - t0) * 1000 / frames)
    return statistics.median(ours), statistics.median(cv)


def ours_pipeline(full, crops, rects, mode):
    """mode: "I420" (the decoder's format), "BGR" (converted on output),
    "BGR-videoconvert" (a videoconvert to BGR on each input), "decode"
    (both decoders into fakesinks, no compositing)."""
    # the aggregator holds one frame: two-buffer queues decouple the
    # decoders (one per core) without keeping 10 MB of frames each
    queue = ["queue", "max-size-buffers=2", "max-size-bytes=0",
             "max-size-time=0", "!"]
    dec = ["filesrc", "location=" + full, "!", "decodebin", "!"]
    dec_crops = ["filesrc", "location=" + crops, "!", "decodebin", "!"]
    if mode == "decode":
        return (["gst-launch-1.0", "-q"] + dec + ["fakesink"] + dec_crops +
                ["fakesink"])
    conv, out = [], []
    if mode == "BGR-videoconvert":
        conv = ["videoconvert", "!", "video/x-raw,format=BGR", "!"]
    if mode == "BGR":
        out = ["video/x-raw,format=BGR", "!"]
    return (["gst-launch-1.0", "-q", "compositor328", "name=c",
             "rects-location=" + rects, "!"] + out +
            ["fakesink", "sync=false"] + dec + conv + queue + ["c.sink_full"]
            + dec_crops + conv + queue + ["c.sink_crop"])


def time_child(cmd, env):
    """Wall, CPU (user + sys) seconds and peak RSS (MiB) of one process, as
    /usr/bin/time reports them (wait4 from here would count this large,
    OpenCV-loaded process, which the child is forked from)."""
    fd, out_file = tempfile.mkstemp(prefix="c328-time-")
    os.close(fd)
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o",
                           out_file] + cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    with open(out_file) as fh:
        fields = fh.read().split()[-4:]
    os.unlink(out_file)
    if proc.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd),
                                          proc.stdout.decode(errors="replace")))
    wall, user, sys_, rss = (float(f) for f in fields)
    return wall, user + sys_, rss / 1024.0, proc.stdout


def whole_video(runs_spec, runs):
    """runs_spec: [(name, cmd, env)]; each round runs every command once.
    Returns {name: (median wall, median CPU, median RSS, last stdout)}."""
    got = {name: [] for name, _, _ in runs_spec}
    for _ in range(runs):
        for name, cmd, env in runs_spec:
            got[name].append(time_child(cmd, env))
    return {name: (statistics.median(r[0] for r in res),
                   statistics.median(r[1] for r in res),
                   statistics.median(r[2] for r in res), res[-1][3])
            for name, res in got.items()}


def pull_frames(Gst, np, desc, frames):
    """The first @frames frames of @desc's appsink "out" as arrays: BGR as
    (h, w, 3), I420 as OpenCV's (h * 3 / 2, w) layout; and the caps'
    colorimetry."""
    pipe = Gst.parse_launch(desc)
    sink = pipe.get_by_name("out")
    pipe.set_state(Gst.State.PLAYING)
    out, colorimetry = [], None
    while len(out) < frames:
        sample = sink.try_pull_sample(30 * Gst.SECOND)
        if sample is None:
            break
        st = sample.get_caps().get_structure(0)
        w, h = st.get_value("width"), st.get_value("height")
        colorimetry = st.get_string("colorimetry")
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        data = np.frombuffer(m.data, np.uint8)
        if st.get_string("format") == "BGR":
            stride = (w * 3 + 3) & ~3
            out.append(data[:stride * h].reshape(h, stride)[:, :w * 3]
                       .reshape(h, w, 3).copy())
        else:  # I420, default layout (w, h even and multiples of 8 here)
            out.append(data[:w * h * 3 // 2].reshape(h * 3 // 2, w).copy())
        buf.unmap(m)
    pipe.set_state(Gst.State.NULL)
    return out, colorimetry


def compare_outputs(plugin_path, full, crops, rects, frames):
    """Ours against the seed's own paste of its own decode, the first
    @frames frames: mean |diff| over the whole frame and inside the rects,
    and the 99.9th percentile. a) our BGR output: the same YUV converted
    differently (the seed: swscale, BT.601 whatever the stream says; ours:
    the caps' colour matrix, BT.709 for this unflagged HD stream), so the
    saturated bars differ a lot; b) our I420 output converted with OpenCV's
    BT.601 cvtColor, the seed's matrix: what is left is the paste's domain
    (I420 vs BGR) and OpenCV vs swscale rounding. A paste at a wrong place
    or frame would show as a large difference inside the rects."""
    os.environ["GST_PLUGIN_PATH"] = plugin_path
    import cv2
    import numpy as np
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    from gi.repository import Gst, GstApp  # noqa: F401
    Gst.init(None)
    desc = ("compositor328 name=c rects-location=%s ! %s appsink name=out "
            "sync=false filesrc location=%s ! decodebin ! queue ! c.sink_full "
            "filesrc location=%s ! decodebin ! queue ! c.sink_crop")
    bgr, _ = pull_frames(Gst, np, desc % (
        rects, "video/x-raw,format=BGR !", full, crops), frames)
    i420, colorimetry = pull_frames(Gst, np, desc % (rects, "", full, crops),
                                    frames)
    i420 = [cv2.cvtColor(f, cv2.COLOR_YUV2BGR_I420) for f in i420]
    with open(rects) as fh:
        rect = json.load(fh)
    cf, cc = cv2.VideoCapture(full), cv2.VideoCapture(crops)
    seed = []
    for i in range(min(len(bgr), len(i420))):
        ok1, fr = cf.read()
        ok2, cr = cc.read()
        if not (ok1 and ok2):
            break
        x1, y1, x2, y2 = rect[str(i)]
        fr[y1:y2, x1:x2] = cv2.resize(cr, (x2 - x1, y2 - y1),
                                      interpolation=cv2.INTER_LINEAR)
        seed.append((fr, (x1, y1, x2, y2)))
    rows = []
    for what, ours in (("BGR out (from %s)" % colorimetry, bgr),
                       ("I420 out + cv2 BT.601", i420)):
        whole, inside, p999 = [], [], 0
        for (fr, (x1, y1, x2, y2)), got in zip(seed, ours):
            d = np.abs(got.astype(int) - fr.astype(int))
            whole.append(d.mean())
            inside.append(d[y1:y2, x1:x2].mean())
            p999 = max(p999, int(np.percentile(d, 99.9)))
        rows.append((what, statistics.mean(whole), statistics.mean(inside),
                     p999))
    return len(seed), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plugin-path",
                    default=os.path.join(ROOT, "build", "gst"))
    ap.add_argument("--skip-paste", action="store_true",
                    help="only the whole-video part")
    a = ap.parse_args()
    env = gst_env(a.plugin_path)
    full, crops, rects = make_inputs(a.frames)
    full3, crops3, rects3 = make_inputs(3 * a.frames)

    if not a.skip_paste:
        print("== per-frame paste, 328x328 RGB crop onto 1280x720 RGB "
              "(CPU ms/frame, median of %d)" % a.runs)
        ours, cv_copy, cv_nocopy = paste_cost(env, rects, 1000, a.runs)
        print("compositor328 (in place)          %.3f ms" % ours)
        print("OpenCV resize + paste + copy      %.3f ms  (seed's measure)"
              % cv_copy)
        print("OpenCV resize + paste, no copy    %.3f ms" % cv_nocopy)
        print("ratio OpenCV(copy) / ours         %.2fx" % (cv_copy / ours))
        print("ratio OpenCV(no copy) / ours      %.2fx" % (cv_nocopy / ours))

        print("== paste code alone, same rects, 8 frames cycled (CPU "
              "ms/paste, median of %d)" % a.runs)
        k_ours, k_cv = kernel_cost(rects, 3000, a.runs)
        print("compositor328 paste.c             %.3f ms" % k_ours)
        print("OpenCV resize + paste, no copy    %.3f ms" % k_cv)
        print("ratio OpenCV / ours               %.2fx" % (k_cv / k_ours))

    seed = ["/usr/bin/python3", os.path.join(SHARED_BENCH, "seed_composite.py")]
    spec = [("seed", seed + [full, crops, rects], None)]
    for mode in ("I420", "BGR", "BGR-videoconvert", "decode"):
        spec.append((mode, ours_pipeline(full, crops, rects, mode), env))
    for mode in ("I420", "BGR"):
        spec.append((mode + " 3x", ours_pipeline(full3, crops3, rects3, mode),
                     env))
    # the design's CPU convention: everything on one pinned core, so neither
    # side gains from more threads on a busy machine
    pin = ["taskset", "-c", "0"]
    spec.append(("seed pinned", pin + spec[0][1], None))
    for mode in ("I420", "BGR"):
        spec.append((mode + " pinned", pin + ours_pipeline(full, crops, rects,
                                                           mode), env))
    load = os.getloadavg()[0]
    res = whole_video(spec, a.runs)
    print("== whole video: decode both, composite, discard (%d frames "
          "1280x720 + 328x328 crops; medians of %d interleaved rounds; load "
          "average %.1f at start, %d cores)" % (a.frames, a.runs, load,
                                                os.cpu_count()))
    names = {"seed": "seed_composite.py (BGR)",
             "I420": "compositor328, I420",
             "BGR": "compositor328, BGR (converted on output)",
             "BGR-videoconvert": "compositor328, BGR (videoconvert on inputs)",
             "decode": "decode both only (no compositing)",
             "I420 3x": "compositor328, I420, %d frames" % (3 * a.frames),
             "BGR 3x": "compositor328, BGR, %d frames" % (3 * a.frames),
             "seed pinned": "seed_composite.py, pinned to CPU 0",
             "I420 pinned": "compositor328, I420, pinned to CPU 0",
             "BGR pinned": "compositor328, BGR, pinned to CPU 0"}
    print("%-46s %7s %7s %9s" % ("run", "wall s", "CPU s", "peak MiB"))
    for name, _, _ in spec:
        wall, cpu, rss, _ = res[name]
        print("%-46s %7.2f %7.2f %9.1f" % (names[name], wall, cpu, rss))
    print("seed: %s" % res["seed"][3].decode().strip())
    sw, sc, sr, _ = res["seed"]
    for mode in ("I420", "BGR", "BGR-videoconvert"):
        w, c, r, _ = res[mode]
        line = ("%-18s seed/ours wall %.2fx, CPU %.2fx; peak RSS %.1f%% of "
                "the seed's" % (mode, sw / w, sc / c, 100 * r / sr))
        if mode + " 3x" in res:
            line += "; 3x video / 1x video RSS %.2f" % (
                res[mode + " 3x"][2] / r)
        print(line)
    pw, pc = res["seed pinned"][0], res["seed pinned"][1]
    for mode in ("I420", "BGR"):
        w, c = res[mode + " pinned"][0], res[mode + " pinned"][1]
        print("%-18s pinned to one core: seed/ours wall %.2fx, CPU %.2fx"
              % (mode, pw / w, pc / c))
    for mode in ("I420", "BGR"):
        w, c, r, _ = res[mode]
        print("target (>= 2x, RSS <= 10%%, 3x video <= 1.1x RSS) %s: wall "
              "%s, CPU %s, RSS %s, flat %s" % (
                  mode, "met" if sw / w >= 2 else "NOT met",
                  "met" if sc / c >= 2 else "NOT met",
                  "met" if r <= 0.1 * sr else "NOT met",
                  "met" if res[mode + " 3x"][2] <= 1.1 * r else "NOT met"))
    # the wall-time lines bench/run.sh reads (rows 5 and 5b)
    print("== summary (wall seconds, peak RSS)")
    for label, name in (("seed_composite.py", "seed"),
                        ("compositor328, I420", "I420"),
                        ("compositor328, BGR", "BGR"),
                        ("compositor328, I420, %dx3" % a.frames, "I420 3x"),
                        ("compositor328, BGR, %dx3" % a.frames, "BGR 3x")):
        print("%-28s %6.2f s  peak RSS %7.1f MiB" % (label, res[name][0],
                                                     res[name][2]))
    dw, dc = res["decode"][0], res["decode"][1]
    print("decode alone is %.0f%% (I420) and %.0f%% (BGR) of our CPU time"
          % (100 * dc / res["I420"][1], 100 * dc / res["BGR"][1]))
    n, rows = compare_outputs(a.plugin_path, full, crops, rects, 30)
    print("== output against the seed's (its own decode and paste), first "
          "%d frames" % n)
    print("%-34s %12s %12s %8s" % ("ours", "|diff| frame", "|diff| rect",
                                    "p99.9"))
    for what, whole_d, inside_d, p999 in rows:
        print("%-34s %12.2f %12.2f %8d" % (what, whole_d, inside_d, p999))


if __name__ == "__main__":
    main()
