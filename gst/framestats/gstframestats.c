/* onepass: framestats element.
 * Copyright (C) 2026 onepass contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-framestats
 * @title: framestats
 * @see_also: ramcache
 *
 * Per-pixel statistics over time, streaming: the mean, standard deviation,
 * minimum and maximum of every sample (pixel and channel) over the frames
 * of the stream, in memory independent of the stream's length. Or, with
 * `mode=sliding-mean`, every frame normalised by the mean of the frames
 * before it.
 *
 * Inputs: GRAY8, GRAY16_LE, RGB and BGR raw video; strides from a
 * #GstVideoMeta are honoured. RGB and BGR samples keep their memory order
 * (channel 0 of BGR is blue, as in OpenCV).
 *
 * ## mode=reduce (default)
 * Frames pass through unchanged (in place, no copy). Per sample the
 * element keeps the exact integer sum and sum of squares (64-bit) and the
 * min and max: 18 bytes per sample for 8-bit input, 20 for 16-bit, whatever
 * the number of frames (plus, at EOS, one float32 result at a time being
 * written; with `window` > 0 the last block's four results, 10 or 12 bytes
 * per sample, are kept for `get-stat`). The mean is sum / n and the standard deviation the
 * population one (ddof=0, as numpy.std), computed from the exact sums, then
 * rounded to float32.
 *
 * `window=0` (default): one result over the whole stream. `window=N`:
 * results for consecutive blocks of N frames (frames 0..N-1, N..2N-1, ...;
 * the last block may be shorter and is reported at EOS). Memory stays one
 * block's accumulators; each finished block is appended to the files.
 *
 * `location` (a directory, created if missing): at EOS the element writes
 * `mean.npy` and `std.npy` (float32, `<f4`), `min.npy` and `max.npy` (the
 * input's type: `|u1` or `<u2`), each of shape (height, width) for gray and
 * (height, width, 3) for RGB/BGR, with a leading block axis
 * (blocks, height, width[, 3]) when `window` > 0. Files are written as
 * `*.npy.part` and renamed at EOS; a stop before EOS deletes them.
 *
 * ## mode=sliding-mean
 * Needs `window=N` >= 1. Output frame i (i >= N) is input frame i
 * normalised by the mean of input frames i-N .. i-1 (BLITZ's sliding mean):
 * `normalization=subtract` gives `x - mean`, `divide` gives `x / mean`
 * (IEEE: x / 0 is +inf, 0 / 0 is NaN), computed in double and rounded to
 * float32. The first N frames have no N predecessors and produce no output
 * (they only fill the window); output buffers keep their input's
 * timestamps and offsets. Memory: N frames plus a 64-bit sum per sample.
 *
 * Output caps are `video/x-onepass-float, format=(string){GRAY32F, RGB32F,
 * BGR32F}, width, height, framerate`: tightly packed native-endian float32
 * samples, `width * channels` per row, no padding (GStreamer 1.22 has no
 * float video format). From Python:
 * `numpy.frombuffer(data, numpy.float32).reshape(height, width[, 3])`.
 * Metas tagged video or size (annotations, video metas) are not copied to
 * the float frames; `get-stat` returns %NULL in this mode.
 *
 * ## Action signal `get-stat`
 * `get-stat` (gchararray stat: "mean", "std", "min" or "max") returns a
 * #GstSample, or %NULL when there is no result yet or the name is unknown.
 * `window=0`: the frames so far (may be emitted while streaming).
 * `window=N`: the last finished block (at EOS the last, possibly shorter,
 * block). mean and std have `video/x-onepass-float` caps (float32, tight);
 * min and max have the input's `video/x-raw` caps and a #GstVideoMeta
 * giving the tight strides of their data. The sample's info structure
 * `framestats-stat` has `stat` (string), `frames` (guint64, frames in the
 * result) and `block` (guint, 0-based block index; 0 for window=0).
 *
 * ## Element message `framestats-done`
 * Posted at EOS (after the files are written): `mode` (string), `frames`
 * (guint64, input frames), `window` (guint), `blocks` (guint, results
 * written; 0 in sliding-mean mode or without input), `output-frames`
 * (guint64, sliding-mean frames produced), `location` (string, the
 * directory, or %NULL).
 *
 * A caps change to a different size or format after the first frame is a
 * STREAM/FORMAT error: statistics of two formats cannot be combined.
 * Flushing seeks do not reset the statistics: they cover the buffers that
 * passed.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     video/x-raw,format=GRAY8 ! framestats location=stats ! fakesink
 * ]|
 * Writes stats/mean.npy, std.npy, min.npy and max.npy over the whole clip.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     video/x-raw,format=GRAY8 ! framestats mode=sliding-mean window=10 ! \
 *     appsink
 * ]|
 * Frames minus the mean of their 10 predecessors, as float32.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstframestats.h"
#include "fsaccum.h"
#include "fsnpy.h"
#include "oppixel.h"

#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (op_frame_stats_debug);
#define GST_CAT_DEFAULT op_frame_stats_debug

typedef enum
{
  OP_FRAME_STATS_MODE_REDUCE,
  OP_FRAME_STATS_MODE_SLIDING_MEAN,
} OpFrameStatsMode;

#define DEFAULT_MODE OP_FRAME_STATS_MODE_REDUCE
#define DEFAULT_WINDOW 0
#define DEFAULT_LOCATION NULL
#define DEFAULT_NORMALIZATION OP_SLIDING_SUBTRACT

#define FLOAT_CAPS_NAME "video/x-onepass-float"
#define IN_FORMATS "{ GRAY8, GRAY16_LE, RGB, BGR }"
#define FLOAT_CAPS FLOAT_CAPS_NAME ", format = (string) { GRAY32F, RGB32F, " \
    "BGR32F }, width = " GST_VIDEO_SIZE_RANGE ", height = " \
    GST_VIDEO_SIZE_RANGE ", framerate = " GST_VIDEO_FPS_RANGE

enum
{
  PROP_0,
  PROP_MODE,
  PROP_WINDOW,
  PROP_LOCATION,
  PROP_NORMALIZATION,
};

enum
{
  SIGNAL_GET_STAT,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

enum
{
  STAT_MEAN,
  STAT_STD,
  STAT_MIN,
  STAT_MAX,
  N_STATS
};

static const gchar *stat_names[N_STATS] = { "mean", "std", "min", "max" };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (IN_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (IN_FORMATS) "; " FLOAT_CAPS));

/* Lock order: stream lock -> lock. The streaming thread owns the
 * accumulators; `lock` guards them against get-stat from other threads.
 * Nothing is posted or emitted with it held. */
