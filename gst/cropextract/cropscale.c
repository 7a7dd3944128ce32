/* cropextract: crop + bilinear scale of one image plane, with fill outside.
 *
 * Two orders, picked by the vertical scale, so that the expensive gather
 * (two taps per output pixel from precomputed tables) runs as rarely as
 * possible. Shrinking: vertical pass first (two source rows blended over
 * the used column span), then the gather once per output row; for 3 and 4
 * bytes per pixel with SSE2 both are explicit SIMD (vblend16, with an
 * AVX2 twin picked at run time, then gather_pack_3/4, which blends with
 * pmaddwd and packs straight to the output row), else plain loops
 * (vblend, hrow, pack). Enlarging: the gather once per source row (two
 * rows cached; SSE2 for 3 and 4 bytes per pixel), then a vectorized
 * vertical blend per output row. Weights are fixed point (8 bits for the
 * vertical blend when shrinking, 7 otherwise, so rows fit 16-bit lanes);
 * every path computes the same integers as the plain loops. A zero weight
 * reproduces the source byte exactly, and integer-aligned 1:1 maps copy.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cropscale.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* x86-64 with gcc or clang: an AVX2 twin of vblend16, picked at run time
 * (the rest of the file stays SSE2) */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__) \
    && !defined(__AVX2__)
#include <immintrin.h>
#define OP_CROP_HAVE_AVX2 1
#endif
/* and an SSSE3 (pshufb) gather for one byte per pixel, likewise */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define OP_CROP_HAVE_SSSE3 1
#endif

struct _OpCropScaler
{
  guint max_dst_w, max_dst_h, max_src_w, max_ch;
  gint *xa, *xb;                /* per output column: taps (source pixels) */
  guint16 *xw;                  /* weight of the right tap, 0..256 */
  gint *ya, *yb;                /* per output row: source rows */
  guint16 *yw;
  guint8 *tmp;                  /* one vertically blended source span */
  guint16 *tmp16;               /* the same as 16-bit lanes (SSE2 path) */
  gint16 *rows[2];              /* horizontally scaled source rows */
  gint16 *wtab;                 /* per output column: 8 lane weights,
                                 * 16-byte aligned inside wtab_mem */
  gint16 *wtab_mem;
  gint row_y[2];                /* which source row each holds, -1 none */
  gboolean avx2;                /* vblend16_avx2 usable (checked at new) */
  gboolean ssse3;               /* gather8_1_ssse3 usable (checked at new) */
  guint8 *shuf;                 /* one byte per pixel: per 8 output columns
                                 * a pshufb mask, 16-byte aligned in shuf_mem */
  guint8 *shuf_mem;
  guint8 *fit;                  /* per 8 columns: the mask's 16 bytes hold
                                 * all taps */
};

OpCropScaler *
op_crop_scaler_new (guint max_dst_w, guint max_dst_h, guint max_src_w,
    guint max_ch)
{
  OpCropScaler *s = g_new0 (OpCropScaler, 1);

  s->max_dst_w = max_dst_w;
  s->max_dst_h = max_dst_h;
  s->max_src_w = max_src_w;
  s->max_ch = max_ch;
#ifdef OP_CROP_HAVE_AVX2
  s->avx2 = __builtin_cpu_supports ("avx2");
#endif
#ifdef OP_CROP_HAVE_SSSE3
  s->ssse3 = __builtin_cpu_supports ("ssse3");
#endif
  s->xa = g_new (gint, max_dst_w);
  s->xb = g_new (gint, max_dst_w);
  s->xw = g_new (guint16, max_dst_w);
  s->ya = g_new (gint, max_dst_h);
  s->yb = g_new (gint, max_dst_h);
  s->yw = g_new (guint16, max_dst_h);
  /* zeroed + 8: SIMD loads may read past the span (with weight 0) */
  /* + 16: the SSSE3 gather loads 16 bytes from a tap (weight 0 past the
   * span) */
  s->tmp = g_new0 (guint8, (gsize) max_src_w * max_ch + 16);
  /* zeroed + 8: gather_px reads up to 3 lanes past the span (weight 0) */
  s->tmp16 = g_new0 (guint16, (gsize) max_src_w * max_ch + 8);
  /* + 4: the SIMD path stores 4 lanes per 3-byte pixel */
  s->rows[0] = g_new (gint16, (gsize) max_dst_w * max_ch + 4);
  s->rows[1] = g_new (gint16, (gsize) max_dst_w * max_ch + 4);
  s->wtab_mem = g_new (gint16, (gsize) max_dst_w * 8 + 8);
  s->wtab = (gint16 *) (((guintptr) s->wtab_mem + 15) & ~(guintptr) 15);
  s->shuf_mem = g_new0 (guint8, (gsize) max_dst_w * 2 + 32);
  s->shuf = (guint8 *) (((guintptr) s->shuf_mem + 15) & ~(guintptr) 15);
  s->fit = g_new0 (guint8, max_dst_w / 8 + 1);
  return s;
}

