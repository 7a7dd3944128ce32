/* cropextract: one crop per annotated instance.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-cropextract
 * @title: cropextract
 * @see_also: annotfilter, compositor328, batchsink
 *
 * Cuts every counted instance of an annotated frame out of the frame in
 * memory and pushes it downstream as an ordinary raw video buffer of
 * #OpCropExtract:width x #OpCropExtract:height pixels in the input's format
 * (no colour conversion).
 *
 * Input frames carry an #OpAnnotationMeta (added by annotfilter) whose
 * instances are the counted ones, keypoints in frame coordinates. For
 * instance i, in order, one buffer is pushed with the input's PTS and
 * duration (DTS none) and two metas:
 *
 * - an #OpCropMeta: has_crop TRUE, crop = {instance i, rect = the integer
 *   frame rectangle [x, y, w, h] that maps onto the whole crop (it may pass
 *   the frame edge), crop width and height}, width/height = the frame's
 *   size, source, frame index, pts and skeleton of the frame, and the one
 *   instance with keypoints and bbox mapped to crop coordinates by the
 *   design's formula ((x + 0.5 - rect.x) * W / rect.w - 0.5, ...); missing
 *   points stay NaN;
 * - an #OpAnnotationMeta holding the same single instance with width and
 *   height = the crop size, so elements that treat crops as frames see
 *   consistent coordinates.
 *
 * Frames without an annotation meta or without instances produce a GAP
 * event (PTS, duration) instead of buffers, so aggregators downstream never
 * stall. Output caps are the input caps with the crop size and
 * framerate=0/1 (N crops per frame).
 *
 * Crop pixels whose centre falls outside the frame are set to
 * #OpCropExtract:fill; the frame is never read out of bounds. Scaling is
 * bilinear (fixed-point weights, within 1 of exact; 1:1 copies are
 * exact). Planar and
 * semi-planar YUV formats are cut plane by plane with the chroma rectangle
 * at half the luma coordinates (chroma sited at the centre of its 2x2
 * block).
 *
 * Bad input never crashes: an instance without a usable box (no bbox with
 * box=bbox, no present keypoint, NaN or infinite coordinates) is skipped
 * with a warning message (posted once per stream, each one logged); when
 * all instances of a frame are skipped the frame gives a GAP event. A
 * stream in which no frame carried an annotation meta gets a warning at
 * EOS. Crop sizes are 1..8192 (the property ranges).
 *
 * No signals and no element messages of its own; warnings and errors go
 * through the usual GST_MESSAGE_WARNING / GST_MESSAGE_ERROR.
 *
 * Rounding (docs/cropextract.md): boxes use point coordinates (pixel
 * centres at integers) and are moved to edge coordinates (+0.5); edges and
 * positions round with floor (v + 0.5), fit sizes round up.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp instances=predicted ! \
 *   cropextract width=328 height=328 mode=fit padding=0.1 ! \
 *   videoconvert ! pngenc ! multifilesink location=crop-%05d.png
 * ]|
 * Centred-instance crops around the thorax, no scaling:
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp ! \
 *   cropextract mode=center anchor-node=thorax width=192 height=192 ! \
 *   fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcropextract.h"

#include <string.h>
#include <gst/video/video.h>
#include <onepass/opmeta.h>

#include "cropbox.h"
#include "cropscale.h"
#include "oppixel.h"

GST_DEBUG_CATEGORY_STATIC (op_crop_extract_debug);
#define GST_CAT_DEFAULT op_crop_extract_debug

#define OP_CROP_EXTRACT_MAX_SIZE 8192

#define DEFAULT_WIDTH 328
#define DEFAULT_HEIGHT 328
#define DEFAULT_MODE OP_CROP_EXTRACT_MODE_FIT
#define DEFAULT_PADDING 0.1
#define DEFAULT_BOX OP_CROP_EXTRACT_BOX_AUTO
#define DEFAULT_ANCHOR_NODE NULL
#define DEFAULT_FILL 0xff000000

enum
{
  PROP_0,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_MODE,
  PROP_PADDING,
  PROP_BOX,
  PROP_ANCHOR_NODE,
  PROP_FILL,
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format = (string) " OP_PIXEL_FORMATS ", "
        "width = (int) [ 1, 8192 ], height = (int) [ 1, 8192 ], "
        "framerate = (fraction) 0/1"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OP_PIXEL_FORMATS)));

/* The properties, as set (under the object lock) and as the streaming
 * thread uses them (a copy taken in start ()). */
