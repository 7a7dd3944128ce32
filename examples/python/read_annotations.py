#!/usr/bin/python3
"""Print the instances and keypoints that onepass puts on each frame, read
off the buffers from Python through introspection (gi.repository.Onepass).

    read_annotations.py VIDEO LABELS [--instances user|predicted|all]
                        [--max-frames N] [--appsink]

By default a pad probe on annotfilter's src pad reads every buffer as it
passes (the pipeline ends in fakesink); with --appsink the same is read
from the samples an appsink hands the application. Output, per frame:

    frame 0 pts 0.133 s 384x384: 2 instances
      predicted track 0 "1" score 0.951 box none
        head 190.02 205.85 visible score 0.973
        ...

(x, y in pixel-centre coordinates, the image corner at -0.5; a missing
point prints "missing"). Run it from the build tree with
`meson devenv -C build`, or set GI_TYPELIB_PATH, LD_LIBRARY_PATH and
GST_PLUGIN_PATH as docs/python.md says.
"""
import argparse
import math
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("Onepass", "1.0")
from gi.repository import Gst, Onepass  # noqa: E402


def describe(ann):
    """The lines for one annotation (Onepass.Annotation, a copy we own)."""
    width, height = ann.get_size()
    pts = ann.get_pts()
    pts_s = "none" if pts == Gst.CLOCK_TIME_NONE else "%.3f s" % (pts / Gst.SECOND)
    lines = ["frame %d pts %s %dx%d: %d instances"
             % (ann.get_frame_index(), pts_s, width, height, ann.n_instances())]
    skeleton = ann.get_skeleton()
    nodes = skeleton.get_nodes() if skeleton else []
    for i in range(ann.n_instances()):
        inst = ann.get_instance(i)
        has_box, x, y, w, h = inst.get_bbox()
        box = "[%.2f, %.2f, %.2f, %.2f]" % (x, y, w, h) if has_box else "none"
        score = inst.get_score()
        lines.append("  %s track %d \"%s\" score %s box %s"
                     % (Onepass.instance_kind_to_string(inst.get_kind()), inst.get_track(),
                        inst.get_track_name() or "", "none" if math.isnan(score) else "%.3f" % score,
                        box))
        # x, y, visible, score per node, in the skeleton's order
        values = inst.get_keypoints()
        for k in range(inst.get_n_keypoints()):
            kx, ky, vis, ks = values[4 * k:4 * k + 4]
            where = "missing" if math.isnan(kx) else "%.2f %.2f %s" % (
                kx, ky, "visible" if vis else "hidden")
            lines.append("    %s %s score %s" % (nodes[k] if k < len(nodes) else k, where,
                                                 "none" if math.isnan(ks) else "%.3f" % ks))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video")
    ap.add_argument("labels")
    ap.add_argument("--instances", default="all", choices=["user", "predicted", "all"])
    ap.add_argument("--max-frames", type=int, default=0, help="stop after N annotated frames (0 = all)")
    ap.add_argument("--appsink", action="store_true", help="read through appsink instead of a pad probe")
    args = ap.parse_args()

    Gst.init(None)
    pipe = Gst.Pipeline.new("read")
    src = Gst.ElementFactory.make("filesrc")
    dec = Gst.ElementFactory.make("decodebin")
    filt = Gst.ElementFactory.make("annotfilter")
    sink = Gst.ElementFactory.make("appsink" if args.appsink else "fakesink")
    if filt is None:
        sys.exit("read_annotations: no annotfilter element: put the onepass plugins on GST_PLUGIN_PATH")
    src.set_property("location", args.video)
    filt.set_property("location", args.labels)
    filt.set_property("instances", args.instances)
    sink.set_property("sync", False)
    for e in (src, dec, filt, sink):
        pipe.add(e)
    src.link(dec)
    filt.link(sink)
    dec.connect("pad-added", lambda d, pad: pad.link(filt.get_static_pad("sink")))

    count = [0]

    def show(buf):
        """Prints @buf's annotation; False once --max-frames are shown."""
        ann = Onepass.buffer_get_annotation(buf)
        if ann is not None and (not args.max_frames or count[0] < args.max_frames):
            print("\n".join(describe(ann)), flush=True)
            count[0] += 1
        return not args.max_frames or count[0] < args.max_frames

    def probe(pad, info):
        # runs on the streaming thread; the main thread waits on the bus
        if not show(info.get_buffer()):
            pipe.post_message(Gst.Message.new_application(pipe, Gst.Structure.new_empty("enough")))
            return Gst.PadProbeReturn.REMOVE
        return Gst.PadProbeReturn.OK

    if not args.appsink:
        filt.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipe.set_state(Gst.State.PLAYING)
    if args.appsink:
        while True:
            sample = sink.emit("pull-sample")
            if sample is None or not show(sample.get_buffer()):
                break
    status = 0
    enough = count[0] == args.max_frames and args.appsink
    msg = None if enough else pipe.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.ERROR | Gst.MessageType.EOS | Gst.MessageType.APPLICATION)
    if msg is not None and msg.type == Gst.MessageType.ERROR:
        print("read_annotations: %s" % msg.parse_error()[0].message, file=sys.stderr)
        status = 1
    pipe.set_state(Gst.State.NULL)
    print("%d annotated frames" % count[0], file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