void
op_crop_scaler_free (OpCropScaler * s)
{
  if (s == NULL)
    return;
  g_free (s->xa);
  g_free (s->xb);
  g_free (s->xw);
  g_free (s->ya);
  g_free (s->yb);
  g_free (s->yw);
  g_free (s->tmp);
  g_free (s->tmp16);
  g_free (s->rows[0]);
  g_free (s->rows[1]);
  g_free (s->wtab_mem);
  g_free (s->shuf_mem);
  g_free (s->fit);
  g_free (s);
}

/* Fills the tap tables of one axis for the output pixels whose centre maps
 * inside the source ([0, src_n) in edge coordinates) and returns that
 * contiguous range as [*d0, *d1). Taps are clamped to the source, so
 * nothing outside it is ever read. */
static void
build_axis (gdouble scale, gdouble off, guint src_n, guint dst_n,
    gint * ta, gint * tb, guint16 * tw, guint * d0, guint * d1)
{
  guint d, first = dst_n, end = dst_n;

  for (d = 0; d < dst_n; d++) {
    gdouble e = (d + 0.5) * scale + off;
    gdouble p;
    gint i;
    guint w;

    if (!(e >= 0.0 && e < (gdouble) src_n)) {
      if (first != dst_n && end == dst_n)
        end = d;
      continue;
    }
    if (first == dst_n)
      first = d;
    p = CLAMP (e - 0.5, 0.0, (gdouble) src_n - 1.0);
    /* p >= 0, so truncation is floor (without a libm call per pixel) */
    i = (gint) p;
    w = (guint) ((p - i) * 256.0 + 0.5);
    if (w >= 256) {
      i++;
      w = 0;
    }
    ta[d] = i;
    tb[d] = MIN (i + 1, (gint) src_n - 1);
    tw[d] = w;
  }
  *d0 = first;
  *d1 = first == dst_n ? dst_n : end;
}

static void
fill_span (guint8 * dst, guint n, guint ch, const guint8 * fill)
{
  guint i;

  if (ch == 1) {
    memset (dst, fill[0], n);
    return;
  }
  if (n == 0)
    return;
  /* one pixel, then copies of what is already written, doubling */
  memcpy (dst, fill, ch);
  for (i = 1; i < n; i += MIN (i, n - i))
    memcpy (dst + i * ch, dst, MIN (i, n - i) * ch);
}

/* two source rows blended to 8 bits (16-bit lanes: at most 65408) */
static void
vblend (guint8 * restrict tmp, const guint8 * restrict r0,
    const guint8 * restrict r1, guint w, guint n)
{
  const guint16 wb = w, wa = 256 - w;
  guint i;

  for (i = 0; i < n; i++)
    tmp[i] = (guint8) ((guint16) (r0[i] * wa + r1[i] * wb + 128) >> 8);
}

/* value * 128 back to bytes */
static void
pack (guint8 * restrict out, const gint16 * restrict in, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    out[i] = (guint8) ((in[i] + 64) >> 7);
}

/* horizontal taps straight from a source row, with 7-bit weights so the
 * result (value * 128, at most 32640) fits a signed 16-bit lane */
static inline void
hrow (gint16 * restrict out, const guint8 * restrict src,
    const gint * restrict xa, const gint * restrict xb,
    const guint16 * restrict xw, guint n, const guint ch)
{
  guint i, c;

  for (i = 0; i < n; i++) {
    const gint16 wb = (xw[i] + 1) >> 1, wa = 128 - wb;
    const guint8 *pa = src + xa[i], *pb = src + xb[i];

    for (c = 0; c < ch; c++)
      out[i * ch + c] = pa[c] * wa + pb[c] * wb;
  }
}

#ifdef __SSE2__
/* 3 or 4 bytes per pixel: both taps of a pixel are adjacent, so one 8-byte
 * load holds them; multiply by [wa x ch, wb x ch] and add the halves. Only
 * for columns whose 8-byte load stays inside the row (n_simd). */