typedef struct
{
  gint width, height;
  OpCropExtractMode mode;
  gdouble padding;
  OpCropExtractBox box;
  gchar *anchor_node;
  guint fill;
} OpCropExtractSettings;

struct _OpCropExtract
{
  GstBaseTransform parent;

  /* properties (OBJECT_LOCK) */
  OpCropExtractSettings settings;
  /* copied in start () for the streaming thread */
  OpCropExtractSettings cur;

  /* negotiated (STREAM lock) */
  GstVideoInfo in_info, out_info;
  OpCropScaler *scaler;
  guint8 fill_px[GST_VIDEO_MAX_PLANES][4];

  /* streaming state (STREAM lock) */
  GstBuffer *inbuf;             /* frame being cut */
  guint next;                   /* next instance of inbuf */
  guint pushed;                 /* crops pushed from inbuf */
  const OpSkeleton *anchor_skeleton;    /* skeleton anchor_index is for */
  gint anchor_index;
  OpAnnotation scratch;         /* reused per crop */
  guint64 frames, frames_with_meta;
  gboolean warned_box, warned_anchor;
  gboolean warned_format;       /* upstream offered only formats we lack */
};

static GType
op_crop_extract_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_CROP_EXTRACT_MODE_FIT, "Grow the padded box to the crop's aspect "
          "and scale uniformly", "fit"},
    {OP_CROP_EXTRACT_MODE_STRETCH, "Scale the padded box, aspect not kept",
        "stretch"},
    {OP_CROP_EXTRACT_MODE_CENTER, "Fixed window on the box centre or the "
          "anchor node, no scaling", "center"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpCropExtractMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
op_crop_extract_box_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_CROP_EXTRACT_BOX_AUTO, "Instance bbox, else keypoint bounds", "auto"},
    {OP_CROP_EXTRACT_BOX_KEYPOINTS, "Bounds of the present keypoints",
        "keypoints"},
    {OP_CROP_EXTRACT_BOX_BBOX, "Instance bbox only", "bbox"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpCropExtractBox", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define op_crop_extract_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (OpCropExtract, op_crop_extract,
    GST_TYPE_BASE_TRANSFORM,
    GST_DEBUG_CATEGORY_INIT (op_crop_extract_debug, "cropextract", 0,
        "one crop per annotated instance"));
GST_ELEMENT_REGISTER_DEFINE (cropextract, "cropextract", GST_RANK_NONE,
    OP_TYPE_CROP_EXTRACT);

static void op_crop_extract_finalize (GObject * object);
static void op_crop_extract_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_crop_extract_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_crop_extract_start (GstBaseTransform * trans);
static gboolean op_crop_extract_stop (GstBaseTransform * trans);
static GstCaps *op_crop_extract_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean op_crop_extract_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean op_crop_extract_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query);
static gboolean op_crop_extract_decide_allocation (GstBaseTransform * trans,
    GstQuery * query);
static GstFlowReturn op_crop_extract_generate_output (GstBaseTransform *
    trans, GstBuffer ** outbuf);
static gboolean op_crop_extract_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn op_crop_extract_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static gboolean op_crop_extract_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps);
static gboolean op_crop_extract_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);

