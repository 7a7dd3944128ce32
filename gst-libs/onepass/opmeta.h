/* onepass: per-frame annotation meta and per-crop meta.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_META_H__
#define __OP_META_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include "opannotation.h"

G_BEGIN_DECLS

/**
 * OpAnnotationMeta:
 * @meta: parent
 * @ann: the frame's annotation, keypoints in frame coordinates
 *
 * Attached by annotfilter to every annotated frame. Tags: "video", "size",
 * "orientation"; survives videoconvert, videoscale (rescaled),
 * jpegenc/pngenc, buffer copies and elements in passthrough; moved exactly
 * by the "op-orientation" transform (op_buffer_orient_metas()); dropped by
 * region copies, by elements that crop and by every other filter that
 * copies frames, videoflip included (it does not say what it did).
 *
 * Since: 0.1
 */
typedef struct {
  GstMeta meta;
  OpAnnotation ann;
} OpAnnotationMeta;

/**
 * OpCropMeta:
 * @meta: parent
 * @ann: the crop's annotation: @ann.has_crop is TRUE, @ann.crop holds the
 *   rect in frame coordinates and the crop size, @ann.instances holds the
 *   cropped instance in crop coordinates
 *
 * Attached by cropextract to every crop. Same tags and transforms as
 * #OpAnnotationMeta; a rescale changes crop coordinates and crop size.
 *
 * Since: 0.1
 */
typedef struct {
  GstMeta meta;
  OpAnnotation ann;
} OpCropMeta;

/**
 * OpMetaTransformOrientation:
 * @method: the pixel move, as videoflip's `video-direction` (identity,
 *   90r, 180, 90l, horiz, vert, ul-lr, ur-ll; auto and custom are refused)
 * @in_width: width of the image before the move
 * @in_height: height of the image before the move
 *
 * Data of the "op-orientation" meta transform.
 *
 * Since: 0.1
 */
typedef struct {
  GstVideoOrientationMethod method;
  guint in_width, in_height;
} OpMetaTransformOrientation;

#define OP_META_TRANSFORM_ORIENTATION_STR "op-orientation"
GQuark              op_meta_transform_orientation_quark (void);
#define OP_META_TRANSFORM_IS_ORIENTATION(type) \
  ((type) == op_meta_transform_orientation_quark ())

GType               op_annotation_meta_api_get_type (void);
const GstMetaInfo  *op_annotation_meta_get_info (void);
#define OP_ANNOTATION_META_API_TYPE (op_annotation_meta_api_get_type ())
#define OP_ANNOTATION_META_INFO (op_annotation_meta_get_info ())

GType               op_crop_meta_api_get_type (void);
const GstMetaInfo  *op_crop_meta_get_info (void);
#define OP_CROP_META_API_TYPE (op_crop_meta_api_get_type ())
#define OP_CROP_META_INFO (op_crop_meta_get_info ())

OpAnnotationMeta   *op_buffer_get_annotation_meta (GstBuffer * buffer);
OpCropMeta         *op_buffer_get_crop_meta       (GstBuffer * buffer);

OpAnnotationMeta   *op_buffer_add_annotation_meta (GstBuffer * buffer,
                                                   const OpAnnotation * ann);
OpCropMeta         *op_buffer_add_crop_meta       (GstBuffer * buffer,
                                                   const OpAnnotation * ann);
const OpAnnotation *op_buffer_get_annotation      (GstBuffer * buffer);
gboolean            op_buffer_add_annotation      (GstBuffer * buffer,
                                                   const OpAnnotation * ann,
                                                   GError ** error);
guint               op_buffer_remove_annotations  (GstBuffer * buffer);
guint               op_buffer_copy_annotations    (GstBuffer * dest,
                                                   GstBuffer * src,
                                                   GError ** error);
gboolean            op_buffer_orient_metas        (GstBuffer * dest,
                                                   GstBuffer * src,
                                                   GstVideoOrientationMethod method,
                                                   guint in_width,
                                                   guint in_height);

G_END_DECLS

#endif /* __OP_META_H__ */