/* The properties, as set (under the object lock) and as the stream uses
 * them (a copy taken in start ()). */
typedef struct
{
  OpFrameStatsMode mode;
  guint window;
  gchar *location;
  OpSlidingOp normalization;
} OpFrameStatsSettings;

struct _OpFrameStats
{
  GstBaseTransform parent;

  /* properties (GST_OBJECT_LOCK) */
  OpFrameStatsSettings settings;
  /* copied in start () (lock) */
  OpFrameStatsSettings cur;

  GMutex lock;
  gboolean have_info;
  GstVideoInfo info;
  GstCaps *in_caps;
  guint channels;
  guint bps;
  gsize n;                      /* samples per frame */
  OpStatsAccum *accum;
  OpSlidingMean *sliding;
  OpNpyWriter *writers[N_STATS];
  /* window=N: the last finished block, as get-stat returns it */
  gpointer last[N_STATS];
  guint64 last_frames;
  guint blocks;
  guint64 frames;
  guint64 output_frames;
  gboolean warned_format;       /* upstream offered only formats we lack */
};

#define FS_LOCK(s) g_mutex_lock (&(s)->lock)
#define FS_UNLOCK(s) g_mutex_unlock (&(s)->lock)

#define op_frame_stats_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (OpFrameStats, op_frame_stats,
    GST_TYPE_BASE_TRANSFORM,
    GST_DEBUG_CATEGORY_INIT (op_frame_stats_debug, "framestats", 0,
        "per-pixel statistics over time"));
GST_ELEMENT_REGISTER_DEFINE (framestats, "framestats", GST_RANK_NONE,
    OP_TYPE_FRAME_STATS);

