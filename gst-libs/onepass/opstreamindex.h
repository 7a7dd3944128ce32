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
 * OpPacketInfo:
 * @known: the codec and the packet could be read (else nothing below holds)
 * @referenced: other frames may predict from it (H.264 nal_ref_idc != 0,
 *   an H.265 reference picture type), or it carries parameter sets
 * @intra: decodable alone and resetting the decoder's references (an
 *   H.264/H.265 IDR or BLA, a JPEG/PNG image, an FFV1 keyframe)
 * @temporal_id: the highest H.265 TemporalId of its pictures (0 otherwise)
 *
 * What one compressed video packet (an access unit, as a parser outputs
 * it) says about the frames that depend on it.
 */
typedef struct {
  gboolean known;
  gboolean referenced;
  gboolean intra;
  guint temporal_id;
} OpPacketInfo;

gboolean op_packet_classify (const GstCaps * caps, GstBuffer * buf,
                             OpPacketInfo * info);

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
 * @droppable: (element-type guint8): per frame, 1 when no other frame
 *   depends on it (a non-reference picture at the highest temporal layer,
 *   or any frame of an intra-only stream), so a decoder may be spared it;
 *   empty when the codec is not understood
 * @decode_pos: (element-type guint32): per frame, its position in decode
 *   (packet) order; empty for tables made from timestamps
 *
 * Built once by op_stream_index_build(); immutable afterwards.
 */
typedef struct {
  GArray *pts;
  GArray *ends;
  GstClockTime segment_stop;
  GstClockTime declared_end;
  GstClockTime build_time;
  GArray *droppable;
  GArray *decode_pos;
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
