#!/usr/bin/python3
"""Checks the SLEAP readers against truth computed here with h5py/numpy.

For every .slp, .pkg.slp and .analysis.h5 file in $ONEPASS_SHARED_DATA/sleap,
this script reads the tables itself, following ../shared/spec/sleap-format.md,
and compares the result with the JSON lines `$ONEPASS_LABELS_TOOL FILE`
prints: the exact set and order of (video, frame_index), the instances of
each frame in file order, their kind, track, track name and score, and every
keypoint (x, y within 1e-6, visibility, score). It then crafts damaged copies
with h5py and checks each gives a clear error (or a warning where the data
is still usable). Exits non-zero on the first mismatch.
"""
import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sleap_truth  # noqa: E402

DATA = os.path.join(os.environ.get("ONEPASS_SHARED_DATA", "../shared/data"),
                    "sleap")
TOOL = os.environ.get("ONEPASS_LABELS_TOOL")
if not TOOL:
    TOOL = os.path.join(os.environ.get("ONEPASS_BUILD_ROOT", "build"),
                        "tools", "onepass-labels")

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


# `meson test --setup valgrind` wraps this script's python3 in memcheck,
# which checks CPython, not us (the tool runs in children it does not
# trace). So leave valgrind at once and run the tool itself under memcheck.
VALGRIND = os.environ.get("ONEPASS_VALGRIND_TOOL") == "1"
MEMCHECK_FAILED = 3


