#!/usr/bin/python3
"""Benchmark: loading SLEAP labels with our reader (onepass-labels --summary:
probe, read every table, build and sort the per-frame annotations) against
the seed preprocessors' h5py loader (load_labels of
../shared/bench/seed_sleap_extract.py, timed inside Python, so without a
process start), in the same run. Ours includes starting the tool process:
the first row shows that fixed cost on a 1-frame file.

Files come from ../shared/bench/make_sleap_labels.py (format 1.2, 2 user
instances of 8 nodes per labeled frame), cached in $ONEPASS_BENCH_DIR
(default /tmp/onepass-bench). Each figure is the median of --runs runs.

usage: bench/labelreaders.py [--runs 5] [--tool build/tools/onepass-labels]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "bench")
sys.path.insert(0, SHARED)
from seed_sleap_extract import load_labels  # noqa: E402


def make(path, frames, density):
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3",
                        os.path.join(SHARED, "make_sleap_labels.py"), path,
                        "--video", "v.mp4", "--frames", str(frames),
                        "--width", "1280", "--height", "720",
                        "--density", density], check=True)


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tool", default=os.path.join(HERE, "..", "build",
                                                   "tools", "onepass-labels"))
    a = ap.parse_args()
    cache = os.environ.get("ONEPASS_BENCH_DIR", "/tmp/onepass-bench")
    os.makedirs(cache, exist_ok=True)
    print("%-28s %10s %10s %8s" % ("labels", "onepass s", "seed s",
                                   "speedup"))
    # the process start (shared libraries, HDF5 init) on a 1-frame file
    runs = [(os.path.join(HERE, "..", "..", "shared", "data", "sleap",
                          "minimal_instance.slp"), "1 frame (tool startup)")]
    for frames, density in ((1800, "dense"), (1800, "cluster:0.02"),
                            (100000, "dense")):
        path = os.path.join(cache, "labels-%d-%s.slp"
                            % (frames, density.replace(":", "")))
        make(path, frames, density)
        runs.append((path, "%d frames %s" % (frames, density)))
    for path, label in runs:
        ours = median_time(lambda: subprocess.run(
            [a.tool, "--summary", path], check=True,
            stdout=subprocess.DEVNULL), a.runs)
        seed = median_time(lambda: load_labels(path), a.runs)
        print("%-28s %10.3f %10.3f %7.1fx" % (label, ours, seed,
                                              seed / ours))


if __name__ == "__main__":
    main()
