#!/usr/bin/python3
"""annotfilter skip=true keeps from the decoder the frames no labeled frame
needs (docs/annotfilter.md, "Frames the decoder is spared"), frame-exact.

On small videos made here with ffmpeg (H.264 with a B-pyramid, H.265 with
B-frames, MJPEG, all-intra H.264), with labels spread over the whole video
(some on non-reference B-frames), through decodebin, uridecodebin and an
explicit demuxer ! parser ! decoder:

- every passed frame carries the labeled frame_index, and its pixels (all
  of I420) are the same with skip=true and skip=false, and equal ffmpeg's
  n-th frame (MJPEG: nearest to it, jpegdec rounds differently);
- frames-decoded is lower with skip=true, frames-decoded +
  frames-not-decoded covers the video, and skip=false decodes every frame;
- every frame the probe kept from the decoder (its debug log) is unlabeled
  and, read independently from the packets' bytes (ffprobe -show_data),
  a non-reference picture at the highest temporal layer (or a frame of an
  intra-only stream);
- a decoder that also feeds another branch through a tee, or framestats
  between it and annotfilter, is spared nothing;
- with one cluster of labels mid-video (annotfilter seeks to it, then to
  the end), the packets the decoder's own log shows it was given
  (GstVideoDecoder's "chain PTS") are at least frames-decoded and include
  nothing of the last GOP (the seek to the end makes the demuxer start
  again at its keyframe; those packets are dropped, not decoded)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

W, H, N = 320, 240, 100
FAILURES = []
LABELS = sorted(set(range(2, N, 9)) | {5, 6, 7, 41, 62})


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def ff(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + list(args), check=True)


def make_videos(tmp):
    src = ["-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=25" % (W, H), "-frames:v", str(N)]
    v = {}
    v["h264"] = os.path.join(tmp, "pyramid.mp4")
    ff(*src, "-c:v", "libx264", "-pix_fmt", "yuv420p",
       "-x264-params", "bframes=3:b-pyramid=normal:keyint=50", v["h264"])
    v["h265"] = os.path.join(tmp, "hevc.mp4")
    ff(*src, "-c:v", "libx265", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
       "-x265-params", "bframes=4:b-pyramid=1:keyint=50:log-level=error", v["h265"])
    v["mjpeg"] = os.path.join(tmp, "mjpeg.avi")
    ff(*src, "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p", v["mjpeg"])
    v["intra"] = os.path.join(tmp, "intra.mp4")
    ff(*src, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "1", v["intra"])
    return v


EXPLICIT = {"h264": "qtdemux ! h264parse ! avdec_h264",
            "h265": "qtdemux ! h265parse ! avdec_h265",
            "mjpeg": "avidemux ! jpegparse ! jpegdec",
            "intra": "qtdemux ! h264parse ! avdec_h264"}


def ffmpeg_frames(path, pix_fmt):
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
                         check=True, capture_output=True).stdout
    size = W * H * 3 // 2
    return np.frombuffer(raw, np.uint8).reshape(-1, size)


def packet_refs(path, codec):
    """Frame index -> True when another frame may depend on it, read from the
    packets' NAL headers (length-prefixed, 4 bytes) through ffprobe."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_packets",
                          "-show_data", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    packets = []
    for p in json.loads(out)["packets"]:
        data = b"".join(bytes.fromhex(line.split(": ", 1)[1][:39].replace(" ", ""))
                        for line in p["data"].strip().splitlines())
        nals, pos = [], 0
        while pos + 4 <= len(data):
            n = int.from_bytes(data[pos:pos + 4], "big")
            nals.append(data[pos + 4:pos + 4 + n])
            pos += 4 + n
        packets.append((float(p["pts_time"]), nals))
    packets.sort()
    info = []
    for _, nals in packets:
        if codec == "h264":
            vcl = [n for n in nals if 1 <= (n[0] & 31) <= 5]
            ref = any(n[0] >> 5 & 3 for n in vcl) or any((n[0] & 31) in (7, 8) for n in nals)
            info.append((ref, 0))
        else:
            vcl = [n for n in nals if (n[0] >> 1 & 63) < 32]
            ref = any((n[0] >> 1 & 63) > 14 or (n[0] >> 1 & 63) % 2 for n in vcl) or \
                any(32 <= (n[0] >> 1 & 63) <= 34 for n in nals)
            info.append((ref, max((n[1] & 7) - 1 for n in vcl)))
    top = max(t for _, t in info)
    # a sub-layer non-reference picture below the top layer may be referenced
    return [ref or t != top for ref, t in info]


def same_frame(codec, img, truth, n):
    """Exact for H.264/H.265. jpegdec and ffmpeg's MJPEG decoder round
    differently, so there the image must be nearest to ffmpeg's frame n."""
    if img.shape != truth[n].shape:
        return False
    if codec != "mjpeg":
        return np.array_equal(img, truth[n])
    dist = {k: np.abs(img.astype(int) - truth[k]).mean()
            for k in range(max(0, n - 3), min(len(truth), n + 4))}
    return min(dist, key=dist.get) == n and dist[n] < 2


