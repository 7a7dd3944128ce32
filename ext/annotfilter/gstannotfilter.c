/* onepass: annotfilter
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-annotfilter
 * @title: annotfilter
 * @see_also: cropextract, batchsink
 *
 * Loads a label file once (in the READY→PAUSED change), attaches each
 * labeled frame's instances to that frame as an #OpAnnotationMeta, and
 * drops (or, with `mode=tag`, passes with an annotation meta without
 * instances, so they keep their frame index and source) the frames without
 * labels.
 * With `skip=true` it seeks upstream past long unlabeled stretches, so the
 * decoder never decodes them, and ends the stream after the last labeled
 * frame; the output stays frame-exact.
 *
 * Label formats, detected from the content, not the name: SLEAP `.slp`
 * and `.pkg.slp` (format 1.0 to 2.x), SLEAP analysis `.h5` (matlab,
 * standard and custom layouts), onepass JSON lines (`.jsonl`,
 * `.jsonl.gz`, the annotation JSON that batchsink writes), COCO keypoints
 * or detections JSON, MOT challenge text and DeepLabCut CSV
 * (docs/labelreaders.md).
 *
 * Frame identity (docs/frame-identity.md): the frame index is the 0-based
 * presentation-order index, the n-th frame ffmpeg decodes (SLEAP's
 * frame_idx). For a local file, annotfilter first runs a demux-only pass
 * over it (filesrc ! parsebin ! fakesink, no decoder; about 20 ms for a
 * minute of video, 1.3 s for an hour of low-resolution video) that lists
 * every frame's timestamp, and numbers each decoded frame by looking its PTS
 * up there: exact for variable frame rates, edit lists, B-frames and frames
 * the decoder drops (a forced EOS). A PTS not in the table is an error.
 * Otherwise (not a local file, a multifilesrc pattern, packets without
 * timestamps), the index is round ((pts - first_pts) * framerate)
 * cross-checked with a count of decoded frames, and a disagreement is an
 * error: the element stops rather than put labels on the wrong images.
 *
 * The attached meta holds the source name (the upstream URI's base name
 * without extension; for multifilesrc the location pattern without its
 * number, img_%05d.png -> img; else the label file's video name), the
 * frame index,
 * the buffer PTS, the frame size, the shared skeleton and the counted
 * instances in the label file's order, keypoints in frame coordinates
 * (pixel centres at integers).
 *
 * ## Seeking past unlabeled stretches
 *
 * In `mode=drop` with `skip=true`, when the next labeled frame is more than
 * `skip-min-frames` frames ahead, annotfilter sends a flushing, accurate
 * seek upstream (from a helper thread, never from the streaming thread)
 * and swallows the flush and segment events that seek causes, so
 * downstream sees one continuous segment with a gap. After the last
 * labeled frame it seeks to the end of the stream, so upstream ends it
 * without decoding the tail. A source that refuses the seek is simply
 * decoded through.
 *
 * Dropped frames and skipped stretches become GAP events, so aggregators
 * downstream never stall. The first buffer after a drop is flagged DISCONT.
 *
 * ## Frames the decoder is spared
 *
 * With `skip=true` in drop mode and a frame table (a local file), a
 * buffer probe on the decoder's sink pad (found upstream through queue,
 * queue2, capsfilter, videoconvert, videoscale and bins such as decodebin
 * and uridecodebin, or an explicit `parser ! decoder`; any other element
 * on the way, a tee for instance, may need every frame, and then nothing
 * is kept from the decoder) drops, before the decoder, the compressed frames
 * that no labeled frame needs: unlabeled H.264 non-reference pictures
 * (nal_ref_idc 0), unlabeled H.265 sub-layer non-reference pictures of the
 * highest temporal layer, and any unlabeled frame of an intra-only stream
 * (MJPEG, PNG, FFV1 keyframes only, all-IDR H.264/H.265). A packet is
 * recognised by its timestamp in the table, never by counting, and only
 * dropped when its own NAL headers agree. After annotfilter's seek to the
 * end, nothing reaches the decoder (the demuxer's restart at the last
 * keyframe is not decoded); without such a probe, a short tail after the
 * last labeled frame (up to `skip-min-frames`) is decoded through instead
 * of sought over.
 *
 * ## Messages
 *
 * At EOS an element message `annotfilter-stats`:
 *
 * * `frames-seen` (guint64): frames that reached annotfilter
 * * `frames-passed` (guint64): frames passed with a meta
 * * `frames-decoded-skipped` (guint64): frames never decoded because of
 *   skipping (jumped over by seeks, or after the last labeled frame)
 * * `instances` (guint64): instances attached in all passed frames
 * * `labeled-frames` (guint): frames of this video with counted instances
 * * `labeled-frames-missing` (guint): labeled frames the video never
 *   reached (beyond its end, or absent from the stream)
 * * `seeks` (guint): seeks sent upstream
 * * `frames-decoded` (guint64): frames given to the decoder, its work (a
 *   frame decoded again after a seek counts again; after an early seek, a
 *   lower bound for the packets before it); without a decoder found
 *   upstream, `frames-seen`
 * * `frames-not-decoded` (guint64): frames of the video never given to
 *   the decoder (kept from it, jumped over by seeks, after an early end);
 *   without a decoder found upstream or without a frame table,
 *   `frames-decoded-skipped`
 * * `video-index` (gint), `source` (string), `location` (string)
 *
 * and a warning message when `labeled-frames-missing` > 0, listing the
 * first ones grouped by reason: beyond the end of the video (with its frame
 * count), not delivered by the demuxer (it stopped before the end the
 * container declares, as GStreamer 1.22's qtdemux does with some MP4 edit
 * lists), after the stream stopped (an interrupted run), or dropped inside
 * the played part. Warnings are also posted for usable but odd label data
 * (an unknown format version, duplicated frames), when no frame of the
 * chosen video has counted instances, and when the label file names
 * another video than the stream's file.
 *
 * ## Errors
 *
 * Fails the READY→PAUSED change with an error naming the file and the
 * problem when the labels cannot be read (missing file, not HDF5 or JSON,
 * missing tables, indices out of range, unsupported features such as
 * `/video_crops`), or `video-index` is out of range. When `video-index=-1`
 * and the file holds several videos, the one whose file base name matches
 * the upstream URI is used (exactly, else ignoring case); no or several
 * matches are a stream error that lists the videos. A stream error also
 * when the label file records a video size other than the stream's (the
 * labels belong to another video), and when a frame's index is not certain
 * (see Frame identity).
 *
 * ## Source name and skeleton map
 *
 * `source` replaces the source name (sanitized like a file name: only
 * `[A-Za-z0-9_-]`), so two videos named alike (`s1/camA.mp4`,
 * `s2/camA.mp4`) get distinct keys (`s1_camA`). `node-map` is a CSV of
 * `from,to` rows (seed 000's joint lookup table): every instance is
 * rewritten onto a target skeleton whose nodes are the `to` column's
 * distinct names in order of first appearance; nodes not listed are
 * dropped, target nodes without a source node are NaN. The target
 * skeleton is named after the map file (base name without extension) and
 * has no edges, so videos labeled with different skeletons become one
 * dataset. A map that names none of the file's nodes, or maps two of
 * them onto one target node, fails the READY→PAUSED change naming both
 * files.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp instances=predicted ! fakesink
 * ]| Decodes only around the labeled frames of clip.mp4 and passes those.
 * |[
 * gst-launch-1.0 -m filesrc location=clip.mp4 ! qtdemux ! h264parse ! \
 *   avdec_h264 ! annotfilter location=clip.slp ! fakevideosink
 * ]| The same with an explicit decoder; `-m` shows `annotfilter-stats`
 * with `frames-decoded` and `frames-not-decoded`.
 * |[
 * gst-launch-1.0 filesrc location=s1/camA.mp4 ! decodebin ! \
 *   annotfilter location=s1/labels.slp source=s1_camA node-map=lookup.csv ! \
 *   fakesink
 * ]| Names the source s1_camA and maps its skeleton with lookup.csv.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstannotfilter.h"

#include <gst/video/video.h>
#include <onepass/onepass.h>
#include <oplabelreaders.h>

#include "labelselect.h"
#include "decodeskip.h"
#include "nodemap.h"

GST_DEBUG_CATEGORY_STATIC (op_annot_filter_debug);
#define GST_CAT_DEFAULT op_annot_filter_debug

typedef enum
{
  OP_ANNOT_FILTER_MODE_DROP,
  OP_ANNOT_FILTER_MODE_TAG,
} OpAnnotFilterMode;

#define DEFAULT_LOCATION NULL
#define DEFAULT_VIDEO_INDEX -1
#define DEFAULT_INSTANCES OP_INSTANCES_USER
#define DEFAULT_MIN_KEYPOINTS 1
#define DEFAULT_MODE OP_ANNOT_FILTER_MODE_DROP
#define DEFAULT_SKIP TRUE
#define DEFAULT_SKIP_MIN_FRAMES 0
/* with skip-min-frames=0: seek when the gap exceeds this much video,
 * about one GOP of common encodes; a shorter gap decodes faster than a
 * seek, which decodes from the previous keyframe anyway */
