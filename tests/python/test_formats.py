#!/usr/bin/python3
"""Label formats beyond SLEAP, against an independent reading in Python.

- MOT text (tracker output, det.txt, gt.txt): the onepass-labels tool's JSON
  lines equal what the csv module reads from the same file with the format's
  rules written out here (1-based frames and boxes: onepass frame = frame - 1,
  box corner = bb_left - 1.5; id = track, -1 untracked; conf = score, -1 =
  none; the 9-field ground truth skips conf-0 lines and has no score).
- Malformed MOT files (a header line, ragged rows, non-numeric values, a
  track twice in one frame, frame 0) fail naming the file, line and problem.
- COCO keypoints/detections JSON: the tool's lines equal a json-module
  reading (frames from frame_index or the file name's number, the folder as
  video, keypoints unchanged, box corner -0.5, v 0/1/2, scores make
  predictions, crowd skipped); malformed files name the file, the element and
  the problem; a COCO file over an image folder labels multifilesrc's frames.
- DeepLabCut CSV (labeled data with 1 and 3 index columns, single- and
  multi-animal with unique bodyparts, video predictions with likelihood):
  the tool's lines equal a csv-module reading; malformed files (wrong
  header, ragged rows, non-numeric values, duplicate frames) name the file,
  line and problem.
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

# --- COCO keypoints / detections JSON ---------------------------------
def coco_truth(path):
    """(video, frame) -> [(kind, track, score, bbox, keypoints)], from the json module."""
    with open(path) as f:
        d = json.load(f)
    cats = {c["id"]: c for c in d.get("categories", [])}
    images = {}
    for im in d["images"]:
        if "frame_index" in im:
            frame = im["frame_index"]
        else:
            base = os.path.splitext(os.path.basename(im["file_name"]))[0]
            digits = "".join(ch if ch.isdigit() else " " for ch in base).split()
            frame = int(digits[-1])
        images[im["id"]] = (os.path.dirname(im["file_name"]), frame)
    out = {}
    for a in d["annotations"]:
        if a.get("iscrowd"):
            continue
        kps = None
        if "keypoints" in a:
            names = cats[a["category_id"]]["keypoints"]
            kps = []
            for k in range(len(names)):
                x, y, v = a["keypoints"][3 * k:3 * k + 3]
                # pixel indices = onepass pixel centres: unchanged
                kps.append([None, None, 0] if v == 0 else [x, y, 1 if v == 2 else 0])
        kind = "detection" if kps is None else ("predicted" if "score" in a else "user")
        bbox = None
        if "bbox" in a:
            x, y, w, h = a["bbox"]
            bbox = [x - 0.5, y - 0.5, w, h]  # corner at 0,0 -> -0.5
        out.setdefault(images[a["image_id"]], []).append(
            (kind, a.get("track_id", -1), a.get("score"), bbox, kps))
    return out


def compare_coco(path, what):
    rc, lines, err = tool(path)
    check(rc == 0, "%s loads (%s)" % (what, err.strip()))
    truth = coco_truth(path)
    got = {}
    for l in lines:
        got[(l["source"], l["frame_index"])] = [
            (i["kind"], i["track"], i["score"], i["bbox"],
             [k[:3] for k in i["keypoints"]] if i["kind"] != "detection" else None)
            for i in l["instances"]]
    check(sorted(got) == sorted(truth), "%s: frames %s" % (what, sorted(truth)))
    ok = True
    for key in truth:
        for g, w in zip(got.get(key, []), truth[key]):
            same = g[0] == w[0] and g[1] == w[1] and g[2] == w[2] and \
                (g[3] is None) == (w[3] is None) and (g[3] is None or close(g[3], w[3])) and \
                (w[4] is None or g[4] == [[None if c is None else float(c) for c in k[:2]] + [k[2]]
                                          for k in w[4]])
            if not same:
                ok = False
                print("  %s: got %s want %s" % (key, g, w))
        if len(got.get(key, [])) != len(truth[key]):
            ok = False
    check(ok, "%s: kinds, tracks, scores, boxes and keypoints equal the json reading" % what)
    return lines, err


person = {"id": 1, "name": "person", "supercategory": "person",
          "keypoints": ["nose", "left_eye", "right_eye", "left_hip", "right_hip"],
          "skeleton": [[1, 2], [1, 3], [4, 5]]}
coco = {
    "info": {"description": "made by test_formats.py"}, "licenses": [],
    "images": [{"id": 11, "file_name": "cam1/frame_000007.jpg", "width": 640, "height": 480},
               {"id": 12, "file_name": "cam1/frame_000002.jpg", "width": 640, "height": 480},
               {"id": 13, "file_name": "cam2/x.jpg", "width": 320, "height": 200, "frame_index": 40}],
    "annotations": [
        {"id": 1, "image_id": 11, "category_id": 1, "bbox": [100.5, 50, 80, 160], "area": 1,
         "iscrowd": 0, "num_keypoints": 3,
         "keypoints": [120, 60, 2, 118, 58, 1, 0, 0, 0, 110, 150, 2, 0, 0, 0], "track_id": 3},
        {"id": 2, "image_id": 11, "category_id": 2, "bbox": [300, 200, 20, 20], "track_id": 9},
        {"id": 3, "image_id": 12, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": 1,
         "keypoints": [0] * 15},
        {"id": 4, "image_id": 12, "category_id": 1, "keypoints": [10.25, 20.75, 2] * 5, "score": 0.42},
        {"id": 5, "image_id": 13, "category_id": 2, "bbox": [0, 0, 320, 200]},
    ],
    "categories": [person, {"id": 2, "name": "ball"}],
}
cpath = write("coco.json", json.dumps(coco, indent=2))
lines, err = compare_coco(cpath, "COCO pretty-printed (keypoints, detections, crowd, results)")
check("1 crowd annotation(s) (iscrowd 1) were skipped" in err, "COCO: crowd annotations counted (%s)"
      % err.strip())
check(all((l["width"], l["height"]) == ((640, 480) if l["source"] == "cam1" else (320, 200))
          for l in lines), "COCO: each video's size is its images' width x height")
compare_coco(write("coco_line.json", json.dumps(coco)), "COCO on one line")
skel = [l for l in lines if "skeleton" in l]
check(skel and skel[0]["skeleton"]["nodes"] == person["keypoints"]
      and skel[0]["skeleton"]["edges"] == [[0, 1], [0, 2], [3, 4]],
      "COCO: skeleton nodes and 1-based pairs as 0-based edges")

def broken(change):
    d = json.loads(json.dumps(coco))
    change(d)
    return json.dumps(d, indent=1)


cbad = [
    ("no_images.json", broken(lambda d: d.update(images={})), '"images" is missing or not a list'),
    ("ragged_kps.json", broken(lambda d: d["annotations"][0].update(keypoints=[1, 2, 2] * 4)),
     "annotations[0] (id 1): 12 keypoint values; category 1 has 5 keypoints"),
    ("text_kp.json", broken(lambda d: d["annotations"][3]["keypoints"].__setitem__(4, "abc")),
     "annotations[3] (id 4): keypoint 1 (left_eye) is not x, y, v numbers"),
    ("bad_v.json", broken(lambda d: d["annotations"][3]["keypoints"].__setitem__(2, 3)),
     "annotations[3] (id 4): keypoint 0 (nose) is not x, y, v numbers with v 0, 1 or 2"),
    ("dup_frame.json", broken(lambda d: d["images"].append(
        {"id": 14, "file_name": "cam1/other_7.jpg", "width": 640, "height": 480})),
     'images[3] (id 14) is frame 7 of video "cam1", like images[0]'),
    ("no_number.json", broken(lambda d: d["images"][0].update(file_name="cam1/front.jpg")),
     'images[0] (id 11): no "frame_index" and no number in its file name "cam1/front.jpg"'),
    ("bad_image.json", broken(lambda d: d["annotations"][1].update(image_id=99)),
     'annotations[1] (id 2): "image_id" names no image'),
    ("bad_bbox.json", broken(lambda d: d["annotations"][1].update(bbox=[1, 2, "3", 4])),
     'annotations[1] (id 2): "bbox" is not [x, y, width, height]'),
    ("sizes.json", broken(lambda d: d["images"][1].update(width=641)),
     'images[1] (id 12) is 641x480, but an earlier image of video "cam1" is 640x480'),
    ("skeleton0.json", broken(lambda d: d["categories"][0].update(skeleton=[[0, 1]])),
     "categories[0]: skeleton pair 0 is not two 1-based keypoint numbers (1 to 5)"),
    ("truncated.json", json.dumps(coco, indent=2)[:-40], "not valid COCO JSON"),
]
for name, text, problem in cbad:
    path = write(name, text)
    rc, _, err = tool(path)
    check(rc != 0 and path in err and problem in err,
          "%s refused naming the file and the problem (%s)" % (name, err.strip()))
path = write("not_coco.json", json.dumps({"videos": [], "tracks": {"a": 1}}, indent=2))
rc, _, err = tool(path)
check(rc != 0 and "not a label file" in err and "COCO keypoints or detections JSON" in err,
      "a JSON object without images and annotations is not a label file (%s)" % err.strip())

# a COCO file over an image folder, read with multifilesrc: image N is frame N
folder = os.path.join(tmp, "imgs")
os.makedirs(folder)
images, anns = [], []
for f in range(12):
    cv2.imwrite(os.path.join(folder, "img_%05d.png" % f), frames[f][:, :, ::-1].copy())
    images.append({"id": 100 + f, "file_name": "img_%05d.png" % f, "width": W, "height": H})
    if f % 4 == 1:
        x, y, w, h = box(1, f)
        anns.append({"id": len(anns) + 1, "image_id": 100 + f, "category_id": 1,
                     "bbox": [x, y, w, h], "track_id": 1})
cfolder = write("folder_coco.json", json.dumps({"images": images, "annotations": anns,
                                                "categories": [{"id": 1, "name": "box"}]}))
cout = os.path.join(tmp, "coco_shards")
os.makedirs(cout)
p = subprocess.run(["gst-launch-1.0", "-q", "multifilesrc", "location=" + os.path.join(folder, "img_%05d.png"),
                    "caps=image/png,framerate=25/1", "!", "pngdec", "!", "videoconvert", "!",
                    "annotfilter", "location=" + cfolder, "instances=detection", "!",
                    "cropextract", "width=32", "height=32", "padding=0", "!", "videoconvert", "!",
                    "video/x-raw,format=RGB", "!", "pngenc", "!", "batchsink", "location=" + cout],
                   capture_output=True, text=True, env=env, timeout=120)
check(p.returncode == 0, "multifilesrc + COCO over the folder runs (%s)" % (p.stdout + p.stderr).strip()[-300:])
got = []
for name in sorted(os.listdir(cout)):
    if name.endswith(".tar"):
        with tarfile.open(os.path.join(cout, name)) as tar:
            for m in tar.getmembers():
                if m.name.endswith(".png"):
                    img = cv2.imdecode(np.frombuffer(tar.extractfile(m).read(), np.uint8), cv2.IMREAD_COLOR)
                    got.append((m.name, np.abs(img[8:24, 8:24, ::-1].reshape(-1, 3).mean(0)
                                               - COLOURS[1]).max() < 20))
check([g[0] for g in got] == ["img_%06d_00.png" % f for f in (1, 5, 9)] and all(g[1] for g in got),
      "crops of frames 1, 5, 9 (the numbers in the file names), each showing the box (%s)" % got)

# --- DeepLabCut CSV ------------------------------------------------------
def dlc_truth(path):
    """(video, frame) -> [(kind, track_name, {node: (x, y, score)})], from the csv module."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    multi = rows[1][0] == "individuals"
    nh = 4 if multi else 3
    nidx = 1
    while rows[0][nidx] == "":
        nidx += 1
    coords = rows[nh - 1]
    lik = "likelihood" in coords
    step = 3 if lik else 2
    out = {}
    for r in rows[nh:]:
        if nidx == 3:
            video, image = r[1], r[2]
        elif r[0].isdigit():
            video, image = "", r[0]
        else:
            video, image = r[0].split("/")[-2], r[0].split("/")[-1]
        frame = int("".join(ch if ch.isdigit() else " " for ch in os.path.splitext(image)[0]).split()[-1])
        insts = {}
        order = []
        for c in range(nidx, len(r), step):
            ind = rows[1][c] if multi else None
            bp = rows[nh - 2][c]
            if r[c] == "" or r[c + 1] == "":
                continue
            if ind not in insts:
                insts[ind] = {}
                order.append(ind)
            insts[ind][bp] = (float(r[c]), float(r[c + 1]),
                              float(r[c + 2]) if lik and r[c + 2] != "" else None)
        if order:
            out[(video, frame)] = [("predicted" if lik else "user", ind, insts[ind]) for ind in order]
    return out