def leave_valgrind():
    if "vgpreload" not in os.environ.get("LD_PRELOAD", ""):
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = ":".join(p for p in env["LD_PRELOAD"].split(":")
                                 if "vgpreload" not in p)
    env["ONEPASS_VALGRIND_TOOL"] = "1"
    os.execve("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv, env)


def run_tool(path):
    cmd = [TOOL, path]
    if VALGRIND:
        cmd = ["valgrind", "-q", "--tool=memcheck", "--leak-check=full",
               "--errors-for-leak-kinds=definite",
               "--error-exitcode=%d" % MEMCHECK_FAILED,
               "--suppressions=/usr/share/glib-2.0/valgrind/glib.supp"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(p.returncode != MEMCHECK_FAILED or not VALGRIND,
          "%s: memcheck: %s" % (path, p.stderr[-2000:]))
    return p.returncode, p.stdout, p.stderr


def text(v):
    """a string value as h5py returns it: str, bytes, a one-element array
    of either, or (as sleap-io accepts for metadata) an array of bytes"""
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "iu":
            return v.tobytes().rstrip(b"\0").decode("utf-8")
        assert v.size == 1, v
        v = v.reshape(-1)[0]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8")
    return str(v)


def nan_to_none(v):
    v = float(v)
    return None if math.isnan(v) else v


# ---------------------------------------------------------------- .slp truth

def slp_video_name(f, i, vj):
    """File name as stored; for an embedded video ("."), its source video."""
    backend = vj.get("backend", {})
    name = vj.get("filename", backend.get("filename"))
    if name is None and backend.get("filenames"):
        name = backend["filenames"][0]
    if name is None:
        name = ""
    if name == ".":
        ds = backend.get("dataset", "")
        group = ds.split("/")[0] if ds.startswith("video") else "video%d" % i
        g = f.get(group + "/source_video")
        if g is not None and "json" in g.attrs:
            sj = json.loads(text(g.attrs["json"]))
            name = sj.get("filename", sj.get("backend", {}).get("filename",
                                                               "."))
    return name


def slp_edges(sk, ids):
    """Edges of a node-link skeleton as skeleton-order index pairs. A link's
    type is jsonpickle: py/reduce defines a type (1 edge, 2 symmetry) and
    takes the next py/id (1, 2, ...); {"py/id": N} refers back to it."""
    by_id, out = {}, []
    for link in sk.get("links", []):
        t = link.get("type")
        if t is None:
            kind = 1
        elif "py/reduce" in t:
            kind = t["py/reduce"][1]["py/tuple"][0]
            by_id[len(by_id) + 1] = kind
        else:
            kind = by_id.get(t["py/id"], t["py/id"])
        if kind == 1 and link["source"] in ids and link["target"] in ids:
            out.append([ids.index(link["source"]), ids.index(link["target"])])
    return out


def slp_truth(path):
    """{(video, frame): [instance dicts]}, video names, file-order keys."""
    f = h5py.File(path, "r")
    fmt = float(f["metadata"].attrs["format_id"])
    meta = json.loads(text(f["metadata"].attrs["json"]))
    shift = -0.5 if fmt < 1.1 else 0.0
    skeletons, edges = [], []
    for sk in meta["skeletons"]:
        sk = sk.get("nx_graph", sk)  # SLEAP 1.3.2+ wraps some skeletons
        ids = [n["id"] for n in sk["nodes"]]
        skeletons.append([meta["nodes"][i]["name"] for i in ids])
        edges.append(slp_edges(sk, ids))
    videos, emb = [], []
    vjs = f["videos_json"][()] if len(f["videos_json"]) else []
    for i, v in enumerate(vjs):
        vj = json.loads(text(v))
        videos.append(slp_video_name(f, i, vj))
        ds = vj.get("backend", {}).get("dataset", "") or ""
        emb.append(int(ds[5:].split("/")[0])
                   if ds.startswith("video") and ds[5:6].isdigit() else -1)
    tracks = []
    if len(f["tracks_json"]):
        tracks = [json.loads(text(t))[1] for t in f["tracks_json"][()]]
    frames = f["frames"][()]
    insts = f["instances"][()]
    points = f["points"][()]
    pred = f["pred_points"][()]
    ids = sorted(set(int(v) for v in frames["video"]))
    if ids == list(range(len(videos))):
        vmap = {i: i for i in ids}
    else:
        vmap = {i: (emb.index(i) if i in emb else i) for i in ids}
    out = {}
    for fr in frames:
        key = (vmap[int(fr["video"])], int(fr["frame_idx"]))
        lst = out.setdefault(key, [])
        for k in range(int(fr["instance_id_start"]),
                       int(fr["instance_id_end"])):
            it = insts[k]
            is_pred = int(it["instance_type"]) == 1
            table = pred if is_pred else points
            rows = table[int(it["point_id_start"]):int(it["point_id_end"])]
            assert len(rows) == len(skeletons[int(it["skeleton"])])
            kps = []
            for p in rows:
                x, y = float(p["x"]), float(p["y"])
                if math.isnan(x) or math.isnan(y):
                    kp = [None, None, 0]
                else:
                    kp = [x + shift, y + shift, 1 if bool(p["visible"]) else 0]
                kp.append(nan_to_none(p["score"]) if is_pred else None)
                kps.append(kp)
            track = int(it["track"])
            lst.append({
                "kind": "predicted" if is_pred else "user",
                "track": track,
                "track_name": tracks[track] if track >= 0 else None,
                "score": nan_to_none(it["score"]) if is_pred else None,
                "keypoints": kps,
                "nodes": skeletons[int(it["skeleton"])],
                "edges": edges[int(it["skeleton"])],
            })
    f.close()
    return out, videos


# ------------------------------------------------------- analysis .h5 truth

def axes(ds, default):
    if "dims" in ds.attrs:
        return json.loads(text(ds.attrs["dims"]))
    return default


def canon(ds, names, default):
    """the array transposed to the order @names (frame first)"""
    order = axes(ds, default)
    return np.transpose(ds[()], [order.index(n) for n in names])


def analysis_truth(path):
    f = h5py.File(path, "r")
    tr = f["tracks"]
    matlab = bool(f.attrs.get("transpose", True))
    if matlab:
        d4 = ["track", "xy", "node", "frame"]
        d_occ, d3, d2 = ["frame", "track"], ["track", "node", "frame"], \
            ["track", "frame"]
    else:
        d4 = ["frame", "node", "xy", "track"]
        d_occ, d3, d2 = ["track", "frame"], ["frame", "node", "track"], \
            ["frame", "track"]
    xy = canon(tr, ["frame", "track", "node", "xy"], d4)
    nf, nt, nn, _ = xy.shape
    occ_ds = f["track_occupancy"]
    occ_order = axes(occ_ds, d_occ)
    occ = np.transpose(occ_ds[()], [occ_order.index(n)
                                    for n in ["frame", "track"]])
    if occ.shape != (nf, nt):
        occ = occ.T
    ps = canon(f["point_scores"], ["frame", "track", "node"], d3)
    isc = canon(f["instance_scores"], ["frame", "track"], d2)
    if isc.shape != (nf, nt):
        isc = isc.T
    names = [text(n) for n in f["track_names"][()]] \
        if len(f["track_names"]) else []
    video = text(f["video_path"][()]) if "video_path" in f else ""
    nodes = [text(n) for n in f["node_names"][()]]
    edges = [[nodes.index(text(a)), nodes.index(text(b))]
             for a, b in f["edge_names"][()]] if "edge_names" in f and \
        len(f["edge_names"]) else []
    out = {}
    for fi in range(nf):
        for t in range(nt):
            pts = xy[fi, t]
            if occ[fi, t] == 0 and np.all(np.isnan(pts)):
                continue
            s = float(isc[fi, t])
            kps = []
            for k in range(nn):
                x, y = float(pts[k, 0]), float(pts[k, 1])
                if math.isnan(x) or math.isnan(y):
                    kp = [None, None, 0]
                else:
                    kp = [x, y, 1]
                kp.append(nan_to_none(ps[fi, t, k]))
                kps.append(kp)
            out.setdefault((0, fi), []).append({
                "kind": "predicted" if math.isfinite(s) else "user",
                "track": t if names else -1,
                "track_name": names[t] if names else None,
                "score": s if math.isfinite(s) else None,
                "keypoints": kps,
                "nodes": nodes,
                "edges": edges,
            })
    f.close()
    return out, [video]


# ------------------------------------------------- recorded video sizes

def backend_size(backend):
    """(width, height) a SLEAP backend dict records, or (0, 0)."""
    backend = backend or {}
    shape = backend.get("shape")
    if shape is not None:
        h, w = shape[1] or 0, shape[2] or 0
    else:
        h, w = backend.get("height_") or 0, backend.get("width_") or 0
    return (w, h) if w and h else (0, 0)


def recorded_sizes(path):
    """Per video index, the frame size the file records, read with h5py:
    .slp backend shape [frames, height, width, channels] (for an embedded
    video, its source video's when recorded), analysis files the shape in
    the video_backend_metadata attribute."""
    with h5py.File(path, "r") as f:
        if "track_occupancy" in f:
            meta = f.attrs.get("video_backend_metadata")
            return [backend_size(json.loads(text(meta))) if meta else (0, 0)]
        sizes = []
        vjs = f["videos_json"][()] if len(f["videos_json"]) else []
        for i, v in enumerate(vjs):
            vj = json.loads(text(v))
            size = backend_size(vj.get("backend"))
            if vj.get("backend", {}).get("filename") == ".":
                ds = vj["backend"].get("dataset", "") or ""
                group = ds.split("/")[0] if ds.startswith("video") \
                    else "video%d" % i
                g = f.get(group + "/source_video")
                if g is not None and "json" in g.attrs:
                    src = backend_size(json.loads(text(g.attrs["json"]))
                                       .get("backend"))
                    if src != (0, 0):
                        size = src
            sizes.append(size)
        return sizes


# ------------------------------------------------------------- comparison

def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6


def compare(path, truth, videos):
    name = os.path.basename(path)
    rc, out, err = run_tool(path)
    check(rc == 0, "%s: tool exit %d: %s" % (name, rc, err.strip()))
    if rc != 0:
        return
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    sizes = recorded_sizes(path)
    got_keys = []
    nodes = edges = None
    for obj in lines:
        src = obj["source"]
        check(src in videos, "%s: source %r not a video of the file"
              % (name, src))
        if src not in videos:
            continue
        got_keys.append((videos.index(src), obj["frame_index"]))
        # the tool prints the recorded size as the frame's width/height
        want_size = sizes[got_keys[-1][0]] if got_keys[-1][0] < len(sizes) \
            else (0, 0)
        check((obj["width"], obj["height"]) == want_size,
              "%s frame %r: size %dx%d, the file records %dx%d"
              % ((name, got_keys[-1], obj["width"], obj["height"])
                 + want_size))
        if "skeleton" in obj:
            nodes = obj["skeleton"]["nodes"]
            edges = obj["skeleton"]["edges"]
        want = truth.get(got_keys[-1])
        if want is None:
            check(False, "%s: unexpected frame %r" % (name, got_keys[-1]))
            continue
        insts = obj["instances"]
        check(len(insts) == len(want), "%s frame %r: %d instances, want %d"
              % (name, got_keys[-1], len(insts), len(want)))
        for i, (g, w) in enumerate(zip(insts, want)):
            where = "%s frame %r inst %d" % (name, got_keys[-1], i)
            check(nodes == w["nodes"], "%s: nodes %r != %r"
                  % (where, nodes, w["nodes"]))
            check(edges == w["edges"], "%s: edges %r != %r"
                  % (where, edges, w["edges"]))
            for key in ("kind", "track", "track_name"):
                check(g[key] == w[key], "%s: %s %r != %r"
                      % (where, key, g[key], w[key]))
            check(close(g["score"], w["score"]), "%s: score %r != %r"
                  % (where, g["score"], w["score"]))
            check(len(g["keypoints"]) == len(w["keypoints"]),
                  "%s: keypoint count" % where)
            for k, (gk, wk) in enumerate(zip(g["keypoints"],
                                             w["keypoints"])):
                ok = (close(gk[0], wk[0]) and close(gk[1], wk[1])
                      and gk[2] == wk[2] and close(gk[3], wk[3]))
                check(ok, "%s kp %d: %r != %r" % (where, k, gk, wk))
    check(got_keys == sorted(truth.keys()),
          "%s: frames %r... != %r..." % (name, got_keys[:5],
                                         sorted(truth.keys())[:5]))
    return lines


def expect_error(path, *words):
    rc, out, err = run_tool(path)
    check(rc == 1, "%s: exit %d, want 1 (%s)" % (path, rc, err.strip()))
    check(out == "", "%s: printed frames despite the error" % path)
    for w in (path,) + words:
        check(w in err, "%s: error %r lacks %r" % (path, err.strip(), w))
    return err


def expect_warning(path, *words):
    rc, out, err = run_tool(path)
    check(rc == 0, "%s: exit %d (%s)" % (path, rc, err.strip()))
    check("warning" in err, "%s: no warning" % path)
    for w in words:
        check(w in err, "%s: warning %r lacks %r" % (path, err.strip(), w))
    return out


# ------------------------------------------------------- not label files

def not_labels(tmp):
    """Files the JSON-lines probe must not claim: COCO keypoint JSON (as
    pycocotools writes it, and indented: the COCO reader's error), a
    gzipped CSV, a gzipped COCO file ("not a label file" naming the file
    and the formats); never a JSON-lines parse error. A gzipped annotation
    line still loads."""
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 384,
                        "height": 384}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                             "keypoints": [10, 20, 2, 30, 40, 2],
                             "num_keypoints": 2, "frame_index": 0}],
            "categories": [{"id": 1, "name": "mouse",
                            "keypoints": ["head", "tail"]}]}
    made = {
        "coco.json": json.dumps(coco).encode(),
        "coco_indented.json": json.dumps(coco, indent=2).encode(),
        "tracks.csv.gz": gzip.compress(b"frame,track,x,y\n0,0,1.5,2.5\n"),
        "coco.json.gz": gzip.compress(json.dumps(coco, indent=1).encode()),
    }
    for name, data in made.items():
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        if not name.endswith(".gz"):
            # plain COCO goes to the COCO reader (test_formats.py), whose
            # error is about COCO: this image has no frame
            err = expect_error(path, 'images[0] (id 1): no "frame_index" and '
                               'no number in its file name "a.jpg"')
        else:
            err = expect_error(path, "not a label file", "none of",
                               "SLEAP labels (.slp, .pkg.slp)",
                               "onepass JSON lines")
        check("line 1" not in err, "%s: parse error %r" % (name, err))
    line = {"source": "clip", "frame_index": 4, "instances": []}
    path = os.path.join(tmp, "frames.jsonl.gz")
    with open(path, "wb") as f:
        f.write(gzip.compress((json.dumps(line) + "\n").encode()))
    rc, out, err = run_tool(path)
    check(rc == 0 and json.loads(out)["frame_index"] == 4,
          "gzip JSON lines: %d %r %r" % (rc, out, err))