#define AUTO_SKIP_SECONDS 2

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_VIDEO_INDEX,
  PROP_INSTANCES,
  PROP_MIN_KEYPOINTS,
  PROP_MODE,
  PROP_SKIP,
  PROP_SKIP_MIN_FRAMES,
  PROP_SOURCE,
  PROP_NODE_MAP,
};

/* The properties, as set (under the object lock) and as the stream uses
 * them (a copy taken in start ()). */
typedef struct
{
  gchar *location;
  gint video_index;
  OpInstanceFilter instances;
  guint min_keypoints;
  OpAnnotFilterMode mode;
  gboolean skip;
  guint skip_min_frames;
  gchar *source_name;           /* `source`, NULL = from the URI */
  gchar *node_map;
} OpAnnotFilterSettings;

struct _OpAnnotFilter
{
  GstBaseTransform parent;

  /* properties (OBJECT_LOCK) */
  OpAnnotFilterSettings settings;

  /* the copy and the labels: set in start(), read-only afterwards */
  OpAnnotFilterSettings cur;
  OpLabels *labels;

  /* streaming state (streaming thread; flush-stop holds the stream lock) */
  gboolean resolved;
  guint video;
  gchar *source;
  OpTargetList *targets;
  OpFrameClock clock;
  guint width, height;
  GstClockTime duration;        /* upstream duration, NONE if unknown */
  GstClockTime out_end;         /* end of the last buffer or gap pushed */
  gboolean discont;
  gboolean ending;              /* sought to the end after the last target */
  gboolean swallow_segment;
  guint64 last_seek_target;
  gint64 max_index;             /* highest frame index seen, -1 = none */
  gint64 last_passed;           /* drop mode: highest index passed since the
                                 * last foreign flush, -1 = none */
  gchar *no_index_reason;       /* why frames are numbered without a table */
  OpDecodeSkip *decode_skip;    /* probe on the decoder's input, or NULL */
  gchar *uri;
  struct
  {
    guint64 seen, passed, skipped, instances;
    guint seeks;
  } stats;

  /* the seek handshake with the helper thread (OBJECT_LOCK) */
  guint32 seek_seqnum;          /* GST_SEQNUM_INVALID when none in flight */
  gboolean seek_refused;
  gboolean eos_pushed;          /* EOS went downstream (until a foreign
                                 * flush): no seek of ours may restart it */
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define op_annot_filter_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (OpAnnotFilter, op_annot_filter,
    GST_TYPE_BASE_TRANSFORM, GST_DEBUG_CATEGORY_INIT (op_annot_filter_debug,
        "annotfilter", 0, "onepass annotated-frame filter"));
GST_ELEMENT_REGISTER_DEFINE (annotfilter, "annotfilter", GST_RANK_NONE,
    OP_TYPE_ANNOT_FILTER);

#define OP_TYPE_ANNOT_FILTER_INSTANCES (op_annot_filter_instances_get_type ())
static GType
op_annot_filter_instances_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_INSTANCES_USER, "User-labeled instances", "user"},
    {OP_INSTANCES_PREDICTED, "Predicted instances", "predicted"},
    {OP_INSTANCES_ALL, "Every instance: user-labeled, predicted and "
          "detections", "all"},
    {OP_INSTANCES_DETECTION, "Detections (boxes, keypoints optional)",
        "detection"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("OpAnnotFilterInstances", values));
  return type;
}

#define OP_TYPE_ANNOT_FILTER_MODE (op_annot_filter_mode_get_type ())
static GType
op_annot_filter_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_ANNOT_FILTER_MODE_DROP, "Drop frames without counted instances "
          "(GAP events in their place)", "drop"},
    {OP_ANNOT_FILTER_MODE_TAG, "Pass every frame, attach the meta to "
          "annotated ones", "tag"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("OpAnnotFilterMode", values));
  return type;
}

static void op_annot_filter_finalize (GObject * object);
static void op_annot_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_annot_filter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_annot_filter_start (GstBaseTransform * trans);
static gboolean op_annot_filter_stop (GstBaseTransform * trans);
static gboolean op_annot_filter_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean op_annot_filter_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn op_annot_filter_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static gboolean op_annot_filter_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query);
static gboolean check_labels_belong (OpAnnotFilter * self,
    const gchar * stream_name);

