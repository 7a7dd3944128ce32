/* onepass: compositor328's pixel work: scale a crop onto a frame rectangle.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_PASTE_H__
#define __OP_PASTE_H__

#include <gst/video/video.h>

G_BEGIN_DECLS

/* The 8-bit formats whose planes hold only whole pixels of components. */
#define OP_PASTE_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, xRGB, xBGR, " \
  "ARGB, ABGR, AYUV, GRAY8, I420, YV12, NV12, NV21, Y42B, Y444 }"

gboolean op_paste_format_supported (GstVideoFormat format);

gboolean op_paste_crop   (GstVideoFrame * frame, const GstVideoFrame * crop,
                          const gint rect[4], gdouble alpha);
void     op_paste_border (GstVideoFrame * frame, const gint rect[4],
                          guint width, guint32 argb);

G_END_DECLS

#endif /* __OP_PASTE_H__ */
