/* onepass: annotoverlay element.
 * Copyright (C) 2026 onepass contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-annotoverlay
 * @title: annotoverlay
 * @see_also: annotfilter, cropextract
 *
 * Draws the annotation of each frame or crop onto its pixels, in place:
 * every instance's box, skeleton edges and keypoints, for looking at a
 * dataset or a review video.
 *
 * The annotation is the buffer's #OpCropMeta when it has one (a crop from
 * cropextract: the instance in crop coordinates), else its
 * #OpAnnotationMeta (a frame from annotfilter). Its image size must be the
 * frame's (a rescaled meta is, after videoscale); otherwise the element
 * posts a STREAM FORMAT error rather than draw the labels in the wrong
 * place. Buffers without a meta, or whose meta has no instance, pass
 * through untouched and uncopied. QoS is off: no frame is ever dropped.
 *
 * Coordinates are pixel centres at integers: a keypoint at (10, 20) is
 * drawn centred on pixel column 10, row 20. A point is every pixel within
 * `point-radius` of it plus the pixel holding it (the nearest centre); a line (edge or box side) every pixel within
 * `line-width` / 2 of the segment; a box [x, y, w, h] has its sides
 * through x, x + w, y and y + h. Only a box the annotation holds is drawn
 * (none is made up from the keypoints). Missing keypoints (NaN) are not
 * drawn, nor the edges that touch them. Order: boxes, edges, points.
 *
 * Styles by kind: user instances have a solid box and filled points;
 * predicted ones a dashed box (dashes of 4 line widths, gaps of 3) and
 * hollow points (the pixels more than one pixel inside the radius and the
 * keypoint's own pixel are left out: that pixel keeps the image unless an
 * edge crosses it); detections only
 * the box's corners (a quarter of the shorter side) and hollow points.
 *
 * Colours: `color-by=track` (default) gives each track one colour of a
 * ten-colour palette (track i takes entry i modulo 10: stable over the
 * video, distinct for up to ten tracks), untracked instances are white;
 * `color-by=node` colours keypoints by node and edges by their source
 * node, boxes keep the track colour. In YUV the colour is converted with
 * the caps' matrix and range (BT.601 limited when unset); on 4:2:0 formats
 * a drawn pixel also sets the chroma sample it shares with its 2x2
 * neighbours. GRAY8 gets the colour's full-range luma. Alpha is set opaque.
 *
 * Text (`text` other than none): one label per instance in its track
 * colour, drawn last, with a built-in 11 x 13 bitmap font (OpenCV's
 * Hershey plain at scale 0.8; printable ASCII, any other byte shows as
 * '?'; no font library). The label's left edge is the column of the box's
 * (or, without a box, the present keypoints') left side, its baseline 3
 * rows above the top side, so the whole 13-row cell sits above it; when
 * that cell would start above the image, the label goes below the bottom
 * side instead (cell top 2 rows under it). The track label is the track
 * name, else `track N`, nothing for an untracked instance without a name;
 * the score label is the score with two decimals, nothing without one.
 *
 * Allocation: the frames go on in place, so the ALLOCATION query goes to
 * downstream and its answer (GstVideoMeta included, when downstream takes
 * it) is what upstream gets; the element itself maps frames with their
 * video meta.
 *
 * Formats: the 8-bit ones of gst/pixel (RGB family, AYUV, GRAY8, I420,
 * YV12, NV12, NV21, Y42B, Y444); strides from a #GstVideoMeta are
 * honoured. Every property may change while playing (read per buffer).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp mode=tag ! annotoverlay point-radius=2 ! \
 *   videoconvert ! x264enc ! mp4mux ! filesink location=review.mp4
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <onepass/opmeta.h>
#include "gstannotoverlay.h"
#include "ovcanvas.h"
#include "oppixel.h"
#include "ovfont.h"
#include "ovpalette.h"

GST_DEBUG_CATEGORY_STATIC (op_annot_overlay_debug);
#define GST_CAT_DEFAULT op_annot_overlay_debug

#define DEFAULT_LINE_WIDTH 1
#define DEFAULT_POINT_RADIUS 3
#define DEFAULT_COLOR_BY OP_ANNOT_OVERLAY_COLOR_BY_TRACK
#define DEFAULT_TEXT OP_ANNOT_OVERLAY_TEXT_NONE

enum
{
  PROP_0,
  PROP_LINE_WIDTH,
  PROP_POINT_RADIUS,
  PROP_COLOR_BY,
  PROP_TEXT,
};

/* The properties (no strings: a copy is a struct assignment). */
typedef struct
{
  guint line_width;
  guint point_radius;
  OpAnnotOverlayColorBy color_by;
  OpAnnotOverlayText text;
} OpAnnotOverlaySettings;

