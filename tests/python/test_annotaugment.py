#!/usr/bin/python3
"""annotaugment on real crops: pixels against OpenCV, keypoints against the
same matrix, left/right swaps, determinism, and unique keys on disk.

Crops (160x160, predicted instances) of the first frames of
centered_pair_low_quality.mp4 + centered_pair_predictions.slp, taken once
without and once with annotaugment. For every augmented copy:

1. its matrix is fitted from the keypoints (original -> augmented, least
   squares over the points present in both; for a mirroring copy the
   symmetric nodes of the .slp, read with h5py from its metadata JSON,
   trade places); it must be a rotation/scale/flip within the property
   ranges, every keypoint must sit within 1e-6 px of the matrix's image of
   the original one, points the matrix sends outside the crop must be
   missing (NaN, not visible), and exactly the copies whose matrix mirrors
   must have swapped their symmetric nodes;
2. cv2.warpAffine(original, that matrix, INTER_LINEAR, BORDER_CONSTANT 0)
   must equal the augmented pixels up to interpolation rounding (RGB,
   GRAY8, and I420 per plane with the plane's matrix);
3. hflip=1 is an exact mirror (numpy fliplr) with wingL <-> wingR etc.
   swapped; hflip=1 vflip=1 is a 180 degree turn with no swap;
4. brightness/contrast alone: out = clip(round(g (v - 128) + 128 + b))
   for one g, b in range per copy, keypoints unchanged;
5. a skeleton without symmetries (labels.v002.slp) and hflip > 0 is an
   error naming the problem; symmetries=none flips without a swap,
   symmetries=a:b swaps that pair, an unknown node name is an error;
6. the same seed gives the same bytes, another seed others; the crops fed
   again in reverse order through appsrc (annotations attached from JSON)
   give the same copies: draws depend on the sample, not on the order;
7. batchsink format=tar: WebDataset base_plus_ext grouping gives one
   sample per key, png + json each, keys <key> and <key>_aug1.._aug3 with
   "augment" 0..3 in the JSON;
8. annotaugment before cropextract: the crops keep their copy number;
9. examples/augment_preview.py writes its sheet: 2 rows of 5 tiles.
Exits non-zero on a mismatch.
"""
import glob
import json
import os
import re
import sys
import tarfile
import tempfile

if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    sys.exit(77)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstVideo  # noqa: E402
try:
    gi.require_version("Onepass", "1.0")
    from gi.repository import Onepass  # noqa: E402
except (ValueError, ImportError):
    sys.exit(77)  # built without introspection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pipelines import slp_symmetries  # noqa: E402

DATA = os.environ["ONEPASS_SHARED_DATA"]
VIDEO = os.path.join(DATA, "sleap", "centered_pair_low_quality.mp4")
SLP = os.path.join(DATA, "sleap", "centered_pair_predictions.slp")
USER_SLP = os.path.join(DATA, "sleap", "labels.v002.slp")
C = 160          # crop size
N_CROPS = 8      # 4 frames x 2 flies
JITTER = ("hflip=0.5 rotate=180 scale=0.15 translate=0.1")


