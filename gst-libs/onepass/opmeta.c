/* onepass: per-frame annotation meta and per-crop meta.
 *
 * Both metas wrap an OpAnnotation, so they share init, free and transform.
 * The tags are "video", "size" and "orientation": the metas depend on the
 * frame's size and orientation. Scalers and encoders keep them (and call
 * the scale transform); every other filter that copies frames drops them
 * (GstVideoFilter keeps only untagged or "video"-only metas), because the
 * coordinates could be wrong there. GStreamer 1.22's videoflip tells metas
 * nothing about its orientation change, so it drops them too; an element
 * that does tell (the "op-orientation" transform below) gets them moved
 * exactly.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opmeta.h"
#include "opjson.h"

#include <math.h>

static const gchar *meta_tags[] = {
  GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR,
  GST_META_TAG_VIDEO_ORIENTATION_STR, NULL
};

/**
 * op_meta_transform_orientation_quark:
 *
 * The transform type "op-orientation" of the onepass metas: its data is an
 * #OpMetaTransformOrientation.
 *
 * Returns: the quark
 *
 * Since: 0.1
 */
GQuark
op_meta_transform_orientation_quark (void)
{
  static gsize q = 0;

  if (g_once_init_enter (&q)) {
    gsize t = g_quark_from_static_string (OP_META_TRANSFORM_ORIENTATION_STR);
    g_once_init_leave (&q, t);
  }
  return (GQuark) q;
}

static gboolean
swaps_axes (GstVideoOrientationMethod m)
{
  return m == GST_VIDEO_ORIENTATION_90R || m == GST_VIDEO_ORIENTATION_90L ||
      m == GST_VIDEO_ORIENTATION_UL_LR || m == GST_VIDEO_ORIENTATION_UR_LL;
}

/* Where point (x, y) of a w x h image lands, in pixel-centre coordinates
 * (the image spans -0.5 .. w - 0.5): the pixel moves of videoflip, so a
 * horizontal flip maps x to w - 1 - x. */
static void
orient_point (GstVideoOrientationMethod m, gdouble w, gdouble h, gdouble * x,
    gdouble * y)
{
  gdouble ox = *x, oy = *y;

  switch (m) {
    case GST_VIDEO_ORIENTATION_90R:
      *x = h - 1 - oy;
      *y = ox;
      break;
    case GST_VIDEO_ORIENTATION_180:
      *x = w - 1 - ox;
      *y = h - 1 - oy;
      break;
    case GST_VIDEO_ORIENTATION_90L:
      *x = oy;
      *y = w - 1 - ox;
      break;
    case GST_VIDEO_ORIENTATION_HORIZ:
      *x = w - 1 - ox;
      break;
    case GST_VIDEO_ORIENTATION_VERT:
      *y = h - 1 - oy;
      break;
    case GST_VIDEO_ORIENTATION_UL_LR:
      *x = oy;
      *y = ox;
      break;
    case GST_VIDEO_ORIENTATION_UR_LL:
      *x = h - 1 - oy;
      *y = w - 1 - ox;
      break;
    default:
      break;
  }
}

/* A box [x, y, bw, bh] whose corners are the points (x, y) and
 * (x + bw, y + bh): both corners move, the box is their span again. */
static void
orient_box (GstVideoOrientationMethod m, gdouble w, gdouble h, gdouble b[4])
{
  gdouble x0 = b[0], y0 = b[1], x1 = b[0] + b[2], y1 = b[1] + b[3];

  orient_point (m, w, h, &x0, &y0);
  orient_point (m, w, h, &x1, &y1);
  b[0] = MIN (x0, x1);
  b[1] = MIN (y0, y1);
  b[2] = fabs (x1 - x0);
  b[3] = fabs (y1 - y0);
}

