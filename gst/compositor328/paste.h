/* onepass: compositor328's pixel work: scale a crop onto a frame rectangle.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_PASTE_H__
#define __OP_PASTE_H__

#include "oppixel.h"

G_BEGIN_DECLS

gboolean op_paste_crop   (GstVideoFrame * frame, const GstVideoFrame * crop,
                          const gint rect[4], gdouble alpha);
void     op_paste_border (GstVideoFrame * frame, const gint rect[4],
                          guint width, guint32 argb);

G_END_DECLS

#endif /* __OP_PASTE_H__ */
