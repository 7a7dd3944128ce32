#!/usr/bin/env bash
# The design's pipelines 1-5 on the sample data, as plain gst-launch-1.0 lines.
#   examples/pipelines.sh [BUILD_DIR] [OUT_DIR]
# Each step says what it writes and what to expect.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
out=${2:-$root/demo-out/pipelines}
export GST_PLUGIN_PATH=$build/gst:$build/ext${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
video=$root/data/sample/centered_pair_low_quality.mp4
preds=$root/data/sample/centered_pair_predictions.slp
user=$root/data/sample/labels.v002.slp
rm -rf "$out"; mkdir -p "$out"
src="filesrc location=$video ! decodebin"

echo "1. user labels -> JPEG crops in tar shards (expect 9 samples: the 9 user instances of labels.v002.slp)"
gst-launch-1.0 -q $src ! annotfilter location="$user" ! cropextract ! videoconvert ! \
  video/x-raw,format=RGB ! jpegenc ! \
  batchsink format=tar location="$out/shards" split="train=0.9,val=0.1"
/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('   dataset.json:', sum(s['samples'] for s in m['shards']), 'samples in', len(m['shards']), 'shards')" "$out/shards/dataset.json"

echo "2. predictions -> one HDF5 file of RGB crops + keypoints (expect images 2274 x 328 x 328 x 3)"
gst-launch-1.0 -q $src ! annotfilter location="$preds" instances=predicted ! cropextract ! \
  videoconvert ! video/x-raw,format=RGB ! batchsink format=hdf5 location="$out/crops.h5"
/usr/bin/python3 -c "import h5py,sys; h=h5py.File(sys.argv[1]); print('   images', h['images'].shape, 'keypoints', h['keypoints'].shape)" "$out/crops.h5"

echo "3. keypoints of every labeled frame -> gzip JSON lines, no images (expect 1100 lines)"
gst-launch-1.0 -q $src ! annotfilter location="$preds" instances=predicted ! \
  batchsink format=jsonl location="$out/frames.jsonl.gz"
echo "   $(gzip -dc "$out"/frames*.jsonl.gz | wc -l) lines"

echo "4. crops pasted back onto the video with a border, the labels drawn on top: a review video (expect 1100 frames)"
gst-launch-1.0 -q compositor328 name=c border-width=2 border-color=0xff00ff00 ! \
  annotoverlay point-radius=2 ! videoconvert ! \
  x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$out/review.mp4" \
  $src ! annotfilter location="$preds" instances=predicted mode=tag ! tee name=t \
  t. ! queue ! c.sink_full \
  t. ! queue ! cropextract ! c.sink_crop
echo "   review.mp4: $(stat -c %s "$out/review.mp4") bytes"

echo "5. decode once, replay 3 more times from RAM (expect 4400 frames at the sink)"
gst-launch-1.0 -v $src ! ramcache loop=3 ! fakesink silent=false 2>/dev/null | \
  grep -c "chain" | sed 's/^/   frames: /'
