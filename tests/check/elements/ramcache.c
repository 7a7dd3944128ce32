/* ramcache: caching, policies at their limits, seeks and replays served from
 * RAM, loops, caps changes, get-frame from another thread, flushing seeks and
 * state changes during replay.
 *
 * Frames are GRAY8 64x48 at 30/1 whose every byte encodes the frame number
 * (and the frame size after a caps change), so content checks are exact. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/onepass.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>

#define W 64
#define H 48
#define FPS 30
#define SLOT 4096               /* 64 * 48 = 3072 rounded up to a page */

static GstClockTime
frame_pts (guint64 i)
{
  return gst_util_uint64_scale_round (i, GST_SECOND, FPS);
}

static guint8
frame_byte (guint64 i, guint w)
{
  return (guint8) (i * 7 + w + 1);
}

static gchar *
caps_str (guint w, guint h)
{
  return g_strdup_printf ("video/x-raw,format=GRAY8,width=%u,height=%u,"
      "framerate=%d/1", w, h, FPS);
}

static GstBuffer *
make_frame (guint64 i, guint w, guint h)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, w * h, NULL);

  gst_buffer_memset (buf, 0, frame_byte (i, w), w * h);
  GST_BUFFER_PTS (buf) = frame_pts (i);
  GST_BUFFER_DURATION (buf) = frame_pts (i + 1) - frame_pts (i);
  return buf;
}

/* every byte of @buf equals the pattern of frame @i */
static gboolean
frame_is (GstBuffer * buf, guint64 i, guint w, guint h)
{
  GstMapInfo map;
  gboolean ok;
  gsize k;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return FALSE;
  ok = map.size == (gsize) w *h;
  for (k = 0; ok && k < map.size; k++)
    ok = map.data[k] == frame_byte (i, w);
  gst_buffer_unmap (buf, &map);
  return ok;
}

/* a harness around ramcache with "name=value ..." properties */
static GstHarness *
new_harness (const gchar * props)
{
  GstElement *e = gst_element_factory_make ("ramcache", NULL);
  gchar **kv = g_strsplit (props ? props : "", " ", -1);
  gchar *caps = caps_str (W, H);
  GstHarness *h;
  guint i;

  for (i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);

    if (p[0] && p[1])
      gst_util_set_object_arg (G_OBJECT (e), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

static void
push_frames (GstHarness * h, guint64 from, guint64 to)
{
  guint64 i;

  for (i = from; i < to; i++)
    fail_unless_equals_int (gst_harness_push (h, make_frame (i, W, H)),
        GST_FLOW_OK);
}

static void
pull_check (GstHarness * h, guint64 from, guint64 to)
{
  guint64 i;

  for (i = from; i < to; i++) {
    GstBuffer *buf = gst_harness_pull (h);

    fail_unless (buf != NULL);
    fail_unless (frame_is (buf, i, W, H), "buffer is not frame %u", (guint) i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), frame_pts (i));
    gst_buffer_unref (buf);
  }
}

static guint64
get_u64 (GstHarness * h, const gchar * name)
{
  guint64 v;

  g_object_get (h->element, name, &v, NULL);
  return v;
}

static guint
get_cached (GstHarness * h)
{
  guint v;

  g_object_get (h->element, "cached-frames", &v, NULL);
  return v;
}

static GstSample *
get_frame (GstElement * e, guint64 i)
{
  GstSample *s = NULL;

  g_signal_emit_by_name (e, "get-frame", i, &s);
  return s;
}

static void
assert_get_frame (GstHarness * h, guint64 i, gboolean cached)
{
  GstSample *s = get_frame (h->element, i);

  if (!cached) {
    fail_unless (s == NULL, "frame %u should not be cached", (guint) i);
    return;
  }
  fail_unless (s != NULL, "frame %u should be cached", (guint) i);
  fail_unless (frame_is (gst_sample_get_buffer (s), i, W, H));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (gst_sample_get_buffer (s)),
      frame_pts (i));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (gst_sample_get_buffer (s)), i);
  gst_sample_unref (s);
}

/* Drains downstream events until one of @type; returns it. */
static GstEvent *
pull_event_of_type (GstHarness * h, GstEventType type)
{
  GstEvent *ev;

  while ((ev = gst_harness_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == type)
      return ev;
    gst_event_unref (ev);
  }
  return NULL;
}

static void
drain_events (GstHarness * h)
{
  GstEvent *ev;

  while ((ev = gst_harness_try_pull_event (h)))
    gst_event_unref (ev);
}

static gboolean
send_seek (GstHarness * h, GstFormat fmt, gint64 start, gint64 stop)
{
  return gst_harness_push_upstream_event (h, gst_event_new_seek (1.0, fmt,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET,
          start, stop < 0 ? GST_SEEK_TYPE_NONE : GST_SEEK_TYPE_SET, stop));
}

static guint
count_upstream_seeks (GstHarness * h)
{
  GstEvent *ev;
  guint n = 0;

  while ((ev = gst_harness_try_pull_upstream_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEEK)
      n++;
    gst_event_unref (ev);
  }
  return n;
}

