#!/usr/bin/python3
"""Python reads and writes onepass annotations through introspection
(gi.repository.Onepass, the build tree's typelib): no ctypes, no JSON
parsing of our own.

- Reading: every keypoint (x, y, visible, score), kind, track, track name
  and instance score that annotfilter puts on the buffers of data/sample's
  video with its predictions file, read off appsink buffers with the typed
  API, equals h5py's reading of the .slp (sleap_truth.py), frame by frame;
  the JSON of the same buffers says the same.
- Writing: frames pushed from appsrc with annotations attached from Python
  (JSON and typed API) give the right crops from cropextract: the rects,
  the crop pixels (the frame's pixels there) and the crop-space boxes.
- Errors: bad JSON, a wrong keypoint count and a shared (not writable)
  buffer raise GLib.Error naming the problem.
- A Python element that makes new output buffers keeps the labels with
  Onepass.buffer_copy_annotations (and loses them without it).
"""
import json
import math
import os
import sys

import numpy as np

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("Onepass", "1.0")
from gi.repository import GLib, GObject, Gst, Onepass  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sleap_truth  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIDEO = os.path.join(ROOT, "data", "sample", "centered_pair_low_quality.mp4")
LABELS = os.path.join(ROOT, "data", "sample", "centered_pair_predictions.slp")

Gst.init(None)
failures = []
passed = 0


def check(cond, msg):
    global passed
    print(("ok   " if cond else "FAIL ") + msg)
    if cond:
        passed += 1
    else:
        failures.append(msg)


def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def run_appsink(desc, on_buffer):
    pipe = Gst.parse_launch(desc)
    sink = pipe.get_by_name("out")
    pipe.set_state(Gst.State.PLAYING)
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        on_buffer(sample.get_buffer())
    msg = pipe.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    err = msg.parse_error()[0].message if msg and msg.type == Gst.MessageType.ERROR else None
    pipe.set_state(Gst.State.NULL)
    return err


# ------------------------------------------------------------------ reading
truth = sleap_truth.read_slp(LABELS)
want = sleap_truth.select(truth["frames"], 0, instances="predicted")
got = {}
json_agrees = [0, 0]


def read(buf):
    ann = Onepass.buffer_get_annotation(buf)
    if ann is None:
        return
    sk = ann.get_skeleton()
    nodes = sk.get_nodes() if sk else []
    insts = []
    for i in range(ann.n_instances()):
        inst = ann.get_instance(i)
        kps = np.array(inst.get_keypoints()).reshape(-1, 4)
        insts.append({"kind": Onepass.instance_kind_to_string(inst.get_kind()),
                      "track": inst.get_track(), "track_name": inst.get_track_name(),
                      "score": inst.get_score(), "keypoints": kps.tolist()})
    got[ann.get_frame_index()] = (nodes, insts)
    # the JSON of the same buffer holds the same numbers
    j = json.loads(Onepass.buffer_get_annotation_json(buf))
    ok = j["frame_index"] == ann.get_frame_index() and len(j["instances"]) == len(insts)
    for ji, ti in zip(j["instances"], insts):
        for jk, tk in zip(ji["keypoints"], ti["keypoints"]):
            ok = ok and all(same(float("nan") if a is None else float(a), b) for a, b in zip(jk, tk))
    json_agrees[0 if ok else 1] += 1


err = run_appsink("filesrc location=%s ! decodebin ! annotfilter location=%s instances=predicted ! "
                  "appsink name=out sync=false" % (VIDEO, LABELS), read)
check(err is None, "annotfilter ! appsink runs (%s)" % err)
check(sorted(got) == sorted(want), "frames read off the buffers: %d, h5py: %d" % (len(got), len(want)))
nodes_ok = all(n == truth["skeletons"][0] for n, _ in got.values())
check(nodes_ok, "skeleton node names off every buffer equal the file's %d nodes" % len(truth["skeletons"][0]))
n_kp = n_bad = n_inst = 0
for f, insts in want.items():
    g = got.get(f, (None, []))[1]
    if len(g) != len(insts):
        n_bad += 1
        continue
    for a, b in zip(g, insts):
        n_inst += 1
        if a["kind"] != b["kind"] or a["track"] != b["track"] or a["track_name"] != b["track_name"] \
                or not same(a["score"], b["score"]):
            n_bad += 1
        for ka, kb in zip(a["keypoints"], b["keypoints"]):
            n_kp += 1
            if not all(same(float(x), float(y)) for x, y in zip(ka, kb)):
                n_bad += 1
