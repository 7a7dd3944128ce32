#!/usr/bin/python3
"""Label formats beyond SLEAP, against an independent reading in Python.

- MOT text (tracker output, det.txt, gt.txt): the onepass-labels tool's JSON
  lines equal what the csv module reads from the same file with the format's
  rules written out here (1-based frames and boxes: onepass frame = frame - 1,
  box corner = bb_left - 1.5; id = track, -1 untracked; conf = score, -1 =
  none; the 9-field ground truth skips conf-0 lines and has no score).
- Malformed MOT files (a header line, ragged rows, non-numeric values, a
  track twice in one frame, frame 0) fail naming the file, line and problem.
- examples/detections_to_dataset.py on a video made here (numpy -> ffmpeg)
  whose coloured boxes move as its MOT lines say: one crop per line, keyed
  by the right frame and track, each crop showing its track's colour, no
  track in two splits; annotfilter's default instances=user passes nothing
  and says so.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.environ.get("ONEPASS_LABELS_TOOL") or os.path.join(
    os.environ.get("ONEPASS_BUILD_ROOT", "build"), "tools", "onepass-labels")
env = dict(os.environ, GST_PLUGIN_PATH=os.environ.get("GST_PLUGIN_PATH_1_0", ""))
failures = []
passed = [0]


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if cond:
        passed[0] += 1
    else:
        failures.append(msg)


def tool(path):
    p = subprocess.run([TOOL, path], capture_output=True, text=True, timeout=60)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    return p.returncode, lines, p.stderr


def mot_truth(path):
    """frame index -> [(track, score, [x, y, w, h])], from the csv module."""
    frames = {}
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    gt = len(rows[0]) == 9
    for r in rows:
        v = [float(c) for c in r]
        if gt and v[6] == 0:
            continue
        score = None if gt or len(v) < 7 or v[6] == -1 else v[6]
        frames.setdefault(int(v[0]) - 1, []).append(
            (int(v[1]), score, [v[2] - 1.5, v[3] - 1.5, v[4], v[5]]))
    return frames


def close(a, b):
    return all(abs(x - y) < 1e-6 for x, y in zip(a, b)) and len(a) == len(b)


def compare_mot(path, what):
    rc, lines, err = tool(path)
    check(rc == 0, "%s loads (%s)" % (what, err.strip()))
    truth = mot_truth(path)
    check([l["frame_index"] for l in lines] == sorted(truth),
          "%s: frames %s" % (what, sorted(truth)[:8]))
    ok = True
    for l in lines:
        want = truth.get(l["frame_index"], [])
        got = [(i["track"], i["score"], i["bbox"]) for i in l["instances"]]
        if len(got) != len(want) or any(
                g[0] != w[0] or (g[1] is None) != (w[1] is None)
                or (g[1] is not None and abs(g[1] - w[1]) > 1e-9) or not close(g[2], w[2])
                for g, w in zip(got, want)):
            ok = False
            print("  frame %d: got %s want %s" % (l["frame_index"], got, want))
        if any(i["kind"] != "detection" or i["keypoints"] for i in l["instances"]):
            ok = False
    check(ok, "%s: every box, track and score equal the csv reading" % what)
    return lines, err


tmp = tempfile.mkdtemp(prefix="test-formats-")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- MOT layouts ---------------------------------------------------------
tracker = write("tracker.txt", "".join(
    "%d,%d,%.3f,%.2f,%.3f,%.3f,%s,-1,-1,-1\n" % (
        f, t, 10 + 3.25 * f + 40 * t, 20.5 + f, 30 + t, 44.5, "-1" if t == 2 else "%.2f" % (0.5 + t / 10))
    for f in range(1, 9) for t in (1, 2, 3) if not (t == 3 and f % 3 == 0)))
compare_mot(tracker, "tracker output (10 fields, conf -1 = no score)")
det = write("det.txt", "1, -1, 5, 6, 7, 8, 0.9, -1, -1, -1\n1, -1, 5, 6, 7, 8, 0.8, -1, -1, -1\n"
            "4, -1, 1.5, 2.5, 3, 4, 0.1, -1, -1, -1\n")
compare_mot(det, "det.txt (untracked, spaces after commas, same box twice)")
gt = write("gt.txt", "1,1,912,484,97,109,0,7,1\n1,2,1338,418,167,379,1,1,1\n"
           "2,2,1342,417,168,380,1,1,0.9\n2,3,586,447,85,263,1,1,0.5\n3,9,1,1,2,2,0,12,0.1\n")
lines, err = compare_mot(gt, "gt.txt (9 fields: conf is a flag, class, visibility)")
check("2 ground-truth line(s) with conf 0" in err, "gt.txt: the skipped conf-0 lines are counted (%s)"
      % err.strip())
short = write("six.txt", "3,1,10,10,5,5\n")
compare_mot(short, "6 fields (no conf)")

# --- malformed MOT files -----------------------------------------------
bad = [
    ("header.txt", "1,1,2,3,4,5,1,-1,-1,-1\nframe,id,x,y,w,h,conf,a,b,c\n", "line 2",
     'field 1 (frame) "frame" is not a number'),
    ("ragged.txt", "1,1,2,3,4,5,1,-1,-1,-1\n2,1,2,3,4,5,1\n", "line 2",
     "7 fields, but the first line has 10"),
    ("nan.txt", "1,1,2,3,4,5,1,-1,-1,-1\n2,1,2,3,x4,5,1,-1,-1,-1\n", "line 2",
     'field 5 (bb_width) "x4" is not a number'),
    ("dup.txt", "1,1,2,3,4,5,1,-1,-1,-1\n2,1,2,3,4,5,1,-1,-1,-1\n1,1,7,3,4,5,1,-1,-1,-1\n",
     "line 3", "track 1 is in frame 1 twice (line 1 too)"),
    ("frame0.txt", "1,1,2,3,4,5,1,-1,-1,-1\n0,1,2,3,4,5,1,-1,-1,-1\n", "line 2",
     "not a 1-based frame number"),
    ("gt_nan_vis.txt", "1,1,2,3,4,5,1,1,1\n1,2,2,3,4,5,1,1,high\n", "line 2",
     'field 9 (visibility) "high" is not a number'),
]
for name, text, line, problem in bad:
    path = write(name, text)
    rc, lines, err = tool(path)
    check(rc != 0 and path in err and (line + ": ") in err and problem in err,
          "%s refused naming the file, %s and the problem (%s)" % (name, line, err.strip()))
path = write("with_header.txt", "frame,id,bb_left,bb_top,bb_width,bb_height,conf\n1,1,2,3,4,5,1\n")
rc, lines, err = tool(path)
check(rc != 0 and path in err and "not a label file" in err and "MOT challenge text" in err,
      "a MOT file with a header line is not claimed; the message lists MOT (%s)" % err.strip())

# --- the example on a made video ---------------------------------------
W, H, N = 192, 144, 40
COLOURS = {1: (255, 0, 0), 2: (0, 0, 255), 5: (0, 255, 0)}  # RGB per track


def box(track, frame0):
    """0-based pixel box (left, top, w, h) of @track in 0-based frame @frame0."""
    if track == 1:
        return 4 + 2 * frame0, 10, 24, 32  # the boxes never overlap
    if track == 2:
        return 150 - 2 * frame0, 60, 20, 30
    return 20 + 3 * (frame0 - 10), 112, 28, 20


present = {1: range(N), 2: range(0, N, 2), 5: range(10, 30)}
frames = np.zeros((N, H, W, 3), np.uint8)
mot = []
for f in range(N):
    frames[f][:] = (40, 40, 40)
    for t, rng in present.items():
        if f in rng:
            x, y, w, h = box(t, f)
            frames[f, y:y + h, x:x + w] = COLOURS[t]
            # the MOT line: 1-based frame and pixel indices
            mot.append("%d,%d,%d,%d,%d,%d,1,-1,-1,-1" % (f + 1, t, x + 1, y + 1, w, h))
video = os.path.join(tmp, "players.mp4")
subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % (W, H),
                "-r", "25", "-i", "-", "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", video],
               input=frames.tobytes(), check=True)
dets = write("players_mot.txt", "\n".join(mot) + "\n")
out = os.path.join(tmp, "shards")
p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "detections_to_dataset.py"),
                    video, dets, out, "--size", "64", "--padding", "0", "--split", "train=0.5,val=0.5"],
                   capture_output=True, text=True, env=env, timeout=300)
check(p.returncode == 0, "detections_to_dataset.py exits 0 (%s)" % p.stderr.strip()[-300:])
print(p.stdout)
samples = {}
split_of_track = {}
crop_ok = True
for name in sorted(os.listdir(out)) if os.path.isdir(out) else []:
    if not name.endswith(".tar"):
        continue
    split = name.split("-")[0]
    with tarfile.open(os.path.join(out, name)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        for key in sorted(k[:-5] for k in members if k.endswith(".json")):
            ann = json.load(tar.extractfile(members[key + ".json"]))
            inst = ann["instances"][0]
            t = inst["track"]
            # the sidecar is in crop coordinates: back to the frame's
            rx, ry, rw, rh = ann["crop"]["rect"]
            sx, sy = rw / ann["crop"]["width"], rh / ann["crop"]["height"]
            bx, by, bw, bh = inst["bbox"]
            inst["frame_bbox"] = [(bx + 0.5) * sx - 0.5 + rx, (by + 0.5) * sy - 0.5 + ry, bw * sx, bh * sy]
            samples[(ann["frame_index"], t)] = inst
            split_of_track.setdefault(t, set()).add(split)
            img = cv2.imdecode(np.frombuffer(tar.extractfile(members[key + ".jpg"]).read(), np.uint8),
                               cv2.IMREAD_COLOR)[:, :, ::-1]
            # the box fills the crop (padding 0, aspect kept): its middle is the track's colour
            mid = img[24:40, 24:40].reshape(-1, 3).mean(axis=0)
            if np.abs(mid - COLOURS[t]).max() > 40:
                crop_ok = False
                print("  %s: crop middle %s, track %d is %s" % (key, mid.round(), t, COLOURS[t]))
want = {(f, t) for t, rng in present.items() for f in rng}
check(set(samples) == want, "one crop per MOT line, keyed by frame - 1 and track (%d of %d)"
      % (len(set(samples) & want), len(want)))
check(all(close(samples[(f, t)]["frame_bbox"], [box(t, f)[0] - 0.5, box(t, f)[1] - 0.5] + list(box(t, f)[2:]))
          for (f, t) in samples if (f, t) in want),
      "each crop's bbox is its box with the image corner at -0.5")
check(crop_ok and samples, "each crop shows its track's colour")
check(all(len(s) == 1 for s in split_of_track.values()), "no track in two splits %s" % split_of_track)

# the default instances=user passes none of a detections file, and warns
p = subprocess.run(["gst-launch-1.0", "filesrc", "location=" + video, "!", "decodebin", "!",
                    "annotfilter", "location=" + dets, "!", "fakesink"],
                   capture_output=True, text=True, env=env, timeout=120)
check("no frame of video 0 has user instances" in (p.stdout + p.stderr),
      "instances=user on detections warns that nothing counts")

print("formats: %d passed, %d failed" % (passed[0], len(failures)))
sys.exit(1 if failures else 0)
