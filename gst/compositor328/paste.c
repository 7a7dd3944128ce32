/* onepass: compositor328's pixel work: scale a crop onto a frame rectangle.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bilinear with OpenCV's INTER_LINEAR sampling and fixed-point scheme
 * (half-pixel centres, edge clamping, 11-bit weights; horizontal pass kept
 * in 16 bits, vertical pass as high halves of 16-bit products, which SSE2
 * does eight at a time), so an unscaled paste copies bytes exactly and a
 * scaled one matches cv2.resize to within 1.
 * Works plane by plane on every byte of a pixel, so one loop serves packed
 * RGB, gray, planar and semi-planar YUV. */
#include "paste.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define WBITS 11
#define WONE (1 << WBITS)


/* Source position and weight of destination pixel @d along one axis. */
static inline void
map_axis (gint d, gdouble r0, gdouble rsize, gint csize, gint * s0,
    gint * s1, gint * w)
{
  gdouble s = (d + 0.5 - r0) * csize / rsize - 0.5;
  gint i;

  if (s <= 0) {
    *s0 = *s1 = 0;
    *w = 0;
    return;
  }
  if (s >= csize - 1) {
    *s0 = *s1 = csize - 1;
    *w = 0;
    return;
  }
  i = (gint) floor (s);
  *w = (gint) lrint ((s - i) * WONE);
  if (*w >= WONE) {
    i++;
    *w = 0;
  }
  *s0 = i;
  *s1 = *w ? i + 1 : i;
}

/* One source row filtered horizontally: value * 128 in 16 bits. */
static inline void
hpass (const guint8 * s, const gint * o0, const gint * o1, const gint * w,
    gint cols, gint n, gint16 * out)
{
  gint i, k;

  for (i = 0; i < cols; i++) {
    const guint8 *a = s + o0[i], *b = s + o1[i];
    const gint wb = w[i];

    for (k = 0; k < n; k++)
      out[k] = ((a[k] << WBITS) + (b[k] - a[k]) * wb) >> 4;
    out += n;
  }
}

#ifdef __SSE2__
/* Packed 3- and 4-byte pixels, two pixels a step: each one's two source
 * pixels interleaved as 16-bit lanes, one multiply-add by (wa, wb), the
 * two results packed and stored @n values apart (the second store
 * overwrites the first one's spare value). @wq holds each column's
 * (WONE - w, w) 16-bit pair four times, the multiplier of _mm_madd_epi16.
 * @row_bytes bounds the 4-byte loads; @out has room for one spare value. */