static guint
hrow_simd (gint16 * restrict out, const guint8 * restrict src,
    const gint * restrict xa, const gint16 * restrict wtab, guint n, guint ch)
{
  const __m128i zero = _mm_setzero_si128 ();
  guint i;

  for (i = 0; i < n; i++) {
    __m128i v = _mm_loadl_epi64 ((const __m128i *) (src + xa[i]));
    __m128i w = _mm_loadu_si128 ((const __m128i *) (wtab + i * 8));
    __m128i p = _mm_mullo_epi16 (_mm_unpacklo_epi8 (v, zero), w);
    __m128i sum = ch == 3 ? _mm_add_epi16 (p, _mm_srli_si128 (p, 6)) :
        _mm_add_epi16 (p, _mm_srli_si128 (p, 8));

    _mm_storel_epi64 ((__m128i *) (out + i * ch), sum);
  }
  return n;
}
#endif

#ifdef __SSE2__
/* Shrinking, 3 or 4 bytes per pixel, SSE2: per output row one vertical
 * pass over the used span into @tmp16 (the same integers as vblend, kept
 * as 16-bit lanes), then one pass that gathers both taps of each output
 * pixel, blends them with pmaddwd and packs to bytes (the same integers
 * as hrow + pack). */
static void
vblend16 (guint16 * restrict tmp, const guint8 * restrict r0,
    const guint8 * restrict r1, guint w, guint n)
{
  const guint16 wb = w, wa = 256 - w;
  const __m128i vwa = _mm_set1_epi16 (wa), vwb = _mm_set1_epi16 (wb);
  const __m128i round = _mm_set1_epi16 (128), zero = _mm_setzero_si128 ();
  guint i;

  /* at most 255 * 256 + 128: exact in unsigned 16-bit lanes */
  for (i = 0; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128 ((const __m128i *) (r0 + i));
    __m128i b = _mm_loadu_si128 ((const __m128i *) (r1 + i));
    __m128i lo = _mm_add_epi16 (_mm_mullo_epi16 (_mm_unpacklo_epi8 (a, zero),
            vwa), _mm_mullo_epi16 (_mm_unpacklo_epi8 (b, zero), vwb));
    __m128i hi = _mm_add_epi16 (_mm_mullo_epi16 (_mm_unpackhi_epi8 (a, zero),
            vwa), _mm_mullo_epi16 (_mm_unpackhi_epi8 (b, zero), vwb));

    _mm_storeu_si128 ((__m128i *) (tmp + i),
        _mm_srli_epi16 (_mm_add_epi16 (lo, round), 8));
    _mm_storeu_si128 ((__m128i *) (tmp + i + 8),
        _mm_srli_epi16 (_mm_add_epi16 (hi, round), 8));
  }
  for (; i < n; i++)
    tmp[i] = (guint16) (r0[i] * wa + r1[i] * wb + 128) >> 8;
}

#ifdef OP_CROP_HAVE_AVX2
/* vblend16 with 16 lanes per op: the same integers */
/* *INDENT-OFF* */
__attribute__ ((target ("avx2")))
static void
vblend16_avx2 (guint16 * restrict tmp, const guint8 * restrict r0,
    const guint8 * restrict r1, guint w, guint n)
/* *INDENT-ON* */
{
  const guint16 wb = w, wa = 256 - w;
  const __m256i vwa = _mm256_set1_epi16 (wa), vwb = _mm256_set1_epi16 (wb);
  const __m256i round = _mm256_set1_epi16 (128);
  guint i;

  for (i = 0; i + 16 <= n; i += 16) {
    __m256i a = _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *)
            (r0 + i)));
    __m256i b = _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *)
            (r1 + i)));
    __m256i v = _mm256_add_epi16 (_mm256_add_epi16 (_mm256_mullo_epi16 (a,
                vwa), _mm256_mullo_epi16 (b, vwb)), round);

    _mm256_storeu_si256 ((__m256i *) (tmp + i), _mm256_srli_epi16 (v, 8));
  }
  for (; i < n; i++)
    tmp[i] = (guint16) (r0[i] * wa + r1[i] * wb + 128) >> 8;
}
#endif

/* taps a.. and a + ch.. (4 lanes each) interleaved, times the [wa, wb]
 * pairs of fill_wtab_pairs: per channel tap_a * wa + tap_b * wb in a
 * 32-bit lane (at most 32640; lanes beyond ch 0). Reads tmp[a .. a+ch+3]. */
static inline __m128i
gather_px (const guint16 * tmp, gint a, const gint16 * w, const guint ch)
{
  __m128i p = _mm_unpacklo_epi16 (_mm_loadl_epi64 ((const __m128i *) (tmp + a)),
      _mm_loadl_epi64 ((const __m128i *) (tmp + a + ch)));

  return _mm_madd_epi16 (p, _mm_load_si128 ((const __m128i *) w));
}

