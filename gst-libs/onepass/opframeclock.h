/* onepass: presentation-order frame index of decoded buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FRAME_CLOCK_H__
#define __OP_FRAME_CLOCK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/*
 * The design's frame identity: round ((pts - first_pts) * fps), relative to
 * the first frame of the stream, cross-checked with a count of decoded
 * frames. Variable-framerate streams (fps 0/1) and buffers without a PTS use
 * the count. A stream that claims a constant rate but whose timestamps
 * disagree with the count before any seek is variable-rate in disguise
 * (dropped frames, timestamps kept): SLEAP's frame_idx is the n-th decoded
 * frame, so the clock switches to counting for good.
 */
typedef struct {
  gint fps_n, fps_d;
  GstClockTime first_pts;
  gint64 last_index;            /* -1 before the first frame */
  gboolean expect_jump;         /* after a seek the count restarts */
  gboolean ever_jumped;
  gboolean counting;            /* switched to counting decoded frames */
  guint64 disagreements;
} OpFrameClock;

void     op_frame_clock_reset      (OpFrameClock * clock);
void     op_frame_clock_set_rate   (OpFrameClock * clock, gint fps_n, gint fps_d);
gboolean op_frame_clock_is_timed   (const OpFrameClock * clock);
guint64  op_frame_clock_index      (OpFrameClock * clock, GstClockTime pts,
                                    gboolean * disagrees);
GstClockTime op_frame_clock_pts_of (const OpFrameClock * clock, guint64 index);
GstClockTime op_frame_clock_frame_duration (const OpFrameClock * clock);

G_END_DECLS

#endif /* __OP_FRAME_CLOCK_H__ */