static void
op_annot_filter_class_init (OpAnnotFilterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = op_annot_filter_set_property;
  gobject_class->get_property = op_annot_filter_get_property;
  gobject_class->finalize = op_annot_filter_finalize;

  /**
   * OpAnnotFilter:location:
   *
   * The label file: SLEAP .slp / .pkg.slp / analysis .h5, onepass JSON
   * lines (.jsonl, .jsonl.gz), COCO JSON, MOT text or DeepLabCut CSV. The
   * format is detected from the content.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Label file (SLEAP .slp/.pkg.slp/analysis .h5, onepass .jsonl[.gz], "
          "COCO JSON, MOT text or DeepLabCut CSV)", DEFAULT_LOCATION, flags));
  /**
   * OpAnnotFilter:video-index:
   *
   * Which video of a multi-video label file this stream is. -1: the only
   * one, else the one whose file base name matches the upstream URI.
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_INDEX,
      g_param_spec_int ("video-index", "Video index",
          "Video of the label file this stream shows (-1 = the only one, or "
          "the one matching the upstream file name)", -1, G_MAXINT,
          DEFAULT_VIDEO_INDEX, flags));
  /**
   * OpAnnotFilter:instances:
   *
   * Which instances count: `user` (labeled by a person), `predicted`
   * (a model's), `detection` (boxes with optional keypoints: MOT text,
   * COCO annotations without keypoints) or `all` (every kind, detections
   * included; a prediction that a user instance corrects is skipped).
   * A detections file passes nothing with the default `user`: use
   * `instances=detection` or `all`.
   */
  g_object_class_install_property (gobject_class, PROP_INSTANCES,
      g_param_spec_enum ("instances", "Instances",
          "Which instances count", OP_TYPE_ANNOT_FILTER_INSTANCES,
          DEFAULT_INSTANCES, flags));
  /**
   * OpAnnotFilter:min-keypoints:
   *
   * An instance counts when it has at least this many present keypoints
   * (visible and not NaN); a detection counts when it has a box.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_KEYPOINTS,
      g_param_spec_uint ("min-keypoints", "Minimum keypoints",
          "Present keypoints an instance needs to count", 0, G_MAXUINT,
          DEFAULT_MIN_KEYPOINTS, flags));
  /**
   * OpAnnotFilter:mode:
   *
   * `drop`: pass only frames with counted instances (GAP events for the
   * rest); `tag`: pass every frame, the annotated ones with the meta.
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "What to do with unlabeled frames",
          OP_TYPE_ANNOT_FILTER_MODE, DEFAULT_MODE, flags));
  /**
   * OpAnnotFilter:skip:
   *
   * In drop mode, seek upstream past unlabeled stretches longer than
   * skip-min-frames and end the stream after the last labeled frame.
   */
  g_object_class_install_property (gobject_class, PROP_SKIP,
      g_param_spec_boolean ("skip", "Skip",
          "Seek past long unlabeled stretches so they are never decoded "
          "(drop mode only)", DEFAULT_SKIP, flags));
  /**
   * OpAnnotFilter:skip-min-frames:
   *
   * The shortest unlabeled stretch worth a seek, in frames. 0 = automatic:
   * 2 seconds of video, about one GOP of common encodes.
   */
  g_object_class_install_property (gobject_class, PROP_SKIP_MIN_FRAMES,
      g_param_spec_uint ("skip-min-frames", "Skip minimum frames",
          "Seek only when the next labeled frame is more than this many "
          "frames ahead (0 = 2 seconds of video)", 0, G_MAXUINT,
          DEFAULT_SKIP_MIN_FRAMES, flags));
  /**
   * OpAnnotFilter:source:
   *
   * The source name for keys and the per-source table, instead of the
   * video's file name (sanitized to `[A-Za-z0-9_-]`). NULL: from the URI.
   */
  g_object_class_install_property (gobject_class, PROP_SOURCE,
      g_param_spec_string ("source", "Source",
          "Source name instead of the video's file name (NULL = from the "
          "upstream URI)", NULL, flags));
  /**
   * OpAnnotFilter:node-map:
   *
   * A CSV of `from,to` rows mapping the labels' skeleton onto a target
   * skeleton (the `to` names in order; unlisted nodes dropped, target
   * nodes without a source NaN). NULL: the labels' own skeleton.
   */
  g_object_class_install_property (gobject_class, PROP_NODE_MAP,
      g_param_spec_string ("node-map", "Node map",
          "CSV from,to: rename and reorder the skeleton onto the to column's "
          "nodes (NULL = keep the labels' skeleton)", NULL, flags));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Annotated frame filter", "Filter/Analyzer/Video",
      "Attaches labels (SLEAP, onepass JSON lines) to the frames that carry "
      "them and drops or skips the rest", "onepass developers");

  trans_class->start = GST_DEBUG_FUNCPTR (op_annot_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (op_annot_filter_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (op_annot_filter_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (op_annot_filter_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (op_annot_filter_transform_ip);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (op_annot_filter_propose_allocation);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api (OP_TYPE_ANNOT_FILTER_INSTANCES, 0);
  gst_type_mark_as_plugin_api (OP_TYPE_ANNOT_FILTER_MODE, 0);
}

static void
settings_clear (OpAnnotFilterSettings * s)
{
  g_clear_pointer (&s->location, g_free);
  g_clear_pointer (&s->source_name, g_free);
  g_clear_pointer (&s->node_map, g_free);
}

static void
settings_copy (OpAnnotFilterSettings * dst, const OpAnnotFilterSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->location = g_strdup (src->location);
  dst->source_name = g_strdup (src->source_name);
  dst->node_map = g_strdup (src->node_map);
}

static void
op_annot_filter_init (OpAnnotFilter * self)
{
  self->settings.location = g_strdup (DEFAULT_LOCATION);
  self->settings.video_index = DEFAULT_VIDEO_INDEX;
  self->settings.instances = DEFAULT_INSTANCES;
  self->settings.min_keypoints = DEFAULT_MIN_KEYPOINTS;
  self->settings.mode = DEFAULT_MODE;
  self->settings.skip = DEFAULT_SKIP;
  self->settings.skip_min_frames = DEFAULT_SKIP_MIN_FRAMES;
  self->seek_seqnum = GST_SEQNUM_INVALID;
  /* in place: the meta goes onto the frame itself, never a pixel copy */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

static void
op_annot_filter_finalize (GObject * object)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (object);

  settings_clear (&self->settings);
  settings_clear (&self->cur);
  op_labels_free (self->labels);
  op_target_list_free (self->targets);
  op_frame_clock_reset (&self->clock);
  g_free (self->no_index_reason);
  g_free (self->uri);
  g_free (self->source);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------ start/stop */

static void
reset_streaming_state (OpAnnotFilter * self)
{
  self->resolved = FALSE;
  self->video = 0;
  g_clear_pointer (&self->source, g_free);
  g_clear_pointer (&self->targets, op_target_list_free);
  op_frame_clock_reset (&self->clock);
  op_frame_clock_set_rate (&self->clock, 0, 1);
  self->width = self->height = 0;
  self->duration = GST_CLOCK_TIME_NONE;
  self->out_end = GST_CLOCK_TIME_NONE;
  self->discont = FALSE;
  self->ending = FALSE;
  self->swallow_segment = FALSE;
  self->last_seek_target = G_MAXUINT64;
  self->max_index = -1;
  self->last_passed = -1;
  g_clear_pointer (&self->no_index_reason, g_free);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->decode_skip, op_decode_skip_detach);
  memset (&self->stats, 0, sizeof (self->stats));
  GST_OBJECT_LOCK (self);
  self->seek_seqnum = GST_SEQNUM_INVALID;
  self->seek_refused = FALSE;
  self->eos_pushed = FALSE;
  GST_OBJECT_UNLOCK (self);
}

static gchar *
list_videos (const OpLabels * labels)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < labels->videos->len; i++)
    g_string_append_printf (s, "%s%u: %s", i ? ", " : "", i,
        (const gchar *) g_ptr_array_index (labels->videos, i));
  return g_string_free (s, FALSE);
}

/* node-map: rewrite the loaded labels onto the map's skeleton, once */
static gboolean
apply_node_map (OpAnnotFilter * self, GError ** error)
{
  OpNodeMap *map;
  gboolean ok;

  if (!self->cur.node_map)
    return TRUE;
  map = op_node_map_load (self->cur.node_map, error);
  ok = map && op_node_map_apply (map, self->labels, error);
  op_node_map_free (map);
  if (!ok)
    g_clear_pointer (&self->labels, op_labels_free);
  return ok;
}

static gboolean
op_annot_filter_start (GstBaseTransform * trans)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (trans);
  GError *err = NULL;
  guint i;

  GST_OBJECT_LOCK (self);
  settings_copy (&self->cur, &self->settings);
  GST_OBJECT_UNLOCK (self);
  /* the source name as every onepass name: sanitised */
  if (self->cur.source_name) {
    gchar *name = op_name_sanitize (self->cur.source_name, 64);

    g_free (self->cur.source_name);
    self->cur.source_name = name;
  }

  reset_streaming_state (self);
  op_labels_free (self->labels);
  self->labels = op_label_readers_load (self->cur.location, &err);
  if (self->labels == NULL || !apply_node_map (self, &err))
    goto load_failed;

  GST_INFO_OBJECT (self, "%s: %s labels, %u labeled frames in %u videos",
      self->cur.location, self->labels->format, (guint) self->labels->n_frames,
      self->labels->videos->len);
  for (i = 0; i < self->labels->warnings->len; i++)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("%s: %s", self->cur.location,
            (const gchar *) g_ptr_array_index (self->labels->warnings, i)),
        (NULL));

  if (self->cur.video_index >= 0 && self->labels->videos->len > 0
      && (guint) self->cur.video_index >= self->labels->videos->len)
    goto bad_video_index;
  return TRUE;

  /* ERRORS */
