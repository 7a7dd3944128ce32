#!/usr/bin/env bash
# annotfilter against pure decode and the seed extractor, side by side.
#
#   bench/annotfilter.sh [frames=1800] [runs=3]
#
# Inputs (cached in bench/.cache): a 1280x720 H.264 video with 2 s GOP and
# B-frames, and SLEAP labels at three densities. Every timed command runs
# pinned to one core (taskset -c 0). Prints medians and ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ONEPASS_SHARED:-$root/../shared}
build=${ONEPASS_BUILD_DIR:-$root/build}
frames=${1:-1800}
runs=${2:-3}
cache=$root/bench/.cache
mkdir -p "$cache"
export GST_PLUGIN_PATH=$build/ext:$build/gst

video=$cache/bench720_$frames.mp4
[ -f "$video" ] || sh "$shared/bench/make_video.sh" "$video" "$frames" 1280 720 30
for d in dense uniform:0.1 cluster:0.02; do
  f=$cache/labels_${frames}_${d/:/_}.slp
  [ -f "$f" ] || /usr/bin/python3 "$shared/bench/make_sleap_labels.py" "$f" \
    --video "$video" --frames "$frames" --width 1280 --height 720 --density "$d"
done

# median wall seconds of a command over $runs runs
median() {
  local t=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    t+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

one=(taskset -c 0)
decode=$(median "${one[@]}" ffmpeg -hide_banner -loglevel error -threads 1 -i "$video" -f null -)
printf 'video: %s (%s frames)\n' "$video" "$frames"
printf '%-38s %8.2f s\n' "ffmpeg -threads 1 (pure decode)" "$decode"

for d in dense uniform:0.1 cluster:0.02; do
  labels=$cache/labels_${frames}_${d/:/_}.slp
  ours=$(median "${one[@]}" gst-launch-1.0 -q filesrc location="$video" ! \
    decodebin ! annotfilter location="$labels" ! fakesink)
  seen=$(gst-launch-1.0 -m filesrc location="$video" ! decodebin ! \
    annotfilter location="$labels" ! fakesink 2>/dev/null | \
    sed -n 's/.*frames-seen=(guint64)\([0-9]*\).*frames-passed=(guint64)\([0-9]*\).*/\1 \2/p')
  printf '%-38s %8.2f s  %5.2fx pure decode speed  frames decoded/passed/in video: %s/%s/%s\n' \
    "annotfilter $d" "$ours" "$(awk -v a="$decode" -v b="$ours" 'BEGIN {print a / b}')" \
    "${seen% *}" "${seen#* }" "$frames"
  if [ "$d" != dense ]; then
    out=$(mktemp -d)
    seed=$(median "${one[@]}" /usr/bin/python3 "$shared/bench/seed_sleap_extract.py" \
      "$labels" "$video" "$out" --mode open-once)
    rm -rf "$out"
    printf '%-38s %8.2f s  onepass %5.2fx faster\n' "seed open-once $d" "$seed" \
      "$(awk -v a="$seed" -v b="$ours" 'BEGIN {print a / b}')"
  fi
done
