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
2. Whole video: decode full + crops, composite, discard. Ours = gst-launch
   (frames in the decoder's I420, and also converted to RGB like the seed's
   BGR frames) vs ../shared/bench/seed_composite.py, wall time and peak RSS
   (wait4), plus our peak RSS on a 3x longer video.
Medians of --runs runs. Inputs are made once and cached in bench/.cache/.

usage: compositor328_bench.py [--frames 300] [--runs 3] [--plugin-path DIR]
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
    exe = os.path.join(CACHE, "c328_paste_kernel")
    with open(exe + ".c", "w") as fh:
        fh.write(KERNEL_C)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                            "gstreamer-video-1.0"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O3", "-I", src, exe + ".c",
                    os.path.join(src, "paste.c"), "-o", exe] + flags + ["-lm"],
                   check=True)
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


def ours_pipeline(full, crops, rects, fmt):
    # the aggregator holds one frame: two-buffer queues decouple the
    # decoders without keeping 10 MB of frames each
    queue = ["queue", "max-size-buffers=2", "max-size-bytes=0",
             "max-size-time=0", "!"]
    conv = []
    if fmt:
        conv = ["videoconvert", "!", "video/x-raw,format=" + fmt, "!"]
    return (["gst-launch-1.0", "-q", "compositor328", "name=c",
             "rects-location=" + rects, "!", "fakesink", "sync=false",
             "filesrc", "location=" + full, "!", "decodebin", "!"] + conv +
            queue + ["c.sink_full",
                     "filesrc", "location=" + crops, "!", "decodebin", "!"] +
            conv + queue + ["c.sink_crop"])


def median_run(cmd, env, runs):
    res = [run_child(cmd, env) for _ in range(runs)]
    return (statistics.median(r[0] for r in res),
            statistics.median(r[2] for r in res), res[-1][3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plugin-path",
                    default=os.path.join(ROOT, "build-compositor328", "gst"))
    a = ap.parse_args()
    env = gst_env(a.plugin_path)
    full, crops, rects = make_inputs(a.frames)
    full3, crops3, rects3 = make_inputs(3 * a.frames)

    print("== per-frame paste, 328x328 RGB crop onto 1280x720 RGB "
          "(CPU ms/frame, median of %d)" % a.runs)
    ours, cv_copy, cv_nocopy = paste_cost(env, rects, 1000, a.runs)
    print("compositor328 (in place)          %.3f ms" % ours)
    print("OpenCV resize + paste + copy      %.3f ms  (seed's measure)"
          % cv_copy)
    print("OpenCV resize + paste, no copy    %.3f ms" % cv_nocopy)
    print("ratio OpenCV(copy) / ours         %.2fx" % (cv_copy / ours))
    print("ratio OpenCV(no copy) / ours      %.2fx" % (cv_nocopy / ours))

    print("== paste code alone, same rects, 8 frames cycled (CPU ms/paste, "
          "median of %d)" % a.runs)
    k_ours, k_cv = kernel_cost(rects, 3000, a.runs)
    print("compositor328 paste.c             %.3f ms" % k_ours)
    print("OpenCV resize + paste, no copy    %.3f ms" % k_cv)
    print("ratio OpenCV / ours               %.2fx" % (k_cv / k_ours))

    print("== whole video: decode both, composite, discard (%d frames "
          "1280x720, median of %d)" % (a.frames, a.runs))
    seed_wall, seed_rss, seed_out = median_run(
        ["/usr/bin/python3", os.path.join(SHARED_BENCH, "seed_composite.py"),
         full, crops, rects], None, a.runs)
    i420_wall, i420_rss, _ = median_run(
        ours_pipeline(full, crops, rects, None), env, a.runs)
    rgb_wall, rgb_rss, _ = median_run(
        ours_pipeline(full, crops, rects, "RGB"), env, a.runs)
    long_wall, long_rss, _ = median_run(
        ours_pipeline(full3, crops3, rects3, None), env, a.runs)
    print("seed_composite.py          %6.2f s  peak RSS %7.1f MiB  (%s)"
          % (seed_wall, seed_rss, seed_out.decode().strip()))
    print("compositor328, I420        %6.2f s  peak RSS %7.1f MiB"
          % (i420_wall, i420_rss))
    print("compositor328, RGB         %6.2f s  peak RSS %7.1f MiB"
          % (rgb_wall, rgb_rss))
    print("compositor328, I420, %dx3 %6.2f s  peak RSS %7.1f MiB"
          % (a.frames, long_wall, long_rss))
    print("speed-up vs seed: I420 %.2fx, RGB %.2fx"
          % (seed_wall / i420_wall, seed_wall / rgb_wall))
    print("peak RSS vs seed: I420 %.1f%%, RGB %.1f%%"
          % (100 * i420_rss / seed_rss, 100 * rgb_rss / seed_rss))
    print("peak RSS 3x video / 1x video: %.2f" % (long_rss / i420_rss))


if __name__ == "__main__":
    main()
