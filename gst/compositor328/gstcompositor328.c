/* onepass: compositor328, paste crops back onto their full frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-compositor328
 * @title: compositor328
 * @short_description: paste crops back where they were cut from
 *
 * compositor328 takes full frames on `sink_full` and crops on `sink_crop`
 * and outputs the full frames (caps of `sink_full`) with every crop scaled
 * back onto the rectangle it was cut from. It inverts cropextract: a crop
 * of size W x H cut from rect [x, y, w, h] has its pixel (u, v) at frame
 * point ((u + 0.5) * w / W - 0.5 + x, (v + 0.5) * h / H - 0.5 + y), so the
 * whole crop is scaled bilinearly onto the rect (undoing `fit` letterboxing,
 * since cropextract widens the rect to the crop's aspect) and the part
 * inside the frame is written. Rects past the frame edge are clipped.
 *
 * Matching: crops are matched to frames by running time. A crop belongs to
 * the frame whose running time is nearest, that is to the window
 * [t - d/2, t + d/2) around the frame's running time t, where d is the
 * frame's duration (from the buffer, else from the `sink_full` framerate;
 * with neither, the window runs from t to the next frame). Every crop in
 * the window is pasted, in arrival order; crops from cropextract carry
 * their source frame's PTS and may come several per frame on framerate 0/1
 * caps. A frame is output once a crop (or gap) after its window is queued,
 * `sink_crop` is at EOS, or, in live pipelines, the aggregator times out.
 * Crops are never reused: a frame without crops goes out unchanged, a crop
 * without a frame (before the current frame's window, or queued when
 * `sink_full` ends) is dropped and counted in #OpCompositor328:crops-dropped.
 * EOS on `sink_full` ends the stream; EOS on `sink_crop` lets the remaining
 * frames pass unchanged. Flushing seeks drop the held frame and crops.
 * A gap on `sink_full` produces no output (its crops are dropped).
 *
 * Rectangles: a crop carrying an #OpCropMeta is pasted onto the meta's
 * `crop.rect` (frame coordinates). A crop without one takes its rect from
 * #OpCompositor328:rects-location: the k-th such crop of frame N gets the
 * k-th rect of entry "N". The frame index N of a full frame is the
 * `frame_index` of its #OpAnnotationMeta when it has one (annotfilter's
 * numbering, kept by ramcache on cached frames and replays); otherwise the
 * library's frame clock (opframeclock.h, the clock annotfilter and
 * ramcache use) numbers it: round((stream time - first frame's stream
 * time) * framerate), the count of frames seen for framerate 0/1 or when
 * timestamps and count disagree before any seek. A new segment after the
 * first frame (a seek, a `ramcache loop` pass, which restarts stream time
 * at the replayed frames' own positions) is an intended jump. So
 * `ramcache loop=N` before `sink_full` pastes every pass at the rects of
 * the frames it replays. Crops in this mode come one per frame (the seed's
 * crops_328.mp4), at the full stream's framerate, and take the index of
 * the frame they are matched to.
 *
 * Pixels: crop and frame must be in the same format (the `sink_crop` caps
 * query offers only the format negotiated on `sink_full`); RGB, BGR, RGBA,
 * BGRA, RGBx, BGRx, xRGB, xBGR, ARGB, ABGR, AYUV, GRAY8, I420, YV12, NV12,
 * NV21, Y42B and Y444. All bytes of a pixel are scaled and blended alike
 * (alpha channels too). The frame is modified in place when it is writable:
 * no full-frame copy. Straight after a decoder it is not (the decoder keeps
 * it as a reference picture), and mapping it writable copies it once. The
 * frame's metas stay on it.
 * Output in RGB or BGR from the decoder's I420 (or YV12): when downstream
 * does not take the frames' format but takes RGB/BGR, `sink_full` accepts
 * I420/YV12 anyway, the crops are pasted in I420 and each frame is then
 * converted once, by its caps' colour matrix and range, into a buffer of
 * the element's own pool (its metas copied, except the video meta):
 * no `videoconvert` on the inputs (see the second launch line).
 * The crop size may change mid-stream (new caps on `sink_crop`): each crop
 * is pasted with the caps it arrived with; a crop in another format than
 * the frames is a STREAM/FORMAT error.
 *
 * ## Messages
 *
 * At EOS the element posts an element message `compositor328-stats` with
 * the guint64 fields `frames` (frames output), `crops-pasted`,
 * `crops-dropped` (late, extra, without a frame or without a rect),
 * `frames-without-crops` (frames output unchanged) and `rects-missing`
 * (crops that found no rect). Warnings (GST_MESSAGE_WARNING) as described
 * above: malformed rects file, first missing rect, crops without any
 * rect source.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 compositor328 name=c rects-location=crop_rectangles.json \
 *   border-width=2 ! videoconvert ! x264enc ! mp4mux ! \
 *   filesink location=review.mp4 \
 *   filesrc location=full.mp4 ! decodebin ! videoconvert ! \
 *   video/x-raw,format=RGB ! queue ! c.sink_full \
 *   filesrc location=crops_328.mp4 ! decodebin ! videoconvert ! \
 *   video/x-raw,format=RGB ! queue ! c.sink_crop
 * ]| pastes the crops of crops_328.mp4 back onto full.mp4.
 * |[
 * gst-launch-1.0 compositor328 name=c rects-location=crop_rectangles.json \
 *   ! video/x-raw,format=BGR ! fakesink \
 *   filesrc location=full.mp4 ! decodebin ! queue ! c.sink_full \
 *   filesrc location=crops_328.mp4 ! decodebin ! queue ! c.sink_crop
 * ]| the same in BGR frames like the seed's, composited in the decoder's
 * I420 and converted once per frame on output.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp ! tee name=t \
 *   t. ! queue ! c.sink_full \
 *   t. ! queue ! cropextract ! videoflip method=horizontal-flip ! c.sink_crop \
 *   compositor328 name=c ! videoconvert ! autovideosink
 * ]| cuts each instance, mirrors it and pastes it back (rects from the
 * crop metas; note that GStreamer 1.22.0's videoflip ignores `method` set
 * at construction, and when it really flips it drops the crop meta, so
 * the crop then needs a rects file).
 * |[
 * gst-launch-1.0 compositor328 name=c rects-location=crop_rectangles.json ! \
 *   videoconvert ! autovideosink \
 *   filesrc location=full.mp4 ! decodebin ! videoconvert ! \
 *   video/x-raw,format=RGB ! ramcache loop=2 ! queue ! c.sink_full \
 *   filesrc location=crops_328.mp4 ! decodebin ! videoconvert ! \
 *   video/x-raw,format=RGB ! ramcache loop=2 ! queue ! c.sink_crop
 * ]| shows the review three times, the replays from RAM, every pass with
 * the rects of the frames it replays.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcompositor328.h"

#include <gst/video/video.h>
#include <onepass/onepass.h>

#include "paste.h"
#include "rectsfile.h"
#include "torgb.h"

GST_DEBUG_CATEGORY_STATIC (op_compositor328_debug);
#define GST_CAT_DEFAULT op_compositor328_debug

#define DEFAULT_RECTS_LOCATION NULL
#define DEFAULT_ALPHA 1.0
#define DEFAULT_BORDER_WIDTH 0
#define DEFAULT_BORDER_COLOR 0xffff0000

enum
{
  PROP_0,
  PROP_RECTS_LOCATION,
  PROP_ALPHA,
  PROP_BORDER_WIDTH,
  PROP_BORDER_COLOR,
  PROP_FRAMES,
  PROP_CROPS_PASTED,
  PROP_CROPS_DROPPED,
  PROP_FRAMES_WITHOUT_CROPS,
};

#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE (OP_PIXEL_FORMATS)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate full_template =
GST_STATIC_PAD_TEMPLATE ("sink_full", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate crop_template =
GST_STATIC_PAD_TEMPLATE ("sink_crop", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));

/* The properties (under the object lock). rects-location is read in
 * start (); alpha and the border per frame, so they may change while
 * playing (alpha through a control binding). */
