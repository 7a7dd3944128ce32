/* cropextract: from an instance to the integer frame rectangle to cut.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_CROP_BOX_H__
#define __OP_CROP_BOX_H__

#include <onepass/opannotation.h>

G_BEGIN_DECLS

/**
 * OpCropExtractMode:
 * @OP_CROP_EXTRACT_MODE_FIT: grow the padded box to the crop's aspect
 *   around its centre and scale uniformly
 * @OP_CROP_EXTRACT_MODE_STRETCH: scale the padded box, aspect not kept
 * @OP_CROP_EXTRACT_MODE_CENTER: fixed window on the box centre or the anchor
 *   node, no scaling
 */
typedef enum {
  OP_CROP_EXTRACT_MODE_FIT,
  OP_CROP_EXTRACT_MODE_STRETCH,
  OP_CROP_EXTRACT_MODE_CENTER,
} OpCropExtractMode;

/**
 * OpCropExtractBox:
 * @OP_CROP_EXTRACT_BOX_AUTO: the instance bbox, else its keypoint bounds
 * @OP_CROP_EXTRACT_BOX_KEYPOINTS: bounds of the present keypoints
 * @OP_CROP_EXTRACT_BOX_BBOX: the instance bbox only
 */
typedef enum {
  OP_CROP_EXTRACT_BOX_AUTO,
  OP_CROP_EXTRACT_BOX_KEYPOINTS,
  OP_CROP_EXTRACT_BOX_BBOX,
} OpCropExtractBox;

/**
 * OpCropRectResult:
 * @OP_CROP_RECT_OK: @rect is set
 * @OP_CROP_RECT_NO_BOX: the instance has no box of the requested kind (no
 *   bbox, or no present keypoint)
 * @OP_CROP_RECT_BAD_BOX: the box is NaN, infinite, negative or absurdly far
 */
typedef enum {
  OP_CROP_RECT_OK,
  OP_CROP_RECT_NO_BOX,
  OP_CROP_RECT_BAD_BOX,
} OpCropRectResult;

OpCropRectResult op_crop_compute_rect (const OpInstance * inst,
                                       OpCropExtractMode mode,
                                       OpCropExtractBox box,
                                       gdouble padding, gint anchor,
                                       guint width, guint height,
                                       gint rect[4]);

G_END_DECLS

#endif /* __OP_CROP_BOX_H__ */
