#!/usr/bin/env bash
# The design's decode rows ("Decode only what is needed", "Performance
# targets") on one video, each side by side with its baseline in one run:
# dense labels -> crops (and on to tar), 10% uniform labels, 2% clustered
# labels, against ffmpeg's pure decode (and the seed's open-once script for
# the 10% row). Every command runs twice per run:
#
#   CPU   pinned to one core (taskset -c 0), user + sys seconds;
#   wall  unpinned: the decoder on one thread (avdec_h264 max-threads=1,
#         ffmpeg -threads 1), everything else free to use the second core
#         (the queues in our pipelines give demuxing and cropping threads of
#         their own).
#
#   bench/decodeskip.sh [--runs N] [--results FILE] [--markdown FILE]
#                       [--name NAME] [VIDEO]
#
# VIDEO (H.264 in MP4) defaults to the design's real-structure clip: data/sample's
# centered_pair_low_quality.mp4 re-encoded at 1024x1024 with x264's defaults
# by ../shared/bench/make_x264_default_video.sh (1100 frames, 74% B-frames),
# made once in bench/.cache. Labels: ../shared/bench/make_sleap_labels.py at
# densities dense, uniform:0.1 and cluster:0.02 (2 instances per labeled
# frame, 8 nodes), made once in bench/.cache. Every figure is the median of N
# runs (default 3); runs interleave ours and the baselines so that a change
# in the machine's load hits both.
#
# Prints each row's command, then a Markdown table with ratios and targets.
# --results appends NAME.KEY=VALUE lines (bench/run.sh's results file);
# --markdown writes the table alone (bench/mkdoc.py puts it into
# docs/benchmarks.md between its markers).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ONEPASS_SHARED:-$root/../shared}
build=${ONEPASS_BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
cache=$root/bench/.cache
py=/usr/bin/python3
runs=3 results= markdown= name=
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --results) results=$2; shift ;;
    --markdown) markdown=$2; shift ;;
    --name) name=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
mkdir -p "$cache"
export GST_PLUGIN_PATH=$build/gst:$build/ext
export GST_REGISTRY=${GST_REGISTRY:-$cache/registry-$(basename "$build").bin}
if [ ! -f "$shared/bench/make_sleap_labels.py" ]; then
  echo "needs $shared/bench (make_sleap_labels.py, make_x264_default_video.sh)" >&2
  exit 1
fi

video=${1:-$cache/real1024.mp4}
if [ ! -f "$video" ]; then
  echo "making $video" >&2
  sh "$shared/bench/make_x264_default_video.sh" \
    "$root/data/sample/centered_pair_low_quality.mp4" "$video.tmp.mp4" &&
    mv "$video.tmp.mp4" "$video" || exit 1
fi
# the rows name the H.264 elements (qtdemux ! h264parse ! avdec_h264)
codec=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$video")
case $video:$codec in
  *.mp4:h264|*.mov:h264) ;;
  *) echo "$video: needs H.264 in MP4/MOV (has ${codec:-no video})" >&2; exit 1 ;;
esac
base=$(basename "$video" .mp4)
name=${name:-$base}
read -r w h n < <(ffprobe -v error -select_streams v:0 -count_packets -show_entries \
  stream=width,height,nb_read_packets -of csv=p=0 "$video" | tr ',' ' ')
nonref=$(ffprobe -v error -select_streams v:0 -show_frames -show_entries frame=pict_type \
  -of csv=p=0 "$video" | grep -c B)

declare -A labels
for d in dense uniform:0.1 cluster:0.02; do
  f=$cache/$base.${d/:/_}.slp
  if [ ! -s "$f" ]; then
    $py "$shared/bench/make_sleap_labels.py" "$f.tmp" --video "$video" --frames "$n" \
      --width "$w" --height "$h" --density "$d" >/dev/null && mv "$f.tmp" "$f" ||
      { echo "could not make $f" >&2; exit 1; }
  fi
  labels[$d]=$f
done

