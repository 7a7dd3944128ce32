/* framestats: reductions on strided GRAY8 and on GRAY16_LE blocks against
 * sums computed here, the .npy files byte for byte, get-stat samples,
 * sliding-mean output (caps, dropped first frames, values), settings and
 * caps-change errors, and no .part file left after a stop before EOS.
 *
 * Frame i's sample at (x, y) is a fixed formula (pix8/pix16), so every
 * expected statistic is computed here from the same formula. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define W 5
#define H 3
#define STRIDE 8                /* padded rows: the padding must be ignored */

static guint8
pix8 (guint i, guint x, guint y)
{
  return (guint8) (i * 37 + x * 11 + y * 5 + (i * x) % 7);
}

static guint16
pix16 (guint i, guint x, guint y)
{
  return (guint16) (i * 9001 + x * 1103 + y * 517 + (i * x * y) % 13);
}

static GstBuffer *
make_gray8_strided (guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, STRIDE * H, NULL);
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { STRIDE };
  GstMapInfo map;
  guint x, y;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0xff, STRIDE * H);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      map.data[y * STRIDE + x] = pix8 (i, x, y);
  gst_buffer_unmap (buf, &map);
  gst_buffer_add_video_meta_full (buf, 0, GST_VIDEO_FORMAT_GRAY8, W, H, 1,
      offset, stride);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  return buf;
}

static GstBuffer *
make_gray16 (guint i)
{
  /* default layout: a row of 5 x 2 bytes is padded to 12 */
  GstVideoInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  guint x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, W, H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0xff, map.size);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      GST_WRITE_UINT16_LE (map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info,
              0) + 2 * x, pix16 (i, x, y));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
  return buf;
}

static GstHarness *
new_harness (const gchar * props, const gchar * format)
{
  GstElement *e = gst_element_factory_make ("framestats", NULL);
  gchar **kv = g_strsplit (props ? props : "", " ", -1);
  gchar *caps;
  GstHarness *h;
  guint i;

  fail_unless (e != NULL);
  for (i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);

    if (p[0] && p[1])
      gst_util_set_object_arg (G_OBJECT (e), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", format, W, H);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

static GstSample *
get_stat (GstElement * e, const gchar * stat)
{
  GstSample *s = NULL;

  g_signal_emit_by_name (e, "get-stat", stat, &s);
  return s;
}

/* expected mean and population std of sample (x, y) over frames
 * [from, to), two passes in double */
static void
expect (gboolean wide, guint from, guint to, guint x, guint y,
    gdouble * mean, gdouble * sd, guint * mn, guint * mx)
{
  gdouble sum = 0, sq = 0;
  guint i;

  *mn = G_MAXUINT;
  *mx = 0;
  for (i = from; i < to; i++) {
    guint v = wide ? pix16 (i, x, y) : pix8 (i, x, y);

    sum += v;
    *mn = MIN (*mn, v);
    *mx = MAX (*mx, v);
  }
  *mean = sum / (to - from);
  for (i = from; i < to; i++) {
    gdouble d = (wide ? pix16 (i, x, y) : pix8 (i, x, y)) - *mean;

    sq += d * d;
  }
  *sd = sqrt (sq / (to - from));
}

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

GST_START_TEST (test_reduce_strided_gray8)
{
  GstHarness *h = new_harness (NULL, "GRAY8");
  GstSample *s;
  GstMapInfo map;
  GstVideoMeta *vm;
  const GstStructure *st;
  guint64 frames;
  guint i, x, y;

  fail_unless (get_stat (h->element, "mean") == NULL);
  for (i = 0; i < 7; i++) {
    GstBuffer *in = make_gray8_strided (i), *out;

    /* passed through as is: same buffer, untouched */
    gst_buffer_ref (in);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  fail_unless (get_stat (h->element, "median") == NULL);

  s = get_stat (h->element, "mean");
  fail_unless (s != NULL);
  st = gst_caps_get_structure (gst_sample_get_caps (s), 0);
  fail_unless (gst_structure_has_name (st, "video/x-onepass-float"));
  fail_unless_equals_string (gst_structure_get_string (st, "format"),
      "GRAY32F");
  fail_unless (gst_structure_get_uint64 (gst_sample_get_info (s), "frames",
          &frames));
  fail_unless_equals_uint64 (frames, 7);
  gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, W * H * 4);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      gdouble m, sd;
      guint mn, mx;

      expect (FALSE, 0, 7, x, y, &m, &sd, &mn, &mx);
      fail_unless (fabs (((gfloat *) map.data)[y * W + x] - m) < 1e-4);
    }
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);

  s = get_stat (h->element, "std");
  gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      gdouble m, sd;
      guint mn, mx;

      expect (FALSE, 0, 7, x, y, &m, &sd, &mn, &mx);
      fail_unless (fabs (((gfloat *) map.data)[y * W + x] - sd) < 1e-4,
          "std at %u,%u: %f, want %f", x, y,
          ((gfloat *) map.data)[y * W + x], sd);
    }
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);

  /* min: the input's caps, tight data described by a video meta */
  s = get_stat (h->element, "min");
  st = gst_caps_get_structure (gst_sample_get_caps (s), 0);
  fail_unless (gst_structure_has_name (st, "video/x-raw"));
  fail_unless_equals_string (gst_structure_get_string (st, "format"), "GRAY8");
  vm = gst_buffer_get_video_meta (gst_sample_get_buffer (s));
  fail_unless (vm != NULL);
  fail_unless_equals_int (vm->stride[0], W);
  gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      gdouble m, sd;
      guint mn, mx;

      expect (FALSE, 0, 7, x, y, &m, &sd, &mn, &mx);
      fail_unless_equals_int (map.data[y * W + x], mn);
    }
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);

  s = get_stat (h->element, "max");
  gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      gdouble m, sd;
      guint mn, mx;

      expect (FALSE, 0, 7, x, y, &m, &sd, &mn, &mx);
      fail_unless_equals_int (map.data[y * W + x], mx);
    }
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
read_file (const gchar * dir, const gchar * name, gsize * len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *data = NULL;

  if (!g_file_get_contents (path, &data, len, NULL))
    data = NULL;
  g_free (path);
  return data;
}