GST_START_TEST (test_passthrough_and_get_frame)
{
  GstHarness *h = new_harness ("max-frames=100");
  GstBuffer *in = make_frame (0, W, H), *out;
  guint64 i;

  /* forwarded as is, and not held: ours is the only reference after pull */
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out == in);
  gst_buffer_unref (out);
  ASSERT_BUFFER_REFCOUNT (in, "in", 1);
  gst_buffer_unref (in);

  push_frames (h, 1, 10);
  pull_check (h, 1, 10);
  fail_unless_equals_int (get_cached (h), 10);
  fail_unless_equals_uint64 (get_u64 (h, "cached-bytes"), 10 * SLOT);
  for (i = 0; i < 10; i++)
    assert_get_frame (h, i, TRUE);
  assert_get_frame (h, 10, FALSE);
  assert_get_frame (h, G_MAXUINT64, FALSE);
  fail_unless_equals_uint64 (get_u64 (h, "hits"), 10);
  fail_unless_equals_uint64 (get_u64 (h, "misses"), 2);
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Decoders may hand out padded frames described by a GstVideoMeta. */
GST_START_TEST (test_strided_input)
{
  GstHarness *h = new_harness (NULL);
  gsize offset[4] = { 0 };
  gint stride[4] = { 80 };
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 80 * H, NULL);
  GstSample *s;

  gst_buffer_memset (buf, 0, 0xee, 80 * H);
  gst_buffer_add_video_meta_full (buf, 0, GST_VIDEO_FORMAT_GRAY8, W, H, 1,
      offset, stride);
  {
    GstMapInfo map;
    guint y;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (y = 0; y < H; y++)
      memset (map.data + y * 80, frame_byte (0, W), W);
    gst_buffer_unmap (buf, &map);
  }
  GST_BUFFER_PTS (buf) = 0;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  s = get_frame (h->element, 0);
  fail_unless (s != NULL);
  fail_unless (frame_is (gst_sample_get_buffer (s), 0, W, H));
  gst_sample_unref (s);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_seek_default_from_ram)
{
  GstHarness *h = new_harness (NULL);
  GstEvent *ev;
  const GstSegment *seg;
  GstBuffer *buf;

  push_frames (h, 0, 10);
  pull_check (h, 0, 10);
  drain_events (h);
  count_upstream_seeks (h);

  fail_unless (send_seek (h, GST_FORMAT_DEFAULT, 4, -1));
  ev = pull_event_of_type (h, GST_EVENT_FLUSH_STOP);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  ev = pull_event_of_type (h, GST_EVENT_SEGMENT);
  gst_event_parse_segment (ev, &seg);
  fail_unless_equals_uint64 (seg->start, frame_pts (4));
  gst_event_unref (ev);

  buf = gst_harness_pull (h);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 4);
  fail_unless (frame_is (buf, 4, W, H));
  gst_buffer_unref (buf);
  pull_check (h, 5, 10);

  /* upstream never saw a seek; live data resumes after the cached range */
  fail_unless_equals_int (count_upstream_seeks (h), 0);
  fail_unless_equals_uint64 (get_u64 (h, "hits"), 1);
  push_frames (h, 10, 12);
  pull_check (h, 10, 12);
  fail_unless_equals_int (get_cached (h), 12);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_seek_time_with_stop)
{
  GstHarness *h = new_harness (NULL);
  GstEvent *ev;

  push_frames (h, 0, 10);
  pull_check (h, 0, 10);
  count_upstream_seeks (h);

  /* half way into frame 6: frame 6 is on screen */
  fail_unless (send_seek (h, GST_FORMAT_TIME, frame_pts (6) + GST_SECOND / 60,
          -1));
  pull_check (h, 6, 10);
  /* frames 2, 3, 4 then EOS */
  fail_unless (send_seek (h, GST_FORMAT_DEFAULT, 2, 5));
  pull_check (h, 2, 5);
  ev = pull_event_of_type (h, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  /* exact timestamp of frame 9 */
  fail_unless (send_seek (h, GST_FORMAT_TIME, frame_pts (9), -1));
  pull_check (h, 9, 10);
  fail_unless_equals_int (count_upstream_seeks (h), 0);
  fail_unless_equals_uint64 (get_u64 (h, "hits"), 3);
  fail_unless_equals_uint64 (get_u64 (h, "misses"), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_seek_outside_goes_upstream)
{
  GstHarness *h = new_harness ("max-frames=5");
  GstEvent *ev;
  GstFormat fmt;
  gint64 start;

  push_frames (h, 0, 10);       /* window keeps 5..9 */
  pull_check (h, 0, 10);
  count_upstream_seeks (h);

  send_seek (h, GST_FORMAT_DEFAULT, 50, -1);
  ev = gst_harness_pull_upstream_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEEK);
  gst_event_parse_seek (ev, NULL, &fmt, NULL, NULL, &start, NULL, NULL);
  fail_unless_equals_int (fmt, GST_FORMAT_TIME);
  fail_unless_equals_uint64 (start, frame_pts (50));
  gst_event_unref (ev);

  /* evicted frame: upstream too */
  send_seek (h, GST_FORMAT_TIME, frame_pts (2), -1);
  fail_unless_equals_int (count_upstream_seeks (h), 1);
  fail_unless_equals_uint64 (get_u64 (h, "misses"), 2);
  fail_unless_equals_uint64 (get_u64 (h, "hits"), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_loop_continuous)
{
  GstHarness *h = new_harness ("loop=2");
  GstClockTime last = GST_CLOCK_TIME_NONE;
  GstSegment segs[3];
  GstBuffer *bufs[15];
  GstClockTime st;
  GstEvent *ev;
  guint i, n_segments = 0;

  push_frames (h, 0, 5);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 15; i++) {
    GstBuffer *buf = gst_harness_pull (h);

    fail_unless (buf != NULL);
    fail_unless (frame_is (buf, i % 5, W, H), "buffer %u wrong content", i);
    /* continuous: pass p shifts by exactly p * 5 frames */
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), frame_pts (i));
    /* a replayed frame keeps its index (the first pass is upstream's) */
    if (i >= 5)
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), i % 5);
    if (GST_CLOCK_TIME_IS_VALID (last))
      fail_unless (GST_BUFFER_PTS (buf) > last);
    last = GST_BUFFER_PTS (buf);
    bufs[i] = buf;
  }
  while ((ev = gst_harness_pull_event (h))) {
    GstEventType t = GST_EVENT_TYPE (ev);

    if (t == GST_EVENT_SEGMENT) {
      const GstSegment *seg;

      fail_unless (n_segments < 3);
      gst_event_parse_segment (ev, &seg);
      segs[n_segments++] = *seg;
    }
    gst_event_unref (ev);
    if (t == GST_EVENT_EOS)
      break;
  }
  /* one segment per pass: timestamps and running time go on, stream time
   * (the position in the media) starts over with every pass */
  fail_unless_equals_int (n_segments, 3);
  for (i = 0; i < 3; i++) {
    fail_unless_equals_uint64 (segs[i].start, frame_pts (5 * i));
    fail_unless_equals_uint64 (segs[i].base, frame_pts (5 * i));
    fail_unless_equals_uint64 (segs[i].time, 0);
    if (i > 0)
      fail_unless (!GST_CLOCK_TIME_IS_VALID (segs[i].stop));
  }
  for (i = 0; i < 15; i++) {
    GstSegment *seg = &segs[i / 5];

    fail_unless_equals_uint64 (gst_segment_to_running_time (seg,
            GST_FORMAT_TIME, GST_BUFFER_PTS (bufs[i])), frame_pts (i));
    /* timestamps stay on the frame grid: stream time within 1 ns */
    st = gst_segment_to_stream_time (seg, GST_FORMAT_TIME,
        GST_BUFFER_PTS (bufs[i]));
    fail_unless (ABS ((gint64) st - (gint64) frame_pts (i % 5)) <= 1,
        "buffer %u: stream time %" GST_TIME_FORMAT, i, GST_TIME_ARGS (st));
    gst_buffer_unref (bufs[i]);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;


/* a frame carrying an annotation meta (frame_index i, its own pts) and,
 * for odd i, a crop meta */
static GstBuffer *
make_labeled_frame (guint64 i)
{
  GstBuffer *buf = make_frame (i, W, H);
  OpAnnotation ann;
  OpInstance *inst;

  op_annotation_init (&ann);
  op_annotation_set_source (&ann, "clip");
  ann.frame_index = i;
  ann.pts = frame_pts (i);
  ann.width = W;
  ann.height = H;
  inst = op_annotation_add_instance (&ann, OP_INSTANCE_USER);
  inst->has_bbox = TRUE;
  inst->bbox[0] = i;
  inst->bbox[1] = 2;
  inst->bbox[2] = 10;
  inst->bbox[3] = 5;
  op_buffer_add_annotation_meta (buf, &ann);
  if (i % 2) {
    ann.has_crop = TRUE;
    ann.crop = (OpCropInfo) {
      0, {
      (gint) i, 1, 8, 8}
    , 16, 16};
    op_buffer_add_crop_meta (buf, &ann);
  }
  op_annotation_clear (&ann);
  return buf;
}

/* @buf carries frame @i's metas, unchanged */
static void
check_labels (GstBuffer * buf, guint64 i, const gchar * what)
{
  OpAnnotationMeta *am = op_buffer_get_annotation_meta (buf);
  OpCropMeta *cm = op_buffer_get_crop_meta (buf);

  fail_unless (am != NULL, "%s: no annotation meta", what);
  fail_unless_equals_uint64 (am->ann.frame_index, i);
  /* the meta's pts is the frame's own timestamp in the source, also on a
   * replay whose buffer timestamp moved on */
  fail_unless_equals_uint64 (am->ann.pts, frame_pts (i));
  fail_unless_equals_string (am->ann.source, "clip");
  fail_unless_equals_int (op_annotation_n_instances (&am->ann), 1);
  fail_unless (op_annotation_get_instance (&am->ann, 0)->bbox[0] == i);
  if (i % 2) {
    fail_unless (cm != NULL, "%s: no crop meta", what);
    fail_unless_equals_uint64 (cm->ann.frame_index, i);
    fail_unless_equals_int (cm->ann.crop.rect[0], (gint) i);
  } else {
    fail_unless (cm == NULL, "%s: a crop meta appeared", what);
  }
}

/* Cached frames keep their annotation and crop metas: get-frame samples
 * and loop replays carry the original frame's metas and index. */
GST_START_TEST (test_metas_kept)
{
  GstHarness *h = new_harness ("loop=1");
  guint64 i;

  for (i = 0; i < 5; i++)
    fail_unless_equals_int (gst_harness_push (h, make_labeled_frame (i)),
        GST_FLOW_OK);
  for (i = 0; i < 5; i++) {
    GstSample *smp = get_frame (h->element, i);
    GstBuffer *b;

    fail_unless (smp != NULL);
    b = gst_sample_get_buffer (smp);
    fail_unless (frame_is (b, i, W, H));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    check_labels (b, i, "get-frame");
    gst_sample_unref (smp);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 10; i++) {
    GstBuffer *b = gst_harness_pull (h);

    fail_unless (b != NULL);
    fail_unless (frame_is (b, i % 5, W, H));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), frame_pts (i));
    check_labels (b, i % 5, i < 5 ? "first pass" : "replay");
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Behind annotfilter, which drops unlabeled frames, a frame is the one its
 * annotation meta names: get-frame and seeks use annotfilter's index. */
GST_START_TEST (test_meta_index_wins)
{
  GstHarness *h = new_harness (NULL);
  const guint64 labeled[] = { 3, 7, 8, 12 };
  guint64 i;

  for (i = 0; i < G_N_ELEMENTS (labeled); i++)
    fail_unless_equals_int (gst_harness_push (h,
            make_labeled_frame (labeled[i])), GST_FLOW_OK);
  for (i = 0; i < 14; i++) {
    GstSample *smp = get_frame (h->element, i);
    gboolean want = i == 3 || i == 7 || i == 8 || i == 12;

    fail_unless ((smp != NULL) == want, "get-frame %u", (guint) i);
    if (smp) {
      fail_unless (frame_is (gst_sample_get_buffer (smp), i, W, H));
      check_labels (gst_sample_get_buffer (smp), i, "get-frame");
      gst_sample_unref (smp);
    }
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Labeled and unlabeled frames mixed (annotfilter mode=tag): both kinds
 * are numbered on the same stream. */
GST_START_TEST (test_mixed_meta_and_clock)
{
  GstHarness *h = new_harness (NULL);
  guint64 i;

  for (i = 0; i < 6; i++)
    fail_unless_equals_int (gst_harness_push (h, i == 1 || i == 4 ?
            make_labeled_frame (i) : make_frame (i, W, H)), GST_FLOW_OK);
  for (i = 0; i < 6; i++) {
    GstSample *smp = get_frame (h->element, i);

    fail_unless (smp != NULL, "frame %u not cached", (guint) i);
    fail_unless (frame_is (gst_sample_get_buffer (smp), i, W, H),
        "get-frame %u is another frame", (guint) i);
    if (i == 1 || i == 4)
      check_labels (gst_sample_get_buffer (smp), i, "get-frame");
    gst_sample_unref (smp);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frames numbered by the library's frame clock: a stream that claims 30/1
 * but lost frames (timestamps kept, as a decoder does) is numbered by
 * timestamp, the clock's rule without an index of the file; the lost
 * indices are not cached, never filled with other frames. */
GST_START_TEST (test_frame_clock_numbering)
{
  GstHarness *h = new_harness (NULL);
  const guint64 src[] = { 0, 1, 2, 5, 6 };
  guint64 i;

  for (i = 0; i < G_N_ELEMENTS (src); i++)
    fail_unless_equals_int (gst_harness_push (h, make_frame (src[i], W, H)),
        GST_FLOW_OK);
  for (i = 0; i < G_N_ELEMENTS (src); i++) {
    GstSample *smp = get_frame (h->element, src[i]);

    fail_unless (smp != NULL, "frame %u not cached", (guint) src[i]);
    fail_unless (frame_is (gst_sample_get_buffer (smp), src[i], W, H),
        "get-frame %u is another frame", (guint) src[i]);
    gst_sample_unref (smp);
  }
  fail_unless (get_frame (h->element, 3) == NULL);
  fail_unless (get_frame (h->element, 4) == NULL);
  gst_harness_teardown (h);

  /* replayed, such a stream still has rising timestamps: a pass spans its
   * timestamps (7 frames), not its 5 counted indices */
  h = new_harness ("loop=1");
  for (i = 0; i < G_N_ELEMENTS (src); i++)
    fail_unless_equals_int (gst_harness_push (h, make_frame (src[i], W, H)),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 2 * G_N_ELEMENTS (src); i++) {
    GstBuffer *b = gst_harness_pull (h);
    guint64 k = i % G_N_ELEMENTS (src);

    fail_unless (frame_is (b, src[k], W, H));
    /* on the frame grid (1 ns rounding) */
    fail_unless (ABS ((gint64) GST_BUFFER_PTS (b) - (gint64) frame_pts (src[k]
                + (i < G_N_ELEMENTS (src) ? 0 : 7))) <= 1, "buffer %u at %"
        GST_TIME_FORMAT, (guint) i, GST_TIME_ARGS (GST_BUFFER_PTS (b)));
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstMessage *
pop_element_message (GstBus * bus, const gchar * name)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, name))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

GST_START_TEST (test_policy_window)
{
  GstHarness *h = new_harness ("max-bytes=20480 policy=window");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *st;
  guint64 i, v;
  guint cap;

  gst_element_set_bus (h->element, bus);
  push_frames (h, 0, 12);       /* 20480 / 4096 = 5 slots */
  fail_unless_equals_int (get_cached (h), 5);
  fail_unless_equals_uint64 (get_u64 (h, "cached-bytes"), 5 * SLOT);
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 7);
  for (i = 0; i < 12; i++)
    assert_get_frame (h, i, i >= 7);
  msg = pop_element_message (bus, "ramcache-full");
  fail_unless (msg != NULL);
  st = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (st, "policy"), "window");
  fail_unless (gst_structure_get_uint (st, "capacity", &cap));
  fail_unless_equals_int (cap, 5);
  fail_unless (gst_structure_get_uint64 (st, "frame-index", &v));
  fail_unless_equals_uint64 (v, 5);
  fail_unless (gst_structure_get_uint64 (st, "slot-bytes", &v));
  fail_unless_equals_uint64 (v, SLOT);
  gst_message_unref (msg);
  /* posted once, not per eviction */
  fail_unless (pop_element_message (bus, "ramcache-full") == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_policy_subsample)
{
  GstHarness *h = new_harness ("max-frames=4 policy=subsample");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint64 i, step;

  gst_element_set_bus (h->element, bus);
  push_frames (h, 0, 16);
  /* 0..3; at 4: k=2 -> 0,2,4; 6; at 8: k=4 -> 0,4,8; 12 */
  for (i = 0; i < 16; i++)
    assert_get_frame (h, i, i % 4 == 0);
  fail_unless_equals_int (get_cached (h), 4);
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 4);
  msg = pop_element_message (bus, "ramcache-full");
  gst_structure_get_uint64 (gst_message_get_structure (msg), "step", &step);
  fail_unless_equals_uint64 (step, 2);
  gst_message_unref (msg);
  msg = pop_element_message (bus, "ramcache-full");
  gst_structure_get_uint64 (gst_message_get_structure (msg), "step", &step);
  fail_unless_equals_uint64 (step, 4);
  gst_message_unref (msg);
  fail_unless (pop_element_message (bus, "ramcache-full") == NULL);
  /* all frames still went downstream */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 16);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static guint
count_files (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  if (d)
    g_dir_close (d);
  return n;
}

GST_START_TEST (test_policy_spill)
{
  gchar *dir = g_dir_make_tmp ("ramcache-spill-XXXXXX", NULL);
  gchar *props = g_strdup_printf ("max-bytes=8192 policy=spill "
      "spill-dir=%s", dir);
  GstHarness *h = new_harness (props);
  guint64 i;

  push_frames (h, 0, 40);       /* 2 in RAM, 38 in the file */
  pull_check (h, 0, 40);
  fail_unless_equals_int (get_cached (h), 40);
  fail_unless_equals_uint64 (get_u64 (h, "cached-bytes"), 40 * SLOT);
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 0);
  fail_unless_equals_int (count_files (dir), 1);
  for (i = 0; i < 40; i++)
    assert_get_frame (h, i, TRUE);
  /* replay through the spill file */
  fail_unless (send_seek (h, GST_FORMAT_DEFAULT, 30, -1));
  pull_check (h, 30, 40);
  push_frames (h, 40, 41);
  pull_check (h, 40, 41);
  fail_unless_equals_int (get_cached (h), 41);
  gst_harness_teardown (h);
  /* deleted at stop */
  fail_unless_equals_int (count_files (dir), 0);
  g_rmdir (dir);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

/* A full disk, simulated with a file size limit: the spill file cannot
 * grow past its first chunk of 16 slots. */
GST_START_TEST (test_policy_spill_disk_full)
{
  gchar *dir = g_dir_make_tmp ("ramcache-spill-XXXXXX", NULL);
  gchar *props = g_strdup_printf ("max-bytes=8192 policy=spill "
      "spill-dir=%s", dir);
  GstHarness *h = new_harness (props);
  GstBus *bus = gst_bus_new ();
  struct rlimit old, lim;
  GstMessage *msg;
  GError *err = NULL;
  void (*old_handler) (int);

  gst_element_set_bus (h->element, bus);
  getrlimit (RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 16 * SLOT;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  fail_unless (setrlimit (RLIMIT_FSIZE, &lim) == 0);
  push_frames (h, 0, 18);       /* 2 in RAM + 16 in the first chunk */
  fail_unless_equals_int (gst_harness_push (h, make_frame (18, W, H)),
      GST_FLOW_ERROR);
  setrlimit (RLIMIT_FSIZE, &old);
  signal (SIGXFSZ, old_handler);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  GST_INFO ("error: %s", err->message);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_WRITE));
  fail_unless (strstr (err->message, "cannot grow spill file") != NULL);
  fail_unless (strstr (err->message, dir) != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (get_cached (h), 18);
  assert_get_frame (h, 17, TRUE);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  fail_unless_equals_int (count_files (dir), 0);
  g_rmdir (dir);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_policy_spill_bad_dir)
{
  GstElement *e = gst_element_factory_make ("ramcache", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (e, bus);
  g_object_set (e, "policy", 2, "spill-dir", "/nonexistent/ramcache", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "/nonexistent/ramcache") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_policy_error)
{
  GstHarness *h = new_harness ("max-frames=3 policy=error");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (h->element, bus);
  push_frames (h, 0, 3);
  fail_unless_equals_int (gst_harness_push (h, make_frame (3, W, H)),
      GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT));
  GST_INFO ("error: %s", err->message);
  fail_unless (strstr (err->message, "3 frames of 4096 bytes (12288 bytes)"));
  fail_unless (strstr (err->message, "max-frames=3"));
  fail_unless (strstr (err->message, "frame 3 does not fit"));
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (get_cached (h), 3);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_change_flushes)
{
  GstHarness *h = new_harness (NULL);
  gchar *caps = caps_str (32, 24);
  GstSample *s;
  GstStructure *st;
  gint w;
  guint64 i;

  push_frames (h, 0, 5);
  gst_harness_set_src_caps_str (h, caps);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, make_frame (5 + i, 32, 24)),
        GST_FLOW_OK);
  fail_unless_equals_int (get_cached (h), 3);
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 5);
  /* indices restart at the first frame of the new format */
  s = get_frame (h->element, 0);
  fail_unless (frame_is (gst_sample_get_buffer (s), 5, 32, 24));
  st = gst_caps_get_structure (gst_sample_get_caps (s), 0);
  gst_structure_get_int (st, "width", &w);
  fail_unless_equals_int (w, 32);
  gst_sample_unref (s);
  s = get_frame (h->element, 3);
  fail_unless (s == NULL);
  g_free (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  GstElement *element;
  volatile gint stop;
  guint served;
  gboolean bad;
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  guint64 i = 0;

  while (!g_atomic_int_get (&r->stop)) {
    GstSample *s = get_frame (r->element, i % 300);

    if (s) {
      if (!frame_is (gst_sample_get_buffer (s), i % 300, W, H))
        r->bad = TRUE;
      r->served++;
      gst_sample_unref (s);
    }
    i += 7;
  }
  return NULL;
}

GST_START_TEST (test_get_frame_while_streaming)
{
  GstHarness *h = new_harness ("max-frames=64");
  Reader r = { h->element, 0, 0, FALSE };
  GThread *t = g_thread_new ("reader", reader_thread, &r);
  guint64 i;

  for (i = 0; i < 300; i++) {
    fail_unless_equals_int (gst_harness_push (h, make_frame (i, W, H)),
        GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  g_atomic_int_set (&r.stop, 1);
  g_thread_join (t);
  fail_if (r.bad, "get-frame returned a frame with the wrong content");
  fail_unless_equals_uint64 (get_u64 (h, "evicted"), 300 - 64);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_flushing_seeks_during_replay)
{
  GstHarness *h = new_harness ("loop=3");
  const guint64 targets[] = { 3, 25, 11, 0, 29, 8, 19, 1, 14, 22 };
  GstBuffer *buf;
  guint i;

  push_frames (h, 0, 30);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  /* seeks land while the loop replay runs */
  for (i = 0; i < G_N_ELEMENTS (targets); i++)
    fail_unless (send_seek (h, GST_FORMAT_DEFAULT, targets[i], -1));
  fail_unless (send_seek (h, GST_FORMAT_DEFAULT, 17, -1));
  /* find the final replay, then check it frame by frame */
  do {
    buf = gst_harness_pull (h);
    fail_unless (buf != NULL);
    if (GST_BUFFER_OFFSET (buf) == 17 &&
        GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT) &&
        GST_BUFFER_PTS (buf) == frame_pts (17))
      break;
    gst_buffer_unref (buf);
  } while (TRUE);
  fail_unless (frame_is (buf, 17, W, H));
  gst_buffer_unref (buf);
  pull_check (h, 18, 30);
  fail_unless_equals_uint64 (get_u64 (h, "hits"), 11);
  fail_unless_equals_int (count_upstream_seeks (h), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gboolean
frame_is_ball_size (GstBuffer * buf)
{
  return gst_buffer_get_size (buf) == W * H;
}

static void
run_to_state (GstElement * p, GstState s)
{
  fail_if (gst_element_set_state (p, s) == GST_STATE_CHANGE_FAILURE);
}

GST_START_TEST (test_state_changes_during_replay)
{
  GstElement *p, *cache;
  GstBus *bus;
  GstMessage *msg;
  guint i;

  p = gst_parse_launch ("videotestsrc num-buffers=20 ! "
      "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1 ! "
      "ramcache name=cache loop=1000000 ! fakesink sync=false", NULL);
  fail_unless (p != NULL);
  cache = gst_bin_get_by_name (GST_BIN (p), "cache");
  bus = gst_element_get_bus (p);
  for (i = 0; i < 25; i++) {
    static const GstState seq[] = { GST_STATE_PLAYING, GST_STATE_PAUSED,
      GST_STATE_PLAYING, GST_STATE_READY
    };
    GstSample *smp;

    run_to_state (p, seq[i % 4]);
    g_usleep ((i % 5) * 2000);
    /* seeks (cached or not) and random access racing the replay; TIME,
     * since videotestsrc asserts on DEFAULT seeks before it has caps */
    if (seq[i % 4] != GST_STATE_READY)
      gst_element_seek_simple (p, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
          frame_pts ((i * 3) % 25));
    smp = get_frame (cache, i % 20);
    if (smp) {
      fail_unless (frame_is_ball_size (gst_sample_get_buffer (smp)));
      gst_sample_unref (smp);
    }
  }
  run_to_state (p, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND) ==
      GST_STATE_CHANGE_SUCCESS);
  run_to_state (p, GST_STATE_NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "unexpected error %" GST_PTR_FORMAT, msg);
  gst_object_unref (bus);
  gst_object_unref (cache);
  gst_object_unref (p);
}

GST_END_TEST;


/* A seek served from RAM, then loop passes: every buffer lies inside its
 * segment, running time goes on, and stream time is the replayed frame's
 * own position (pass segments start at the first cached frame, which
 * comes before the seek target). */
GST_START_TEST (test_loop_after_seek_segments)
{
  GstElement *p, *sink;
  GstClockTime last_rt = GST_CLOCK_TIME_NONE;
  gboolean seen_target = FALSE;
  guint i, n = 0;

  p = gst_parse_launch ("videotestsrc num-buffers=10 ! "
      "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1 ! "
      "ramcache name=cache loop=1000000 ! "
      "appsink name=s sync=false max-buffers=2", NULL);
  fail_unless (p != NULL);
  sink = gst_bin_get_by_name (GST_BIN (p), "s");
  run_to_state (p, GST_STATE_PLAYING);
  for (i = 0; i < 20; i++)
    gst_sample_unref (gst_app_sink_pull_sample (GST_APP_SINK (sink)));
  fail_unless (gst_element_seek_simple (p, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, frame_pts (6)));
  while (n < 24) {
    GstSample *smp = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstBuffer *b;
    const GstSegment *seg;
    GstClockTime rt, st;

    fail_unless (smp != NULL);
    b = gst_sample_get_buffer (smp);
    seg = gst_sample_get_segment (smp);
    if (!seen_target) {
      /* buffers pushed before the flush may still come first */
      seen_target = GST_BUFFER_OFFSET (b) == 6 &&
          GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT) &&
          GST_BUFFER_PTS (b) == frame_pts (6);
      if (!seen_target) {
        gst_sample_unref (smp);
        continue;
      }
    }
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), (6 + n) % 10);
    rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (b));
    st = gst_segment_to_stream_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (b));
    fail_unless (GST_CLOCK_TIME_IS_VALID (rt), "buffer %u (frame %u) is "
        "outside its segment", n, (guint) GST_BUFFER_OFFSET (b));
    /* one frame later, within rounding (videotestsrc truncates its
     * timestamps, the loop shift rounds) */
    if (GST_CLOCK_TIME_IS_VALID (last_rt))
      fail_unless (ABS ((gint64) rt - (gint64) (last_rt + frame_pts (1))) <= 2,
          "buffer %u: running time %" GST_TIME_FORMAT " after %"
          GST_TIME_FORMAT, n, GST_TIME_ARGS (rt), GST_TIME_ARGS (last_rt));
    last_rt = rt;
    /* timestamps on the frame grid: a few ns of rounding */
    fail_unless (ABS ((gint64) st - (gint64) frame_pts (GST_BUFFER_OFFSET (b)))
        <= 2, "frame %u at stream time %" GST_TIME_FORMAT,
        (guint) GST_BUFFER_OFFSET (b), GST_TIME_ARGS (st));
    n++;
    gst_sample_unref (smp);
  }
  run_to_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
}

