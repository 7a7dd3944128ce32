/* onepass: a video stream's frame timestamps, learned without decoding.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Frame n of a video is the n-th frame in presentation order (SLEAP's
 * frame_idx, ffmpeg's n-th decoded frame). Timestamps times a frame rate
 * give that only for a truly constant-rate stream; a stream that lost
 * frames while keeping the timestamps of the rest (VFR in a CFR container)
 * or that the demuxer trims (MP4 edit lists) needs the real list. A
 * demux-only pass (filesrc ! parsebin ! fakesink: no decoder) reads every
 * packet's PTS in a fraction of the decode time; sorted, and clipped to
 * the segment as the decoder will clip, they are the frame table.
 */
#include "opstreamindex.h"

#include <string.h>

#define GST_CAT_DEFAULT op_stream_index_debug
GST_DEBUG_CATEGORY_STATIC (GST_CAT_DEFAULT);

/* a pass that takes longer than this is abandoned (no table) */
#define INDEX_TIMEOUT (600 * GST_SECOND)
/* the decoder's guess for a frame without duration (gstvideodecoder.c) */
#define UNKNOWN_DURATION (40 * GST_MSECOND)

/* *INDENT-OFF* */
G_DEFINE_QUARK (op-stream-index-error-quark, op_stream_index_error);
/* *INDENT-ON* */

typedef struct
{
  GstClockTime pts, duration;
  guint32 decode_pos;           /* arrival order = decode order */
  OpPacketInfo info;
} Packet;

/* what one demuxed video stream delivered */
typedef struct
{
  gchar *stream_id;
  GArray *packets;              /* Packet */
  GstSegment segment;
  GstCaps *caps;
  guint n_no_pts;
} StreamLog;

typedef struct
{
  GMutex lock;
  GstElement *pipeline;
  GPtrArray *streams;           /* StreamLog */
} Pass;

static void
stream_log_free (gpointer data)
{
  StreamLog *s = data;

  g_free (s->stream_id);
  g_array_unref (s->packets);
  gst_caps_replace (&s->caps, NULL);
  g_free (s);
}

static GstPadProbeReturn
log_data (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  StreamLog *s = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT)
      gst_event_copy_segment (ev, &s->segment);
    else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps (ev, &caps);
      gst_caps_replace (&s->caps, caps);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_STREAM_START) {
      const gchar *id = NULL;
      gst_event_parse_stream_start (ev, &id);
      g_free (s->stream_id);
      s->stream_id = g_strdup (id);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    Packet p;

    /* codec headers without a time and decode-only packets are not
     * frames (h264parse flags a keyframe carrying SPS/PPS as HEADER) */
    if ((GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER)
            && !GST_BUFFER_PTS_IS_VALID (buf))
        || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DECODE_ONLY)
        || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
      return GST_PAD_PROBE_OK;
    if (!GST_BUFFER_PTS_IS_VALID (buf)) {
      s->n_no_pts++;
      return GST_PAD_PROBE_OK;
    }
    p.pts = GST_BUFFER_PTS (buf);
    p.duration = GST_BUFFER_DURATION (buf);
    p.decode_pos = s->packets->len;
    op_packet_classify (s->caps, buf, &p.info);
    g_array_append_val (s->packets, p);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
is_video_caps (GstCaps * caps)
{
  const gchar *name;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  return g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "image/");
}

static void
on_pad_added (GstElement * parsebin, GstPad * pad, gpointer user_data)
{
  Pass *pass = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstElement *sink;
  GstPad *sinkpad;
  StreamLog *s;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (pass->pipeline), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  if (is_video_caps (caps)) {
    s = g_new0 (StreamLog, 1);
    s->packets = g_array_new (FALSE, FALSE, sizeof (Packet));
    s->stream_id = gst_pad_get_stream_id (pad);
    gst_segment_init (&s->segment, GST_FORMAT_TIME);
    g_mutex_lock (&pass->lock);
    g_ptr_array_add (pass->streams, s);
    g_mutex_unlock (&pass->lock);
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, log_data, s, NULL);
  }
  gst_pad_link (pad, sinkpad);
  gst_element_sync_state_with_parent (sink);
  gst_object_unref (sinkpad);
  gst_caps_unref (caps);
}

