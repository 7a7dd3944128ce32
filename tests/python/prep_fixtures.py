"""Tiny generated inputs for the onepass-prep tests: sessions folders of
64x64 videos (ffmpeg) with onepass JSON-lines labels, node maps and
attribute CSVs. The truth the tests compare with is computed here, from
the same numbers the label files hold, never read back through onepass."""
import json
import math
import os
import subprocess

W = H = 64
FRAMES = 30

# two skeletons that name the same body parts differently, and their map
SKELETON_A = ["nose", "tail", "ear"]
SKELETON_B = ["snout", "tailbase", "paw"]
TARGET = ["head", "tail", "ear"]     # the `to` column's order
NODE_MAP = [("nose", "head"), ("tail", "tail"), ("ear", "ear"),
            ("snout", "head"), ("tailbase", "tail")]   # paw: dropped


def make_video(path, frames=FRAMES, seed=0):
    """An H.264 mp4 whose frames differ (testsrc2), GOP 10, no B-frames."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=%dx%d:rate=30:duration=%g" % (W, H, frames / 30.0),
                    "-vf", "hue=h=%d" % (seed * 40), "-frames:v", str(frames),
                    "-c:v", "libx264", "-g", "10", "-bf", "0", "-pix_fmt", "yuv420p",
                    path], check=True)


def keypoints(seed, frame, inst, nodes):
    """Deterministic keypoints; node 2 is missing on odd frames."""
    out = []
    for k in range(len(nodes)):
        if k == 2 and frame % 2:
            out.append([None, None, 0, None])
        else:
            out.append([float(5 + seed * 3 + k * 7 + inst * 11) + 0.25,
                        float(4 + frame + k * 2 + inst * 5) + 0.5, 1, None])
    return out


def labeled_frames(seed, frames=FRAMES):
    """Every third frame, shifted per video; two instances on every sixth."""
    return [f for f in range(frames) if (f + seed) % 3 == 0]


def write_labels(path, source, nodes, seed, frames=FRAMES):
    """JSON-lines labels; returns {frame: [instance keypoints]}."""
    truth = {}
    with open(path, "w") as f:
        for i, fr in enumerate(labeled_frames(seed, frames)):
            n = 2 if fr % 6 == 0 else 1
            insts = [{"track": t, "kind": "user",
                      "keypoints": keypoints(seed, fr, t, nodes)} for t in range(n)]
            o = {"source": source, "frame_index": fr, "width": W, "height": H,
                 "instances": insts}
            if i == 0:
                o["skeleton"] = {"name": "sk-" + nodes[0], "nodes": nodes, "edges": [[0, 1]]}
            f.write(json.dumps(o) + "\n")
            truth[fr] = [x["keypoints"] for x in insts]
    return truth


def mapped(kps, nodes):
    """The node map applied in Python: target order, NaN without a source."""
    m = dict(NODE_MAP)
    out = []
    for kp in kps:
        row = [[math.nan, math.nan, 0, math.nan] for _ in TARGET]
        for k, name in enumerate(nodes):
            if name in m:
                x, y, v, s = kp[k]
                row[TARGET.index(m[name])] = [math.nan if x is None else x,
                                              math.nan if y is None else y, v,
                                              math.nan if s is None else s]
        out.append(row)
    return out


def write_node_map(path):
    with open(path, "w") as f:
        f.write("from,to\n")
        for a, b in NODE_MAP:
            f.write("%s,%s\n" % (a, b))


def betas(source):
    """Distinct per source: a mix-up between sources shows."""
    base = sum(map(ord, source)) % 97 / 10.0
    return [round(base + 0.01 * i, 6) for i in range(3)]


def write_betas(path, sources):
    with open(path, "w") as f:
        f.write("source,beta0,beta1,beta2\n")
        for s in sources:
            f.write(s + "," + ",".join(repr(v) for v in betas(s)) + "\n")


def make_sessions(root, sessions=("s1", "s2"), cameras=("camA", "camB"), frames=FRAMES):
    """<root>/<session>/<camera>.mp4 + <camera>.jsonl; session 1 uses
    skeleton A, the others skeleton B. Returns {source: (nodes, truth)}."""
    out = {}
    seed = 0
    for si, s in enumerate(sessions):
        nodes = SKELETON_A if si == 0 else SKELETON_B
        for c in cameras:
            d = os.path.join(root, s)
            make_video(os.path.join(d, c + ".mp4"), frames, seed)
            truth = write_labels(os.path.join(d, c + ".jsonl"), c, nodes, seed, frames)
            out[s + "_" + c] = (nodes, truth)
            seed += 1
    return out
