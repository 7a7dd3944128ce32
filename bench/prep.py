#!/usr/bin/python3
"""Benchmark: 100 short videos with onepass-prep vs a shell loop of one
gst-launch-1.0 per video (the design's row "100 short videos").

Inputs (made once, cached in bench/.cache/prep/): a sessions folder of
--videos videos (10 sessions x N/10 cameras), each --frames frames of
160x120 H.264 (testsrc2, GOP 30), with JSON-lines labels on every third
frame (1-2 instances, tests/python/prep_fixtures.py's recipe: two
skeletons, mapped onto one with its node map).

Side by side, median of --runs runs, each into a fresh output folder:
  loop     bash running the exact gst-launch-1.0 lines `onepass-prep -n`
           prints (one process per video, one after the other)
  jobs 1   onepass-prep --jobs 1
  jobs 2   onepass-prep --jobs 2
All write the same crops (--crop 64x64, JPEG in tar shards). Targets: loop /
jobs 2 >= 1.5x, jobs 1 / jobs 2 >= 1.8x.

usage: bench/prep.py [--videos 100] [--frames 60] [--runs 3] [--build BUILD_DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import prep_fixtures as fx  # noqa: E402


def make_inputs(root, videos, frames):
    stamp = os.path.join(root, ".done-%d-%d" % (videos, frames))
    if os.path.exists(stamp):
        return
    shutil.rmtree(root, ignore_errors=True)
    fx.W, fx.H = 160, 120
    cams = ["cam%02d" % i for i in range(max(videos // 10, 1))]
    fx.make_sessions(root, sessions=["s%02d" % i for i in range(10)], cameras=cams,
                     frames=frames)
    open(stamp, "w").close()


def timed(cmd, **kw):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=900, **kw)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.environ.get("ONEPASS_BUILD_DIR", "build"))
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    os.environ["GST_PLUGIN_PATH_1_0"] = build + "/gst:" + build + "/ext"
    os.environ["GST_PLUGIN_PATH"] = ""
    os.makedirs(os.path.join(ROOT, "bench", ".cache"), exist_ok=True)
    os.environ["GST_REGISTRY"] = os.path.join(ROOT, "bench", ".cache", "prep-registry.bin")
    tool = os.path.join(build, "tools", "onepass-prep", "onepass-prep")
    sess = os.path.join(ROOT, "bench", ".cache", "prep")
    make_inputs(sess, a.videos, a.frames)
    fx.write_node_map(os.path.join(sess, "..", "prep-map.csv"))
    # skip=false: gst-launch-1.0 can hang at exit (gst_deinit) when
    # annotfilter's seek to the end after the last labeled frame is still
    # in flight (seen twice in 300 runs); with 60-frame videos skipping
    # saves at most a few frames anyway
    opts = ["--crop", "64x64", "--max-memory", "0",
            "--node-map", os.path.join(sess, "..", "prep-map.csv"),
            "--set", "annotfilter.skip=false"]

    times = {"loop": [], "jobs 1": [], "jobs 2": []}
    samples = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.runs):
            for name in times:
                out = os.path.join(tmp, "%s-%d" % (name.replace(" ", ""), r))
                if name == "loop":
                    plan = subprocess.run([tool, sess, "-o", out, "-n"] + opts, check=True,
                                          capture_output=True, text=True).stdout
                    script = os.path.join(tmp, "loop.sh")
                    with open(script, "w") as f:
                        f.write("set -e\nmkdir -p %s\n" % out)
                        f.write("\n".join(line for line in plan.splitlines()
                                          if line.startswith("gst-launch-1.0")) + "\n")
                    times[name].append(timed(["bash", script]))
                else:
                    times[name].append(timed([tool, sess, "-o", out, "--jobs", name[-1]] + opts))
                n = 0
                for f in os.listdir(out):
                    if f.endswith(".manifest.json"):
                        n += json.load(open(os.path.join(out, f)))["samples"]
                samples.setdefault(name, n)
                shutil.rmtree(out)
    med = {k: statistics.median(v) for k, v in times.items()}
    print("%d videos x %d frames 160x120, crops 64x64 to tar, median of %d runs; load %s"
          % (a.videos, a.frames, a.runs, open("/proc/loadavg").read().split()[:3]))
    for k in times:
        print("%-8s %7.2f s  (%s)  %d samples" % (k, med[k], " ".join("%.2f" % t for t in times[k]),
                                                  samples[k]))
    print("loop / jobs 2 = %.2fx (target >= 1.5x); jobs 1 / jobs 2 = %.2fx (target >= 1.8x); "
          "loop / jobs 1 = %.2fx" % (med["loop"] / med["jobs 2"], med["jobs 1"] / med["jobs 2"],
                                     med["loop"] / med["jobs 1"]))
    if len(set(samples.values())) != 1:
        print("WARNING: the runs wrote different sample counts: %s" % samples)
        sys.exit(1)


if __name__ == "__main__":
    main()