check(n_bad == 0 and n_inst == 2274 and n_kp == 2274 * 24,
      "%d instances, %d keypoints (x, y, visible, score) equal h5py's exactly (%d mismatches)"
      % (n_inst, n_kp, n_bad))
check(json_agrees == [len(got), 0], "buffer_get_annotation_json agrees with the typed API on %d buffers"
      % json_agrees[0])

# ------------------------------------------------------------------ writing
W, H = 64, 48
yy, xx = np.mgrid[0:H, 0:W]


def frame_pixels(i):
    """RGB: R = x * 3, G = y * 5, B = frame index * 40: every pixel known."""
    return np.dstack([xx * 3, yy * 5, np.full_like(xx, i * 40)]).astype(np.uint8)


SKELETON = {"name": "bug", "nodes": ["head", "tail"], "edges": [[0, 1]]}
# frame i: instances covering these pixel rectangles [x, y, w, h]; as
# boxes in point coordinates (pixel centres at integers, the image corner
# at -0.5) they are [x - 0.5, y - 0.5, w, h]
BOXES = [
    [(10, 5, 16, 12)],
    [(0, 0, 16, 12), (40, 30, 16, 12)],
    [(20, 20, 16, 12)],
]


def point_box(x, y, w, h):
    return (x - 0.5, y - 0.5, float(w), float(h))


def attach(buf, i):
    if i == 1:
        # the typed API: an annotation built from Python objects
        ann = Onepass.Annotation.new()
        ann.set_source("written")
        ann.set_frame_index(i)
        ann.set_size(W, H)
        sk = Onepass.Skeleton.new("bug", ["head", "tail"])
        sk.add_edge(0, 1)
        ann.set_skeleton(sk)
        for t, box in enumerate(BOXES[i]):
            x, y, w, h = point_box(*box)
            inst = Onepass.Instance.new(Onepass.InstanceKind.PREDICTED, 2)
            inst.set_keypoints([x, y, 1, 0.9, x + w, y + h, 1, 0.8])
            inst.set_bbox(x, y, w, h)
            inst.set_track(t)
            ann.append_instance(inst)
        Onepass.buffer_add_annotation(buf, ann)
    else:
        # the design's JSON
        Onepass.buffer_add_annotation_json(buf, json.dumps({
            "source": "written", "frame_index": i, "width": W, "height": H, "skeleton": SKELETON,
            "instances": [{"kind": "detection", "track": t, "bbox": list(point_box(*box)),
                           "keypoints": [[box[0], box[1], 1, None], [box[0] + 5, box[1] + 5, 1, None]]}
                          for t, box in enumerate(BOXES[i])]}))


pipe = Gst.parse_launch(
    "appsrc name=src format=time caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=10/1 ! "
    "cropextract mode=stretch box=bbox padding=0 width=16 height=12 ! appsink name=out sync=false" % (W, H))
src, sink = pipe.get_by_name("src"), pipe.get_by_name("out")
pipe.set_state(Gst.State.PLAYING)
for i in range(3):
    buf = Gst.Buffer.new_wrapped(frame_pixels(i).tobytes())
    buf.pts = i * Gst.SECOND // 10
    buf.duration = Gst.SECOND // 10
    attach(buf, i)
    src.emit("push-buffer", buf)
src.emit("end-of-stream")
crops = []
while True:
    sample = sink.emit("pull-sample")
    if sample is None:
        break
    b = sample.get_buffer()
    ok, mi = b.map(Gst.MapFlags.READ)
    px = np.frombuffer(mi.data, dtype=np.uint8).copy()
    b.unmap(mi)
    caps = sample.get_caps().get_structure(0)
    stride = (caps.get_value("width") * 3 + 3) // 4 * 4
    px = px.reshape(caps.get_value("height"), stride)[:, :caps.get_value("width") * 3].reshape(
        caps.get_value("height"), caps.get_value("width"), 3)
    crops.append((Onepass.buffer_get_annotation(b), json.loads(Onepass.buffer_get_annotation_json(b)), px))
pipe.set_state(Gst.State.NULL)
expect = [(i, t, box) for i in range(3) for t, box in enumerate(BOXES[i])]
check(len(crops) == len(expect), "cropextract cut %d crops from the Python-written labels (want %d)"
      % (len(crops), len(expect)))
