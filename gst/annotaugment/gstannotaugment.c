/* onepass: annotaugment element.
 * Copyright (C) 2026 onepass contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-annotaugment
 * @title: annotaugment
 * @see_also: cropextract, annotoverlay, batchsink
 *
 * Label-correct augmentation of annotated frames or crops: for each input
 * buffer it pushes `copies` augmented versions (and first the input itself
 * with `include-original=true`). Each copy is one affine warp of the
 * pixels (flips, rotation, scale, translation, about the image centre)
 * plus a brightness/contrast change; the keypoints and boxes of the
 * buffer's #OpCropMeta and #OpAnnotationMeta go through the same matrix,
 * so they stay on the animal.
 *
 * Coordinates are the library's (pixel centres at integers, the image
 * corner at -0.5). The warp is OpenCV's `cv2.warpAffine` (bilinear,
 * constant border) with the matrix x' = M (x, y, 1): the same fixed-point
 * arithmetic, so cv2 with the same matrix gives the same pixels. Outside
 * the input is black (alpha 0, neutral chroma). The image size is kept.
 *
 * - Keypoints that leave the image become missing (NaN, not visible).
 * - A mirroring copy (one flip; two flips are a rotation) swaps the
 *   keypoints of each symmetric node pair: from the skeleton's symmetries
 *   (SLEAP files carry them), or from `symmetries`. A flip probability
 *   above 0 with a skeleton whose symmetries are unknown is a STREAM FORMAT
 *   error, never a left label on a right leg.
 * - A box becomes the bounds of its moved corners, clipped to the image;
 *   a box left with no area is removed.
 * - The annotations of copy k (1..copies) get `augment` = k, so batchsink's
 *   sample key becomes `<key>_aug<k>` and the JSON has `"augment": k`;
 *   the original keeps its key. A crop's `rect` still names the region the
 *   un-augmented crop was cut from.
 * - Determinism: copy k's draws come from a generator seeded by `seed`,
 *   the annotation's source, frame index and crop instance (the PTS for a
 *   buffer without annotation) and k: the same input gives the same
 *   outputs, whatever the order or threads.
 * - All copies keep the input's timestamps.
 *
 * Properties (set in READY or NULL):
 * - `copies` (1-1000, default 1): augmented versions per input.
 * - `include-original` (default false): also push the input, first.
 * - `seed` (guint64, default 0).
 * - `hflip`, `vflip` (0-1, default 0): probability of a horizontal
 *   (left-right) or vertical flip.
 * - `rotate` (0-180 degrees, default 0): angle uniform in [-rotate,
 *   rotate]; positive turns the picture counter-clockwise (OpenCV's
 *   getRotationMatrix2D); 180 gives any angle.
 * - `scale` (0-0.9, default 0): zoom factor uniform in [1 - scale, 1 +
 *   scale].
 * - `translate` (0-1, default 0): shift uniform in [-translate, translate]
 *   times the image width (x) and height (y).
 * - `brightness` (0-1, default 0): offset uniform in [-brightness,
 *   brightness] x 255 levels, added to R, G, B, gray or luma.
 * - `contrast` (0-1, default 0): gain uniform in [1 - contrast, 1 +
 *   contrast] about level 128.
 * - `symmetries` (string, default none): `left_ear:right_ear,...` node
 *   pairs to swap on a mirror, replacing the skeleton's own; `none` for a
 *   skeleton that has no left and right.
 *
 * Formats: RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, xRGB, xBGR,
 * GRAY8, I420, YV12, NV12, NV21 (chroma warped on its own plane); strides
 * from a #GstVideoMeta are honoured.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp ! cropextract ! videoconvert ! \
 *   video/x-raw,format=RGB ! annotaugment copies=4 hflip=0.5 rotate=180 \
 *   scale=0.1 brightness=0.1 contrast=0.2 seed=7 ! pngenc ! \
 *   batchsink location=out format=tar
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <onepass/opmeta.h>
#include "gstannotaugment.h"
#include "augmeta.h"
#include "augparams.h"
#include "augwarp.h"

GST_DEBUG_CATEGORY_STATIC (op_annot_augment_debug);
#define GST_CAT_DEFAULT op_annot_augment_debug

#define DEFAULT_COPIES 1
#define DEFAULT_INCLUDE_ORIGINAL FALSE
#define DEFAULT_SEED 0
#define DEFAULT_FLIP 0.0
#define DEFAULT_ROTATE 0.0
#define DEFAULT_JITTER 0.0
#define DEFAULT_SYMMETRIES NULL

enum
{
  PROP_0,
  PROP_COPIES,
  PROP_INCLUDE_ORIGINAL,
  PROP_SEED,
  PROP_HFLIP,
  PROP_VFLIP,
  PROP_ROTATE,
  PROP_SCALE,
  PROP_TRANSLATE,
  PROP_BRIGHTNESS,
  PROP_CONTRAST,
  PROP_SYMMETRIES,
};

typedef struct
{
  guint copies;
  gboolean include_original;
  guint64 seed;
  OpAugRanges ranges;
  gchar *symmetries;
} OpAnnotAugmentSettings;

struct _OpAnnotAugment
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  OpAnnotAugmentSettings settings;

  /* streaming thread only: the copy taken in start() */
  OpAnnotAugmentSettings cur;
  guint next;                   /* outputs already made of the queued input */
  OpSkeleton *sym_skeleton;     /* the skeleton @sym was resolved for */
  gboolean sym_resolved;
  OpAugSymmetry sym;
};