/* four pixels to 16 bytes, (v + 64) >> 7 as in pack; 4 bytes per pixel
 * (the 4th 0 when ch == 3) */
static inline __m128i
gather4 (const guint16 * tmp, const gint * xa, const gint16 * w, const guint ch)
{
  const __m128i round = _mm_set1_epi16 (64);
  __m128i p0 = gather_px (tmp, xa[0], w, ch);
  __m128i p1 = gather_px (tmp, xa[1], w + 8, ch);
  __m128i p2 = gather_px (tmp, xa[2], w + 16, ch);
  __m128i p3 = gather_px (tmp, xa[3], w + 24, ch);
  __m128i lo = _mm_srai_epi16 (_mm_add_epi16 (_mm_packs_epi32 (p0, p1),
          round), 7);
  __m128i hi = _mm_srai_epi16 (_mm_add_epi16 (_mm_packs_epi32 (p2, p3),
          round), 7);

  return _mm_packus_epi16 (lo, hi);
}

static inline void
gather_pack_1 (guint8 * out, const guint16 * tmp, gint a, const gint16 * w,
    const guint ch)
{
  __m128i p = gather_px (tmp, a, w, ch);
  guint32 v;

  p = _mm_srai_epi16 (_mm_add_epi16 (_mm_packs_epi32 (p, p),
          _mm_set1_epi16 (64)), 7);
  v = (guint32) _mm_cvtsi128_si32 (_mm_packus_epi16 (p, p));
  memcpy (out, &v, ch);
}

static void
gather_pack_3 (guint8 * restrict out, const guint16 * restrict tmp,
    const gint * restrict xa, const gint16 * restrict wtab, guint n)
{
  /* per 64-bit half: bytes 0-2 of one pixel and 4-6 of the next -> 0-5 */
  const __m128i mlo = _mm_set_epi32 (0, 0x00ffffff, 0, 0x00ffffff);
  const __m128i mhi = _mm_set_epi32 (0x0000ffff, (gint) 0xff000000,
      0x0000ffff, (gint) 0xff000000);
  const gint *end = xa + n;

  /* two 8-byte stores per 4 pixels, each 2 bytes too long: only while a
   * pixel follows to be written after */
  for (; end - xa > 4; xa += 4, wtab += 32, out += 12) {
    __m128i v = gather4 (tmp, xa, wtab, 3);

    v = _mm_or_si128 (_mm_and_si128 (v, mlo),
        _mm_and_si128 (_mm_srli_epi64 (v, 8), mhi));
    _mm_storel_epi64 ((__m128i *) out, v);
    _mm_storel_epi64 ((__m128i *) (out + 6), _mm_unpackhi_epi64 (v, v));
  }
  for (; xa < end; xa++, wtab += 8, out += 3)
    gather_pack_1 (out, tmp, *xa, wtab, 3);
}

static void
gather_pack_4 (guint8 * restrict out, const guint16 * restrict tmp,
    const gint * restrict xa, const gint16 * restrict wtab, guint n)
{
  const gint *end = xa + n;

  for (; end - xa >= 4; xa += 4, wtab += 32, out += 16)
    _mm_storeu_si128 ((__m128i *) out, gather4 (tmp, xa, wtab, 4));
  for (; xa < end; xa++, wtab += 8, out += 4)
    gather_pack_1 (out, tmp, *xa, wtab, 4);
}

/* per output column: [wa, wb] (7 bits, as in hrow) for each of 4 channels,
 * 0 beyond ch */
static void
fill_wtab_pairs (OpCropScaler * s, guint dx0, guint n, guint ch)
{
  guint x, c;

  for (x = 0; x < n; x++) {
    gint16 wb = (s->xw[dx0 + x] + 1) >> 1, wa = 128 - wb;

    for (c = 0; c < 4; c++) {
      s->wtab[x * 8 + 2 * c] = c < ch ? wa : 0;
      s->wtab[x * 8 + 2 * c + 1] = c < ch ? wb : 0;
    }
  }
}

/* One byte per pixel (GRAY8, the planes of I420 and the like): per output
 * column the pair [wa, wb] (7 bits, as in hrow), packed, for gather8_1. */
static void
fill_wtab_1 (OpCropScaler * s, guint dx0, guint n)
{
  guint x;

  for (x = 0; x < n; x++) {
    gint16 wb = (s->xw[dx0 + x] + 1) >> 1;

    s->wtab[2 * x] = 128 - wb;
    s->wtab[2 * x + 1] = wb;
  }
}