static void
orient_instances (OpAnnotation * ann, GstVideoOrientationMethod m, guint w,
    guint h)
{
  guint i, k;

  for (i = 0; i < op_annotation_n_instances (ann); i++) {
    OpInstance *inst = op_annotation_get_instance (ann, i);

    for (k = 0; k < inst->n_keypoints; k++) {
      OpKeypoint *kp = &inst->keypoints[k];
      if (!isnan (kp->x) && !isnan (kp->y))
        orient_point (m, w, h, &kp->x, &kp->y);
    }
    if (inst->has_bbox)
      orient_box (m, w, h, inst->bbox);
  }
}

/* Applies a flip or rotation of the image @ann describes. A crop's
 * instances move inside the crop, and the crop is re-expressed as the crop
 * of the equally transformed frame (its rect moves in frame coordinates),
 * so the crop <-> frame map of the design still holds. Returns FALSE when
 * the transform's input size is not the annotation's image size. */
static gboolean
orient_annotation (OpAnnotation * ann, const OpMetaTransformOrientation * t)
{
  const GstVideoOrientationMethod m = t->method;
  guint img_w = ann->has_crop ? ann->crop.width : ann->width;
  guint img_h = ann->has_crop ? ann->crop.height : ann->height;

  if (t->in_width != img_w || t->in_height != img_h || img_w == 0 || img_h == 0)
    return FALSE;
  if (m == GST_VIDEO_ORIENTATION_IDENTITY)
    return TRUE;
  if (m > GST_VIDEO_ORIENTATION_UR_LL)
    return FALSE;               /* auto, custom: not a known pixel move */

  orient_instances (ann, m, img_w, img_h);
  if (ann->has_crop) {
    /* a rect covers the pixels x .. x + w - 1: its edges are the points
     * x - 0.5 and x + w - 0.5 */
    gdouble r[4] = { ann->crop.rect[0] - 0.5, ann->crop.rect[1] - 0.5,
      ann->crop.rect[2], ann->crop.rect[3]
    };
    guint cw = ann->crop.width;

    orient_box (m, ann->width, ann->height, r);
    ann->crop.rect[0] = (gint) lround (r[0] + 0.5);
    ann->crop.rect[1] = (gint) lround (r[1] + 0.5);
    ann->crop.rect[2] = (gint) lround (r[2]);
    ann->crop.rect[3] = (gint) lround (r[3]);
    if (swaps_axes (m)) {
      ann->crop.width = ann->crop.height;
      ann->crop.height = cw;
    }
  }
  if (swaps_axes (m)) {
    guint fw = ann->width;

    ann->width = ann->height;
    ann->height = fw;
  }
  return TRUE;
}

static gboolean
op_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  OpAnnotationMeta *m = (OpAnnotationMeta *) meta;

  op_annotation_init (&m->ann);
  return TRUE;
}

static void
op_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  op_annotation_clear (&((OpAnnotationMeta *) meta)->ann);
}

