/* cropextract: crop + bilinear scale of one image plane, with fill outside.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_CROP_SCALE_H__
#define __OP_CROP_SCALE_H__

#include <glib.h>

G_BEGIN_DECLS

/**
 * OpCropScaler:
 *
 * Scratch tables and one intermediate row, sized once for the largest plane
 * of a negotiated format, then reused for every crop (no per-crop
 * allocation).
 */
typedef struct _OpCropScaler OpCropScaler;

OpCropScaler *op_crop_scaler_new  (guint max_dst_w, guint max_dst_h,
                                   guint max_src_w, guint max_ch);
void          op_crop_scaler_free (OpCropScaler * s);

/**
 * OpPlaneMap:
 * @sx: source pixels per destination pixel, horizontally
 * @ox: source edge coordinate of the destination's left edge
 * @sy: likewise vertically
 * @oy: source edge coordinate of the destination's top edge
 *
 * Destination pixel d covers source edge coordinates
 * [d * sx + ox, (d + 1) * sx + ox); pixel i of the source covers [i, i + 1).
 */
typedef struct {
  gdouble sx, ox, sy, oy;
} OpPlaneMap;

void op_crop_scale_plane (OpCropScaler * s, const OpPlaneMap * map,
                          const guint8 * src, gint src_stride,
                          guint src_w, guint src_h,
                          guint8 * dst, gint dst_stride,
                          guint dst_w, guint dst_h,
                          guint ch, const guint8 * fill);

G_END_DECLS

#endif /* __OP_CROP_SCALE_H__ */
