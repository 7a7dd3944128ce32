/* onepass: a video stream's frame timestamps, learned without decoding.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_STREAM_INDEX_H__
#define __OP_STREAM_INDEX_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define OP_STREAM_INDEX_ERROR (op_stream_index_error_quark ())
GQuark op_stream_index_error_quark (void);

/**
 * OpStreamIndexError:
 * @OP_STREAM_INDEX_ERROR_NOT_FILE: the URI is not a local file (or is a
 *   pattern such as multifilesrc's): nothing to read twice
 * @OP_STREAM_INDEX_ERROR_FAILED: the demux-only pipeline failed
 * @OP_STREAM_INDEX_ERROR_NO_STREAM: no video stream, or several and none
 *   is the one being decoded
 * @OP_STREAM_INDEX_ERROR_TIMESTAMPS: packets without a PTS, or two with
 *   the same PTS: the timestamps cannot identify frames
 */
typedef enum {
  OP_STREAM_INDEX_ERROR_NOT_FILE,
  OP_STREAM_INDEX_ERROR_FAILED,
  OP_STREAM_INDEX_ERROR_NO_STREAM,
  OP_STREAM_INDEX_ERROR_TIMESTAMPS,
} OpStreamIndexError;

/**
 * OpStreamIndex:
 * @pts: (element-type GstClockTime): the PTS of every frame the decoder
 *   will output, in presentation order: frame n is pts[n]
 * @ends: (element-type GstClockTime): where each frame ends (PTS plus
 *   packet duration), empty when not known
 * @segment_stop: the end of the demuxer's segment (NONE when open)
 * @declared_end: where the container says the stream ends (segment stop
 *   or duration, as a timestamp; NONE if unknown)
 * @build_time: how long the demux-only pass took
 *
 * Built once by op_stream_index_build(); immutable afterwards.
 */
typedef struct {
  GArray *pts;
  GArray *ends;
  GstClockTime segment_stop;
  GstClockTime declared_end;
  GstClockTime build_time;
} OpStreamIndex;

OpStreamIndex *op_stream_index_build (const gchar * uri,
                                      const gchar * stream_id,
                                      GError ** error);
OpStreamIndex *op_stream_index_new_from_pts (const GstClockTime * pts,
                                             guint n);
void           op_stream_index_free  (OpStreamIndex * index);
guint          op_stream_index_n_frames (const OpStreamIndex * index);
gboolean       op_stream_index_find  (const OpStreamIndex * index,
                                      GstClockTime pts, gboolean floor,
                                      guint64 * frame);
GstClockTime   op_stream_index_span  (const OpStreamIndex * index,
                                      guint64 frame);
gboolean       op_stream_index_seek_position (const OpStreamIndex * index,
                                              guint64 frame,
                                              GstClockTime * position);

G_END_DECLS

#endif /* __OP_STREAM_INDEX_H__ */
