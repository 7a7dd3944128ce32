/* onepass: presentation-order frame index of decoded buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FRAME_CLOCK_H__
#define __OP_FRAME_CLOCK_H__

#include <gst/gst.h>
#include "opstreamindex.h"

G_BEGIN_DECLS

/*
 * The design's frame identity. With a frame table (op_frame_clock_set_index,
 * from a demux-only pass over the file) frame n is the frame whose PTS is
 * the n-th of the table: exact for constant and variable rates, edit lists
 * and B-frames, whatever the decoder drops. Without one, frame n is
 * round ((pts - first_pts) * fps) relative to the first frame, cross-checked
 * with a count of decoded frames; a disagreement is reported, never
 * resolved by guessing (the caller decides: onepass elements stop).
 */
typedef struct {
  gint fps_n, fps_d;
  GstClockTime first_pts;
  gint64 last_index;            /* -1 before the first frame */
  gboolean expect_jump;         /* after a seek or flush the count restarts */
  guint64 disagreements;
  OpStreamIndex *index;         /* owned; NULL: timestamps and count */
} OpFrameClock;

/**
 * OpFrameClockResult:
 * @OP_FRAME_CLOCK_OK: the index is known
 * @OP_FRAME_CLOCK_DISAGREES: no table, and the timestamp and the count of
 *   decoded frames give different indices (the index returned is the
 *   timestamp's, and must not be trusted)
 * @OP_FRAME_CLOCK_NOT_IN_INDEX: with a table: the PTS is not one of its
 *   frames (the index returned is the count's, and must not be trusted)
 */
typedef enum {
  OP_FRAME_CLOCK_OK,
  OP_FRAME_CLOCK_DISAGREES,
  OP_FRAME_CLOCK_NOT_IN_INDEX,
} OpFrameClockResult;

void     op_frame_clock_reset      (OpFrameClock * clock);
void     op_frame_clock_set_rate   (OpFrameClock * clock, gint fps_n, gint fps_d);
void     op_frame_clock_set_index  (OpFrameClock * clock, OpStreamIndex * index);
gboolean op_frame_clock_is_timed   (const OpFrameClock * clock);
guint64  op_frame_clock_index      (OpFrameClock * clock, GstClockTime pts,
                                    gboolean * disagrees);
OpFrameClockResult op_frame_clock_locate (OpFrameClock * clock,
                                          GstClockTime pts, guint64 * index);
GstClockTime op_frame_clock_pts_of (const OpFrameClock * clock, guint64 index);
GstClockTime op_frame_clock_frame_duration (const OpFrameClock * clock);
GstClockTime op_frame_clock_frame_span (const OpFrameClock * clock,
                                        guint64 index);
guint64  op_frame_clock_n_frames   (const OpFrameClock * clock);
gboolean op_frame_clock_seek_position (const OpFrameClock * clock,
                                       guint64 index, GstClockTime * position);

G_END_DECLS

#endif /* __OP_FRAME_CLOCK_H__ */
