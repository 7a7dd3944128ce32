/* onepass: annotaugment's pixel warp and colour jitter.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_AUG_WARP_H__
#define __OP_AUG_WARP_H__

#include <gst/video/video.h>
#include "augparams.h"

G_BEGIN_DECLS

void op_aug_colour_lut (gdouble brightness, gdouble contrast, guint8 lut[256]);
void op_aug_warp_frame (const GstVideoFrame * in, GstVideoFrame * out,
                        const OpAugMatrix * mat, const guint8 lut[256]);

G_END_DECLS

#endif /* __OP_AUG_WARP_H__ */