static void
hpass_packed_sse2 (const guint8 * s, const gint * o0, const gint * o1,
    const gint * w, const guint32 * wq, gint cols, gint n, gint row_bytes,
    gint16 * out)
{
  const __m128i zero = _mm_setzero_si128 ();
  gint i = 0, safe = cols;

  /* o1 never decreases: the columns before @safe load inside the row */
  while (safe > 0 && o1[safe - 1] + 4 > row_bytes)
    safe--;
  for (; i + 2 <= safe; i += 2) {
    guint32 a0, b0, a1, b1;
    __m128i x, r0, r1, v;

    memcpy (&a0, s + o0[i], 4);
    memcpy (&b0, s + o1[i], 4);
    memcpy (&a1, s + o0[i + 1], 4);
    memcpy (&b1, s + o1[i + 1], 4);
    x = _mm_unpacklo_epi64 (_mm_unpacklo_epi8 (_mm_cvtsi32_si128 ((gint) a0),
            _mm_cvtsi32_si128 ((gint) b0)),
        _mm_unpacklo_epi8 (_mm_cvtsi32_si128 ((gint) a1),
            _mm_cvtsi32_si128 ((gint) b1)));
    r0 = _mm_madd_epi16 (_mm_unpacklo_epi8 (x, zero),
        _mm_loadu_si128 ((const __m128i *) (wq + 4 * i)));
    r1 = _mm_madd_epi16 (_mm_unpackhi_epi8 (x, zero),
        _mm_loadu_si128 ((const __m128i *) (wq + 4 * i + 4)));
    v = _mm_packs_epi32 (_mm_srai_epi32 (r0, 4), _mm_srai_epi32 (r1, 4));
    _mm_storel_epi64 ((__m128i *) out, v);
    _mm_storel_epi64 ((__m128i *) (out + n), _mm_unpackhi_epi64 (v, v));
    out += 2 * n;
  }
  for (; i < safe; i++) {
    guint32 pa, pb;
    __m128i x, r;

    memcpy (&pa, s + o0[i], 4);
    memcpy (&pb, s + o1[i], 4);
    x = _mm_unpacklo_epi8 (_mm_cvtsi32_si128 ((gint) pa),
        _mm_cvtsi32_si128 ((gint) pb));
    r = _mm_madd_epi16 (_mm_unpacklo_epi8 (x, zero),
        _mm_loadu_si128 ((const __m128i *) (wq + 4 * i)));
    r = _mm_srai_epi32 (r, 4);
    _mm_storel_epi64 ((__m128i *) out, _mm_packs_epi32 (r, r));
    out += n;
  }
  /* the last pixels of the row, whose 4-byte loads would pass its end */
  hpass (s, o0 + i, o1 + i, w + i, cols - i, n, out);
}

/* One-byte pixels (planar YUV, GRAY8), eight a step: the two source bytes
 * of each output gathered, then (a, b) pairs times (WONE - w, w) as in
 * hpass (). */
static void
hpass_planar_sse2 (const guint8 * s, const gint * o0, const gint * o1,
    const gint * w, gint cols, gint16 * out)
{
  const __m128i one = _mm_set1_epi32 (WONE);
  gint i = 0;

  for (; i + 8 <= cols; i += 8) {
    const gint *p = o0 + i, *q = o1 + i;
    __m128i a = _mm_setr_epi16 (s[p[0]], s[p[1]], s[p[2]], s[p[3]], s[p[4]],
        s[p[5]], s[p[6]], s[p[7]]);
    __m128i b = _mm_setr_epi16 (s[q[0]], s[q[1]], s[q[2]], s[q[3]], s[q[4]],
        s[q[5]], s[q[6]], s[q[7]]);
    __m128i w0 = _mm_loadu_si128 ((const __m128i *) (w + i));
    __m128i w1 = _mm_loadu_si128 ((const __m128i *) (w + i + 4));
    __m128i lo, hi;

    w0 = _mm_or_si128 (_mm_sub_epi32 (one, w0), _mm_slli_epi32 (w0, 16));
    w1 = _mm_or_si128 (_mm_sub_epi32 (one, w1), _mm_slli_epi32 (w1, 16));
    lo = _mm_srai_epi32 (_mm_madd_epi16 (_mm_unpacklo_epi16 (a, b), w0), 4);
    hi = _mm_srai_epi32 (_mm_madd_epi16 (_mm_unpackhi_epi16 (a, b), w1), 4);
    _mm_storeu_si128 ((__m128i *) (out + i), _mm_packs_epi32 (lo, hi));
  }
  hpass (s, o0 + i, o1 + i, w + i, cols - i, 1, out + i);
}
#endif

/* Specialised for the pixel sizes we have, so the inner loop unrolls. */
static void
hpass_any (const guint8 * s, const gint * o0, const gint * o1,
    const gint * w, const guint32 * wq, gint cols, gint n, gint row_bytes,
    gint16 * out)
{
#ifdef __SSE2__
  if (n == 3 || n == 4) {
    hpass_packed_sse2 (s, o0, o1, w, wq, cols, n, row_bytes, out);
    return;
  }
  if (n == 1) {
    hpass_planar_sse2 (s, o0, o1, w, cols, out);
    return;
  }
#endif
  switch (n) {
    case 1:
      hpass (s, o0, o1, w, cols, 1, out);
      break;
    case 2:
      hpass (s, o0, o1, w, cols, 2, out);
      break;
    case 3:
      hpass (s, o0, o1, w, cols, 3, out);
      break;
    case 4:
      hpass (s, o0, o1, w, cols, 4, out);
      break;
    default:
      hpass (s, o0, o1, w, cols, n, out);
      break;
  }
}