load_failed:
  {
    if (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN))
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", err->message),
          (NULL));
    else if (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT))
      GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE, ("%s", err->message),
          (NULL));
    else
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", err->message), (NULL));
    g_clear_error (&err);
    return FALSE;
  }
bad_video_index:
  {
    gchar *videos = list_videos (self->labels);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("%s: video-index %d does not exist; the file has %u videos (%s)",
            self->cur.location, self->cur.video_index,
            self->labels->videos->len, videos), (NULL));
    g_free (videos);
    g_clear_pointer (&self->labels, op_labels_free);
    return FALSE;
  }
}

static gboolean
op_annot_filter_stop (GstBaseTransform * trans)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (trans);

  reset_streaming_state (self);
  g_clear_pointer (&self->labels, op_labels_free);
  return TRUE;
}

static gboolean
op_annot_filter_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_WARNING_OBJECT (self, "cannot parse caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  /* a size change keeps the frame count: indices stay relative to the
   * stream's first frame */
  self->width = GST_VIDEO_INFO_WIDTH (&info);
  self->height = GST_VIDEO_INFO_HEIGHT (&info);
  op_frame_clock_set_rate (&self->clock, GST_VIDEO_INFO_FPS_N (&info),
      GST_VIDEO_INFO_FPS_D (&info));
  /* a new size must still be the labels' video's */
  if (self->resolved && !check_labels_belong (self, NULL))
    return FALSE;
  GST_DEBUG_OBJECT (self, "%ux%u at %d/%d fps", self->width, self->height,
      GST_VIDEO_INFO_FPS_N (&info), GST_VIDEO_INFO_FPS_D (&info));
  return TRUE;
}

/* The frames go downstream untouched (only a meta is added), so downstream
 * decides the allocation: as in passthrough, forward the query. Without
 * this, in-place mode answers for downstream with no metas, and decoders
 * copy every frame out of their padded pools. */
static gboolean
op_annot_filter_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  return gst_pad_peer_query (GST_BASE_TRANSFORM_SRC_PAD (trans), query);
}

/* ------------------------------------------------ choosing the video */

static gchar *
query_upstream_uri (OpAnnotFilter * self)
{
  GstQuery *q = gst_query_new_uri ();
  gchar *uri = NULL;

  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), q))
    gst_query_parse_uri (q, &uri);
  gst_query_unref (q);
  return uri;
}

static GstClockTime
query_upstream_duration (OpAnnotFilter * self)
{
  gint64 dur = -1;

  if (!gst_pad_peer_query_duration (GST_BASE_TRANSFORM_SINK_PAD (self),
          GST_FORMAT_TIME, &dur) || dur <= 0)
    return GST_CLOCK_TIME_NONE;
  return (GstClockTime) dur;
}

/* the video of a multi-video file whose name matches @stream_name: exact,
 * else ignoring case (labels made on another OS); -1 with @matches set
 * when there is no single match */
static gint
match_video (const OpLabels * labels, const gchar * stream_name,
    guint * matches)
{
  gint video = -1;
  guint i, pass;

  for (pass = 0; pass < 2 && stream_name; pass++) {
    *matches = 0;
    for (i = 0; i < labels->videos->len; i++) {
      gchar *v = op_source_name_from_uri (g_ptr_array_index (labels->videos,
              i));
      if (pass == 0 ? g_strcmp0 (v, stream_name) == 0 :
          g_ascii_strcasecmp (v, stream_name) == 0) {
        video = (gint) i;
        (*matches)++;
      }
      g_free (v);
    }
    if (*matches > 0)
      break;
  }
  return *matches == 1 ? video : -1;
}

/* the design's "labels must belong to the video": a recorded size that
 * differs from the stream's is an error, another file name a warning */
