/* onepass: compositor328's output conversion, 4:2:0 YUV to packed RGB/BGR.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Composited frames leave in RGB or BGR when downstream asks for them
 * while the decoder gives I420: crops are pasted in I420 and each frame is
 * converted once here, instead of two videoconvert passes before the
 * element (GStreamer 1.22's videoconvert has no fast path to 24-bit RGB:
 * about 2.3 ms per 720p frame, more than our paste and conversion
 * together).
 *
 * Arithmetic: the frame's colour matrix and range, chroma taken from the
 * 2x2 block's sample (nearest, like OpenCV's COLOR_YUV2BGR_I420), in
 * 16 bits, eight pixels a vector: each term is the high half of a 16-bit
 * product (value * 32, floored), the sum rounded to 8 bits. The floors and
 * the coefficients' rounding stay under 1/8 of a level, so a byte is within
 * 1 of the exact formula. Blocks of 16 pixels with SSSE3 (checked at run
 * time), the rest (row ends, other CPUs) by a scalar loop that computes
 * the same integers. */
#include "torgb.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && defined(__GNUC__) && defined(__x86_64__)
#define HAVE_SSSE3_PATH 1
#include <tmmintrin.h>
#endif

/* fractional bits of the terms */
#define FBITS 5

/**
 * op_to_rgb_setup:
 * @conv: filled in
 * @in: a 4:2:0 planar YUV format (I420 or YV12)
 * @out: RGB or BGR, same size
 *
 * Returns: FALSE when this pair of formats is not converted here.
 */
gboolean
op_to_rgb_setup (OpToRgb * conv, const GstVideoInfo * in,
    const GstVideoInfo * out)
{
  GstVideoFormat f = GST_VIDEO_INFO_FORMAT (in);
  GstVideoFormat o = GST_VIDEO_INFO_FORMAT (out);
  gint offset[GST_VIDEO_MAX_COMPONENTS], scale[GST_VIDEO_MAX_COMPONENTS];
  gdouble kr, kb, kg, ky, kc;

  if ((f != GST_VIDEO_FORMAT_I420 && f != GST_VIDEO_FORMAT_YV12) ||
      (o != GST_VIDEO_FORMAT_RGB && o != GST_VIDEO_FORMAT_BGR) ||
      GST_VIDEO_INFO_WIDTH (in) != GST_VIDEO_INFO_WIDTH (out) ||
      GST_VIDEO_INFO_HEIGHT (in) != GST_VIDEO_INFO_HEIGHT (out))
    return FALSE;
  if (!gst_video_color_matrix_get_Kr_Kb (in->colorimetry.matrix, &kr, &kb))
    gst_video_color_matrix_get_Kr_Kb (GST_VIDEO_COLOR_MATRIX_BT601, &kr, &kb);
  gst_video_color_range_offsets (in->colorimetry.range, in->finfo, offset,
      scale);
  kg = 1.0 - kr - kb;
  ky = 255.0 / scale[0];
  kc = 255.0 / scale[1];
  /* (y - yoff) << 7 times cy, (c - 128) << 8 times the chroma ones, high
   * halves: * 32 (all below 2^15 for the 8-bit matrices and ranges) */
  conv->yoff = offset[0];
  conv->cy = (gint) lrint (ky * (1 << 14));
  conv->crv = (gint) lrint (2 * (1 - kr) * kc * (1 << 13));
  conv->cbu = (gint) lrint (2 * (1 - kb) * kc * (1 << 13));
  conv->cgu = (gint) lrint (2 * kb * (1 - kb) / kg * kc * (1 << 13));
  conv->cgv = (gint) lrint (2 * kr * (1 - kr) / kg * kc * (1 << 13));
  /* byte order of a pixel: where R and B go */
  conv->ri = o == GST_VIDEO_FORMAT_RGB ? 0 : 2;
  return TRUE;
}

