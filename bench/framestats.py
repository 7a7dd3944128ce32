#!/usr/bin/python3
"""Benchmark: per-pixel mean/std/min/max over a video, framestats vs numpy.

Side by side in one run, on the same video (default: the SLEAP sample,
1100 frames 384x384, as 8-bit gray), medians of --runs runs:

  decode only   gst-launch-1.0 filesrc ! decodebin ! videoconvert !
                video/x-raw,format=GRAY8 ! fakesink
  framestats    the same with framestats location=DIR before fakesink
                (mean, std, min, max written as .npy)
  seed          the seed's way, in one Python process: cv2.VideoCapture,
                cv2.cvtColor to gray, a list of frames, np.stack, then
                np.mean/np.std/np.min/np.max over axis 0 (load and
                reductions timed separately)

For each: wall seconds and peak RSS (kernel VmHWM via wait4, from a small
fresh parent so fork does not inherit our RSS). Ratios: end to end (seed
load + reduce vs framestats), reductions alone (seed's numpy time vs
framestats' time over decode only), and framestats' memory over decode
only in frames. Target (design): >= 3x faster, peak memory <= 3 frames +
decoder.

usage: bench/framestats.py [--video V] [--runs 3] [--build BUILD_DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MIB = 1024 * 1024

RSS_HELPER = """
import os, sys, time
t = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss * 1024,
      time.monotonic() - t)
"""

SEED = """
import sys, time
import cv2
import numpy as np
cv2.setNumThreads(1)
t0 = time.monotonic()
cap = cv2.VideoCapture(sys.argv[1])
frames = []
while True:
    ok, fr = cap.read()
    if not ok:
        break
    frames.append(cv2.cvtColor(fr, cv2.COLOR_BGR2GRAY))
arr = np.stack(frames)
del frames
t1 = time.monotonic()
mean = arr.mean(axis=0)
std = arr.std(axis=0)
mn = arr.min(axis=0)
mx = arr.max(axis=0)
t2 = time.monotonic()
print("seed frames %d load %.3f reduce %.3f" % (len(arr), t1 - t0, t2 - t1))
"""


def measured(cmd):
    """(exit code, peak RSS bytes, wall seconds, stdout) of @cmd."""
    p = subprocess.run([sys.executable, "-c", RSS_HELPER] + cmd,
                       stdout=subprocess.PIPE, text=True)
    lines = p.stdout.strip().splitlines()
    rc, rss, secs = lines[-1].split()
    return int(rc), int(rss), float(secs), "\n".join(lines[:-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default=os.path.join(
        ROOT, "data", "sample", "centered_pair_low_quality.mp4"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()

    env_path = os.path.join(a.build, "gst")
    os.environ.setdefault("GST_PLUGIN_PATH", env_path)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                            "-count_frames", "-show_entries",
                            "stream=width,height,nb_read_frames", "-of",
                            "csv=p=0", a.video], check=True,
                           stdout=subprocess.PIPE, text=True).stdout
    w, h, n = (int(v) for v in probe.strip().split(","))
    frame = w * h
    src = ["gst-launch-1.0", "-q", "filesrc", "location=" + a.video, "!",
           "decodebin", "!", "videoconvert", "!", "video/x-raw,format=GRAY8",
           "!"]
    res = {"decode": [], "framestats": [], "seed": []}
    seed_split = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.runs):
            for name, cmd in (
                    ("decode", src + ["fakesink"]),
                    ("framestats", src + ["framestats", "location=" +
                                          os.path.join(tmp, "stats"), "!",
                                          "fakesink"]),
                    ("seed", ["/usr/bin/python3", "-c", SEED, a.video])):
                rc, rss, secs, out = measured(cmd)
                if rc != 0:
                    sys.exit("failed: " + " ".join(cmd))
                res[name].append((rss, secs))
                if name == "seed":
                    f = out.split()
                    seed_split.append((float(f[4]), float(f[6])))

    def med(name, k):
        return statistics.median(r[k] for r in res[name])

    print("video %s: %d frames %dx%d, GRAY8 frame %d bytes, N x frame %.1f "
          "MiB, median of %d runs" % (a.video, n, w, h, frame,
                                      n * frame / MIB, a.runs))
    print("%-22s %10s %10s" % ("run", "peak MiB", "seconds"))
    for name in ("decode", "framestats", "seed"):
        print("%-22s %10.1f %10.2f" % (name, med(name, 0) / MIB,
                                       med(name, 1)))
    load = statistics.median(s[0] for s in seed_split)
    reduce_s = statistics.median(s[1] for s in seed_split)
    ours = med("framestats", 1)
    ours_over = ours - med("decode", 1)
    extra = med("framestats", 0) - med("decode", 0)
    print("seed split: load (decode + stack) %.2f s, numpy reductions %.2f s"
          % (load, reduce_s))
    print("end to end: seed %.2f s / framestats %.2f s = %.2fx faster" %
          (med("seed", 1), ours, med("seed", 1) / ours))
    print("reductions alone: numpy %.2f s / framestats over decode %.2f s = "
          "%s" % (reduce_s, ours_over, "%.1fx faster" % (reduce_s / ours_over)
                  if ours_over > 0.005 else "not measurable (< 5 ms)"))
    print("memory: framestats over decode only %.1f MiB = %.1f GRAY8 frames "
          "(accumulators: 18 bytes per sample + 4 at EOS); seed peak %.1f MiB "
          "= %.1fx framestats" % (extra / MIB, extra / frame,
                                  med("seed", 0) / MIB,
                                  med("seed", 0) / med("framestats", 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
