#!/usr/bin/env bash
# Decode only what the labels need (design.md, "Decode only what is needed"):
# annotfilter ! cropextract on a real-structure video, side by side in one run
# with ffmpeg's pure decode, CPU seconds pinned to one core (taskset -c 0,
# user + sys) and wall seconds with the decoder on one thread and the second
# core free. Prints a Markdown table with ratios to the pure decode.
#
#   bench/decodeskip.sh [--runs N] [VIDEO]
#
# VIDEO defaults to the design's real-structure clip: tests/data's
# centered_pair_low_quality.mp4 re-encoded at 1024x1024 with x264's defaults
# (../shared/bench/make_x264_default_video.sh; 1100 frames, 74% B-frames),
# made once in bench/.cache. Labels (onepass JSON lines, two instances per
# labeled frame) are made here: dense (every frame) and 10% spread evenly
# (every 10th frame). Every figure is the median of N runs (default 3).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ONEPASS_SHARED:-$root/../shared}
build=${ONEPASS_BUILD_DIR:-$root/build}
cache=$root/bench/.cache
py=/usr/bin/python3
runs=3
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
mkdir -p "$cache"
export GST_PLUGIN_PATH=$build/gst:$build/ext GST_REGISTRY=$cache/registry.bin

video=${1:-$cache/real1024.mp4}
if [ ! -f "$video" ]; then
  src=$root/tests/data/sleap/centered_pair_low_quality.mp4
  if [ -f "$shared/bench/make_x264_default_video.sh" ]; then
    sh "$shared/bench/make_x264_default_video.sh" "$src" "$video"
  else
    ffmpeg -v error -y -i "$src" -vf scale=1024:1024 -c:v libx264 -pix_fmt yuv420p "$video"
  fi
fi
read -r w h n < <(ffprobe -v error -select_streams v:0 -count_packets -show_entries \
  stream=width,height,nb_read_packets -of csv=p=0 "$video" | tr ',' ' ')

labels() {  # labels FILE STEP: every STEP-th frame, two instances
  [ -f "$1" ] || $py - "$1" "$2" "$w" "$h" "$n" <<'EOF'
import json, sys
path, step, w, h, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open(path, "w") as f:
    for i, k in enumerate(range(0, n, step)):
        d = {"frame_index": k, "width": w, "height": h, "instances": [
            {"kind": "user", "track": t, "keypoints": [[x, y, 1, None], [x + 60.0, y + 60.0, 1, None]]}
            for t, (x, y) in enumerate(((w * 0.45, h * 0.45), (w * 0.25, h * 0.25)))]}
        if i == 0:
            d["skeleton"] = {"name": "s", "nodes": ["a", "b"], "edges": [[0, 1]]}
        f.write(json.dumps(d) + "\n")
EOF
}
base=$(basename "$video" .mp4)
dense=$cache/$base.dense.jsonl; labels "$dense" 1
spread=$cache/$base.every10.jsonl; labels "$spread" 10

# median of $runs runs of "$@": prints "cpu wall"
measure() {
  local i u s e cpu=() wall=() t=$cache/time.txt
  for i in $(seq "$runs"); do
    /usr/bin/time -o "$t" -f "%U %S %e" "$@" >/dev/null 2>&1
    read -r u s e <"$t"
    cpu+=("$(awk "BEGIN { print $u + $s }")"); wall+=("$e")
  done
  echo "$(printf '%s\n' "${cpu[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" \
       "$(printf '%s\n' "${wall[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
}
pin="taskset -c 0"
gst="gst-launch-1.0 -q filesrc location=$video"
one="qtdemux ! h264parse ! avdec_h264 max-threads=1"

echo "| work ($base, ${w}x${h}, $n frames) | CPU s (1 core) | CPU / pure decode | wall s (2 cores) | wall / pure decode |"
echo "|---|---|---|---|---|"
row() {  # row NAME PINNED-COMMAND -- TWO-CORE-COMMAND
  local name=$1; shift
  local a=() b=()
  while [ "$1" != -- ]; do a+=("$1"); shift; done; shift; b=("$@")
  read -r c _ < <(measure $pin "${a[@]}")
  read -r _ wl < <(measure "${b[@]}")
  [ -z "${ref_cpu:-}" ] && { ref_cpu=$c; ref_wall=$wl; }
  printf '| %s | %.2f | %.2fx | %.2f | %.2fx |\n' "$name" "$c" "$(awk "BEGIN { print $c / $ref_cpu }")" \
    "$wl" "$(awk "BEGIN { print $wl / $ref_wall }")"
}
ff="ffmpeg -v error -threads 1 -i $video -f null -"
row "ffmpeg -threads 1 pure decode (baseline)" $ff -- $ff
row "ffmpeg -threads 1 -skip_frame noref (I and P frames only)" \
  ffmpeg -v error -threads 1 -skip_frame noref -i "$video" -f null - -- \
  ffmpeg -v error -threads 1 -skip_frame noref -i "$video" -f null -
for s in false true; do
  row "10% spread: annotfilter skip=$s ! cropextract ! fakesink" \
    $gst ! decodebin ! annotfilter location=$spread skip=$s ! cropextract ! fakesink -- \
    $gst ! $one ! annotfilter location=$spread skip=$s ! cropextract ! fakesink
done
row "dense: annotfilter ! cropextract ! fakesink" \
  $gst ! decodebin ! annotfilter location=$dense ! cropextract ! fakesink -- \
  $gst ! $one ! annotfilter location=$dense ! queue ! cropextract ! fakesink
row "dense: decodebin ! fakesink (GStreamer's pure decode)" \
  $gst ! decodebin ! fakesink -- $gst ! $one ! fakesink
echo
echo "Frames decoded (annotfilter-stats, 10% spread, skip=true):"
gst-launch-1.0 -m filesrc location="$video" ! decodebin ! annotfilter location="$spread" ! \
  cropextract ! fakesink 2>/dev/null | grep -o 'frames-seen=[^,]*\|frames-decoded=[^,]*\|frames-not-decoded=[^,]*' | \
  sort -u | tr '\n' ' '
echo