class Fail(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


def planes(buf, caps):
    """The buffer's planes as 2-D/3-D arrays (strides from the caps)."""
    info = GstVideo.VideoInfo.new_from_caps(caps)
    ok, m = buf.map(Gst.MapFlags.READ)
    data = np.frombuffer(m.data, np.uint8).copy()
    buf.unmap(m)
    out = []
    fi = info.finfo
    for p in range(info.finfo.n_planes):
        w = -(-info.width // (1 << fi.w_sub[p])) if fi.n_planes > 1 \
            else info.width
        h = -(-info.height // (1 << fi.h_sub[p])) if fi.n_planes > 1 \
            else info.height
        ps = fi.pixel_stride[p] if fi.n_planes == 1 else 1
        rows = data[info.offset[p]:info.offset[p] + info.stride[p] * h]
        rows = rows.reshape(h, info.stride[p])[:, :w * ps]
        out.append(rows.reshape(h, w, ps) if ps > 1 else rows)
    return out


def pull(desc, n, appsrc_feed=None):
    """(annotation dict, planes) of the first n buffers of appsink 'out'."""
    pipe = Gst.parse_launch(desc)
    sink = pipe.get_by_name("out")
    pipe.set_state(Gst.State.PLAYING)
    if appsrc_feed:
        appsrc_feed(pipe.get_by_name("src"))
    out = []
    bus = pipe.get_bus()
    while len(out) < n:
        sample = sink.emit("try-pull-sample", Gst.SECOND)
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg or (sample is None and sink.is_eos()):
            pipe.set_state(Gst.State.NULL)
            raise Fail("stream ended after %d of %d buffers%s" % (
                len(out), n, ": " + msg.parse_error()[0].message
                if msg else ""))
        if sample is None:
            continue
        buf = sample.get_buffer()
        ann = json.loads(Onepass.buffer_get_annotation_json(buf))
        out.append((ann, planes(buf, sample.get_caps()), buf))
    pipe.set_state(Gst.State.NULL)
    return out


def crops(fmt, augment=None, n=N_CROPS, slp=SLP, instances="predicted"):
    aug = "annotaugment %s ! " % augment if augment else ""
    return pull("filesrc location=%s ! decodebin ! annotfilter location=%s "
                "instances=%s ! cropextract width=%d height=%d ! "
                "videoconvert ! video/x-raw,format=%s ! %sappsink name=out "
                "sync=false" % (VIDEO, slp, instances, C, C, fmt, aug), n)


def ident(ann):
    return (ann["frame_index"], ann["crop"]["instance"])


def kps(ann):
    return np.array([[np.nan if v is None else v for v in k[:2]]
                     for k in ann["instances"][0]["keypoints"]], float)


def fit(src, dst):
    """2x3 least-squares affine src -> dst over rows present in both."""
    ok = ~np.isnan(src).any(1) & ~np.isnan(dst).any(1)
    expect(ok.sum() >= 3, "fewer than 3 points to fit a matrix")
    a = np.hstack([src[ok], np.ones((ok.sum(), 1))])
    m, _, _, _ = np.linalg.lstsq(a, dst[ok], rcond=None)
    res = np.abs(a @ m - dst[ok]).max()
    return m.T, res


def swap_perm(nodes, pairs):
    perm = list(range(len(nodes)))
    for pair in pairs:
        a, b = sorted(nodes.index(n) for n in pair)
        perm[a], perm[b] = b, a
    return perm


def check_matrix_and_keypoints(orig, augd, nodes, pairs, ranges):
    """Fits each copy's matrix; returns {(frame, inst, k): M}."""
    by_id = {ident(a): a for a, _, _ in orig}
    perm = swap_perm(nodes, pairs)
    mats, mirrored = {}, 0
    for ann, _, _ in augd:
        k = ann.get("augment", 0)
        expect(k >= 1, "an augmented copy without \"augment\": %s" % k)
        o = kps(by_id[ident(ann)])
        a = kps(ann)
        m_id, r_id = fit(o, a)
        m_sw, r_sw = fit(o[perm], a)
        swapped = r_sw < r_id
        m, res = (m_sw, r_sw) if swapped else (m_id, r_id)
        expect(res < 1e-6, "%s copy %d: keypoints fit no affine map "
               "(residual %.3g / %.3g)" % (ident(ann), k, r_id, r_sw))
        det = np.linalg.det(m[:, :2])
        expect(swapped == (det < 0), "%s copy %d: det %.3f but symmetric "
               "nodes %s" % (ident(ann), k, det,
                             "swapped" if swapped else "kept"))
        mirrored += det < 0
        s = np.sqrt(abs(det))
        expect(abs(s - 1) <= ranges["scale"] + 1e-9, "scale %.4f" % s)
        lin = m[:, :2] / s
        expect(np.allclose(lin @ lin.T, np.eye(2), atol=1e-9),
               "not a rotation/flip: %s" % lin)
        c = np.array([(C - 1) / 2.0] * 2)
        shift = m[:, :2] @ c + m[:, 2] - c
        expect(np.all(np.abs(shift) <= ranges["translate"] * C + 1e-6),
               "shift %s" % shift)
        # every point: moved exactly, or missing when it leaves the crop
        src = o[perm] if swapped else o
        moved = src @ m[:, :2].T + m[:, 2]
        inside = np.all((moved >= -0.5) & (moved < C - 0.5), axis=1)
        for i, kp in enumerate(ann["instances"][0]["keypoints"]):
            if np.isnan(src[i]).any() or not inside[i]:
                expect(kp[0] is None and kp[2] == 0,
                       "%s copy %d node %d: should be missing, is %s"
                       % (ident(ann), k, i, kp))
            else:
                expect(abs(kp[0] - moved[i, 0]) < 1e-6 and
                       abs(kp[1] - moved[i, 1]) < 1e-6,
                       "node %d at %s, matrix says %s" % (i, kp[:2],
                                                          moved[i]))
        mats[ident(ann) + (k,)] = m
    return mats, mirrored


def compare(ref, got, what):
    d = np.abs(ref.astype(int) - got.astype(int))
    # interpolation rounding only: at most 1 level, on few pixels
    expect(d.max() <= 1 and (d > 0).mean() < 0.01,
           "%s: max diff %d, %.3f%% of values differ" % (
               what, d.max(), 100 * (d > 0).mean()))
    return d.max(), (d > 0).mean()


def warp(img, m, size, fill=0):
    return cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def plane_matrix(m, sub):
    """The matrix on a plane subsampled by sub (sample u covers pixels
    around (u + 0.5) sub - 0.5)."""
    s = np.array([[1.0 / sub, 0, 0.5 / sub - 0.5], [0, 1.0 / sub,
                                                    0.5 / sub - 0.5],
                  [0, 0, 1]])
    return (s @ np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(s))[:2]


def check_warp(nodes, pairs):
    ranges = {"scale": 0.15, "translate": 0.1}
    worst = []
    for fmt in ("RGB", "GRAY8", "I420"):
        orig = crops(fmt)
        augd = crops(fmt, "copies=3 seed=11 " + JITTER, n=3 * N_CROPS)
        mats, mirrored = check_matrix_and_keypoints(orig, augd, nodes,
                                                    pairs, ranges)
        expect(0 < mirrored < len(augd), "%s: %d of %d copies mirrored with "
               "hflip=0.5" % (fmt, mirrored, len(augd)))
        by_id = {ident(a): p for a, p, _ in orig}
        for ann, pl, _ in augd:
            m = mats[ident(ann) + (ann["augment"],)]
            src = by_id[ident(ann)]
            for p in range(len(pl)):
                sub = 2 if p > 0 else 1
                size = (pl[p].shape[1], pl[p].shape[0])
                # outside the crop: black, i.e. limited-range luma 16 and
                # neutral chroma 128 for I420
                fill = 0 if fmt != "I420" else 16 if p == 0 else 128
                ref = warp(src[p], plane_matrix(m, sub), size, fill)
                worst.append(compare(ref, pl[p], "%s plane %d %s" % (
                    fmt, p, ident(ann))))
    print("warp vs cv2: max diff %d, at most %.3f%% of values differ"
          % (max(w[0] for w in worst), 100 * max(w[1] for w in worst)))


def check_flips(nodes, pairs):
    orig = {ident(a): (a, p) for a, p, _ in crops("RGB")}
    perm = swap_perm(nodes, pairs)
    for props, swap in (("hflip=1", True), ("hflip=1 vflip=1", False)):
        for ann, pl, _ in crops("RGB", props):
            o_ann, o_pl = orig[ident(ann)]
            o, a = kps(o_ann), kps(ann)
            want = np.stack([C - 1 - o[:, 0], o[:, 1] if swap else
                             C - 1 - o[:, 1]], 1)
            if swap:
                want = want[perm]
                expect(np.array_equal(pl[0], o_pl[0][:, ::-1]),
                       "hflip=1 is not the mirrored crop")
            else:
                expect(np.array_equal(pl[0], o_pl[0][::-1, ::-1]),
                       "hflip=1 vflip=1 is not the crop turned by 180")
            expect(np.allclose(a, want, atol=1e-9, equal_nan=True),
                   "%s: keypoints %s, want %s" % (props, a[:3], want[:3]))
    il, ir = nodes.index("wingL"), nodes.index("wingR")
    expect(perm[il] == ir, "wingL/wingR are no symmetric pair")
    print("flips: exact mirror, %d symmetric pairs swapped" % len(pairs))


def check_colour():
    orig = {ident(a): (a, p) for a, p, _ in crops("RGB")}
    for ann, pl, _ in crops("RGB", "copies=2 seed=4 brightness=0.2 "
                            "contrast=0.3", n=2 * N_CROPS):
        o_ann, o_pl = orig[ident(ann)]
        expect(np.allclose(kps(ann), kps(o_ann), equal_nan=True),
               "colour jitter moved keypoints")
        v = o_pl[0].astype(float).ravel()
        out = pl[0].astype(float).ravel()
        mid = (out > 2) & (out < 253)
        g, b = np.polyfit(v[mid] - 128, out[mid] - 128, 1)
        pred = np.clip(np.round(g * (v - 128) + 128 + b), 0, 255)
        expect(np.abs(pred - out).max() <= 1,
               "not one gain/offset: max error %d" % np.abs(pred - out).max())
        expect(abs(g - 1) <= 0.3 + 1e-3 and abs(b) <= 0.2 * 255 + 0.5,
               "gain %.3f offset %.1f out of range" % (g, b))
    print("colour: one gain/offset per copy, keypoints unchanged")


def check_symmetries_property():
    # labels.v002.slp: the same flies, user labels, no symmetries stored
    try:
        crops("RGB", "hflip=0.5", n=1, slp=USER_SLP, instances="user")
        raise Fail("hflip on a skeleton without symmetries was accepted")
    except Fail as e:
        expect("has no symmetries" in str(e), "error: %s" % e)
    orig = {ident(a): a for a, _, _ in crops("RGB", n=4, slp=USER_SLP,
                                             instances="user")}
    nodes = orig[next(iter(orig))]["skeleton"]["nodes"]
    # its two nodes (head, abdomen) are no left/right pair: "none" flips
    # without a swap; naming them as a pair (only to see the property act)
    # swaps them
    for spec, pairs in (("none", []), ("head:abdomen", [("head",
                                                          "abdomen")])):
        for ann, _, _ in crops("RGB", "hflip=1 symmetries=" + spec, n=4,
                               slp=USER_SLP, instances="user"):
            o, a = kps(orig[ident(ann)]), kps(ann)
            want = np.stack([C - 1 - o[:, 0], o[:, 1]], 1)
            want = want[swap_perm(nodes, pairs)]
            expect(np.allclose(a, want, equal_nan=True),
                   "symmetries=%s: keypoints %s, want %s" % (spec, a, want))
    try:
        crops("RGB", "hflip=1 symmetries=head:tail", n=1, slp=USER_SLP,
              instances="user")
        raise Fail("symmetries naming no node was accepted")
    except Fail as e:
        expect("head:tail" in str(e), "error: %s" % e)
    print("symmetries: error without them, property swaps the named pair")


def check_determinism(pairs):
    props = "copies=3 seed=11 " + JITTER + " brightness=0.1"
    a = crops("RGB", props, n=3 * N_CROPS)
    b = crops("RGB", props, n=3 * N_CROPS)
    c = crops("RGB", props.replace("seed=11", "seed=12"), n=3 * N_CROPS)
    for (aa, ap, _), (ba, bp, _) in zip(a, b):
        expect(aa == ba and np.array_equal(ap[0], bp[0]),
               "same seed, different output")
    expect(sum(np.array_equal(x[1][0], y[1][0]) for x, y in zip(a, c)) == 0,
           "another seed gave the same pixels")
    # the crops again, reversed, through appsrc: the same copies. The
    # annotation JSON's skeleton has no symmetries: the property gives the
    # .slp's pairs
    orig = crops("RGB")
    spec = ",".join(":".join(sorted(p)) for p in pairs)

    def feed(src):
        for ann, _, buf in reversed(orig):
            copy = Gst.Buffer.new_wrapped(
                buf.extract_dup(0, buf.get_size()))
            Onepass.buffer_add_annotation_json(copy, json.dumps(ann))
            src.emit("push-buffer", copy)
        src.emit("end-of-stream")
    rev = pull("appsrc name=src format=time caps=video/x-raw,format=RGB,"
               "width=%d,height=%d,framerate=0/1 ! annotaugment %s "
               "symmetries=%s ! appsink name=out sync=false" % (C, C, props,
                                                                spec),
               3 * N_CROPS, feed)
    fwd = {ident(x[0]) + (x[0]["augment"],): x[1][0] for x in a}
    for ann, pl, _ in rev:
        expect(np.array_equal(fwd[ident(ann) + (ann["augment"],)], pl[0]),
               "reversed input: copy %s differs" % (ident(ann),))
    print("determinism: same seed same bytes, order does not matter")


def base_plus_ext(name):
    m = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", name)
    return m.groups() if m else (None, None)


def run_to_eos(pipe, what):
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(
        120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        raise Fail("%s pipeline: %s" % (
            what, msg.parse_error()[0].message if msg else "timeout"))


def check_keys(tmp):
    out = os.path.join(tmp, "tar")
    pipe = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! annotfilter location=%s "
        "instances=predicted ! cropextract width=%d height=%d ! "
        "videoconvert ! video/x-raw,format=RGB ! identity eos-after=%d ! "
        "annotaugment copies=3 include-original=true seed=2 %s ! pngenc ! "
        "batchsink location=%s format=tar" % (VIDEO, SLP, C, C, N_CROPS,
                                              JITTER, out))
    run_to_eos(pipe, "batchsink")
    groups = {}
    for shard in sorted(glob.glob(os.path.join(out, "*.tar"))):
        with tarfile.open(shard) as t:
            for member in t.getmembers():
                key, ext = base_plus_ext(member.name)
                expect(ext not in groups.setdefault(key, {}),
                       "key %s has two .%s" % (key, ext))
                groups[key][ext] = t.extractfile(member).read()
    expect(len(groups) % 4 == 0 and len(groups) >= 4,
           "%d samples, want 4 per crop" % len(groups))
    bases = set()
    for key, g in groups.items():
        expect(set(g) == {"png", "json"}, "%s: members %s" % (key, set(g)))
        ann = json.loads(g["json"])
        k = ann.get("augment", 0)
        base = key[:-len("_aug%d" % k)] if k else key
        expect(key == (base + "_aug%d" % k if k else base),
               "key %s for augment %d" % (key, k))
        bases.add(base)
    expect(len(groups) == 4 * len(bases), "%d keys for %d crops" % (
        len(groups), len(bases)))
    for base in bases:
        expect(all((base + s) in groups for s in ("", "_aug1", "_aug2",
                                                  "_aug3")),
               "%s: not every copy" % base)
    print("keys: %d samples, %d crops x 4, one sample per key"
          % (len(groups), len(bases)))


def check_hdf5_augment(tmp):
    """format=hdf5 stores each row's copy number in /augment (0 original,
    k the k-th copy), so augmented rows are told apart without pixels."""
    import h5py
    out = os.path.join(tmp, "aug.h5")
    pipe = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! annotfilter location=%s "
        "instances=predicted ! cropextract width=%d height=%d ! "
        "videoconvert ! video/x-raw,format=RGB ! identity eos-after=%d ! "
        "annotaugment copies=2 include-original=true seed=5 hflip=0.5 ! "
        "batchsink location=%s format=hdf5" % (VIDEO, SLP, C, C, N_CROPS, out))
    run_to_eos(pipe, "hdf5")
    with h5py.File(out, "r") as f:
        aug = f["augment"][()].tolist()
        n = len(f["images"])
    expect(len(aug) == n and n % 3 == 0 and n >= 3,
           "hdf5: %d rows, %d augment values" % (n, len(aug)))
    expect(aug == [0, 1, 2] * (n // 3), "hdf5 augment column %s" % aug[:9])
    print("hdf5: /augment = 0, 1, 2 per crop over %d rows" % n)


def check_frames_then_crops():
    """annotaugment on whole frames, cropextract after it: each crop of an
    augmented frame keeps its copy number (so its own key), and its
    keypoints are the augmented frame's mapped into the crop."""
    got = pull("filesrc location=%s ! decodebin ! annotfilter location=%s "
               "instances=predicted ! annotaugment copies=2 seed=1 hflip=0.5 "
               "rotate=20 ! cropextract width=%d height=%d ! videoconvert ! "
               "video/x-raw,format=RGB ! appsink name=out sync=false"
               % (VIDEO, SLP, C, C), 8)
    ids = [ident(a) + (a.get("augment", 0),) for a, _, _ in got]
    expect(all(i[2] in (1, 2) for i in ids) and len(set(ids)) == len(ids),
           "crops of augmented frames: %s" % ids)
    print("frames then crops: %d crops, each with its copy number" % len(ids))


def check_preview(tmp):
    import subprocess
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..")
    out = os.path.join(tmp, "sheet.png")
    subprocess.run([sys.executable, os.path.join(root, "examples",
                                                 "augment_preview.py"),
                    VIDEO, SLP, out, "--crops", "2", "--size", "64"],
                   check=True, capture_output=True)
    sheet = cv2.imread(out)
    expect(sheet is not None and sheet.shape == (2 * 68 + 4, 5 * 68 + 4, 3),
           "augment_preview.py sheet %s" % (
               None if sheet is None else sheet.shape,))
    print("augment_preview.py: 2 crops x (original + 4 copies)")


def main():
    Gst.init(None)
    first = crops("RGB", n=1)[0][0]
    nodes = first["skeleton"]["nodes"]
    pairs = slp_symmetries(SLP)
    expect(len(pairs) == 10, "the fly skeleton has %d pairs" % len(pairs))
    try:
        check_warp(nodes, pairs)
        check_flips(nodes, pairs)
        check_colour()
        check_symmetries_property()
        check_determinism(pairs)
        check_frames_then_crops()
        with tempfile.TemporaryDirectory() as tmp:
            check_keys(tmp)
            check_hdf5_augment(tmp)
            check_preview(tmp)
    except Fail as e:
        sys.exit("FAIL: %s" % e)
    print("annotaugment: all checks passed")


if __name__ == "__main__":
    main()