/* (x * w) >> 16 twice, summed and rounded: value * 4 -> value. */
static inline gint
vmix (gint x0, gint x1, gint w0, gint w1)
{
  return (((x0 * w0) >> 16) + ((x1 * w1) >> 16) + 2) >> 2;
}

static void
vpass (guint8 * d, const gint16 * a, const gint16 * b, gint wy, gint len,
    gint alpha)
{
  const gint w1 = wy, w0 = WONE - wy;
  gint i = 0;

  if (alpha < 256) {
    for (; i < len; i++)
      d[i] = (d[i] * (256 - alpha) + vmix (a[i], b[i], w0, w1) * alpha +
          128) >> 8;
    return;
  }
#ifdef __SSE2__
  {
    const __m128i m0 = _mm_set1_epi16 (w0), m1 = _mm_set1_epi16 (w1);
    const __m128i two = _mm_set1_epi16 (2);

    for (; i + 8 <= len; i += 8) {
      __m128i x0 = _mm_loadu_si128 ((const __m128i *) (a + i));
      __m128i x1 = _mm_loadu_si128 ((const __m128i *) (b + i));
      __m128i v = _mm_add_epi16 (_mm_mulhi_epi16 (x0, m0),
          _mm_mulhi_epi16 (x1, m1));

      v = _mm_srai_epi16 (_mm_add_epi16 (v, two), 2);
      _mm_storel_epi64 ((__m128i *) (d + i), _mm_packus_epi16 (v, v));
    }
  }
#endif
  for (; i < len; i++)
    d[i] = vmix (a[i], b[i], w0, w1);
}

static void
paste_plane (const OpPixelPlane * dst, const OpPixelPlane * src,
    const gint rect[4], gint alpha)
{
  const gint n = dst->pstride;
  gdouble rx = (gdouble) rect[0] / dst->sx, ry = (gdouble) rect[1] / dst->sy;
  gdouble rw = (gdouble) rect[2] / dst->sx, rh = (gdouble) rect[3] / dst->sy;
  gint x0, x1, y0, y1, cols, i, y;
  gint *o0, *o1, *w;
  guint32 *wq;
  gint16 *rows[2];
  gint cached[2] = { -1, -1 };

  if (!op_pixel_plane_span (rect[0], rect[2], dst->sx, dst->width, &x0, &x1) ||
      !op_pixel_plane_span (rect[1], rect[3], dst->sy, dst->height, &y0, &y1))
    return;
  cols = x1 - x0;
  /* unscaled and on whole plane pixels (a crop pasted back at its own
   * size): every weight is 0, so the general loop would copy bytes; copy
   * the rows directly */
  if (alpha == 256 && rw == src->width && rh == src->height &&
      rx == floor (rx) && ry == floor (ry)) {
    for (y = y0; y < y1; y++)
      memcpy (dst->data + (gsize) y * dst->stride + (gsize) x0 * n,
          src->data + (gsize) (y - (gint) ry) * src->stride +
          (gsize) (x0 - (gint) rx) * n, (gsize) cols * n);
    return;
  }
  /* o0, o1, w, then wq (four values a column), in one block */
  o0 = g_new (gint, 7 * cols);
  o1 = o0 + cols;
  w = o1 + cols;
  wq = (guint32 *) (w + cols);
  /* one spare value per row for the 8-byte stores of 3-byte pixels */
  rows[0] = g_new (gint16, 2 * (cols * n + 4));
  rows[1] = rows[0] + cols * n + 4;

  for (i = 0; i < cols; i++) {
    gint s0, s1;

    map_axis (x0 + i, rx, rw, src->width, &s0, &s1, &w[i]);
    o0[i] = s0 * n;
    o1[i] = s1 * n;
    wq[4 * i] = wq[4 * i + 1] = wq[4 * i + 2] = wq[4 * i + 3] =
        (guint32) (WONE - w[i]) | ((guint32) w[i] << 16);
  }

  for (y = y0; y < y1; y++) {
    gint v0, v1, wy, sa, sb;

    map_axis (y, ry, rh, src->height, &v0, &v1, &wy);
    /* each source row is filtered horizontally once and reused by the
     * (about two) destination rows that read it */
    sa = cached[0] == v0 ? 0 : cached[1] == v0 ? 1 : -1;
    if (sa < 0) {
      sa = (cached[0] == v1) ? 1 : 0;
      hpass_any (src->data + (gsize) v0 * src->stride, o0, o1, w, wq, cols, n,
          src->width * n, rows[sa]);
      cached[sa] = v0;
    }
    sb = cached[0] == v1 ? 0 : cached[1] == v1 ? 1 : -1;
    if (sb < 0) {
      sb = 1 - sa;
      hpass_any (src->data + (gsize) v1 * src->stride, o0, o1, w, wq, cols, n,
          src->width * n, rows[sb]);
      cached[sb] = v1;
    }
    vpass (dst->data + (gsize) y * dst->stride + (gsize) x0 * n, rows[sa],
        rows[sb], wy, cols * n, alpha);
  }
  g_free (rows[0]);
  g_free (o0);
}