typedef struct
{
  gchar *rects_location;
  gdouble alpha;
  guint border_width;
  guint border_color;
} OpCompositor328Settings;

/* A crop waiting for its frame, with the caps it came with: crop caps may
 * change (another crop size) while earlier crops are still held. */
typedef struct
{
  GstBuffer *buffer;
  GstVideoInfo info;
} OpHeldCrop;

static void
held_crop_free (OpHeldCrop * held)
{
  gst_buffer_unref (held->buffer);
  g_free (held);
}

struct _OpCompositor328
{
  GstAggregator parent;

  GstAggregatorPad *full_pad;   /* owned by the element */
  GstAggregatorPad *crop_pad;

  /* properties and counters (OBJECT_LOCK) */
  OpCompositor328Settings settings;
  guint64 frames;
  guint64 crops_pasted;
  guint64 crops_dropped;
  guint64 frames_without_crops;
  guint64 rects_missing;
  GstVideoFormat full_format;   /* for caps queries */

  /* streaming state (aggregate thread) */
  GstVideoInfo full_info, crop_info;
  gboolean have_full_info, have_crop_info;
  /* I420 frames out as RGB/BGR (downstream asked for it): converted once
   * after the paste, into buffers of our own pool */
  gboolean to_rgb;
  OpToRgb to_rgb_conv;
  GstVideoInfo out_info;
  GstBufferPool *out_pool;
  OpRectsFile *rects;
  GstBuffer *held;              /* the frame collecting crops */
  gboolean held_in_pad;         /* still queued on sink_full (peeked) */
  GPtrArray *held_crops;        /* OpHeldCrop, in arrival order */
  gint64 held_lo;               /* crop running-time window [lo, hi) */
  GstClockTime held_hi;         /* NONE: up to the next frame */
  guint64 held_index;
  OpFrameClock clock;           /* numbers full frames without a meta */
  gboolean warned_missing, warned_no_source;
  gboolean warned_augmented;    /* an annotaugment copy was dropped */
};

G_DEFINE_TYPE_WITH_CODE (OpCompositor328, op_compositor328,
    GST_TYPE_AGGREGATOR, GST_DEBUG_CATEGORY_INIT (op_compositor328_debug,
        "compositor328", 0, "onepass: paste crops back onto full frames"));
GST_ELEMENT_REGISTER_DEFINE (compositor328, "compositor328", GST_RANK_NONE,
    OP_TYPE_COMPOSITOR328);