GST_END_TEST;


/* ---- export-location ---- */

static gchar *
read_all (const gchar * path, gsize * len)
{
  gchar *data = NULL;

  if (!g_file_get_contents (path, &data, len, NULL))
    return NULL;
  return data;
}

/* .npy version 1.0 with a @header_bytes header starting with @dict */
static void
check_npy_header (const gchar * data, gsize header_bytes, const gchar * dict)
{
  fail_unless (memcmp (data, "\x93NUMPY\x01\x00", 8) == 0);
  fail_unless_equals_int ((guint8) data[8] | ((guint8) data[9] << 8),
      header_bytes - 10);
  fail_unless (strncmp (data + 10, dict, strlen (dict)) == 0,
      "header %.100s, want %s", data + 10, dict);
  fail_unless_equals_int (data[header_bytes - 1], '\n');
}

static void
check_index_file (const gchar * npy, guint64 first_index, guint n)
{
  gchar *path = g_strdup_printf ("%.*s.index.npy", (gint) strlen (npy) - 4,
      npy);
  gchar *dict = g_strdup_printf ("{'descr': '<u8', 'fortran_order': False, "
      "'shape': (%u,), }", n);
  gsize len;
  gchar *data = read_all (path, &len);
  guint i;

  fail_unless (data != NULL, "no %s", path);
  fail_unless_equals_int (len, 128 + 8 * n);
  check_npy_header (data, 128, dict);
  /* (not "first": fail_unless_equals_uint64 declares a local of that name) */
  for (i = 0; i < n; i++)
    fail_unless_equals_uint64 (GST_READ_UINT64_LE (data + 128 + 8 * i),
        first_index + i);
  g_free (data);
  g_unlink (path);
  g_free (dict);
  g_free (path);
}

