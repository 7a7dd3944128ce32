#!/usr/bin/python3
"""annotoverlay on real data: where the pixels change, against h5py truth.

centered_pair_low_quality.mp4 + centered_pair_predictions.slp, the first 30
frames decoded twice to RGB, with and without `annotoverlay point-radius=2
line-width=1`, each frame known by its annotation meta's frame index
(read through the Onepass introspection bindings). From the .slp (read by sleap_truth with h5py, skeleton edges
from its metadata) and numpy distance maps:

1. every pixel that changed lies within 2 px of a present predicted keypoint
   (or is the pixel holding it) or within 0.5 px of an edge between two
   present keypoints: nothing is drawn anywhere else, missing points draw
   nothing;
2. every pixel of each keypoint's ring (1 < distance <= 2) has a colour
   drawn on that frame, and at least 90% of them the instance's own track
   colour (tab10 by track index; the rest is where the two flies' drawings
   overlap);
3. all 30 frames (every one has predictions) arrive and are drawn on;
4. examples/contact_sheet.py on a small HDF5 and a small tar shard written
   here (black 64x64 images, keypoints at known pixels): at tile size 64
   (scale 1) a user keypoint's pixel has its track colour, a predicted
   one's stays black inside its ring, a missing point draws nothing, and
   the samples appear in the order the seed picks;
5. text: on a black 200x120 RGB frame (appsrc, annotation attached from
   JSON) with point-radius=0, the pixels that text=both adds to text=none
   are exactly the label "Mx-7 0.93" built from OpenCV's own rendering of
   each character (FONT_HERSHEY_PLAIN, scale 0.8, advances from
   cv2.getTextSize) at the documented place (left edge at the box's left
   side, baseline 3 rows above its top; below the box when that leaves the
   image), in the track's colour; text=track draws only the name,
   text=score only the score, text=none nothing outside the box and
   points;
6. allocation: behind decodebin, `annotoverlay ! pngenc` answers the
   decoder's ALLOCATION query with GstVideoMeta (downstream's answer,
   passed through).
Exits non-zero on a mismatch.
"""
import json
import os
import subprocess
import sys

if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    sys.exit(77)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
try:
    gi.require_version("Onepass", "1.0")
    from gi.repository import Onepass  # noqa: E402
except (ValueError, ImportError):
    sys.exit(77)  # built without introspection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sleap_truth  # noqa: E402

N = 30
W = H = 384
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
           (148, 103, 189), (140, 86, 75), (227, 119, 194), (188, 189, 34),
           (23, 190, 207), (255, 221, 0)]
WHITE = (255, 255, 255)


def decode(video, slp, overlay):
    """frame index (from the buffer's annotation meta) -> RGB image of the
    first N frames."""
    ov = "annotoverlay point-radius=2 line-width=1 ! " if overlay else ""
    pipe = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! annotfilter location=%s "
        "instances=predicted ! videoconvert ! video/x-raw,format=RGB ! %s"
        "appsink name=out sync=false" % (video, slp, ov))
    sink = pipe.get_by_name("out")
    pipe.set_state(Gst.State.PLAYING)
    out = {}
    while len(out) < N:
        sample = sink.emit("pull-sample")
        if sample is None:
            sys.exit("FAIL: the stream ended after %d frames" % len(out))
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        img = np.frombuffer(m.data, np.uint8).copy()
        buf.unmap(m)
        # RGB rows of 384 pixels are not padded
        out[Onepass.buffer_get_annotation(buf).get_frame_index()] = \
            img.reshape(H, W, 3)
    pipe.set_state(Gst.State.NULL)
    return out


def edges(slp):
    with h5py.File(slp, "r") as h:
        meta = json.loads(h["metadata"].attrs["json"])
    sk = meta["skeletons"][0]
    ids = [n["id"] for n in sk["nodes"]]
    return [(ids.index(ln["source"]), ids.index(ln["target"]))
            for ln in sk["links"]]


