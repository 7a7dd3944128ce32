#!/bin/bash
# A review video: every frame of the sample with its labels drawn on it by
# annotoverlay (skeletons, hollow points for predictions, one colour per
# track, the track name and score above each fly), and one PNG of a frame
# to look at without a player.
#
#   bash examples/review_video.sh [BUILD_DIR] [OUT_DIR]
#
# Expect review-labels.mp4 (1100 frames) and review-frame.png (frame 0,
# two flies, labels "1 39.07" in blue and "2 21.52" in orange).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:-$here/../build}")
out=${2:-$here/../demo-out/review}
mkdir -p "$out"
export GST_PLUGIN_PATH_1_0="$build/gst:$build/ext${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
video="$here/../data/sample/centered_pair_low_quality.mp4"
preds="$here/../data/sample/centered_pair_predictions.slp"

gst-launch-1.0 -q filesrc location="$video" ! decodebin ! \
  annotfilter location="$preds" instances=predicted mode=tag ! \
  annotoverlay point-radius=2 text=both ! videoconvert ! \
  x264enc speed-preset=ultrafast ! mp4mux ! \
  filesink location="$out/review-labels.mp4"
echo "review-labels.mp4: $(stat -c %s "$out/review-labels.mp4") bytes"

gst-launch-1.0 -q filesrc location="$video" ! decodebin ! \
  annotfilter location="$preds" instances=predicted mode=tag ! \
  annotoverlay point-radius=2 text=both ! videoconvert ! \
  video/x-raw,format=RGB ! pngenc snapshot=true ! \
  filesink location="$out/review-frame.png"
echo "review-frame.png: frame 0 with its labels"
