#!/usr/bin/python3
"""The Python detector example (examples/python/plugins/python/bgdetect.py)
end to end on data/sample's video, with no label file.

- Its boxes, read off the buffers through Onepass, cover the flies that
  the predictions file (h5py, sleap_truth.py) puts in each frame: a fly
  counts as found when at least half of its present keypoints lie inside
  one box. Figures per mask (printed): `luma` finds nearly all flies in
  nearly all frames; MOG2 alone (`motion`) finds far fewer, because the
  video is centred on the pair (the background moves, the flies stay).
- Its IoU tracks follow the flies: the box covering a fly keeps its track
  id from one frame to the next.
- The design's pipeline filesrc ! decodebin ! videoconvert ! bgdetect !
  cropextract ! ... ! batchsink writes a train/val crop dataset split by
  track: one sample per box, `detection` instances with boxes and tracks,
  no track in both splits.
"""
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "examples", "python", "plugins")
VIDEO = os.path.join(ROOT, "data", "sample", "centered_pair_low_quality.mp4")
LABELS = os.path.join(ROOT, "data", "sample", "centered_pair_predictions.slp")
TMP = tempfile.mkdtemp(prefix="test-detector-")
# gst-python's loader finds python/*.py below each plugin path folder; a
# registry of our own, so the loader scans this tree's element
os.environ["GST_PLUGIN_PATH_1_0"] = os.environ.get("GST_PLUGIN_PATH_1_0", "") + os.pathsep + PLUGINS
os.environ["GST_REGISTRY"] = os.path.join(TMP, "registry.bin")

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("Onepass", "1.0")
from gi.repository import Gst, Onepass  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sleap_truth  # noqa: E402

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


check(Gst.ElementFactory.find("bgdetect") is not None, "gst-python loads bgdetect from %s" % PLUGINS)
truth = sleap_truth.read_slp(LABELS)
flies = sleap_truth.select(truth["frames"], 0, instances="predicted")


def detect(mask):
    """frame index -> [(bbox, track)] as read off the buffers."""
    pipe = Gst.parse_launch("filesrc location=%s ! decodebin ! videoconvert ! bgdetect mask=%s ! "
                            "appsink name=out sync=false" % (VIDEO, mask))
    sink = pipe.get_by_name("out")
    pipe.set_state(Gst.State.PLAYING)
    out = {}
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        ann = Onepass.buffer_get_annotation(sample.get_buffer())
        boxes = []
        for i in range(ann.n_instances()):
            inst = ann.get_instance(i)
            assert inst.get_kind() == Onepass.InstanceKind.DETECTION and inst.get_n_keypoints() == 0
            boxes.append((tuple(inst.get_bbox())[1:], inst.get_track()))
        out[ann.get_frame_index()] = boxes
    msg = pipe.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    err = msg.parse_error()[0].message if msg and msg.type == Gst.MessageType.ERROR else None
    pipe.set_state(Gst.State.NULL)
    return out, err


def covering(inst, boxes):
    """The detection that holds at least half of the fly's present keypoints."""
    pts = [(k[0], k[1]) for k in inst["keypoints"] if sleap_truth.present(k)]
    best, best_n = None, 0
    for (x, y, w, h), track in boxes:
        n = sum(1 for px, py in pts if x <= px <= x + w and y <= py <= y + h)
        if n > best_n:
            best, best_n = track, n
    return best if pts and 2 * best_n >= len(pts) else None


figures = {}
for mask in ("luma", "motion"):
    dets, err = detect(mask)
    check(err is None and sorted(dets) == list(range(1100)),
          "mask=%s: 1100 annotated frames, indices 0..1099 (%s)" % (mask, err))
    n_found = n_flies = frames_all = 0
    same_track = pairs = 0
    last = {}
    for f in range(1100):
        labeled = flies.get(f, [])
        found = [covering(i, dets.get(f, [])) for i in labeled]
        n_flies += len(labeled)
        n_found += sum(t is not None for t in found)
        frames_all += bool(labeled) and all(t is not None for t in found)
        for inst, t in zip(labeled, found):
            # the box covering labeled track k keeps its id into the next frame
            k = inst["track"]
            if t is not None and k in last and last[k][0] == f - 1:
                pairs += 1
                same_track += last[k][1] == t
            last[k] = (f, t) if t is not None else last.get(k, (None, None))
    boxes_per_frame = sum(len(b) for b in dets.values()) / 1100.0
    figures[mask] = (n_found / n_flies, frames_all / len(flies), same_track / max(pairs, 1), boxes_per_frame,
                     sum(len(b) for b in dets.values()))
    print("mask=%s: %d of %d labeled flies found (%.1f%%), every fly found in %.1f%% of %d frames, "
          "track kept on %.1f%% of %d frame pairs, %.2f boxes per frame"
          % (mask, n_found, n_flies, 100 * figures[mask][0], 100 * figures[mask][1], len(flies),
             100 * figures[mask][2], pairs, boxes_per_frame))