static inline guint8
clamp8 (gint v)
{
  v >>= FBITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* _mm_mulhi_epi16 */
static inline gint
mulhi (gint a, gint b)
{
  return (a * b) >> 16;
}

static inline void
pixel (const OpToRgb * c, guint8 * d, gint y, gint u, gint v)
{
  const gint yv = mulhi ((y - c->yoff) << 7, c->cy) + (1 << (FBITS - 1));
  const gint g = mulhi ((u - 128) << 8, c->cgu) + mulhi ((v - 128) << 8,
      c->cgv);

  d[c->ri] = clamp8 (yv + mulhi ((v - 128) << 8, c->crv));
  d[1] = clamp8 (yv - g);
  d[2 - c->ri] = clamp8 (yv + mulhi ((u - 128) << 8, c->cbu));
}

#ifdef __SSE2__
/* One channel of 16 pixels: y terms (two halves) plus the chroma term of
 * 8 samples, each serving two pixels. */
static inline __m128i
channel16 (const __m128i y[2], __m128i c)
{
  __m128i lo = _mm_add_epi16 (y[0], _mm_unpacklo_epi16 (c, c));
  __m128i hi = _mm_add_epi16 (y[1], _mm_unpackhi_epi16 (c, c));

  return _mm_packus_epi16 (_mm_srai_epi16 (lo, FBITS),
      _mm_srai_epi16 (hi, FBITS));
}

/* Bytes 0, 1 and 2 (@ch) of pixels @x to @x + 15. */
static inline __attribute__((always_inline))
     void channels16 (const OpToRgb * c, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint x, const gint ri, __m128i ch[3])
{
  const __m128i zero = _mm_setzero_si128 ();
  const __m128i c128 = _mm_set1_epi16 (128), yoff = _mm_set1_epi16 (c->yoff);
  const __m128i round = _mm_set1_epi16 (1 << (FBITS - 1));
  const __m128i cy = _mm_set1_epi16 (c->cy), crv = _mm_set1_epi16 (c->crv);
  const __m128i cbu = _mm_set1_epi16 (c->cbu), cgu = _mm_set1_epi16 (c->cgu);
  const __m128i cgv = _mm_set1_epi16 (c->cgv);
  __m128i yb = _mm_loadu_si128 ((const __m128i *) (ys + x));
  __m128i u = _mm_loadl_epi64 ((const __m128i *) (us + x / 2));
  __m128i v = _mm_loadl_epi64 ((const __m128i *) (vs + x / 2));
  __m128i y[2], g;
  gint h;

  y[0] = _mm_unpacklo_epi8 (yb, zero);
  y[1] = _mm_unpackhi_epi8 (yb, zero);
  for (h = 0; h < 2; h++)
    y[h] = _mm_add_epi16 (_mm_mulhi_epi16 (_mm_slli_epi16 (_mm_sub_epi16
                (y[h], yoff), 7), cy), round);
  u = _mm_slli_epi16 (_mm_sub_epi16 (_mm_unpacklo_epi8 (u, zero), c128), 8);
  v = _mm_slli_epi16 (_mm_sub_epi16 (_mm_unpacklo_epi8 (v, zero), c128), 8);
  g = _mm_add_epi16 (_mm_mulhi_epi16 (u, cgu), _mm_mulhi_epi16 (v, cgv));
  ch[ri] = channel16 (y, _mm_mulhi_epi16 (v, crv));
  ch[1] = channel16 (y, _mm_sub_epi16 (zero, g));
  ch[2 - ri] = channel16 (y, _mm_mulhi_epi16 (u, cbu));
}

#endif

#ifdef HAVE_SSSE3_PATH
/* With SSSE3 (every x86-64 CPU since 2006) the 48 bytes of 16 pixels are
 * three byte shuffles of the three channels each: half the time of SSE2's
 * shifts and masks, measured. */
static inline __attribute__((target ("ssse3"), always_inline))
     void block16_ssse3 (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint x, const gint ri)
{
  /* row 3 i + j, byte k: for store i, pixel (16 i + k) / 3's channel
   * (16 i + k) % 3 from the channel j vector, else zero (0x80) */
  static const guint8 mask[9][16] = {
    {0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03, 0x80, 0x80,
        0x04, 0x80, 0x80, 0x05},
    {0x80, 0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03, 0x80,
        0x80, 0x04, 0x80, 0x80},
    {0x80, 0x80, 0x00, 0x80, 0x80, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x03,
        0x80, 0x80, 0x04, 0x80},
    {0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80, 0x80, 0x09,
        0x80, 0x80, 0x0a, 0x80},
    {0x05, 0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80, 0x80,
        0x09, 0x80, 0x80, 0x0a},
    {0x80, 0x05, 0x80, 0x80, 0x06, 0x80, 0x80, 0x07, 0x80, 0x80, 0x08, 0x80,
        0x80, 0x09, 0x80, 0x80},
    {0x80, 0x0b, 0x80, 0x80, 0x0c, 0x80, 0x80, 0x0d, 0x80, 0x80, 0x0e, 0x80,
        0x80, 0x0f, 0x80, 0x80},
    {0x80, 0x80, 0x0b, 0x80, 0x80, 0x0c, 0x80, 0x80, 0x0d, 0x80, 0x80, 0x0e,
        0x80, 0x80, 0x0f, 0x80},
    {0x0a, 0x80, 0x80, 0x0b, 0x80, 0x80, 0x0c, 0x80, 0x80, 0x0d, 0x80, 0x80,
        0x0e, 0x80, 0x80, 0x0f},
  };
  __m128i ch[3];
  gint i;

  channels16 (c, ys, us, vs, x, ri, ch);
  d += 3 * x;
  for (i = 0; i < 3; i++) {
    const __m128i *m = (const __m128i *) mask[3 * i];
    __m128i v = _mm_or_si128 (_mm_shuffle_epi8 (ch[0], _mm_loadu_si128 (m)),
        _mm_or_si128 (_mm_shuffle_epi8 (ch[1], _mm_loadu_si128 (m + 1)),
            _mm_shuffle_epi8 (ch[2], _mm_loadu_si128 (m + 2))));

    _mm_storeu_si128 ((__m128i *) (d + 16 * i), v);
  }
}

/* Whole blocks of 16 (no store past them), the last one moved back to an
 * even pixel. Returns the first pixel not done. */
static inline __attribute__((target ("ssse3"), always_inline))
     gint row_ssse3 (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint width, const gint ri)
{
  gint x;

  if (width < 16)
    return 0;
  for (x = 0; x + 16 <= width; x += 16)
    block16_ssse3 (c, d, ys, us, vs, x, ri);
  if (x + 1 < width) {
    x = (width - 16) & ~1;
    block16_ssse3 (c, d, ys, us, vs, x, ri);
    x += 16;
  }
  return x;
}
#endif

/* One row from pixel 0 on; returns the first pixel left to the scalar
 * loop. */
typedef gint (*RowFunc) (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint width);

#ifdef HAVE_SSSE3_PATH
static __attribute__((target ("ssse3")))
    gint
row_ssse3_rgb (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint width)
{
  return row_ssse3 (c, d, ys, us, vs, width, 0);
}

static __attribute__((target ("ssse3")))
    gint
row_ssse3_bgr (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint width)
{
  return row_ssse3 (c, d, ys, us, vs, width, 2);
}
#endif

static gint
row_none (const OpToRgb * c, guint8 * d, const guint8 * ys,
    const guint8 * us, const guint8 * vs, gint width)
{
  return 0;
}

/**
 * op_to_rgb_frame:
 * @conv: from op_to_rgb_setup()
 * @in: the I420/YV12 frame, mapped
 * @out: the RGB/BGR frame, mapped writable
 */
void
op_to_rgb_frame (const OpToRgb * conv, const GstVideoFrame * in,
    GstVideoFrame * out)
{
  const gint width = GST_VIDEO_FRAME_WIDTH (in);
  const gint height = GST_VIDEO_FRAME_HEIGHT (in);
  const gint ucomp = GST_VIDEO_COMP_U, vcomp = GST_VIDEO_COMP_V;
  RowFunc simd = row_none;
  gint row;

  /* R's byte as a constant, so the channels stay in registers */
#ifdef HAVE_SSSE3_PATH
  if (__builtin_cpu_supports ("ssse3"))
    simd = conv->ri == 0 ? row_ssse3_rgb : row_ssse3_bgr;
#endif
  for (row = 0; row < height; row++) {
    const guint8 *ys = GST_VIDEO_FRAME_COMP_DATA (in, 0) +
        (gsize) row * GST_VIDEO_FRAME_COMP_STRIDE (in, 0);
    const guint8 *us = GST_VIDEO_FRAME_COMP_DATA (in, ucomp) +
        (gsize) (row / 2) * GST_VIDEO_FRAME_COMP_STRIDE (in, ucomp);
    const guint8 *vs = GST_VIDEO_FRAME_COMP_DATA (in, vcomp) +
        (gsize) (row / 2) * GST_VIDEO_FRAME_COMP_STRIDE (in, vcomp);
    guint8 *d = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0) +
        (gsize) row * GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);
    gint x;

    for (x = simd (conv, d, ys, us, vs, width); x < width; x++)
      pixel (conv, d + 3 * x, ys[x], us[x / 2], vs[x / 2]);
  }
}

