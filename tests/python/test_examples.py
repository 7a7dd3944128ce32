#!/usr/bin/python3
"""The examples run and say what their documentation promises.

- sleap_to_dataset.py on the sample predictions: 2274 samples in train/val
  shards, and frames read back with ramcache's get-frame are byte-identical
  to ffmpeg's decode of the same frame index.
- pipelines.sh: the design's pipelines 1-5 print their expected figures.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ["ONEPASS_BUILD_ROOT"]
SAMPLE = os.path.join(ROOT, "data", "sample")
VIDEO = os.path.join(SAMPLE, "centered_pair_low_quality.mp4")
env = dict(os.environ, GST_PLUGIN_PATH=os.environ["GST_PLUGIN_PATH_1_0"])
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def ffmpeg_frame_md5(index):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", VIDEO, "-vf", "select=eq(n\\,%d)" % index,
                          "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         capture_output=True, check=True).stdout
    return hashlib.md5(raw).hexdigest()[:12]


# a space and a quote in the output path: locations are properties, not text
# in the pipeline description
tmp = tempfile.mkdtemp(prefix="test examples '")
p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "sleap_to_dataset.py"), VIDEO,
                    os.path.join(SAMPLE, "centered_pair_predictions.slp"), os.path.join(tmp, "my shards"),
                    "--instances", "predicted", "--keep-frames", "20"],
                   capture_output=True, text=True, env=env, timeout=300)
out = p.stdout
check(p.returncode == 0, "sleap_to_dataset.py exits 0 (%s)" % p.stderr[-300:].strip())
check("2274 samples in" in out, "2274 samples reported")
check(re.search(r"frame +1099 / 1100", p.stderr) is not None, "progress line reaches frame 1099 / 1100")
frames = re.findall(r"frame (\d+): 384x384 I420, pts [0-9.]+ s, md5 ([0-9a-f]+)", out)
check(len(frames) == 2, "two frames read back with get-frame")
for index, digest in frames:
    check(digest == ffmpeg_frame_md5(int(index)), "get-frame %s equals ffmpeg's frame %s" % (index, index))

tmp = tempfile.mkdtemp(prefix="test-examples-")
p = subprocess.run(["bash", os.path.join(ROOT, "examples", "pipelines.sh"), BUILD, os.path.join(tmp, "pl")],
                   capture_output=True, text=True, timeout=600)
out = p.stdout
check(p.returncode == 0, "pipelines.sh exits 0 (%s)" % p.stderr[-300:].strip())
check("dataset.json: 9 samples" in out, "pipeline 1: 9 user-instance samples")
check("images (2274, 328, 328, 3) keypoints (2274, 1, 24, 4)" in out,
      "pipeline 2: HDF5 shapes (layout version 2)")
check("1100 lines" in out, "pipeline 3: 1100 JSON lines")
check(os.path.getsize(os.path.join(tmp, "pl", "review.mp4")) > 100000, "pipeline 4: review video written")
check("frames: 4400" in out, "pipeline 5: 4400 frames from one decode")
print("examples: %d passed, %d failed" % (10 + len(frames) - len(failures), len(failures)))
sys.exit(1 if failures else 0)
