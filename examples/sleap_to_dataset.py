#!/usr/bin/python3
"""SLEAP labels + video -> training dataset, in one sequential decode.

Builds the design's pipeline 1 (WebDataset tar shards with a train/val split)
or pipeline 2 (one HDF5 file per split) with PyGObject, shows a progress line
on stderr (frames done / total, fps, ETA) from position queries and the
elements' bus messages, and prints a summary from dataset.json (the index of
every run in the output directory) / the files.

usage: sleap_to_dataset.py VIDEO LABELS OUT [--format tar|hdf5]
                           [--instances user|predicted|all]
                           [--split train=0.9,val=0.1] [--split-by track]
                           [--size 328] [--keep-frames N] [--overwrite]

Needs the onepass plugins on GST_PLUGIN_PATH (`meson devenv -C build`, or
scripts/demo.sh which sets it).
"""
import argparse
import json
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def build(args):
    crops = "cropextract width=%d height=%d" % (args.size, args.size)
    if args.format == "tar":
        # RGB before jpegenc: I420 from the decoder is limited range, and jpegenc
        # would store it unscaled in a full-range JFIF (black at 16, white at 235)
        tail = "videoconvert ! video/x-raw,format=RGB ! jpegenc ! batchsink name=sink format=tar"
    else:
        tail = "videoconvert ! video/x-raw,format=RGB ! batchsink name=sink format=hdf5"
    cache = " ramcache name=cache max-frames=%d !" % args.keep_frames if args.keep_frames else ""
    desc = ('filesrc name=src ! decodebin !%s annotfilter name=filter '
            'instances=%s ! %s ! %s split="%s" split-by=%s overwrite=%s'
            % (cache, args.instances, crops, tail, args.split,
               args.split_by, "true" if args.overwrite else "false"))
    pipeline = Gst.parse_launch(desc)
    # paths set as properties, not in the description: spaces and quotes in
    # file names need no escaping
    pipeline.get_by_name("src").set_property("location", args.video)
    pipeline.get_by_name("filter").set_property("location", args.labels)
    pipeline.get_by_name("sink").set_property("location", args.out)
    return pipeline


class Progress:
    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.start = time.monotonic()
        self.samples = 0
        self.fps = None

    def frame_rate(self):
        if self.fps is None:
            pad = self.pipeline.get_by_name("filter").get_static_pad("sink")
            caps = pad.get_current_caps()
            if caps:
                ok, n, d = caps.get_structure(0).get_fraction("framerate")
                if ok and n > 0:
                    self.fps = n / d
        return self.fps

    def show(self):
        ok_p, pos = self.pipeline.query_position(Gst.Format.TIME)
        ok_d, dur = self.pipeline.query_duration(Gst.Format.TIME)
        fps = self.frame_rate()
        elapsed = time.monotonic() - self.start
        if ok_p and ok_d and dur > 0 and fps:
            done, total = pos / Gst.SECOND * fps, dur / Gst.SECOND * fps
            rate = done / elapsed if elapsed > 0 else 0
            eta = (total - done) / rate if rate > 0 else 0
            sys.stderr.write("\r  frame %6d / %d  %7.1f frames/s  ETA %5.1f s  samples %d "
                             % (done, total, rate, eta, self.samples))
            sys.stderr.flush()
        return True