/* ------------------------------------------------ packet classification */

/* H.264 (ITU-T H.264 7.3.1): nal_ref_idc in bits 5-6, the type in 0-4 */
static void
classify_h264_nal (const guint8 * nal, gsize len, OpPacketInfo * info,
    gboolean * vcl, gboolean * all_idr)
{
  guint type = nal[0] & 0x1f, ref_idc = (nal[0] >> 5) & 3;

  if ((type >= 1 && type <= 5) || type == 20) {
    *vcl = TRUE;
    if (ref_idc != 0)
      info->referenced = TRUE;
    if (type != 5)
      *all_idr = FALSE;
  } else if (type == 7 || type == 8 || type == 13 || type == 15) {
    /* parameter sets configure the frames after them */
    info->referenced = TRUE;
  }
}

/* H.265 (ITU-T H.265 7.3.1.2, 7.4.2.2): even VCL types below 16 are
 * sub-layer non-reference pictures; 16-20 are BLA and IDR */
static void
classify_h265_nal (const guint8 * nal, gsize len, OpPacketInfo * info,
    gboolean * vcl, gboolean * all_idr)
{
  guint type, tid;

  if (len < 2)
    return;
  type = (nal[0] >> 1) & 0x3f;
  tid = (nal[1] & 7) > 0 ? (nal[1] & 7) - 1 : 0;
  if (type <= 31) {
    *vcl = TRUE;
    info->temporal_id = MAX (info->temporal_id, tid);
    if (type > 14 || type % 2 == 1)
      info->referenced = TRUE;
    if (type < 16 || type > 20)
      *all_idr = FALSE;
  } else if (type >= 32 && type <= 34) {
    info->referenced = TRUE;
  }
}

/* the NAL length size of avc/hvc1 packets, from codec_data */
static guint
nal_length_size (const GstStructure * st, gboolean h265)
{
  const GValue *v = gst_structure_get_value (st, "codec_data");
  GstBuffer *cd = v && G_VALUE_HOLDS (v, GST_TYPE_BUFFER) ?
      gst_value_get_buffer (v) : NULL;
  guint8 b = 3;

  if (cd && gst_buffer_extract (cd, h265 ? 21 : 4, &b, 1) != 1)
    b = 3;
  return (b & 3) + 1;
}

/**
 * op_packet_classify:
 * @caps: (nullable): the packet's caps (a parser's output)
 * @info: (out): what the packet says
 *
 * Reads the NAL unit headers of an H.264 or H.265 access unit (avc, hvc1
 * or byte-stream), or knows the codec is intra-only (JPEG, PNG, FFV1
 * keyframes). Conservative: whatever is not understood is @known = FALSE.
 *
 * Returns: @info->known
 */