static void op_compositor328_finalize (GObject * object);
static void op_compositor328_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_compositor328_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_compositor328_start (GstAggregator * agg);
static gboolean op_compositor328_stop (GstAggregator * agg);
static GstFlowReturn op_compositor328_flush (GstAggregator * agg);
static GstFlowReturn op_compositor328_aggregate (GstAggregator * agg,
    gboolean timeout);
static GstClockTime op_compositor328_get_next_time (GstAggregator * agg);
static gboolean op_compositor328_sink_event (GstAggregator * agg,
    GstAggregatorPad * pad, GstEvent * event);
static gboolean op_compositor328_sink_query (GstAggregator * agg,
    GstAggregatorPad * pad, GstQuery * query);

static void
op_compositor328_class_init (OpCompositor328Class * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  gobject_class->finalize = op_compositor328_finalize;
  gobject_class->set_property = op_compositor328_set_property;
  gobject_class->get_property = op_compositor328_get_property;

  /**
   * OpCompositor328:rects-location:
   *
   * JSON file mapping frame index to rectangles, for crops without an
   * #OpCropMeta: `{"<frame>": [x1, y1, x2, y2]}` or `{"<frame>": [[x1, y1,
   * x2, y2], ...]}` with x2, y2 exclusive (the rect is [x1, y1, x2 - x1,
   * y2 - y1], as numpy slices take it). Read in READY->PAUSED; an
   * unreadable file or a top level that is not an object is a RESOURCE
   * error naming the file. Malformed entries are counted and reported in one
   * warning naming the first one's frame; the first frame whose crop finds
   * no rect posts one warning naming the frame.
   */
  g_object_class_install_property (gobject_class, PROP_RECTS_LOCATION,
      g_param_spec_string ("rects-location", "Rectangles location",
          "JSON {\"<frame>\": [x1, y1, x2, y2] or a list of them} for crops "
          "without crop meta", DEFAULT_RECTS_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCompositor328:alpha:
   *
   * Opacity of the pasted crops (0 = invisible, 1 = replace). Read per
   * frame; a control binding sets it from the frame's stream time.
   */
  g_object_class_install_property (gobject_class, PROP_ALPHA,
      g_param_spec_double ("alpha", "Alpha", "Opacity of the pasted crops",
          0.0, 1.0, DEFAULT_ALPHA, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_CONTROLLABLE | GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpCompositor328:border-width:
   *
   * Width in pixels of a border drawn inside each pasted rectangle.
   */
  g_object_class_install_property (gobject_class, PROP_BORDER_WIDTH,
      g_param_spec_uint ("border-width", "Border width",
          "Border drawn inside each pasted rectangle, in pixels (0 = none)",
          0, 1024, DEFAULT_BORDER_WIDTH, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpCompositor328:border-color:
   *
   * Border colour, 0xAARRGGBB; the alpha byte is the border's opacity. YUV
   * frames get it in the caps' matrix and range (op_pixel_color).
   */
  g_object_class_install_property (gobject_class, PROP_BORDER_COLOR,
      g_param_spec_uint ("border-color", "Border color",
          "Border colour as 0xAARRGGBB", 0, G_MAXUINT32, DEFAULT_BORDER_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpCompositor328:frames:
   *
   * Frames output since the last READY->PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES,
      g_param_spec_uint64 ("frames", "Frames", "Frames output", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * OpCompositor328:crops-pasted:
   *
   * Crops pasted since the last READY->PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_CROPS_PASTED,
      g_param_spec_uint64 ("crops-pasted", "Crops pasted", "Crops pasted", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * OpCompositor328:crops-dropped:
   *
   * Crops dropped: late, without a frame, or without a rectangle.
   */
  g_object_class_install_property (gobject_class, PROP_CROPS_DROPPED,
      g_param_spec_uint64 ("crops-dropped", "Crops dropped",
          "Crops dropped (late, without a frame or without a rectangle)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * OpCompositor328:frames-without-crops:
   *
   * Frames output unchanged because no crop matched them.
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_WITHOUT_CROPS,
      g_param_spec_uint64 ("frames-without-crops", "Frames without crops",
          "Frames output unchanged", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &full_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &crop_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class,
      "Crop compositor", "Filter/Editor/Video/Compositor",
      "Pastes crops back onto the full frames they were cut from",
      "onepass developers");

  agg_class->start = GST_DEBUG_FUNCPTR (op_compositor328_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (op_compositor328_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR (op_compositor328_flush);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (op_compositor328_aggregate);
  agg_class->get_next_time = GST_DEBUG_FUNCPTR (op_compositor328_get_next_time);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (op_compositor328_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (op_compositor328_sink_query);
  /* output caps are the full frames' caps, set when they arrive */
  agg_class->negotiate = NULL;
}

static GstAggregatorPad *
add_sink_pad (OpCompositor328 * self, GstStaticPadTemplate * tmpl)
{
  GstPadTemplate *templ = gst_static_pad_template_get (tmpl);
  GstPad *pad = g_object_new (GST_TYPE_AGGREGATOR_PAD, "name",
      tmpl->name_template, "direction", GST_PAD_SINK, "template", templ, NULL);

  gst_object_unref (templ);
  gst_element_add_pad (GST_ELEMENT (self), pad);
  return GST_AGGREGATOR_PAD (pad);
}

static void
op_compositor328_init (OpCompositor328 * self)
{
  self->full_pad = add_sink_pad (self, &full_template);
  self->crop_pad = add_sink_pad (self, &crop_template);
  self->settings.rects_location = g_strdup (DEFAULT_RECTS_LOCATION);
  self->settings.alpha = DEFAULT_ALPHA;
  self->settings.border_width = DEFAULT_BORDER_WIDTH;
  self->settings.border_color = DEFAULT_BORDER_COLOR;
  self->full_format = GST_VIDEO_FORMAT_UNKNOWN;
  self->held_crops = g_ptr_array_new_with_free_func ((GDestroyNotify)
      held_crop_free);
  self->held_hi = GST_CLOCK_TIME_NONE;
  op_frame_clock_reset (&self->clock);
}

static void
op_compositor328_finalize (GObject * object)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (object);

  gst_clear_buffer (&self->held);
  g_ptr_array_unref (self->held_crops);
  g_clear_pointer (&self->rects, op_rects_file_free);
  g_clear_pointer (&self->settings.rects_location, g_free);
  G_OBJECT_CLASS (op_compositor328_parent_class)->finalize (object);
}

static void
drop_held (OpCompositor328 * self)
{
  /* a frame still queued on the pad is dropped by the pad's own flush */
  gst_clear_buffer (&self->held);
  self->held_in_pad = FALSE;
  g_ptr_array_set_size (self->held_crops, 0);
}

static void
clear_out_pool (OpCompositor328 * self)
{
  if (self->out_pool)
    gst_buffer_pool_set_active (self->out_pool, FALSE);
  gst_clear_object (&self->out_pool);
  self->to_rgb = FALSE;
}

static gboolean
op_compositor328_start (GstAggregator * agg)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);
  gchar *location;
  GError *err = NULL;
  guint bad;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->settings.rects_location);
  self->frames = self->crops_pasted = self->crops_dropped = 0;
  self->frames_without_crops = self->rects_missing = 0;
  GST_OBJECT_UNLOCK (self);

  op_frame_clock_reset (&self->clock);
  self->warned_missing = self->warned_no_source = FALSE;
  self->warned_augmented = FALSE;
  if (location == NULL || location[0] == '\0')
    goto done;

  self->rects = op_rects_file_load (location, &err);
  if (self->rects == NULL)
    goto load_failed;
  GST_INFO_OBJECT (self, "%u frames of rectangles from %s",
      op_rects_file_n_frames (self->rects), location);
  bad = op_rects_file_n_malformed (self->rects);
  if (bad > 0)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("%u malformed entries in rectangles file \"%s\", first: %s", bad,
            location, op_rects_file_first_problem (self->rects)), (NULL));
done:
  g_free (location);
  return TRUE;

  /* ERRORS */
load_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not read rectangles file \"%s\": %s", location,
            err->message), (NULL));
    g_error_free (err);
    g_free (location);
    return FALSE;
  }
}

static gboolean
op_compositor328_stop (GstAggregator * agg)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);

  drop_held (self);
  g_clear_pointer (&self->rects, op_rects_file_free);
  self->have_full_info = self->have_crop_info = FALSE;
  clear_out_pool (self);
  GST_OBJECT_LOCK (self);
  self->full_format = GST_VIDEO_FORMAT_UNKNOWN;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static GstFlowReturn
op_compositor328_flush (GstAggregator * agg)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);

  GST_DEBUG_OBJECT (self, "flush: dropping the held frame and its crops");
  drop_held (self);
  return GST_FLOW_OK;
}

/* Running time of @buf's PTS on @pad, NONE when outside the segment. */
static GstClockTime
running_time (GstAggregatorPad * pad, GstBuffer * buf)
{
  GstClockTime rt;

  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK (pad);
  rt = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (pad);
  return rt;
}

static GstClockTime
frame_duration (OpCompositor328 * self, GstBuffer * buf)
{
  if (GST_BUFFER_DURATION_IS_VALID (buf) && GST_BUFFER_DURATION (buf) > 0)
    return GST_BUFFER_DURATION (buf);
  if (self->have_full_info && GST_VIDEO_INFO_FPS_N (&self->full_info) > 0)
    return gst_util_uint64_scale_int (GST_SECOND,
        GST_VIDEO_INFO_FPS_D (&self->full_info),
        GST_VIDEO_INFO_FPS_N (&self->full_info));
  return GST_CLOCK_TIME_NONE;
}

/* The frame's index: its annotation meta's when it has one (the frame's
 * identity, kept by ramcache replays), else the library's frame clock on
 * the stream time, as annotfilter numbers the same stream. */
static guint64
frame_index (OpCompositor328 * self, GstBuffer * buf)
{
  OpAnnotationMeta *meta = op_buffer_get_annotation_meta (buf);
  GstClockTime st = GST_CLOCK_TIME_NONE;
  gboolean disagrees;
  guint64 idx;

  GST_OBJECT_LOCK (self->full_pad);
  if (GST_BUFFER_PTS_IS_VALID (buf))
    st = gst_segment_to_stream_time (&self->full_pad->segment,
        GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (self->full_pad);
  /* stream time before the first frame's (a seek back): counted */
  if (op_frame_clock_is_timed (&self->clock) && GST_CLOCK_TIME_IS_VALID (st)
      && st < self->clock.first_pts)
    st = GST_CLOCK_TIME_NONE;
  idx = op_frame_clock_index (&self->clock, st, &disagrees);
  if (disagrees)
    GST_INFO_OBJECT (self, "stream time %" GST_TIME_FORMAT " and frame "
        "count disagree; frame clock says %" G_GUINT64_FORMAT,
        GST_TIME_ARGS (st), idx);
  if (meta == NULL)
    return idx;
  if (meta->ann.frame_index != idx)
    GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " by its meta, %"
        G_GUINT64_FORMAT " by the clock: the meta wins", meta->ann.frame_index,
        idx);
  return meta->ann.frame_index;
}

static void
count_dropped (OpCompositor328 * self, guint n)
{
  GST_OBJECT_LOCK (self);
  self->crops_dropped += n;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
is_gap (GstBuffer * buf)
{
  return GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) &&
      gst_buffer_get_size (buf) == 0;
}

static void
post_stats (OpCompositor328 * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("compositor328-stats",
      "frames", G_TYPE_UINT64, self->frames,
      "crops-pasted", G_TYPE_UINT64, self->crops_pasted,
      "crops-dropped", G_TYPE_UINT64, self->crops_dropped,
      "frames-without-crops", G_TYPE_UINT64, self->frames_without_crops,
      "rects-missing", G_TYPE_UINT64, self->rects_missing, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Takes the next full frame; GST_FLOW_OK when one is held. */
static GstFlowReturn
take_frame (OpCompositor328 * self)
{
  GstBuffer *buf = gst_aggregator_pad_peek_buffer (self->full_pad);
  GstClockTime rt, dur;

  g_assert (self->held == NULL);
  if (buf == NULL) {
    GstBuffer *crop;
    guint n = 0;

    if (!gst_aggregator_pad_is_eos (self->full_pad))
      return GST_AGGREGATOR_FLOW_NEED_DATA;
    /* no frame will come for the crops still queued */
    while ((crop = gst_aggregator_pad_pop_buffer (self->crop_pad))) {
      n += is_gap (crop) ? 0 : 1;
      gst_buffer_unref (crop);
    }
    count_dropped (self, n);
    GST_INFO_OBJECT (self, "sink_full is at EOS");
    post_stats (self);
    return GST_FLOW_EOS;
  }
  rt = running_time (self->full_pad, buf);
  if (!GST_CLOCK_TIME_IS_VALID (rt)) {
    GST_LOG_OBJECT (self, "frame outside the segment, dropped");
    gst_buffer_unref (buf);
    gst_aggregator_pad_drop_buffer (self->full_pad);
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  }
  self->held_index = frame_index (self, buf);
  dur = frame_duration (self, buf);
  if (GST_CLOCK_TIME_IS_VALID (dur)) {
    /* left queued, so the base class calls us as soon as crops (or EOS)
     * arrive instead of waiting for the next frame */
    self->held = buf;
    self->held_in_pad = TRUE;
    self->held_lo = (gint64) rt - (gint64) (dur / 2);
    self->held_hi = rt + (dur - dur / 2);
  } else {
    /* popped, so the next frame's start can be peeked */
    gst_buffer_unref (buf);
    self->held = gst_aggregator_pad_pop_buffer (self->full_pad);
    self->held_in_pad = FALSE;
    self->held_lo = rt;
    self->held_hi = GST_CLOCK_TIME_NONE;
  }
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT
      " collects crops until %" GST_TIME_FORMAT, self->held_index,
      GST_TIME_ARGS (rt), GST_TIME_ARGS (self->held_hi));
  return GST_FLOW_OK;
}

/* The rect of the @k-th meta-less crop of the held frame, or FALSE. */
static gboolean
crop_rect (OpCompositor328 * self, GstBuffer * crop, guint * k, gint rect[4])
{
  OpCropMeta *meta = op_buffer_get_crop_meta (crop);
  gboolean warn_missing = FALSE, warn_source = FALSE, ok;

  if (meta != NULL && meta->ann.augment > 0) {
    /* annotaugment moved its pixels: pasted onto its rect it would show a
     * flipped or rotated animal in the wrong place */
    if (!self->warned_augmented)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("Crop of frame %" G_GUINT64_FORMAT " is augmented copy %u "
              "(annotaugment): augmented crops are not pasted back, only "
              "originals (warned once)", self->held_index, meta->ann.augment),
          (NULL));
    self->warned_augmented = TRUE;
    return FALSE;
  }
  if (meta != NULL && meta->ann.has_crop) {
    memcpy (rect, meta->ann.crop.rect, 4 * sizeof (gint));
    return rect[2] > 0 && rect[3] > 0;
  }
  if (self->rects == NULL) {
    warn_source = !self->warned_no_source;
    self->warned_no_source = TRUE;
    ok = FALSE;
  } else {
    ok = op_rects_file_lookup (self->rects, self->held_index, (*k)++, rect);
    if (!ok) {
      warn_missing = !self->warned_missing;
      self->warned_missing = TRUE;
    }
  }
  if (!ok) {
    GST_OBJECT_LOCK (self);
    self->rects_missing++;
    GST_OBJECT_UNLOCK (self);
  }
  if (warn_source)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Crop of frame %" G_GUINT64_FORMAT " has no crop meta and "
            "rects-location is not set: crops without a rectangle are "
            "dropped", self->held_index), (NULL));
  if (warn_missing)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("No valid rectangle for crop %u of frame %" G_GUINT64_FORMAT
            " in the rectangles file: such crops are dropped (warned once)",
            *k - 1, self->held_index), (NULL));
  return ok;
}

static GstFlowReturn
paste_all (OpCompositor328 * self, GstBuffer ** outbuf)
{
  GstVideoFrame frame;
  gdouble alpha;
  guint bw, color, i, k = 0, pasted = 0, dropped = 0;
  const GstVideoInfo *bad = NULL;

  /* each crop with its own caps: the size may change, the format may not */
  for (i = 0; i < self->held_crops->len; i++) {
    OpHeldCrop *held = g_ptr_array_index (self->held_crops, i);

    if (!self->have_full_info || GST_VIDEO_INFO_FORMAT (&held->info) !=
        GST_VIDEO_INFO_FORMAT (&self->full_info))
      bad = &held->info;
  }
  if (bad)
    goto wrong_format;

  /* alpha is controllable: let a control binding set it for this frame */
  if (GST_BUFFER_PTS_IS_VALID (*outbuf))
    gst_object_sync_values (GST_OBJECT (self),
        gst_segment_to_stream_time (&GST_AGGREGATOR_PAD (self->
                full_pad)->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (*outbuf)));

  GST_OBJECT_LOCK (self);
  alpha = self->settings.alpha;
  bw = self->settings.border_width;
  color = self->settings.border_color;
  GST_OBJECT_UNLOCK (self);

  /* a no-op when we hold the only reference: pasted in place */
  *outbuf = gst_buffer_make_writable (*outbuf);
  if (!gst_video_frame_map (&frame, &self->full_info, *outbuf,
          GST_MAP_READWRITE))
    goto map_failed;
  for (i = 0; i < self->held_crops->len; i++) {
    OpHeldCrop *held = g_ptr_array_index (self->held_crops, i);
    GstBuffer *crop = held->buffer;
    GstVideoFrame cf;
    gint rect[4];

    if (!crop_rect (self, crop, &k, rect)) {
      dropped++;
      continue;
    }
    if (!gst_video_frame_map (&cf, &held->info, crop, GST_MAP_READ)) {
      GST_WARNING_OBJECT (self, "could not map crop %" GST_PTR_FORMAT, crop);
      dropped++;
      continue;
    }
    GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": crop onto [%d, %d, "
        "%d, %d]", self->held_index, rect[0], rect[1], rect[2], rect[3]);
    op_paste_crop (&frame, &cf, rect, alpha);
    op_paste_border (&frame, rect, bw, color);
    gst_video_frame_unmap (&cf);
    pasted++;
  }
  gst_video_frame_unmap (&frame);
  GST_OBJECT_LOCK (self);
  self->crops_pasted += pasted;
  self->crops_dropped += dropped;
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;

  /* ERRORS */
wrong_format:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Crops (%s) and full frames (%s) must have the same format",
            bad->finfo ? GST_VIDEO_INFO_NAME (bad) : "no caps",
            self->have_full_info ?
            GST_VIDEO_INFO_NAME (&self->full_info) : "no caps"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map the full frame for writing"), (NULL));
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
finish_frame (OpCompositor328 * self)
{
  GstAggregator *agg = GST_AGGREGATOR (self);
  GstBuffer *out = self->held;
  GstFlowReturn ret = GST_FLOW_OK;
  guint n = self->held_crops->len;

  self->held = NULL;
  if (self->held_in_pad) {
    GstBuffer *head = gst_aggregator_pad_peek_buffer (self->full_pad);

    /* leaves our reference the only one: the frame is writable (unless
     * a flush of this pad alone already dropped it from the queue) */
    if (head == out)
      gst_aggregator_pad_drop_buffer (self->full_pad);
    gst_clear_buffer (&head);
    self->held_in_pad = FALSE;
  }
  if (is_gap (out)) {
    count_dropped (self, n);
    g_ptr_array_set_size (self->held_crops, 0);
    gst_buffer_unref (out);
    return GST_FLOW_OK;
  }
  if (n > 0)
    ret = paste_all (self, &out);
  g_ptr_array_set_size (self->held_crops, 0);
  if (ret == GST_FLOW_OK && self->to_rgb) {
    GstBuffer *yuv = out;

    ret = op_to_rgb_buffer (&self->to_rgb_conv, self->out_pool,
        &self->full_info, &self->out_info, yuv, &out);
    gst_buffer_unref (yuv);
    if (ret == GST_FLOW_ERROR)
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not map a frame to convert it to %s",
              GST_VIDEO_INFO_NAME (&self->out_info)), (NULL));
    if (ret != GST_FLOW_OK)
      return ret;
  }
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (out);
    return ret;
  }
  GST_OBJECT_LOCK (self);
  self->frames++;
  if (n == 0)
    self->frames_without_crops++;
  GST_OBJECT_UNLOCK (self);
  gst_aggregator_selected_samples (agg, GST_BUFFER_PTS (out),
      GST_BUFFER_DTS (out), GST_BUFFER_DURATION (out), NULL);
  return gst_aggregator_finish_buffer (agg, out);
}