for (ann, j, px), (i, t, (x, y, w, h)) in zip(crops, expect):
    has, inst_index, rx, ry, rw, rh, cw, ch = ann.get_crop()
    rect_ok = has and (rx, ry, rw, rh) == (x, y, w, h) and (cw, ch) == (16, 12)
    pixels_ok = np.array_equal(px, frame_pixels(i)[y:y + h, x:x + w])
    inst = ann.get_instance(0)
    # the design's map: (x + 0.5 - rect.x) * W / rect.w - 0.5, 1:1 here
    bbox_ok = tuple(inst.get_bbox())[1:] == (-0.5, -0.5, 16.0, 12.0)
    kind_ok = j["instances"][0]["kind"] == ("predicted" if i == 1 else "detection") \
        and j["source"] == "written" and j["frame_index"] == i and j["crop"]["instance"] == t \
        and inst.get_track() == t
    check(rect_ok and pixels_ok and bbox_ok and kind_ok,
          "frame %d instance %d: rect %s, pixels = the frame's, crop box %s, kind/track/source kept"
          % (i, t, [rx, ry, rw, rh], list(inst.get_bbox())[1:]))

# ------------------------------------------------------------------ errors
buf = Gst.Buffer.new_allocate(None, 16, None)


def raises(fn, text):
    try:
        fn()
    except GLib.Error as e:
        return text in e.message, e.message
    return False, "no error"


for what, fn, text in [
        ("not JSON", lambda: Onepass.buffer_add_annotation_json(buf, "{nope"), "not JSON"),
        ("keypoint count", lambda: Onepass.buffer_add_annotation_json(buf, json.dumps(
            {"frame_index": 0, "skeleton": SKELETON, "instances": [{"keypoints": [[1, 2, 1, None]]}]})),
         "instance 0 has 1 keypoints, the skeleton has 2 nodes"),
        ("crop with two instances", lambda: Onepass.buffer_add_annotation_json(buf, json.dumps(
            {"frame_index": 0, "instances": [{"kind": "detection", "bbox": [0, 0, 1, 1]}] * 2,
             "crop": {"instance": 0, "rect": [0, 0, 4, 4], "width": 4, "height": 4}})),
         "a crop must hold exactly one instance"),
        ("keypoints not 4 per node", lambda: Onepass.Instance.new(Onepass.InstanceKind.USER, 1)
         .set_keypoints([1.0, 2.0, 1.0]), "4 values per node")]:
    ok, message = raises(fn, text)
    check(ok, "%s raises GLib.Error: %s" % (what, message))
check(Onepass.buffer_get_annotation_json(buf) is None, "a failed add leaves the buffer without annotation")


def shared_buffer():
    b = Gst.Buffer.new_allocate(None, 16, None)
    other = Gst.Sample.new(b, None, None, None)  # a second reference
    Onepass.buffer_add_annotation_json(b, '{"frame_index": 0, "instances": []}')
    return other


ok, message = raises(shared_buffer, "not writable")
check(ok, "a buffer with a second reference raises: %s" % message)


def copy_to_shared():
    src = Gst.Buffer.new_allocate(None, 16, None)
    Onepass.buffer_add_annotation_json(src, '{"frame_index": 0, "instances": []}')
    dest = Gst.Buffer.new_allocate(None, 16, None)
    other = Gst.Sample.new(dest, None, None, None)
    Onepass.buffer_copy_annotations(dest, src)
    return other


ok, message = raises(copy_to_shared, "not writable")
check(ok, "buffer_copy_annotations to a shared buffer raises: %s" % message)

# replace, not add: a second add leaves one annotation, the new one
Onepass.buffer_add_annotation_json(buf, '{"source": "a", "frame_index": 1, "instances": []}')
Onepass.buffer_add_annotation_json(buf, '{"source": "b", "frame_index": 2, "instances": []}')
frame_index = Onepass.buffer_get_annotation(buf).get_frame_index()
n_metas = Onepass.buffer_remove_annotations(buf)
check(n_metas == 1 and frame_index == 2,
      "buffer_add_annotation_json replaces the annotation (%d meta, frame %d)" % (n_metas, frame_index))