/**
 * op_paste_crop:
 * @frame: the full frame, mapped writable
 * @crop: the crop, same format
 * @rect: [x, y, w, h] in @frame's pixels; may pass the frame edge
 * @alpha: 0..1 opacity of the crop
 *
 * Scales the whole crop onto @rect (the inverse of the design's crop
 * formula) and writes the part inside the frame.
 *
 * Returns: FALSE when the formats differ or the rect is empty.
 */
gboolean
op_paste_crop (GstVideoFrame * frame, const GstVideoFrame * crop,
    const gint rect[4], gdouble alpha)
{
  gint a = (gint) lrint (CLAMP (alpha, 0.0, 1.0) * 256);
  guint p;

  if (GST_VIDEO_FRAME_FORMAT (frame) != GST_VIDEO_FRAME_FORMAT (crop) ||
      rect[2] <= 0 || rect[3] <= 0)
    return FALSE;
  if (a == 0)
    return TRUE;
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (frame); p++) {
    OpPixelPlane d, s;

    op_pixel_plane (frame, p, &d);
    op_pixel_plane (crop, p, &s);
    if (d.n_comps == 0 || s.width <= 0 || s.height <= 0)
      continue;
    paste_plane (&d, &s, rect, a);
  }
  return TRUE;
}

/**
 * op_paste_border:
 * @frame: the full frame, mapped writable
 * @rect: [x, y, w, h] of the pasted crop
 * @width: border width in pixels, drawn inside @rect
 * @argb: colour; its alpha byte is the border's opacity
 */
void
op_paste_border (GstVideoFrame * frame, const gint rect[4], guint width,
    guint32 argb)
{
  gint bw = MIN ((gint) width, MIN (rect[2], rect[3]));

  if (bw <= 0)
    return;
  op_pixel_blend_rect (frame, rect[0], rect[1], rect[2], bw, argb);
  op_pixel_blend_rect (frame, rect[0], rect[1] + rect[3] - bw, rect[2], bw,
      argb);
  op_pixel_blend_rect (frame, rect[0], rect[1] + bw, bw, rect[3] - 2 * bw,
      argb);
  op_pixel_blend_rect (frame, rect[0] + rect[2] - bw, rect[1] + bw, bw,
      rect[3] - 2 * bw, argb);
}
