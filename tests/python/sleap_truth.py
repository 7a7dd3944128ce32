"""Independent truth for SLEAP files, read with h5py and numpy only.

Written from the format notes (../shared/spec/sleap-format.md), not from the C
readers, so the tests that compare against it check the readers rather than
repeat them. Frames map (video, frame_idx) -> list of instances in file order;
an instance is a dict with kind, track, score and keypoints [[x, y, visible,
score], ...] in the skeleton's node order (NaN x/y = missing).
"""
import json
import math

import h5py
import numpy as np


def _strings(ds):
    if ds.shape == (0,) or ds.dtype.kind == "f":
        return []
    return [v.decode() if isinstance(v, bytes) else str(v) for v in ds[:]]


def read_slp(path):
    with h5py.File(path, "r") as h:
        fmt = float(h["metadata"].attrs["format_id"])
        meta = json.loads(h["metadata"].attrs["json"])
        global_nodes = [n["name"] for n in meta["nodes"]]
        skeletons = [[global_nodes[n["id"]] for n in s["nodes"]] for s in meta["skeletons"]]
        tracks = [json.loads(t)[1] for t in _strings(h["tracks_json"])] if "tracks_json" in h else []
        videos = [json.loads(v) for v in _strings(h["videos_json"])]
        frames = h["frames"][:]
        insts = h["instances"][:]
        points = h["points"][:]
        pred = h["pred_points"][:]
    shift = -0.5 if fmt < 1.1 else 0.0
    # sleap-io links from_predicted through the instance_id column
    names = insts.dtype.names
    ids = [int(i) for i in insts["instance_id"]] if "instance_id" in names \
        else list(range(len(insts)))
    row_of = {}
    for row, i in enumerate(ids):
        row_of[i] = None if i in row_of else row  # a shared id names nothing
    frame_of = {}
    for fr in frames:
        for i in range(int(fr["instance_id_start"]), int(fr["instance_id_end"])):
            frame_of[i] = (int(fr["video"]), int(fr["frame_idx"]))
    replaced = set()
    if "from_predicted" in names:
        for row, ins in enumerate(insts):
            p = row_of.get(int(ins["from_predicted"]))
            if (int(ins["instance_type"]) == 0 and int(ins["from_predicted"]) >= 0
                    and p is not None and int(insts[p]["instance_type"]) == 1
                    and frame_of.get(p) == frame_of.get(row)):
                replaced.add(p)
    out = {}
    for fr in frames:
        lst = []
        for i in range(int(fr["instance_id_start"]), int(fr["instance_id_end"])):
            ins = insts[i]
            predicted = int(ins["instance_type"]) == 1
            table = pred if predicted else points
            rows = table[int(ins["point_id_start"]):int(ins["point_id_end"])]
            kps = []
            for r in rows:
                x, y = float(r["x"]) + shift, float(r["y"]) + shift
                vis = bool(r["visible"]) and not (math.isnan(x) or math.isnan(y))
                if not vis and (math.isnan(x) or math.isnan(y)):
                    x = y = float("nan")
                score = float(r["score"]) if predicted else float("nan")
                kps.append([x, y, 1 if vis else 0, score])
            t = int(ins["track"])
            lst.append({
                "kind": "predicted" if predicted else "user",
                "track": t,
                "track_name": tracks[t] if 0 <= t < len(tracks) else None,
                "score": float(ins["score"]) if predicted else float("nan"),
                "keypoints": kps,
                # a prediction a user instance of its frame corrects
                "replaced": i in replaced,
            })
        key = (int(fr["video"]), int(fr["frame_idx"]))
        out.setdefault(key, []).extend(lst)
    return {"format": fmt, "skeletons": skeletons, "videos": videos, "frames": out}


def present(kp):
    return kp[2] == 1 and not math.isnan(kp[0]) and not math.isnan(kp[1])


def select(frames, video, instances="user", min_keypoints=1):
    """The frames annotfilter must pass: frame -> counted instances. With
    instances=all, a prediction that a user instance corrects gives way to
    it (SLEAP's from_predicted): each animal once."""
    kinds = {"user": {"user"}, "predicted": {"predicted"}, "all": {"user", "predicted"}}[instances]
    out = {}
    for (v, f), lst in frames.items():
        if v != video:
            continue
        keep = [i for i in lst if i["kind"] in kinds
                and not (instances == "all" and i.get("replaced"))
                and sum(present(k) for k in i["keypoints"]) >= min_keypoints]
        if keep:
            out[f] = keep
    return out


def close(a, b, tol=1e-6):
    if a is None or b is None:
        return (a is None or (isinstance(a, float) and math.isnan(a))) and \
               (b is None or (isinstance(b, float) and math.isnan(b)))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= tol