luma, motion = figures["luma"], figures["motion"]
check(luma[0] >= 0.97 and luma[1] >= 0.95,
      "mask=luma finds %.1f%% of the flies, both flies in %.1f%% of the frames" % (100 * luma[0], 100 * luma[1]))
check(luma[2] >= 0.95, "mask=luma: the IoU tracker keeps a fly's track on %.1f%% of frame pairs" % (100 * luma[2]))
check(1.5 <= luma[3] <= 3.0, "mask=luma: %.2f boxes per frame for two flies" % luma[3])
# MOG2 alone: measured, not tuned; a broken MOG2 path gives no boxes at all
check(0.2 <= motion[0] < luma[0], "mask=motion (MOG2 alone) finds %.1f%% of the flies in this "
      "fly-centred video" % (100 * motion[0]))

# ---------------------------------------------- the dataset, no label file
out = os.path.join(TMP, "ds")
env = dict(os.environ, GST_PLUGIN_PATH=os.environ["GST_PLUGIN_PATH_1_0"])
p = subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + VIDEO, "!", "decodebin", "!", "videoconvert",
                    "!", "bgdetect", "mask=luma", "!", "cropextract", "width=128", "height=128", "!",
                    "videoconvert", "!", "video/x-raw,format=RGB", "!", "jpegenc", "!", "batchsink",
                    "location=" + out, "split=train=0.8,val=0.2", "split-by=track"],
                   capture_output=True, text=True, env=env, timeout=300)
check(p.returncode == 0, "the pipeline with batchsink exits 0 (%s)" % p.stderr.strip()[-300:])
ds = json.load(open(os.path.join(out, "dataset.json")))
n_samples = sum(r["samples"] for r in ds["runs"])
check(n_samples == luma[4], "dataset.json: %d samples = the %d boxes" % (n_samples, luma[4]))
tracks = {}
bad = 0
for tar_path in glob.glob(os.path.join(out, "*.tar")):
    split = os.path.basename(tar_path).split("-")[0]
    with tarfile.open(tar_path) as tf:
        for m in tf.getmembers():
            if not m.name.endswith(".json"):
                continue
            j = json.load(tf.extractfile(m))
            inst = j["instances"][0]
            if inst["kind"] != "detection" or inst.get("bbox") is None or inst["track"] < 0 \
                    or j["crop"]["width"] != 128 or j["source"] != "centered_pair_low_quality":
                bad += 1
            tracks.setdefault(split, set()).add(inst["track"])
check(sorted(tracks) == ["train", "val"] and bad == 0,
      "train and val crops, every one a tracked detection with a box (%d bad)" % bad)
check(not (tracks.get("train", set()) & tracks.get("val", set())),
      "no track in both splits (%d train tracks, %d val tracks)"
      % (len(tracks.get("train", ())), len(tracks.get("val", ()))))

# ---------------------------------------------- no guessed source names
def bus_result(desc):
    pipe = Gst.parse_launch(desc)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    pipe.set_state(Gst.State.NULL)
    return msg.parse_error()[0].message if msg and msg.type == Gst.MessageType.ERROR else "eos"


msg = bus_result("videotestsrc num-buffers=3 ! bgdetect ! fakesink")
check("no source name: set the `source` property" in msg, "no URI upstream and no `source`: %s" % msg)
msg = bus_result("videotestsrc num-buffers=3 ! bgdetect source=test ! fakesink")
check(msg == "eos", "with source=test the stream runs to EOS (%s)" % msg)
msg = bus_result("videotestsrc num-buffers=3 ! bgdetect mask=nonsense ! fakesink")
check("mask \"nonsense\" is not one of" in msg, "a bad mask stops the pipeline: %s" % msg)

print("detector: %d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