static GstFlowReturn
op_compositor328_aggregate (GstAggregator * agg, gboolean timeout)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);
  GstFlowReturn ret;
  GstBuffer *crop;
  gboolean later = FALSE;

  if (self->held == NULL && (ret = take_frame (self)) != GST_FLOW_OK)
    return ret;

  while ((crop = gst_aggregator_pad_peek_buffer (self->crop_pad))) {
    GstClockTime rt = running_time (self->crop_pad, crop);
    gboolean gap = is_gap (crop);

    gst_buffer_unref (crop);
    if (!GST_CLOCK_TIME_IS_VALID (self->held_hi)) {
      /* no duration: the window ends where the next frame starts */
      GstBuffer *next = gst_aggregator_pad_peek_buffer (self->full_pad);

      if (next != NULL) {
        self->held_hi = running_time (self->full_pad, next);
        gst_buffer_unref (next);
      } else if (!gst_aggregator_pad_is_eos (self->full_pad) && !timeout) {
        return GST_AGGREGATOR_FLOW_NEED_DATA;
      }
    }
    if (GST_CLOCK_TIME_IS_VALID (rt) && GST_CLOCK_TIME_IS_VALID
        (self->held_hi) && rt >= self->held_hi) {
      later = TRUE;             /* the frame is complete */
      break;
    }
    crop = gst_aggregator_pad_pop_buffer (self->crop_pad);
    if (gap) {
      gst_buffer_unref (crop);
    } else if (!GST_CLOCK_TIME_IS_VALID (rt) || (gint64) rt < self->held_lo) {
      GST_LOG_OBJECT (self, "late crop at %" GST_TIME_FORMAT " dropped",
          GST_TIME_ARGS (rt));
      count_dropped (self, 1);
      gst_buffer_unref (crop);
    } else {
      OpHeldCrop *held = g_new (OpHeldCrop, 1);

      held->buffer = crop;
      if (self->have_crop_info)
        held->info = self->crop_info;
      else
        gst_video_info_init (&held->info);
      g_ptr_array_add (self->held_crops, held);
    }
  }
  if (!later && !timeout && !gst_aggregator_pad_is_eos (self->crop_pad))
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  return finish_frame (self);
}