static void
remove_dir (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);

    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

/* The 128-byte .npy header: magic, version 1.0, length, dict, padding. */
static void
check_header (const gchar * data, gsize len, const gchar * dict, gsize payload)
{
  fail_unless_equals_int (len, 128 + payload);
  fail_unless (memcmp (data, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
  fail_unless (strncmp (data + 10, dict, strlen (dict)) == 0,
      "header %.118s, want %s", data + 10, dict);
  fail_unless_equals_int (data[127], '\n');
}

GST_START_TEST (test_blocks_gray16_files)
{
  gchar *dir = g_dir_make_tmp ("framestats-XXXXXX", NULL);
  gchar *props = g_strdup_printf ("window=2 location=%s/out", dir);
  gchar *out = g_build_filename (dir, "out", NULL);
  GstHarness *h = new_harness (props, "GRAY16_LE");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *st;
  GstSample *s;
  GstMapInfo map;
  gchar *data;
  gsize len;
  guint64 frames;
  guint i, b, x, y, blocks, block;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 5; i++)
    fail_unless_equals_int (gst_harness_push (h, make_gray16 (i)), GST_FLOW_OK);
  /* before EOS only the partial files exist */
  data = read_file (out, "mean.npy", &len);
  fail_unless (data == NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  msg = pop_element_message (bus, "framestats-done");
  fail_unless (msg != NULL);
  st = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint64 (st, "frames", &frames));
  fail_unless_equals_uint64 (frames, 5);
  fail_unless (gst_structure_get_uint (st, "blocks", &blocks));
  fail_unless_equals_int (blocks, 3);
  fail_unless_equals_string (gst_structure_get_string (st, "mode"), "reduce");
  fail_unless_equals_string (gst_structure_get_string (st, "location"), out);
  gst_message_unref (msg);

  /* blocks 0-1, 2-3 and the short block 4 */
  data = read_file (out, "mean.npy", &len);
  fail_unless (data != NULL);
  check_header (data, len, "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (3, 3, 5), }", 3 * W * H * 4);
  for (b = 0; b < 3; b++)
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++) {
        gdouble m, sd;
        guint mn, mx;
        gfloat v;

        expect (TRUE, 2 * b, MIN (2 * b + 2, 5), x, y, &m, &sd, &mn, &mx);
        memcpy (&v, data + 128 + ((b * H + y) * W + x) * 4, 4);
        fail_unless (fabs (v - m) < 1e-2, "block %u mean %f want %f", b, v, m);
      }
  g_free (data);
  data = read_file (out, "std.npy", &len);
  check_header (data, len, "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (3, 3, 5), }", 3 * W * H * 4);
  for (b = 0; b < 3; b++)
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++) {
        gdouble m, sd;
        guint mn, mx;
        gfloat v;

        expect (TRUE, 2 * b, MIN (2 * b + 2, 5), x, y, &m, &sd, &mn, &mx);
        memcpy (&v, data + 128 + ((b * H + y) * W + x) * 4, 4);
        fail_unless (fabs (v - sd) < 1e-2, "block %u std %f want %f", b, v, sd);
      }
  g_free (data);
  data = read_file (out, "max.npy", &len);
  check_header (data, len, "{'descr': '<u2', 'fortran_order': False, "
      "'shape': (3, 3, 5), }", 3 * W * H * 2);
  for (b = 0; b < 3; b++)
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++) {
        gdouble m, sd;
        guint mn, mx;

        expect (TRUE, 2 * b, MIN (2 * b + 2, 5), x, y, &m, &sd, &mn, &mx);
        fail_unless_equals_int (GST_READ_UINT16_LE (data + 128 +
                ((b * H + y) * W + x) * 2), mx);
      }
  g_free (data);
  data = read_file (out, "min.npy", &len);
  check_header (data, len, "{'descr': '<u2', 'fortran_order': False, "
      "'shape': (3, 3, 5), }", 3 * W * H * 2);
  g_free (data);

  /* get-stat: the last (one-frame) block */
  s = get_stat (h->element, "min");
  fail_unless (gst_structure_get_uint (gst_sample_get_info (s), "block",
          &block));
  fail_unless_equals_int (block, 2);
  gst_buffer_map (gst_sample_get_buffer (s), &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, W * H * 2);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      fail_unless_equals_int (GST_READ_UINT16_LE (map.data + (y * W + x) * 2),
          pix16 (4, x, y));
  gst_buffer_unmap (gst_sample_get_buffer (s), &map);
  gst_sample_unref (s);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  remove_dir (out);
  g_rmdir (dir);
  g_free (out);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