def compare_dlc(path, what):
    rc, lines, err = tool(path)
    check(rc == 0, "%s loads (%s)" % (what, err.strip()))
    truth = dlc_truth(path)
    nodes = None
    got = {}
    for l in lines:
        nodes = l.get("skeleton", {}).get("nodes", nodes)
        got[(l["source"], l["frame_index"])] = [
            (i["kind"], i["track_name"],
             {nodes[k]: (kp[0], kp[1], kp[3]) for k, kp in enumerate(i["keypoints"]) if kp[2]})
            for i in l["instances"]]
    check(sorted(got) == sorted(truth), "%s: frames %s" % (what, sorted(truth)[:6]))
    check(got == truth, "%s: kinds, individuals and every point equal the csv reading" % what)
    if got != truth:
        for k in truth:
            if got.get(k) != truth[k]:
                print("  %s: got %s want %s" % (k, got.get(k), truth[k]))
                break
    return lines


bps = ["snout", "leftear", "rightear", "tailbase"]
single_old = "scorer," + ",".join(["Mackenzie"] * 8) + "\nbodyparts," + ",".join(
    b for b in bps for _ in "xy") + "\ncoords," + ",".join(["x", "y"] * 4) + "\n"
single_old += "labeled-data/reach1/img0.png,202.0,629.0,197.5,674.0,,,361,462\n"
single_old += "labeled-data/reach1/img033.png,393.0,199.0,409.0,190.0,415.0,215.0,365.0,180.0\n"
single_old += "labeled-data/reach2/img7.png,1,2,3,4,5,6,7,8\n"
compare_dlc(write("CollectedData_Mackenzie.csv", single_old), "DLC labeled data, single animal, 1 index column")
single_new = "scorer,,," + ",".join(["shaokai"] * 8) + "\nbodyparts,,," + ",".join(
    b for b in bps for _ in "xy") + "\ncoords,,," + ",".join(["x", "y"] * 4) + "\n"