# ------------------------------------------------------- damaged copies

def edit(tmp, src, name, fn):
    dst = os.path.join(tmp, name)
    shutil.copy(os.path.join(DATA, src), dst)
    os.chmod(dst, 0o644)
    with h5py.File(dst, "r+") as f:
        fn(f)
    return dst


def set_field(f, table, row, field, value):
    arr = f[table][()]
    arr[field][row] = value
    f[table][...] = arr


def damaged(tmp):
    # point_id_end beyond the predicted points table
    p = edit(tmp, "labels.v002.slp", "beyond.slp", lambda f: set_field(
        f, "instances", 17, "point_id_end", 99))
    with h5py.File(p, "r") as f:
        t = "/pred_points" if f["instances"][17]["instance_type"] else \
            "/points"
        rows = len(f[t[1:]])
    expect_error(p, "/instances row 17", "point_id_end 99",
                 "%s (%d rows)" % (t, rows))

    # reversed and overlapping instance ranges, beyond /instances
    def rev(f):
        set_field(f, "frames", 0, "instance_id_start", 2)
        set_field(f, "frames", 0, "instance_id_end", 1)
    expect_error(edit(tmp, "labels.v002.slp", "rev.slp", rev),
                 "/frames row 0", "reversed")

    def overlap(f):
        s = int(f["frames"][0]["instance_id_start"])
        set_field(f, "frames", 3, "instance_id_start", s)
    expect_error(edit(tmp, "labels.v002.slp", "overlap.slp", overlap),
                 "/frames rows 0 and 3", "overlaps")
    expect_error(edit(tmp, "labels.v002.slp", "beyondinst.slp",
                      lambda f: set_field(f, "frames", 9, "instance_id_end",
                                          500)),
                 "/frames row 9", "instance_id_end 500", "(21 rows)")

    # missing tables and attributes
    def drop(name):
        def fn(f):
            del f[name]
        return fn
    expect_error(edit(tmp, "minimal_instance.slp", "noframes.slp",
                      drop("frames")), "/frames table is missing")
    expect_error(edit(tmp, "minimal_instance.slp", "nopoints.slp",
                      drop("points")), "point_id_end 2 is beyond /points")
    p = edit(tmp, "minimal_instance.slp", "nofmt.slp",
             lambda f: f["metadata"].attrs.__delitem__("format_id"))
    expect_error(p, "/metadata has no format_id")

    # wrong dtypes
    def float_points(f):
        del f["points"]
        f.create_dataset("points", data=np.zeros((4, 4)))
    expect_error(edit(tmp, "minimal_instance.slp", "floatpts.slp",
                      float_points), "/points is not a table")

    def no_field(f):
        arr = f["instances"][()]
        names = [n for n in arr.dtype.names if n != "point_id_end"]
        new = np.zeros(len(arr), dtype=[(n, arr.dtype[n]) for n in names])
        for n in names:
            new[n] = arr[n]
        del f["instances"]
        f.create_dataset("instances", data=new)
    expect_error(edit(tmp, "minimal_instance.slp", "nofield.slp", no_field),
                 "/instances has no \"point_id_end\" field")

    def str_field(f):
        arr = f["frames"][()]
        dt = [(n, arr.dtype[n]) if n != "frame_idx" else (n, "S8")
              for n in arr.dtype.names]
        new = np.zeros(len(arr), dtype=dt)
        for n in arr.dtype.names:
            new[n] = arr[n] if n != "frame_idx" else b"zero"
        del f["frames"]
        f.create_dataset("frames", data=new)
    expect_error(edit(tmp, "minimal_instance.slp", "strfield.slp",
                      str_field), "/frames: cannot read")

    # out-of-range references
    expect_error(edit(tmp, "minimal_instance.slp", "badvideo.slp",
                      lambda f: set_field(f, "frames", 0, "video", 5)),
                 "video 5 does not map")
    expect_error(edit(tmp, "minimal_instance.slp", "badskel.slp",
                      lambda f: set_field(f, "instances", 1, "skeleton", 3)),
                 "/instances row 1", "skeleton 3")
    expect_error(edit(tmp, "minimal_instance.slp", "badcount.slp",
                      lambda f: set_field(f, "instances", 0, "point_id_end",
                                          1)),
                 "/instances row 0", "1 points", "2 nodes")
    expect_error(edit(tmp, "minimal_instance.slp", "badtrack.slp",
                      lambda f: set_field(f, "instances", 0, "track", 4)),
                 "/instances row 0", "track 4")
    # -1 is "no track"; any other negative index is damage, never guessed
    expect_error(edit(tmp, "minimal_instance.slp", "negtrack.slp",
                      lambda f: set_field(f, "instances", 0, "track", -5)),
                 "/instances row 0", "track -5")
    expect_error(edit(tmp, "minimal_instance.slp", "crop.slp",
                      lambda f: f.create_dataset(
                          "video_crops", data=np.bytes_("[]"))),
                 "video_crops", "virtual crop")
    expect_error(edit(tmp, "minimal_instance.slp", "badjson.slp",
                      lambda f: f["metadata"].attrs.__setitem__(
                          "json", np.bytes_("{nope"))),
                 "/metadata json is not JSON")

    def two_skeletons(f):
        meta = json.loads(text(f["metadata"].attrs["json"]))
        meta["skeletons"].append(meta["skeletons"][0])
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta))
        set_field(f, "instances", 1, "skeleton", 1)
    expect_error(edit(tmp, "minimal_instance.slp", "twoskel.slp",
                      two_skeletons), "two skeletons (0 and 1)")

    # usable but odd: warnings
    def all_nan(f):
        arr = f["points"][()]
        arr["x"] = np.nan
        arr["y"] = np.nan
        f["points"][...] = arr
    out = expect_warning(edit(tmp, "minimal_instance.slp", "nan.slp",
                              all_nan), "2 instance(s) have no visible")
    obj = json.loads(out.splitlines()[0])
    check(all(kp[:3] == [None, None, 0] for i in obj["instances"]
              for kp in i["keypoints"]), "nan.slp: keypoints not missing")
    expect_warning(edit(tmp, "minimal_instance.slp", "future.slp",
                        lambda f: f["metadata"].attrs.__setitem__(
                            "format_id", 3.5)), "format_id 3.5")

    # an invisible point with coordinates keeps them, visible 0 (no real
    # fixture has one); the predicted table too
    def invisible(f):
        set_field(f, "points", 1, "visible", False)
        set_field(f, "pred_points", 0, "visible", False)
    p = edit(tmp, "typical.slp", "invisible.slp", invisible)
    truth, videos = slp_truth(p)
    lines = compare(p, truth, videos)
    kps = [i["keypoints"] for i in lines[0]["instances"]]
    check(kps[0][1][2] == 0 and kps[0][1][0] is not None
          and kps[2][0][2] == 0 and kps[0][0][2] == 1,
          "invisible.slp: %r" % kps)

    # Python's json writes NaN/Infinity, which strict JSON parsers refuse
    def py_nan(f):
        meta = json.loads(text(f["metadata"].attrs["json"]))
        meta["provenance"] = {"score": float("nan"), "n": "NaN \"x",
                              "big": float("inf"), "small": float("-inf")}
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta))
        vj = json.loads(text(f["videos_json"][0]))
        vj["backend"]["fps"] = float("nan")
        del f["videos_json"]
        f.create_dataset("videos_json", data=[np.bytes_(json.dumps(vj))])
    p = edit(tmp, "minimal_instance.slp", "pynan.slp", py_nan)
    truth, videos = slp_truth(p)
    compare(p, truth, videos)

    # sparse embedded video ids (sleap-io writes N of videoN in /frames)
    def sparse(f):
        vj = [json.dumps({"backend": {"filename": "a.mp4",
                                      "dataset": "video3/video"}}),
              json.dumps({"backend": {"filename": "b.mp4",
                                      "dataset": "video7/video"}})]
        del f["videos_json"]
        f.create_dataset("videos_json", data=[np.bytes_(v) for v in vj])
        set_field(f, "frames", 0, "video", 7)
    p = edit(tmp, "minimal_instance.slp", "sparse.slp", sparse)
    truth, videos = slp_truth(p)
    check(list(truth.keys()) == [(1, 0)], "sparse.slp truth %r" % truth)
    compare(p, truth, videos)

    # random bytes behind an HDF5 signature
    p = os.path.join(tmp, "random.slp")
    rng = np.random.default_rng(7)
    with open(p, "wb") as fh:
        fh.write(b"\x89HDF\r\n\x1a\n" + rng.bytes(4096))
    expect_error(p, "HDF5")

    # analysis files
    def bad_dims(f):
        f["tracks"].attrs["dims"] = '["frame", "frame", "node", "xy"]'
    expect_error(edit(tmp, "untracked_single_standard.analysis.h5",
                      "dims.analysis.h5", bad_dims), "tracks", "dims")

    expect_error(edit(tmp, "untracked_single_standard.analysis.h5",
                      "notracks.analysis.h5", drop("tracks")),
                 "tracks dataset is missing")

    def bad_nodes(f):
        del f["node_names"]
        f.create_dataset("node_names", data=[b"a", b"b", b"c"])
    expect_error(edit(tmp, "untracked_single_standard.analysis.h5",
                      "nodes.analysis.h5", bad_nodes), "node_names has 3")

    def nan_tracks(f):
        f["tracks"][...] = np.nan
    out = expect_warning(edit(tmp, "untracked_single_standard.analysis.h5",
                              "nan.analysis.h5", nan_tracks),
                         "3 occupied slot(s) have no keypoint")
    check(len(out.splitlines()) == 3, "nan.analysis.h5: frames kept")

    def occ_zero(f):
        f["track_occupancy"][...] = 0
        f["tracks"][...] = np.nan
    out = expect_warning(edit(tmp, "untracked_single_standard.analysis.h5",
                              "empty.analysis.h5", occ_zero),
                         "no occupied frame")
    check(out == "", "empty.analysis.h5: printed frames")

    # optional skeleton parts that cannot be read: said, not dropped silently
    def int_edges(f):
        del f["edge_names"]
        f.create_dataset("edge_names", data=np.zeros((2, 2), np.int32))
    out = expect_warning(edit(tmp, "untracked_single_standard.analysis.h5",
                              "intedges.analysis.h5", int_edges),
                         "edge_names", "no edges")
    check(len(out.splitlines()) > 0, "intedges.analysis.h5: frames lost")

    def int_name(f):
        f.attrs["skeleton_name"] = np.arange(3, dtype=np.float32)
    expect_warning(edit(tmp, "untracked_single_standard.analysis.h5",
                        "intname.analysis.h5", int_name),
                   "skeleton_name", "unnamed")