scratch=$(mktemp -d "$cache/decodeskip.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# ------------------------------------------------------------------ rows
# row NAME CMD...: the command of one row ("@OUT" becomes a fresh scratch
# directory per run)
names=()
declare -A cmds
row() { local k=$1; shift; names+=("$k"); cmds[$k]="$*"; }
src="gst-launch-1.0 -q filesrc location=$video ! qtdemux ! h264parse ! queue"
dec="avdec_h264 max-threads=1 ! queue"
ff="ffmpeg -hide_banner -loglevel error -threads 1"
row decode $ff -i "$video" -f null -
row noref $ff -skip_frame noref -i "$video" -f null -
row gstdecode $src ! $dec ! fakesink
row dense $src ! $dec ! annotfilter location="${labels[dense]}" ! cropextract ! fakesink
row dense_jpeg_tar $src ! $dec ! annotfilter location="${labels[dense]}" ! cropextract ! \
  jpegenc ! batchsink format=tar location=@OUT
row dense_tar $src ! $dec ! annotfilter location="${labels[dense]}" ! cropextract ! \
  videoconvert ! video/x-raw,format=RGB ! batchsink format=tar location=@OUT
row dense_decodebin gst-launch-1.0 -q filesrc location="$video" ! decodebin ! \
  annotfilter location="${labels[dense]}" ! cropextract ! fakesink
row uniform $src ! $dec ! annotfilter location="${labels[uniform:0.1]}" ! cropextract ! fakesink
row uniform_noskip $src ! $dec ! annotfilter location="${labels[uniform:0.1]}" skip=false ! \
  cropextract ! fakesink
row uniform_jpeg $src ! $dec ! annotfilter location="${labels[uniform:0.1]}" ! cropextract ! \
  videoconvert ! jpegenc ! batchsink format=dir location=@OUT
row seed_uniform $py "$shared/bench/seed_sleap_extract.py" "${labels[uniform:0.1]}" "$video" \
  @OUT --mode open-once
row cluster $src ! $dec ! annotfilter location="${labels[cluster:0.02]}" ! cropextract ! fakesink

echo "# $name: $video (${w}x$h, $n frames, $nonref B-frames), median of $runs runs"
# paths relative to the repository root, as the docs show them
for k in "${names[@]}"; do echo "$k: ${cmds[$k]//$root\//}"; done

declare -A cpu wall
t=$scratch/time.txt
for mode in cpu wall; do
  for i in $(seq "$runs"); do
    for k in "${names[@]}"; do
      c=${cmds[$k]//@OUT/$scratch/out}
      pin=(); [ $mode = cpu ] && pin=(taskset -c 0)
      # shellcheck disable=SC2086  # the commands are word lists
      if ! /usr/bin/time -o "$t" -f "%U %S %e" "${pin[@]}" $c >"$scratch/log" 2>&1; then
        echo "FAILED ($mode): $c" >&2; tail -3 "$scratch/log" >&2
      else
        read -r u s e <"$t"
        if [ $mode = cpu ]; then cpu[$k]+="$(awk "BEGIN { print $u + $s }") "
        else wall[$k]+="$e "; fi
      fi
      rm -rf "$scratch/out"
    done
  done
done

# annotfilter-stats of the skipping rows: what the decoder was spared
stats() {
  gst-launch-1.0 -m filesrc location="$video" ! decodebin ! annotfilter location="$1" ! \
    fakesink 2>/dev/null | grep -m1 annotfilter-stats |
    grep -o 'frames-decoded=(guint64)[0-9]*\|frames-not-decoded=(guint64)[0-9]*' |
    sed 's/(guint64)//' | tr '\n' ' '
}
st_uniform=$(stats "${labels[uniform:0.1]}")
st_cluster=$(stats "${labels[cluster:0.02]}")
crops_seed=$($py "$shared/bench/seed_sleap_extract.py" "${labels[uniform:0.1]}" "$video" \
  "$scratch/out" --mode open-once 2>/dev/null | sed -n 's/^crops \([0-9]*\).*/\1/p')
rm -rf "$scratch/out"
gst-launch-1.0 -q filesrc location="$video" ! decodebin ! annotfilter \
  location="${labels[uniform:0.1]}" ! cropextract ! videoconvert ! jpegenc ! \
  batchsink format=dir location="$scratch/out" >/dev/null 2>&1
crops_ours=$(find "$scratch/out" -name '*.jpg' 2>/dev/null | wc -l)

{
  printf 'video=%s\nframes=%s\nsize=%sx%s\nbframes=%s\nruns=%s\n' "$video" "$n" "$w" "$h" \
    "$nonref" "$runs"
  printf 'stats_uniform=%s\nstats_cluster=%s\ncrops_seed=%s\ncrops_ours=%s\n' \
    "$st_uniform" "$st_cluster" "${crops_seed:-?}" "$crops_ours"
  for k in "${names[@]}"; do
    printf '%s.cmd=%s\n%s.cpus=%s\n%s.walls=%s\n' "$k" "${cmds[$k]//$root\//}" "$k" "${cpu[$k]:-}" \
      "$k" "${wall[$k]:-}"
  done
} >"$scratch/res"

table=$($py - "$scratch/res" "$name" <<'EOF'
import statistics, sys
R = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
name = sys.argv[2]

def med(k, m):
    v = [float(x) for x in R.get("%s.%ss" % (k, m), "").split()]
    return statistics.median(v) if v else None

def f(x, p="%.2f"):
    return "n/a" if x is None else p % x

def ratio(a, b):
    return a / b if a and b else None

def met(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")

dc, dw = med("decode", "cpu"), med("decode", "wall")
# (row, work, baseline row, CPU target (ratio <= x), wall target (throughput >= x),
#  "faster" target (baseline / ours >= x))
rows = [
    ("decode", "ffmpeg `-threads 1` pure decode (baseline)", None, None, None, None),
    ("noref", "ffmpeg `-skip_frame noref` (I and P frames only; diagnostic)", "decode", None, None, None),
    ("gstdecode", "GStreamer decode alone: `qtdemux ! h264parse ! avdec_h264 max-threads=1 ! fakesink` (diagnostic)", "decode", None, None, None),
    ("dense", "dense: `annotfilter ! cropextract ! fakesink`", "decode", 1.15, 0.95, None),
    ("dense_jpeg_tar", "dense, on to tar as JPEG: `... ! cropextract ! jpegenc ! batchsink format=tar`", "decode", 1.15, 0.95, None),
    ("dense_tar", "dense, on to tar as raw RGB (322 KB a 328x328 crop; what writing that much costs; diagnostic): `... ! cropextract ! videoconvert ! video/x-raw,format=RGB ! batchsink format=tar`", "decode", None, None, None),
    ("dense_decodebin", "dense, `decodebin` (avdec_h264's own thread count; diagnostic)", "decode", None, None, None),
    ("uniform", "10%% uniform: `annotfilter ! cropextract ! fakesink` (%s)" % R.get("stats_uniform", "").strip(), "decode", 0.6, None, None),
    ("uniform_noskip", "10% uniform, `skip=false` (every frame decoded; diagnostic)", "decode", None, None, None),
    ("uniform_jpeg", "10%% uniform to JPEG files: `... ! cropextract ! videoconvert ! jpegenc ! batchsink format=dir` (%s crops)" % R.get("crops_ours"), "seed_uniform", None, None, 8),
    ("seed_uniform", "seed `seed_sleap_extract.py --mode open-once` (%s crops; baseline of the row above)" % R.get("crops_seed"), None, None, None, None),
    ("cluster", "2%% clustered: `annotfilter ! cropextract ! fakesink` (%s)" % R.get("stats_cluster", "").strip(), "decode", None, None, 8),
]
out = ["| work (%s, %s, %s frames, %s B-frames) | CPU s (1 core) | CPU ratio | wall s (2 cores) | throughput ratio | target | met |"
       % (name, R["size"], R["frames"], R["bframes"]),
       "|---|---|---|---|---|---|---|"]
for k, work, b, tcpu, twall, tfast in rows:
    c, w = med(k, "cpu"), med(k, "wall")
    bc, bw = (med(b, "cpu"), med(b, "wall")) if b else (None, None)
    rc, rw = ratio(c, bc), ratio(bw, w)
    tg, ok = "-", None
    if tcpu:
        tg, ok = "CPU <= %.2fx" % tcpu, rc is not None and rc <= tcpu
    if twall:
        tg += "; throughput >= %.2fx" % twall
        ok = None if rc is None or rw is None else (ok and rw >= twall)
    if tfast:
        tg = ">= %gx faster on one core" % tfast
        ok = None if rc is None else 1 / rc >= tfast
    cr = "-" if b is None else ("%sx %s" % (f(rc), "" if b == "decode" else "of the seed")).strip()
    if tfast and rc:
        cr = "%.2fx faster" % (1 / rc)
    out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
        work, f(c), cr, f(w), "-" if b is None else f(rw) + "x", tg, met(ok)))
print("\n".join(out))
EOF
)
echo
echo "$table"
[ -n "$markdown" ] && printf '%s\n' "$table" >"$markdown"
[ -n "$results" ] && sed "s/^/$name./" "$scratch/res" >>"$results"
exit 0