static GstClockTime
op_compositor328_get_next_time (GstAggregator * agg)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);
  GstBuffer *buf;
  GstClockTime rt, dur;

  /* only a frame that is waiting for crops needs a deadline */
  if (self->held != NULL)
    return self->held_hi;
  buf = gst_aggregator_pad_peek_buffer (self->full_pad);
  if (buf == NULL)
    return GST_CLOCK_TIME_NONE;
  rt = running_time (self->full_pad, buf);
  dur = frame_duration (self, buf);
  gst_buffer_unref (buf);
  if (!GST_CLOCK_TIME_IS_VALID (rt) || !GST_CLOCK_TIME_IS_VALID (dur))
    return rt;
  return rt + (dur - dur / 2);
}

/* The output caps for frames in @caps: the same when downstream takes
 * them, else (I420/YV12 frames) BGR or RGB converted here. */
static gboolean
set_output_caps (OpCompositor328 * self, GstCaps * caps)
{
  GstPad *src = GST_AGGREGATOR_SRC_PAD (self);
  static const GstVideoFormat rgb[] = { GST_VIDEO_FORMAT_BGR,
    GST_VIDEO_FORMAT_RGB
  };
  GstCaps *out = NULL;
  GstStructure *config;
  guint i;

  clear_out_pool (self);
  if (!gst_pad_peer_query_accept_caps (src, caps)) {
    for (i = 0; i < G_N_ELEMENTS (rgb) && out == NULL; i++) {
      out = op_to_rgb_out_caps (caps, rgb[i]);
      if (!gst_video_info_from_caps (&self->out_info, out) ||
          !op_to_rgb_setup (&self->to_rgb_conv, &self->full_info,
              &self->out_info) || !gst_pad_peer_query_accept_caps (src, out))
        gst_clear_caps (&out);
    }
  }
  /* downstream takes the frames as they are, or nothing we can make */
  if (out == NULL) {
    gst_aggregator_set_src_caps (GST_AGGREGATOR (self), caps);
    return TRUE;
  }
  GST_INFO_OBJECT (self, "converting %s frames to %s on output",
      GST_VIDEO_INFO_NAME (&self->full_info),
      GST_VIDEO_INFO_NAME (&self->out_info));
  self->out_pool = gst_video_buffer_pool_new ();
  config = gst_buffer_pool_get_config (self->out_pool);
  gst_buffer_pool_config_set_params (config, out,
      GST_VIDEO_INFO_SIZE (&self->out_info), 2, 0);
  if (!gst_buffer_pool_set_config (self->out_pool, config) ||
      !gst_buffer_pool_set_active (self->out_pool, TRUE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not set up a pool of %s output frames",
            GST_VIDEO_INFO_NAME (&self->out_info)), (NULL));
    gst_caps_unref (out);
    clear_out_pool (self);
    return FALSE;
  }
  self->to_rgb = TRUE;
  gst_aggregator_set_src_caps (GST_AGGREGATOR (self), out);
  gst_caps_unref (out);
  return TRUE;
}