static void
op_crop_extract_class_init (OpCropExtractClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = op_crop_extract_set_property;
  gobject_class->get_property = op_crop_extract_get_property;
  gobject_class->finalize = op_crop_extract_finalize;

  /**
   * OpCropExtract:width:
   *
   * Crop width in pixels, 1..8192.
   */
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Width", "Crop width in pixels",
          1, OP_CROP_EXTRACT_MAX_SIZE, DEFAULT_WIDTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:height:
   *
   * Crop height in pixels, 1..8192.
   */
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Height", "Crop height in pixels",
          1, OP_CROP_EXTRACT_MAX_SIZE, DEFAULT_HEIGHT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:mode:
   *
   * How the instance box becomes the cut rectangle: `fit` grows the padded
   * box along its shorter side, around its centre, to the crop's aspect and
   * scales uniformly (a letterbox appears only where the rect passes the
   * frame edge); `stretch` scales the padded box to the crop, aspect not
   * kept; `center` copies a fixed width x height window centred on the box
   * centre, or on #OpCropExtract:anchor-node when that keypoint is present,
   * without scaling (SLEAP's centred-instance crops).
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "How the box maps onto the crop",
          op_crop_extract_mode_get_type (), DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:padding:
   *
   * Fraction of the box width (height) added left and right (top and
   * bottom); ignored in center mode.
   */
  g_object_class_install_property (gobject_class, PROP_PADDING,
      g_param_spec_double ("padding", "Padding",
          "Fraction of the box size added on each side", 0.0, 100.0,
          DEFAULT_PADDING, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:box:
   *
   * Which box of the instance is cut: `bbox`, the box of its present
   * `keypoints`, or `auto` (the bbox when the instance has one).
   */
  g_object_class_install_property (gobject_class, PROP_BOX,
      g_param_spec_enum ("box", "Box", "Which box of the instance is cut",
          op_crop_extract_box_get_type (), DEFAULT_BOX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:anchor-node:
   *
   * Skeleton node to centre on in center mode; when that keypoint is
   * missing the box centre is used, and a name the skeleton lacks gives a
   * warning.
   */
  g_object_class_install_property (gobject_class, PROP_ANCHOR_NODE,
      g_param_spec_string ("anchor-node", "Anchor node",
          "Node to centre on in center mode (none = box centre)",
          DEFAULT_ANCHOR_NODE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpCropExtract:fill:
   *
   * ARGB colour (0xAARRGGBB) of crop pixels outside the frame, converted to
   * YUV with the caps' matrix and range (BT.601 when the caps do not say),
   * to full-range luma for GRAY8.
   */
  g_object_class_install_property (gobject_class, PROP_FILL,
      g_param_spec_uint ("fill", "Fill", "ARGB colour outside the frame",
          0, G_MAXUINT32, DEFAULT_FILL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Crop extractor",
      "Filter/Converter/Video/Scaler",
      "One crop per annotated instance, keypoints in crop coordinates",
      "onepass");

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->start = GST_DEBUG_FUNCPTR (op_crop_extract_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (op_crop_extract_stop);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (op_crop_extract_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (op_crop_extract_set_caps);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (op_crop_extract_propose_allocation);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (op_crop_extract_decide_allocation);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (op_crop_extract_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (op_crop_extract_sink_event);
  /* never called (generate_output makes the buffers), but without it the
   * base class treats us as in-place and skips the ALLOCATION query */
  trans_class->transform = GST_DEBUG_FUNCPTR (op_crop_extract_transform);
  trans_class->accept_caps = GST_DEBUG_FUNCPTR (op_crop_extract_accept_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (op_crop_extract_query);

  gst_type_mark_as_plugin_api (op_crop_extract_mode_get_type (), 0);
  gst_type_mark_as_plugin_api (op_crop_extract_box_get_type (), 0);
}

static void
settings_clear (OpCropExtractSettings * s)
{
  g_clear_pointer (&s->anchor_node, g_free);
}

static void
settings_copy (OpCropExtractSettings * dst, const OpCropExtractSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->anchor_node = g_strdup (src->anchor_node);
}

static void
op_crop_extract_init (OpCropExtract * self)
{
  self->settings.width = DEFAULT_WIDTH;
  self->settings.height = DEFAULT_HEIGHT;
  self->settings.mode = DEFAULT_MODE;
  self->settings.padding = DEFAULT_PADDING;
  self->settings.box = DEFAULT_BOX;
  self->settings.anchor_node = g_strdup (DEFAULT_ANCHOR_NODE);
  self->settings.fill = DEFAULT_FILL;
  self->anchor_index = -1;
}

static void
op_crop_extract_finalize (GObject * object)
{
  OpCropExtract *self = OP_CROP_EXTRACT (object);

  settings_clear (&self->settings);
  settings_clear (&self->cur);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
release_input (OpCropExtract * self)
{
  gst_buffer_replace (&self->inbuf, NULL);
  self->next = self->pushed = 0;
}

static gboolean
op_crop_extract_start (GstBaseTransform * trans)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  gint w, h;

  GST_OBJECT_LOCK (self);
  settings_copy (&self->cur, &self->settings);
  GST_OBJECT_UNLOCK (self);
  w = self->cur.width;
  h = self->cur.height;

  if (w < 1 || h < 1 || w > OP_CROP_EXTRACT_MAX_SIZE
      || h > OP_CROP_EXTRACT_MAX_SIZE)
    goto bad_size;

  op_annotation_init (&self->scratch);
  self->anchor_skeleton = NULL;
  self->anchor_index = -1;
  self->frames = self->frames_with_meta = 0;
  self->warned_box = self->warned_anchor = FALSE;
  self->warned_format = FALSE;
  return TRUE;

  /* ERRORS */
bad_size:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid crop size %dx%d: width and height must be 1..%d.", w, h,
            OP_CROP_EXTRACT_MAX_SIZE), (NULL));
    return FALSE;
  }
}

static gboolean
op_crop_extract_stop (GstBaseTransform * trans)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);

  release_input (self);
  g_clear_pointer (&self->scaler, op_crop_scaler_free);
  if (self->scratch.instances)
    op_annotation_clear (&self->scratch);
  self->anchor_skeleton = NULL;
  return TRUE;
}

static gboolean
size_fits (const GstStructure * s, const gchar * field, gint size)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValue want = G_VALUE_INIT;
  gboolean ok;

  if (v == NULL)
    return TRUE;
  g_value_init (&want, G_TYPE_INT);
  g_value_set_int (&want, size);
  /* can_intersect only compares types; intersect looks at the values */
  ok = gst_value_intersect (NULL, v, &want);
  g_value_unset (&want);
  return ok;
}

static GstCaps *
op_crop_extract_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  GstCaps *ret = gst_caps_new_empty ();
  gint w, h;
  guint i;

  GST_OBJECT_LOCK (self);
  w = self->settings.width;
  h = self->settings.height;
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
    GstCapsFeatures *f = gst_caps_get_features (caps, i);

    if (direction == GST_PAD_SINK) {
      /* invalid sizes are refused in start (); offer nothing meanwhile */
      if (w < 1 || h < 1 || w > OP_CROP_EXTRACT_MAX_SIZE
          || h > OP_CROP_EXTRACT_MAX_SIZE) {
        gst_structure_free (s);
        continue;
      }
      gst_structure_set (s, "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
          "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
    } else {
      /* any frame size and rate can give crops of our size, if
       * downstream takes that size at all */
      if (!size_fits (s, "width", w) || !size_fits (s, "height", h)) {
        gst_structure_free (s);
        continue;
      }
      gst_structure_set (s, "width", GST_TYPE_INT_RANGE, 1, G_MAXINT,
          "height", GST_TYPE_INT_RANGE, 1, G_MAXINT, "framerate",
          GST_TYPE_FRACTION_RANGE, 0, 1, G_MAXINT, 1, NULL);
    }
    ret = gst_caps_merge_structure_full (ret, s,
        f ? gst_caps_features_copy (f) : NULL);
  }

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, ret);
  return ret;
}

static gboolean
op_crop_extract_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  guint fill;

  if (!gst_video_info_from_caps (&self->in_info, incaps)
      || !gst_video_info_from_caps (&self->out_info, outcaps))
    goto bad_caps;
  if (GST_VIDEO_INFO_FORMAT (&self->in_info) !=
      GST_VIDEO_INFO_FORMAT (&self->out_info))
    goto bad_caps;

  GST_OBJECT_LOCK (self);
  fill = self->settings.fill;
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&self->scaler, op_crop_scaler_free);
  self->scaler = op_crop_scaler_new (GST_VIDEO_INFO_WIDTH (&self->out_info),
      GST_VIDEO_INFO_HEIGHT (&self->out_info),
      GST_VIDEO_INFO_WIDTH (&self->in_info), 4);
  /* fill colour as the format's bytes, per plane */
  op_pixel_color_bytes (&self->out_info, fill, self->fill_px);
  GST_DEBUG_OBJECT (self, "cutting %s %dx%d crops from %dx%d frames",
      GST_VIDEO_INFO_NAME (&self->in_info),
      GST_VIDEO_INFO_WIDTH (&self->out_info),
      GST_VIDEO_INFO_HEIGHT (&self->out_info),
      GST_VIDEO_INFO_WIDTH (&self->in_info),
      GST_VIDEO_INFO_HEIGHT (&self->in_info));
  gst_base_transform_set_passthrough (trans, FALSE);
  return TRUE;

  /* ERRORS */
bad_caps:
  {
    GST_WARNING_OBJECT (self, "cannot crop %" GST_PTR_FORMAT " into %"
        GST_PTR_FORMAT, incaps, outcaps);
    return FALSE;
  }
}

static gboolean
op_crop_extract_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  /* we map input frames with their video meta; upstream's allocation is
   * not downstream's business (different size) */
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

static gboolean
op_crop_extract_accept_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  gboolean ok = GST_BASE_TRANSFORM_CLASS (parent_class)->accept_caps (trans,
      direction, caps);

  if (!ok && direction == GST_PAD_SINK)
    op_pixel_warn_unsupported (GST_ELEMENT (self), &sink_template, caps,
        &self->warned_format);
  return ok;
}

static gboolean
op_crop_extract_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  gboolean ok = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans,
      direction, query);

  if (ok && direction == GST_PAD_SINK)
    op_pixel_warn_unsupported_query (GST_ELEMENT (self), &sink_template, query,
        &self->warned_format);
  return ok;
}