static GstMessage *pop_element_message (GstBus * bus, const gchar * name);

static gboolean
get_boolean (GstMessage * msg, const gchar * field)
{
  gboolean v = FALSE;

  fail_unless (gst_structure_get_boolean (gst_message_get_structure (msg),
          field, &v));
  return v;
}

GST_START_TEST (test_export_npy)
{
  gchar *dir = g_dir_make_tmp ("ramcache-export-XXXXXX", NULL);
  gchar *npy = g_build_filename (dir, "frames.npy", NULL);
  gchar *props = g_strdup_printf ("export-location=%s", npy);
  GstHarness *h = new_harness (props);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint frames, i, k;
  gchar *data;
  gsize len;

  gst_element_set_bus (h->element, bus);
  push_frames (h, 0, 10);
  fail_unless (!g_file_test (npy, G_FILE_TEST_EXISTS));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = pop_element_message (bus, "ramcache-exported");
  fail_unless (msg != NULL);
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "location"), npy);
  gst_structure_get_uint (gst_message_get_structure (msg), "frames", &frames);
  fail_unless_equals_int (frames, 10);
  fail_unless (!get_boolean (msg, "from-spill"));
  gst_message_unref (msg);

  data = read_all (npy, &len);
  fail_unless_equals_int (len, 128 + 10 * W * H);
  check_npy_header (data, 128, "{'descr': '|u1', 'fortran_order': False, "
      "'shape': (10, 48, 64), }");
  for (i = 0; i < 10; i++)
    for (k = 0; k < W * H; k++)
      fail_unless_equals_int ((guint8) data[128 + i * W * H + k],
          frame_byte (i, W));
  g_free (data);
  check_index_file (npy, 0, 10);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (npy);
  g_rmdir (dir);
  g_free (props);
  g_free (npy);
  g_free (dir);
}

