#!/usr/bin/env bash
# The main job on the shipped sample: real SLEAP predictions (2274 instances on
# 1100 frames) + their video -> 328x328 JPEG crops with keypoints in WebDataset
# tar shards, split train/val, in one sequential decode. Then the dataset is
# opened with Python's tarfile, as a training loader would.
#   scripts/demo.sh [BUILD_DIR]   (scripts/setup.sh demo calls it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
out=${ONEPASS_DEMO_OUT:-$root/demo-out}
export GST_PLUGIN_PATH=$build/gst:$build/ext${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}

rm -rf "$out"
mkdir -p "$out"
echo "== what onepass reads from the labels"
"$build/tools/onepass-labels" --summary "$root/data/sample/centered_pair_predictions.slp"
echo
echo "== pipeline 1: annotfilter ! cropextract ! videoconvert ! video/x-raw,format=RGB ! jpegenc ! batchsink format=tar"
# Two animals make split-by=track degenerate (each track is one split), so the
# demo splits by frame; real datasets with many tracks keep the default.
/usr/bin/python3 "$root/examples/sleap_to_dataset.py" \
  "$root/data/sample/centered_pair_low_quality.mp4" \
  "$root/data/sample/centered_pair_predictions.slp" "$out/shards" \
  --instances predicted --split train=0.9,val=0.1 --split-by frame
echo
echo "== opened with Python's tarfile"
/usr/bin/python3 - "$out/shards" <<'PY'
import json, os, sys, tarfile
shards = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".tar"))
with tarfile.open(os.path.join(sys.argv[1], shards[0])) as t:
    names = t.getnames()
    print("%s: %d members, first: %s" % (shards[0], len(names), ", ".join(names[:2])))
    meta = json.load(t.extractfile(names[1]))
    inst = meta["instances"][0]
    present = [k for k in inst["keypoints"] if k[0] is not None]
    print("  %s: frame %d, track %s, crop rect %s -> %dx%d, %d of %d keypoints present, first %s"
          % (names[1], meta["frame_index"], inst["track_name"], meta["crop"]["rect"],
             meta["crop"]["width"], meta["crop"]["height"], len(present),
             len(inst["keypoints"]), [round(v, 2) for v in present[0][:2]]))
PY
echo
echo "output: $out/shards (dataset.json lists the shards)"