static gboolean
op_crop_extract_decide_allocation (GstBaseTransform * trans, GstQuery * query)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  GstBufferPool *pool = NULL;
  GstStructure *config;
  GstCaps *outcaps;
  guint size, min = 0, max = 0;

  gst_query_parse_allocation (query, &outcaps, NULL);
  size = GST_VIDEO_INFO_SIZE (&self->out_info);
  if (gst_query_get_n_allocation_pools (query) > 0) {
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
    size = MAX (size, GST_VIDEO_INFO_SIZE (&self->out_info));
  }
  if (pool == NULL)
    pool = gst_video_buffer_pool_new ();

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, outcaps, size, min, max);
  if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (pool, config)) {
    config = gst_buffer_pool_get_config (pool);
    if (!gst_buffer_pool_config_validate_params (config, outcaps, size, min,
            max)) {
      gst_structure_free (config);
      gst_object_unref (pool);
      GST_WARNING_OBJECT (self, "downstream pool refuses %" GST_PTR_FORMAT,
          outcaps);
      return FALSE;
    }
    if (!gst_buffer_pool_set_config (pool, config)) {
      gst_object_unref (pool);
      return FALSE;
    }
  }

  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool (query, pool, size, min, max);
  gst_object_unref (pool);

  return GST_BASE_TRANSFORM_CLASS (parent_class)->decide_allocation (trans,
      query);
}

