/* onepass: framestats' per-pixel accumulators.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FS_ACCUM_H__
#define __OP_FS_ACCUM_H__

#include <glib.h>

G_BEGIN_DECLS
/* Reductions over frames: exact integer sums, min and max. */
    typedef struct
{
  gsize n;                      /* samples per frame (width x height x channels) */
  guint bps;                    /* bytes per sample: 1 or 2 */
  guint64 frames;
  guint64 *sum;
  guint64 *sumsq;
  guint8 *min;                  /* n samples of bps bytes, host order */
  guint8 *max;
} OpStatsAccum;

OpStatsAccum *op_stats_accum_new (gsize n, guint bps);
void op_stats_accum_free (OpStatsAccum * a);
void op_stats_accum_reset (OpStatsAccum * a);
void op_stats_accum_add (OpStatsAccum * a, gsize first, const guint8 * row,
    gsize n_samples);
void op_stats_accum_frame_done (OpStatsAccum * a);
void op_stats_accum_mean (const OpStatsAccum * a, gfloat * out);
void op_stats_accum_std (const OpStatsAccum * a, gfloat * out);

/* Sliding mean of the previous `window` frames. */
typedef enum
{
  OP_SLIDING_SUBTRACT,
  OP_SLIDING_DIVIDE,
} OpSlidingOp;

typedef struct
{
  gsize n;
  guint bps;
  guint window;
  guint8 *ring;                 /* window frames of n samples, tight */
  guint64 *sum;                 /* sum over the ring, per sample */
  guint head;                   /* ring slot of the oldest (next replaced) */
  guint filled;                 /* frames in the ring */
} OpSlidingMean;

OpSlidingMean *op_sliding_mean_new (gsize n, guint bps, guint window);
void op_sliding_mean_free (OpSlidingMean * s);
void op_sliding_mean_reset (OpSlidingMean * s);
gboolean op_sliding_mean_ready (const OpSlidingMean * s);
void op_sliding_mean_add (OpSlidingMean * s, gsize first, const guint8 * row,
    gsize n_samples, OpSlidingOp op, gfloat * out);
void op_sliding_mean_frame_done (OpSlidingMean * s);

G_END_DECLS

#endif /* __OP_FS_ACCUM_H__ */