/* A stop before EOS leaves no file, complete or partial. */
GST_START_TEST (test_stop_before_eos)
{
  gchar *dir = g_dir_make_tmp ("framestats-XXXXXX", NULL);
  gchar *props = g_strdup_printf ("window=2 location=%s", dir);
  GstHarness *h = new_harness (props, "GRAY16_LE");
  GDir *d;
  guint i;

  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, make_gray16 (i)), GST_FLOW_OK);
  gst_harness_teardown (h);
  d = g_dir_open (dir, 0, NULL);
  fail_unless (g_dir_read_name (d) == NULL);
  g_dir_close (d);
  g_rmdir (dir);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

static void
check_sliding (const gchar * op, gfloat want_frame2)
{
  gchar *props = g_strdup_printf ("mode=sliding-mean window=2 "
      "normalization=%s", op);
  GstHarness *h = new_harness (props, "GRAY8");
  const GstStructure *st;
  GstCaps *caps;
  guint i, k;

  /* frame i is constant (i + 1) * 10 */
  for (i = 0; i < 5; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 8 * H, NULL);

    gst_buffer_memset (buf, 0, (i + 1) * 10, 8 * H);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  /* the first two frames only fill the window */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 3);
  caps = gst_pad_get_current_caps (h->sinkpad);
  st = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (st, "video/x-onepass-float"));
  fail_unless_equals_string (gst_structure_get_string (st, "format"),
      "GRAY32F");
  gst_caps_unref (caps);
  for (k = 0; k < 3; k++) {
    GstBuffer *out = gst_harness_pull (h);
    GstMapInfo map;
    gfloat want;
    guint j;

    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), (k + 2) * GST_SECOND / 10);
    gst_buffer_map (out, &map, GST_MAP_READ);
    fail_unless_equals_int (map.size, W * H * 4);
    /* subtract: (i+1)*10 - ((i-1)*10 + i*10)/2 = 15; divide: (i+1)/(i-0.5) */
    want = !strcmp (op, "subtract") ? 15.0f :
        (gfloat) ((k + 3) * 10.0 / ((k + 1.5) * 10.0));
    if (k == 0)
      fail_unless (fabs (want - want_frame2) < 1e-6);
    for (j = 0; j < W * H; j++)
      fail_unless (fabs (((gfloat *) map.data)[j] - want) < 1e-6,
          "%s output %u: %f, want %f", op, k, ((gfloat *) map.data)[j], want);
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_free (props);
}

