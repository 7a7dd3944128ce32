#!/usr/bin/python3
"""Benchmark: peak RSS of caching N decoded frames, ramcache vs the seeds.

Side by side in one run, on the same video (make_video.sh, 1280x720, 300
frames by default), medians of --runs runs:

  ramcache     gst-launch-1.0 ... ! videoconvert ! video/x-raw,format=BGR !
               ramcache ! fakesink        (all frames cached, BGR like cv2)
  ramcache+3   the same with loop=3: 4 passes, decoded once
  decode       the same pipeline without ramcache (what decoding alone costs)
  seed stack   ../shared/bench/seed_stack.py --mode stack (list + np.stack)
  seed prealloc                           --mode prealloc

For each: peak RSS (kernel VmHWM via wait4, from a small fresh parent so
fork does not inherit our RSS), peak / (N x frame bytes), wall seconds.
Target: ramcache peak <= 1.05 x N x frame + 64 MiB. The decoder's own
working set (about 130 MiB for 720p H.264 with avdec_h264's threads) is
printed as "decode only"; the script reports both the total peak and the
peak over decoding alone against the target.

usage: bench/ramcache_rss.py [--video V] [--frames 300] [--runs 3]
Needs GST_PLUGIN_PATH to include the build tree's gst/ folder (set by
default to build-ramcache/gst next to this script's repository).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")
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


def run_measured(cmd, capture=False):
    """(peak_rss_bytes, seconds, stdout of the child if capture)."""
    if capture:
        t = time.monotonic()
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                             text=True).stdout
        return None, time.monotonic() - t, out
    out = subprocess.run([sys.executable, "-c", RSS_HELPER] + cmd,
                         check=True, stdout=subprocess.PIPE,
                         text=True).stdout.split()
    if out[0] != "0":
        sys.exit("failed: " + " ".join(cmd))
    return int(out[1]), float(out[2]), None


def gst_cmd(video, cache_props):
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + video, "!",
           "decodebin", "!", "videoconvert", "!", "video/x-raw,format=BGR"]
    if cache_props is not None:
        cmd += ["!", "ramcache"] + cache_props
    return cmd + ["!", "fakesink"]


def make_video(out, n):
    """make_video.sh's recipe; without h264parse when plugins-bad is
    missing (mp4mux takes x264enc's avc output directly)."""
    script = os.path.join(SHARED_BENCH, "make_video.sh")
    if subprocess.run(["sh", script, out, str(n)]).returncode == 0:
        return
    subprocess.run(
        ["gst-launch-1.0", "-q", "videotestsrc", "pattern=smpte",
         "horizontal-speed=3", "num-buffers=%d" % n, "!",
         "video/x-raw,width=1280,height=720,framerate=30/1", "!", "x264enc",
         "speed-preset=faster", "bitrate=4000", "key-int-max=60", "bframes=2",
         "!", "mp4mux", "!", "filesink", "location=" + out], check=True)


def probe(video):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=width,height,nb_read_frames", "-of",
         "csv=p=0", video], check=True, stdout=subprocess.PIPE,
        text=True).stdout.strip().split(",")
    return int(out[0]), int(out[1]), int(out[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--video")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    os.environ.setdefault("GST_PLUGIN_PATH",
                          os.path.join(ROOT, "build-ramcache", "gst"))
    video = a.video
    if not video:
        cache = os.path.join(os.environ.get("XDG_CACHE_HOME", "/tmp"),
                             "onepass-bench")
        os.makedirs(cache, exist_ok=True)
        video = os.path.join(cache, "v720_%d.mp4" % a.frames)
        if not os.path.exists(video):
            make_video(video, a.frames)
    w, h, n = probe(video)
    frame = w * h * 3
    data = n * frame
    bound = 1.05 * data + 64 * MIB
    print("video %s: %d frames %dx%d, BGR frame %d bytes, N x frame %.1f MiB,"
          " bound %.1f MiB" % (video, n, w, h, frame, data / MIB,
                               bound / MIB))

    seed = os.path.join(SHARED_BENCH, "seed_stack.py")
    runs = {
        "ramcache": lambda: run_measured(gst_cmd(video, [])),
        "ramcache loop=3": lambda: run_measured(gst_cmd(video, ["loop=3"])),
        "decode only": lambda: run_measured(gst_cmd(video, None)),
        "seed stack": lambda: run_measured(["/usr/bin/python3", seed, video,
                                            "--mode", "stack"], True),
        "seed prealloc": lambda: run_measured(["/usr/bin/python3", seed,
                                               video, "--mode", "prealloc"],
                                              True),
    }
    res = {k: [] for k in runs}
    for _ in range(a.runs):
        for k, fn in runs.items():
            rss, secs, out = fn()
            if out is not None:
                # the seed measures itself: "... peak_rss_bytes P ratio R"
                f = out.split()
                rss = int(f[f.index("peak_rss_bytes") + 1])
            res[k].append((rss, secs))

    med = {k: (statistics.median(r for r, _ in v),
               statistics.median(s for _, s in v)) for k, v in res.items()}
    print("%-16s %12s %10s %9s" % ("run", "peak MiB", "x frames", "seconds"))
    for k, (rss, secs) in med.items():
        print("%-16s %12.1f %10.2f %9.2f" % (k, rss / MIB, rss / data, secs))
    ours = med["ramcache"][0]
    extra = ours - med["decode only"][0]
    print("ramcache peak within bound (%.1f <= %.1f MiB): %s"
          % (ours / MIB, bound / MIB, "yes" if ours <= bound else "NO"))
    # the decoder's own working set (threads, DPB, pools) is there with or
    # without a cache: what caching adds is the peak over decoding alone
    print("ramcache peak over decode only: %.1f MiB = %.3f x frames "
          "(within 1.05 x N x frame + 64 MiB: %s)"
          % (extra / MIB, extra / data,
             "yes" if extra <= bound else "NO"))
    print("peak RSS ratio seed stack / ramcache: %.2f, seed prealloc / "
          "ramcache: %.2f" % (med["seed stack"][0] / ours,
                              med["seed prealloc"][0] / ours))
    print("4 passes: ramcache loop=3 %.2f s vs 4 x decode %.2f s (%.2fx)"
          % (med["ramcache loop=3"][1], 4 * med["decode only"][1],
             4 * med["decode only"][1] / med["ramcache loop=3"][1]))
    return 0 if extra <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