gboolean
op_packet_classify (const GstCaps * caps, GstBuffer * buf, OpPacketInfo * info)
{
  const GstStructure *st;
  const gchar *name, *format;
  gboolean h265, vcl = FALSE, all_idr = TRUE;
  GstMapInfo map;
  gsize pos = 0;
  guint nls = 0;

  memset (info, 0, sizeof (*info));
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  st = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (st);
  if (g_str_equal (name, "image/jpeg") || g_str_equal (name, "image/png")) {
    info->known = info->intra = TRUE;
    return TRUE;
  }
  if (g_str_equal (name, "video/x-ffv1")) {
    /* a delta frame continues the previous frames' coder states */
    info->known = TRUE;
    info->intra = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
    info->referenced = !info->intra;
    return TRUE;
  }
  h265 = g_str_equal (name, "video/x-h265");
  if (!h265 && !g_str_equal (name, "video/x-h264"))
    return FALSE;
  format = gst_structure_get_string (st, "stream-format");
  if (format == NULL)
    return FALSE;
  if (!g_str_equal (format, "byte-stream"))
    nls = nal_length_size (st, h265);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return FALSE;
  while (pos < map.size) {
    gsize start, len;

    if (nls > 0) {
      guint i;
      if (pos + nls > map.size)
        goto malformed;
      for (len = 0, i = 0; i < nls; i++)
        len = (len << 8) | map.data[pos + i];
      start = pos + nls;
      if (len == 0 || start + len > map.size)
        goto malformed;
      pos = start + len;
    } else {
      /* 00 00 01 start codes; a NAL ends at the next one */
      gsize i;
      for (i = pos; i + 3 <= map.size; i++)
        if (map.data[i] == 0 && map.data[i + 1] == 0 && map.data[i + 2] == 1)
          break;
      if (i + 3 > map.size)
        break;
      start = i + 3;
      for (i = start; i + 3 <= map.size; i++)
        if (map.data[i] == 0 && map.data[i + 1] == 0 &&
            (map.data[i + 2] == 1 || map.data[i + 2] == 0))
          break;
      len = (i + 3 <= map.size ? i : map.size) - start;
      pos = start + len;
      if (len == 0)
        continue;
    }
    if (h265)
      classify_h265_nal (map.data + start, len, info, &vcl, &all_idr);
    else
      classify_h264_nal (map.data + start, len, info, &vcl, &all_idr);
  }
  gst_buffer_unmap (buf, &map);
  info->known = vcl;
  info->intra = vcl && all_idr;
  return info->known;

malformed:
  gst_buffer_unmap (buf, &map);
  memset (info, 0, sizeof (*info));
  return FALSE;
}

/* Which frames no other frame depends on: non-reference pictures at the
 * stream's highest temporal layer (an H.265 sub-layer non-reference
 * picture may still be a reference for higher layers), and every frame of
 * an intra-only stream. Unknown packets make nothing droppable around
 * them, since nothing is then known about the stream. */
static void
mark_droppable (StreamLog * s, OpStreamIndex * index, const guint * kept,
    guint n_kept)
{
  guint i, max_tid = 0;
  gboolean all_intra = TRUE;

  for (i = 0; i < s->packets->len; i++) {
    const OpPacketInfo *pi = &g_array_index (s->packets, Packet, i).info;
    if (!pi->known)
      return;
    max_tid = MAX (max_tid, pi->temporal_id);
    all_intra = all_intra && pi->intra;
  }
  g_array_set_size (index->droppable, n_kept);
  for (i = 0; i < n_kept; i++) {
    const OpPacketInfo *pi = &g_array_index (s->packets, Packet,
        kept[i]).info;
    g_array_index (index->droppable, guint8, i) = all_intra ||
        (!pi->referenced && pi->temporal_id == max_tid);
  }
}