static gboolean
op_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  const OpAnnotation *src = &((OpAnnotationMeta *) meta)->ann;
  const GstMetaInfo *info = meta->info;
  OpAnnotationMeta *out;

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;
    /* a part of the buffer is not a frame: keypoints would lie */
    if (copy->region)
      return FALSE;
  } else if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *t = data;
    if (t->in_info == NULL || t->out_info == NULL)
      return FALSE;
  } else if (OP_META_TRANSFORM_IS_ORIENTATION (type)) {
    OpAnnotation moved;
    gboolean ok;

    /* moved first: a transform we cannot apply leaves no meta behind */
    op_annotation_init (&moved);
    op_annotation_copy_into (&moved, src);
    ok = orient_annotation (&moved, data);
    if (ok) {
      out = (OpAnnotationMeta *) gst_buffer_add_meta (dest, info, NULL);
      ok = out != NULL;
    }
    if (ok)
      op_annotation_copy_into (&out->ann, &moved);
    op_annotation_clear (&moved);
    return ok;
  } else {
    /* any other transform (a future matrix, ...): keypoints would lie */
    return FALSE;
  }

  out = (OpAnnotationMeta *) gst_buffer_add_meta (dest, info, NULL);
  if (out == NULL)
    return FALSE;
  op_annotation_copy_into (&out->ann, src);

  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *t = data;
    guint in_w = GST_VIDEO_INFO_WIDTH (t->in_info);
    guint in_h = GST_VIDEO_INFO_HEIGHT (t->in_info);
    guint out_w = GST_VIDEO_INFO_WIDTH (t->out_info);
    guint out_h = GST_VIDEO_INFO_HEIGHT (t->out_info);

    if (in_w != out_w || in_h != out_h) {
      /* apply the scaler's ratio to the annotation's own image size,
       * which normally equals the scaler's input size */
      const guint cur_w = src->has_crop ? src->crop.width : src->width;
      const guint cur_h = src->has_crop ? src->crop.height : src->height;
      guint new_w = cur_w == in_w ? out_w :
          (guint) (((guint64) cur_w * out_w + in_w / 2) / in_w);
      guint new_h = cur_h == in_h ? out_h :
          (guint) (((guint64) cur_h * out_h + in_h / 2) / in_h);
      op_annotation_rescale (&out->ann, new_w, new_h);
    }
  }
  return TRUE;
}

/**
 * op_annotation_meta_api_get_type:
 *
 * Returns: the API type of #OpAnnotationMeta
 *
 * Since: 0.1
 */
