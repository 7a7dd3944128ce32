/* onepass: pixel helpers shared by the elements that fill and draw
 * (cropextract, compositor328, annotoverlay): the 8-bit formats, a colour
 * in a frame's format, planes and their subsampled spans.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_PIXEL_H__
#define __OP_PIXEL_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* The 8-bit formats whose every plane is one byte per component:
 * op_pixel_format_supported() says the same. */
#define OP_PIXEL_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
  "xRGB, xBGR, AYUV, GRAY8, I420, YV12, NV12, NV21, Y42B, Y444 }"

gboolean op_pixel_format_supported (GstVideoFormat format);
void op_pixel_warn_unsupported (GstElement * element,
    GstStaticPadTemplate * sink_template, GstCaps * offered,
    gboolean * warned);
void op_pixel_warn_unsupported_query (GstElement * element,
    GstStaticPadTemplate * sink_template, GstQuery * query,
    gboolean * warned);

/**
 * OpPixelPlane:
 * @data: the plane's first byte
 * @stride: bytes per row
 * @pstride: bytes per pixel
 * @width: pixels per row
 * @height: rows
 * @sx: horizontal subsampling factor (1, 2 or 4)
 * @sy: vertical subsampling factor
 * @n_comps: the components stored in this plane
 * @comps: their indices (format order: R, G, B, A or Y, U, V, A)
 * @offsets: their byte offsets within a pixel
 *
 * One plane of a mapped frame, as the pixel loops need it.
 */
typedef struct
{
  guint8 *data;
  gint stride;
  gint pstride;
  gint width, height;
  gint sx, sy;
  guint n_comps;
  guint comps[GST_VIDEO_MAX_COMPONENTS];
  guint offsets[GST_VIDEO_MAX_COMPONENTS];
} OpPixelPlane;

void op_pixel_plane (const GstVideoFrame * frame, guint p,
    OpPixelPlane * plane);
gboolean op_pixel_plane_span (gint r0, gint size, gint sub, gint limit,
    gint * lo, gint * hi);

void op_pixel_color (const GstVideoInfo * info, guint32 argb, guint8 val[4]);
void op_pixel_color_bytes (const GstVideoInfo * info, guint32 argb,
    guint8 px[GST_VIDEO_MAX_PLANES][4]);
void op_pixel_blend_rect (GstVideoFrame * frame, gint x, gint y, gint w,
    gint h, guint32 argb);

G_END_DECLS

#endif /* __OP_PIXEL_H__ */