def set_videos_json(f, entries):
    del f["videos_json"]
    f.create_dataset("videos_json",
                     data=[np.bytes_(json.dumps(e)) for e in entries])


def video_sizes(tmp):
    """Files recording their video's size: each frame carries that size."""
    def sio(shape, name="clip.mp4"):
        return {"filename": name, "backend": {
            "type": "MediaVideo", "shape": shape, "filename": name,
            "grayscale": False, "bgr": True, "dataset": "",
            "input_format": "", "fps": 25.0}}

    cases = [
        ("shape.slp", [sio([1100, 480, 640, 3])], (640, 480)),
        ("shape3.slp", [sio([1100, 200, 300])], (300, 200)),
        ("shapenull.slp", [sio(None)], (0, 0)),
        ("shapepartial.slp", [sio([None, 480, None, 3])], (0, 0)),
        ("imagevideo.slp", [{"backend": {
            "filename": "img/0.png", "filenames": ["img/0.png"],
            "height_": 240, "width_": 320, "channels_": 3}}], (320, 240)),
    ]
    for name, entries, want in cases:
        p = edit(tmp, "minimal_instance.slp", name,
                 lambda f: set_videos_json(f, entries))
        check(recorded_sizes(p) == [want], "%s: truth %r" % (name,
                                                            recorded_sizes(p)))
        truth, videos = slp_truth(p)
        compare(p, truth, videos)

    # two videos of different sizes: each frame carries its own video's
    def two(f):
        set_videos_json(f, [sio([10, 480, 640, 1], "a.mp4"),
                            sio([10, 384, 512, 1], "b.mp4")])
        arr = f["frames"][()]
        arr = np.concatenate([arr, arr])
        arr["frame_id"][1] = 1
        arr["video"][1] = 1
        del f["frames"]
        f.create_dataset("frames", data=arr, maxshape=(None,))
        # the second frame reuses no instance rows: make it empty
        set_field(f, "frames", 1, "instance_id_start", 2)
        set_field(f, "frames", 1, "instance_id_end", 2)
    p = edit(tmp, "minimal_instance.slp", "twosizes.slp", two)
    truth, videos = slp_truth(p)
    check(recorded_sizes(p) == [(640, 480), (512, 384)], "twosizes truth")
    lines = compare(p, truth, videos)
    check(lines is not None and [(o["source"], o["width"]) for o in lines]
          == [("a.mp4", 640), ("b.mp4", 512)], "twosizes.slp: %r" % lines)

    # malformed sizes are errors, never a guess
    expect_error(edit(tmp, "minimal_instance.slp", "badshape.slp",
                      lambda f: set_videos_json(f, [sio([1, "x", 640, 3])])),
                 "/videos_json[0]", "backend shape")
    expect_error(edit(tmp, "minimal_instance.slp", "badshape2.slp",
                      lambda f: set_videos_json(f, [sio({"h": 1})])),
                 "/videos_json[0]", "backend shape")

    # embedded: the source video's size wins; two different sizes refuse
    def embedded(shape, src_shape):
        def fn(f):
            vj = json.loads(text(f["videos_json"][0]))
            vj["backend"]["shape"] = shape
            set_videos_json(f, [vj])
            g = f["video0/source_video"]
            sj = json.loads(text(g.attrs["json"]))
            sj["backend"]["shape"] = src_shape
            g.attrs["json"] = json.dumps(sj)
        return fn
    for name, shape, src, want in [
            ("emb.pkg.slp", [1, 384, 384, 1], None, (384, 384)),
            ("embsrc.pkg.slp", None, [1100, 384, 384, 1], (384, 384)),
            ("embsame.pkg.slp", [1, 384, 384, 1], [1100, 384, 384, 1],
             (384, 384))]:
        p = edit(tmp, "minimal_instance.pkg.slp", name, embedded(shape, src))
        check(recorded_sizes(p) == [want], "%s truth" % name)
        truth, videos = slp_truth(p)
        compare(p, truth, videos)
    expect_error(edit(tmp, "minimal_instance.pkg.slp", "embdiff.pkg.slp",
                      embedded([1, 384, 384, 1], [1100, 768, 768, 1])),
                 "embedded frames are 384x384", "768x768")

    # analysis: sleap-io's video_backend_metadata attribute
    for name, meta, want in [
            ("size.analysis.h5", {"shape": [3, 320, 560, 3],
                                  "filename": "robot.mp4", "fps": None},
             (560, 320)),
            ("nosize.analysis.h5", {"filename": "robot.mp4"}, (0, 0))]:
        p = edit(tmp, "untracked_single_standard.analysis.h5", name,
                 lambda f: f.attrs.__setitem__("video_backend_metadata",
                                               json.dumps(meta)))
        check(recorded_sizes(p) == [want], "%s truth" % name)
        truth, videos = analysis_truth(p)
        compare(p, truth, videos)
    expect_error(edit(tmp, "untracked_single_standard.analysis.h5",
                      "badsize.analysis.h5",
                      lambda f: f.attrs.__setitem__(
                          "video_backend_metadata",
                          json.dumps({"shape": "640x480"}))),
                 "video_backend_metadata", "backend shape")