GType
op_frame_stats_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_FRAME_STATS_MODE_REDUCE,
        "Per-pixel mean, std, min and max; frames pass unchanged", "reduce"},
    {OP_FRAME_STATS_MODE_SLIDING_MEAN,
          "Output frames normalised by the mean of the previous window frames",
        "sliding-mean"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpFrameStatsMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
op_frame_stats_normalization_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_SLIDING_SUBTRACT, "Frame minus the sliding mean", "subtract"},
    {OP_SLIDING_DIVIDE, "Frame divided by the sliding mean", "divide"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpFrameStatsNormalization", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void op_frame_stats_finalize (GObject * object);
static void op_frame_stats_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_frame_stats_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_frame_stats_start (GstBaseTransform * trans);
static gboolean op_frame_stats_stop (GstBaseTransform * trans);
static gboolean op_frame_stats_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps);
static gboolean op_frame_stats_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstCaps *op_frame_stats_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean op_frame_stats_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean op_frame_stats_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize);
static GstFlowReturn op_frame_stats_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static GstFlowReturn op_frame_stats_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static gboolean op_frame_stats_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query);
static gboolean op_frame_stats_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstSample *op_frame_stats_get_stat (OpFrameStats * self,
    const gchar * name);

static void
op_frame_stats_class_init (OpFrameStatsClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = op_frame_stats_set_property;
  gobject_class->get_property = op_frame_stats_get_property;
  gobject_class->finalize = op_frame_stats_finalize;

  /**
   * OpFrameStats:mode:
   *
   * reduce: statistics, frames pass unchanged. sliding-mean: normalised
   * float32 frames out.
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "reduce (per-pixel statistics, frames pass unchanged) or "
          "sliding-mean (frames normalised by the mean of the previous "
          "window frames)", OP_TYPE_FRAME_STATS_MODE, DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpFrameStats:window:
   *
   * reduce: 0 = one result over the whole stream, N = one result per block
   * of N consecutive frames. sliding-mean: the number of previous frames
   * averaged (>= 1).
   */
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "reduce: frames per block (0 = whole stream); sliding-mean: "
          "previous frames averaged (>= 1)", 0, G_MAXINT, DEFAULT_WINDOW,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpFrameStats:location:
   *
   * Directory receiving mean.npy, std.npy, min.npy and max.npy at EOS
   * (created if missing). NULL = no files.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Directory for mean.npy, std.npy, min.npy and max.npy (reduce mode; "
          "NULL = no files)", DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpFrameStats:normalization:
   *
   * sliding-mean: subtract (x - mean) or divide (x / mean).
   */
  g_object_class_install_property (gobject_class, PROP_NORMALIZATION,
      g_param_spec_enum ("normalization", "Normalization",
          "sliding-mean: frame minus or divided by the mean of the previous "
          "window frames", OP_TYPE_FRAME_STATS_NORMALIZATION,
          DEFAULT_NORMALIZATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * OpFrameStats::get-stat:
   * @framestats: the element
   * @stat: "mean", "std", "min" or "max"
   *
   * Returns: (transfer full) (nullable): a #GstSample holding the result,
   * or %NULL when there is none yet.
   */
  signals[SIGNAL_GET_STAT] = g_signal_new_class_handler ("get-stat",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (op_frame_stats_get_stat), NULL, NULL, NULL,
      GST_TYPE_SAMPLE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Per-pixel frame statistics", "Filter/Analyzer/Video",
      "Per-pixel mean, std, min and max over time in constant memory, or "
      "sliding-mean normalisation", "onepass contributors");

  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (op_frame_stats_propose_allocation);
  trans_class->start = GST_DEBUG_FUNCPTR (op_frame_stats_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (op_frame_stats_stop);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (op_frame_stats_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (op_frame_stats_set_caps);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (op_frame_stats_transform_size);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (op_frame_stats_transform_ip);
  trans_class->transform = GST_DEBUG_FUNCPTR (op_frame_stats_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (op_frame_stats_sink_event);
  trans_class->accept_caps = GST_DEBUG_FUNCPTR (op_frame_stats_accept_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (op_frame_stats_query);
  trans_class->transform_ip_on_passthrough = TRUE;

  gst_type_mark_as_plugin_api (OP_TYPE_FRAME_STATS_MODE, 0);
  gst_type_mark_as_plugin_api (OP_TYPE_FRAME_STATS_NORMALIZATION, 0);
}

static void
op_frame_stats_init (OpFrameStats * self)
{
  self->settings.mode = DEFAULT_MODE;
  self->settings.window = DEFAULT_WINDOW;
  self->settings.location = g_strdup (DEFAULT_LOCATION);
  self->settings.normalization = DEFAULT_NORMALIZATION;
  g_mutex_init (&self->lock);
}

/* called with lock (or from a single thread): drops all streaming state */
static void
op_frame_stats_clear (OpFrameStats * self)
{
  guint i;

  for (i = 0; i < N_STATS; i++) {
    if (self->writers[i])
      op_npy_writer_abort (self->writers[i]);
    self->writers[i] = NULL;
    g_clear_pointer (&self->last[i], g_free);
  }
  g_clear_pointer (&self->accum, op_stats_accum_free);
  g_clear_pointer (&self->sliding, op_sliding_mean_free);
  gst_clear_caps (&self->in_caps);
  self->have_info = FALSE;
  self->last_frames = 0;
  self->blocks = 0;
  self->frames = 0;
  self->output_frames = 0;
}

static void
settings_clear (OpFrameStatsSettings * s)
{
  g_clear_pointer (&s->location, g_free);
}

static void
settings_copy (OpFrameStatsSettings * dst, const OpFrameStatsSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->location = g_strdup (src->location);
}

static void
op_frame_stats_finalize (GObject * object)
{
  OpFrameStats *self = OP_FRAME_STATS (object);

  op_frame_stats_clear (self);
  settings_clear (&self->settings);
  settings_clear (&self->cur);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static gboolean
op_frame_stats_start (GstBaseTransform * trans)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  OpFrameStatsSettings s = { 0, };

  GST_OBJECT_LOCK (self);
  settings_copy (&s, &self->settings);
  GST_OBJECT_UNLOCK (self);

  if (s.mode == OP_FRAME_STATS_MODE_SLIDING_MEAN && s.window == 0)
    goto no_window;
  if (s.mode == OP_FRAME_STATS_MODE_REDUCE && s.location) {
    if (g_mkdir_with_parents (s.location, 0755) != 0 ||
        !g_file_test (s.location, G_FILE_TEST_IS_DIR) ||
        g_access (s.location, W_OK) != 0)
      goto bad_location;
  }

  FS_LOCK (self);
  op_frame_stats_clear (self);
  self->warned_format = FALSE;
  settings_clear (&self->cur);
  self->cur = s;                /* moved: s owns nothing now */
  FS_UNLOCK (self);

  /* reduce: frames pass untouched, no copy */
  gst_base_transform_set_passthrough (trans,
      s.mode == OP_FRAME_STATS_MODE_REDUCE);
  gst_base_transform_set_in_place (trans, s.mode == OP_FRAME_STATS_MODE_REDUCE);
  return TRUE;

  /* ERRORS */
no_window:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("mode=sliding-mean needs window >= 1 (the number of previous frames "
          "averaged)"), (NULL));
  settings_clear (&s);
  return FALSE;
bad_location:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
      ("location \"%s\" is not a writable directory", s.location), (NULL));
  settings_clear (&s);
  return FALSE;
}

static gboolean
op_frame_stats_stop (GstBaseTransform * trans)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);

  /* writers still open: no EOS, so their .part files are deleted */
  FS_LOCK (self);
  op_frame_stats_clear (self);
  FS_UNLOCK (self);
  return TRUE;
}

/* A 10-bit or YUV decoder output: say what to add instead of a bare
 * not-negotiated from the demuxer */
static gboolean
op_frame_stats_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  gboolean ok = GST_BASE_TRANSFORM_CLASS (parent_class)->accept_caps (trans,
      direction, caps);

  if (!ok && direction == GST_PAD_SINK)
    op_pixel_warn_unsupported (GST_ELEMENT (self), &sink_template, caps,
        &self->warned_format);
  return ok;
}

static gboolean
op_frame_stats_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  gboolean ok = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans,
      direction, query);

  if (ok && direction == GST_PAD_SINK)
    op_pixel_warn_unsupported_query (GST_ELEMENT (self), &sink_template, query,
        &self->warned_format);
  return ok;
}