GST_START_TEST (test_sliding_mean)
{
  check_sliding ("subtract", 15.0f);
  check_sliding ("divide", 2.0f);
}

GST_END_TEST;

static void
expect_start_error (const gchar * props, const gchar * needle)
{
  GstElement *e = gst_element_factory_make ("framestats", NULL);
  GstBus *bus = gst_bus_new ();
  gchar **kv = g_strsplit (props, " ", -1);
  GstMessage *msg;
  GError *err = NULL;
  guint i;

  for (i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);

    gst_util_set_object_arg (G_OBJECT (e), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, needle) != NULL, "error: %s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_START_TEST (test_settings_errors)
{
  gchar *dir = g_dir_make_tmp ("framestats-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "plain-file", NULL);
  gchar *props = g_strdup_printf ("location=%s", file);

  expect_start_error ("mode=sliding-mean", "window >= 1");
  g_file_set_contents (file, "x", 1, NULL);
  expect_start_error (props, file);
  g_unlink (file);
  g_rmdir (dir);
  g_free (props);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

/* A sliding window that cannot be allocated is an error naming it, not an
 * abort: 2^31 - 1 frames of 1 GiB (32768 x 32768 GRAY8) are more than any
 * address space holds. */
GST_START_TEST (test_sliding_window_too_large)
{
  GstHarness *h = new_harness ("mode=sliding-mean window=2147483647",
      "GRAY8");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gboolean found = FALSE;

  /* new_harness sent its caps before we had a bus: send others */
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=32768,"
      "height=32768,framerate=10/1");
  fail_if (gst_harness_push (h, gst_buffer_new_allocate (NULL, 8 * 3,
              NULL)) == GST_FLOW_OK);
  /* basetransform adds its own "negotiation problem" */
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    gst_message_parse_error (msg, &err, NULL);
    found |= strstr (err->message, "window=2147483647") != NULL &&
        strstr (err->message, "cannot allocate") != NULL;
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  fail_unless (found);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_change_is_an_error)
{
  GstHarness *h = new_harness (NULL, "GRAY8");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  GstBuffer *buf;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, make_gray8_strided (0)),
      GST_FLOW_OK);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=32768,"
      "height=32768,framerate=10/1");
  buf = gst_buffer_new_allocate (NULL, 8 * 3, NULL);
  fail_if (gst_harness_push (h, buf) == GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "caps changed after 1 frames") != NULL,
      "error: %s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
framestats_suite (void)
{
  Suite *s = suite_create ("framestats");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_reduce_strided_gray8);
  tcase_add_test (tc, test_blocks_gray16_files);
  tcase_add_test (tc, test_stop_before_eos);
  tcase_add_test (tc, test_sliding_mean);
  tcase_add_test (tc, test_settings_errors);
  tcase_add_test (tc, test_caps_change_is_an_error);
  tcase_add_test (tc, test_sliding_window_too_large);
  return s;
}

GST_CHECK_MAIN (framestats);
