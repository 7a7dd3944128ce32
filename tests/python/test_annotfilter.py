#!/usr/bin/python3
"""annotfilter on the real SLEAP files: the exact frames it passes and every
keypoint it attaches, against truth read independently with h5py
(sleap_truth.py), for instances=user|predicted|all, mode=drop|tag and
skip=true|false. Output is read back through batchsink format=jsonl."""
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import sleap_truth  # noqa: E402

DATA = os.path.join(os.environ["ONEPASS_SHARED_DATA"], "sleap")
VIDEO = os.path.join(DATA, "centered_pair_low_quality.mp4")
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def run(labels, props, out):
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + VIDEO, "!", "decodebin", "!",
           "annotfilter", "location=" + labels] + props.split() + [
           "!", "batchsink", "format=jsonl", "location=" + out]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("%s %s: gst-launch failed: %s%s" % (os.path.basename(labels), props, p.stdout, p.stderr))
        return None
    with open(out) as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(name, props, lines, want):
    got = {}
    for o in lines:
        if o["instances"]:
            got[o["frame_index"]] = o
        elif "mode=drop" in props:
            fail("%s %s: frame %d passed without instances" % (name, props, o["frame_index"]))
    if sorted(got) != sorted(want):
        missing = sorted(set(want) - set(got))[:10]
        extra = sorted(set(got) - set(want))[:10]
        fail("%s %s: frames differ: %d passed, %d expected; missing %s extra %s"
             % (name, props, len(got), len(want), missing, extra))
        return
    for f, insts in want.items():
        o = got[f]
        if o["source"] != "centered_pair_low_quality" or o["width"] != 384:
            fail("%s %s: frame %d: source/size %s %s" % (name, props, f, o["source"], o["width"]))
        if len(o["instances"]) != len(insts):
            fail("%s %s: frame %d: %d instances, want %d" % (name, props, f, len(o["instances"]), len(insts)))
            continue
        for a, b in zip(o["instances"], insts):
            if a["kind"] != b["kind"] or a["track"] != b["track"] or a["track_name"] != b["track_name"]:
                fail("%s %s: frame %d: instance %s != %s" % (name, props, f,
                     (a["kind"], a["track"], a["track_name"]), (b["kind"], b["track"], b["track_name"])))
            if not sleap_truth.close(a["score"], b["score"]):
                fail("%s %s: frame %d: score %s != %s" % (name, props, f, a["score"], b["score"]))
            for k, (ka, kb) in enumerate(zip(a["keypoints"], b["keypoints"])):
                if not (sleap_truth.close(ka[0], kb[0]) and sleap_truth.close(ka[1], kb[1])
                        and ka[2] == kb[2] and sleap_truth.close(ka[3], kb[3])):
                    fail("%s %s: frame %d node %d: %s != %s" % (name, props, f, k, ka, kb))
                    break


def main():
    files = ["centered_pair_predictions.slp", "labels.v002.slp", "minimal_instance.slp"]
    tmp = tempfile.mkdtemp(prefix="test-annotfilter-")
    runs = 0
    for name in files:
        truth = sleap_truth.read_slp(os.path.join(DATA, name))
        for instances in ("user", "predicted", "all"):
            want = sleap_truth.select(truth["frames"], 0, instances)
            for mode in ("drop", "tag"):
                for skip in ("true", "false"):
                    if mode == "tag" and skip == "false":
                        continue  # tag mode never skips: one run covers it
                    props = "instances=%s mode=%s skip=%s" % (instances, mode, skip)
                    out = os.path.join(tmp, "%s-%s-%s-%s.jsonl" % (name, instances, mode, skip))
                    lines = run(os.path.join(DATA, name), props, out)
                    runs += 1
                    if lines is not None:
                        compare(name, props, lines, want)
    # the 1.0 legacy file has no video: its shifted values are checked by
    # the reader tests; analysis files: the same frames as the predictions
    for name in ("centered_pair_standard.analysis.h5", "centered_pair_matlab.analysis.h5"):
        out = os.path.join(tmp, name + ".jsonl")
        lines = run(os.path.join(DATA, name), "instances=all", out)
        runs += 1
        if lines is not None:
            frames = {o["frame_index"] for o in lines}
            with h5py.File(os.path.join(DATA, name), "r") as h:
                occ = h["track_occupancy"][:]  # (frames, tracks) in every layout
            want = {int(f) for f in np.nonzero(occ.any(axis=1))[0]}
            if frames != want:
                fail("%s instances=all: %d frames, occupancy says %d" % (name, len(frames), len(want)))
    failed = len({f.split(":")[0] for f in FAILURES})
    print("annotfilter real data: %d passed, %d failed" % (runs - failed, failed))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