single_new += "labeled-data,golden,img0067.png,,,1250.02,471.62,1191.93,489.57,1258.47,458.94\n"
single_new += "labeled-data,golden,img1162.png,1101.4,901.7,1125.2,959.2,,,1.0,2.0\n"
compare_dlc(write("CollectedData_shaokai.csv", single_new), "DLC labeled data, single animal, 3 index columns (2.3+)")
inds = ["individual1", "individual2", "individual3"]
head = ["scorer,,", "individuals,,", "bodyparts,,", "coords,,"]
cols = [(i, b) for i in inds for b in ("bodypart1", "bodypart2")] + [("single", "corner1"), ("single", "corner2")]
multi = "\n".join([
    "scorer,,," + ",".join(["dlc_team"] * 2 * len(cols)),
    "individuals,,," + ",".join(i for i, _ in cols for _ in "xy"),
    "bodyparts,,," + ",".join(b for _, b in cols for _ in "xy"),
    "coords,,," + ",".join(["x", "y"] * len(cols))]) + "\n"
multi += "labeled-data,m3v1mp4,img1029.png," + ",".join(str(50 * (k + 1)) for k in range(2 * len(cols))) + "\n"
multi += "labeled-data,m3v1mp4,img0122.png," + ",".join(
    [""] * 4 + ["150", "150", "200.5", "200"] + [""] * 4 + ["", "", "550", "550"]) + "\n"
