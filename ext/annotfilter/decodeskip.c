/* onepass: annotfilter's probe on the decoder's input.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A B-frame that no other frame references costs as much to decode as any
 * other, and half the frames of common encodes are such frames. When none
 * of them is labeled, the decoder need not see it: a buffer probe on the
 * decoder's sink pad drops it there. The frame table of the index pass
 * (OpStreamIndex) says which frames are droppable (no other frame depends
 * on them); a packet is recognised by its timestamp in that table, never
 * by counting, and is dropped only when the packet's own NAL headers agree
 * (op_packet_classify). After annotfilter's seek to the end of the stream
 * (no labeled frame is left), every packet is dropped: the demuxer starts
 * again at the keyframe before the end, and that GOP's frames would be
 * decoded only to be clipped. The same probe counts the frames the decoder
 * is given, for annotfilter-stats.
 *
 * The probe is installed when annotfilter sees its first frame (the
 * decoder exists then, also inside decodebin); the decoder has by then
 * been given the first packets in decode order, which are counted from the
 * table's decode positions.
 */
#include "decodeskip.h"

#include <gst/video/video.h>

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (op_decode_skip_debug);
#define GST_CAT_DEFAULT op_decode_skip_debug

/* how many elements upstream of annotfilter to look for the decoder */
#define MAX_HOPS 32

struct _OpDecodeSkip
{
  gint refcount;
  GMutex lock;
  GstPad *pad;                  /* the decoder's sink pad */
  gulong probe_id;
  GstCaps *caps;                /* the decoder's input caps */
  OpStreamIndex *table;         /* own copy of the frame timestamps */
  GArray *decode_pos;           /* guint32 per frame */
  guint8 *drop;                 /* per frame: droppable and not needed */
  guint8 *decoded;              /* per frame: given to the decoder */
  gboolean started;
  gboolean flushed;             /* a seek before the first watched packet */
  guint32 end_seqnum;           /* annotfilter's seek to the end, if sent */
  gboolean past_end_seek;       /* that seek's flush went by: drop all */
  guint64 n_given;              /* frame packets given to the decoder */
  guint64 n_distinct;           /* frames of the table given at least once */
};

static OpDecodeSkip *
op_decode_skip_ref (OpDecodeSkip * skip)
{
  g_atomic_int_inc (&skip->refcount);
  return skip;
}

static void
op_decode_skip_unref (gpointer data)
{
  OpDecodeSkip *skip = data;

  if (!g_atomic_int_dec_and_test (&skip->refcount))
    return;
  gst_caps_replace (&skip->caps, NULL);
  op_stream_index_free (skip->table);
  if (skip->decode_pos)
    g_array_unref (skip->decode_pos);
  g_free (skip->drop);
  g_free (skip->decoded);
  g_mutex_clear (&skip->lock);
  g_free (skip);
}

/* ------------------------------------------------- finding the decoder */

static gboolean
is_video_decoder (GstElement * element)
{
  const gchar *klass;

  if (GST_IS_VIDEO_DECODER (element))
    return TRUE;
  klass = gst_element_class_get_metadata (GST_ELEMENT_GET_CLASS (element),
      GST_ELEMENT_METADATA_KLASS);
  return klass && strstr (klass, "Decoder") && strstr (klass, "Video");
}

/* Elements that pass every frame on unchanged in number and order, and
 * need none that annotfilter does not: the walk may go through them. Any
 * other element (framestats, ramcache, a tee, an application's) may need
 * every frame, so the walk ends there and nothing is kept from the
 * decoder. */
static const gchar *const pass_through[] = {
  "queue", "queue2", "capsfilter", "videoconvert", "videoscale", NULL
};

/* the sink pad of @element when the walk may go through it, else NULL */
static GstPad *
pass_through_sink_pad (GstElement * element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *name = factory ? GST_OBJECT_NAME (factory) : NULL;
  GstPad *pad = NULL;

  if (name == NULL || !g_strv_contains (pass_through, name))
    return NULL;
  GST_OBJECT_LOCK (element);
  if (element->numsinkpads == 1 && element->numsrcpads == 1)
    pad = gst_object_ref (element->sinkpads->data);
  GST_OBJECT_UNLOCK (element);
  return pad;
}

/* the real pad behind ghost and proxy pads, walking upstream from @pad (a
 * src pad, or the internal pad of a bin's ghost sink pad); consumes @pad */
