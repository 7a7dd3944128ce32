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
 * Attached by annotfilter to every annotated frame. Tags: "video", "size";
 * survives videoconvert, videoscale (rescaled), jpegenc/pngenc and buffer
 * copies; dropped by region copies and by elements that crop.
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
 */
typedef struct {
  GstMeta meta;
  OpAnnotation ann;
} OpCropMeta;

GType               op_annotation_meta_api_get_type (void);
const GstMetaInfo  *op_annotation_meta_get_info (void);
#define OP_ANNOTATION_META_API_TYPE (op_annotation_meta_api_get_type ())
#define OP_ANNOTATION_META_INFO (op_annotation_meta_get_info ())

GType               op_crop_meta_api_get_type (void);
const GstMetaInfo  *op_crop_meta_get_info (void);
#define OP_CROP_META_API_TYPE (op_crop_meta_api_get_type ())
#define OP_CROP_META_INFO (op_crop_meta_get_info ())

#define op_buffer_get_annotation_meta(b) \
  ((OpAnnotationMeta *) gst_buffer_get_meta ((b), OP_ANNOTATION_META_API_TYPE))
#define op_buffer_get_crop_meta(b) \
  ((OpCropMeta *) gst_buffer_get_meta ((b), OP_CROP_META_API_TYPE))

OpAnnotationMeta   *op_buffer_add_annotation_meta (GstBuffer * buffer,
                                                   const OpAnnotation * ann);
OpCropMeta         *op_buffer_add_crop_meta       (GstBuffer * buffer,
                                                   const OpAnnotation * ann);
const OpAnnotation *op_buffer_get_annotation      (GstBuffer * buffer);

G_END_DECLS

#endif /* __OP_META_H__ */
