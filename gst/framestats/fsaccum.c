/* onepass: framestats' per-pixel accumulators.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reductions keep, per sample, the sum and the sum of squares as 64-bit
 * integers, plus min and max. For 8- and 16-bit samples these sums are
 * exact (a 16-bit square is < 2^32, so 2^32 frames fit), so the mean and
 * the variance are computed once from exact integers,
 *   var = (n * sumsq - sum^2) / n^2   (numerator in 128 bits),
 * with no cancellation and no drift: more stable than Welford in floating
 * point, and a frame costs integer adds only. The standard deviation is the
 * population one (NumPy's default, ddof=0).
 *
 * Rows are fed one at a time (@first = index of the row's first sample in
 * the frame) so that strided and padded frames need no copy.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fsaccum.h"

#include <math.h>
#include <string.h>

OpStatsAccum *
op_stats_accum_new (gsize n, guint bps)
{
  OpStatsAccum *a = g_new0 (OpStatsAccum, 1);

  a->n = n;
  a->bps = bps;
  a->sum = g_new0 (guint64, n);
  a->sumsq = g_new0 (guint64, n);
  a->min = g_malloc0 (n * bps);
  a->max = g_malloc0 (n * bps);
  return a;
}

void
op_stats_accum_free (OpStatsAccum * a)
{
  g_free (a->sum);
  g_free (a->sumsq);
  g_free (a->min);
  g_free (a->max);
  g_free (a);
}

void
op_stats_accum_reset (OpStatsAccum * a)
{
  memset (a->sum, 0, a->n * sizeof (guint64));
  memset (a->sumsq, 0, a->n * sizeof (guint64));
  a->frames = 0;
}

static void
add_u8 (OpStatsAccum * a, gsize first, const guint8 * row, gsize n)
{
  guint64 *sum = a->sum + first, *sumsq = a->sumsq + first;
  guint8 *mn = a->min + first, *mx = a->max + first;
  gsize i;

  if (a->frames == 0) {
    memcpy (mn, row, n);
    memcpy (mx, row, n);
  }
  for (i = 0; i < n; i++) {
    guint32 v = row[i];

    sum[i] += v;
    sumsq[i] += v * v;
    mn[i] = MIN (mn[i], v);
    mx[i] = MAX (mx[i], v);
  }
}

static void
add_u16 (OpStatsAccum * a, gsize first, const guint16 * row, gsize n)
{
  guint64 *sum = a->sum + first, *sumsq = a->sumsq + first;
  guint16 *mn = (guint16 *) a->min + first, *mx = (guint16 *) a->max + first;
  gsize i;

  if (a->frames == 0) {
    memcpy (mn, row, n * 2);
    memcpy (mx, row, n * 2);
  }
  for (i = 0; i < n; i++) {
    guint64 v = row[i];

    sum[i] += v;
    sumsq[i] += v * v;
    mn[i] = MIN (mn[i], v);
    mx[i] = MAX (mx[i], v);
  }
}

/* @row: @n_samples samples in host order (GRAY16_LE on a little-endian
 * host), suitably aligned. */
void
op_stats_accum_add (OpStatsAccum * a, gsize first, const guint8 * row,
    gsize n_samples)
{
  g_return_if_fail (first + n_samples <= a->n);

  if (a->bps == 1)
    add_u8 (a, first, row, n_samples);
  else
    add_u16 (a, first, (const guint16 *) row, n_samples);
}

void
op_stats_accum_frame_done (OpStatsAccum * a)
{
  a->frames++;
}

void
op_stats_accum_mean (const OpStatsAccum * a, gfloat * out)
{
  gsize i;

  for (i = 0; i < a->n; i++)
    out[i] = a->frames ? (gfloat) ((gdouble) a->sum[i] / a->frames) : NAN;
}

void
op_stats_accum_std (const OpStatsAccum * a, gfloat * out)
{
  unsigned __int128 num;
  gdouble n2 = (gdouble) a->frames * a->frames;
  gsize i;

  for (i = 0; i < a->n; i++) {
    if (a->frames == 0) {
      out[i] = NAN;
      continue;
    }
    /* >= 0 exactly: Cauchy-Schwarz on integers */
    num = (unsigned __int128) a->frames * a->sumsq[i] -
        (unsigned __int128) a->sum[i] * a->sum[i];
    out[i] = (gfloat) sqrt ((gdouble) num / n2);
  }
}

/* NULL when the ring of @window frames cannot be allocated */
OpSlidingMean *
op_sliding_mean_new (gsize n, guint bps, guint window)
{
  OpSlidingMean *s;
  guint8 *ring;

  /* the ring may be large (window frames): fail instead of aborting */
  if (window == 0 || n * bps > G_MAXSIZE / window ||
      !(ring = g_try_malloc0 (n * bps * window)))
    return NULL;
  s = g_new0 (OpSlidingMean, 1);
  s->n = n;
  s->bps = bps;
  s->window = window;
  s->ring = ring;
  s->sum = g_new0 (guint64, n);
  return s;
}

void
op_sliding_mean_free (OpSlidingMean * s)
{
  g_free (s->ring);
  g_free (s->sum);
  g_free (s);
}

void
op_sliding_mean_reset (OpSlidingMean * s)
{
  memset (s->sum, 0, s->n * sizeof (guint64));
  s->head = 0;
  s->filled = 0;
}

/* TRUE when the ring holds `window` previous frames: the frame being
 * added gets an output. */
gboolean
op_sliding_mean_ready (const OpSlidingMean * s)
{
  return s->filled == s->window;
}

static inline gfloat
normalise (gdouble x, gdouble mean, OpSlidingOp op)
{
  return (gfloat) (op == OP_SLIDING_SUBTRACT ? x - mean : x / mean);
}

/* Adds a row of the new frame. When ready, @out (n_samples floats) gets
 * the row normalised by the mean of the previous `window` frames, read
 * before the oldest frame leaves the ring. */
void
op_sliding_mean_add (OpSlidingMean * s, gsize first, const guint8 * row,
    gsize n_samples, OpSlidingOp op, gfloat * out)
{
  gboolean ready = op_sliding_mean_ready (s);
  gdouble w = s->window;
  guint64 *sum = s->sum + first;
  gsize i;

  g_return_if_fail (first + n_samples <= s->n);

  if (s->bps == 1) {
    guint8 *slot = s->ring + (gsize) s->head * s->n + first;

    for (i = 0; i < n_samples; i++) {
      if (ready) {
        out[i] = normalise (row[i], sum[i] / w, op);
        sum[i] -= slot[i];
      }
      sum[i] += row[i];
      slot[i] = row[i];
    }
  } else {
    guint16 *slot = (guint16 *) s->ring + (gsize) s->head * s->n + first;
    const guint16 *r = (const guint16 *) row;

    for (i = 0; i < n_samples; i++) {
      if (ready) {
        out[i] = normalise (r[i], sum[i] / w, op);
        sum[i] -= slot[i];
      }
      sum[i] += r[i];
      slot[i] = r[i];
    }
  }
}

void
op_sliding_mean_frame_done (OpSlidingMean * s)
{
  s->head = (s->head + 1) % s->window;
  if (s->filled < s->window)
    s->filled++;
}