compare_dlc(write("CollectedData_dlc_team.csv", multi), "DLC labeled data, multi-animal with unique bodyparts")
pred = "scorer," + ",".join(["DLC_resnet50_x"] * 6) + "\nbodyparts,nose,nose,nose,tail,tail,tail\n" \
    "coords,x,y,likelihood,x,y,likelihood\n0,1.5,2.5,0.9,3,4,0.1\n1,,,,3,4,\n2,246.434,,,5,6,0.5\n"
compare_dlc(write("videoDLC_resnet50_xshuffle1_100.csv", pred), "DLC video predictions, single animal")
mpred = "\n".join([
    "scorer," + ",".join(["DLC_effnet"] * 3 * len(cols)),
    "individuals," + ",".join(i for i, _ in cols for _ in "xyl"),
    "bodyparts," + ",".join(b for _, b in cols for _ in "xyl"),
    "coords," + ",".join(["x", "y", "likelihood"] * len(cols))]) + "\n"
mpred += "0," + ",".join([""] * 18) + ",135.268,139.63,0.76,215.291,233.065,0.531\n"
mpred += "10,200.249,462.708,0.549,212.321,483.963,0.252," + ",".join([""] * 12) + ",116.7,438.9,0.79,,,\n"
compare_dlc(write("m3v1DLC_effnet_el_filtered.csv", mpred), "DLC video predictions, multi-animal")