# ------------------------------------------------- Python elements keep labels
class Invert(Gst.Element):
    """Makes a new output buffer (inverted pixels) per input buffer."""
    __gstmetadata__ = ("invert", "Filter", "test", "onepass")
    __gsttemplates__ = (Gst.PadTemplate.new("sink", Gst.PadDirection.SINK, Gst.PadPresence.ALWAYS,
                                            Gst.Caps.new_any()),
                        Gst.PadTemplate.new("src", Gst.PadDirection.SRC, Gst.PadPresence.ALWAYS,
                                            Gst.Caps.new_any()))
    __gproperties__ = {"keep": (bool, "keep", "copy the labels", True, GObject.ParamFlags.READWRITE)}

    def __init__(self):
        super().__init__()
        self.keep = True
        self.sinkpad = Gst.Pad.new_from_template(self.get_pad_template("sink"), "sink")
        self.srcpad = Gst.Pad.new_from_template(self.get_pad_template("src"), "src")
        self.sinkpad.set_chain_function_full(self.chain)
        self.sinkpad.set_event_function_full(self.event)
        self.add_pad(self.sinkpad)
        self.add_pad(self.srcpad)

    def do_set_property(self, prop, value):
        self.keep = value

    def do_get_property(self, prop):
        return self.keep

    def event(self, pad, parent, event):
        if event.type == Gst.EventType.CAPS:
            return self.srcpad.push_event(event)
        return pad.event_default(parent, event)

    def chain(self, pad, parent, buf):
        ok, mi = buf.map(Gst.MapFlags.READ)
        data = bytes(255 - np.frombuffer(mi.data, dtype=np.uint8))
        buf.unmap(mi)
        out = Gst.Buffer.new_wrapped(data)
        out.pts, out.dts, out.duration = buf.pts, buf.dts, buf.duration
        if self.keep:
            Onepass.buffer_copy_annotations(out, buf)
        return self.srcpad.push(out)


GObject.type_register(Invert)
Gst.Element.register(None, "pyinvert", Gst.Rank.NONE, Invert)

for keep in (True, False):
    seen = []
    err = run_appsink("filesrc location=%s ! decodebin ! annotfilter location=%s instances=predicted ! "
                      "pyinvert keep=%s ! appsink name=out sync=false" % (VIDEO, LABELS, keep),
                      lambda b: seen.append(Onepass.buffer_get_annotation_json(b)))
    with_labels = [json.loads(s) for s in seen if s]
    if keep:
        same_kps = all(len(j["instances"]) == len(want[j["frame_index"]]) for j in with_labels)
        check(err is None and len(seen) == len(want) and len(with_labels) == len(seen) and same_kps,
              "a Python element making new buffers keeps the labels with buffer_copy_annotations "
              "(%d of %d buffers)" % (len(with_labels), len(seen)))
    else:
        check(err is None and len(seen) == len(want) and not with_labels,
              "without it the labels stay behind (%d of %d buffers labeled)" % (len(with_labels), len(seen)))

# ---------------------------------------------- the reading example
import subprocess  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "python", "read_annotations.py")
env = dict(os.environ, GST_PLUGIN_PATH=os.environ.get("GST_PLUGIN_PATH_1_0", ""))
outs = []
for extra in ([], ["--appsink"]):
    p = subprocess.run(["/usr/bin/python3", EXAMPLE, VIDEO, LABELS, "--instances", "predicted",
                        "--max-frames", "3"] + extra, capture_output=True, text=True, env=env, timeout=120)
    outs.append(p.stdout)
    check(p.returncode == 0 and "3 annotated frames" in p.stderr,
          "read_annotations.py %s exits 0 after 3 frames (%s)" % (" ".join(extra) or "(pad probe)",
                                                                  p.stderr.strip()[-200:]))
# what h5py says, printed the way the example prints it
lines = []
for f in sorted(want)[:3]:
    lines.append("frame %d " % f)
    for inst in want[f]:
        for node, (x, y, vis, sc) in zip(truth["skeletons"][0], inst["keypoints"]):
            where = "missing" if math.isnan(x) else "%.2f %.2f %s" % (x, y, "visible" if vis else "hidden")
            lines.append("    %s %s score %s" % (node, where, "none" if math.isnan(sc) else "%.3f" % sc))
printed = [ln if not ln.startswith("frame") else ln.split("pts")[0] for ln in outs[0].splitlines()
           if ln.startswith("frame") or ln.startswith("    ")]
check(printed == lines, "the pad-probe example prints h5py's keypoints for frames %s (%d lines)"
      % (sorted(want)[:3], len(lines)))
check(outs[0] == outs[1], "the appsink variant prints the same")

print("gi: %d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