static gboolean
check_labels_belong (OpAnnotFilter * self, const gchar * stream_name)
{
  guint w = 0, h = 0;

  if (op_labels_get_video_size (self->labels, self->video, &w, &h)
      && (w != self->width || h != self->height) && self->width > 0) {
    GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE,
        ("%s: the labels of video %u are for a %ux%u video, but this stream "
            "(%s) is %ux%u: they belong to another video", self->cur.location,
            self->video, w, h, self->source, self->width, self->height),
        ("stream uri: %s", GST_STR_NULL (self->uri)));
    return FALSE;
  }
  if (stream_name && self->video < self->labels->videos->len) {
    const gchar *named = g_ptr_array_index (self->labels->videos, self->video);
    gchar *v = op_source_name_from_uri (named);
    if (named && *named && g_ascii_strcasecmp (v, stream_name) != 0)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("%s: the labels of video %u name the video \"%s\", but this "
              "stream is \"%s\": check that they belong to it",
              self->cur.location, self->video, named, self->uri), (NULL));
    g_free (v);
  }
  return TRUE;
}

/* learns every frame's timestamp before the first frame is numbered; when
 * that is impossible, frames are numbered by timestamp and count, and any
 * disagreement stops the stream */
static void
index_stream (OpAnnotFilter * self)
{
  gchar *stream_id = gst_pad_get_stream_id (GST_BASE_TRANSFORM_SINK_PAD (self));
  GError *err = NULL;
  OpStreamIndex *index = op_stream_index_build (self->uri, stream_id, &err);

  if (index == NULL) {
    self->no_index_reason = g_strdup (err->message);
    GST_INFO_OBJECT (self, "no frame table: %s", err->message);
    g_clear_error (&err);
    g_free (stream_id);
    return;
  }
  GST_INFO_OBJECT (self, "%s: %u frames indexed in %" GST_TIME_FORMAT,
      self->source, op_stream_index_n_frames (index),
      GST_TIME_ARGS (index->build_time));
  op_frame_clock_set_index (&self->clock, index);
  g_free (stream_id);
}

/* A probe on the decoder's input counts the frames it decodes and, with
 * skip in drop mode, keeps from it the frames no labeled frame needs
 * (decodeskip.c). The decoder exists now: it made the first frame. */
static void
watch_decoder (OpAnnotFilter * self)
{
  GstPad *pad = op_decode_skip_find_decoder (GST_BASE_TRANSFORM_SINK_PAD
      (self));
  gboolean drop = self->cur.skip && self->cur.mode == OP_ANNOT_FILTER_MODE_DROP;

  if (pad == NULL) {
    GST_INFO_OBJECT (self, "no video decoder upstream: nothing to spare it");
    return;
  }
  self->decode_skip = op_decode_skip_attach (pad, self->clock.index,
      drop ? self->targets : NULL);
  gst_object_unref (pad);
}

/* picks the video and builds the list of frames to pass; called on the
 * first buffer, when upstream can answer the URI query */
static gboolean
resolve_video (OpAnnotFilter * self)
{
  OpLabels *labels = self->labels;
  gchar *stream_name;
  gint video = self->cur.video_index;
  gchar *name;
  guint matches = 0;

  self->uri = query_upstream_uri (self);
  stream_name = self->uri ? op_source_name_from_uri (self->uri) : NULL;
  if (video < 0 && labels->videos->len > 1) {
    video = match_video (labels, stream_name, &matches);
    if (video < 0)
      goto no_match;
  }
  self->video = video < 0 ? 0 : (guint) video;

  if (self->cur.source_name)
    name = g_strdup (self->cur.source_name);
  else if (stream_name)
    name = g_strdup (stream_name);
  else if (self->video < labels->videos->len)
    name = op_source_name_from_uri (g_ptr_array_index (labels->videos,
            self->video));
  else
    name = g_strdup ("unknown");
  /* owned, not interned: a long-running application opens many streams */
  g_free (self->source);
  self->source = name;
  if (!check_labels_belong (self, stream_name)) {
    g_free (stream_name);
    return FALSE;
  }
  self->resolved = TRUE;

  self->targets = op_target_list_new (labels, self->video,
      self->cur.instances, self->cur.min_keypoints);
  self->duration = query_upstream_duration (self);
  GST_INFO_OBJECT (self, "stream %s (uri %s) is video %u: %u frames with "
      "counted instances, %" G_GUINT64_FORMAT " instances", self->source,
      GST_STR_NULL (self->uri), self->video, self->targets->targets->len,
      self->targets->n_instances);

  if (self->targets->targets->len == 0) {
    /* indexed by OpInstanceFilter */
    static const gchar *const which[] = { "user", "predicted", "any",
      "detection"
    };
    if (self->cur.instances == OP_INSTANCES_DETECTION)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("%s: no frame of video %u has detection instances with a box "
              "(%u labeled frames in the file; see the instances property)",
              self->cur.location, self->video,
              op_labels_count_frames (labels, self->video)), (NULL));
    else
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("%s: no frame of video %u has %s instances with at least %u "
              "present keypoints (%u labeled frames in the file; see the "
              "instances and min-keypoints properties)", self->cur.location,
              self->video, which[self->cur.instances],
              self->cur.min_keypoints, op_labels_count_frames (labels,
                  self->video)), (NULL));
  }
  /* tag mode numbers every frame; drop mode only needs it for targets */
  if (self->targets->targets->len > 0
      || self->cur.mode == OP_ANNOT_FILTER_MODE_TAG)
    index_stream (self);
  watch_decoder (self);
  g_free (stream_name);
  return TRUE;

no_match:
  {
    gchar *videos = list_videos (labels);
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("%s: the file holds %u videos and %s; set video-index (videos: %s)",
            self->cur.location, labels->videos->len, matches == 0 ?
            (stream_name ? "none matches this stream's file name" :
                "upstream reports no file name") :
            "several match this stream's file name", videos),
        ("stream uri: %s", GST_STR_NULL (self->uri)));
    g_free (videos);
    g_free (stream_name);
    return FALSE;
  }
}

/* ---------------------------------------------------------- messages */

static guint64 frames_in_stream (OpAnnotFilter * self);

/* appends one reason why labeled frames in [@from, @to) were never reached */
static guint
explain_unreached (OpAnnotFilter * self, GString * out, guint64 from,
    guint64 to, const gchar * why)
{
  GString *frames = g_string_new (NULL);
  guint n = op_target_list_count_unreached (self->targets, from, to, frames);

  if (n > 0)
    g_string_append_printf (out, "%s%u %s (frames %s)", out->len ? "; " : "",
        n, why, frames->str);
  g_string_free (frames, TRUE);
  return n;
}

/* the stream ends well before its container says (a demuxer that lost
 * frames at the end, as GStreamer 1.22's qtdemux with some edit lists) */
static gboolean
demuxer_stopped_early (OpAnnotFilter * self, GstClockTime * last_end)
{
  const OpStreamIndex *index = self->clock.index;
  guint64 n = op_stream_index_n_frames (index);
  GstClockTime span;

  if (n == 0 || !GST_CLOCK_TIME_IS_VALID (index->declared_end))
    return FALSE;
  span = op_frame_clock_frame_span (&self->clock, n - 1);
  *last_end = op_frame_clock_pts_of (&self->clock, n - 1) + span;
  return index->declared_end > *last_end + span;
}

