/* onepass: compositor328's output conversion, 4:2:0 YUV to packed RGB/BGR.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_TO_RGB_H__
#define __OP_TO_RGB_H__

#include <gst/video/video.h>

G_BEGIN_DECLS

/* Fixed-point coefficients of one colour matrix and range. */
typedef struct
{
  gint yoff;
  gint cy, crv, cbu, cgu, cgv;
  gint ri;                      /* byte of R in a pixel: 0 (RGB) or 2 (BGR) */
} OpToRgb;

gboolean op_to_rgb_setup (OpToRgb * conv, const GstVideoInfo * in,
                          const GstVideoInfo * out);
void     op_to_rgb_frame (const OpToRgb * conv, const GstVideoFrame * in,
                          GstVideoFrame * out);

GstCaps *     op_to_rgb_sink_caps (GstCaps * downstream);
GstCaps *     op_to_rgb_out_caps  (const GstCaps * in, GstVideoFormat format);
GstFlowReturn op_to_rgb_buffer    (const OpToRgb * conv, GstBufferPool * pool,
                                   const GstVideoInfo * in_info,
                                   const GstVideoInfo * out_info,
                                   GstBuffer * in, GstBuffer ** out);

G_END_DECLS

#endif /* __OP_TO_RGB_H__ */