/**
 * op_to_rgb_sink_caps:
 * @downstream: (transfer full): what downstream accepts
 *
 * Returns: (transfer full): @downstream plus, for its structures that
 * allow RGB or BGR, the same in I420 and YV12 (converted here), after it.
 */
GstCaps *
op_to_rgb_sink_caps (GstCaps * downstream)
{
  GstCaps *rgb = gst_caps_from_string ("video/x-raw, format=(string) "
      "{ RGB, BGR }");
  GstCaps *extra = gst_caps_intersect (downstream, rgb);
  guint i;

  gst_caps_unref (rgb);
  for (i = 0; i < gst_caps_get_size (extra); i++) {
    GstStructure *s = gst_caps_get_structure (extra, i);
    GValue list = G_VALUE_INIT, v = G_VALUE_INIT;

    gst_value_list_init (&list, 2);
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_static_string (&v, "I420");
    gst_value_list_append_value (&list, &v);
    g_value_set_static_string (&v, "YV12");
    gst_value_list_append_value (&list, &v);
    g_value_unset (&v);
    gst_structure_take_value (s, "format", &list);
    /* RGB's colorimetry says nothing about the YUV side */
    gst_structure_remove_fields (s, "colorimetry", "chroma-site", NULL);
  }
  return gst_caps_merge (downstream, extra);
}