/* the warning for labeled frames the stream never reached, saying why */
static void
warn_unreached (OpAnnotFilter * self, guint n_missing, guint n_labeled)
{
  guint64 total = frames_in_stream (self);
  guint64 seen = (guint64) (self->max_index + 1);
  GString *why = g_string_new (NULL);
  GstClockTime last_end = GST_CLOCK_TIME_NONE;
  gchar *s;

  explain_unreached (self, why, 0, seen, "inside the played part of the "
      "stream, but the decoder or demuxer did not deliver them");
  if (total == 0) {
    s = g_strdup_printf ("after the last frame the stream delivered (frame %"
        G_GINT64_FORMAT ")", self->max_index);
    explain_unreached (self, why, seen, G_MAXUINT64, s);
    g_free (s);
  } else {
    s = g_strdup_printf ("after the stream stopped at frame %" G_GINT64_FORMAT
        " of %" G_GUINT64_FORMAT " (interrupted, or ended early)",
        self->max_index, total);
    explain_unreached (self, why, seen, total, s);
    g_free (s);
    if (demuxer_stopped_early (self, &last_end))
      s = g_strdup_printf ("that the demuxer did not deliver: it stopped "
          "after %" G_GUINT64_FORMAT " frames at %" GST_TIME_FORMAT ", but "
          "the container says the stream lasts until %" GST_TIME_FORMAT
          " (GStreamer 1.22's qtdemux loses the end of some MP4 edit lists)",
          total, GST_TIME_ARGS (last_end),
          GST_TIME_ARGS (self->clock.index->declared_end));
    else
      s = g_strdup_printf ("beyond the end of the video (the stream has %"
          G_GUINT64_FORMAT " frames)", total);
    explain_unreached (self, why, MAX (seen, total), G_MAXUINT64, s);
    g_free (s);
  }
  GST_ELEMENT_WARNING (self, STREAM, FAILED,
      ("%s: %u of %u labeled frames of video %u were never reached by the "
          "stream: %s", self->cur.location, n_missing, n_labeled, self->video,
          why->str), (NULL));
  g_string_free (why, TRUE);
}

static void
post_stats (OpAnnotFilter * self)
{
  guint n_missing = 0, n_labeled = 0;
  guint64 decoded = self->stats.seen, not_decoded = self->stats.skipped;
  GstStructure *s;

  if (self->targets) {
    n_labeled = self->targets->targets->len;
    n_missing = op_target_list_count_unreached (self->targets, 0,
        G_MAXUINT64, NULL);
  }
  /* without a decoder upstream, every frame seen was made for us */
  if (self->decode_skip)
    op_decode_skip_counts (self->decode_skip, &decoded, &not_decoded);
  s = gst_structure_new ("annotfilter-stats",
      "frames-seen", G_TYPE_UINT64, self->stats.seen,
      "frames-passed", G_TYPE_UINT64, self->stats.passed,
      "frames-decoded-skipped", G_TYPE_UINT64, self->stats.skipped,
      "instances", G_TYPE_UINT64, self->stats.instances,
      "labeled-frames", G_TYPE_UINT, n_labeled,
      "labeled-frames-missing", G_TYPE_UINT, n_missing,
      "seeks", G_TYPE_UINT, self->stats.seeks,
      "frames-decoded", G_TYPE_UINT64, decoded,
      "frames-not-decoded", G_TYPE_UINT64, not_decoded,
      "video-index", G_TYPE_INT, (gint) self->video,
      "source", G_TYPE_STRING, GST_STR_NULL (self->source),
      "location", G_TYPE_STRING, GST_STR_NULL (self->cur.location), NULL);
  GST_INFO_OBJECT (self, "%" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  if (n_missing > 0)
    warn_unreached (self, n_missing, n_labeled);
}

/* ------------------------------------------------------------ seeking */

static void
do_seek (GstElement * element, gpointer user_data)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (element);
  GstEvent *seek = user_data;
  gboolean ok, too_late;

  /* The seek was queued from the streaming thread; on a loaded machine the
   * stream can reach its end first. Sent then, it would make the demuxer
   * play the end again after the EOS (seen: stats posted twice, and
   * gst-launch failing with qtdemux's "reason error"). */
  GST_OBJECT_LOCK (self);
  too_late = self->eos_pushed;
  GST_OBJECT_UNLOCK (self);
  ok = too_late || gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (self),
      gst_event_ref (seek));
  GST_OBJECT_LOCK (self);
  if (!ok)
    self->seek_refused = TRUE;
  self->seek_seqnum = GST_SEQNUM_INVALID;
  GST_OBJECT_UNLOCK (self);
  if (too_late)
    GST_INFO_OBJECT (self, "the stream ended before the seek was sent");
  else if (!ok)
    GST_INFO_OBJECT (self, "upstream refused the seek; decoding through");
}

/* the stream's frame count: the table's, else duration times rate, else 0 */
static guint64
frames_in_stream (OpAnnotFilter * self)
{
  if (self->clock.index)
    return op_frame_clock_n_frames (&self->clock);
  if (!GST_CLOCK_TIME_IS_VALID (self->duration) || self->clock.fps_n <= 0)
    return 0;
  return gst_util_uint64_scale_round (self->duration, self->clock.fps_n,
      (guint64) self->clock.fps_d * GST_SECOND);
}

/* sends a flushing seek to @start (stream time) from a helper thread;
 * FALSE when none was sent (one in flight, or upstream refuses seeks).
 * @to_end: the seek ends the stream, so the decoder is given nothing
 * after its flush (told before the seek goes, which may be at once) */
static gboolean
send_seek (OpAnnotFilter * self, GstClockTime start, gboolean to_end)
{
  GstEvent *seek;
  guint32 seqnum;

  GST_OBJECT_LOCK (self);
  if (self->seek_refused || self->seek_seqnum != GST_SEQNUM_INVALID) {
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
  seqnum = self->seek_seqnum = gst_util_seqnum_next ();
  GST_OBJECT_UNLOCK (self);

  seek = gst_event_new_seek (1.0, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET,
      (gint64) start, GST_SEEK_TYPE_NONE, -1);
  gst_event_set_seqnum (seek, seqnum);
  self->stats.seeks++;
  if (to_end && self->decode_skip)
    op_decode_skip_end_with_seek (self->decode_skip, seqnum);
  /* never from the streaming thread: the seek flushes through it */
  gst_element_call_async (GST_ELEMENT (self), do_seek, seek,
      (GDestroyNotify) gst_event_unref);
  return TRUE;
}

/* asks upstream to jump to frame @target */
static void
seek_to_frame (OpAnnotFilter * self, guint64 target)
{
  GstClockTime pos, start;

  /* Inside the target, after the end of every frame before it: those
   * are clipped away, the target is kept (the decoder moves its timestamp
   * to the segment start, which the clock maps back to it). Seek
   * positions are stream time, not timestamps. */
  if (!op_frame_clock_seek_position (&self->clock, target, &pos)) {
    GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " cannot be aimed "
        "at; decoding through", target);
    return;
  }
  start = gst_segment_to_stream_time (&GST_BASE_TRANSFORM (self)->segment,
      GST_FORMAT_TIME, pos);
  if (!GST_CLOCK_TIME_IS_VALID (start) || !send_seek (self, start, FALSE))
    return;
  GST_DEBUG_OBJECT (self, "seeking to frame %" G_GUINT64_FORMAT " at %"
      GST_TIME_FORMAT, target, GST_TIME_ARGS (start));
  self->last_seek_target = target;
}