static gboolean
op_compositor328_sink_event (GstAggregator * agg, GstAggregatorPad * pad,
    GstEvent * event)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstVideoInfo info;

      gst_event_parse_caps (event, &caps);
      if (!gst_video_info_from_caps (&info, caps)) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Invalid caps on %s", GST_PAD_NAME (pad)),
            ("%" GST_PTR_FORMAT, caps));
        gst_event_unref (event);
        return FALSE;
      }
      GST_DEBUG_OBJECT (pad, "caps %" GST_PTR_FORMAT, caps);
      if (pad == self->full_pad) {
        self->full_info = info;
        self->have_full_info = TRUE;
        op_frame_clock_set_rate (&self->clock, GST_VIDEO_INFO_FPS_N (&info),
            GST_VIDEO_INFO_FPS_D (&info));
        GST_OBJECT_LOCK (self);
        self->full_format = GST_VIDEO_INFO_FORMAT (&info);
        GST_OBJECT_UNLOCK (self);
        if (!set_output_caps (self, caps)) {
          gst_event_unref (event);
          return FALSE;
        }
      } else {
        self->crop_info = info;
        self->have_crop_info = TRUE;
      }
      break;
    }
    case GST_EVENT_SEGMENT:
      if (pad == self->full_pad) {
        const GstSegment *segment;

        /* output timestamps are the full frames' */
        gst_event_parse_segment (event, &segment);
        gst_aggregator_update_segment (agg, segment);
        /* a new segment after frames (a seek, a ramcache loop pass): stream
         * time may jump, which is no evidence of a variable framerate */
        if (self->clock.last_index >= 0)
          self->clock.expect_jump = TRUE;
      }
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS (op_compositor328_parent_class)->sink_event
      (agg, pad, event);
}