/**
 * op_to_rgb_out_caps:
 * @in: fixed I420/YV12 caps
 * @format: RGB or BGR
 *
 * Returns: (transfer full): @in in @format, with RGB's default colorimetry.
 */
GstCaps *
op_to_rgb_out_caps (const GstCaps * in, GstVideoFormat format)
{
  GstCaps *out = gst_caps_copy (in);
  GstStructure *s = gst_caps_get_structure (out, 0);

  gst_structure_set (s, "format", G_TYPE_STRING,
      gst_video_format_to_string (format), NULL);
  gst_structure_remove_fields (s, "colorimetry", "chroma-site", NULL);
  return out;
}

/* Metas go along, except the ones that describe the YUV layout or colour. */
static gboolean
copy_meta (GstBuffer * in, GstMeta ** meta, gpointer user_data)
{
  const GstMetaInfo *info = (*meta)->info;
  GstMetaTransformCopy copy = { FALSE, 0, (gsize) - 1 };

  if (info->api == GST_VIDEO_META_API_TYPE ||
      gst_meta_api_type_has_tag (info->api,
          g_quark_from_static_string (GST_META_TAG_VIDEO_COLORSPACE_STR)) ||
      info->transform_func == NULL)
    return TRUE;
  info->transform_func (GST_BUFFER (user_data), *meta, in,
      _gst_meta_transform_copy, &copy);
  return TRUE;
}

/**
 * op_to_rgb_buffer:
 * @conv: from op_to_rgb_setup()
 * @pool: an active pool of @out_info buffers
 * @in_info: @in's layout
 * @out_info: the output's
 * @in: (transfer none): the frame
 * @out: (out): the converted frame, with @in's timestamps, flags and metas
 *
 * Returns: GST_FLOW_OK, the pool's error, or GST_FLOW_ERROR when a frame
 * cannot be mapped.
 */
GstFlowReturn
op_to_rgb_buffer (const OpToRgb * conv, GstBufferPool * pool,
    const GstVideoInfo * in_info, const GstVideoInfo * out_info,
    GstBuffer * in, GstBuffer ** out)
{
  GstVideoFrame fi, fo;
  GstFlowReturn ret;

  *out = NULL;
  ret = gst_buffer_pool_acquire_buffer (pool, out, NULL);
  if (ret != GST_FLOW_OK)
    return ret;
  if (!gst_video_frame_map (&fi, in_info, in, GST_MAP_READ))
    goto map_failed;
  if (!gst_video_frame_map (&fo, out_info, *out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&fi);
    goto map_failed;
  }
  op_to_rgb_frame (conv, &fi, &fo);
  gst_video_frame_unmap (&fo);
  gst_video_frame_unmap (&fi);
  gst_buffer_copy_into (*out, in, GST_BUFFER_COPY_FLAGS |
      GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  gst_buffer_foreach_meta (in, copy_meta, *out);
  return GST_FLOW_OK;

map_failed:
  gst_clear_buffer (out);
  return GST_FLOW_ERROR;
}