static guint64 skip_threshold (OpAnnotFilter * self);

/* After the last labeled frame: a seek to the end, so upstream finishes
 * (and sends EOS) by itself. Ending the stream with a flow return instead
 * leaves decoders mid-GOP, and they report errors after the EOS. The seek
 * makes the demuxer start again at the keyframe before the end; with the
 * decoder's input watched, those packets are dropped there, so any tail
 * is worth the seek. Without, a short tail is decoded through, else the
 * decoder would decode the last GOP twice. */
static void
skip_to_end (OpAnnotFilter * self, guint64 index)
{
  guint64 total = frames_in_stream (self);
  guint64 worth = self->decode_skip ? 0 : skip_threshold (self);

  if (self->ending || !GST_CLOCK_TIME_IS_VALID (self->duration))
    return;
  if (total > 0 && total <= index + 1 + worth)
    return;
  if (!send_seek (self, self->duration, TRUE))
    return;
  self->ending = TRUE;
  if (total > index + 1)
    self->stats.skipped += total - index - 1;
  GST_INFO_OBJECT (self, "no labeled frame after %" G_GUINT64_FORMAT
      "; seeking to the end at %" GST_TIME_FORMAT, index,
      GST_TIME_ARGS (self->duration));
}

static guint64
skip_threshold (OpAnnotFilter * self)
{
  GstClockTime dur = op_frame_clock_frame_duration (&self->clock);

  if (self->cur.skip_min_frames > 0)
    return self->cur.skip_min_frames;
  if (!GST_CLOCK_TIME_IS_VALID (dur) || dur == 0)
    return G_MAXUINT64;
  return MAX (1, AUTO_SKIP_SECONDS * GST_SECOND / dur);
}


/* ------------------------------------------------------------ events */

static void
push_gap (OpAnnotFilter * self, GstClockTime pts, GstClockTime duration)
{
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return;
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
      gst_event_new_gap (pts, duration));
  if (GST_CLOCK_TIME_IS_VALID (duration))
    self->out_end = pts + duration;
}

/* a gap over whatever was jumped between the last output and @pts; the
 * nanoseconds that timestamp rounding leaves between frames are no jump */
static void
fill_gap_until (OpAnnotFilter * self, GstClockTime pts)
{
  if (GST_CLOCK_TIME_IS_VALID (self->out_end) && GST_CLOCK_TIME_IS_VALID (pts)
      && pts > self->out_end + GST_MSECOND)
    push_gap (self, self->out_end, pts - self->out_end);
}

static gboolean
is_our_seek (OpAnnotFilter * self, GstEvent * event)
{
  gboolean ours;

  GST_OBJECT_LOCK (self);
  ours = self->seek_seqnum != GST_SEQNUM_INVALID
      && gst_event_get_seqnum (event) == self->seek_seqnum;
  GST_OBJECT_UNLOCK (self);
  return ours;
}

static gboolean
op_annot_filter_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      if (is_our_seek (self, event)) {
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      /* serialized: the streaming thread is outside transform_ip here */
      self->clock.expect_jump = TRUE;
      self->discont = TRUE;
      if (is_our_seek (self, event)) {
        /* downstream keeps its segment and sees a gap instead */
        self->swallow_segment = TRUE;
        gst_event_unref (event);
        return TRUE;
      }
      self->out_end = GST_CLOCK_TIME_NONE;
      self->ending = FALSE;
      self->last_passed = -1;
      GST_OBJECT_LOCK (self);
      self->eos_pushed = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_SEGMENT:
      if (self->swallow_segment) {
        self->swallow_segment = FALSE;
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      if (self->eos_pushed) {
        /* the end again, after a seek of ours that went out just before
         * the first EOS: downstream has had its EOS */
        GST_OBJECT_UNLOCK (self);
        gst_event_unref (event);
        return TRUE;
      }
      self->eos_pushed = TRUE;
      GST_OBJECT_UNLOCK (self);
      if (self->labels)
        post_stats (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ---------------------------------------------------------- data path */

/* a frame whose index is not certain: stop rather than guess (the design's
 * "never a wrong image under a label") */
static void
post_identity_error (OpAnnotFilter * self, OpFrameClockResult res,
    GstClockTime pts, guint64 index, gint64 previous)
{
  if (res == OP_FRAME_CLOCK_NOT_IN_INDEX) {
    const OpStreamIndex *t = self->clock.index;
    guint n = op_stream_index_n_frames (t);
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("%s: a decoded frame carries the timestamp %" GST_TIME_FORMAT
            ", which is no frame of the stream's index (%u frames from %"
            GST_TIME_FORMAT " to %" GST_TIME_FORMAT ", read from the file "
            "before playing): its frame index is unknown, so annotfilter "
            "stops rather than put labels on the wrong images", self->source,
            GST_TIME_ARGS (pts), n, GST_TIME_ARGS (op_frame_clock_pts_of
                (&self->clock, 0)), GST_TIME_ARGS (op_frame_clock_pts_of
                (&self->clock, n - 1))), ("uri %s, labels %s",
            GST_STR_NULL (self->uri), self->cur.location));
  } else {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("%s: the frame at %" GST_TIME_FORMAT " is frame %" G_GUINT64_FORMAT
            " by its timestamp at %d/%d fps but frame %" G_GINT64_FORMAT
            " by the count of decoded frames: the frame rate is not constant "
            "or frames were lost, and no frame index could be read from the "
            "source to tell which (%s). annotfilter stops rather than put "
            "labels on the wrong images; play the video from a local file",
            self->source, GST_TIME_ARGS (pts), index, self->clock.fps_n,
            self->clock.fps_d, previous + 1,
            GST_STR_NULL (self->no_index_reason)), ("uri %s, labels %s",
            GST_STR_NULL (self->uri), self->cur.location));
  }
}

/* tag mode: an unlabeled frame keeps its identity downstream */
/* The frame's own timestamp: with an index table, the file's, which a
 * decoder may have moved to the segment start after a seek; else the
 * buffer's. */
static GstClockTime
frame_pts (OpAnnotFilter * self, GstBuffer * buf, guint64 index)
{
  GstClockTime pts = GST_CLOCK_TIME_NONE;

  if (self->clock.index)
    pts = op_frame_clock_pts_of (&self->clock, index);
  return GST_CLOCK_TIME_IS_VALID (pts) ? pts : GST_BUFFER_PTS (buf);
}

static void
add_empty_meta (OpAnnotFilter * self, GstBuffer * buf, guint64 index)
{
  OpAnnotation ann;
  OpAnnotationMeta *meta;

  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, op_target_list_skeleton (self->targets));
  ann.frame_index = index;
  meta = op_buffer_add_annotation_meta (buf, &ann);
  op_annotation_clear (&ann);
  op_annotation_set_source (&meta->ann, self->source);
  meta->ann.pts = frame_pts (self, buf, index);
  meta->ann.width = meta->ann.source_width = self->width;
  meta->ann.height = meta->ann.source_height = self->height;
}