/* GRAY8/GRAY16_LE <-> GRAY32F, RGB <-> RGB32F, BGR <-> BGR32F */
static void
map_format (const gchar * from, gboolean to_float, GValue * list)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_STRING);
  if (to_float) {
    if (!g_strcmp0 (from, "GRAY8") || !g_strcmp0 (from, "GRAY16_LE"))
      g_value_set_static_string (&v, "GRAY32F");
    else if (!g_strcmp0 (from, "RGB"))
      g_value_set_static_string (&v, "RGB32F");
    else if (!g_strcmp0 (from, "BGR"))
      g_value_set_static_string (&v, "BGR32F");
  } else {
    if (!g_strcmp0 (from, "GRAY32F")) {
      g_value_set_static_string (&v, "GRAY8");
      gst_value_list_append_value (list, &v);
      g_value_set_static_string (&v, "GRAY16_LE");
    } else if (!g_strcmp0 (from, "RGB32F"))
      g_value_set_static_string (&v, "RGB");
    else if (!g_strcmp0 (from, "BGR32F"))
      g_value_set_static_string (&v, "BGR");
  }
  if (g_value_get_string (&v))
    gst_value_list_append_value (list, &v);
  g_value_unset (&v);
}

/* sliding-mean: raw video in, float frames out, and back */
static GstStructure *
transform_structure (const GstStructure * s, gboolean to_float)
{
  static const gchar *all_in[] = { "GRAY8", "GRAY16_LE", "RGB", "BGR" };
  static const gchar *all_out[] = { "GRAY32F", "RGB32F", "BGR32F" };
  const gchar *keep[] = { "width", "height", "framerate",
    "pixel-aspect-ratio"
  };
  const GValue *fmt = gst_structure_get_value (s, "format");
  GValue list = G_VALUE_INIT;
  GstStructure *out;
  guint i;

  if (!gst_structure_has_name (s, to_float ? "video/x-raw" : FLOAT_CAPS_NAME))
    return NULL;
  g_value_init (&list, GST_TYPE_LIST);
  if (fmt && G_VALUE_HOLDS_STRING (fmt)) {
    map_format (g_value_get_string (fmt), to_float, &list);
  } else if (fmt && GST_VALUE_HOLDS_LIST (fmt)) {
    for (i = 0; i < gst_value_list_get_size (fmt); i++) {
      const GValue *f = gst_value_list_get_value (fmt, i);

      if (G_VALUE_HOLDS_STRING (f))
        map_format (g_value_get_string (f), to_float, &list);
    }
  } else {
    for (i = 0; i < (to_float ? 4 : 3); i++)
      map_format (to_float ? all_in[i] : all_out[i], to_float, &list);
  }
  if (gst_value_list_get_size (&list) == 0) {
    g_value_unset (&list);
    return NULL;
  }

  out = gst_structure_new_empty (to_float ? FLOAT_CAPS_NAME : "video/x-raw");
  for (i = 0; i < G_N_ELEMENTS (keep); i++) {
    const GValue *v = gst_structure_get_value (s, keep[i]);

    if (v)
      gst_structure_set_value (out, keep[i], v);
  }
  if (gst_value_list_get_size (&list) == 1)
    gst_structure_set_value (out, "format", gst_value_list_get_value (&list,
            0));
  else
    gst_structure_set_value (out, "format", &list);
  g_value_unset (&list);
  return out;
}