# ------------------------------------------------- files made from scratch

INST_DT = np.dtype([("instance_id", "i8"), ("instance_type", "u1"),
                    ("frame_id", "u8"), ("skeleton", "u4"), ("track", "i4"),
                    ("from_predicted", "i8"), ("score", "f4"),
                    ("point_id_start", "u8"), ("point_id_end", "u8"),
                    ("tracking_score", "f4")])
FRAME_DT = np.dtype([("frame_id", "u8"), ("video", "u4"), ("frame_idx", "u8"),
                     ("instance_id_start", "u8"), ("instance_id_end", "u8")])
POINT_DT = np.dtype([("x", "f8"), ("y", "f8"), ("visible", "?"),
                     ("complete", "?")])
PRED_DT = np.dtype([("x", "f8"), ("y", "f8"), ("visible", "?"),
                    ("complete", "?"), ("score", "f8")])
VIDEO = "centered_pair_low_quality.mp4"


def skeleton_dicts(names):
    """SLEAP's metadata skeleton (networkx node-link dict) over @names."""
    nodes = [{"name": n, "weight": 1.0} for n in names]
    links = [{"source": i, "target": i + 1, "key": 0, "type": {
        "py/reduce": [{"py/type": "sleap.skeleton.EdgeType"},
                      {"py/tuple": [1]}]}} for i in range(len(names) - 1)]
    skel = {"directed": True, "multigraph": True,
            "graph": {"name": "made", "num_edges_inserted": len(links)},
            "nodes": [{"id": i} for i in range(len(names))], "links": links}
    return nodes, skel