static inline gint
load16 (const guint8 * p)
{
  guint16 t;

  memcpy (&t, p, 2);
  return t;
}

/* Eight output pixels of one byte each: the two taps of a pixel are the
 * adjacent bytes src[a] and src[a + 1] (the right tap's weight is 0 where
 * build_axis clamped it onto the left one), one 16-bit load each; times
 * the [wa, wb] pairs of fill_wtab_1 with pmaddwd: value * 128 per pixel in
 * 16-bit lanes, the same integers as hrow. Reads src[a .. a + 1]. */
static inline __m128i
gather8_1 (const guint8 * src, const gint * xa, const gint16 * w)
{
  const __m128i zero = _mm_setzero_si128 ();
  __m128i v = _mm_cvtsi32_si128 (load16 (src + xa[0]));

  v = _mm_insert_epi16 (v, load16 (src + xa[1]), 1);
  v = _mm_insert_epi16 (v, load16 (src + xa[2]), 2);
  v = _mm_insert_epi16 (v, load16 (src + xa[3]), 3);
  v = _mm_insert_epi16 (v, load16 (src + xa[4]), 4);
  v = _mm_insert_epi16 (v, load16 (src + xa[5]), 5);
  v = _mm_insert_epi16 (v, load16 (src + xa[6]), 6);
  v = _mm_insert_epi16 (v, load16 (src + xa[7]), 7);
  return _mm_packs_epi32 (_mm_madd_epi16 (_mm_unpacklo_epi8 (v, zero),
          _mm_loadu_si128 ((const __m128i *) w)),
      _mm_madd_epi16 (_mm_unpackhi_epi8 (v, zero),
          _mm_loadu_si128 ((const __m128i *) (w + 8))));
}

/* Per 8 output columns from @dx0 (taps @xa relative to the row or span):
 * the pshufb mask that picks both taps of the 8 pixels out of the 16 bytes
 * at the group's first tap, and whether it can: the taps lie within those
 * 16 bytes (enlarging, or shrinking by at most 2) and the 16-byte load ends
 * by @limit. */
static void
fill_shuf_1 (OpCropScaler * s, const gint * xa, guint n, gint limit)
{
  guint g, k;

  for (g = 0; g < n / 8; g++) {
    const gint *t = xa + 8 * g;

    s->fit[g] = t[7] + 1 - t[0] <= 15 && t[0] + 16 <= limit;
    for (k = 0; k < 8 && s->fit[g]; k++) {
      s->shuf[16 * g + 2 * k] = t[k] - t[0];
      s->shuf[16 * g + 2 * k + 1] = t[k] - t[0] + 1;
    }
  }
}

#ifdef OP_CROP_HAVE_SSSE3
/* gather8_1 with one 16-byte load and a pshufb per 8 pixels where the taps
 * fit (fill_shuf_1): the same integers */
/* *INDENT-OFF* */
__attribute__ ((target ("ssse3")))
static inline __m128i
gather8_1_ssse3 (const guint8 * src, const gint * xa, const gint16 * w,
    const guint8 * shuf, gboolean fit)
/* *INDENT-ON* */
{
  const __m128i zero = _mm_setzero_si128 ();
  __m128i v;

  if (!fit)
    return gather8_1 (src, xa, w);
  v = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (src + xa[0])),
      _mm_load_si128 ((const __m128i *) shuf));
  return _mm_packs_epi32 (_mm_madd_epi16 (_mm_unpacklo_epi8 (v, zero),
          _mm_loadu_si128 ((const __m128i *) w)),
      _mm_madd_epi16 (_mm_unpackhi_epi8 (v, zero),
          _mm_loadu_si128 ((const __m128i *) (w + 8))));
}

/* *INDENT-OFF* */
__attribute__ ((target ("ssse3")))
static guint
hrow_ssse3_1 (gint16 * restrict out, const guint8 * restrict src,
    const gint * restrict xa, const gint16 * restrict wtab,
    const guint8 * shuf, const guint8 * fit, guint n)
/* *INDENT-ON* */

{
  guint i;

  for (i = 0; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (out + i), gather8_1_ssse3 (src, xa + i,
            wtab + 2 * i, shuf + 2 * i, fit[i / 8]));
  return i;
}

/* *INDENT-OFF* */
__attribute__ ((target ("ssse3")))
static guint
gather_pack_ssse3_1 (guint8 * restrict out, const guint8 * restrict tmp,
    const gint * restrict xa, const gint16 * restrict wtab,
    const guint8 * shuf, const guint8 * fit, guint n)