static GstCaps *
op_frame_stats_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  OpFrameStatsMode mode;
  GstCaps *res;
  guint i;

  GST_OBJECT_LOCK (self);
  mode = self->settings.mode;
  GST_OBJECT_UNLOCK (self);

  if (mode == OP_FRAME_STATS_MODE_REDUCE) {
    res = gst_caps_ref (caps);
  } else {
    res = gst_caps_new_empty ();
    for (i = 0; i < gst_caps_get_size (caps); i++) {
      GstStructure *s = transform_structure (gst_caps_get_structure (caps, i),
          direction == GST_PAD_SINK);

      if (s)
        gst_caps_append_structure (res, s);
    }
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (res);
    res = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

static gboolean
op_frame_stats_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps))
    goto bad_caps;

  FS_LOCK (self);
  if (self->have_info) {
    if (gst_video_info_is_equal (&info, &self->info)) {
      FS_UNLOCK (self);
      return TRUE;
    }
    if (self->frames > 0) {
      FS_UNLOCK (self);
      goto format_changed;
    }
  }
  op_frame_stats_clear (self);
  self->info = info;
  self->have_info = TRUE;
  self->in_caps = gst_caps_ref (incaps);
  self->channels = GST_VIDEO_INFO_N_COMPONENTS (&info);
  self->bps = GST_VIDEO_INFO_COMP_DEPTH (&info, 0) > 8 ? 2 : 1;
  self->n = (gsize) GST_VIDEO_INFO_WIDTH (&info) *
      GST_VIDEO_INFO_HEIGHT (&info) * self->channels;
  if (self->cur.mode == OP_FRAME_STATS_MODE_REDUCE)
    self->accum = op_stats_accum_new (self->n, self->bps);
  else
    self->sliding = op_sliding_mean_new (self->n, self->bps, self->cur.window);
  if (self->cur.mode == OP_FRAME_STATS_MODE_SLIDING_MEAN && !self->sliding) {
    FS_UNLOCK (self);
    goto no_memory;
  }
  FS_UNLOCK (self);
  GST_INFO_OBJECT (self, "%s: %" G_GSIZE_FORMAT " samples of %u bytes per "
      "frame", gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
      self->n, self->bps);
  return TRUE;

  /* ERRORS */