GType
op_annotation_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("OpAnnotationMetaAPI", meta_tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * op_annotation_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #OpAnnotationMeta
 *
 * Since: 0.1
 */
const GstMetaInfo *
op_annotation_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (OP_ANNOTATION_META_API_TYPE,
        "OpAnnotationMeta", sizeof (OpAnnotationMeta), op_meta_init,
        op_meta_free, op_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * op_crop_meta_api_get_type:
 *
 * Returns: the API type of #OpCropMeta
 *
 * Since: 0.1
 */
GType
op_crop_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("OpCropMetaAPI", meta_tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * op_crop_meta_get_info:
 *
 * Returns: (transfer none): the #GstMetaInfo of #OpCropMeta
 *
 * Since: 0.1
 */
const GstMetaInfo *
op_crop_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (OP_CROP_META_API_TYPE,
        "OpCropMeta", sizeof (OpCropMeta), op_meta_init, op_meta_free,
        op_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * op_buffer_add_annotation_meta:
 * @buffer: a writable buffer
 * @ann: the frame's annotation, copied (the skeleton is shared)
 *
 * Adds a meta; one already on @buffer stays (bindings use
 * op_buffer_add_annotation(), which replaces).
 *
 * Returns: (transfer none): the new meta
 *
 * Since: 0.1
 */
OpAnnotationMeta *
op_buffer_add_annotation_meta (GstBuffer * buffer, const OpAnnotation * ann)
{
  OpAnnotationMeta *m;

  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  m = (OpAnnotationMeta *) gst_buffer_add_meta (buffer, OP_ANNOTATION_META_INFO,
      NULL);
  op_annotation_copy_into (&m->ann, ann);
  m->ann.has_crop = FALSE;
  return m;
}

/**
 * op_buffer_add_crop_meta:
 * @buffer: a writable buffer
 * @ann: the crop's annotation (has_crop set, one instance in crop
 *   coordinates), copied
 *
 * Returns: (transfer none): the new meta
 *
 * Since: 0.1
 */
OpCropMeta *
op_buffer_add_crop_meta (GstBuffer * buffer, const OpAnnotation * ann)
{
  OpCropMeta *m;

  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  m = (OpCropMeta *) gst_buffer_add_meta (buffer, OP_CROP_META_INFO, NULL);
  op_annotation_copy_into (&m->ann, ann);
  m->ann.has_crop = TRUE;
  return m;
}

/**
 * op_buffer_get_annotation_meta:
 * @buffer: a buffer
 *
 * Returns: (transfer none) (nullable): the frame annotation meta of
 *   @buffer (on a crop: the crop seen as a frame), or %NULL
 *
 * Since: 0.2 (a macro before)
 */
OpAnnotationMeta *
op_buffer_get_annotation_meta (GstBuffer * buffer)
{
  return (OpAnnotationMeta *) gst_buffer_get_meta (buffer,
      OP_ANNOTATION_META_API_TYPE);
}

/**
 * op_buffer_get_crop_meta:
 * @buffer: a buffer
 *
 * Returns: (transfer none) (nullable): the crop meta of @buffer, or %NULL
 *
 * Since: 0.2 (a macro before)
 */
OpCropMeta *
op_buffer_get_crop_meta (GstBuffer * buffer)
{
  return (OpCropMeta *) gst_buffer_get_meta (buffer, OP_CROP_META_API_TYPE);
}

static gboolean
is_onepass_meta (GstMeta * meta, gpointer user_data)
{
  GType api = meta->info->api;

  return api == OP_ANNOTATION_META_API_TYPE || api == OP_CROP_META_API_TYPE;
}

static gboolean
remove_onepass_meta (GstBuffer * buffer, GstMeta ** meta, gpointer user_data)
{
  guint *removed = user_data;

  if (is_onepass_meta (*meta, NULL)) {
    *meta = NULL;
    (*removed)++;
  }
  return TRUE;
}

/**
 * op_buffer_remove_annotations:
 * @buffer: a writable buffer
 *
 * Removes every #OpAnnotationMeta and #OpCropMeta of @buffer.
 *
 * Returns: the number of metas removed
 *
 * Since: 0.2
 */
guint
op_buffer_remove_annotations (GstBuffer * buffer)
{
  guint removed = 0;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), 0);
  gst_buffer_foreach_meta (buffer, remove_onepass_meta, &removed);
  return removed;
}

/**
 * op_buffer_add_annotation:
 * @buffer: a writable buffer
 * @ann: the annotation, copied (the skeleton is shared)
 * @error: a #GError, or %NULL
 *
 * Puts @ann on @buffer in place of any onepass meta it had: a frame
 * annotation becomes an #OpAnnotationMeta; a crop annotation becomes an
 * #OpCropMeta plus the #OpAnnotationMeta of the crop seen as a frame (as
 * cropextract attaches them), so no stale meta is left behind. @ann is
 * checked first with op_annotation_validate().
 *
 * Returns: %FALSE (@error set, @buffer unchanged) when @ann is invalid or
 *   @buffer is not writable
 *
 * Since: 0.2
 */
gboolean
op_buffer_add_annotation (GstBuffer * buffer, const OpAnnotation * ann,
    GError ** error)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (ann != NULL, FALSE);

  if (!gst_buffer_is_writable (buffer)) {
    /* the usual trap in Python: a buffer handed to a vfunc or a probe has
     * a second reference, the binding's */
    g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_NOT_WRITABLE,
        "the buffer is not writable (more than one reference): attach "
        "annotations to a new buffer that you own (docs/python.md)");
    return FALSE;
  }
  if (!op_annotation_validate (ann, error))
    return FALSE;

  op_buffer_remove_annotations (buffer);
  if (ann->has_crop) {
    OpAnnotationMeta *m;

    op_buffer_add_crop_meta (buffer, ann);
    m = op_buffer_add_annotation_meta (buffer, ann);
    m->ann.width = ann->crop.width;
    m->ann.height = ann->crop.height;
  } else {
    op_buffer_add_annotation_meta (buffer, ann);
  }
  return TRUE;
}