def write_labels(path, frames=LABELS):
    with open(path, "w") as f:
        for i, n in enumerate(frames):
            d = {"frame_index": n, "width": W, "height": H,
                 "instances": [{"kind": "user", "track": -1, "keypoints": [[n + 0.5, 7.5, 1, None]]}]}
            if i == 0:
                d["skeleton"] = {"name": "s", "nodes": ["a"], "edges": []}
            f.write(json.dumps(d) + "\n")


def run(video, decode, labels, skip, out):
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    head = (["uridecodebin", "uri=file://" + video] if decode == "uridecodebin" else
            ["filesrc", "location=" + video, "!"] + decode.split())
    cmd = (["gst-launch-1.0", "-m"] + head +
           ["!", "annotfilter", "location=" + labels, "skip=" + skip, "!", "tee", "name=t",
            "t.", "!", "queue", "!", "batchsink", "format=jsonl",
            "location=" + os.path.join(out, "out.jsonl"),
            "t.", "!", "queue", "!", "multifilesink", "location=" + os.path.join(out, "f_%05d.raw")])
    env = dict(os.environ, GST_DEBUG="annotfilter-skip:6", GST_DEBUG_NO_COLOR="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        fail("%s %s skip=%s: gst-launch failed: %s" % (video, decode, skip, p.stdout[-400:] + p.stderr[-1000:]))
        return None
    stats = {k: int(v) for k, v in re.findall(r"(frames-[a-z-]+)=\(guint64\)(\d+)", p.stdout)}
    kept = [int(x) for x in re.findall(r"frame (\d+) \(pts [^)]*\): no labeled frame needs it", p.stderr)]
    with open(os.path.join(out, "out.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    images = [np.fromfile(os.path.join(out, "f_%05d.raw" % i), np.uint8) for i in range(len(lines))]
    return stats, kept, lines, images


def check_video(tmp, codec, video, labels):
    # MJPEG is full range: no range conversion, as jpegdec
    truth = ffmpeg_frames(video, "yuvj420p" if codec == "mjpeg" else "yuv420p")
    refs = [False] * len(truth) if codec in ("mjpeg", "intra") else packet_refs(video, codec)
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    for decode in ["decodebin", "uridecodebin", EXPLICIT[codec]]:
        what = "%s via %s" % (codec, decode.split()[0])
        decoded, images_by_skip = {}, {}
        for skip in ["true", "false"]:
            r = run(video, decode, labels, skip, out)
            if r is None:
                continue
            stats, kept, lines, images = r
            idx = [o["frame_index"] for o in lines]
            if idx != LABELS:
                fail("%s skip=%s: passed frames %s, labeled %s" % (what, skip, idx, LABELS))
            images_by_skip[skip] = images
            for n, img in zip(idx, images):
                if n < len(truth) and not same_frame(codec, img, truth, n):
                    fail("%s skip=%s: frame %d is not ffmpeg's frame %d" % (what, skip, n, n))
            decoded[skip] = stats.get("frames-decoded", -1)
            if stats.get("frames-decoded", 0) + stats.get("frames-not-decoded", 0) < len(truth):
                fail("%s skip=%s: decoded %s + not decoded %s < %d frames" %
                     (what, skip, stats.get("frames-decoded"), stats.get("frames-not-decoded"),
                      len(truth)))
            for f in kept:
                if f in LABELS:
                    fail("%s: labeled frame %d was kept from the decoder" % (what, f))
                elif refs[f]:
                    fail("%s: frame %d was kept from the decoder, but other frames reference it"
                         % (what, f))
            if skip == "false":
                if kept or stats.get("frames-decoded") != len(truth) or stats.get("frames-not-decoded"):
                    fail("%s skip=false: %d frames kept from the decoder, stats %s" %
                         (what, len(kept), stats))
            elif len(set(kept)) < (len(truth) - len(LABELS)) * (0.8 if codec in ("mjpeg", "intra")
                                                                else 0.25):
                fail("%s: only %d frames kept from the decoder" % (what, len(set(kept))))
            else:
                print("%s: %d of %d frames decoded (%d kept from the decoder, not decoded %d)" %
                      (what, stats["frames-decoded"], len(truth), len(set(kept)),
                       stats["frames-not-decoded"]))
        a, b = images_by_skip.get("true", []), images_by_skip.get("false", [])
        if len(a) != len(b) or any(not np.array_equal(x, y) for x, y in zip(a, b)):
            fail("%s: the passed frames' pixels differ between skip=true and skip=false" % what)
        if decoded.get("true", 0) >= decoded.get("false", 0):
            fail("%s: frames-decoded %s with skip, %s without" %
                 (what, decoded.get("true"), decoded.get("false")))


def check_walk_stops(tmp, video, labels):
    """A decoder that also feeds another branch through a tee, or an element
    between it and annotfilter that needs every frame (framestats), is
    spared nothing."""
    out = os.path.join(tmp, "tee")
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, GST_DEBUG="annotfilter-skip:6", GST_DEBUG_NO_COLOR="1")
    head = ["gst-launch-1.0", "-m", "filesrc", "location=" + video, "!", "decodebin", "!"]
    p = subprocess.run(head + ["tee", "name=t", "t.", "!", "queue", "!", "annotfilter",
                               "location=" + labels, "!", "fakesink", "t.", "!", "queue", "!",
                               "multifilesink", "location=" + os.path.join(out, "f_%05d.raw")],
                       capture_output=True, text=True, env=env, timeout=120)
    n = len(os.listdir(out))
    if p.returncode != 0 or n != N or "no labeled frame needs it" in p.stderr:
        fail("tee: the other branch got %d of %d frames (rc %d)" % (n, N, p.returncode))
    else:
        print("tee: the other branch got all %d frames" % n)
    p = subprocess.run(head + ["videoconvert", "!", "video/x-raw,format=GRAY8", "!", "framestats",
                               "location=" + os.path.join(tmp, "stats"), "!", "annotfilter",
                               "location=" + labels, "!", "fakesink"],
                       capture_output=True, text=True, env=env, timeout=120)
    seen = re.findall(r"framestats-done.*?frames=\(guint64\)(\d+)", p.stdout)
    if p.returncode != 0 or seen != [str(N)] or "no labeled frame needs it" in p.stderr:
        fail("framestats before annotfilter: saw %s of %d frames (rc %d)" % (seen, N, p.returncode))
    else:
        print("framestats before annotfilter: saw all %d frames" % N)


def check_cluster_seeks(tmp):
    """frames-decoded is never more than the decoder was given, after a seek
    to the first labeled frame and one to the end; the last GOP, which the
    seek to the end makes the demuxer send again, reaches no decoder."""
    n, rate, keyint = 400, 25, 60
    video = os.path.join(tmp, "cluster.mp4")
    ff("-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=%d" % (W, H, rate), "-frames:v", str(n),
       "-c:v", "libx264", "-pix_fmt", "yuv420p",
       "-x264-params", "bframes=3:b-pyramid=normal:keyint=%d:min-keyint=%d:scenecut=0"
       % (keyint, keyint), video)
    cluster = list(range(200, 210))
    labels = os.path.join(tmp, "cluster.jsonl")
    write_labels(labels, cluster)
    last_gop_pts = (n - n % keyint if n % keyint else n - keyint) / rate
    env = dict(os.environ, GST_DEBUG="videodecoder:6", GST_DEBUG_NO_COLOR="1")
    for decode in ["decodebin", "qtdemux ! h264parse ! avdec_h264",
                   "qtdemux ! h264parse ! queue ! avdec_h264 ! queue"]:
        what = "cluster via %s" % decode
        cmd = (["gst-launch-1.0", "-m", "filesrc", "location=" + video, "!"] + decode.split() +
               ["!", "annotfilter", "location=" + labels, "!", "fakesink"])
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        stats = {k: int(v) for k, v in re.findall(r"(frames-[a-z-]+)=\(guint64\)(\d+)", p.stdout)}
        chained = [int(h) * 3600 + int(m) * 60 + float(sec) for h, m, sec in
                   re.findall(r"gst_video_decoder_chain:.*? chain PTS (\d+):(\d+):([\d.]+)",
                              p.stderr)]
        if p.returncode != 0 or "frames-decoded" not in stats:
            fail("%s: gst-launch rc %d, stats %s: %s" % (what, p.returncode, stats,
                                                           p.stderr[-600:]))
            continue
        tail = [t for t in chained if t >= last_gop_pts - 1e-6]
        if stats["frames-decoded"] > len(chained):
            fail("%s: frames-decoded %d, but the decoder was given %d packets" %
                 (what, stats["frames-decoded"], len(chained)))
        elif stats["frames-decoded"] + stats["frames-not-decoded"] < n:
            fail("%s: decoded %d + not decoded %d < %d frames" %
                 (what, stats["frames-decoded"], stats["frames-not-decoded"], n))
        elif tail:
            fail("%s: the decoder was given %d packets of the last GOP (from %.2f s)" %
                 (what, len(tail), last_gop_pts))
        elif len(chained) > 2 * keyint + 20:
            fail("%s: the decoder was given %d packets for one cluster of %d labels" %
                 (what, len(chained), len(cluster)))
        else:
            print("%s: decoder given %d packets, frames-decoded %d, not decoded %d" %
                  (what, len(chained), stats["frames-decoded"], stats["frames-not-decoded"]))


def main():
    tmp = tempfile.mkdtemp(prefix="test-decodeskip-")
    try:
        videos = make_videos(tmp)
        labels = os.path.join(tmp, "labels.jsonl")
        write_labels(labels)
        for codec, video in videos.items():
            check_video(tmp, codec, video, labels)
        check_walk_stops(tmp, videos["h264"], labels)
        check_cluster_seeks(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("decodeskip: %d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