bad_caps:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("cannot parse video caps %" GST_PTR_FORMAT, incaps), (NULL));
  return FALSE;
no_memory:
  GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
      ("mode=sliding-mean window=%u needs %u frames of %" G_GSIZE_FORMAT
          " bytes in memory: cannot allocate them", self->cur.window,
          self->cur.window, self->n * self->bps), (NULL));
  return FALSE;
format_changed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("caps changed after %" G_GUINT64_FORMAT " frames to %" GST_PTR_FORMAT
          ": framestats cannot combine statistics of two formats",
          self->frames, incaps), (NULL));
  return FALSE;
}

static gboolean
op_frame_stats_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  GstVideoInfo info;

  if (direction != GST_PAD_SINK || !gst_video_info_from_caps (&info, caps))
    return FALSE;
  *othersize = (gsize) GST_VIDEO_INFO_WIDTH (&info) *
      GST_VIDEO_INFO_HEIGHT (&info) * GST_VIDEO_INFO_N_COMPONENTS (&info) *
      sizeof (gfloat);
  GST_LOG_OBJECT (self, "output frames of %" G_GSIZE_FORMAT " bytes",
      *othersize);
  return TRUE;
}

/* ---- results ---- */

static gsize
stat_bytes (OpFrameStats * self, guint stat)
{
  return self->n * (stat <= STAT_STD ? sizeof (gfloat) : self->bps);
}

/* called with lock: a new copy of one result of the accumulator */
static gpointer
compute_stat (OpFrameStats * self, guint stat)
{
  gpointer out = g_malloc (stat_bytes (self, stat));

  switch (stat) {
    case STAT_MEAN:
      op_stats_accum_mean (self->accum, out);
      break;
    case STAT_STD:
      op_stats_accum_std (self->accum, out);
      break;
    case STAT_MIN:
      memcpy (out, self->accum->min, stat_bytes (self, stat));
      break;
    default:
      memcpy (out, self->accum->max, stat_bytes (self, stat));
      break;
  }
  return out;
}

/* called with lock: opens the four files on the first block */
static gboolean
open_writers (OpFrameStats * self, GError ** error)
{
  guint64 shape[3];
  guint i, n_dims = self->channels > 1 ? 3 : 2;

  shape[0] = GST_VIDEO_INFO_HEIGHT (&self->info);
  shape[1] = GST_VIDEO_INFO_WIDTH (&self->info);
  shape[2] = self->channels;
  for (i = 0; i < N_STATS; i++) {
    gchar *name = g_strconcat (stat_names[i], ".npy", NULL);
    gchar *path = g_build_filename (self->cur.location, name, NULL);
    const gchar *descr = i <= STAT_STD ? "<f4" :
        (self->bps == 1 ? "|u1" : "<u2");

    self->writers[i] = op_npy_writer_new (path, descr, n_dims, shape,
        self->cur.window > 0, error);
    g_free (name);
    g_free (path);
    if (!self->writers[i])
      return FALSE;
  }
  return TRUE;
}

/* called with lock: the accumulated frames become one result (a block, or
 * the whole stream), appended to the files one stat at a time. A block's
 * results are kept for get-stat and its accumulators reset; the whole
 * stream's stay in the accumulators (get-stat computes them on demand). */
static gboolean
finish_block (OpFrameStats * self, GError ** error)
{
  gboolean ok = TRUE;
  guint i;

  if (self->accum->frames == 0)
    return TRUE;
  if (self->cur.location && !self->writers[0] && !open_writers (self, error))
    return FALSE;
  for (i = 0; i < N_STATS && ok; i++) {
    gpointer data = compute_stat (self, i);

    if (self->writers[i])
      ok = op_npy_writer_append (self->writers[i], data, error);
    g_free (self->last[i]);
    self->last[i] = NULL;
    if (self->cur.window > 0)
      self->last[i] = data;
    else
      g_free (data);
  }
  if (!ok)
    return FALSE;
  self->last_frames = self->accum->frames;
  self->blocks++;
  if (self->cur.window > 0)
    op_stats_accum_reset (self->accum);
  return TRUE;
}