def seg_dist(x0, y0, x1, y1, gx, gy):
    dx, dy = x1 - x0, y1 - y0
    len2 = dx * dx + dy * dy
    u = np.zeros_like(gx) if len2 == 0 else \
        np.clip(((gx - x0) * dx + (gy - y0) * dy) / len2, 0, 1)
    return np.hypot(x0 + u * dx - gx, y0 + u * dy - gy)


def overlay_frame(ann, props, w=200, h=120):
    """One black RGB frame with @ann through annotoverlay @props."""
    pipe = Gst.parse_launch(
        "appsrc name=src format=time caps=video/x-raw,format=RGB,width=%d,"
        "height=%d,framerate=0/1 ! annotoverlay %s ! appsink name=out "
        "sync=false" % (w, h, props))
    pipe.set_state(Gst.State.PLAYING)
    buf = Gst.Buffer.new_wrapped(bytes(w * h * 3))
    Onepass.buffer_add_annotation_json(buf, json.dumps(ann))
    pipe.get_by_name("src").emit("push-buffer", buf)
    pipe.get_by_name("src").emit("end-of-stream")
    sample = pipe.get_by_name("out").emit("pull-sample")
    pipe.set_state(Gst.State.NULL)
    if sample is None:
        sys.exit("FAIL: annotoverlay %s gave no frame" % props)
    ok, m = sample.get_buffer().map(Gst.MapFlags.READ)
    img = np.frombuffer(m.data, np.uint8).copy().reshape(h, w, 3)
    sample.get_buffer().unmap(m)
    return img


def cv2_label(text, left, baseline, shape):
    """The label as the doc says it is drawn: each character rendered by
    OpenCV at the pen position, the pen moved by cv2.getTextSize."""
    import cv2
    mask = np.zeros(shape, bool)
    for ch in text:
        g = np.zeros((13, 11), np.uint8)
        cv2.putText(g, ch, (0, 10), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1,
                    cv2.LINE_8)
        for y, x in zip(*np.nonzero(g)):
            yy, xx = baseline - 10 + y, left + x
            if 0 <= yy < shape[0] and 0 <= xx < shape[1]:
                mask[yy, xx] = True
        left += cv2.getTextSize(ch, cv2.FONT_HERSHEY_PLAIN, 0.8, 1)[0][0]
    return mask


def check_text():
    inst = {"track": 1, "track_name": "Mx-7", "kind": "user", "score": 0.93,
            "bbox": [40.0, 50.0, 60.0, 30.0],
            "keypoints": [[50.0, 60.0, 1, None], [80.0, 70.0, 1, None]]}
    ann = {"source": "t", "frame_index": 0, "width": 200, "height": 120,
           "skeleton": {"name": "s", "nodes": ["a", "b"], "edges": [[0, 1]]},
           "instances": [inst]}
    base = "point-radius=0 line-width=1 "
    plain = overlay_frame(ann, base + "text=none")
    orange = PALETTE[1]
    for top, left, baseline in ((50.0, 40, 47), (5.0, 40, 5 + 30 + 12)):
        inst["bbox"][1] = top
        inst["keypoints"][0][1] = top + 10
        inst["keypoints"][1][1] = top + 20
        plain = overlay_frame(ann, base + "text=none")
        for mode, text in (("both", "Mx-7 0.93"), ("track", "Mx-7"),
                           ("score", "0.93")):
            img = overlay_frame(ann, base + "text=" + mode)
            added = np.any(img != plain, axis=2)
            want = cv2_label(text, left, baseline, added.shape)
            if not np.array_equal(added, want & ~np.all(plain == orange, 2)):
                ys, xs = np.nonzero(added ^ want)
                sys.exit("FAIL: text=%s (box top %g): %d pixels differ from "
                         "the label, first at x=%d y=%d" % (
                             mode, top, len(xs), xs[0], ys[0]))
            if not np.all(img[added] == orange):
                sys.exit("FAIL: text=%s not in the track colour" % mode)
        # text=none draws nothing but the box and the two points
        drawn = np.any(plain != 0, axis=2)
        b = np.zeros_like(drawn)
        b[int(top):int(top) + 31, 40:101] = True
        if (drawn & ~b).any():
            sys.exit("FAIL: text=none drew outside the box")
    print("text: labels where the doc puts them, nothing when off")