GST_END_TEST;

/* GRAY8 30 wide: GStreamer pads rows to 32 bytes, the .npy rows are 30 */
GST_START_TEST (test_export_padded_rows)
{
  gchar *dir = g_dir_make_tmp ("ramcache-export-XXXXXX", NULL);
  gchar *npy = g_build_filename (dir, "frames.npy", NULL);
  gchar *props = g_strdup_printf ("export-location=%s", npy);
  GstHarness *h = new_harness (props);
  gchar *caps = caps_str (30, H);
  guint i, k, y;
  gchar *data;
  gsize len;

  gst_harness_set_src_caps_str (h, caps);
  for (i = 0; i < 3; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 32 * H, NULL);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (y = 0; y < H; y++) {
      memset (map.data + y * 32, frame_byte (i, 30) + y, 30);
      memset (map.data + y * 32 + 30, 0xee, 2);
    }
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = frame_pts (i);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  data = read_all (npy, &len);
  fail_unless_equals_int (len, 128 + 3 * 30 * H);
  check_npy_header (data, 128, "{'descr': '|u1', 'fortran_order': False, "
      "'shape': (3, 48, 30), }");
  for (i = 0; i < 3; i++)
    for (y = 0; y < H; y++)
      for (k = 0; k < 30; k++)
        fail_unless_equals_int ((guint8) data[128 + (i * H + y) * 30 + k],
            (guint8) (frame_byte (i, 30) + y));
  g_free (data);
  check_index_file (npy, 0, 3);
  gst_harness_teardown (h);
  g_unlink (npy);
  g_rmdir (dir);
  g_free (caps);
  g_free (props);
  g_free (npy);
  g_free (dir);
}

