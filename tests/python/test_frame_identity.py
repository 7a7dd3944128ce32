#!/usr/bin/python3
"""Frame identity (docs/frame-identity.md) against an independent decode:
the n-th frame ffmpeg decodes is frame n (SLEAP's frame_idx). For every
frame annotfilter passes, its frame_index (read back through batchsink
format=jsonl) must be the labeled one and its pixels (raw I420 written
beside it by multifilesink) must equal ffmpeg's n-th frame, on:

- a VFR video disguised as CFR (frames dropped, timestamps kept, container
  says 25 fps), labels before and after the gaps, skip=true and false,
  decodebin and an explicit qtdemux ! h264parse ! avdec_h264;
- interrupted runs: gst-launch-1.0 -e and SIGINT mid-run (the decoder drops
  frames at the forced EOS): every written line's frame_index must match
  its pts through ffprobe's frame table, and its pixels;
- mode=tag: every frame reaches batchsink with its true index and source;
- an MP4 trimmed with an edit list: the labeled frames the demuxer never
  delivers are reported with that reason."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

SHARED = os.environ["ONEPASS_SHARED_DATA"]
SAMPLE = os.path.join(SHARED, "sleap", "centered_pair_low_quality.mp4")
FAILURES = []
RUNS = [0]


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def ff(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + list(args), check=True)


def ffmpeg_y_planes(path, w, h):
    """Y plane of every frame ffmpeg decodes, in order (no frame-rate
    conversion: -fps_mode passthrough)."""
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         check=True, capture_output=True).stdout
    size = w * h * 3 // 2
    n = len(raw) // size
    frames = np.frombuffer(raw, np.uint8)[:n * size].reshape(n, size)
    return frames[:, :w * h].copy()


def ffprobe_pts(path):
    """Presentation timestamps (s) of the frames ffmpeg decodes, sorted."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=pts_time", "-of", "csv=p=0", path],
                         check=True, capture_output=True, text=True).stdout
    return sorted(float(x.strip(",")) for x in out.split() if x.strip(","))


def write_labels(path, frames, source):
    with open(path, "w") as f:
        for i, n in enumerate(frames):
            d = {"source": source, "frame_index": n,
                 "instances": [{"kind": "user", "track": -1, "keypoints": [[n + 0.25, 7.5, 1, None]]}]}
            if i == 0:
                d["skeleton"] = {"name": "s", "nodes": ["a"], "edges": []}
            f.write(json.dumps(d) + "\n")


def pipeline(video, decode, labels, props, out_dir, pre_sink=""):
    jsonl = os.path.join(out_dir, "out.jsonl")
    raw = os.path.join(out_dir, "frame_%05d.raw")
    for name in os.listdir(out_dir):
        os.unlink(os.path.join(out_dir, name))
    return (["gst-launch-1.0", "filesrc", "location=" + video, "!"] + decode.split() +
            ["!", "annotfilter", "location=" + labels] + props.split() + ["!"] +
            (pre_sink.split() + ["!"] if pre_sink else []) +
            ["tee", "name=t", "t.", "!", "queue", "!", "batchsink", "format=jsonl",
             "location=" + jsonl, "t.", "!", "queue", "!", "multifilesink", "location=" + raw])