/* called with lock: closes and renames the files */
static gboolean
finish_files (OpFrameStats * self, GError ** error)
{
  gboolean ok = TRUE;
  guint i;

  for (i = 0; i < N_STATS; i++) {
    if (self->writers[i] && ok)
      ok = op_npy_writer_finish (self->writers[i], error);
    else if (self->writers[i])
      op_npy_writer_abort (self->writers[i]);
    self->writers[i] = NULL;
  }
  return ok;
}

/* We read frames through gst_video_frame_map, so decoders may hand us
 * their own padded buffers (GstVideoMeta) instead of copying each frame.
 * In passthrough (reduce) the frames go on downstream, so downstream's
 * answer is ours: a buffer with strides must not reach an element that
 * cannot read them. */
static gboolean
op_frame_stats_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  if (gst_base_transform_is_passthrough (trans))
    return GST_BASE_TRANSFORM_CLASS (parent_class)->propose_allocation (trans,
        decide_query, query);
  if (!gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

/* ---- data path ---- */

static GstFlowReturn
op_frame_stats_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  GError *err = NULL;
  GstVideoFrame frame;
  gsize row_samples;
  guint y, height;
  gboolean ok = TRUE;

  if (!self->accum)
    goto not_negotiated;
  if (!gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READ))
    goto map_failed;

  row_samples = (gsize) GST_VIDEO_INFO_WIDTH (&self->info) * self->channels;
  height = GST_VIDEO_INFO_HEIGHT (&self->info);
  FS_LOCK (self);
  for (y = 0; y < height; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
        0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    op_stats_accum_add (self->accum, y * row_samples, row, row_samples);
  }
  op_stats_accum_frame_done (self->accum);
  self->frames++;
  if (self->cur.window > 0 && self->accum->frames == self->cur.window)
    ok = finish_block (self, &err);
  FS_UNLOCK (self);
  gst_video_frame_unmap (&frame);
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT, self->frames - 1);

  if (!ok)
    goto write_failed;
  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
  return GST_FLOW_NOT_NEGOTIATED;
map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("buffer of %" G_GSIZE_FORMAT " bytes does not hold the frame its caps "
          "describe", gst_buffer_get_size (buf)), (NULL));
  return GST_FLOW_ERROR;
write_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
  g_error_free (err);
  return GST_FLOW_ERROR;
}

static GstFlowReturn
op_frame_stats_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);
  GstVideoFrame frame;
  GstMapInfo out;
  gsize row_samples;
  guint y, height;
  gboolean ready;

  if (!self->sliding)
    goto not_negotiated;
  if (!gst_video_frame_map (&frame, &self->info, inbuf, GST_MAP_READ))
    goto map_failed;
  if (!gst_buffer_map (outbuf, &out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&frame);
    goto map_failed;
  }

  row_samples = (gsize) GST_VIDEO_INFO_WIDTH (&self->info) * self->channels;
  height = GST_VIDEO_INFO_HEIGHT (&self->info);
  FS_LOCK (self);
  ready = op_sliding_mean_ready (self->sliding);
  for (y = 0; y < height; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
        0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    op_sliding_mean_add (self->sliding, y * row_samples, row, row_samples,
        self->cur.normalization, (gfloat *) out.data + y * row_samples);
  }
  op_sliding_mean_frame_done (self->sliding);
  self->frames++;
  if (ready)
    self->output_frames++;
  FS_UNLOCK (self);
  gst_buffer_unmap (outbuf, &out);
  gst_video_frame_unmap (&frame);

  /* the first `window` frames only fill the window */
  return ready ? GST_FLOW_OK : GST_BASE_TRANSFORM_FLOW_DROPPED;

  /* ERRORS */
not_negotiated:
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
  return GST_FLOW_NOT_NEGOTIATED;
map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("buffer of %" G_GSIZE_FORMAT " bytes does not hold the frame its caps "
          "describe", gst_buffer_get_size (inbuf)), (NULL));
  return GST_FLOW_ERROR;
}

/* ---- events ---- */