dbad = [
    ("dlc_bodyparts.csv", single_old.replace("bodyparts,", "bodypart,", 1), "line 2",
     '"bodypart" where the header has "bodyparts"'),
    ("dlc_coords.csv", single_old.replace("coords,x,y,x,y", "coords,x,y,y,x", 1), "line 3, column 4",
     '"y" where the coordinates have "x"'),
    ("dlc_ragged.csv", single_old + "labeled-data/reach1/img9.png,1,2,3\n", "line 7",
     "4 fields, but the header has 9"),
    ("dlc_text.csv", single_old + "labeled-data/reach1/img9.png,1,2,3,4,5,six,7,8\n", "line 7, column 7",
     '(rightear y): "six" is not a number'),
    ("dlc_dup.csv", single_old + "labeled-data/reach1/img00.png,1,2,3,4,5,6,7,8\n", "line 7",
     "frame 0 is listed twice (line 4 too)"),
    ("dlc_dup_pred.csv", pred + "1,1,1,1,1,1,1\n", "line 7", "frame 1 is listed twice (line 5 too)"),
    ("dlc_noframe.csv", single_old + "labeled-data/reach1/front.png,1,2,3,4,5,6,7,8\n", "line 7",
     'image "labeled-data/reach1/front.png" has no frame number'),
    ("dlc_mixed.csv", pred + "labeled-data/v/img3.png,1,1,1,1,1,1\n", "line 7",
     "in a file whose rows are frame numbers"),
    ("dlc_short.csv", "scorer,a,a\nbodyparts,n,n\n", "line 3", "the header ends early"),
]
for name, text, line, problem in dbad:
    path = write(name, text)
    rc, _, err = tool(path)
    check(rc != 0 and path in err and (line + ":" in err or line + " (" in err) and problem in err,
          "%s refused naming the file, %s and the problem (%s)" % (name, line, err.strip()))

print("formats: %d passed, %d failed" % (passed[0], len(failures)))
sys.exit(1 if failures else 0)