def run(args):
    Gst.init(None)
    pipeline = build(args)
    progress = Progress(pipeline)
    loop = GLib.MainLoop()
    result = {"ok": True, "stats": None}

    def on_message(bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "batchsink-progress":
                progress.samples = s.get_value("samples")
            elif s.get_name() == "annotfilter-stats":
                result["stats"] = {k: s.get_value(k) for k in
                                   ("frames-seen", "frames-passed", "frames-decoded-skipped",
                                    "instances", "labeled-frames-missing")}
        elif t == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            sys.stderr.write("\nwarning: %s\n" % err.message)
        elif t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            sys.stderr.write("\nerror: %s\n" % err.message)
            result["ok"] = False
            loop.quit()
        elif t == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(250, progress.show)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    progress.show()
    sys.stderr.write("\n")
    if args.keep_frames and result["ok"]:
        pipeline.set_state(Gst.State.PAUSED)  # the cache lives until READY
        show_cached(pipeline, args)
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    result["seconds"] = time.monotonic() - progress.start
    return result


def show_cached(pipeline, args):
    """Random access to decoded frames after the run: ramcache's get-frame."""
    import hashlib
    cache = pipeline.get_by_name("cache")
    last = cache.get_property("cached-frames")
    hits = []
    for index in range(1100):  # the newest frames stay cached (policy=window)
        sample = cache.emit("get-frame", index)
        if sample is not None:
            hits.append((index, sample))
    print("  ramcache kept %d decoded frames (frames %d-%d); get-frame, e.g.:"
          % (last, hits[0][0], hits[-1][0]) if hits else "  ramcache kept no frame")
    for index, sample in hits[-2:]:
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        digest = hashlib.md5(bytes(info.data)).hexdigest()[:12]
        buf.unmap(info)
        st = sample.get_caps().get_structure(0)
        print("    frame %d: %dx%d %s, pts %.3f s, md5 %s" % (
            index, st.get_value("width"), st.get_value("height"), st.get_value("format"),
            buf.pts / Gst.SECOND, digest))


def summarize(args, result):
    print("onepass: %s -> %s (%s) in %.2f s" % (os.path.basename(args.labels), args.out,
                                                args.format, result["seconds"]))
    st = result["stats"]
    if st:
        print("  frames decoded %d, passed %d, never decoded %d, instances %d"
              % (st["frames-seen"], st["frames-passed"], st["frames-decoded-skipped"],
                 st["instances"]))
    if args.format == "tar":
        # dataset.json lists every complete shard of every run in the directory
        with open(os.path.join(args.out, "dataset.json")) as f:
            m = json.load(f)
        per_split = {}
        for sh in m["shards"]:
            per_split[sh["split"]] = per_split.get(sh["split"], 0) + sh["samples"]
        print("  %d samples in %d shards, %.1f MB: %s" % (
            sum(sh["samples"] for sh in m["shards"]), len(m["shards"]),
            sum(sh["bytes"] for sh in m["shards"]) / 1e6,
            ", ".join("%s %d" % kv for kv in sorted(per_split.items()))))
        for sh in m["shards"]:
            print("    %s  %d samples" % (sh["path"], sh["samples"]))
    else:
        stem, ext = os.path.splitext(args.out)
        for name in sorted(os.listdir(os.path.dirname(os.path.abspath(args.out)))):
            if name.startswith(os.path.basename(stem) + ".") and name.endswith(ext):
                print("    %s  %.1f MB" % (name, os.path.getsize(
                    os.path.join(os.path.dirname(os.path.abspath(args.out)), name)) / 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("labels")
    ap.add_argument("out", help="output directory (tar) or file (hdf5)")
    ap.add_argument("--format", choices=("tar", "hdf5"), default="tar")
    ap.add_argument("--instances", choices=("user", "predicted", "all"), default="user")
    ap.add_argument("--split", default="train=0.9,val=0.1")
    ap.add_argument("--split-by", choices=("track", "source", "frame", "sample"), default="track",
                    help="what stays together in one split (default: a track never spans two)")
    ap.add_argument("--size", type=int, default=328)
    ap.add_argument("--overwrite", action="store_true",
                    help="replace an earlier complete run of this video in OUT "
                         "(batchsink refuses otherwise)")
    ap.add_argument("--keep-frames", type=int, default=0, metavar="N",
                    help="keep the newest N decoded frames in a ramcache and read two "
                         "back with get-frame after the run")
    args = ap.parse_args()
    if args.format == "tar":
        os.makedirs(args.out, exist_ok=True)
    result = run(args)
    if not result["ok"]:
        return 1
    summarize(args, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