static GstPad *
resolve_src_pad (GstPad * pad)
{
  while (pad) {
    GstPad *next = NULL;
    GstObject *parent;

    if (GST_IS_GHOST_PAD (pad)) {
      next = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
    } else if (GST_IS_PROXY_PAD (pad)
        && (parent = gst_object_get_parent (GST_OBJECT (pad)))) {
      /* the inside of a bin's ghost sink pad: go on outside the bin */
      if (GST_IS_GHOST_PAD (parent))
        next = gst_pad_get_peer (GST_PAD (parent));
      else {
        gst_object_unref (parent);
        return pad;
      }
      gst_object_unref (parent);
    } else {
      return pad;
    }
    gst_object_unref (pad);
    pad = next;
  }
  return NULL;
}

/**
 * op_decode_skip_find_decoder:
 * @sinkpad: annotfilter's sink pad
 *
 * Walks upstream through queues, capsfilters and converters (pass_through)
 * and through bins (decodebin, uridecodebin) to the video decoder that
 * feeds @sinkpad. Any other element on the way ends the walk: it may need
 * every frame (a tee's other branches, framestats, ramcache).
 *
 * Returns: (transfer full) (nullable): the decoder's sink pad
 */
GstPad *
op_decode_skip_find_decoder (GstPad * sinkpad)
{
  GstPad *pad;
  guint hops;

  /* the first call into this file (attach comes after it) */
  GST_DEBUG_CATEGORY_INIT (op_decode_skip_debug, "annotfilter-skip", 0,
      "annotfilter: frames kept from the decoder");
  pad = resolve_src_pad (gst_pad_get_peer (sinkpad));

  for (hops = 0; pad && hops < MAX_HOPS; hops++) {
    GstElement *element = gst_pad_get_parent_element (pad);
    GstPad *sink;

    gst_object_unref (pad);
    if (element == NULL)
      return NULL;
    if (is_video_decoder (element)) {
      sink = gst_element_get_static_pad (element, "sink");
      gst_object_unref (element);
      return sink;
    }
    sink = pass_through_sink_pad (element);
    if (sink == NULL)
      GST_DEBUG_OBJECT (element, "not looking for the decoder beyond this "
          "element: it may need every frame");
    gst_object_unref (element);
    if (sink == NULL)
      return NULL;
    pad = resolve_src_pad (gst_pad_get_peer (sink));
    gst_object_unref (sink);
  }
  if (pad)
    gst_object_unref (pad);
  return NULL;
}

/* --------------------------------------------------------- the probe */

/* At the first packet watched: the decoder was given every packet before
 * it in decode order, from the start of the stream. Unless a seek came
 * first (annotfilter's first labeled frame is far in): then the decoder
 * was given the packets up to its first picture and an unknown number
 * more that the queues let it run ahead. Those are counted as the fewest
 * it needed (up to the first frame in decode order), a lower bound. */
static void
count_before (OpDecodeSkip * skip, guint64 frame)
{
  guint32 first = g_array_index (skip->decode_pos, guint32, frame);
  guint i;

  if (skip->flushed)
    first = MIN (first, g_array_index (skip->decode_pos, guint32, 0) + 1);

  for (i = 0; i < skip->decode_pos->len; i++)
    if (g_array_index (skip->decode_pos, guint32, i) < first
        && !skip->decoded[i]) {
      skip->decoded[i] = 1;
      skip->n_distinct++;
      skip->n_given++;
    }
}

