#!/usr/bin/python3
"""Decoders never copy frames for onepass elements (design: "Decode only what
is needed"): every element that reads raw video accepts GstVideoMeta in the
ALLOCATION query, so avdec_h264 (and avdec_ffv1 for GRAY8) render into
their own padded buffers.

avdec_* logs "get output buffer" (GST_DEBUG=libav:6) for every frame it
copies out of ffmpeg's picture because downstream did not accept its
layout. For each pipeline below (the README's and the design's, in the
decoder's own format), the decoder may copy no more frames than with
GStreamer's zero-copy `fakevideosink` alone (its first frames, before the
allocation query). Where a layout change is visible (ramcache handing a
strided frame to an element without video meta, batchsink's raw payloads),
the bytes are compared with ffmpeg's frames."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

W, H, N = 320, 240, 40
LABELED = list(range(1, N, 4))
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def ff(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + list(args), check=True)


def copies(desc):
    """Frames each avdec element copied, running gst-launch-1.0 @desc."""
    env = dict(os.environ, GST_DEBUG="libav:6", GST_DEBUG_NO_COLOR="1")
    p = subprocess.run(["gst-launch-1.0", "-q"] + desc, capture_output=True, text=True,
                       env=env, timeout=120)
    if p.returncode != 0:
        errors = [line for line in p.stdout.splitlines() + p.stderr.splitlines()
                  if "ERROR" in line or "error" in line.lower()[:20]]
        fail("%s: gst-launch failed: %s" % (" ".join(desc), "\n".join(errors[-5:])))
    counts = {}
    for name in re.findall(r"get_output_buffer:<(avdec_[a-z0-9_]+-\d+)> get output buffer",
                           p.stderr):
        counts[name] = counts.get(name, 0) + 1
    return sum(counts.values())


def ffmpeg_frames(path, pix_fmt, size):
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
                          "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size)


def write_labels(path):
    with open(path, "w") as f:
        for i, n in enumerate(LABELED):
            d = {"frame_index": n, "width": W, "height": H,
                 "instances": [{"kind": "user", "track": -1,
                                "keypoints": [[100.0 + n, 80.0, 1, None], [160.0, 140.0, 1, None]]}]}
            if i == 0:
                d["skeleton"] = {"name": "s", "nodes": ["a", "b"], "edges": [[0, 1]]}
            f.write(json.dumps(d) + "\n")


def check(what, desc, baseline):
    n = copies(desc)
    if n > baseline:
        fail("%s: the decoder copied %d frames (fakevideosink alone: %d)" % (what, n, baseline))
    else:
        print("%s: %d decoder copies (fakevideosink alone: %d)" % (what, n, baseline))


def main():
    tmp = tempfile.mkdtemp(prefix="test-zerocopy-")
    try:
        yuv, gray, crops = (os.path.join(tmp, n) for n in ("yuv.mp4", "gray.mkv", "crops.mp4"))
        src = ["-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=25" % (W, H), "-frames:v", str(N)]
        ff(*src, "-c:v", "libx264", "-bf", "2", "-pix_fmt", "yuv420p", yuv)
        # GRAY8 out of avdec (Debian's libx264 has no 4:0:0): FFV1
        ff(*src, "-c:v", "ffv1", "-pix_fmt", "gray", gray)
        ff("-f", "lavfi", "-i", "testsrc2=size=336x336:rate=25", "-frames:v", str(N),
           "-c:v", "libx264", "-pix_fmt", "yuv420p", crops)
        labels = os.path.join(tmp, "labels.jsonl")
        write_labels(labels)
        dec = lambda v: ["filesrc", "location=" + v, "!", "decodebin", "!"]
        base_yuv = copies(dec(yuv) + ["fakevideosink"])
        base_gray = copies(dec(gray) + ["fakevideosink"])
        annot = ["annotfilter", "location=" + labels, "!"]

        check("README: annotfilter ! fakevideosink", dec(yuv) + annot + ["fakevideosink"], base_yuv)
        check("annotfilter ! cropextract", dec(yuv) + annot +
              ["cropextract", "width=64", "height=64", "!", "fakesink"], base_yuv)
        check("annotfilter ! batchsink format=jsonl", dec(yuv) + annot +
              ["batchsink", "format=jsonl", "location=" + os.path.join(tmp, "f.jsonl")], base_yuv)
        check("ramcache loop=2", dec(yuv) + ["ramcache", "loop=2", "!", "fakevideosink"], base_yuv)
        check("framestats (sliding-mean)", dec(gray) +
              ["framestats", "mode=sliding-mean", "window=3", "!", "fakesink"], base_gray)
        check("framestats (reduce)", dec(gray) +
              ["framestats", "location=" + os.path.join(tmp, "stats"), "!", "fakevideosink"],
              base_gray)
        check("compositor328, both inputs", ["compositor328", "name=c", "!", "fakevideosink"] +
              dec(yuv) + ["c.sink_full"] + dec(crops) + ["c.sink_crop"],
              base_yuv + copies(dec(crops) + ["fakevideosink"]))

        # ramcache gives an element without video meta (multifilesink) packed
        # frames, and batchsink packs raw payloads: the bytes must be ffmpeg's
        truth = ffmpeg_frames(yuv, "yuv420p", W * H * 3 // 2)
        out = os.path.join(tmp, "frames")
        os.makedirs(out)
        check("ramcache ! multifilesink", dec(yuv) + ["ramcache", "!", "multifilesink",
                                                     "location=" + out + "/f_%03d.raw"], base_yuv)
        files = sorted(glob.glob(out + "/f_*.raw"))
        if len(files) != len(truth):
            fail("ramcache ! multifilesink: %d frames written of %d" % (len(files), len(truth)))
        for i, p in enumerate(files):
            if not np.array_equal(np.fromfile(p, np.uint8), truth[i]):
                fail("ramcache ! multifilesink: frame %d is not ffmpeg's frame %d" % (i, i))
        gtruth = ffmpeg_frames(gray, "gray", W * H)
        shards = os.path.join(tmp, "shards")
        check("annotfilter ! batchsink format=tar (GRAY8)", dec(gray) + annot +
              ["batchsink", "format=tar", "location=" + shards], base_gray)
        got = {}
        for path in glob.glob(shards + "/**/*.tar", recursive=True):
            with tarfile.open(path) as t:
                for m in t.getmembers():
                    if m.name.endswith(".gray"):
                        n = int(m.name.rsplit("_", 2)[-2])
                        got[n] = np.frombuffer(t.extractfile(m).read(), np.uint8)
        if sorted(got) != LABELED:
            fail("batchsink tar: frames %s, labeled %s" % (sorted(got), LABELED))
        for n, img in got.items():
            if not np.array_equal(img, gtruth[n]):
                fail("batchsink tar: the payload of frame %d is not ffmpeg's frame" % n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("zerocopy: %d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