/* index of the anchor node in @skeleton, resolved once per skeleton */
static gint
anchor_index (OpCropExtract * self, const OpSkeleton * skeleton)
{
  if (self->cur.anchor_node == NULL
      || self->cur.mode != OP_CROP_EXTRACT_MODE_CENTER)
    return -1;
  if (skeleton == self->anchor_skeleton)
    return self->anchor_index;
  self->anchor_skeleton = skeleton;
  self->anchor_index = skeleton ?
      op_skeleton_find_node (skeleton, self->cur.anchor_node) : -1;
  if (self->anchor_index < 0 && !self->warned_anchor) {
    self->warned_anchor = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Anchor node \"%s\" is not in the skeleton \"%s\"; centring on the "
            "box centre instead.", self->cur.anchor_node,
            skeleton ? skeleton->name : "(none)"), (NULL));
  }
  return self->anchor_index;
}

static void
attach_metas (OpCropExtract * self, GstBuffer * out, const OpAnnotation * ann,
    guint index, const gint rect[4])
{
  OpAnnotation *c = &self->scratch;
  guint w = GST_VIDEO_INFO_WIDTH (&self->out_info);
  guint h = GST_VIDEO_INFO_HEIGHT (&self->out_info);
  OpInstance inst;

  g_array_set_size (c->instances, 0);
  op_annotation_set_skeleton (c, ann->skeleton);
  op_annotation_set_source (c, ann->source);
  c->frame_index = ann->frame_index;
  c->pts = ann->pts;
  c->width = ann->width;
  c->height = ann->height;
  c->source_width = ann->source_width;
  c->source_height = ann->source_height;
  /* crops of an augmented frame are augmented samples too (their keys) */
  c->augment = ann->augment;
  c->has_crop = TRUE;
  c->crop.instance = index;
  memcpy (c->crop.rect, rect, sizeof (c->crop.rect));
  c->crop.width = w;
  c->crop.height = h;
  op_instance_copy_into (&inst, op_annotation_get_instance (ann, index));
  op_instance_frame_to_crop (&inst, rect, w, h);
  g_array_append_val (c->instances, inst);
  op_buffer_add_crop_meta (out, c);

  /* the crop seen as a frame of its own */
  c->has_crop = FALSE;
  c->width = w;
  c->height = h;
  op_buffer_add_annotation_meta (out, c);
}