def check_allocation(video, slp):
    from gi.repository import GstVideo
    pipe = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! annotfilter location=%s ! "
        "videoconvert ! video/x-raw,format=RGB ! identity name=up ! "
        "annotoverlay ! pngenc ! fakesink" % (video, slp))
    seen = []

    def probe(pad, info):
        q = info.get_query()
        if q.type == Gst.QueryType.ALLOCATION:
            seen.append(q.find_allocation_meta(
                GstVideo.video_meta_api_get_type())[0])
        return Gst.PadProbeReturn.OK
    pipe.get_by_name("up").get_static_pad("src").add_probe(
        Gst.PadProbeType.QUERY_DOWNSTREAM | Gst.PadProbeType.PULL, probe)
    pipe.set_state(Gst.State.PAUSED)
    pipe.get_state(10 * Gst.SECOND)
    pipe.set_state(Gst.State.NULL)
    if not seen or not all(seen):
        sys.exit("FAIL: allocation answers without GstVideoMeta: %s" % seen)


def check_contact_sheet(root):
    import cv2
    import io
    import tarfile
    import tempfile

    tmp = tempfile.mkdtemp(prefix="ov-sheet-")
    kp = np.full((2, 1, 3, 4), np.nan, np.float32)
    kp[0, 0, 0] = [10, 20, 1, np.nan]       # user, track 2 (green)
    kp[0, 0, 1] = [40, 20, 1, np.nan]
    kp[1, 0, 0] = [30, 30, 1, 0.9]          # predicted, untracked (white)
    h5 = os.path.join(tmp, "d.h5")
    with h5py.File(h5, "w") as f:
        f.attrs["layout_version"] = 2
        f.attrs["edges"] = np.array([[0, 1], [1, 2]], np.int32)
        f.create_dataset("images", data=np.zeros((2, 64, 64, 3), np.uint8))
        f["images"].attrs["pixel_format"] = "RGB"
        f["keypoints"] = kp
        f["n_instances"] = np.array([1, 1], np.int32)
        f["track"] = np.array([[2], [-1]], np.int32)
        f["kind"] = np.array([[0], [1]], np.uint8)
        f["frame_index"] = np.array([5, 6], np.int64)
        f["source"] = np.array([0, 0], np.int32)
        f["sources"] = np.array([b"clip"])
    shard = os.path.join(tmp, "train-clip-000000.tar")
    with tarfile.open(shard, "w") as t:
        for i in range(2):
            ok, png = cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))
            ann = {"width": 64, "height": 64, "skeleton": {
                "nodes": ["a", "b", "c"], "edges": [[0, 1], [1, 2]]},
                "instances": [{
                    "kind": ["user", "predicted"][i], "track": [2, None][i],
                    "keypoints": [[None if np.isnan(v) else float(v)
                                   for v in k] for k in kp[i, 0]]}]}
            for ext, data in (("png", png.tobytes()),
                              ("json", json.dumps(ann).encode())):
                info = tarfile.TarInfo("clip_%06d_00.%s" % (5 + i, ext))
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    script = os.path.join(root, "examples", "contact_sheet.py")
    for src in (h5, shard):
        out = os.path.join(tmp, "sheet.png")
        subprocess.run([sys.executable, script, src, out, "-n", "2",
                        "--tile", "64", "--columns", "2"], check=True,
                       stdout=subprocess.DEVNULL)
        sheet = cv2.cvtColor(cv2.imread(out), cv2.COLOR_BGR2RGB)
        if sheet.shape != (64 + 16, 128, 3):
            sys.exit("FAIL: contact sheet of %s is %s" % (src, sheet.shape))
        # the seed decides the order: find each tile by its content
        tiles = [sheet[:64, :64], sheet[:64, 64:]]
        user = [t for t in tiles if t[20, 10].any()]
        pred = [t for t in tiles if not t[20, 10].any()]
        if len(user) != 1 or len(pred) != 1:
            sys.exit("FAIL: %s: want one user tile and one predicted tile"
                     % src)
        u, p = user[0], pred[0]
        for x, y in ((10, 20), (40, 20)):
            if tuple(u[y, x]) != PALETTE[2]:
                sys.exit("FAIL: %s: user keypoint pixel (%d, %d) is %s, "
                         "want track 2's %s" % (src, x, y, u[y, x].tolist(),
                                                PALETTE[2]))
        if p[30, 30].any() or not (p[30, 33] > 200).all():
            sys.exit("FAIL: %s: predicted keypoint should be a white ring "
                     "around a black centre: %s, %s"
                     % (src, p[30, 30].tolist(), p[30, 33].tolist()))
        if p[:, :20].any() or u[40:].any():
            sys.exit("FAIL: %s: something drawn away from the keypoints "
                     "(the missing point or its edge?)" % src)