/* *INDENT-ON* */

{
  const __m128i round = _mm_set1_epi16 (64);
  guint i;

  for (i = 0; i + 8 <= n; i += 8) {
    __m128i v = _mm_srai_epi16 (_mm_add_epi16 (gather8_1_ssse3 (tmp, xa + i,
                wtab + 2 * i, shuf + 2 * i, fit[i / 8]), round), 7);

    _mm_storel_epi64 ((__m128i *) (out + i), _mm_packus_epi16 (v, v));
  }
  return i;
}
#endif

/* hrow for one byte per pixel, eight columns at a time (@shuf and @fit
 * from fill_shuf_1, or NULL); returns how many columns it did (a multiple
 * of 8, at most @n) */
static guint
hrow_simd_1 (gint16 * restrict out, const guint8 * restrict src,
    const gint * restrict xa, const gint16 * restrict wtab,
    const guint8 * shuf, const guint8 * fit, guint n)
{
  guint i;

#ifdef OP_CROP_HAVE_SSSE3
  if (shuf)
    return hrow_ssse3_1 (out, src, xa, wtab, shuf, fit, n);
#endif
  for (i = 0; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (out + i), gather8_1 (src, xa + i,
            wtab + 2 * i));
  return i;
}

/* hrow + pack for one byte per pixel, from the vertically blended span
 * (padded, so a + 1 may pass its end): the same integers as the plain
 * loops */
static void
gather_pack_1ch (guint8 * restrict out, const guint8 * restrict tmp,
    const gint * restrict xa, const gint16 * restrict wtab,
    const guint8 * shuf, const guint8 * fit, guint n)
{
  const __m128i round = _mm_set1_epi16 (64);
  guint i = 0;

#ifdef OP_CROP_HAVE_SSSE3
  if (shuf)
    i = gather_pack_ssse3_1 (out, tmp, xa, wtab, shuf, fit, n);
#endif
  for (; i + 8 <= n; i += 8) {
    __m128i v = _mm_srai_epi16 (_mm_add_epi16 (gather8_1 (tmp, xa + i,
                wtab + 2 * i), round), 7);

    _mm_storel_epi64 ((__m128i *) (out + i), _mm_packus_epi16 (v, v));
  }
  for (; i < n; i++)
    out[i] = (guint8) ((tmp[xa[i]] * wtab[2 * i] +
            tmp[xa[i] + 1] * wtab[2 * i + 1] + 64) >> 7);
}
#endif

/* kept out of line, as it was before the shrinking path stopped using it
 * for 3 and 4 channels: inlined into cached_row, gcc 12 gives the
 * enlarging path about 4% more instructions */
G_GNUC_NO_INLINE static void
hrow_any (gint16 * out, const guint8 * src, const gint * xa, const gint * xb,
    const guint16 * xw, const gint16 * wtab, const guint8 * shuf,
    const guint8 * fit, guint n_simd, guint n, guint ch)
{
  guint done = 0;

#ifdef __SSE2__
  if (n_simd > 0)
    done = ch == 1 ? hrow_simd_1 (out, src, xa, wtab, shuf, fit, n_simd) :
        hrow_simd (out, src, xa, wtab, n_simd, ch);
#endif
  out += done * ch;
  xa += done;
  xb += done;
  xw += done;
  n -= done;
  switch (ch) {
    case 1:
      hrow (out, src, xa, xb, xw, n, 1);
      break;
    case 2:
      hrow (out, src, xa, xb, xw, n, 2);
      break;
    case 3:
      hrow (out, src, xa, xb, xw, n, 3);
      break;
    default:
      hrow (out, src, xa, xb, xw, n, 4);
      break;
  }
}

/* r0 + (r1 - r0) * w / 256 in 16-bit lanes (a multiply-high), then back
 * to 8 bits; w < 256, and w == 0 returns r0 / 128 exactly. Out of line:
 * inlined, gcc 12's register allocation of this loop depends on the rest
 * of op_crop_scale_plane (it once reloaded r0 inside the loop). */
G_GNUC_NO_INLINE static void
vmix (guint8 * restrict out, const gint16 * restrict r0,
    const gint16 * restrict r1, guint w, guint n)
{
  const gint16 wq = (gint16) (w << 7);
  guint i;

  for (i = 0; i < n; i++) {
    gint16 d = r1[i] - r0[i];
    gint16 t = (gint16) (((gint32) d * wq) >> 16);

    out[i] = (guint8) ((r0[i] + 2 * t + 64) >> 7);
  }
}

