/* onepass: annotaugment's pixel warp and colour jitter.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each output pixel takes the bilinear interpolation of the input at the
 * inverse-mapped position; input pixels outside the image count as the
 * fill value (black, transparent alpha, neutral chroma). The arithmetic is
 * OpenCV's warpAffine (INTER_LINEAR, BORDER_CONSTANT) in fixed point:
 * positions rounded to 1/32 pixel the way OpenCV rounds them, integer
 * weights, round-half-up of the weighted sum, so a user checking an
 * augmented crop against cv2.warpAffine with the same matrix finds the
 * same pixels. Every component is warped on its own plane with the matrix
 * moved to that plane's sampling (4:2:0 chroma included). */
#include <math.h>
#include <string.h>
#include "augwarp.h"

#define INTER_BITS 5
#define INTER_SIZE (1 << INTER_BITS)
#define AB_BITS 10
#define AB_SCALE (1 << AB_BITS)
#define ROUND_DELTA (AB_SCALE / INTER_SIZE / 2)

/* Brightness (levels added) and contrast (gain about mid-grey 128). */
void
op_aug_colour_lut (gdouble brightness, gdouble contrast, guint8 lut[256])
{
  guint v;

  for (v = 0; v < 256; v++) {
    gdouble o = contrast * ((gdouble) v - 128.0) + 128.0 + brightness;

    lut[v] = (guint8) CLAMP (lrint (o), 0, 255);
  }
}

typedef struct
{
  const guint8 *data;
  gint stride, pstride, width, height;
} Plane;

static inline guint
fetch (const Plane * p, gint x, gint y, guint fill)
{
  if (x < 0 || y < 0 || x >= p->width || y >= p->height)
    return fill;
  return p->data[(gsize) y * p->stride + (gsize) x * p->pstride];
}

static void
warp_component (const Plane * src, guint8 * dst, gint dst_stride,
    gint dst_pstride, gint width, gint height, const OpAugMatrix * inv,
    guint fill, const guint8 * lut)
{
  const gdouble *m = inv->m;
  gint *adelta = g_new (gint, 2 * width), *bdelta = adelta + width;
  gint x, y;

  /* OpenCV's split: each column's part rounded on its own (once per
   * column), the row's part once per row, both in 1/1024 pixel */
  for (x = 0; x < width; x++) {
    adelta[x] = (gint) lrint (m[0] * x * AB_SCALE);
    bdelta[x] = (gint) lrint (m[3] * x * AB_SCALE);
  }
  for (y = 0; y < height; y++) {
    gint row_x = (gint) lrint ((m[1] * y + m[2]) * AB_SCALE) + ROUND_DELTA;
    gint row_y = (gint) lrint ((m[4] * y + m[5]) * AB_SCALE) + ROUND_DELTA;
    guint8 *out = dst + (gsize) y * dst_stride;

    for (x = 0; x < width; x++) {
      gint X = (row_x + adelta[x]) >> (AB_BITS - INTER_BITS);
      gint Y = (row_y + bdelta[x]) >> (AB_BITS - INTER_BITS);
      gint sx = X >> INTER_BITS, sy = Y >> INTER_BITS;
      guint fx = X & (INTER_SIZE - 1), fy = Y & (INTER_SIZE - 1);
      guint v00, v01, v10, v11, v;

      if (sx >= 0 && sy >= 0 && sx + 1 < src->width && sy + 1 < src->height) {
        /* the usual case: the 2x2 neighbourhood inside the image */
        const guint8 *p = src->data + (gsize) sy * src->stride +
            (gsize) sx * src->pstride;

        v00 = p[0];
        v01 = p[src->pstride];
        v10 = p[src->stride];
        v11 = p[src->stride + src->pstride];
      } else {
        v00 = fetch (src, sx, sy, fill);
        v01 = fetch (src, sx + 1, sy, fill);
        v10 = fetch (src, sx, sy + 1, fill);
        v11 = fetch (src, sx + 1, sy + 1, fill);
      }
      v = v00 * (INTER_SIZE - fx) * (INTER_SIZE - fy) +
          v01 * fx * (INTER_SIZE - fy) + v10 * (INTER_SIZE - fx) * fy +
          v11 * fx * fy;
      v = (v + (1 << (2 * INTER_BITS - 1))) >> (2 * INTER_BITS);
      out[(gsize) x * dst_pstride] = lut ? lut[v] : (guint8) v;
    }
  }
  g_free (adelta);
}

/* What lies outside the input image, per component. */
static guint
fill_value (const GstVideoFrame * frame, guint comp)
{
  const GstVideoFormatInfo *f = frame->info.finfo;

  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f) && comp == GST_VIDEO_COMP_A)
    return 0;
  if (GST_VIDEO_FORMAT_INFO_IS_YUV (f)) {
    if (comp != GST_VIDEO_COMP_Y)
      return 128;
    return frame->info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255 ?
        0 : 16;
  }
  return 0;
}

void
op_aug_warp_frame (const GstVideoFrame * in, GstVideoFrame * out,
    const OpAugMatrix * mat, const guint8 lut[256])
{
  const GstVideoFormatInfo *f = in->info.finfo;
  guint c, p;

  /* padding bytes (RGBx...) are no component: make them defined */
  if (!GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f) && GST_VIDEO_FORMAT_INFO_IS_RGB (f)
      && GST_VIDEO_FRAME_COMP_PSTRIDE (out, 0) == 4)
    for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (out); p++)
      memset (GST_VIDEO_FRAME_PLANE_DATA (out, p), 0,
          (gsize) GST_VIDEO_FRAME_PLANE_STRIDE (out, p) *
          GST_VIDEO_FRAME_HEIGHT (out));

  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (in); c++) {
    OpAugMatrix pm, inv;
    Plane src;
    gboolean colour = !(GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f)
        && c == GST_VIDEO_COMP_A) && !(GST_VIDEO_FORMAT_INFO_IS_YUV (f)
        && c != GST_VIDEO_COMP_Y);

    op_aug_matrix_for_plane (mat, 1 << GST_VIDEO_FORMAT_INFO_W_SUB (f, c),
        1 << GST_VIDEO_FORMAT_INFO_H_SUB (f, c), &pm);
    if (!op_aug_matrix_invert (&pm, &inv))
      return;                   /* the caller refuses such matrices */
    src.data = GST_VIDEO_FRAME_COMP_DATA (in, c);
    src.stride = GST_VIDEO_FRAME_COMP_STRIDE (in, c);
    src.pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (in, c);
    src.width = GST_VIDEO_FRAME_COMP_WIDTH (in, c);
    src.height = GST_VIDEO_FRAME_COMP_HEIGHT (in, c);
    warp_component (&src, GST_VIDEO_FRAME_COMP_DATA (out, c),
        GST_VIDEO_FRAME_COMP_STRIDE (out, c),
        GST_VIDEO_FRAME_COMP_PSTRIDE (out, c), src.width, src.height, &inv,
        fill_value (in, c), colour ? lut : NULL);
  }
}