GST_END_TEST;

/* policy=spill: the spill file is created as the export and becomes it */
GST_START_TEST (test_export_spill_file_is_the_npy)
{
  gchar *dir = g_dir_make_tmp ("ramcache-export-XXXXXX", NULL);
  gchar *spill_dir = g_dir_make_tmp ("ramcache-spill-XXXXXX", NULL);
  gchar *npy = g_build_filename (dir, "frames.npy", NULL);
  gchar *part = g_strconcat (npy, ".part", NULL);
  gchar *props = g_strdup_printf ("max-bytes=8192 policy=spill spill-dir=%s "
      "export-location=%s", spill_dir, npy);
  GstHarness *h = new_harness (props);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GStatBuf before, after;
  guint i, k;
  gchar *data;
  gsize len;

  gst_element_set_bus (h->element, bus);
  /* 64x48 = 3072 bytes: slots are not page sized in this file */
  push_frames (h, 0, 20);       /* 2 in RAM, 18 in the file */
  fail_unless_equals_int (get_cached (h), 20);
  fail_unless_equals_int (count_files (spill_dir), 0);
  fail_unless (g_stat (part, &before) == 0);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = pop_element_message (bus, "ramcache-exported");
  fail_unless (msg != NULL);
  fail_unless (get_boolean (msg, "from-spill"));
  gst_message_unref (msg);
  /* the same file (inode), renamed */
  fail_unless (!g_file_test (part, G_FILE_TEST_EXISTS));
  fail_unless (g_stat (npy, &after) == 0);
  fail_unless_equals_uint64 (before.st_ino, after.st_ino);

  data = read_all (npy, &len);
  fail_unless_equals_int (len, 4096 + 20 * W * H);
  check_npy_header (data, 4096, "{'descr': '|u1', 'fortran_order': False, "
      "'shape': (20, 48, 64), }");
  for (i = 0; i < 20; i++)
    for (k = 0; k < W * H; k++)
      fail_unless_equals_int ((guint8) data[4096 + i * W * H + k],
          frame_byte (i, W));
  g_free (data);
  check_index_file (npy, 0, 20);
  /* still served from it */
  for (i = 0; i < 20; i++)
    assert_get_frame (h, i, TRUE);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  /* kept at stop */
  fail_unless (g_file_test (npy, G_FILE_TEST_EXISTS));
  g_unlink (npy);
  g_rmdir (dir);
  g_rmdir (spill_dir);
  g_free (props);
  g_free (part);
  g_free (npy);
  g_free (spill_dir);
  g_free (dir);
}

