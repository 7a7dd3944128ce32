/* onepass: presentation-order frame index of decoded buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opframeclock.h"

/**
 * op_frame_clock_reset:
 *
 * Forgets the stream: first timestamp, count and the frame table.
 */
void
op_frame_clock_reset (OpFrameClock * c)
{
  c->first_pts = GST_CLOCK_TIME_NONE;
  c->last_index = -1;
  c->expect_jump = FALSE;
  c->disagreements = 0;
  g_clear_pointer (&c->index, op_stream_index_free);
}

void
op_frame_clock_set_rate (OpFrameClock * c, gint fps_n, gint fps_d)
{
  c->fps_n = fps_n;
  c->fps_d = fps_d > 0 ? fps_d : 1;
}

/**
 * op_frame_clock_set_index:
 * @index: (transfer full) (nullable): the stream's frame table
 *
 * From now on frames are numbered by looking their PTS up in @index.
 */
void
op_frame_clock_set_index (OpFrameClock * c, OpStreamIndex * index)
{
  g_clear_pointer (&c->index, op_stream_index_free);
  c->index = index;
}

/**
 * op_frame_clock_is_timed:
 *
 * Returns: TRUE when op_frame_clock_pts_of() can aim at a frame (a table,
 *   or a constant rate once the first frame was seen)
 */
gboolean
op_frame_clock_is_timed (const OpFrameClock * c)
{
  if (c->index)
    return op_stream_index_n_frames (c->index) > 0;
  return c->fps_n > 0 && GST_CLOCK_TIME_IS_VALID (c->first_pts);
}

/**
 * op_frame_clock_locate:
 * @index: (out): the 0-based presentation-order index of the frame at @pts
 *
 * Numbers the next decoded frame. Call op_frame_clock_reset() or set
 * expect_jump before a frame that does not follow the previous one (after
 * a seek), so the count is not held against the timestamps.
 */
OpFrameClockResult
op_frame_clock_locate (OpFrameClock * c, GstClockTime pts, guint64 * index)
{
  guint64 counted = (guint64) (c->last_index + 1);
  OpFrameClockResult res = OP_FRAME_CLOCK_OK;
  gboolean jumped = c->expect_jump || c->last_index < 0;

  *index = counted;
  if (c->last_index < 0 && GST_CLOCK_TIME_IS_VALID (pts))
    c->first_pts = pts;

  if (c->index) {
    /* the first frame after a seek may carry the segment start instead of
     * its own timestamp: the frame it falls in */
    if (!op_stream_index_find (c->index, pts, jumped, index))
      res = OP_FRAME_CLOCK_NOT_IN_INDEX;
  } else if (c->fps_n > 0 && GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (c->first_pts)) {
    if (pts >= c->first_pts) {
      /* round to nearest: timestamps of 1001-based rates are truncated */
      *index = gst_util_uint64_scale_round (pts - c->first_pts, c->fps_n,
          (guint64) c->fps_d * GST_SECOND);
    } else {
      *index = 0;
    }
    if (*index != counted && !jumped)
      res = OP_FRAME_CLOCK_DISAGREES;
  }
  if (res != OP_FRAME_CLOCK_OK)
    c->disagreements++;
  c->expect_jump = FALSE;
  c->last_index = (gint64) * index;
  return res;
}

/**
 * op_frame_clock_index:
 * @disagrees: (out): set when the frame's index is not certain (see
 *   op_frame_clock_locate())
 *
 * Returns: the 0-based presentation-order index of the frame at @pts
 */
guint64
op_frame_clock_index (OpFrameClock * c, GstClockTime pts, gboolean * disagrees)
{
  guint64 index;

  *disagrees = op_frame_clock_locate (c, pts, &index) != OP_FRAME_CLOCK_OK;
  return index;
}

/**
 * op_frame_clock_pts_of:
 *
 * Returns: the timestamp frame @index carries, or NONE when the stream is
 *   not timed or @index is past the table's end
 */
GstClockTime
op_frame_clock_pts_of (const OpFrameClock * c, guint64 index)
{
  if (!op_frame_clock_is_timed (c))
    return GST_CLOCK_TIME_NONE;
  if (c->index)
    return index < op_stream_index_n_frames (c->index) ?
        g_array_index (c->index->pts, GstClockTime, index) :
        GST_CLOCK_TIME_NONE;
  return c->first_pts + gst_util_uint64_scale_round (index,
      (guint64) c->fps_d * GST_SECOND, c->fps_n);
}

/**
 * op_frame_clock_frame_duration:
 *
 * Returns: the nominal frame duration: from the caps' rate, else (rate
 *   0/1) the table's average, else NONE
 */
GstClockTime
op_frame_clock_frame_duration (const OpFrameClock * c)
{
  guint n = op_stream_index_n_frames (c->index);

  if (c->fps_n > 0)
    return gst_util_uint64_scale_round (GST_SECOND, c->fps_d, c->fps_n);
  if (n >= 2)
    return (g_array_index (c->index->pts, GstClockTime, n - 1) -
        g_array_index (c->index->pts, GstClockTime, 0)) / (n - 1);
  return GST_CLOCK_TIME_NONE;
}

/**
 * op_frame_clock_frame_span:
 *
 * Returns: the time from frame @index to the next one: from the table
 *   when there is one, else the nominal frame duration
 */
GstClockTime
op_frame_clock_frame_span (const OpFrameClock * c, guint64 index)
{
  GstClockTime span = GST_CLOCK_TIME_NONE;

  if (c->index)
    span = op_stream_index_span (c->index, index);
  return GST_CLOCK_TIME_IS_VALID (span) ? span :
      op_frame_clock_frame_duration (c);
}

/**
 * op_frame_clock_n_frames:
 *
 * Returns: the number of frames in the table, 0 without one
 */
guint64
op_frame_clock_n_frames (const OpFrameClock * c)
{
  return op_stream_index_n_frames (c->index);
}

/**
 * op_frame_clock_seek_position:
 * @position: (out): the timestamp to start an accurate seek at
 *
 * Where to seek so that frame @index is the first frame the decoder
 * outputs: a quarter frame into it, and with a table after the end of
 * every frame before it.
 *
 * Returns: FALSE when the frame cannot be aimed at (do not seek)
 */
gboolean
op_frame_clock_seek_position (const OpFrameClock * c, guint64 index,
    GstClockTime * position)
{
  GstClockTime pts, dur;

  if (c->index)
    return op_stream_index_seek_position (c->index, index, position);
  pts = op_frame_clock_pts_of (c, index);
  dur = op_frame_clock_frame_duration (c);
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (dur))
    return FALSE;
  *position = pts + dur / 4;
  return TRUE;
}
