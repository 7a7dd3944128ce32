/* onepass: pixel helpers shared by the elements that fill and draw.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oppixel.h"

#include <math.h>
#include <string.h>

gboolean
op_pixel_format_supported (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_AYUV:
    case GST_VIDEO_FORMAT_GRAY8:
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_YV12:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_NV21:
    case GST_VIDEO_FORMAT_Y42B:
    case GST_VIDEO_FORMAT_Y444:
      return TRUE;
    default:
      return FALSE;
  }
}

/* The formats of @offered that @ours lacks, when every structure is raw
 * video with a fixed format (what a decoder offers), else NULL */
static gchar *
unsupported_formats (GstCaps * ours, GstCaps * offered)
{
  GString *names = g_string_new (NULL);
  guint i;

  for (i = 0; offered && i < gst_caps_get_size (offered); i++) {
    GstStructure *s = gst_caps_get_structure (offered, i);
    const gchar *format = gst_structure_get_string (s, "format");
    GstCaps *probe;
    gboolean known;

    if (!gst_structure_has_name (s, "video/x-raw") || format == NULL)
      goto mixed;
    probe = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
        format, NULL);
    known = gst_caps_can_intersect (probe, ours);
    gst_caps_unref (probe);
    if (known)
      goto mixed;
    g_string_append_printf (names, "%s%s", names->len ? ", " : "", format);
  }
  if (names->len == 0)
    return g_string_free (names, TRUE);
  return g_string_free (names, FALSE);

mixed:
  g_string_free (names, TRUE);
  return NULL;
}

/**
 * op_pixel_warn_unsupported:
 * @element: the element refusing @offered
 * @sink_template: @element's sink pad template (the raw video it accepts)
 * @offered: (nullable): what upstream offers (refused caps, or a caps
 *   query's filter)
 * @warned: (inout): set once warned; no second warning while TRUE
 *
 * A 10-bit decoder output meets an 8-bit element as a bare
 * `not-negotiated` from the demuxer. When upstream offers only raw formats
 * @element lacks, this posts a CORE/NEGOTIATION warning naming the element,
 * the formats and the fix (videoconvert before it), once.
 */
void
op_pixel_warn_unsupported (GstElement * element,
    GstStaticPadTemplate * sink_template, GstCaps * offered, gboolean * warned)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *name = factory ?
      gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)) :
      GST_OBJECT_NAME (element);
  GstCaps *ours;
  gchar *formats;

  if (*warned)
    return;
  ours = gst_static_pad_template_get_caps (sink_template);
  formats = unsupported_formats (ours, offered);
  gst_caps_unref (ours);
  if (formats == NULL)
    return;
  *warned = TRUE;
  GST_ELEMENT_WARNING (element, CORE, NEGOTIATION,
      ("%s cannot handle %s video: put videoconvert before %s", name,
          formats, name), ("offered: %" GST_PTR_FORMAT, offered));
  g_free (formats);
}

/**
 * op_pixel_warn_unsupported_query:
 * @element: the element that answered @query
 * @sink_template: @element's sink pad template
 * @query: a sink pad query, already answered
 * @warned: (inout): as for op_pixel_warn_unsupported()
 *
 * For a CAPS query whose answer is empty: warns as
 * op_pixel_warn_unsupported() about the query's filter (decoders ask with
 * the formats they can output). Other queries are ignored.
 */
void
op_pixel_warn_unsupported_query (GstElement * element,
    GstStaticPadTemplate * sink_template, GstQuery * query, gboolean * warned)
{
  GstCaps *filter, *result;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CAPS)
    return;
  gst_query_parse_caps (query, &filter);
  gst_query_parse_caps_result (query, &result);
  if (filter && result && gst_caps_is_empty (result))
    op_pixel_warn_unsupported (element, sink_template, filter, warned);
}

/**
 * op_pixel_plane:
 * @frame: a mapped frame
 * @p: plane index
 * @plane: (out): filled; @plane->n_comps is 0 for a plane with no component
 */
void
op_pixel_plane (const GstVideoFrame * frame, guint p, OpPixelPlane * plane)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint c;

  memset (plane, 0, sizeof (*plane));
  plane->data = GST_VIDEO_FRAME_PLANE_DATA (frame, p);
  plane->stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, p);
  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
    if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) != p)
      continue;
    if (plane->n_comps == 0) {
      plane->pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
      plane->width = GST_VIDEO_FRAME_COMP_WIDTH (frame, c);
      plane->height = GST_VIDEO_FRAME_COMP_HEIGHT (frame, c);
      plane->sx = 1 << GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
      plane->sy = 1 << GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    }
    plane->comps[plane->n_comps] = c;
    plane->offsets[plane->n_comps] = GST_VIDEO_FRAME_COMP_POFFSET (frame, c);
    plane->n_comps++;
  }
}

