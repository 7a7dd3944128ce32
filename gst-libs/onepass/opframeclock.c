/* onepass: presentation-order frame index of decoded buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opframeclock.h"

void
op_frame_clock_reset (OpFrameClock * c)
{
  c->first_pts = GST_CLOCK_TIME_NONE;
  c->last_index = -1;
  c->expect_jump = FALSE;
  c->ever_jumped = FALSE;
  c->counting = FALSE;
  c->disagreements = 0;
}

void
op_frame_clock_set_rate (OpFrameClock * c, gint fps_n, gint fps_d)
{
  c->fps_n = fps_n;
  c->fps_d = fps_d > 0 ? fps_d : 1;
}

gboolean
op_frame_clock_is_timed (const OpFrameClock * c)
{
  return c->fps_n > 0 && !c->counting && GST_CLOCK_TIME_IS_VALID (c->first_pts);
}

/**
 * op_frame_clock_index:
 * @disagrees: (out): set when the timestamp and the decoded-frame count
 *   give different indices (outside a deliberate jump)
 *
 * Returns: the 0-based presentation-order index of the frame at @pts
 */
guint64
op_frame_clock_index (OpFrameClock * c, GstClockTime pts, gboolean * disagrees)
{
  guint64 counted = (guint64) (c->last_index + 1);
  guint64 index = counted;

  *disagrees = FALSE;
  if (c->last_index < 0 && GST_CLOCK_TIME_IS_VALID (pts))
    c->first_pts = pts;

  if (c->expect_jump)
    c->ever_jumped = TRUE;
  if (c->fps_n > 0 && !c->counting && GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (c->first_pts)) {
    if (pts >= c->first_pts) {
      /* round to nearest: timestamps of 1001-based rates are truncated */
      index = gst_util_uint64_scale_round (pts - c->first_pts, c->fps_n,
          (guint64) c->fps_d * GST_SECOND);
    } else {
      index = 0;
    }
    if (index != counted && !c->expect_jump && c->last_index >= 0) {
      *disagrees = TRUE;
      c->disagreements++;
      if (!c->ever_jumped) {
        c->counting = TRUE;
        index = counted;
      }
    }
  }
  c->expect_jump = FALSE;
  c->last_index = (gint64) index;
  return index;
}

/**
 * op_frame_clock_pts_of:
 *
 * Returns: the timestamp frame @index should carry, or NONE when the
 *   stream is not timed
 */
GstClockTime
op_frame_clock_pts_of (const OpFrameClock * c, guint64 index)
{
  if (!op_frame_clock_is_timed (c))
    return GST_CLOCK_TIME_NONE;
  return c->first_pts + gst_util_uint64_scale_round (index,
      (guint64) c->fps_d * GST_SECOND, c->fps_n);
}

GstClockTime
op_frame_clock_frame_duration (const OpFrameClock * c)
{
  if (c->fps_n <= 0)
    return GST_CLOCK_TIME_NONE;
  return gst_util_uint64_scale_round (GST_SECOND, c->fps_d, c->fps_n);
}
