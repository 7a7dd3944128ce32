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

/* The components that share one plane (R, G, B of packed RGB; U, V of
 * NV12): one position per pixel serves them all. */
typedef struct
{
  guint n;
  const guint8 *src[4];         /* each component's first input sample */
  guint8 *dst[4];
  guint fill[4];
  const guint8 *lut[4];         /* NULL: the value as interpolated */
  gint stride, pstride, width, height;  /* input */
  gint dst_stride, dst_pstride;
} PlaneJob;

static inline guint
fetch (const PlaneJob * j, guint k, gint x, gint y)
{
  if (x < 0 || y < 0 || x >= j->width || y >= j->height)
    return j->fill[k];
  return j->src[k][(gsize) y * j->stride + (gsize) x * j->pstride];
}

static inline guint8
blend (guint v00, guint v01, guint v10, guint v11, guint fx, guint fy,
    const guint8 * lut)
{
  guint v = v00 * (INTER_SIZE - fx) * (INTER_SIZE - fy) +
      v01 * fx * (INTER_SIZE - fy) + v10 * (INTER_SIZE - fx) * fy +
      v11 * fx * fy;

  v = (v + (1 << (2 * INTER_BITS - 1))) >> (2 * INTER_BITS);
  return lut ? lut[v] : (guint8) v;
}

static void
warp_plane (const PlaneJob * j, const OpAugMatrix * inv)
{
  const gdouble *m = inv->m;
  gint *adelta = g_new (gint, 2 * j->width), *bdelta = adelta + j->width;
  gint x, y, ps = j->pstride, st = j->stride;
  guint k;

  /* OpenCV's split: each column's part rounded on its own (once per
   * column), the row's part once per row, both in 1/1024 pixel */
  for (x = 0; x < j->width; x++) {
    adelta[x] = (gint) lrint (m[0] * x * AB_SCALE);
    bdelta[x] = (gint) lrint (m[3] * x * AB_SCALE);
  }
  for (y = 0; y < j->height; y++) {
    gint row_x = (gint) lrint ((m[1] * y + m[2]) * AB_SCALE) + ROUND_DELTA;
    gint row_y = (gint) lrint ((m[4] * y + m[5]) * AB_SCALE) + ROUND_DELTA;
    gsize out_row = (gsize) y * j->dst_stride;

    for (x = 0; x < j->width; x++) {
      gint X = (row_x + adelta[x]) >> (AB_BITS - INTER_BITS);
      gint Y = (row_y + bdelta[x]) >> (AB_BITS - INTER_BITS);
      gint sx = X >> INTER_BITS, sy = Y >> INTER_BITS;
      guint fx = X & (INTER_SIZE - 1), fy = Y & (INTER_SIZE - 1);
      gsize o = out_row + (gsize) x * j->dst_pstride;

      if (sx >= 0 && sy >= 0 && sx + 1 < j->width && sy + 1 < j->height) {
        /* the usual case: the 2x2 neighbourhood inside the image */
        gsize i = (gsize) sy * st + (gsize) sx * ps;

        for (k = 0; k < j->n; k++) {
          const guint8 *p = j->src[k] + i;

          j->dst[k][o] = blend (p[0], p[ps], p[st], p[st + ps], fx, fy,
              j->lut[k]);
        }
      } else {
        for (k = 0; k < j->n; k++)
          j->dst[k][o] = blend (fetch (j, k, sx, sy), fetch (j, k, sx + 1,
                  sy), fetch (j, k, sx, sy + 1), fetch (j, k, sx + 1, sy + 1),
              fx, fy, j->lut[k]);
      }
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

  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (in); p++) {
    PlaneJob j = { 0, };
    OpAugMatrix pm, inv;
    guint first = 0;

    for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (in); c++) {
      gboolean colour = !(GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f)
          && c == GST_VIDEO_COMP_A) && !(GST_VIDEO_FORMAT_INFO_IS_YUV (f)
          && c != GST_VIDEO_COMP_Y);

      if (GST_VIDEO_FORMAT_INFO_PLANE (f, c) != p)
        continue;
      if (j.n == 0)
        first = c;
      j.src[j.n] = GST_VIDEO_FRAME_COMP_DATA (in, c);
      j.dst[j.n] = GST_VIDEO_FRAME_COMP_DATA (out, c);
      j.fill[j.n] = fill_value (in, c);
      j.lut[j.n] = colour ? lut : NULL;
      j.n++;
    }
    if (j.n == 0)
      continue;
    /* the components of one plane share its sampling and strides */
    j.stride = GST_VIDEO_FRAME_COMP_STRIDE (in, first);
    j.pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (in, first);
    j.width = GST_VIDEO_FRAME_COMP_WIDTH (in, first);
    j.height = GST_VIDEO_FRAME_COMP_HEIGHT (in, first);
    j.dst_stride = GST_VIDEO_FRAME_COMP_STRIDE (out, first);
    j.dst_pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (out, first);
    op_aug_matrix_for_plane (mat, 1 << GST_VIDEO_FORMAT_INFO_W_SUB (f, first),
        1 << GST_VIDEO_FORMAT_INFO_H_SUB (f, first), &pm);
    /* scale >= 0.1 (the property's range): never singular */
    if (!op_aug_matrix_invert (&pm, &inv))
      g_return_if_reached ();
    warp_plane (&j, &inv);
  }
}