def main():
    data = os.environ["ONEPASS_SHARED_DATA"]
    video = os.path.join(data, "sleap", "centered_pair_low_quality.mp4")
    slp = os.path.join(data, "sleap", "centered_pair_predictions.slp")
    Gst.init(None)
    plain = decode(video, slp, False)
    drawn = decode(video, slp, True)
    if sorted(plain) != list(range(N)) or sorted(drawn) != list(range(N)):
        sys.exit("FAIL: frames %s and %s, want 0..%d"
                 % (sorted(plain), sorted(drawn), N - 1))
    frames = sleap_truth.select(sleap_truth.read_slp(slp)["frames"], 0,
                                "predicted")
    links = edges(slp)
    gy, gx = np.mgrid[0:H, 0:W].astype(np.float64)
    own = ring_total = kps = 0
    for f in sorted(plain):
        changed = np.any(plain[f] != drawn[f], axis=2)
        insts = frames.get(f, [])
        if not insts:
            if changed.any():
                sys.exit("FAIL: frame %d has no instance but changed" % f)
            continue
        if not changed.any():
            sys.exit("FAIL: frame %d has instances but nothing was drawn" % f)
        allowed = np.zeros((H, W), bool)
        colours = set()
        rings = []
        for inst in insts:
            col = PALETTE[inst["track"] % 10] if inst["track"] >= 0 else WHITE
            colours.add(col)
            kp = inst["keypoints"]
            for x, y, vis, _ in kp:
                if not vis:
                    continue
                d = np.hypot(gx - x, gy - y)
                allowed |= d <= 2 + 1e-6
                allowed[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))] = True
                rings.append(((d > 1) & (d <= 2), col))
            for s, t in links:
                if kp[s][2] and kp[t][2]:
                    allowed |= seg_dist(kp[s][0], kp[s][1], kp[t][0],
                                        kp[t][1], gx, gy) <= 0.5 + 1e-6
        stray = changed & ~allowed
        if stray.any():
            ys, xs = np.nonzero(stray)
            sys.exit("FAIL: frame %d: %d pixels drawn away from every "
                     "keypoint and edge, first at x=%d y=%d"
                     % (f, stray.sum(), xs[0], ys[0]))
        for mask, col in rings:
            px = drawn[f][mask]
            ok = np.zeros(len(px), bool)
            for c in colours:
                ok |= np.all(px == c, axis=1)
            if not ok.all():
                sys.exit("FAIL: frame %d: ring pixels %s are no drawn colour"
                         % (f, px[~ok][:3].tolist()))
            own += int(np.all(px == col, axis=1).sum())
            ring_total += len(px)
            kps += 1
    if kps == 0 or own < 0.9 * ring_total:
        sys.exit("FAIL: %d of %d ring pixels of %d keypoints in their own "
                 "track colour" % (own, ring_total, kps))
    check_contact_sheet(os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", ".."))
    check_text()
    check_allocation(video, slp)
    print("ok: %d frames, %d keypoints, %d of %d ring pixels in their own "
          "track colour, nothing drawn elsewhere; contact sheet ok"
          % (len(plain), kps, own, ring_total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
