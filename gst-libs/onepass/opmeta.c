/* onepass: per-frame annotation meta and per-crop meta.
 *
 * Both metas wrap an OpAnnotation, so they share init, free and transform.
 * The tags are "video" and "size": scalers and encoders keep them (and call
 * the scale transform), filters that crop or flip drop them, because their
 * coordinates would be wrong there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opmeta.h"

static const gchar *meta_tags[] = {
  GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL
};

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
  } else {
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
 * Returns: (transfer none): the new meta
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
 * op_buffer_get_annotation:
 *
 * What a writer serializes for @buffer: its crop meta if it has one, else
 * its frame annotation meta.
 *
 * Returns: (transfer none) (nullable): the annotation, or %NULL
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