def write_slp(path, frames, names=("A", "B"), video=VIDEO, meta=None,
              ids=None):
    """A SLEAP 1.2 file as SLEAP writes it. @frames: [(frame_idx,
    [instance dicts])]; an instance dict has kind ("user"/"predicted"),
    pts [(x, y)], optional from_predicted (a row, or an instance_id when
    @ids renumbers the rows) and score. @meta replaces the metadata JSON."""
    nodes, skel = skeleton_dicts(names)
    if meta is None:
        meta = {"version": "2.0.0", "skeletons": [skel], "nodes": nodes,
                "videos": [], "tracks": [], "suggestions": [],
                "negative_anchors": {}, "provenance": {}}
    fr, ins, pts, pred = [], [], [], []
    for fidx, lst in frames:
        start = len(ins)
        for inst in lst:
            is_pred = inst["kind"] == "predicted"
            table = pred if is_pred else pts
            p0 = len(table)
            for x, y in inst["pts"]:
                table.append((x, y, True, False, 0.5) if is_pred
                             else (x, y, True, False))
            ins.append((len(ins), 1 if is_pred else 0, len(fr), 0, -1,
                        inst.get("from_predicted", -1),
                        inst.get("score", 0.9) if is_pred else np.nan,
                        p0, len(table), 0.0))
        fr.append((len(fr), 0, fidx, start, len(ins)))
    ins = np.array(ins, dtype=INST_DT)
    if ids is not None:
        ins["instance_id"] = ids
    with h5py.File(path, "w") as f:
        g = f.create_group("metadata")
        g.attrs["format_id"] = 1.2
        g.attrs["json"] = np.bytes_(json.dumps(meta))
        f.create_dataset("videos_json", data=[np.bytes_(json.dumps(
            {"backend": {"filename": video, "grayscale": True, "bgr": True,
                         "dataset": "", "input_format": ""}}))],
                         maxshape=(None,))
        f.create_dataset("tracks_json", data=np.zeros(0), maxshape=(None,))
        f.create_dataset("suggestions_json", data=np.zeros(0),
                         maxshape=(None,))
        f.create_dataset("frames", data=np.array(fr, dtype=FRAME_DT),
                         maxshape=(None,))
        f.create_dataset("instances", data=ins, maxshape=(None,))
        f.create_dataset("points", data=np.array(pts, dtype=POINT_DT),
                         maxshape=(None,))
        f.create_dataset("pred_points", data=np.array(pred, dtype=PRED_DT),
                         maxshape=(None,))
    return path


def run_annotfilter(labels, props, out):
    """annotfilter on the real video, its output through batchsink jsonl"""
    cmd = ["gst-launch-1.0", "-q", "filesrc",
           "location=" + os.path.join(DATA, VIDEO), "!", "decodebin", "!",
           "annotfilter", "location=" + labels] + props.split() + [
           "!", "batchsink", "format=jsonl", "location=" + out]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "%s %s: gst-launch: %s" % (labels, props,
                                                        p.stderr[-800:]))
    if p.returncode != 0:
        return None
    with open(out) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def replaced_predictions(tmp):
    """A user instance correcting a prediction (from_predicted) replaces it:
    with instances=all each animal appears once."""
    def u(x, y, src=-1):
        return {"kind": "user", "pts": [(x, y), (x + 5, y + 5)],
                "from_predicted": src}

    def pr(x, y):
        return {"kind": "predicted", "pts": [(x + 0.7, y - 0.3),
                                             (x + 5.2, y + 4.6)]}
    # rows: frame 2: 0 pred, 1 pred, 2 user<-1, 3 user<-0
    #       frame 5: 4 pred, 5 user<-4, 6 user (new animal)
    #       frame 9: 7 pred, 8 user<-0 (another frame's prediction: both
    #                stay, the one case where an animal shows twice)
    #       frame 12: 9 user<-10 (a user instance: nothing), 10 user
    frames = [(2, [pr(10, 10), pr(50, 60), u(50, 60, 1), u(10, 10, 0)]),
              (5, [pr(100, 100), u(100, 100, 4), u(200, 30)]),
              (9, [pr(70, 70), u(70, 70, 0)]),
              (12, [u(30, 30, 10), u(90, 90)])]
    p = write_slp(os.path.join(tmp, "replace.slp"), frames)
    want_animals = {2: 2, 5: 2, 9: 2, 12: 2}

    # the same file with instance_ids that are not the rows (ids = 100 +
    # 3 * row): from_predicted names ids
    ids = [100 + 3 * r for r in range(11)]
    frames_ids = [(fi, [dict(i, from_predicted=(100 + 3 * i["from_predicted"]
                                                if i["from_predicted"] >= 0
                                                else -1))
                        if i["kind"] == "user" else i for i in lst])
                  for fi, lst in frames]
    p_ids = write_slp(os.path.join(tmp, "replace_ids.slp"), frames_ids,
                      ids=ids)

    # a frame listed twice: the correction in one row, its prediction in
    # the other (one frame once merged)
    p_twice = write_slp(os.path.join(tmp, "replace_twice.slp"),
                        [(4, [pr(40, 40)]), (4, [u(40, 40, 0)])])

    for path, animals in [(p, want_animals), (p_ids, want_animals),
                          (p_twice, {4: 1})]:
        name = os.path.basename(path)
        truth = sleap_truth.read_slp(path)
        n_repl = sum(i["replaced"] for lst in truth["frames"].values()
                     for i in lst)
        check(n_repl == {"replace_twice.slp": 1}.get(name, 3),
              "%s: truth marks %d replaced" % (name, n_repl))
        # the tool prints every instance, replaced or not
        t, videos = slp_truth(path)
        compare(path, t, videos)
        rc, out, err = run_tool(path)
        if name != "replace_twice.slp":
            check("2 user instance(s) name in from_predicted no prediction "
                  "of their own frame" in err, "%s: warning %r" % (name, err))
        for mode in ("all", "predicted", "user"):
            lines = run_annotfilter(path, "instances=%s" % mode,
                                    os.path.join(tmp, name + mode + ".jsonl"))
            if lines is None:
                continue
            want = sleap_truth.select(truth["frames"], 0, mode)
            got = {o["frame_index"]: o["instances"] for o in lines}
            check(sorted(got) == sorted(want), "%s %s: frames %r != %r"
                  % (name, mode, sorted(got), sorted(want)))
            for fi, insts in want.items():
                g = got.get(fi, [])
                check(len(g) == len(insts), "%s %s frame %d: %d instances, "
                      "want %d" % (name, mode, fi, len(g), len(insts)))
                for a, b in zip(g, insts):
                    check(a["kind"] == b["kind"] and all(
                        sleap_truth.close(ka[0], kb[0])
                        and sleap_truth.close(ka[1], kb[1])
                        for ka, kb in zip(a["keypoints"], b["keypoints"])),
                        "%s %s frame %d: %r != %r" % (name, mode, fi, a, b))
            if mode == "all":
                # each animal once: a prediction lies within 1 px of its
                # correction, distinct animals are 40 px or more apart
                for fi, n in animals.items():
                    firsts = [i["keypoints"][0][:2] for i in got.get(fi, [])]
                    close_pairs = [(a, b) for k, a in enumerate(firsts)
                                   for b in firsts[k + 1:]
                                   if math.dist(a, b) < 2]
                    check(len(firsts) == n and (fi == 9) == bool(close_pairs),
                          "%s frame %d: animals at %r, want %d"
                          % (name, fi, firsts, n))


# ----------------------------------- string layouts and skeleton forms

def low_level_string(obj, name, data, strpad, cset, size=None):
    """an attribute (obj a group/dataset) as one fixed-length string with
    the padding and character set h5py's high-level API does not choose"""
    t = h5py.h5t.C_S1.copy()
    t.set_size(size or len(data))
    t.set_strpad(strpad)
    t.set_cset(cset)
    if name in obj.attrs:
        del obj.attrs[name]
    a = h5py.h5a.create(obj.id, name.encode(), t,
                        h5py.h5s.create(h5py.h5s.SCALAR))
    pad = b" " if strpad == h5py.h5t.STR_SPACEPAD else b"\0"
    raw = data + pad * ((size or len(data)) - len(data))
    a.write(np.array(raw, dtype="S%d" % len(raw)), mtype=t)