static gboolean
op_frame_stats_eos (OpFrameStats * self)
{
  GstStructure *s;
  GError *err = NULL;
  gboolean ok = TRUE;

  FS_LOCK (self);
  if (self->accum) {
    ok = finish_block (self, &err);
    if (ok)
      ok = finish_files (self, &err);
    else
      finish_files (self, NULL);
  }
  s = gst_structure_new ("framestats-done",
      "mode", G_TYPE_STRING, self->cur.mode == OP_FRAME_STATS_MODE_REDUCE ?
      "reduce" : "sliding-mean",
      "frames", G_TYPE_UINT64, self->frames,
      "window", G_TYPE_UINT, self->cur.window,
      "blocks", G_TYPE_UINT, self->blocks,
      "output-frames", G_TYPE_UINT64, self->output_frames,
      "location", G_TYPE_STRING, self->cur.mode == OP_FRAME_STATS_MODE_REDUCE ?
      self->cur.location : NULL, NULL);
  FS_UNLOCK (self);

  if (!ok) {
    gst_structure_free (s);
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return TRUE;
}

static gboolean
op_frame_stats_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  OpFrameStats *self = OP_FRAME_STATS (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !op_frame_stats_eos (self)) {
    gst_event_unref (event);
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ---- get-stat ---- */

static GstCaps *
float_caps (OpFrameStats * self)
{
  GstVideoFormat f = GST_VIDEO_INFO_FORMAT (&self->info);

  return gst_caps_new_simple (FLOAT_CAPS_NAME,
      "format", G_TYPE_STRING, f == GST_VIDEO_FORMAT_RGB ? "RGB32F" :
      (f == GST_VIDEO_FORMAT_BGR ? "BGR32F" : "GRAY32F"),
      "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH (&self->info),
      "height", G_TYPE_INT, GST_VIDEO_INFO_HEIGHT (&self->info),
      "framerate", GST_TYPE_FRACTION, GST_VIDEO_INFO_FPS_N (&self->info),
      GST_VIDEO_INFO_FPS_D (&self->info), NULL);
}

static GstSample *
op_frame_stats_get_stat (OpFrameStats * self, const gchar * name)
{
  GstSample *sample = NULL;
  GstBuffer *buf;
  GstCaps *caps;
  gpointer data = NULL;
  guint64 frames = 0;
  guint stat, block = 0;

  for (stat = 0; stat < N_STATS; stat++)
    if (!g_strcmp0 (name, stat_names[stat]))
      break;
  if (stat == N_STATS) {
    GST_WARNING_OBJECT (self, "get-stat: unknown stat \"%s\" (mean, std, "
        "min, max)", GST_STR_NULL (name));
    return NULL;
  }

  FS_LOCK (self);
  if (self->accum && self->cur.window == 0 && self->accum->frames > 0) {
    data = compute_stat (self, stat);
    frames = self->accum->frames;
  } else if (self->accum && self->last[stat]) {
    data = g_memdup2 (self->last[stat], stat_bytes (self, stat));
    frames = self->last_frames;
    block = self->blocks - 1;
  }
  if (!data) {
    FS_UNLOCK (self);
    return NULL;
  }
  buf = gst_buffer_new_wrapped (data, stat_bytes (self, stat));
  if (stat <= STAT_STD) {
    caps = float_caps (self);
  } else {
    gint stride[GST_VIDEO_MAX_PLANES] = { 0 };
    gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };

    stride[0] = GST_VIDEO_INFO_WIDTH (&self->info) * self->channels * self->bps;

    caps = gst_caps_ref (self->in_caps);
    /* the data is tightly packed, not at the caps' default strides */
    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_INFO_FORMAT (&self->info),
        GST_VIDEO_INFO_WIDTH (&self->info),
        GST_VIDEO_INFO_HEIGHT (&self->info), 1, offset, stride);
  }
  FS_UNLOCK (self);

  sample = gst_sample_new (buf, caps, NULL, gst_structure_new
      ("framestats-stat", "stat", G_TYPE_STRING, stat_names[stat],
          "frames", G_TYPE_UINT64, frames, "block", G_TYPE_UINT, block, NULL));
  gst_buffer_unref (buf);
  gst_caps_unref (caps);
  return sample;
}

/* ---- properties ---- */

static void
op_frame_stats_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpFrameStats *self = OP_FRAME_STATS (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      self->settings.mode = g_value_get_enum (value);
      break;
    case PROP_WINDOW:
      self->settings.window = g_value_get_uint (value);
      break;
    case PROP_LOCATION:
      g_free (self->settings.location);
      self->settings.location = g_value_dup_string (value);
      break;
    case PROP_NORMALIZATION:
      self->settings.normalization = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_frame_stats_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  OpFrameStats *self = OP_FRAME_STATS (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, self->settings.mode);
      break;
    case PROP_WINDOW:
      g_value_set_uint (value, self->settings.window);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->settings.location);
      break;
    case PROP_NORMALIZATION:
      g_value_set_enum (value, self->settings.normalization);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