static void
fill_wtab (OpCropScaler * s, guint dx0, guint n_simd, guint ch)
{
  guint x, c;

  for (x = 0; x < n_simd; x++) {
    gint16 wb = (s->xw[dx0 + x] + 1) >> 1, wa = 128 - wb;

    for (c = 0; c < 8; c++)
      s->wtab[x * 8 + c] = c < ch ? wa : c < 2 * ch ? wb : 0;
  }
}

/* the cached scaled row for source row @y, computing it if needed */
static const gint16 *
cached_row (OpCropScaler * s, gint y, const guint8 * src, gint src_stride,
    guint dx0, guint n_simd, guint n, guint ch)
{
  guint slot;

  if (s->row_y[0] == y)
    return s->rows[0];
  if (s->row_y[1] == y)
    return s->rows[1];
  /* rows come in increasing order: replace the older one */
  slot = s->row_y[0] < s->row_y[1] ? 0 : 1;
  hrow_any (s->rows[slot], src + (gsize) y * src_stride, s->xa + dx0,
      s->xb + dx0, s->xw + dx0, s->wtab, ch == 1 && s->ssse3 ? s->shuf : NULL,
      s->fit, n_simd, n, ch);
  s->row_y[slot] = y;
  return s->rows[slot];
}

#ifdef __SSE2__
/* the shrinking path for 3 and 4 bytes per pixel: vblend16 (or its AVX2
 * twin) and gather_pack_3/4 per output row. Out of line so that the
 * compiler's code for the other paths stays as it was. */
G_GNUC_NO_INLINE static void
shrink_rows_simd (OpCropScaler * s, const guint8 * src, gint src_stride,
    guint8 * dst, gint dst_stride, guint dx0, guint dy0, guint dy1,
    guint sx0, guint span, guint n, guint ch)
{
  guint y;

  fill_wtab_pairs (s, dx0, n, ch);
  for (y = dy0; y < dy1; y++) {
    const guint8 *r0 = src + (gsize) s->ya[y] * src_stride + sx0 * ch;
    const guint8 *r1 = src + (gsize) s->yb[y] * src_stride + sx0 * ch;
    guint8 *out = dst + (gsize) y * dst_stride + dx0 * ch;

    /* the source rows two output rows ahead, a cache line at a time:
     * the frame is usually not in L2, and each span is short */
    if (y + 2 < dy1) {
      const guint8 *p0 = src + (gsize) s->ya[y + 2] * src_stride + sx0 * ch;
      const guint8 *p1 = src + (gsize) s->yb[y + 2] * src_stride + sx0 * ch;
      guint k;

      for (k = 0; k < span * ch; k += 64) {
        _mm_prefetch ((const char *) (p0 + k), _MM_HINT_T0);
        _mm_prefetch ((const char *) (p1 + k), _MM_HINT_T0);
      }
    }
#ifdef OP_CROP_HAVE_AVX2
    if (s->avx2)
      vblend16_avx2 (s->tmp16, r0, r1, s->yw[y], span * ch);
    else
#endif
      vblend16 (s->tmp16, r0, r1, s->yw[y], span * ch);
    if (ch == 3)
      gather_pack_3 (out, s->tmp16, s->xa + dx0, s->wtab, n);
    else
      gather_pack_4 (out, s->tmp16, s->xa + dx0, s->wtab, n);
  }
}
#endif

/**
 * op_crop_scale_plane:
 * @map: how destination pixels map to source edge coordinates
 * @fill: @ch bytes written where a destination pixel's centre falls
 *   outside the source
 *
 * Cuts and scales one plane of @ch interleaved bytes per pixel.
 */