def set_meta(f, fn):
    """rewrite /metadata json: fn(text) stores it"""
    t = text(f["metadata"].attrs["json"])
    del f["metadata"].attrs["json"]
    fn(f["metadata"], t)


def set_strings(f, name, fn):
    """rewrite a string dataset: fn(list of str) -> data, dtype"""
    vals = [text(v) for v in f[name][()]] if len(f[name]) else []
    data, dt = fn(vals)
    del f[name]
    f.create_dataset(name, data=data, dtype=dt)


def utf8_meta(f):
    """non-ASCII node and track names, to see them come through"""
    meta = json.loads(text(f["metadata"].attrs["json"]))
    meta["nodes"][0]["name"] = "köpf"
    meta["nodes"][1]["name"] = "Schwanz ä"
    f["metadata"].attrs["json"] = np.bytes_(json.dumps(
        meta, ensure_ascii=False).encode())


def string_layouts(tmp):
    """Every string form h5py writes reads, with every keypoint as h5py
    reads it; forms onepass does not read fail naming the form."""
    U8, ASC = h5py.h5t.CSET_UTF8, h5py.h5t.CSET_ASCII
    fixed_u8 = lambda n: h5py.string_dtype("utf-8", n)  # noqa: E731

    def enc(t):
        return t.encode("utf-8")
    meta_forms = {
        "meta_fixed_utf8": lambda g, t: g.attrs.create(
            "json", np.array(enc(t), dtype=fixed_u8(len(enc(t))))),
        "meta_vlen_utf8": lambda g, t: g.attrs.__setitem__("json", t),
        "meta_vlen_ascii": lambda g, t: g.attrs.create(
            "json", enc(t), dtype=h5py.string_dtype("ascii")),
        "meta_array1": lambda g, t: g.attrs.create(
            "json", np.array([enc(t)], dtype="S%d" % len(enc(t)))),
        "meta_array1_vlen": lambda g, t: g.attrs.create(
            "json", [t], dtype=h5py.string_dtype("utf-8")),
        "meta_uint8": lambda g, t: g.attrs.__setitem__(
            "json", np.frombuffer(enc(t), dtype=np.uint8)),
        "meta_int8_padded": lambda g, t: g.attrs.__setitem__(
            "json", np.frombuffer(enc(t) + b"\0\0", dtype=np.int8)),
        "meta_nullterm_utf8": lambda g, t: low_level_string(
            g, "json", enc(t), h5py.h5t.STR_NULLTERM, U8, len(enc(t)) + 4),
        "meta_spacepad": lambda g, t: low_level_string(
            g, "json", enc(t), h5py.h5t.STR_SPACEPAD, ASC, len(enc(t)) + 4),
    }
    for name, form in meta_forms.items():
        for base, pre in [("minimal_instance.slp", None),
                          ("typical.slp", utf8_meta)]:
            def fn(f, form=form, pre=pre):
                if pre:
                    pre(f)
                set_meta(f, form)
            p = edit(tmp, base, "%s_%s" % (name, base), fn)
            truth, videos = slp_truth(p)
            compare(p, truth, videos)

    # string datasets: videos_json / tracks_json in every form
    def utf8_tracks(vals):
        return ([t.replace('"1"', '"männchen"') for t in vals], None)
    ds_forms = {
        "fixed_utf8": lambda v: ([enc(x) for x in v],
                                 fixed_u8(max(len(enc(x)) for x in v))),
        "vlen_utf8": lambda v: (v, h5py.string_dtype("utf-8")),
        "vlen_bytes": lambda v: ([enc(x) for x in v],
                                 h5py.string_dtype("ascii")),
        "fixed_ascii_s": lambda v: (np.array([enc(x) for x in v]), None),
    }
    for name, form in ds_forms.items():
        def fn(f, form=form):
            utf8_meta(f)
            set_strings(f, "tracks_json", lambda v: form(
                utf8_tracks(v)[0]))
            set_strings(f, "videos_json", form)
        p = edit(tmp, "typical.slp", "ds_%s.slp" % name, fn)
        truth, videos = slp_truth(p)
        check(any(i["track_name"] == "männchen" for lst in truth.values()
                  for i in lst), "ds_%s truth lacks the track" % name)
        compare(p, truth, videos)

    # source_video json: as a fixed UTF-8 attribute, and sleap-io's json
    # dataset (used past the 64 KB attribute limit; preferred when present)
    def src_fixed(f):
        g = f["video0/source_video"]
        t = text(g.attrs["json"])
        del g.attrs["json"]
        g.attrs.create("json", np.array(enc(t), dtype=fixed_u8(len(enc(t)))))
    def src_dataset(f):
        g = f["video0/source_video"]
        sj = json.loads(text(g.attrs["json"]))
        sj["backend"]["filename"] = sj["filename"] = "from_dataset.mp4"
        g.create_dataset("json", data=json.dumps(sj))
    for name, fn in [("src_fixed.pkg.slp", src_fixed),
                     ("src_dataset.pkg.slp", src_dataset)]:
        p = edit(tmp, "minimal_instance.pkg.slp", name, fn)
        truth, videos = slp_truth(p)
        if name == "src_dataset.pkg.slp":
            videos = ["from_dataset.mp4"]  # the dataset wins
        compare(p, truth, videos)

    # analysis files: node names, dims, video_path, track names
    def analysis_strings(f):
        for ds, dt in [("node_names", fixed_u8(12)),
                       ("edge_names", h5py.string_dtype("utf-8"))]:
            vals = [[text(x) for x in row] if ds == "edge_names" else
                    text(row) for row in f[ds][()]]
            del f[ds]
            f.create_dataset(ds, data=np.array(vals, dtype=object)
                             if ds == "edge_names" else
                             [enc(v) for v in vals], dtype=dt)
        d = text(f["tracks"].attrs["dims"])
        f["tracks"].attrs.create("dims", np.array(enc(d),
                                                  dtype=fixed_u8(len(d))))
        vp = text(f["video_path"][()])
        del f["video_path"]
        f.create_dataset("video_path", data=np.array(enc(vp),
                                                     dtype=fixed_u8(len(vp))))
        f.attrs.create("skeleton_name", np.array(b"fly", dtype=fixed_u8(3)))
    for base in ["centered_pair_standard.analysis.h5",
                 "untracked_single_standard.analysis.h5"]:
        p = edit(tmp, base, "strings_" + base, analysis_strings)
        truth, videos = analysis_truth(p)
        compare(p, truth, videos)

    # layouts onepass does not read: the error names the layout
    refused = [
        ("meta_opaque.slp", lambda g, t: g.attrs.__setitem__(
            "json", np.void(enc(t))), "a scalar opaque value;"),
        ("meta_two.slp", lambda g, t: g.attrs.create(
            "json", np.array([enc(t), b"{}"])),
         ("a 1-D array (2) of ", "-byte fixed-length strings (ASCII);")),
        ("meta_float.slp", lambda g, t: g.attrs.__setitem__("json", 1.5),
         "a scalar 64-bit float;"),
        ("meta_empty.slp", lambda g, t: g.attrs.__setitem__(
            "json", h5py.Empty("S10")),
         "an empty (null dataspace) attribute of 10-byte fixed-length "
         "strings"),
    ]
    for name, form, words in refused:
        p = edit(tmp, "minimal_instance.slp", name,
                 lambda f, form=form: set_meta(f, form))
        expect_error(p, "/metadata attribute json is stored as",
                     *(words if isinstance(words, tuple) else (words,)))
    expect_error(edit(tmp, "minimal_instance.slp", "meta_dataset.slp",
                      lambda f: set_meta(f, lambda g, t: g.create_dataset(
                          "json", data=t))),
                 "/metadata holds its json as a dataset")
    expect_error(edit(tmp, "minimal_instance.slp", "format_str.slp",
                      lambda f: f["metadata"].attrs.__setitem__(
                          "format_id", np.bytes_("1.2"))),
                 "format_id is not a single number (it is stored as a "
                 "scalar 3-byte fixed-length string (ASCII))")
    expect_error(edit(tmp, "minimal_instance.slp", "videos_int.slp",
                      lambda f: set_strings(f, "videos_json", lambda v: (
                          np.zeros((1, 4), dtype=np.int32), None))),
                 "/videos_json is stored as a 2-D array (1x4) of 32-bit "
                 "integers")
    expect_error(edit(tmp, "minimal_instance.slp", "meta_latin1.slp",
                      lambda f: set_meta(f, lambda g, t: g.attrs.create(
                          "json", np.bytes_(t.replace('"A"', '"\xe9"')
                                            .encode("latin-1"))))),
                 "/metadata attribute json", "not UTF-8 text")

    # skeletons: SLEAP 1.3.2+'s {"nx_graph": ..., "description": ...,
    # "preview_image": ...} form, and a symmetry met before any edge (then
    # {"py/id": 1} means a symmetry)
    def nx_form(f):
        meta = json.loads(text(f["metadata"].attrs["json"]))
        meta["skeletons"] = [{"nx_graph": sk, "description": "a fly",
                              "preview_image": {"py/b64": "iVBORw0KGgo="}}
                             for sk in meta["skeletons"]]
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta))
    for base in ["minimal_instance.slp", "centered_pair_predictions.slp",
                 "labels.v002.slp"]:
        p = edit(tmp, base, "nx_" + base, nx_form)
        truth, videos = slp_truth(p)
        compare(p, truth, videos)

    def symmetry_first(f):
        meta = json.loads(text(f["metadata"].attrs["json"]))
        meta["nodes"].append({"name": "C", "weight": 1.0})
        sk = meta["skeletons"][0]
        sk["nodes"].append({"id": 2})
        red = lambda k: {"py/reduce": [  # noqa: E731
            {"py/type": "sleap.skeleton.EdgeType"}, {"py/tuple": [k]}]}
        sk["links"] = [
            {"source": 0, "target": 1, "key": 0, "type": red(2)},
            {"source": 1, "target": 0, "key": 0, "type": {"py/id": 1}},
            {"source": 0, "target": 2, "key": 0, "type": red(1)},
            {"source": 1, "target": 2, "key": 0, "type": {"py/id": 2}}]
        meta["skeletons"] = [{"nx_graph": sk, "description": "",
                              "preview_image": None}]
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta))
        # three points per instance now
        arr = f["points"][()]
        new = np.zeros(6, dtype=arr.dtype)
        new[[0, 1, 3, 4]] = arr
        new["x"][[2, 5]] = [20.0, 30.0]
        new["y"][[2, 5]] = [21.0, 31.0]
        new["visible"][[2, 5]] = True
        del f["points"]
        f.create_dataset("points", data=new)
        set_field(f, "instances", 0, "point_id_end", 3)
        set_field(f, "instances", 1, "point_id_start", 3)
        set_field(f, "instances", 1, "point_id_end", 6)
    p = edit(tmp, "minimal_instance.slp", "symfirst.slp", symmetry_first)
    truth, videos = slp_truth(p)
    check(truth[(0, 0)][0]["edges"] == [[0, 2], [1, 2]],
          "symfirst truth edges %r" % truth[(0, 0)][0]["edges"])
    compare(p, truth, videos)

    # forms onepass cannot read name themselves
    def pickled(f):
        meta = json.loads(text(f["metadata"].attrs["json"]))
        meta["skeletons"][0]["nodes"] = [
            {"id": {"py/object": "sleap.skeleton.Node",
                    "py/state": {"py/tuple": ["A", 1.0]}}},
            {"id": {"py/id": 1}}]
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta))
    expect_error(edit(tmp, "minimal_instance.slp", "pickled.slp", pickled),
                 "skeleton 0 node 0 is a pickled object",
                 "standalone skeleton-file form")
    expect_error(edit(tmp, "minimal_instance.slp", "noform.slp",
                      lambda f: f["metadata"].attrs.__setitem__(
                          "json", np.bytes_(json.dumps({
                              "nodes": [{"name": "A"}],
                              "skeletons": [{"graph": {}}]})))),
                 "skeleton 0 has no \"nodes\" list",
                 "nx_graph")