GST_END_TEST;

/* Evictions reorder the spill slots: the export is written as a copy in
 * index order and the spill file is deleted at stop. */
GST_START_TEST (test_export_spill_evicted)
{
  gchar *dir = g_dir_make_tmp ("ramcache-export-XXXXXX", NULL);
  gchar *npy = g_build_filename (dir, "frames.npy", NULL);
  gchar *props = g_strdup_printf ("max-bytes=8192 max-frames=5 policy=spill "
      "export-location=%s", npy);
  GstHarness *h = new_harness (props);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint i, k;
  gchar *data;
  gsize len;

  gst_element_set_bus (h->element, bus);
  /* frame k takes the slot of frame k - 5: 13..17 sit in slots 3, 4, 0,
   * 1, 2 */
  push_frames (h, 0, 18);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = pop_element_message (bus, "ramcache-exported");
  fail_unless (msg != NULL);
  fail_unless (!get_boolean (msg, "from-spill"));
  gst_message_unref (msg);
  data = read_all (npy, &len);
  fail_unless_equals_int (len, 128 + 5 * W * H);
  for (i = 0; i < 5; i++)
    for (k = 0; k < W * H; k++)
      fail_unless_equals_int ((guint8) data[128 + i * W * H + k],
          frame_byte (13 + i, W));
  g_free (data);
  check_index_file (npy, 13, 5);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (npy);
  /* only the export was left behind */
  fail_unless_equals_int (count_files (dir), 0);
  g_rmdir (dir);
  g_free (props);
  g_free (npy);
  g_free (dir);
}

GST_END_TEST;

/* max-frames=5 over 20 frames: frame k replaced frame k - 5 in its slot,
 * so 15..19 sit in slots 0..4 in order: the spill file (holding 17..19
 * after 2 RAM slots with 15, 16) is the export, RAM frames filled in. */