/**
 * op_buffer_copy_annotations:
 * @dest: a writable buffer holding the same image as @src (same size and
 *   orientation; a new buffer made from @src's pixels)
 * @src: a buffer
 * @error: a #GError, or %NULL
 *
 * Copies @src's #OpAnnotationMeta and #OpCropMeta to @dest, in place of
 * any onepass meta @dest had. For elements that make new output buffers
 * (in C or Python): without this the labels stay behind on the input.
 * An element that resizes the image must rescale the copies
 * (op_annotation_rescale()); one that flips or rotates it uses
 * op_buffer_orient_metas() instead.
 *
 * Returns: the number of metas copied; 0 with @error set
 *   (#OP_ANNOTATION_ERROR_NOT_WRITABLE) when @dest is not writable
 *
 * Since: 0.2
 */
guint
op_buffer_copy_annotations (GstBuffer * dest, GstBuffer * src, GError ** error)
{
  GstMetaTransformCopy copy = { FALSE, 0, (gsize) - 1 };
  GQuark type = g_quark_from_static_string ("gst-copy");
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  g_return_val_if_fail (GST_IS_BUFFER (dest) && GST_IS_BUFFER (src), 0);
  if (dest == src)
    return 0;
  if (!gst_buffer_is_writable (dest)) {
    g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_NOT_WRITABLE,
        "the destination buffer is not writable (more than one reference): "
        "copy the labels to a new buffer that you own (docs/python.md)");
    return 0;
  }
  op_buffer_remove_annotations (dest);
  while ((meta = gst_buffer_iterate_meta (src, &state))) {
    if (!is_onepass_meta (meta, NULL))
      continue;
    if (meta->info->transform_func (dest, meta, src, type, &copy))
      n++;
  }
  return n;
}

/**
 * op_buffer_get_annotation:
 * @buffer: a buffer
 *
 * What a writer serializes for @buffer: its crop meta if it has one, else
 * its frame annotation meta.
 *
 * Bindings get a copy: change it, then put it back with
 * op_buffer_add_annotation().
 *
 * Returns: (transfer none) (nullable): the annotation, or %NULL
 *
 * Since: 0.1
 */
const OpAnnotation *
op_buffer_get_annotation (GstBuffer * buffer)
{
  OpCropMeta *c = op_buffer_get_crop_meta (buffer);
  OpAnnotationMeta *a;

  if (c)
    return &c->ann;
  a = op_buffer_get_annotation_meta (buffer);
  return a ? &a->ann : NULL;
}

/**
 * op_buffer_orient_metas:
 * @dest: a writable buffer, the flipped or rotated image
 * @src: the buffer before the flip or rotation
 * @method: the pixel move (as videoflip's `video-direction`)
 * @in_width: width of @src's image
 * @in_height: height of @src's image
 *
 * For elements and applications that flip or rotate frames or crops:
 * copies @src's annotation and crop metas to @dest with keypoints, boxes and
 * crop rects moved exactly as the pixels (pixel-centre coordinates: a
 * horizontal flip maps x to @in_width - 1 - x). A meta whose image size is
 * not @in_width x @in_height, or a @method that is not a fixed pixel move
 * (auto, custom), is not copied.
 *
 * Returns: %TRUE if every onepass meta of @src was copied
 *
 * Since: 0.1
 */
gboolean
op_buffer_orient_metas (GstBuffer * dest, GstBuffer * src,
    GstVideoOrientationMethod method, guint in_width, guint in_height)
{
  OpMetaTransformOrientation t = { method, in_width, in_height };
  GQuark type = op_meta_transform_orientation_quark ();
  gboolean all = TRUE;
  GstMeta *meta;
  gpointer state = NULL;

  g_return_val_if_fail (gst_buffer_is_writable (dest), FALSE);
  while ((meta = gst_buffer_iterate_meta (src, &state))) {
    GType api = meta->info->api;

    if (api != OP_ANNOTATION_META_API_TYPE && api != OP_CROP_META_API_TYPE)
      continue;
    if (!meta->info->transform_func (dest, meta, src, type, &t))
      all = FALSE;
  }
  return all;
}