struct _OpAnnotOverlay
{
  GstVideoFilter parent;

  /* properties, under the object lock; copied per buffer */
  OpAnnotOverlaySettings settings;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OP_PIXEL_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OP_PIXEL_FORMATS)));

GType
op_annot_overlay_color_by_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_ANNOT_OVERLAY_COLOR_BY_TRACK, "One colour per track", "track"},
    {OP_ANNOT_OVERLAY_COLOR_BY_NODE, "One colour per skeleton node", "node"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpAnnotOverlayColorBy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
op_annot_overlay_text_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_ANNOT_OVERLAY_TEXT_NONE, "No text", "none"},
    {OP_ANNOT_OVERLAY_TEXT_TRACK, "Track name (or track N)", "track"},
    {OP_ANNOT_OVERLAY_TEXT_SCORE, "Instance score", "score"},
    {OP_ANNOT_OVERLAY_TEXT_BOTH, "Track name and score", "both"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpAnnotOverlayText", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

G_DEFINE_TYPE_WITH_CODE (OpAnnotOverlay, op_annot_overlay,
    GST_TYPE_VIDEO_FILTER,
    GST_DEBUG_CATEGORY_INIT (op_annot_overlay_debug, "annotoverlay", 0,
        "draws annotations onto video"));
GST_ELEMENT_REGISTER_DEFINE (annotoverlay, "annotoverlay", GST_RANK_NONE,
    OP_TYPE_ANNOT_OVERLAY);

static void op_annot_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_annot_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstFlowReturn op_annot_overlay_prepare_output_buffer (GstBaseTransform *
    trans, GstBuffer * input, GstBuffer ** outbuf);
static GstFlowReturn op_annot_overlay_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static GstFlowReturn op_annot_overlay_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);

