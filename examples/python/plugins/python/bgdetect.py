"""bgdetect: a model step written in Python that attaches labels.

Finds moving animals (or players) by background subtraction, follows them
with a simple IoU tracker and attaches one `detection` instance with a box
per object to every frame, through the onepass library's introspection
(gi.repository.Onepass). Downstream, cropextract, annotoverlay and
batchsink use them like labels read from a file:

    GST_PLUGIN_PATH=examples/python/plugins gst-launch-1.0 \\
      filesrc location=clip.mp4 ! decodebin ! videoconvert ! \\
      bgdetect mask=luma ! cropextract ! videoconvert ! \\
      video/x-raw,format=RGB ! jpegenc ! \\
      batchsink location=out/ split=train=0.8,val=0.2 split-by=track

gst-python's plugin loader (Debian: python3-gst-1.0 and
gstreamer1.0-python3-plugin-loader) loads every `python/*.py` below each
folder of GST_PLUGIN_PATH; this file is that element.

Foreground mask (`mask`):
- `motion` (default): OpenCV's MOG2 background subtractor (`history`,
  `var-threshold`), for a fixed camera: what moves is foreground.
- `luma`: pixels brighter than `key-luma` (the "grass mask" of a sports
  pipeline, for bright animals on a dark arena: everything as dark as the
  floor is background). Needed when the camera follows the animals and
  the animals are often still, as in data/sample's video (which is centred
  on the pair of flies, so the background moves and the flies do not).
- `motion-and-luma`: moving and brighter than `key-luma`.
- `motion-or-luma`: either.
The mask is opened (noise), dilated, and every outer contour of at least
`min-area` pixels gives one box.

Boxes: [x, y, w, h] in the library's point coordinates (pixel centres at
integers, the image corner at -0.5): a contour whose bounding rectangle
covers the pixels x0 .. x0 + w - 1 gives x = x0 - 0.5 and width w, so
cropextract's box=bbox cuts exactly those pixels (padding=0). Score: none
(NaN).

Tracks: a box takes the track of the previous box it overlaps most (IoU
at least `min-iou`, each track at most once per frame, greedy by IoU); a
track unseen for `max-age` frames ends; new boxes start new tracks
(0, 1, ...; track name "track_<n>").

Frames: frame_index = round((pts - first pts) * framerate), as annotfilter
counts frames (a stream without a framerate counts buffers); width and
height from the caps. The source name is the `source` property, else the
upstream URI (a URI query, answered by filesrc through decodebin) as
onepass names sources, else the element posts an error (a dataset key
must not be a guess).

Labels already on a frame (an annotfilter upstream) are kept: the
detections are appended to its instances. The element never writes into
the buffer it receives (a buffer handed to Python has a second reference,
the binding's, so it is not writable): it pushes a new buffer that shares
the pixels and carries the input's timestamps and metas (shallow_copy()
below), with the new annotation put on it by
Onepass.buffer_add_annotation().

Input: raw video, GRAY8, planar or semi-planar YUV (the luma plane is
used) or packed RGB/BGR (converted to grey); strides from the GstVideoMeta
or the caps.
"""
import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
gi.require_version("Onepass", "1.0")
from gi.repository import GLib, GObject, Gst, GstVideo, Onepass  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

Gst.init(None)

LUMA_FORMATS = {"GRAY8", "I420", "YV12", "NV12", "NV21", "Y42B", "Y444"}
RGB_FORMATS = {"RGB": cv2.COLOR_RGB2GRAY, "BGR": cv2.COLOR_BGR2GRAY,
               "RGBx": cv2.COLOR_RGBA2GRAY, "BGRx": cv2.COLOR_BGRA2GRAY,
               "RGBA": cv2.COLOR_RGBA2GRAY, "BGRA": cv2.COLOR_BGRA2GRAY}
CAPS = Gst.Caps.from_string(
    "video/x-raw, format=(string){ %s }, width=(int)[1, 16384], height=(int)[1, 16384]"
    % ", ".join(sorted(LUMA_FORMATS) + sorted(RGB_FORMATS)))
MASKS = ("motion", "luma", "motion-and-luma", "motion-or-luma")


def iou(a, b):
    """Intersection over union of two [x, y, w, h] boxes."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


class IouTracker:
    """Greedy IoU matching of this frame's boxes to the live tracks."""

    def __init__(self, min_iou, max_age):
        self.min_iou, self.max_age = min_iou, max_age
        self.tracks = {}  # id -> (box, last frame seen)
        self.next_id = 0

    def update(self, boxes, frame):
        pairs = sorted(((iou(box, t[0]), i, tid) for i, box in enumerate(boxes)
                        for tid, t in self.tracks.items()), reverse=True)
        ids = [None] * len(boxes)
        used = set()
        for score, i, tid in pairs:
            if score < self.min_iou:
                break
            if ids[i] is None and tid not in used:
                ids[i] = tid
                used.add(tid)
        for i, box in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self.next_id
                self.next_id += 1
            self.tracks[ids[i]] = (box, frame)
        self.tracks = {tid: t for tid, t in self.tracks.items() if frame - t[1] <= self.max_age}
        return ids