static gint
compare_packets (gconstpointer a, gconstpointer b)
{
  GstClockTime x = ((const Packet *) a)->pts, y = ((const Packet *) b)->pts;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* sorts @s's packets into presentation order and keeps those the decoder
 * will output (its segment clipping: gstvideodecoder.c) */
static OpStreamIndex *
index_from_log (StreamLog * s, GstClockTime duration, GError ** error)
{
  OpStreamIndex *index;
  guint i, n, *kept;

  if (s->n_no_pts > 0)
    goto no_pts;
  g_array_sort (s->packets, compare_packets);
  n = s->packets->len;
  index = g_new0 (OpStreamIndex, 1);
  index->pts = g_array_sized_new (FALSE, FALSE, sizeof (GstClockTime), n);
  index->ends = g_array_sized_new (FALSE, FALSE, sizeof (GstClockTime), n);
  index->droppable = g_array_new (FALSE, TRUE, sizeof (guint8));
  index->decode_pos = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
  kept = g_new (guint, MAX (n, 1));
  for (i = 0; i < n; i++) {
    Packet *p = &g_array_index (s->packets, Packet, i);
    GstClockTime end;

    if (i + 1 < n && g_array_index (s->packets, Packet, i + 1).pts == p->pts)
      goto duplicate;
    if (GST_CLOCK_TIME_IS_VALID (p->duration))
      end = p->pts + p->duration;
    else if (i + 1 < n)
      end = g_array_index (s->packets, Packet, i + 1).pts;
    else
      end = p->pts + UNKNOWN_DURATION;
    if (!gst_segment_clip (&s->segment, GST_FORMAT_TIME, p->pts, end, NULL,
            NULL))
      continue;
    g_array_append_val (index->pts, p->pts);
    g_array_append_val (index->ends, end);
    g_array_append_val (index->decode_pos, p->decode_pos);
    kept[index->pts->len - 1] = i;
  }
  if (index->pts->len == 0)
    goto empty;
  mark_droppable (s, index, kept, index->pts->len);
  g_free (kept);
  index->segment_stop = s->segment.stop == (guint64) - 1 ?
      GST_CLOCK_TIME_NONE : s->segment.stop;
  index->declared_end = index->segment_stop;
  if (!GST_CLOCK_TIME_IS_VALID (index->declared_end)
      && GST_CLOCK_TIME_IS_VALID (duration))
    index->declared_end = gst_segment_position_from_stream_time (&s->segment,
        GST_FORMAT_TIME, duration);
  return index;

no_pts:
  g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_TIMESTAMPS,
      "%u of its packets carry no timestamp", s->n_no_pts);
  return NULL;
duplicate:
  g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_TIMESTAMPS,
      "two of its packets carry the same timestamp %" GST_TIME_FORMAT,
      GST_TIME_ARGS (g_array_index (s->packets, Packet, i).pts));
  op_stream_index_free (index);
  g_free (kept);
  return NULL;
empty:
  g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_NO_STREAM,
      "none of its %u packets lies inside the demuxer's segment", n);
  op_stream_index_free (index);
  g_free (kept);
  return NULL;
}

/* the stream being decoded: the one with its stream id, else the only one */
static StreamLog *
pick_stream (GPtrArray * streams, const gchar * stream_id, GError ** error)
{
  guint i;

  for (i = 0; stream_id && i < streams->len; i++) {
    StreamLog *s = g_ptr_array_index (streams, i);
    if (g_strcmp0 (s->stream_id, stream_id) == 0)
      return s;
  }
  if (streams->len == 1)
    return g_ptr_array_index (streams, 0);
  g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_NO_STREAM,
      streams->len == 0 ? "the demuxer found no video stream" :
      "it holds %u video streams and none has the decoded stream's id",
      streams->len);
  return NULL;
}

static gboolean
run_pass (Pass * pass, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pass->pipeline);
  GstMessage *msg;
  gboolean ok = FALSE;

  if (gst_element_set_state (pass->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_FAILED,
        "the demux-only pipeline does not start");
    gst_object_unref (bus);
    return FALSE;
  }
  msg = gst_bus_timed_pop_filtered (bus, INDEX_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg == NULL) {
    g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_FAILED,
        "the demux-only pass timed out");
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (msg, &e, NULL);
    g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_FAILED,
        "the demux-only pass failed: %s", e->message);
    g_error_free (e);
  } else {
    ok = TRUE;
  }
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  return ok;
}

/**
 * op_stream_index_build:
 * @uri: the URI upstream reports for the stream (file:// only)
 * @stream_id: (nullable): the stream id of the decoded stream (its
 *   STREAM_START event), to pick it among several video streams
 *
 * Runs a private demux-only pipeline over the file and collects the PTS
 * of every packet of the video stream. Blocks until done.
 *
 * Returns: (transfer full) (nullable): the frame table, or NULL with
 *   @error set (an #OpStreamIndexError whose message says why)
 */