static void
op_annot_overlay_class_init (OpAnnotOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = op_annot_overlay_set_property;
  gobject_class->get_property = op_annot_overlay_get_property;

  /**
   * OpAnnotOverlay:line-width:
   *
   * Width of skeleton edges and box sides in pixels (1-32).
   */
  g_object_class_install_property (gobject_class, PROP_LINE_WIDTH,
      g_param_spec_uint ("line-width", "Line width",
          "Width of skeleton edges and box sides in pixels", 1, 32,
          DEFAULT_LINE_WIDTH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpAnnotOverlay:point-radius:
   *
   * Keypoint radius in pixels (0-32); 0 draws the one pixel at the keypoint.
   * Missing points (NaN) are not drawn.
   */
  g_object_class_install_property (gobject_class, PROP_POINT_RADIUS,
      g_param_spec_uint ("point-radius", "Point radius",
          "Keypoint radius in pixels (0: the keypoint's pixel only)", 0, 32,
          DEFAULT_POINT_RADIUS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpAnnotOverlay:color-by:
   *
   * `track`: one colour per track (a ten-colour palette, track i takes
   * entry i modulo 10; untracked instances grey); `node`: keypoints by
   * node, edges by their source node, boxes keep the track colour.
   */
  g_object_class_install_property (gobject_class, PROP_COLOR_BY,
      g_param_spec_enum ("color-by", "Colour by",
          "One colour per track or per skeleton node",
          OP_TYPE_ANNOT_OVERLAY_COLOR_BY, DEFAULT_COLOR_BY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * OpAnnotOverlay:text:
   *
   * The label drawn above each instance's box (below it at the top of the
   * image): `none`, the `track` name, the `score`, or `both`, in the track
   * colour with a built-in bitmap font.
   */
  g_object_class_install_property (gobject_class, PROP_TEXT,
      g_param_spec_enum ("text", "Text",
          "Label drawn above each instance", OP_TYPE_ANNOT_OVERLAY_TEXT,
          DEFAULT_TEXT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "Annotation overlay", "Filter/Effect/Video",
      "Draws boxes, keypoints and skeleton edges of the annotation metas "
      "onto the video", "onepass contributors");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (op_annot_overlay_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (op_annot_overlay_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (op_annot_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (OP_TYPE_ANNOT_OVERLAY_COLOR_BY, 0);
  gst_type_mark_as_plugin_api (OP_TYPE_ANNOT_OVERLAY_TEXT, 0);
}

static void
op_annot_overlay_init (OpAnnotOverlay * self)
{
  self->settings.line_width = DEFAULT_LINE_WIDTH;
  self->settings.point_radius = DEFAULT_POINT_RADIUS;
  self->settings.color_by = DEFAULT_COLOR_BY;
  self->settings.text = DEFAULT_TEXT;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* a dataset or review stream must not lose frames to a late clock */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}

/* The annotation to draw: a crop's own (crop coordinates) before the frame
 * one, NULL when there is nothing to draw. */
static const OpAnnotation *
drawable_annotation (GstBuffer * buf)
{
  const OpAnnotation *ann = op_buffer_get_annotation (buf);

  if (ann == NULL || op_annotation_n_instances (ann) == 0)
    return NULL;
  return ann;
}

/* Buffers with nothing to draw go on as they are: no copy of a buffer
 * another branch holds, no mapping. */
static GstFlowReturn
op_annot_overlay_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * input, GstBuffer ** outbuf)
{
  if (drawable_annotation (input) == NULL) {
    *outbuf = input;
    return GST_FLOW_OK;
  }
  return
      GST_BASE_TRANSFORM_CLASS
      (op_annot_overlay_parent_class)->prepare_output_buffer (trans, input,
      outbuf);
}

static GstFlowReturn
op_annot_overlay_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  if (drawable_annotation (buf) == NULL)
    return GST_FLOW_OK;
  return
      GST_BASE_TRANSFORM_CLASS (op_annot_overlay_parent_class)->transform_ip
      (trans, buf);
}

static const guint8 *
track_color (const OpInstance * inst)
{
  return inst->track >= 0 ? op_ov_palette_color (inst->track) :
      op_ov_untracked_color ();
}

static void
draw_instance (OpOvCanvas * canvas, const OpInstance * inst,
    const OpSkeleton * skeleton, gdouble line_width, gdouble radius,
    OpAnnotOverlayColorBy color_by)
{
  gboolean filled = inst->kind == OP_INSTANCE_USER;
  guint e, k;

  op_ov_canvas_set_rgb (canvas, track_color (inst));
  if (inst->has_bbox)
    op_ov_draw_box (canvas, inst->bbox, line_width,
        inst->kind == OP_INSTANCE_USER ? OP_OV_STROKE_SOLID :
        inst->kind == OP_INSTANCE_PREDICTED ? OP_OV_STROKE_DASHED :
        OP_OV_STROKE_CORNERS);

  for (e = 0; skeleton != NULL && e < skeleton->n_edges; e++) {
    guint s = skeleton->edges[2 * e], d = skeleton->edges[2 * e + 1];
    const OpKeypoint *a, *b;

    if (s >= inst->n_keypoints || d >= inst->n_keypoints)
      continue;
    a = &inst->keypoints[s];
    b = &inst->keypoints[d];
    if (!op_keypoint_is_present (a) || !op_keypoint_is_present (b))
      continue;
    if (color_by == OP_ANNOT_OVERLAY_COLOR_BY_NODE)
      op_ov_canvas_set_rgb (canvas, op_ov_palette_color (s));
    op_ov_draw_segment (canvas, a->x, a->y, b->x, b->y, line_width);
  }

  for (k = 0; k < inst->n_keypoints; k++) {
    const OpKeypoint *p = &inst->keypoints[k];

    if (!op_keypoint_is_present (p))
      continue;
    if (color_by == OP_ANNOT_OVERLAY_COLOR_BY_NODE)
      op_ov_canvas_set_rgb (canvas, op_ov_palette_color (k));
    op_ov_draw_point (canvas, p->x, p->y, radius, filled);
  }
}

/* The label of @inst for @text, or NULL when it has nothing to say. */
static gchar *
label_text (const OpInstance * inst, OpAnnotOverlayText text)
{
  GString *s = g_string_new (NULL);

  if (text == OP_ANNOT_OVERLAY_TEXT_TRACK || text == OP_ANNOT_OVERLAY_TEXT_BOTH) {
    if (inst->track_name && *inst->track_name)
      g_string_append (s, inst->track_name);
    else if (inst->track >= 0)
      g_string_append_printf (s, "track %d", inst->track);
  }
  if ((text == OP_ANNOT_OVERLAY_TEXT_SCORE
          || text == OP_ANNOT_OVERLAY_TEXT_BOTH)
      && !isnan (inst->score))
    g_string_append_printf (s, "%s%.2f", s->len ? " " : "", inst->score);
  if (s->len == 0) {
    g_string_free (s, TRUE);
    return NULL;
  }
  return g_string_free (s, FALSE);
}

/* Above the box (or the keypoints' bounds), below it when the label would
 * leave the top of the image. */
static void
draw_label (OpOvCanvas * canvas, const OpInstance * inst,
    OpAnnotOverlayText text)
{
  gdouble b[4];
  gchar *label;
  gint left, baseline;

  if (inst->has_bbox)
    memcpy (b, inst->bbox, sizeof (b));
  else if (!op_instance_bounds (inst, b))
    return;
  label = label_text (inst, text);
  if (label == NULL)
    return;
  left = (gint) floor (b[0] + 0.5);
  baseline = (gint) floor (b[1] + 0.5) - 3;
  if (baseline - OP_OV_FONT_BASELINE < 0)
    baseline = (gint) floor (b[1] + b[3] + 0.5) + 2 + OP_OV_FONT_BASELINE;
  op_ov_canvas_set_rgb (canvas, track_color (inst));
  op_ov_draw_text (canvas, left, baseline, label);
  g_free (label);
}

static GstFlowReturn
op_annot_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  OpAnnotOverlay *self = OP_ANNOT_OVERLAY (filter);
  const OpAnnotation *ann = drawable_annotation (frame->buffer);
  guint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  OpAnnotOverlaySettings cur;
  guint aw, ah, i;
  OpOvCanvas canvas;

  if (ann == NULL)
    return GST_FLOW_OK;
  aw = ann->has_crop ? ann->crop.width : ann->width;
  ah = ann->has_crop ? ann->crop.height : ann->height;
  if (aw != w || ah != h) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The annotation of %s frame %" G_GUINT64_FORMAT " is for a %ux%u "
            "image but the %s is %ux%u: an element upstream changed the "
            "image without its metas.", ann->source ? ann->source : "(none)",
            ann->frame_index, aw, ah, ann->has_crop ? "crop" : "frame", w, h),
        (NULL));
    return GST_FLOW_ERROR;
  }

  GST_OBJECT_LOCK (self);
  cur = self->settings;
  GST_OBJECT_UNLOCK (self);

  GST_LOG_OBJECT (self, "drawing %u instances of frame %" G_GUINT64_FORMAT,
      op_annotation_n_instances (ann), ann->frame_index);
  op_ov_canvas_init (&canvas, frame);
  for (i = 0; i < op_annotation_n_instances (ann); i++)
    draw_instance (&canvas, op_annotation_get_instance (ann, i),
        ann->skeleton, cur.line_width, cur.point_radius, cur.color_by);
  /* labels last: on top of every instance's drawing */
  for (i = 0; cur.text != OP_ANNOT_OVERLAY_TEXT_NONE &&
      i < op_annotation_n_instances (ann); i++)
    draw_label (&canvas, op_annotation_get_instance (ann, i), cur.text);
  return GST_FLOW_OK;
}

static void
op_annot_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpAnnotOverlay *self = OP_ANNOT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINE_WIDTH:
      self->settings.line_width = g_value_get_uint (value);
      break;
    case PROP_POINT_RADIUS:
      self->settings.point_radius = g_value_get_uint (value);
      break;
    case PROP_COLOR_BY:
      self->settings.color_by = g_value_get_enum (value);
      break;
    case PROP_TEXT:
      self->settings.text = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_annot_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  OpAnnotOverlay *self = OP_ANNOT_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINE_WIDTH:
      g_value_set_uint (value, self->settings.line_width);
      break;
    case PROP_POINT_RADIUS:
      g_value_set_uint (value, self->settings.point_radius);
      break;
    case PROP_COLOR_BY:
      g_value_set_enum (value, self->settings.color_by);
      break;
    case PROP_TEXT:
      g_value_set_enum (value, self->settings.text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