static GstPadProbeReturn
on_decoder_input (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  OpDecodeSkip *skip = user_data;
  GstPadProbeReturn ret = GST_PAD_PROBE_OK;
  GstBuffer *buf;
  OpPacketInfo pkt;
  guint64 frame;

  if (info->type & (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
          | GST_PAD_PROBE_TYPE_EVENT_FLUSH)) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP) {
      g_mutex_lock (&skip->lock);
      if (!skip->started)
        skip->flushed = TRUE;
      /* any other seek (an application's) wants frames again */
      skip->past_end_seek = skip->end_seqnum != GST_SEQNUM_INVALID
          && gst_event_get_seqnum (ev) == skip->end_seqnum;
      g_mutex_unlock (&skip->lock);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps (ev, &caps);
      g_mutex_lock (&skip->lock);
      gst_caps_replace (&skip->caps, caps);
      g_mutex_unlock (&skip->lock);
    }
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    g_mutex_lock (&skip->lock);
    if (skip->past_end_seek)
      ret = GST_PAD_PROBE_DROP;
    else
      skip->n_given +=
          gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    g_mutex_unlock (&skip->lock);
    return ret;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  /* codec headers are no frames */
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;

  g_mutex_lock (&skip->lock);
  if (skip->past_end_seek) {
    GST_LOG ("pts %" GST_TIME_FORMAT ": after the seek to the end, not "
        "decoded", GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
    ret = GST_PAD_PROBE_DROP;
    goto done;
  }
  if (skip->table == NULL
      || !op_stream_index_find (skip->table, GST_BUFFER_PTS (buf), FALSE,
          &frame)) {
    skip->n_given++;
    goto done;
  }
  if (!skip->started && skip->decode_pos->len > frame)
    count_before (skip, frame);
  skip->started = TRUE;
  if (skip->drop && skip->drop[frame]
      && op_packet_classify (skip->caps, buf, &pkt)
      && (pkt.intra || !pkt.referenced)) {
    GST_LOG ("frame %" G_GUINT64_FORMAT " (pts %" GST_TIME_FORMAT "): no "
        "labeled frame needs it, not decoded", frame,
        GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
    ret = GST_PAD_PROBE_DROP;
    goto done;
  }
  skip->n_given++;
  if (!skip->decoded[frame]) {
    skip->decoded[frame] = 1;
    skip->n_distinct++;
  }
done:
  g_mutex_unlock (&skip->lock);
  return ret;
}

/**
 * op_decode_skip_attach:
 * @decoder_sink: the decoder's sink pad (op_decode_skip_find_decoder())
 * @index: (nullable): the frame table; without it, packets are only
 *   counted
 * @needed: (nullable): the labeled frames; NULL: drop nothing, only count
 *
 * Returns: (transfer full): the probe's state, for op_decode_skip_detach()
 */
OpDecodeSkip *
op_decode_skip_attach (GstPad * decoder_sink, const OpStreamIndex * index,
    const OpTargetList * needed)
{
  OpDecodeSkip *skip = g_new0 (OpDecodeSkip, 1);
  guint n = op_stream_index_n_frames (index), i, n_drop = 0;

  skip->refcount = 1;
  skip->end_seqnum = GST_SEQNUM_INVALID;
  g_mutex_init (&skip->lock);
  skip->pad = gst_object_ref (decoder_sink);
  skip->caps = gst_pad_get_current_caps (decoder_sink);
  if (index && n > 0) {
    skip->table = op_stream_index_new_from_pts ((const GstClockTime *)
        index->pts->data, n);
    skip->decode_pos = g_array_copy (index->decode_pos);
    skip->decoded = g_new0 (guint8, n);
  }
  if (skip->table && needed && index->droppable->len == n) {
    skip->drop = g_memdup2 (index->droppable->data, n);
    for (i = 0; i < needed->targets->len; i++) {
      guint64 f = g_array_index (needed->targets, OpTarget, i).frame_index;
      if (f < n)
        skip->drop[f] = 0;
    }
    for (i = 0; i < n; i++)
      n_drop += skip->drop[i];
  }
  GST_INFO_OBJECT (decoder_sink, "watching the decoder's input: %u of %u "
      "frames need not be decoded", n_drop, n);
  skip->probe_id = gst_pad_add_probe (decoder_sink, GST_PAD_PROBE_TYPE_BUFFER
      | GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
      | GST_PAD_PROBE_TYPE_EVENT_FLUSH, on_decoder_input,
      op_decode_skip_ref (skip), op_decode_skip_unref);
  return skip;
}

/**
 * op_decode_skip_detach:
 *
 * Removes the probe (the decoder decodes everything again) and releases
 * @skip.
 */
void
op_decode_skip_detach (OpDecodeSkip * skip)
{
  if (skip == NULL)
    return;
  gst_pad_remove_probe (skip->pad, skip->probe_id);
  gst_object_unref (skip->pad);
  op_decode_skip_unref (skip);
}

/**
 * op_decode_skip_end_with_seek:
 * @seqnum: the seqnum of annotfilter's seek to the end of the stream
 *
 * Once that seek's flush reaches the decoder, no packet is given to it
 * any more (until another seek's flush): nothing after it is shown.
 */
void
op_decode_skip_end_with_seek (OpDecodeSkip * skip, guint32 seqnum)
{
  g_mutex_lock (&skip->lock);
  skip->end_seqnum = seqnum;
  g_mutex_unlock (&skip->lock);
}

/**
 * op_decode_skip_counts:
 * @decoded: (out): frames given to the decoder: its work (a frame decoded
 *   again after a seek counts again)
 * @not_decoded: (inout): frames of the table never given to it (kept
 *   from it here, or jumped over by seeks); left alone without a table
 */
void
op_decode_skip_counts (OpDecodeSkip * skip, guint64 * decoded,
    guint64 * not_decoded)
{
  g_mutex_lock (&skip->lock);
  *decoded = skip->n_given;
  if (skip->table)
    *not_decoded = op_stream_index_n_frames (skip->table) - skip->n_distinct;
  g_mutex_unlock (&skip->lock);
}