static GstFlowReturn
cut (OpCropExtract * self, GstBuffer * out, const gint rect[4])
{
  GstVideoFrame in, dst;
  const GstVideoFormatInfo *finfo = self->in_info.finfo;
  guint W = GST_VIDEO_INFO_WIDTH (&self->out_info);
  guint H = GST_VIDEO_INFO_HEIGHT (&self->out_info);
  guint p, c;

  if (!gst_video_frame_map (&in, &self->in_info, self->inbuf, GST_MAP_READ))
    goto map_failed;
  if (!gst_video_frame_map (&dst, &self->out_info, out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in);
    goto map_failed;
  }

  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&in); p++) {
    OpPlaneMap map;
    guint ws, hs;

    /* a component of this plane gives its subsampling and pixel stride */
    for (c = 0; GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) != p; c++);
    ws = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    hs = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    map.sx = (gdouble) rect[2] / W;
    map.sy = (gdouble) rect[3] / H;
    map.ox = (gdouble) rect[0] / (1 << ws);
    map.oy = (gdouble) rect[1] / (1 << hs);
    op_crop_scale_plane (self->scaler, &map,
        GST_VIDEO_FRAME_PLANE_DATA (&in, p),
        GST_VIDEO_FRAME_PLANE_STRIDE (&in, p),
        GST_VIDEO_FRAME_COMP_WIDTH (&in, c),
        GST_VIDEO_FRAME_COMP_HEIGHT (&in, c),
        GST_VIDEO_FRAME_PLANE_DATA (&dst, p),
        GST_VIDEO_FRAME_PLANE_STRIDE (&dst, p),
        GST_VIDEO_FRAME_COMP_WIDTH (&dst, c),
        GST_VIDEO_FRAME_COMP_HEIGHT (&dst, c),
        GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c), self->fill_px[p]);
  }
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&in);
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map a video frame."), (NULL));
    return GST_FLOW_ERROR;
  }
}

static void
push_gap (OpCropExtract * self, GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (pts)) {
    GST_LOG_OBJECT (self, "no crops and no timestamp: nothing to send");
    return;
  }
  GST_LOG_OBJECT (self, "no crops at %" GST_TIME_FORMAT ": gap",
      GST_TIME_ARGS (pts));
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
      gst_event_new_gap (pts, GST_BUFFER_DURATION (buf)));
}

static void
warn_skipped (OpCropExtract * self, const OpAnnotation * ann, guint i,
    OpCropRectResult res)
{
  const gchar *why = res == OP_CROP_RECT_NO_BOX ?
      "it has no box of the requested kind (no bbox or no present keypoint)"
      : "its box is NaN, infinite, negative or absurdly large";

  GST_WARNING_OBJECT (self, "frame %" G_GUINT64_FORMAT " instance %u "
      "skipped: %s", ann->frame_index, i, why);
  if (!self->warned_box) {
    self->warned_box = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Instance %u of frame %" G_GUINT64_FORMAT " of \"%s\" was skipped: "
            "%s. Further skips are only logged.", i, ann->frame_index,
            ann->source, why), (NULL));
  }
}