void
op_crop_scale_plane (OpCropScaler * s, const OpPlaneMap * map,
    const guint8 * src, gint src_stride, guint src_w, guint src_h,
    guint8 * dst, gint dst_stride, guint dst_w, guint dst_h,
    guint ch, const guint8 * fill)
{
  guint dx0, dx1, dy0, dy1, x, y, n, sx0, span, n_simd = 0;
  gboolean copy;

  g_return_if_fail (dst_w <= s->max_dst_w && dst_h <= s->max_dst_h);
  g_return_if_fail (src_w <= s->max_src_w && ch >= 1 && ch <= s->max_ch);
  g_return_if_fail (ch <= 4);

  build_axis (map->sx, map->ox, src_w, dst_w, s->xa, s->xb, s->xw, &dx0, &dx1);
  build_axis (map->sy, map->oy, src_h, dst_h, s->ya, s->yb, s->yw, &dy0, &dy1);
  if (dx0 >= dx1 || dy0 >= dy1)
    dx0 = dx1 = dy0 = dy1 = 0;

  /* rows (or row parts) that map outside the source */
  for (y = 0; y < dst_h; y++) {
    guint8 *row = dst + (gsize) y * dst_stride;

    if (y < dy0 || y >= dy1) {
      fill_span (row, dst_w, ch, fill);
    } else {
      fill_span (row, dx0, ch, fill);
      fill_span (row + dx1 * ch, dst_w - dx1, ch, fill);
    }
  }
  if (dx0 >= dx1)
    return;

  n = dx1 - dx0;
  sx0 = s->xa[dx0];
  span = s->xb[dx1 - 1] - sx0 + 1;
  copy = map->sx == 1.0 && map->sy == 1.0 && map->ox == floor (map->ox)
      && map->oy == floor (map->oy);

  if (copy) {
    for (y = dy0; y < dy1; y++)
      memcpy (dst + (gsize) y * dst_stride + dx0 * ch,
          src + (gsize) s->ya[y] * src_stride + sx0 * ch, n * ch);
    return;
  }

  /* upscaling: fewer source rows than output rows, so scale each source
   * row once horizontally (the gather) and blend rows vertically (the
   * vectorized loop) */
  if (map->sy < 1.0) {
    for (x = dx0; x < dx1; x++) {
      s->xa[x] *= ch;
      s->xb[x] *= ch;
    }
    /* SIMD columns: 3 or 4 channels, the 8-byte load inside the row; 1
     * channel, the 2-byte load (SSE2 builds only: else hrow does all) */
    if (ch >= 3) {
      while (n_simd < n && s->xa[dx0 + n_simd] + 8 <= (gint) (src_w * ch))
        n_simd++;
    }
#ifdef __SSE2__
    if (ch == 1) {
      while (n_simd < n && s->xa[dx0 + n_simd] + 2 <= (gint) src_w)
        n_simd++;
      fill_wtab_1 (s, dx0, n_simd);
      if (s->ssse3)
        fill_shuf_1 (s, s->xa + dx0, n_simd, src_w);
    } else
#endif
      fill_wtab (s, dx0, n_simd, ch);
    s->row_y[0] = s->row_y[1] = -1;
    for (y = dy0; y < dy1; y++) {
      const gint16 *r0 = cached_row (s, s->ya[y], src, src_stride, dx0,
          n_simd, n, ch);
      const gint16 *r1 = cached_row (s, s->yb[y], src, src_stride, dx0,
          n_simd, n, ch);

      vmix (dst + (gsize) y * dst_stride + dx0 * ch, r0, r1, s->yw[y], n * ch);
    }
    return;
  }

  /* shrinking: blend the two source rows of each output row over the
   * used span, then gather from that (padded) span */
  for (x = dx0; x < dx1; x++) {
    s->xa[x] = (s->xa[x] - sx0) * ch;
    s->xb[x] = (s->xb[x] - sx0) * ch;
  }
#ifdef __SSE2__
  if (ch >= 3) {
    shrink_rows_simd (s, src, src_stride, dst, dst_stride, dx0, dy0, dy1,
        sx0, span, n, ch);
    return;
  }
  if (ch == 1) {
    fill_wtab_1 (s, dx0, n);
    if (s->ssse3)
      fill_shuf_1 (s, s->xa + dx0, n, span + 16);
    for (y = dy0; y < dy1; y++) {
      vblend (s->tmp, src + (gsize) s->ya[y] * src_stride + sx0,
          src + (gsize) s->yb[y] * src_stride + sx0, s->yw[y], span);
      gather_pack_1ch (dst + (gsize) y * dst_stride + dx0, s->tmp,
          s->xa + dx0, s->wtab, s->ssse3 ? s->shuf : NULL, s->fit, n);
    }
    return;
  }
#endif
  for (y = dy0; y < dy1; y++) {
    const guint8 *r0 = src + (gsize) s->ya[y] * src_stride + sx0 * ch;
    const guint8 *r1 = src + (gsize) s->yb[y] * src_stride + sx0 * ch;

    vblend (s->tmp, r0, r1, s->yw[y], span * ch);
    hrow_any (s->rows[0], s->tmp, s->xa + dx0, s->xb + dx0, s->xw + dx0,
        s->wtab, NULL, NULL, 0, n, ch);
    pack (dst + (gsize) y * dst_stride + dx0 * ch, s->rows[0], n * ch);
  }
}