GST_START_TEST (test_export_spill_rotated_in_order)
{
  gchar *dir = g_dir_make_tmp ("ramcache-export-XXXXXX", NULL);
  gchar *npy = g_build_filename (dir, "frames.npy", NULL);
  gchar *props = g_strdup_printf ("max-bytes=8192 max-frames=5 policy=spill "
      "export-location=%s", npy);
  GstHarness *h = new_harness (props);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint i, k;
  gchar *data;
  gsize len;

  gst_element_set_bus (h->element, bus);
  push_frames (h, 0, 20);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = pop_element_message (bus, "ramcache-exported");
  fail_unless (msg != NULL);
  fail_unless (get_boolean (msg, "from-spill"));
  gst_message_unref (msg);
  data = read_all (npy, &len);
  fail_unless_equals_int (len, 4096 + 5 * W * H);
  check_npy_header (data, 4096, "{'descr': '|u1', 'fortran_order': False, "
      "'shape': (5, 48, 64), }");
  for (i = 0; i < 5; i++)
    for (k = 0; k < W * H; k++)
      fail_unless_equals_int ((guint8) data[4096 + i * W * H + k],
          frame_byte (15 + i, W));
  g_free (data);
  check_index_file (npy, 15, 5);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (npy);
  fail_unless_equals_int (count_files (dir), 0);
  g_rmdir (dir);
  g_free (props);
  g_free (npy);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_export_bad_dir)
{
  GstElement *e = gst_element_factory_make ("ramcache", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (e, bus);
  g_object_set (e, "export-location", "/nonexistent/dir/frames.npy", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "/nonexistent/dir/frames.npy") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* subsample with a known duration: 200 frames, 108 slots. The step is
 * 200/106 (2% kept free for a short duration): frames ceil (j * 200 / 106)
 * are cached, 106 of the 108 slots (>= 90%); the old doubling kept 100. */
GST_START_TEST (test_subsample_step_from_duration)
{
  GstElement *pipe = gst_parse_launch ("appsrc name=src format=time ! "
      "ramcache name=rc policy=subsample max-bytes=442368 ! fakesink", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstElement *rc = gst_bin_get_by_name (GST_BIN (pipe), "rc");
  GstBus *bus = gst_element_get_bus (pipe);
  gchar *caps_s = caps_str (W, H);
  GstCaps *caps = gst_caps_from_string (caps_s);
  GstMessage *msg, *plan = NULL;
  const GstStructure *st;
  gboolean full = FALSE;
  guint64 i, v, j = 0;
  guint cached, cap;

  g_object_set (src, "caps", caps, "duration", frame_pts (200), NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < 200; i++)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            make_frame (i, W, H)), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  /* keep the element messages posted before EOS */
  while ((msg = gst_bus_timed_pop (bus, 10 * GST_SECOND))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      break;
    if (gst_message_has_name (msg, "ramcache-plan"))
      gst_message_replace (&plan, msg);
    if (gst_message_has_name (msg, "ramcache-full"))
      full = TRUE;
    gst_message_unref (msg);
  }
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);

  msg = plan;
  fail_unless (msg != NULL);
  st = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint64 (st, "duration-frames", &v));
  fail_unless_equals_uint64 (v, 200);
  fail_unless (gst_structure_get_uint (st, "capacity", &cap));
  fail_unless_equals_int (cap, 108);
  fail_unless (gst_structure_get_uint64 (st, "step-num", &v));
  fail_unless_equals_uint64 (v, 200);
  fail_unless (gst_structure_get_uint64 (st, "step-den", &v));
  fail_unless_equals_uint64 (v, 106);
  gst_message_unref (msg);
  /* never full: nothing evicted, no doubling */
  fail_unless (!full);

  g_object_get (rc, "cached-frames", &cached, NULL);
  fail_unless_equals_int (cached, 106);
  fail_unless (cached * 10 >= 108 * 9);
  for (i = 0; i < 200; i++) {
    GstSample *s = get_frame (rc, i);
    gboolean want = j < 106 && i == (j * 200 + 105) / 106;

    fail_unless ((s != NULL) == want, "frame %u cached: %d", (guint) i,
        s != NULL);
    if (s) {
      fail_unless (frame_is (gst_sample_get_buffer (s), i, W, H));
      gst_sample_unref (s);
      j++;
    }
  }
  fail_unless_equals_uint64 (j, 106);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_caps_unref (caps);
  g_free (caps_s);
  gst_object_unref (bus);
  gst_object_unref (rc);
  gst_object_unref (src);
  gst_object_unref (pipe);
}

GST_END_TEST;

static Suite *
ramcache_suite (void)
{
  Suite *s = suite_create ("ramcache");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_passthrough_and_get_frame);
  tcase_add_test (tc, test_strided_input);
  tcase_add_test (tc, test_seek_default_from_ram);
  tcase_add_test (tc, test_seek_time_with_stop);
  tcase_add_test (tc, test_seek_outside_goes_upstream);
  tcase_add_test (tc, test_loop_continuous);
  tcase_add_test (tc, test_metas_kept);
  tcase_add_test (tc, test_frame_clock_numbering);
  tcase_add_test (tc, test_meta_index_wins);
  tcase_add_test (tc, test_mixed_meta_and_clock);
  tcase_add_test (tc, test_loop_after_seek_segments);
  tcase_add_test (tc, test_policy_window);
  tcase_add_test (tc, test_policy_subsample);
  tcase_add_test (tc, test_policy_spill);
  tcase_add_test (tc, test_policy_spill_disk_full);
  tcase_add_test (tc, test_policy_spill_bad_dir);
  tcase_add_test (tc, test_policy_error);
  tcase_add_test (tc, test_caps_change_flushes);
  tcase_add_test (tc, test_get_frame_while_streaming);
  tcase_add_test (tc, test_flushing_seeks_during_replay);
  tcase_add_test (tc, test_state_changes_during_replay);
  tcase_add_test (tc, test_export_npy);
  tcase_add_test (tc, test_export_padded_rows);
  tcase_add_test (tc, test_export_spill_file_is_the_npy);
  tcase_add_test (tc, test_export_spill_evicted);
  tcase_add_test (tc, test_export_spill_rotated_in_order);
  tcase_add_test (tc, test_export_bad_dir);
  tcase_add_test (tc, test_subsample_step_from_duration);
  return s;
}

GST_CHECK_MAIN (ramcache);