class BgDetect(Gst.Element):
    __gstmetadata__ = ("Background-subtraction detector", "Filter/Analyzer/Video",
                       "Attaches onepass detection instances (boxes, IoU tracks) "
                       "found by background subtraction", "onepass")
    __gsttemplates__ = (
        Gst.PadTemplate.new("sink", Gst.PadDirection.SINK, Gst.PadPresence.ALWAYS, CAPS),
        Gst.PadTemplate.new("src", Gst.PadDirection.SRC, Gst.PadPresence.ALWAYS, CAPS),
    )
    __gproperties__ = {
        "mask": (str, "Mask", "Foreground mask: " + ", ".join(MASKS), "motion",
                 GObject.ParamFlags.READWRITE),
        "history": (int, "History", "MOG2 history in frames", 1, 100000, 500,
                    GObject.ParamFlags.READWRITE),
        "var-threshold": (float, "Variance threshold", "MOG2 squared Mahalanobis threshold",
                          0.0, 10000.0, 16.0, GObject.ParamFlags.READWRITE),
        "key-luma": (int, "Key luma", "Luma above which a pixel is foreground (luma masks)",
                     0, 255, 60, GObject.ParamFlags.READWRITE),
        "min-area": (int, "Minimum area", "Smallest contour area in pixels", 1, 1 << 28, 200,
                     GObject.ParamFlags.READWRITE),
        "min-iou": (float, "Minimum IoU", "IoU that continues a track", 0.0, 1.0, 0.3,
                    GObject.ParamFlags.READWRITE),
        "max-age": (int, "Maximum age", "Frames a track survives unseen", 0, 100000, 15,
                    GObject.ParamFlags.READWRITE),
        "source": (str, "Source", "Source name of the frames (default: from the upstream URI)",
                   None, GObject.ParamFlags.READWRITE),
    }

    def __init__(self):
        super().__init__()
        self.props_ = {"mask": "motion", "history": 500, "var-threshold": 16.0, "key-luma": 60,
                       "min-area": 200, "min-iou": 0.3, "max-age": 15, "source": None}
        self.sinkpad = Gst.Pad.new_from_template(self.get_pad_template("sink"), "sink")
        self.srcpad = Gst.Pad.new_from_template(self.get_pad_template("src"), "src")
        self.sinkpad.set_chain_function_full(self.chain)
        self.sinkpad.set_event_function_full(self.sink_event)
        for pad in (self.sinkpad, self.srcpad):
            pad.set_query_function_full(self.query)
        self.add_pad(self.sinkpad)
        self.add_pad(self.srcpad)
        self.reset()

    def do_get_property(self, prop):
        return self.props_[prop.name]

    def do_set_property(self, prop, value):
        # checked at start, where a bad value can stop the pipeline
        self.props_[prop.name] = value

    def reset(self):
        self.info = None
        self.first_pts = None
        self.count = 0
        self.mog = None
        self.tracker = None
        self.source = None

    def do_change_state(self, transition):
        if transition == Gst.StateChange.READY_TO_PAUSED:
            self.reset()
            p = self.props_
            if p["mask"] not in MASKS:
                self.error("mask \"%s\" is not one of %s" % (p["mask"], ", ".join(MASKS)),
                           Gst.ResourceError.quark(), Gst.ResourceError.SETTINGS)
                return Gst.StateChangeReturn.FAILURE
            self.mog = cv2.createBackgroundSubtractorMOG2(
                history=p["history"], varThreshold=p["var-threshold"], detectShadows=False)
            self.tracker = IouTracker(p["min-iou"], p["max-age"])
        return Gst.Element.do_change_state(self, transition)

    def sink_event(self, pad, parent, event):
        if event.type == Gst.EventType.CAPS:
            self.info = GstVideo.VideoInfo.new_from_caps(event.parse_caps())
            # the default handler forwards caps only for PROXY_CAPS pads
            return self.srcpad.push_event(event)
        return pad.event_default(parent, event)

    def query(self, pad, parent, query):
        # caps and allocation queries go through: the element changes
        # neither the format nor the pixels
        if query.type == Gst.QueryType.CAPS:
            return pad.proxy_query_caps(query)
        if query.type == Gst.QueryType.ALLOCATION and pad == self.sinkpad:
            return self.srcpad.peer_query(query)
        return pad.query_default(parent, query)

    def find_source(self):
        if self.props_["source"]:
            return self.props_["source"]
        q = Gst.Query.new_uri()
        if self.sinkpad.peer_query(q) and q.parse_uri():
            return Onepass.source_name_from_uri(q.parse_uri())
        return None

    def luma(self, buf):
        """The frame as a 2-D uint8 array (a copy, so the map can end)."""
        info = self.info
        vmeta = GstVideo.buffer_get_video_meta(buf)
        stride = vmeta.stride[0] if vmeta else info.stride[0]
        offset = vmeta.offset[0] if vmeta else info.offset[0]
        fmt = info.finfo.name
        ok, mi = buf.map(Gst.MapFlags.READ)
        if not ok:
            return None
        try:
            data = np.frombuffer(mi.data, dtype=np.uint8)
            if fmt in LUMA_FORMATS:
                rows = data[offset:offset + stride * info.height].reshape(info.height, stride)
                return rows[:, :info.width].copy()
            bpp = info.finfo.pixel_stride[0]
            rows = data[offset:offset + stride * info.height].reshape(info.height, stride)
            img = rows[:, :info.width * bpp].reshape(info.height, info.width, bpp)
            return cv2.cvtColor(img, RGB_FORMATS[fmt])
        finally:
            buf.unmap(mi)

    def mask(self, grey):
        p = self.props_
        mode = p["mask"]
        key = grey > p["key-luma"]
        if mode == "luma":
            fg = key
        else:
            motion = self.mog.apply(cv2.GaussianBlur(grey, (5, 5), 0)) > 0
            fg = motion if mode == "motion" else \
                (motion & key) if mode == "motion-and-luma" else (motion | key)
        fg = fg.astype(np.uint8) * 255
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, k)
        return cv2.dilate(fg, k, iterations=2)

    def boxes(self, fg):
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out = []
        for c in contours:
            if cv2.contourArea(c) < self.props_["min-area"]:
                continue
            x, y, w, h = cv2.boundingRect(c)
            out.append((x - 0.5, y - 0.5, float(w), float(h)))
        return sorted(out)

    def frame_index(self, pts):
        info = self.info
        if pts == Gst.CLOCK_TIME_NONE or info.fps_n <= 0:
            return self.count
        if self.first_pts is None:
            self.first_pts = pts
        return int(round((pts - self.first_pts) * info.fps_n / (info.fps_d * Gst.SECOND)))

    def chain(self, pad, parent, buf):
        if self.info is None:
            Gst.error("bgdetect: no caps before the first buffer")
            return Gst.FlowReturn.NOT_NEGOTIATED
        if self.source is None:
            self.source = self.find_source()
            if self.source is None:
                self.error("no source name: set the `source` property (no upstream element "
                           "answers a URI query)", Gst.StreamError.quark(), Gst.StreamError.FAILED)
                return Gst.FlowReturn.ERROR
        grey = self.luma(buf)
        if grey is None:
            return Gst.FlowReturn.ERROR
        index = self.frame_index(buf.pts)
        self.count += 1
        boxes = self.boxes(self.mask(grey))
        ids = self.tracker.update(boxes, index)

        # keep labels already on the frame; detections are appended
        ann = Onepass.buffer_get_annotation(buf)
        if ann is None or ann.get_crop()[0]:
            ann = Onepass.Annotation.new()
            ann.set_source(self.source)
            ann.set_frame_index(index)
            ann.set_size(self.info.width, self.info.height)
            ann.set_source_size(self.info.width, self.info.height)
        ann.set_pts(buf.pts)
        for box, tid in zip(boxes, ids):
            inst = Onepass.Instance.new(Onepass.InstanceKind.DETECTION, 0)
            inst.set_bbox(*box)
            inst.set_track(tid)
            inst.set_track_name("track_%d" % tid)
            ann.append_instance(inst)

        out = shallow_copy(buf)
        Onepass.buffer_add_annotation(out, ann)
        return self.srcpad.push(out)


def shallow_copy(buf):
    """A new buffer that we own (so it is writable) sharing @buf's memory,
    with its flags, timestamps and metas, onepass labels included. (In
    PyGObject 3.42 with gst-python 1.22, buf.copy() comes back with a
    second reference and is not writable.) A whole-buffer copy (offset 0,
    the full size) is what keeps the labels: a region copy drops them."""
    out = Gst.Buffer.new()
    out.copy_into(buf, Gst.BufferCopyFlags.FLAGS | Gst.BufferCopyFlags.TIMESTAMPS
                  | Gst.BufferCopyFlags.META | Gst.BufferCopyFlags.MEMORY, 0, buf.get_size())
    return out


def _error(self, message, domain, code):
    """GST_ELEMENT_ERROR for Python: an error message on the bus."""
    err = GLib.Error.new_literal(domain, "bgdetect: " + message, code)
    self.post_message(Gst.Message.new_error(self, err, message))


BgDetect.error = _error


GObject.type_register(BgDetect)
__gstelementfactory__ = ("bgdetect", Gst.Rank.NONE, BgDetect)