def main():
    leave_valgrind()
    files = sorted(os.listdir(DATA))
    slps = [f for f in files if f.endswith(".slp")]
    h5s = [f for f in files if f.endswith(".analysis.h5")]
    check(len(slps) >= 9 and len(h5s) >= 5, "fixtures missing in %s" % DATA)
    for name in slps:
        path = os.path.join(DATA, name)
        with h5py.File(path, "r") as f:
            is_labels = "metadata" in f and "format_id" in f["metadata"].attrs
            crop = "video_crops" in f
        if crop:
            expect_error(path, "video_crops")
        elif not is_labels:
            expect_error(path, "no /metadata")
        else:
            truth, videos = slp_truth(path)
            compare(path, truth, videos)
    for name in h5s:
        path = os.path.join(DATA, name)
        truth, videos = analysis_truth(path)
        compare(path, truth, videos)

    # hand-checked facts from the data README
    rc, out, _ = run_tool(os.path.join(DATA, "test_grid_labels.legacy.slp"))
    kps = json.loads(out)["instances"][0]["keypoints"]
    check([k[:2] for k in kps] == [[-1, -1], [-0.5, -0.5], [-1, 0]],
          "legacy 1.0 shift: %r" % kps)
    rc, out, _ = run_tool(os.path.join(DATA,
                                       "centered_pair_matlab.analysis.h5"))
    rc2, out2, _ = run_tool(os.path.join(DATA,
                                         "centered_pair_standard.analysis.h5"))
    check(out == out2 and len(out.splitlines()) == 1100,
          "matlab and standard layouts differ")

    with tempfile.TemporaryDirectory() as tmp:
        damaged(tmp)
        not_labels(tmp)
        video_sizes(tmp)
        replaced_predictions(tmp)
        string_layouts(tmp)

    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