#define FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, xRGB, " \
  "xBGR, GRAY8, I420, YV12, NV12, NV21 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

G_DEFINE_TYPE_WITH_CODE (OpAnnotAugment, op_annot_augment,
    GST_TYPE_VIDEO_FILTER,
    GST_DEBUG_CATEGORY_INIT (op_annot_augment_debug, "annotaugment", 0,
        "label-correct augmentation"));
GST_ELEMENT_REGISTER_DEFINE (annotaugment, "annotaugment", GST_RANK_NONE,
    OP_TYPE_ANNOT_AUGMENT);

static void op_annot_augment_finalize (GObject * object);
static void op_annot_augment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_annot_augment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_annot_augment_start (GstBaseTransform * trans);
static gboolean op_annot_augment_stop (GstBaseTransform * trans);
static gboolean op_annot_augment_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean op_annot_augment_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query);
static GstFlowReturn op_annot_augment_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn op_annot_augment_generate_output (GstBaseTransform *
    trans, GstBuffer ** outbuf);

static void
install_double (GObjectClass * klass, guint id, const gchar * name,
    const gchar * nick, const gchar * blurb, gdouble max, gdouble def)
{
  g_object_class_install_property (klass, id,
      g_param_spec_double (name, nick, blurb, 0.0, max, def,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

static void
op_annot_augment_class_init (OpAnnotAugmentClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = op_annot_augment_finalize;
  gobject_class->set_property = op_annot_augment_set_property;
  gobject_class->get_property = op_annot_augment_get_property;

  g_object_class_install_property (gobject_class, PROP_COPIES,
      g_param_spec_uint ("copies", "Copies",
          "Augmented versions pushed per input buffer", 1, 1000,
          DEFAULT_COPIES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INCLUDE_ORIGINAL,
      g_param_spec_boolean ("include-original", "Include original",
          "Also push the input itself, before its copies",
          DEFAULT_INCLUDE_ORIGINAL, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the random draws (same seed and input, same outputs)", 0,
          G_MAXUINT64, DEFAULT_SEED, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  install_double (gobject_class, PROP_HFLIP, "hflip", "Horizontal flip",
      "Probability of a left-right flip", 1.0, DEFAULT_FLIP);
  install_double (gobject_class, PROP_VFLIP, "vflip", "Vertical flip",
      "Probability of an up-down flip", 1.0, DEFAULT_FLIP);
  install_double (gobject_class, PROP_ROTATE, "rotate", "Rotation",
      "Largest rotation in degrees (angle uniform in [-rotate, rotate], "
      "positive is counter-clockwise)", 180.0, DEFAULT_ROTATE);
  install_double (gobject_class, PROP_SCALE, "scale", "Scale jitter",
      "Zoom factor uniform in [1 - scale, 1 + scale]", 0.9, DEFAULT_JITTER);
  install_double (gobject_class, PROP_TRANSLATE, "translate",
      "Translation jitter",
      "Shift uniform in [-translate, translate] times the image size", 1.0,
      DEFAULT_JITTER);
  install_double (gobject_class, PROP_BRIGHTNESS, "brightness",
      "Brightness jitter",
      "Offset uniform in [-brightness, brightness] times 255 levels", 1.0,
      DEFAULT_JITTER);
  install_double (gobject_class, PROP_CONTRAST, "contrast", "Contrast jitter",
      "Gain about level 128 uniform in [1 - contrast, 1 + contrast]", 1.0,
      DEFAULT_JITTER);
  g_object_class_install_property (gobject_class, PROP_SYMMETRIES,
      g_param_spec_string ("symmetries", "Symmetries",
          "Node pairs swapped by a mirror, left_ear:right_ear,... (replaces "
          "the skeleton's own; none: the skeleton has no left and right)",
          DEFAULT_SYMMETRIES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata (element_class,
      "Annotation augmentation", "Filter/Effect/Video",
      "Flips, rotates, scales and colour-jitters frames or crops, moving "
      "their keypoints and boxes with the pixels", "onepass contributors");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->start = GST_DEBUG_FUNCPTR (op_annot_augment_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (op_annot_augment_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (op_annot_augment_set_caps);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (op_annot_augment_propose_allocation);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (op_annot_augment_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (op_annot_augment_generate_output);
}

static void
op_annot_augment_init (OpAnnotAugment * self)
{
  self->settings.copies = DEFAULT_COPIES;
  self->settings.include_original = DEFAULT_INCLUDE_ORIGINAL;
  self->settings.seed = DEFAULT_SEED;
  /* the jitter ranges start at 0 (no jitter): GObject zeroes the instance.
   * Every input makes several outputs: none may be dropped for QoS. */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}

static void
clear_symmetry (OpAnnotAugment * self)
{
  op_aug_symmetry_clear (&self->sym);
  g_clear_pointer (&self->sym_skeleton, op_skeleton_unref);
  self->sym_resolved = FALSE;
}

static void
settings_clear (OpAnnotAugmentSettings * s)
{
  g_clear_pointer (&s->symmetries, g_free);
}

static void
settings_copy (OpAnnotAugmentSettings * dst, const OpAnnotAugmentSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->symmetries = g_strdup (src->symmetries);
}

static void
op_annot_augment_finalize (GObject * object)
{
  OpAnnotAugment *self = OP_ANNOT_AUGMENT (object);

  clear_symmetry (self);
  settings_clear (&self->settings);
  settings_clear (&self->cur);
  G_OBJECT_CLASS (op_annot_augment_parent_class)->finalize (object);
}

static gboolean
op_annot_augment_start (GstBaseTransform * trans)
{
  OpAnnotAugment *self = OP_ANNOT_AUGMENT (trans);

  GST_OBJECT_LOCK (self);
  settings_copy (&self->cur, &self->settings);
  GST_OBJECT_UNLOCK (self);
  if (self->cur.symmetries && *g_strstrip (self->cur.symmetries) == '\0')
    g_clear_pointer (&self->cur.symmetries, g_free);
  self->next = 0;
  clear_symmetry (self);
  return TRUE;
}

static gboolean
op_annot_augment_stop (GstBaseTransform * trans)
{
  clear_symmetry (OP_ANNOT_AUGMENT (trans));
  return TRUE;
}

/* GstVideoFilter turns an element without transform_frame into an in-place
 * one; ours writes new buffers (generate_output), never the input. */
static gboolean
op_annot_augment_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  if (!GST_BASE_TRANSFORM_CLASS (op_annot_augment_parent_class)->set_caps
      (trans, incaps, outcaps))
    return FALSE;
  gst_base_transform_set_in_place (trans, FALSE);
  gst_base_transform_set_passthrough (trans, FALSE);
  return TRUE;
}

/* We map every input with its video meta; the output pool is ours to
 * decide (GstVideoFilter's decide_allocation asks downstream for it). */
static gboolean
op_annot_augment_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

/* ------------------------------------------------------------ data path */

static GstFlowReturn
op_annot_augment_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  OP_ANNOT_AUGMENT (trans)->next = 0;
  return
      GST_BASE_TRANSFORM_CLASS
      (op_annot_augment_parent_class)->submit_input_buffer (trans, is_discont,
      input);
}

/* The pairs a mirror swaps for @skeleton, resolved once per skeleton. */
static gboolean
resolve_symmetry (OpAnnotAugment * self, OpSkeleton * skeleton,
    const OpAnnotation * ann)
{
  GError *err = NULL;
  gboolean flips = self->cur.ranges.hflip > 0 || self->cur.ranges.vflip > 0;

  if (self->sym_resolved && self->sym_skeleton == skeleton)
    return TRUE;
  clear_symmetry (self);
  if (skeleton && self->cur.symmetries) {
    if (!op_aug_symmetry_parse (self->cur.symmetries, skeleton, &self->sym,
            &err)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
          (NULL));
      g_error_free (err);
      return FALSE;
    }
    GST_INFO_OBJECT (self, "%u symmetric pairs from the property",
        self->sym.n_pairs);
  } else if (skeleton) {
    op_aug_symmetry_from_skeleton (skeleton, &self->sym);
    if (flips && self->sym.n_pairs == 0) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("The skeleton \"%s\" of %s has no symmetries: a flip would "
              "leave left labels on right body parts. Set symmetries="
              "left_node:right_node,... (or symmetries=none if it has no "
              "left and right).", op_skeleton_get_name (skeleton),
              ann->source), (NULL));
      return FALSE;
    }
    GST_INFO_OBJECT (self, "%u symmetric pairs from skeleton \"%s\"",
        self->sym.n_pairs, op_skeleton_get_name (skeleton));
  }
  self->sym_skeleton = skeleton ? op_skeleton_ref (skeleton) : NULL;
  self->sym_resolved = TRUE;
  return TRUE;
}

/* The annotation's image must be this buffer's, or the moved keypoints
 * would be moved in the wrong picture. */
static gboolean
check_size (OpAnnotAugment * self, const OpAnnotation * ann, guint w, guint h)
{
  guint aw = ann->has_crop ? ann->crop.width : ann->width;
  guint ah = ann->has_crop ? ann->crop.height : ann->height;

  if (aw == w && ah == h)
    return TRUE;
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("The annotation of %s frame %" G_GUINT64_FORMAT " is for a %ux%u "
          "image but the %s is %ux%u: an element upstream changed the "
          "image without its metas.", ann->source, ann->frame_index, aw, ah,
          ann->has_crop ? "crop" : "frame", w, h), (NULL));
  return FALSE;
}

static void
add_moved (GstBuffer * out, const OpAnnotation * src, const OpAugMatrix * mat,
    const OpAugSymmetry * sym, guint copy, guint w, guint h)
{
  OpAnnotation ann;

  op_annotation_init (&ann);
  op_annotation_copy_into (&ann, src);
  op_aug_transform_annotation (&ann, mat, sym, w, h);
  ann.augment = copy;
  if (src->has_crop)
    op_buffer_add_crop_meta (out, &ann);
  else
    op_buffer_add_annotation_meta (out, &ann);
  op_annotation_clear (&ann);
}

/* Copy @copy (1-based) of @in. */
static GstFlowReturn
make_copy (OpAnnotAugment * self, GstBuffer * in, guint copy,
    GstBuffer ** outbuf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstVideoFilter *filter = GST_VIDEO_FILTER (self);
  OpCropMeta *cm = op_buffer_get_crop_meta (in);
  OpAnnotationMeta *am = op_buffer_get_annotation_meta (in);
  const OpAnnotation *id = cm ? &cm->ann : am ? &am->ann : NULL;
  guint w = GST_VIDEO_INFO_WIDTH (&filter->in_info);
  guint h = GST_VIDEO_INFO_HEIGHT (&filter->in_info);
  GstVideoFrame src, dst;
  GstBuffer *out = NULL;
  OpAugDraw draw;
  OpAugMatrix mat;
  GstFlowReturn ret;
  guint8 lut[256];
  guint64 sample_seed;

  if ((cm && !check_size (self, &cm->ann, w, h))
      || (am && !check_size (self, &am->ann, w, h)))
    return GST_FLOW_ERROR;
  if (id && !resolve_symmetry (self, id->skeleton, id))
    return GST_FLOW_ERROR;

  if (id)
    sample_seed = op_aug_sample_seed (self->cur.seed, id->source,
        id->frame_index, id->has_crop ? id->crop.instance : 0, copy);
  else
    sample_seed = op_aug_sample_seed (self->cur.seed, NULL,
        GST_BUFFER_PTS (in), 0, copy);
  op_aug_draw (&self->cur.ranges, sample_seed, w, h, &draw);
  op_aug_matrix_from_draw (&draw, w, h, &mat);
  op_aug_colour_lut (draw.brightness, draw.contrast, lut);
  GST_LOG_OBJECT (self, "copy %u: flip %d/%d angle %.2f scale %.3f shift "
      "%.1f,%.1f brightness %.1f contrast %.3f", copy, draw.hflip, draw.vflip,
      draw.angle, draw.scale, draw.tx, draw.ty, draw.brightness, draw.contrast);

  ret = GST_BASE_TRANSFORM_CLASS
      (op_annot_augment_parent_class)->prepare_output_buffer (trans, in, &out);
  if (ret != GST_FLOW_OK)
    return ret;
  /* stale labels must not survive on moved pixels, whatever copied them */
  op_buffer_remove_annotations (out);
  if (!gst_video_frame_map (&src, &filter->in_info, in, GST_MAP_READ))
    goto map_failed;
  if (!gst_video_frame_map (&dst, &filter->out_info, out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&src);
    goto map_failed;
  }
  op_aug_warp_frame (&src, &dst, &mat, lut);
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);

  if (cm)
    add_moved (out, &cm->ann, &mat, &self->sym, copy, w, h);
  if (am)
    add_moved (out, &am->ann, &mat, &self->sym, copy, w, h);
  *outbuf = out;
  return GST_FLOW_OK;

map_failed:
  gst_buffer_unref (out);
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not map a video frame."), (NULL));
  return GST_FLOW_ERROR;
}

/* Called until it gives no buffer: one output per call, the original
 * first when asked for, then copies 1..copies; the input is released
 * with the last one. */
static GstFlowReturn
op_annot_augment_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  OpAnnotAugment *self = OP_ANNOT_AUGMENT (trans);
  GstBuffer *in = trans->queued_buf;
  guint total = self->cur.copies + (self->cur.include_original ? 1 : 0);
  guint copy;
  GstFlowReturn ret = GST_FLOW_OK;

  *outbuf = NULL;
  if (in == NULL)
    return GST_FLOW_OK;
  copy = self->next++ + (self->cur.include_original ? 0 : 1);
  if (copy == 0)
    *outbuf = gst_buffer_ref (in);
  else
    ret = make_copy (self, in, copy, outbuf);
  if (self->next >= total || ret != GST_FLOW_OK)
    gst_clear_buffer (&trans->queued_buf);
  return ret;
}

/* ------------------------------------------------------------ properties */

static gdouble *
range_field (OpAnnotAugment * self, guint prop_id)
{
  OpAugRanges *r = &self->settings.ranges;

  switch (prop_id) {
    case PROP_HFLIP:
      return &r->hflip;
    case PROP_VFLIP:
      return &r->vflip;
    case PROP_ROTATE:
      return &r->rotate;
    case PROP_SCALE:
      return &r->scale;
    case PROP_TRANSLATE:
      return &r->translate;
    case PROP_BRIGHTNESS:
      return &r->brightness;
    case PROP_CONTRAST:
      return &r->contrast;
    default:
      return NULL;
  }
}

static void
op_annot_augment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpAnnotAugment *self = OP_ANNOT_AUGMENT (object);
  gdouble *field;

  GST_OBJECT_LOCK (self);
  field = range_field (self, prop_id);
  if (field) {
    *field = g_value_get_double (value);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_COPIES:
      self->settings.copies = g_value_get_uint (value);
      break;
    case PROP_INCLUDE_ORIGINAL:
      self->settings.include_original = g_value_get_boolean (value);
      break;
    case PROP_SEED:
      self->settings.seed = g_value_get_uint64 (value);
      break;
    case PROP_SYMMETRIES:
      g_free (self->settings.symmetries);
      self->settings.symmetries = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_annot_augment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  OpAnnotAugment *self = OP_ANNOT_AUGMENT (object);
  gdouble *field;

  GST_OBJECT_LOCK (self);
  field = range_field (self, prop_id);
  if (field) {
    g_value_set_double (value, *field);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_COPIES:
      g_value_set_uint (value, self->settings.copies);
      break;
    case PROP_INCLUDE_ORIGINAL:
      g_value_set_boolean (value, self->settings.include_original);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->settings.seed);
      break;
    case PROP_SYMMETRIES:
      g_value_set_string (value, self->settings.symmetries);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