static GstFlowReturn
op_crop_extract_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);
  OpAnnotationMeta *meta;
  const OpAnnotation *ann = NULL;
  GstBuffer *out = NULL;
  GstFlowReturn ret;
  gint rect[4];
  guint n, W, H;

  *outbuf = NULL;
  if (trans->queued_buf) {
    release_input (self);
    self->inbuf = trans->queued_buf;
    trans->queued_buf = NULL;
    self->frames++;
  }
  if (self->inbuf == NULL)
    return GST_FLOW_OK;

  meta = op_buffer_get_annotation_meta (self->inbuf);
  if (meta)
    ann = &meta->ann;
  n = meta ? op_annotation_n_instances (ann) : 0;
  if (meta && self->next == 0 && self->pushed == 0)
    self->frames_with_meta++;

  W = GST_VIDEO_INFO_WIDTH (&self->out_info);
  H = GST_VIDEO_INFO_HEIGHT (&self->out_info);
  for (; self->next < n; self->next++) {
    OpCropRectResult res = op_crop_compute_rect (op_annotation_get_instance
        (ann, self->next), self->cur.mode, self->cur.box, self->cur.padding,
        anchor_index (self, ann->skeleton), W, H, rect);

    if (res == OP_CROP_RECT_OK)
      break;
    warn_skipped (self, ann, self->next, res);
  }

  if (self->next >= n) {
    if (self->pushed == 0)
      push_gap (self, self->inbuf);
    release_input (self);
    return GST_FLOW_OK;
  }

  /* the base class takes it from the negotiated pool and copies the
   * timestamps, flags and untagged metas (never our tagged ones) */
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->prepare_output_buffer (trans,
      self->inbuf, &out);
  if (ret != GST_FLOW_OK)
    return ret;
  if (out == self->inbuf)
    goto no_pool;

  ret = cut (self, out, rect);
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (out);
    return ret;
  }
  attach_metas (self, out, ann, self->next, rect);
  GST_BUFFER_PTS (out) = GST_BUFFER_PTS (self->inbuf);
  GST_BUFFER_DTS (out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (out) = GST_BUFFER_DURATION (self->inbuf);
  if (self->pushed > 0)
    GST_BUFFER_FLAG_UNSET (out, GST_BUFFER_FLAG_DISCONT);
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " instance %u rect [%d, "
      "%d, %d, %d]", ann->frame_index, self->next, rect[0], rect[1], rect[2],
      rect[3]);
  self->next++;
  self->pushed++;
  *outbuf = out;
  return GST_FLOW_OK;

  /* ERRORS */
no_pool:
  {
    /* passthrough hands back inbuf itself, without a new ref */
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No output buffer."),
        ("the base class went passthrough"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
}

static GstFlowReturn
op_crop_extract_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  g_return_val_if_reached (GST_FLOW_ERROR);
}

static gboolean
op_crop_extract_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  OpCropExtract *self = OP_CROP_EXTRACT (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      release_input (self);
      break;
    case GST_EVENT_EOS:
      if (self->frames > 0 && self->frames_with_meta == 0)
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            ("None of the %" G_GUINT64_FORMAT " frames carried an annotation "
                "meta, so no crop was made: put annotfilter upstream.",
                self->frames), (NULL));
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static void
op_crop_extract_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpCropExtract *self = OP_CROP_EXTRACT (object);
  gboolean reconfigure = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WIDTH:
      self->settings.width = g_value_get_int (value);
      reconfigure = TRUE;
      break;
    case PROP_HEIGHT:
      self->settings.height = g_value_get_int (value);
      reconfigure = TRUE;
      break;
    case PROP_MODE:
      self->settings.mode = g_value_get_enum (value);
      break;
    case PROP_PADDING:
      self->settings.padding = g_value_get_double (value);
      break;
    case PROP_BOX:
      self->settings.box = g_value_get_enum (value);
      break;
    case PROP_ANCHOR_NODE:
      g_free (self->settings.anchor_node);
      self->settings.anchor_node = g_value_dup_string (value);
      break;
    case PROP_FILL:
      self->settings.fill = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (reconfigure)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
op_crop_extract_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  OpCropExtract *self = OP_CROP_EXTRACT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_WIDTH:
      g_value_set_int (value, self->settings.width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->settings.height);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->settings.mode);
      break;
    case PROP_PADDING:
      g_value_set_double (value, self->settings.padding);
      break;
    case PROP_BOX:
      g_value_set_enum (value, self->settings.box);
      break;
    case PROP_ANCHOR_NODE:
      g_value_set_string (value, self->settings.anchor_node);
      break;
    case PROP_FILL:
      g_value_set_uint (value, self->settings.fill);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