def read_output(out_dir, w, h):
    with open(os.path.join(out_dir, "out.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    ys = []
    for i in range(len(lines)):
        p = os.path.join(out_dir, "frame_%05d.raw" % i)
        ys.append(np.fromfile(p, np.uint8)[:w * h] if os.path.exists(p) else None)
    return lines, ys


def check_pixels(what, lines, ys, truth):
    for o, y in zip(lines, ys):
        n = o["frame_index"]
        if n >= len(truth):
            fail("%s: frame %d passed but ffmpeg decodes only %d" % (what, n, len(truth)))
        elif y is None or y.shape != truth[n].shape:
            fail("%s: no image written for frame %d" % (what, n))
        elif not np.array_equal(y, truth[n]):
            # which frame is it really?
            same = [k for k in range(max(0, n - 20), min(len(truth), n + 20))
                    if np.array_equal(y, truth[k])]
            fail("%s: frame_index %d carries the image of ffmpeg frame %s" % (what, n, same))


def test_vfr(tmp):
    video = os.path.join(tmp, "vfr.mp4")
    ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=12", "-vf",
       "select='not(between(n\\,50\\,59))*not(between(n\\,150\\,170))*not(eq(mod(n\\,13)\\,0))'",
       "-fps_mode", "passthrough", "-c:v", "libx264", "-g", "50", "-pix_fmt", "yuv420p", video)
    truth = ffmpeg_y_planes(video, 320, 240)
    n = len(truth)
    assert 230 < n < 260, n
    # before the first gap (first seek comes before frame 50), across and
    # after the gaps, the last frame, and two beyond the end
    want = [3, 4, 5, 40, 41, 80, 81, 120, 140, 141, 200, n - 1]
    labels = os.path.join(tmp, "vfr.jsonl")
    write_labels(labels, want + [n, n + 40], "vfr")
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    for decode in ("decodebin", "qtdemux ! h264parse ! avdec_h264"):
        for props in ("skip=true skip-min-frames=5", "skip=false"):
            what = "vfr %s %s" % (decode, props)
            RUNS[0] += 1
            p = subprocess.run(pipeline(video, decode, labels, props, out), capture_output=True,
                               text=True, timeout=120)
            if p.returncode != 0:
                # rc and stderr too: seen twice in CI only (not in 220 runs
                # here), after a complete run ("Freeing pipeline ...")
                fail("%s: gst-launch failed (rc %d): %s\nstderr: %s" %
                     (what, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
                continue
            lines, ys = read_output(out, 320, 240)
            got = [o["frame_index"] for o in lines]
            if got != want:
                fail("%s: passed %s, want %s" % (what, got, want))
            check_pixels(what, lines, ys, truth)
            if "beyond the end of the video (the stream has %d frames)" % n not in p.stdout:
                fail("%s: no 'beyond the end' warning with the frame count:\n%s" % (what, p.stdout[-1500:]))


def test_interrupted(tmp):
    """SIGINT to gst-launch-1.0 -e mid-run, real-time (clocksync)."""
    truth = ffmpeg_y_planes(SAMPLE, 384, 384)
    pts = ffprobe_pts(SAMPLE)
    labels = os.path.join(tmp, "dense.jsonl")
    write_labels(labels, range(len(truth)), "centered_pair_low_quality")
    out = os.path.join(tmp, "int")
    os.makedirs(out, exist_ok=True)
    for delay in (2.0, 3.0):
        what = "interrupted after %.1f s" % delay
        RUNS[0] += 1
        cmd = ["gst-launch-1.0", "-e"] + pipeline(SAMPLE, "decodebin", labels, "", out, "clocksync")[1:]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        log = p.communicate(timeout=60)[0]
        if p.returncode != 0:
            fail("%s: gst-launch exit %d: %s" % (what, p.returncode, log[-1500:]))
            continue
        lines, ys = read_output(out, 384, 384)
        if len(lines) < 10 or len(lines) > 1000:
            fail("%s: %d lines: not interrupted mid-run" % (what, len(lines)))
            continue
        # frame n's pts, relative to frame 0, is ffprobe's (independent table)
        first = lines[0]
        if first["frame_index"] != 0:
            fail("%s: first line is frame %d" % (what, first["frame_index"]))
            continue
        for o in lines:
            rel = (o["pts"] - first["pts"]) / 1e9
            by_pts = min(range(len(pts)), key=lambda k: abs(pts[k] - pts[0] - rel))
            if by_pts != o["frame_index"]:
                fail("%s: line with pts %d says frame %d, its pts is frame %d"
                     % (what, o["pts"], o["frame_index"], by_pts))
            if abs(o["instances"][0]["keypoints"][0][0] - o["frame_index"] - 0.25) > 1e-6:
                fail("%s: frame %d carries the keypoints of another frame" % (what, o["frame_index"]))
        check_pixels(what, lines, ys, truth)
        # the labeled frames after the stop are reported as such
        if "after the stream stopped at frame %d of %d (interrupted" % (
                lines[-1]["frame_index"], len(truth)) not in log:
            fail("%s: no warning that the stream stopped at frame %d:\n%s"
                 % (what, lines[-1]["frame_index"], log[-1500:]))


def test_tag_mode(tmp):
    """mode=tag: unlabeled frames keep their index and source in batchsink's
    output (they were written as frame 0, source "unlabeled")."""
    truth = ffmpeg_y_planes(SAMPLE, 384, 384)
    labels = os.path.join(tmp, "tag.jsonl")
    write_labels(labels, [7, 500], "centered_pair_low_quality")
    out = os.path.join(tmp, "tag")
    os.makedirs(out, exist_ok=True)
    RUNS[0] += 1
    p = subprocess.run(pipeline(SAMPLE, "decodebin", labels, "mode=tag", out), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        fail("tag mode: gst-launch failed: %s" % p.stdout[-1500:])
        return
    lines, ys = read_output(out, 384, 384)
    if [o["frame_index"] for o in lines] != list(range(len(truth))):
        fail("tag mode: frame indices are not 0..%d" % (len(truth) - 1))
    if {o["source"] for o in lines} != {"centered_pair_low_quality"}:
        fail("tag mode: sources %s" % sorted({o["source"] for o in lines}))
    if [o["frame_index"] for o in lines if o["instances"]] != [7, 500]:
        fail("tag mode: labeled frames %s" % [o["frame_index"] for o in lines if o["instances"]])
    check_pixels("tag mode", lines[::50], ys[::50], truth)


def test_edit_list(tmp):
    base = os.path.join(tmp, "base.mp4")
    trim = os.path.join(tmp, "trim.mp4")
    ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=20", "-c:v", "libx264",
       "-preset", "fast", "-pix_fmt", "yuv420p", base)
    ff("-ss", "3.4", "-i", base, "-c", "copy", trim)
    n = len(ffprobe_pts(trim))
    labels = os.path.join(tmp, "trim.jsonl")
    write_labels(labels, [5, n - 3], "trim")
    out = os.path.join(tmp, "trim")
    os.makedirs(out, exist_ok=True)
    RUNS[0] += 1
    p = subprocess.run(pipeline(trim, "decodebin", labels, "", out), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        fail("edit list: gst-launch failed: %s" % p.stdout[-1500:])
        return
    lines, _ = read_output(out, 320, 240)
    got = [o["frame_index"] for o in lines]
    if "did not deliver" in p.stdout:
        # GStreamer 1.22's qtdemux trap: the end of the edit never comes
        if got != [5]:
            fail("edit list: passed %s, want [5]" % got)
    elif got != [5, n - 3]:
        fail("edit list: passed %s, want %s (and no warning)" % (got, [5, n - 3]))


def main():
    tmp = tempfile.mkdtemp(prefix="test-frame-identity-")
    try:
        test_vfr(tmp)
        test_interrupted(tmp)
        test_tag_mode(tmp)
        test_edit_list(tmp)
    finally:
        # raw frames: a few hundred MB
        shutil.rmtree(tmp, ignore_errors=True)
    failed = len({f.split(":")[0] for f in FAILURES})
    print("frame identity: %d passed, %d failed" % (RUNS[0] - failed, failed))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
