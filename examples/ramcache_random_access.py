#!/usr/bin/python3
"""Decode a video once into ramcache, then read frames back in any order.

The pipeline ends in `ramcache ! fakesink`: it plays to EOS, which caches
every frame, then the script pulls frames with ramcache's `get-frame` action
signal (a Gst.Sample, or None when the frame is not cached) and prints one
line per frame:

    frame <index> pts <ns> size <bytes> md5 <hex of the I420 bytes>

and finally `cached-frames <n> cached-bytes <n> hits <n> misses <n>`.

usage: ramcache_random_access.py VIDEO [INDEX ...] [--max-bytes N]
Run with GST_PLUGIN_PATH pointing at the build tree's gst/ folder.
"""
import argparse
import hashlib
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("indices", nargs="*", type=int, default=[0, 10, 5, 999])
    ap.add_argument("--max-bytes", type=int, default=0)
    a = ap.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        "filesrc name=src ! decodebin ! videoconvert ! "
        "video/x-raw,format=I420 ! ramcache name=cache ! fakesink")
    pipeline.get_by_name("src").set_property("location", a.video)
    cache = pipeline.get_by_name("cache")
    cache.set_property("max-bytes", a.max_bytes)

    # decode once: play to EOS, the cache keeps the frames
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print("error: %s (%s)" % (err.message, dbg), file=sys.stderr)
        pipeline.set_state(Gst.State.NULL)
        return 1

    # random access from RAM, in whatever order the application likes
    for i in a.indices:
        sample = cache.emit("get-frame", i)
        if sample is None:
            print("frame %d not cached" % i)
            continue
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        digest = hashlib.md5(bytes(info.data)).hexdigest()
        buf.unmap(info)
        print("frame %d pts %d size %d md5 %s"
              % (i, buf.pts, buf.get_size(), digest))

    print("cached-frames %d cached-bytes %d hits %d misses %d"
          % (cache.get_property("cached-frames"),
             cache.get_property("cached-bytes"),
             cache.get_property("hits"), cache.get_property("misses")))
    pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