OpStreamIndex *
op_stream_index_build (const gchar * uri, const gchar * stream_id,
    GError ** error)
{
  GstClockTime t0 = gst_util_get_timestamp ();
  OpStreamIndex *index = NULL;
  GstElement *src, *parse;
  gchar *path = NULL;
  gint64 duration = -1;
  Pass pass;

  GST_DEBUG_CATEGORY_INIT (op_stream_index_debug, "opstreamindex", 0,
      "onepass frame index pass");
  if (uri && g_str_has_prefix (uri, "file:"))
    path = g_filename_from_uri (uri, NULL, NULL);
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_NOT_FILE,
        "%s is not a local file", uri ? uri : "the stream (no URI)");
    g_free (path);
    return NULL;
  }

  src = gst_element_factory_make ("filesrc", NULL);
  parse = gst_element_factory_make ("parsebin", NULL);
  if (src == NULL || parse == NULL) {
    g_set_error (error, OP_STREAM_INDEX_ERROR, OP_STREAM_INDEX_ERROR_FAILED,
        "filesrc or parsebin is not installed");
    if (src)
      gst_object_unref (src);
    if (parse)
      gst_object_unref (parse);
    g_free (path);
    return NULL;
  }
  g_mutex_init (&pass.lock);
  pass.streams = g_ptr_array_new_with_free_func (stream_log_free);
  pass.pipeline = gst_pipeline_new ("onepass-index");
  g_object_set (src, "location", path, NULL);
  gst_bin_add_many (GST_BIN (pass.pipeline), src, parse, NULL);
  gst_element_link (src, parse);
  g_signal_connect (parse, "pad-added", G_CALLBACK (on_pad_added), &pass);

  if (run_pass (&pass, error)) {
    StreamLog *s;
    gst_element_query_duration (pass.pipeline, GST_FORMAT_TIME, &duration);
    g_mutex_lock (&pass.lock);
    s = pick_stream (pass.streams, stream_id, error);
    if (s)
      index = index_from_log (s, duration > 0 ? (GstClockTime) duration :
          GST_CLOCK_TIME_NONE, error);
    g_mutex_unlock (&pass.lock);
  }
  gst_element_set_state (pass.pipeline, GST_STATE_NULL);
  gst_object_unref (pass.pipeline);
  g_ptr_array_unref (pass.streams);
  g_mutex_clear (&pass.lock);

  if (index) {
    index->build_time = gst_util_get_timestamp () - t0;
    GST_INFO ("%s: %u frames indexed in %" GST_TIME_FORMAT, path,
        index->pts->len, GST_TIME_ARGS (index->build_time));
  }
  g_free (path);
  return index;
}

/**
 * op_stream_index_new_from_pts:
 *
 * A table from known timestamps (sorted here), for tests and for elements
 * that learn the timestamps another way.
 */
OpStreamIndex *
op_stream_index_new_from_pts (const GstClockTime * pts, guint n)
{
  OpStreamIndex *index = g_new0 (OpStreamIndex, 1);

  index->pts = g_array_sized_new (FALSE, FALSE, sizeof (GstClockTime), n);
  g_array_append_vals (index->pts, pts, n);
  g_array_sort (index->pts, (GCompareFunc) compare_packets);
  index->ends = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  index->droppable = g_array_new (FALSE, TRUE, sizeof (guint8));
  index->decode_pos = g_array_new (FALSE, FALSE, sizeof (guint32));
  index->segment_stop = index->declared_end = GST_CLOCK_TIME_NONE;
  return index;
}

void
op_stream_index_free (OpStreamIndex * index)
{
  if (index == NULL)
    return;
  g_array_unref (index->pts);
  g_array_unref (index->ends);
  g_array_unref (index->droppable);
  g_array_unref (index->decode_pos);
  g_free (index);
}

guint
op_stream_index_n_frames (const OpStreamIndex * index)
{
  return index ? index->pts->len : 0;
}

static GstClockTime
pts_at (const OpStreamIndex * index, guint i)
{
  return g_array_index (index->pts, GstClockTime, i);
}