static GstFlowReturn
op_annot_filter_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (trans);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime dur = GST_BUFFER_DURATION (buf);
  gint64 previous = self->clock.last_index;
  gboolean jumped = self->clock.expect_jump;
  OpFrameClockResult res;
  OpTarget *target, *next;
  guint64 index;

  if (!self->resolved && !resolve_video (self))
    return GST_FLOW_ERROR;
  if (G_UNLIKELY (self->eos_pushed)) {
    /* a seek of ours that raced the EOS restarted the stream: nothing
     * after the EOS goes downstream */
    GST_DEBUG_OBJECT (self, "frame at %" GST_TIME_FORMAT " after the EOS",
        GST_TIME_ARGS (pts));
    return GST_FLOW_EOS;
  }

  self->stats.seen++;
  res = op_frame_clock_locate (&self->clock, pts, &index);
  if (res != OP_FRAME_CLOCK_OK && self->ending) {
    /* after the seek to the end no target is left: whatever the decoder
     * still outputs (clipped to the segment end) carries no label */
    GST_DEBUG_OBJECT (self, "dropping a frame at %" GST_TIME_FORMAT
        " after the seek to the end", GST_TIME_ARGS (pts));
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }
  if (res != OP_FRAME_CLOCK_OK) {
    post_identity_error (self, res, pts, index, previous);
    return GST_FLOW_ERROR;
  }
  if ((gint64) index > self->max_index)
    self->max_index = (gint64) index;
  /* Our seeks are sent from another thread: on a loaded machine the stream
   * can decode past the seek's target before the flush arrives, and then
   * the seek brings those frames again. Each frame goes out once. */
  if (self->cur.mode == OP_ANNOT_FILTER_MODE_DROP
      && (gint64) index <= self->last_passed) {
    GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " was passed before "
        "the seek took effect: dropped", index);
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }
  if (jumped && previous >= 0 && index > (guint64) previous + 1)
    self->stats.skipped += index - (guint64) previous - 1;
  if (!GST_CLOCK_TIME_IS_VALID (dur))
    dur = op_frame_clock_frame_span (&self->clock, index);

  target = op_target_list_find (self->targets, index);
  if (target) {
    OpAnnotationMeta *meta;
    OpAnnotation ann;

    target->reached = TRUE;
    if (self->cur.mode == OP_ANNOT_FILTER_MODE_DROP)
      fill_gap_until (self, pts);
    op_annotation_init (&ann);
    meta = op_buffer_add_annotation_meta (buf, &ann);
    op_annotation_clear (&ann);
    /* the labels' instances go straight into the meta: one copy */
    op_target_list_fill (self->targets, target, &meta->ann);
    op_annotation_set_source (&meta->ann, self->source);
    meta->ann.pts = frame_pts (self, buf, index);
    meta->ann.width = self->width;
    meta->ann.height = self->height;
    meta->ann.source_width = self->width;
    meta->ann.source_height = self->height;
    self->stats.passed++;
    self->stats.instances += target->n;
    if (self->discont) {
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      self->discont = FALSE;
    }
    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (dur))
      self->out_end = pts + dur;
    if (self->cur.mode == OP_ANNOT_FILTER_MODE_DROP)
      self->last_passed = (gint64) index;
    GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %u instances", index,
        target->n);
    return GST_FLOW_OK;
  }

  if (self->cur.mode == OP_ANNOT_FILTER_MODE_TAG) {
    add_empty_meta (self, buf, index);
    return GST_FLOW_OK;
  }

  /* drop mode: decide whether the stretch ahead is worth skipping */
  if (self->cur.skip) {
    guint64 total = frames_in_stream (self);
    next = op_target_list_next (self->targets, index + 1);
    if (next && total > 0 && next->frame_index >= total)
      next = NULL;              /* beyond the end: reported at EOS */
    if (next == NULL)
      skip_to_end (self, index);
    if (next && op_frame_clock_is_timed (&self->clock)
        && next->frame_index - index > skip_threshold (self)
        && next->frame_index != self->last_seek_target)
      seek_to_frame (self, next->frame_index);
  }

  fill_gap_until (self, pts);
  push_gap (self, pts, dur);
  self->discont = TRUE;
  return GST_BASE_TRANSFORM_FLOW_DROPPED;
}

/* ------------------------------------------------------------ properties */

static void
op_annot_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->settings.location);
      self->settings.location = g_value_dup_string (value);
      break;
    case PROP_VIDEO_INDEX:
      self->settings.video_index = g_value_get_int (value);
      break;
    case PROP_INSTANCES:
      self->settings.instances = g_value_get_enum (value);
      break;
    case PROP_MIN_KEYPOINTS:
      self->settings.min_keypoints = g_value_get_uint (value);
      break;
    case PROP_MODE:
      self->settings.mode = g_value_get_enum (value);
      break;
    case PROP_SKIP:
      self->settings.skip = g_value_get_boolean (value);
      break;
    case PROP_SKIP_MIN_FRAMES:
      self->settings.skip_min_frames = g_value_get_uint (value);
      break;
    case PROP_SOURCE:
      g_free (self->settings.source_name);
      self->settings.source_name = g_value_dup_string (value);
      break;
    case PROP_NODE_MAP:
      g_free (self->settings.node_map);
      self->settings.node_map = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_annot_filter_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  OpAnnotFilter *self = OP_ANNOT_FILTER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->settings.location);
      break;
    case PROP_VIDEO_INDEX:
      g_value_set_int (value, self->settings.video_index);
      break;
    case PROP_INSTANCES:
      g_value_set_enum (value, self->settings.instances);
      break;
    case PROP_MIN_KEYPOINTS:
      g_value_set_uint (value, self->settings.min_keypoints);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->settings.mode);
      break;
    case PROP_SKIP:
      g_value_set_boolean (value, self->settings.skip);
      break;
    case PROP_SKIP_MIN_FRAMES:
      g_value_set_uint (value, self->settings.skip_min_frames);
      break;
    case PROP_SOURCE:
      g_value_set_string (value, self->settings.source_name);
      break;
    case PROP_NODE_MAP:
      g_value_set_string (value, self->settings.node_map);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