/**
 * op_pixel_plane_span:
 * @r0: start in full-resolution (luma) pixels, may be negative
 * @size: length in full-resolution pixels
 * @sub: the plane's subsampling factor along this axis
 * @limit: the plane's size along this axis
 * @lo: (out): first plane pixel covered
 * @hi: (out): one past the last
 *
 * The plane pixels a luma span touches, clipped to the plane.
 *
 * Returns: %TRUE when the clipped span is not empty
 */
gboolean
op_pixel_plane_span (gint r0, gint size, gint sub, gint limit, gint * lo,
    gint * hi)
{
  gint a = r0, b = r0 + size;

  /* floor and ceil division that also hold for negative numbers */
  a = a >= 0 ? a / sub : -((-a + sub - 1) / sub);
  b = b >= 0 ? (b + sub - 1) / sub : -((-b) / sub);
  *lo = MAX (a, 0);
  *hi = MIN (b, limit);
  return *lo < *hi;
}

static guint8
clamp8 (gdouble v)
{
  return (guint8) CLAMP (lrint (v), 0, 255);
}

/**
 * op_pixel_color:
 * @info: the frame's format (and colorimetry, for YUV)
 * @argb: colour as 0xAARRGGBB
 * @val: (out): component values in format order (R, G, B, A; or Y, U, V, A;
 *   GRAY8: the full-range luma in @val[0])
 *
 * YUV values follow the caps' matrix and range (BT.601 when the caps do not
 * say, as videoconvert assumes), so a colour looks the same in every format.
 */
void
op_pixel_color (const GstVideoInfo * info, guint32 argb, guint8 val[4])
{
  gdouble r = ((argb >> 16) & 0xff) / 255.0, g = ((argb >> 8) & 0xff) / 255.0;
  gdouble b = (argb & 0xff) / 255.0, kr, kb, y, scale;
  gboolean full;

  val[3] = argb >> 24;
  if (GST_VIDEO_INFO_IS_RGB (info)) {
    val[0] = (argb >> 16) & 0xff;
    val[1] = (argb >> 8) & 0xff;
    val[2] = argb & 0xff;
    return;
  }
  if (!gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &kr, &kb)) {
    kr = 0.299;
    kb = 0.114;
  }
  y = kr * r + (1 - kr - kb) * g + kb * b;
  /* GRAY8 is full range */
  full = GST_VIDEO_INFO_IS_GRAY (info) ||
      info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  scale = full ? 127.5 : 112.0;
  val[0] = clamp8 (full ? 255 * y : 16 + 219 * y);
  val[1] = clamp8 (128 + scale * (b - y) / (1 - kb));
  val[2] = clamp8 (128 + scale * (r - y) / (1 - kr));
}

/**
 * op_pixel_color_bytes:
 * @info: the frame's format
 * @argb: colour as 0xAARRGGBB
 * @px: (out): per plane, the bytes of one pixel of that colour; padding
 *   bytes (the x of RGBx) are 0xff, like an opaque alpha
 */
void
op_pixel_color_bytes (const GstVideoInfo * info, guint32 argb,
    guint8 px[GST_VIDEO_MAX_PLANES][4])
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint8 val[4];
  guint c;

  op_pixel_color (info, argb, val);
  memset (px, 0xff, sizeof (guint8) * GST_VIDEO_MAX_PLANES * 4);
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    guint off = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, c);

    if (off < 4)
      px[GST_VIDEO_FORMAT_INFO_PLANE (finfo, c)][off] = val[c];
  }
}

/**
 * op_pixel_blend_rect:
 * @frame: mapped writable
 * @x: left edge in frame pixels (may lie outside the frame: clipped)
 * @y: top edge
 * @w: width
 * @h: height
 * @argb: colour; its alpha byte is the opacity (0xff replaces the pixels)
 *
 * Fills a rectangle in every plane (subsampled planes: every plane pixel
 * the rectangle touches).
 */
void
op_pixel_blend_rect (GstVideoFrame * frame, gint x, gint y, gint w, gint h,
    guint32 argb)
{
  guint8 px[GST_VIDEO_MAX_PLANES][4];
  gint alpha = argb >> 24;
  guint p;

  if (alpha == 0 || w <= 0 || h <= 0)
    return;
  op_pixel_color_bytes (&frame->info, argb, px);
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (frame); p++) {
    OpPixelPlane pl;
    gint x0, x1, y0, y1, row, i, k;

    op_pixel_plane (frame, p, &pl);
    if (pl.n_comps == 0 || pl.pstride > 4)
      continue;
    if (!op_pixel_plane_span (x, w, pl.sx, pl.width, &x0, &x1) ||
        !op_pixel_plane_span (y, h, pl.sy, pl.height, &y0, &y1))
      continue;
    for (row = y0; row < y1; row++) {
      guint8 *d = pl.data + (gsize) row * pl.stride + (gsize) x0 * pl.pstride;

      for (i = 0; i < (x1 - x0); i++) {
        for (k = 0; k < pl.pstride; k++)
          d[k] = (d[k] * (255 - alpha) + px[p][k] * alpha + 127) / 255;
        d += pl.pstride;
      }
    }
  }
}