/* What @pad accepts: its template, limited by downstream for sink_full
 * (plus I420/YV12 where downstream takes RGB/BGR: converted here) and by
 * the format of sink_full for sink_crop. */
static GstCaps *
sink_caps (OpCompositor328 * self, GstAggregatorPad * pad, GstCaps * filter)
{
  GstCaps *templ = gst_pad_get_pad_template_caps (GST_PAD (pad));
  GstCaps *caps;

  if (pad == self->full_pad) {
    caps = gst_pad_peer_query_caps (GST_AGGREGATOR_SRC_PAD (self), templ);
    gst_caps_unref (templ);
    caps = op_to_rgb_sink_caps (caps);
  } else {
    GstVideoFormat format;

    GST_OBJECT_LOCK (self);
    format = self->full_format;
    GST_OBJECT_UNLOCK (self);
    caps = gst_caps_make_writable (templ);
    if (format != GST_VIDEO_FORMAT_UNKNOWN)
      gst_caps_set_simple (caps, "format", G_TYPE_STRING,
          gst_video_format_to_string (format), NULL);
  }
  if (filter != NULL) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static gboolean
op_compositor328_sink_query (GstAggregator * agg, GstAggregatorPad * pad,
    GstQuery * query)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (agg);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;

      gst_query_parse_caps (query, &filter);
      caps = sink_caps (self, pad, filter);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps, *allowed;

      gst_query_parse_accept_caps (query, &caps);
      allowed = sink_caps (self, pad, NULL);
      gst_query_set_accept_caps_result (query,
          gst_caps_is_subset (caps, allowed));
      gst_caps_unref (allowed);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      /* Both inputs are read through gst_video_frame_map, so decoders may
       * keep their own padded buffers (GstVideoMeta) instead of copying
       * each frame for us. A full frame goes on downstream with the crops
       * pasted in, so for it downstream's answer is ours, unless we
       * convert it (then our own buffers go downstream). */
      if (GST_PAD (pad) == GST_PAD (self->full_pad) && !self->to_rgb)
        return gst_pad_peer_query (GST_AGGREGATOR_SRC_PAD (agg), query);
      gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
      return TRUE;
    default:
      return GST_AGGREGATOR_CLASS (op_compositor328_parent_class)->sink_query
          (agg, pad, query);
  }
}

