#!/usr/bin/python3
"""Video + detections (MOT text, boxes with track ids) -> per-track crops -> train/val tar shards.

The job of the sports seed: a tracker wrote one box per player and frame; we
want one crop per box, in WebDataset shards split by track, so that one
player never lands in both train and val. One sequential decode:

  filesrc ! decodebin ! annotfilter instances=detection ! cropextract !
  videoconvert ! video/x-raw,format=RGB ! jpegenc ! batchsink split-by=track

annotfilter reads the detections file (format detected from the content:
MOT gt.txt / det.txt / tracker output, or any other label format onepass
reads) and passes only the frames with boxes; cropextract cuts each box
(with `--padding` around it) to SIZE x SIZE; batchsink writes the shards.

usage: detections_to_dataset.py VIDEO DETECTIONS OUT [--size 128]
                                [--padding 0.1] [--split train=0.8,val=0.2]

Needs the onepass plugins on GST_PLUGIN_PATH (`meson devenv -C build`).
Prints one line per split (samples, tracks) and the shards.
"""
import argparse
import json
import os
import sys
import tarfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def run(args):
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "filesrc name=src ! decodebin ! annotfilter name=filter instances=detection ! "
        "cropextract width=%d height=%d padding=%f ! videoconvert ! "
        "video/x-raw,format=RGB ! jpegenc ! batchsink name=sink format=tar "
        'split="%s" split-by=track' % (args.size, args.size, args.padding, args.split))
    # paths as properties: no quoting trouble with spaces
    pipeline.get_by_name("src").set_property("location", args.video)
    pipeline.get_by_name("filter").set_property("location", args.detections)
    pipeline.get_by_name("sink").set_property("location", args.out)
    loop = GLib.MainLoop()
    ok = [True]

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            sys.stderr.write("error: %s\n" % err.message)
            ok[0] = False
            loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            sys.stderr.write("warning: %s\n" % msg.parse_warning()[0].message)
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return ok[0]


def summarize(out):
    """Reads the shards back with tarfile: samples and tracks per split."""
    with open(os.path.join(out, "dataset.json")) as f:
        shards = json.load(f)["shards"]
    per_split = {}
    for sh in shards:
        samples, tracks = per_split.setdefault(sh["split"], [0, set()])
        with tarfile.open(os.path.join(out, sh["path"])) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json"):
                    ann = json.load(tar.extractfile(member))
                    tracks.add(ann["instances"][0]["track"])
                    per_split[sh["split"]][0] += 1
    for split, (samples, tracks) in sorted(per_split.items()):
        print("%s: %d crops of %d tracks (%s)" % (split, samples, len(tracks),
                                                 ", ".join(str(t) for t in sorted(tracks))))
    for sh in shards:
        print("  %s  %d samples" % (sh["path"], sh["samples"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("detections", help="MOT text (frame,id,x,y,w,h,conf,...) or another label file")
    ap.add_argument("out", help="output directory")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--padding", type=float, default=0.1)
    ap.add_argument("--split", default="train=0.8,val=0.2")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not run(args):
        return 1
    summarize(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