/**
 * op_stream_index_span:
 *
 * Returns: the time from frame @frame to the next one (for the last frame,
 *   the span before it), NONE when the table has fewer than two frames
 */
GstClockTime
op_stream_index_span (const OpStreamIndex * index, guint64 frame)
{
  guint n = index->pts->len;

  if (n < 2 || frame >= n)
    return GST_CLOCK_TIME_NONE;
  if (frame + 1 < n)
    return pts_at (index, frame + 1) - pts_at (index, frame);
  return pts_at (index, frame) - pts_at (index, frame - 1);
}

/**
 * op_stream_index_find:
 * @floor: also accept a @pts between two frames' timestamps, as the frame
 *   before it (a decoder moves the first frame after an accurate seek to
 *   the segment start)
 * @frame: (out): the frame whose timestamp @pts is
 *
 * Matches within a tolerance of a millisecond or a quarter of the gap to
 * the neighbours, whichever is smaller (timestamps are rounded to
 * nanoseconds differently along the way).
 *
 * Returns: TRUE when @pts is a frame of the table
 */
gboolean
op_stream_index_find (const OpStreamIndex * index, GstClockTime pts,
    gboolean floor, guint64 * frame)
{
  guint lo = 0, hi = index->pts->len, n = index->pts->len, i;

  if (!GST_CLOCK_TIME_IS_VALID (pts) || hi == 0)
    return FALSE;
  /* lo = first entry > pts */
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (pts_at (index, mid) <= pts)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* candidates: the entry at or before pts (lo - 1) and the one after */
  for (i = lo > 0 ? lo - 1 : 0; i <= lo && i < n; i++) {
    GstClockTime t = pts_at (index, i);
    GstClockTime d = t > pts ? t - pts : pts - t;
    GstClockTime tol = GST_MSECOND;
    GstClockTime span = op_stream_index_span (index, i);

    if (GST_CLOCK_TIME_IS_VALID (span))
      tol = MIN (tol, span / 4);
    if (i > 0)
      tol = MIN (tol, (t - pts_at (index, i - 1)) / 4);
    if (d <= tol) {
      *frame = i;
      return TRUE;
    }
  }
  /* past the last frame: within its span (the one before it) */
  if (floor && lo > 0 && (lo < n || (GST_CLOCK_TIME_IS_VALID
              (op_stream_index_span (index, n - 1))
              && pts < pts_at (index, n - 1) + op_stream_index_span (index,
                  n - 1)))) {
    *frame = lo - 1;
    return TRUE;
  }
  return FALSE;
}

/* B-frames reorder within a few frames: earlier frames cannot end later */
#define MAX_REORDER 16

/**
 * op_stream_index_seek_position:
 * @position: (out): the timestamp to start an accurate seek at
 *
 * A position inside frame @frame and after the end of every frame before
 * it, so the decoder's segment clipping drops them all and keeps @frame
 * (moved to the segment start). In a variable-rate MP4 a frame's duration
 * can reach past its successor's timestamp, so a fixed offset is not
 * enough.
 *
 * Returns: FALSE when no such position exists (then do not seek there)
 */
gboolean
op_stream_index_seek_position (const OpStreamIndex * index, guint64 frame,
    GstClockTime * position)
{
  guint n = index->pts->len;
  GstClockTime start, limit, span, after = 0;
  guint64 i;

  if (frame >= n)
    return FALSE;
  start = pts_at (index, frame);
  span = op_stream_index_span (index, frame);
  if (!GST_CLOCK_TIME_IS_VALID (span))
    return FALSE;
  limit = start + span;
  if (index->ends->len == n) {
    GstClockTime end = g_array_index (index->ends, GstClockTime, frame);
    limit = MIN (limit, end);
    for (i = frame > MAX_REORDER ? frame - MAX_REORDER : 0; i < frame; i++)
      after = MAX (after, g_array_index (index->ends, GstClockTime, i));
  }
  /* a quarter frame of margin against rounding on either side */
  *position = MAX (start, after) + span / 4;
  return *position + span / 8 < limit;
}