static void
op_compositor328_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RECTS_LOCATION:
      g_free (self->settings.rects_location);
      self->settings.rects_location = g_value_dup_string (value);
      break;
    case PROP_ALPHA:
      self->settings.alpha = g_value_get_double (value);
      break;
    case PROP_BORDER_WIDTH:
      self->settings.border_width = g_value_get_uint (value);
      break;
    case PROP_BORDER_COLOR:
      self->settings.border_color = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_compositor328_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  OpCompositor328 *self = OP_COMPOSITOR328 (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_RECTS_LOCATION:
      g_value_set_string (value, self->settings.rects_location);
      break;
    case PROP_ALPHA:
      g_value_set_double (value, self->settings.alpha);
      break;
    case PROP_BORDER_WIDTH:
      g_value_set_uint (value, self->settings.border_width);
      break;
    case PROP_BORDER_COLOR:
      g_value_set_uint (value, self->settings.border_color);
      break;
    case PROP_FRAMES:
      g_value_set_uint64 (value, self->frames);
      break;
    case PROP_CROPS_PASTED:
      g_value_set_uint64 (value, self->crops_pasted);
      break;
    case PROP_CROPS_DROPPED:
      g_value_set_uint64 (value, self->crops_dropped);
      break;
    case PROP_FRAMES_WITHOUT_CROPS:
      g_value_set_uint64 (value, self->frames_without_crops);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
