/* annotfilter: frame-exact selection on a real B-frame video, skipping,
 * tag mode, gap events, stats and errors. Labels come as onepass JSON lines
 * written by the test, so expected frames and values are known exactly;
 * the SLEAP readers are checked against h5py in tests/python. */
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <onepass/onepass.h>
#ifdef HAVE_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void) 0)
#endif

static gchar *video_path;
static gchar *tmpdir;

/* frame -> checksum of every frame of the video, by decoded-frame count
 * (independent of annotfilter's timestamp arithmetic) */
static GHashTable *full_decode;

static guint32
checksum (GstBuffer * buf)
{
  GstMapInfo map;
  guint32 h = 2166136261u;
  gsize i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  /* libavcodec's SIMD leaves bytes memcheck cannot prove defined; the
   * decoder's output is not what these tests check */
  VALGRIND_MAKE_MEM_DEFINED (map.data, map.size);
  for (i = 0; i < map.size; i += 7)
    h = (h ^ map.data[i]) * 16777619u;
  gst_buffer_unmap (buf, &map);
  return h;
}

static gchar *
write_labels (const gchar * name, const gchar * content)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);

  fail_unless (g_file_set_contents (path, content, -1, NULL));
  return path;
}

/* a JSON lines label file: one user instance (2 nodes) on each frame */
static gchar *
labels_for_frames (const guint64 * frames, guint n)
{
  GString *s = g_string_new (NULL);
  gchar *name, *path;
  guint i;

  for (i = 0; i < n; i++) {
    g_string_append_printf (s, "{\"source\":\"centered_pair_low_quality\","
        "\"frame_index\":%" G_GUINT64_FORMAT ",%s\"instances\":[{\"track\":2,"
        "\"kind\":\"user\",\"keypoints\":[[%" G_GUINT64_FORMAT ".25,7.5,1,"
        "null],[null,null,0,null]]}]}\n", frames[i], i == 0 ?
        "\"skeleton\":{\"name\":\"s\",\"nodes\":[\"a\",\"b\"],\"edges\":[[0,1]]},"
        : "", frames[i]);
  }
  name = g_strdup_printf ("labels-%u.jsonl", g_random_int ());
  path = write_labels (name, s->str);
  g_free (name);
  g_string_free (s, TRUE);
  return path;
}

typedef struct
{
  GArray *indices;              /* guint64 frame_index of passed buffers */
  GArray *sums;                 /* guint32 */
  GArray *all_indices;          /* frame_index of every buffer with a meta */
  GArray *all_sums;
  gchar *last_source;
  guint n_with_meta;
  guint n_buffers;
  guint n_gaps;
  GstStructure *stats;
  GList *warnings;              /* gchar* */
  gchar *error;
} RunResult;

static void
run_result_clear (RunResult * r)
{
  g_array_unref (r->indices);
  g_array_unref (r->sums);
  g_array_unref (r->all_indices);
  g_array_unref (r->all_sums);
  if (r->stats)
    gst_structure_free (r->stats);
  g_list_free_full (r->warnings, g_free);
  g_free (r->error);
  g_free (r->last_source);
}

static GstPadProbeReturn
count_gaps (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP)
    ((RunResult *) data)->n_gaps++;
  return GST_PAD_PROBE_OK;
}

/* frames with instances go to indices/sums; every meta to all_* (tag mode
 * tags unlabeled frames with an empty meta) */
static void
record (RunResult * r, OpAnnotationMeta * m, guint32 sum)
{
  if (m == NULL)
    return;
  g_array_append_val (r->all_indices, m->ann.frame_index);
  g_array_append_val (r->all_sums, sum);
  g_free (r->last_source);
  r->last_source = g_strdup (m->ann.source);
  if (op_annotation_n_instances (&m->ann) == 0)
    return;
  r->n_with_meta++;
  g_array_append_val (r->indices, m->ann.frame_index);
  g_array_append_val (r->sums, sum);
}

static void run_desc (const gchar * desc, RunResult * r);

static void
run_pipeline_on (const gchar * video, const gchar * af_props, RunResult * r)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "annotfilter name=af %s ! appsink name=sink sync=false", video,
      af_props);

  run_desc (desc, r);
  g_free (desc);
}

/* runs a launch line with an annotfilter named af and an appsink named sink */
static void
run_desc (const gchar * desc, RunResult * r)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstElement *sink, *af;
  GstBus *bus;
  GstPad *pad;
  gboolean done = FALSE;

  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  memset (r, 0, sizeof (*r));
  r->indices = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->sums = g_array_new (FALSE, FALSE, sizeof (guint32));
  r->all_indices = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->all_sums = g_array_new (FALSE, FALSE, sizeof (guint32));
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  af = gst_bin_get_by_name (GST_BIN (pipe), "af");
  pad = gst_element_get_static_pad (af, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, count_gaps, r,
      NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);

  while (!done) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        10 * GST_MSECOND);
    GstMessage *msg;

    if (sample) {
      GstBuffer *buf = gst_sample_get_buffer (sample);
      OpAnnotationMeta *m = op_buffer_get_annotation_meta (buf);
      guint32 sum = checksum (buf);
      r->n_buffers++;
      record (r, m, sum);
      gst_sample_unref (sample);
      continue;
    }
    while ((msg = gst_bus_pop (bus))) {
      switch (GST_MESSAGE_TYPE (msg)) {
        case GST_MESSAGE_EOS:
          done = TRUE;
          break;
        case GST_MESSAGE_ERROR:{
          GError *e = NULL;
          gst_message_parse_error (msg, &e, NULL);
          /* the first error is the cause; later ones are consequences */
          if (r->error == NULL)
            r->error = g_strdup (e->message);
          g_error_free (e);
          done = TRUE;
          break;
        }
        case GST_MESSAGE_WARNING:{
          GError *e = NULL;
          gst_message_parse_warning (msg, &e, NULL);
          r->warnings = g_list_append (r->warnings, g_strdup (e->message));
          g_error_free (e);
          break;
        }
        case GST_MESSAGE_ELEMENT:
          if (gst_message_has_name (msg, "annotfilter-stats")) {
            fail_unless (r->stats == NULL, "stats posted twice");
            r->stats = gst_structure_copy (gst_message_get_structure (msg));
          }
          break;
        default:
          break;
      }
      gst_message_unref (msg);
    }
  }
  /* drain what the sink still holds */
  if (r->error == NULL) {
    GstSample *sample;
    while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 0))) {
      GstBuffer *buf = gst_sample_get_buffer (sample);
      OpAnnotationMeta *m = op_buffer_get_annotation_meta (buf);
      guint32 sum = checksum (buf);
      r->n_buffers++;
      record (r, m, sum);
      gst_sample_unref (sample);
    }
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (af);
  gst_object_unref (pipe);
}

static void
run_pipeline (const gchar * af_props, RunResult * r)
{
  run_pipeline_on (video_path, af_props, r);
}

static guint64
stat_u64 (RunResult * r, const gchar * field)
{
  guint64 v = 0;

  fail_unless (r->stats != NULL, "no annotfilter-stats message");
  fail_unless (gst_structure_get_uint64 (r->stats, field, &v), "%s", field);
  return v;
}

static guint
stat_uint (RunResult * r, const gchar * field)
{
  guint v = 0;

  fail_unless (r->stats != NULL, "no annotfilter-stats message");
  fail_unless (gst_structure_get_uint (r->stats, field, &v), "%s", field);
  return v;
}

/* frame n = the n-th decoded frame (SLEAP's meaning), checksum of it */
static GHashTable *
decode_by_count (const gchar * path, GString * listing)
{
  GHashTable *sums = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "appsink name=sink sync=false", path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstSample *sample;
  guint64 n = 0;

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    gint64 *key = g_new (gint64, 1);
    guint32 sum = checksum (gst_sample_get_buffer (sample));
    *key = (gint64) n++;
    g_hash_table_insert (sums, key, GUINT_TO_POINTER (sum));
    if (listing)
      g_string_append_printf (listing, "%u\n", sum);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  return sums;
}

/* the reference checksums are cached in a file, so each forked test
 * does not decode the whole video again (the slow part under valgrind) */
static gchar *
reference_cache_path (void)
{
  GStatBuf st;

  fail_unless (g_stat (video_path, &st) == 0);
  return g_strdup_printf ("%s/onepass-annotfilter-ref-%" G_GINT64_FORMAT
      "-%" G_GINT64_FORMAT ".txt", g_get_tmp_dir (), (gint64) st.st_size,
      (gint64) st.st_mtime);
}

static void
decode_everything (void)
{
  gchar *cache = reference_cache_path (), *contents = NULL, *tmp;
  GString *out;
  guint64 n = 0;

  full_decode = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      NULL);
  if (g_file_get_contents (cache, &contents, NULL, NULL)) {
    gchar **lines = g_strsplit (contents, "\n", -1), **l;
    for (l = lines; *l && **l; l++) {
      gint64 *key = g_new (gint64, 1);
      *key = (gint64) n++;
      g_hash_table_insert (full_decode, key,
          GUINT_TO_POINTER ((guint32) g_ascii_strtoull (*l, NULL, 10)));
    }
    g_strfreev (lines);
    g_free (contents);
    if (n == 1100) {
      g_free (cache);
      return;
    }
    g_hash_table_remove_all (full_decode);
    n = 0;
  }

  out = g_string_new (NULL);
  g_hash_table_unref (full_decode);
  full_decode = decode_by_count (video_path, out);
  fail_unless_equals_int (g_hash_table_size (full_decode), 1100);
  tmp = g_strdup_printf ("%s.%u", cache, g_random_int ());
  if (g_file_set_contents (tmp, out->str, -1, NULL))
    g_rename (tmp, cache);
  g_free (tmp);
  g_string_free (out, TRUE);
  g_free (cache);
}

static void
check_frames_in (RunResult * r, const guint64 * want, guint n,
    GHashTable * reference)
{
  guint i;

  fail_unless (r->error == NULL, "error: %s", r->error);
  fail_unless_equals_int (r->indices->len, n);
  for (i = 0; i < n; i++) {
    gint64 key = (gint64) want[i];
    fail_unless_equals_uint64 (g_array_index (r->indices, guint64, i), want[i]);
    /* the very frame, not a neighbour: pixels equal a full decode's */
    fail_unless_equals_int (g_array_index (r->sums, guint32, i),
        GPOINTER_TO_UINT (g_hash_table_lookup (reference, &key)));
  }
}

static void
check_frames (RunResult * r, const guint64 * want, guint n)
{
  check_frames_in (r, want, n, full_decode);
}

static void
setup (void)
{
  const gchar *shared = g_getenv ("ONEPASS_SHARED_DATA");

  fail_unless (shared != NULL, "ONEPASS_SHARED_DATA is not set");
  video_path = g_build_filename (shared, "sleap",
      "centered_pair_low_quality.mp4", NULL);
  tmpdir = g_dir_make_tmp ("annotfilter-XXXXXX", NULL);
  decode_everything ();
}

static void
teardown (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&full_decode, g_hash_table_unref);
  g_clear_pointer (&video_path, g_free);
}

static const guint64 sparse[] = { 0, 10, 11, 500, 501, 502, 1000, 1099 };

GST_START_TEST (test_drop_skip_frame_exact)
{
  gchar *labels = labels_for_frames (sparse, G_N_ELEMENTS (sparse));
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  RunResult r;

  run_pipeline (props, &r);
  check_frames (&r, sparse, G_N_ELEMENTS (sparse));
  fail_unless_equals_int (r.n_buffers, G_N_ELEMENTS (sparse));
  fail_unless_equals_uint64 (stat_u64 (&r, "frames-passed"), 8);
  fail_unless_equals_int (stat_uint (&r, "labeled-frames"), 8);
  fail_unless_equals_int (stat_uint (&r, "labeled-frames-missing"), 0);
  fail_unless (stat_uint (&r, "seeks") >= 2, "no seek happened");
  /* the long stretches were never decoded */
  fail_unless (stat_u64 (&r, "frames-seen") < 200, "saw %" G_GUINT64_FORMAT,
      stat_u64 (&r, "frames-seen"));
  fail_unless (stat_u64 (&r, "frames-decoded-skipped") > 800);
  fail_unless (r.warnings == NULL);
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_drop_noskip_gaps)
{
  gchar *labels = labels_for_frames (sparse, G_N_ELEMENTS (sparse));
  gchar *props = g_strdup_printf ("location=\"%s\" skip=false", labels);
  RunResult r;

  run_pipeline (props, &r);
  check_frames (&r, sparse, G_N_ELEMENTS (sparse));
  fail_unless_equals_uint64 (stat_u64 (&r, "frames-seen"), 1100);
  fail_unless_equals_int (stat_uint (&r, "seeks"), 0);
  fail_unless_equals_uint64 (stat_u64 (&r, "frames-decoded-skipped"), 0);
  /* one gap per dropped frame */
  fail_unless_equals_int (r.n_gaps, 1100 - G_N_ELEMENTS (sparse));
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_tag_mode_passes_all)
{
  gchar *labels = labels_for_frames (sparse, G_N_ELEMENTS (sparse));
  gchar *props = g_strdup_printf ("location=\"%s\" mode=tag", labels);
  RunResult r;

  guint i;

  run_pipeline (props, &r);
  check_frames (&r, sparse, G_N_ELEMENTS (sparse));
  fail_unless_equals_int (r.n_buffers, 1100);
  fail_unless_equals_int (r.n_gaps, 0);
  /* unlabeled frames keep their identity: an empty meta with the true
   * index and the source, on the very frame */
  fail_unless_equals_int (r.all_indices->len, 1100);
  for (i = 0; i < 1100; i++) {
    gint64 key = i;
    fail_unless_equals_uint64 (g_array_index (r.all_indices, guint64, i), i);
    fail_unless_equals_int (g_array_index (r.all_sums, guint32, i),
        GPOINTER_TO_UINT (g_hash_table_lookup (full_decode, &key)));
  }
  fail_unless_equals_string (r.last_source, "centered_pair_low_quality");
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_dense_labels)
{
  guint64 all[1100];
  gchar *labels, *props;
  RunResult r;
  guint i;

  for (i = 0; i < 1100; i++)
    all[i] = i;
  labels = labels_for_frames (all, 1100);
  props = g_strdup_printf ("location=\"%s\"", labels);
  run_pipeline (props, &r);
  check_frames (&r, all, 1100);
  fail_unless_equals_int (stat_uint (&r, "seeks"), 0);
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_meta_contents)
{
  const guint64 frames[] = { 600 };
  gchar *labels = labels_for_frames (frames, 1);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "annotfilter location=\"%s\" ! appsink name=sink sync=false", video_path,
      labels);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstSample *sample;
  OpAnnotationMeta *m;
  OpInstance *inst;

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL);
  m = op_buffer_get_annotation_meta (gst_sample_get_buffer (sample));
  fail_unless (m != NULL);
  fail_unless_equals_string (m->ann.source, "centered_pair_low_quality");
  fail_unless_equals_uint64 (m->ann.frame_index, 600);
  fail_unless_equals_int (m->ann.width, 384);
  fail_unless_equals_int (m->ann.height, 384);
  /* the frame's own timestamp in the file (B-frame MP4: frame 0 at 2/15 s),
   * not the one the decoder moved to the seek's segment start */
  fail_unless_equals_uint64 (m->ann.pts,
      gst_util_uint64_scale_round (600 + 2, GST_SECOND, 15));
  fail_unless (GST_BUFFER_PTS (gst_sample_get_buffer (sample)) >= m->ann.pts);
  fail_unless_equals_string (m->ann.skeleton->nodes[1], "b");
  fail_unless_equals_int (op_annotation_n_instances (&m->ann), 1);
  inst = op_annotation_get_instance (&m->ann, 0);
  fail_unless_equals_int (inst->track, 2);
  fail_unless_equals_float (inst->keypoints[0].x, 600.25);
  fail_unless_equals_float (inst->keypoints[0].y, 7.5);
  fail_unless (isnan (inst->keypoints[1].x));
  gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_instances_and_min_keypoints)
{
  /* frame 5: user with 2 points; frame 6: predicted with 1 point;
   * frame 7: user with 1 point and predicted with 2 */
  const gchar *content =
      "{\"frame_index\":5,\"skeleton\":{\"nodes\":[\"a\",\"b\"]},\"instances\":"
      "[{\"kind\":\"user\",\"keypoints\":[[1,1,1,null],[2,2,1,null]]}]}\n"
      "{\"frame_index\":6,\"instances\":[{\"kind\":\"predicted\",\"score\":0.9,"
      "\"keypoints\":[[1,1,1,0.5],[null,null,0,null]]}]}\n"
      "{\"frame_index\":7,\"instances\":["
      "{\"kind\":\"user\",\"keypoints\":[[1,1,1,null],[null,null,0,null]]},"
      "{\"kind\":\"predicted\",\"keypoints\":[[1,1,1,0.5],[3,3,1,0.7]]}]}\n";
  gchar *labels = write_labels ("mixed.jsonl", content);
  struct
  {
    const gchar *props;
    guint64 want[3];
    guint n;
    guint64 instances;
  } cases[] = {
    {"", {5, 7}, 2, 2},
    {"instances=predicted", {6, 7}, 2, 2},
    {"instances=all", {5, 6, 7}, 3, 4},
    {"instances=all min-keypoints=2", {5, 7}, 2, 2},
    {"instances=user min-keypoints=3", {0}, 0, 0},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *props = g_strdup_printf ("location=\"%s\" %s", labels,
        cases[i].props);
    RunResult r;
    run_pipeline (props, &r);
    check_frames (&r, cases[i].want, cases[i].n);
    fail_unless_equals_uint64 (stat_u64 (&r, "instances"), cases[i].instances);
    if (cases[i].n == 0)
      fail_unless (r.warnings != NULL, "no warning for an empty selection");
    run_result_clear (&r);
    g_free (props);
  }
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_labels_beyond_video)
{
  const guint64 frames[] = { 3, 1099, 1100, 5000 };
  gchar *labels = labels_for_frames (frames, G_N_ELEMENTS (frames));
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  RunResult r;
  gboolean warned = FALSE;
  GList *l;

  run_pipeline (props, &r);
  check_frames (&r, frames, 2);
  fail_unless_equals_int (stat_uint (&r, "labeled-frames-missing"), 2);
  /* the warning says why: past the end, and how long the stream is */
  for (l = r.warnings; l; l = l->next)
    if (strstr (l->data, labels) && strstr (l->data, "2 beyond the end of "
            "the video (the stream has 1100 frames) (frames 1100, 5000)"))
      warned = TRUE;
  fail_unless (warned, "no warning naming the missing frames");
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

static gchar *
expect_error (const gchar * props)
{
  RunResult r;
  gchar *msg;

  run_pipeline (props, &r);
  fail_unless (r.error != NULL, "no error for %s", props);
  msg = g_strdup (r.error);
  run_result_clear (&r);
  return msg;
}

GST_START_TEST (test_bad_labels)
{
  gchar *props, *msg, *bad;

  props = g_strdup_printf ("location=%s/missing.slp", tmpdir);
  msg = expect_error (props);
  fail_unless (strstr (msg, "missing.slp") && strstr (msg, "cannot open"),
      "%s", msg);
  g_free (msg);
  g_free (props);

  /* a video is not a label file */
  props = g_strdup_printf ("location=\"%s\"", video_path);
  msg = expect_error (props);
  fail_unless (strstr (msg, "centered_pair_low_quality.mp4")
      && strstr (msg, "not a label file"), "%s", msg);
  g_free (msg);
  g_free (props);

  bad = write_labels ("bad.jsonl", "{\"frame_index\":1,\"instances\":[]}\n"
      "{\"frame_index\":2,\"instances\":[{\"kind\":\"robot\"}]}\n");
  props = g_strdup_printf ("location=\"%s\"", bad);
  msg = expect_error (props);
  fail_unless (strstr (msg, "bad.jsonl") && strstr (msg, "line 2"), "%s", msg);
  g_free (msg);
  g_free (props);

  props = g_strdup_printf ("location=\"%s\" video-index=3", bad);
  g_free (bad);
  bad = write_labels ("one.jsonl", "{\"source\":\"x\",\"frame_index\":1,"
      "\"instances\":[]}\n");
  g_free (props);
  props = g_strdup_printf ("location=\"%s\" video-index=3", bad);
  msg = expect_error (props);
  fail_unless (strstr (msg, "video-index 3") && strstr (msg, "0: x"), "%s",
      msg);
  g_free (msg);
  g_free (props);
  g_free (bad);

  props = g_strdup ("");
  msg = expect_error (props);
  fail_unless (strstr (msg, "location"), "%s", msg);
  g_free (msg);
  g_free (props);
}

GST_END_TEST;

GST_START_TEST (test_multi_video_by_uri)
{
  const gchar *content =
      "{\"source\":\"other_clip\",\"frame_index\":1,\"skeleton\":{\"nodes\":"
      "[\"a\"]},\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n"
      "{\"source\":\"centered_pair_low_quality\",\"frame_index\":2,"
      "\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n"
      "{\"source\":\"centered_pair_low_quality\",\"frame_index\":4,"
      "\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n";
  const guint64 want[] = { 2, 4 }, want0[] = { 1 };
  gchar *labels = write_labels ("multi.jsonl", content);
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  RunResult r;
  gchar *msg;

  run_pipeline (props, &r);
  check_frames (&r, want, 2);
  run_result_clear (&r);
  g_free (props);

  props = g_strdup_printf ("location=\"%s\" video-index=0", labels);
  run_pipeline (props, &r);
  check_frames (&r, want0, 1);
  run_result_clear (&r);
  g_free (props);
  g_free (labels);

  labels = write_labels ("nomatch.jsonl", "{\"source\":\"a\",\"frame_index\":1,"
      "\"instances\":[]}\n{\"source\":\"b\",\"frame_index\":1,"
      "\"instances\":[]}\n");
  props = g_strdup_printf ("location=\"%s\"", labels);
  msg = expect_error (props);
  fail_unless (strstr (msg, "0: a, 1: b") && strstr (msg, "video-index"), "%s",
      msg);
  g_free (msg);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_reuse_after_stop)
{
  gchar *labels = labels_for_frames (sparse, G_N_ELEMENTS (sparse));
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  RunResult r;
  guint i;

  /* the same element type twice in a row: no state leaks between runs */
  for (i = 0; i < 2; i++) {
    run_pipeline (props, &r);
    check_frames (&r, sparse, G_N_ELEMENTS (sparse));
    run_result_clear (&r);
  }
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

static gchar *
make_vfr_video (void)
{
  /* 120 frames at 30 fps with frames 30-39 and every 13th dropped and the
   * timestamps kept: the container still says 30/1 */
  gchar *vfr = g_build_filename (tmpdir, "vfr.mp4", NULL);
  gchar *argv[] = { (gchar *) "ffmpeg", (gchar *) "-hide_banner",
    (gchar *) "-loglevel", (gchar *) "error", (gchar *) "-y",
    (gchar *) "-f", (gchar *) "lavfi", (gchar *) "-i",
    (gchar *) "testsrc2=size=160x120:rate=30:duration=4",
    (gchar *) "-vf",
    (gchar *) "select='not(between(n\\,30\\,39))*not(eq(mod(n\\,13)\\,0))'",
    (gchar *) "-fps_mode", (gchar *) "passthrough", (gchar *) "-c:v",
    (gchar *) "libx264", (gchar *) "-g", (gchar *) "12", (gchar *) "-pix_fmt",
    (gchar *) "yuv420p", vfr, NULL
  };
  gint status = -1;

  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
          NULL, NULL, &status, NULL) && status == 0, "ffmpeg failed");
  return vfr;
}

GST_START_TEST (test_vfr_disguised_as_cfr)
{
  /* SLEAP's frame n is the n-th decoded frame. The first seek (after frame
   * 5, skip-min-frames=3) comes before the first lost frame in the middle
   * of the stream, the case that used to shift 8 of 13 frames. */
  const guint64 frames[] = { 2, 5, 20, 21, 30, 60, 61, 80, 97 };
  const gchar *variants[] = {
    "filesrc location=\"%s\" ! decodebin ! annotfilter name=af %s ! "
        "appsink name=sink sync=false",
    "filesrc location=\"%s\" ! qtdemux ! h264parse ! avdec_h264 ! "
        "annotfilter name=af %s ! appsink name=sink sync=false",
    /* caps framerate 0/1: the table still aims the seeks */
    "filesrc location=\"%s\" ! qtdemux ! h264parse ! capssetter "
        "caps=video/x-h264,framerate=0/1 ! avdec_h264 ! annotfilter name=af "
        "%s ! appsink name=sink sync=false",
  };
  const gchar *props[] = { "skip-min-frames=3", "skip=false" };
  gchar *vfr = make_vfr_video (), *labels;
  GHashTable *reference;
  guint v, p, n_frames;

  reference = decode_by_count (vfr, NULL);
  n_frames = g_hash_table_size (reference);
  fail_unless (n_frames < 110, "no frames were dropped");
  fail_unless (n_frames > 97);
  labels = labels_for_frames (frames, G_N_ELEMENTS (frames));
  for (v = 0; v < G_N_ELEMENTS (variants); v++) {
    for (p = 0; p < G_N_ELEMENTS (props); p++) {
      gchar *af = g_strdup_printf ("location=\"%s\" %s", labels, props[p]);
      gchar *desc = g_strdup_printf (variants[v], vfr, af);
      RunResult r;
      GList *l;

      run_desc (desc, &r);
      check_frames_in (&r, frames, G_N_ELEMENTS (frames), reference);
      fail_unless_equals_int (stat_uint (&r, "labeled-frames-missing"), 0);
      if (p == 0)
        fail_unless (stat_uint (&r, "seeks") >= 3, "%s: no seeks", desc);
      /* only the label file's other video name may be warned about */
      for (l = r.warnings; l; l = l->next)
        fail_unless (strstr (l->data, "name the video") != NULL, "%s: %s",
            desc, (gchar *) l->data);
      run_result_clear (&r);
      g_free (desc);
      g_free (af);
    }
  }
  g_hash_table_unref (reference);
  g_free (labels);
  g_free (vfr);
}

GST_END_TEST;

/* frames pushed by an appsrc with these timestamps (in tenths of a second),
 * at 10/1 fps, through annotfilter with labels on frames 0-3: no URI, so
 * no frame table */
static void
run_appsrc (const guint * tenths, guint n, RunResult * r)
{
  const guint64 want[] = { 0, 1, 2, 3 };
  gchar *labels = labels_for_frames (want, 4);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=video/"
      "x-raw,format=GRAY8,width=16,height=16,framerate=10/1 ! annotfilter "
      "name=af location=\"%s\" skip=false ! appsink name=sink sync=false",
      labels);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  GstSample *sample;
  guint i;

  memset (r, 0, sizeof (*r));
  r->indices = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->sums = g_array_new (FALSE, FALSE, sizeof (guint32));
  r->all_indices = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->all_sums = g_array_new (FALSE, FALSE, sizeof (guint32));
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 256, NULL);
    gst_buffer_memset (buf, 0, i, 256);
    GST_BUFFER_PTS (buf) = tenths[i] * GST_SECOND / 10;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
    gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  /* appsink posts EOS only once its queue is pulled empty */
  for (i = 0; i < 200; i++) {
    while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
                10 * GST_MSECOND))) {
      record (r, op_buffer_get_annotation_meta (gst_sample_get_buffer
              (sample)), 0);
      gst_sample_unref (sample);
    }
    msg = gst_bus_timed_pop_filtered (bus, 50 * GST_MSECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (msg == NULL)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      r->error = g_strdup (e->message);
      g_error_free (e);
    }
    gst_message_unref (msg);
    break;
  }
  fail_unless (i < 200, "the pipeline did not end");
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (labels);
}

GST_START_TEST (test_no_table_disagreement_is_an_error)
{
  const guint steady[] = { 0, 1, 2, 3 }, lost[] = { 0, 1, 3, 4 };
  RunResult r;

  /* constant rate, no table: numbered by timestamp, as before */
  run_appsrc (steady, 4, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (r.indices->len, 4);
  fail_unless_equals_uint64 (g_array_index (r.indices, guint64, 3), 3);
  run_result_clear (&r);

  /* the third frame says frame 3 by timestamp, 2 by count: which image is
   * frame 2 is unknowable, so the labels stop with an error */
  run_appsrc (lost, 4, &r);
  fail_unless (r.error != NULL, "no error");
  fail_unless (strstr (r.error, "frame 3 by its timestamp")
      && strstr (r.error, "frame 2 by the count")
      && strstr (r.error, "no frame index"), "%s", r.error);
  fail_unless_equals_int (r.indices->len, 2);
  run_result_clear (&r);
}

GST_END_TEST;

GST_START_TEST (test_labels_for_another_video)
{
  /* the file records a 640x480 video; the stream is 384x384 */
  const gchar *content =
      "{\"source\":\"centered_pair_low_quality\",\"frame_index\":3,"
      "\"width\":640,\"height\":480,\"skeleton\":{\"nodes\":[\"a\"]},"
      "\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n";
  gchar *labels = write_labels ("big.jsonl", content);
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  gchar *msg = expect_error (props);
  RunResult r;
  gboolean warned = FALSE;
  GList *l;
  const guint64 want[] = { 3 };

  fail_unless (strstr (msg, "big.jsonl") && strstr (msg, "640x480")
      && strstr (msg, "384x384"), "%s", msg);
  g_free (msg);
  g_free (props);
  g_free (labels);

  /* the right size but another video's name: a warning, frames pass */
  labels = write_labels ("other.jsonl", "{\"source\":\"other_clip\","
      "\"frame_index\":3,\"width\":384,\"height\":384,\"skeleton\":{\"nodes\":"
      "[\"a\"]},\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n");
  props = g_strdup_printf ("location=\"%s\"", labels);
  run_pipeline (props, &r);
  check_frames (&r, want, 1);
  for (l = r.warnings; l; l = l->next)
    if (strstr (l->data, "other.jsonl") && strstr (l->data, "other_clip")
        && strstr (l->data, "centered_pair_low_quality.mp4"))
      warned = TRUE;
  fail_unless (warned, "no warning about the other video name");
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_multi_video_case_insensitive)
{
  const gchar *content =
      "{\"source\":\"other\",\"frame_index\":1,\"skeleton\":{\"nodes\":"
      "[\"a\"]},\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n"
      "{\"source\":\"Centered_Pair_Low_Quality\",\"frame_index\":7,"
      "\"instances\":[{\"keypoints\":[[1,1,1,null]]}]}\n";
  const guint64 want[] = { 7 };
  gchar *labels = write_labels ("case.jsonl", content);
  gchar *props = g_strdup_printf ("location=\"%s\"", labels);
  RunResult r;

  run_pipeline (props, &r);
  check_frames (&r, want, 1);
  fail_unless_equals_string (r.last_source, "centered_pair_low_quality");
  run_result_clear (&r);
  g_free (props);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_multifilesrc_source_name)
{
  const guint64 want[] = { 1, 3 };
  gchar *labels = labels_for_frames (want, 2);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=5 ! video/x-raw,"
      "width=32,height=24 ! pngenc ! multifilesink location=\"%s/img_%%05d."
      "png\"", tmpdir);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstMessage *msg;
  RunResult r;

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 10 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  g_free (desc);

  desc = g_strdup_printf ("multifilesrc location=\"%s/img_%%05d.png\" "
      "caps=image/png,framerate=5/1 ! pngdec ! annotfilter name=af "
      "location=\"%s\" ! appsink name=sink sync=false", tmpdir, labels);
  run_desc (desc, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (r.indices->len, 2);
  fail_unless_equals_uint64 (g_array_index (r.indices, guint64, 1), 3);
  fail_unless_equals_string (r.last_source, "img");
  run_result_clear (&r);
  g_free (desc);
  g_free (labels);
}

GST_END_TEST;

static Suite *
annotfilter_suite (void)
{
  Suite *s = suite_create ("annotfilter");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_drop_skip_frame_exact);
  tcase_add_test (tc, test_drop_noskip_gaps);
  tcase_add_test (tc, test_tag_mode_passes_all);
  tcase_add_test (tc, test_dense_labels);
  tcase_add_test (tc, test_meta_contents);
  tcase_add_test (tc, test_instances_and_min_keypoints);
  tcase_add_test (tc, test_labels_beyond_video);
  tcase_add_test (tc, test_bad_labels);
  tcase_add_test (tc, test_multi_video_by_uri);
  tcase_add_test (tc, test_reuse_after_stop);
  tcase_add_test (tc, test_vfr_disguised_as_cfr);
  tcase_add_test (tc, test_no_table_disagreement_is_an_error);
  tcase_add_test (tc, test_labels_for_another_video);
  tcase_add_test (tc, test_multi_video_case_insensitive);
  tcase_add_test (tc, test_multifilesrc_source_name);
  return s;
}

GST_CHECK_MAIN (annotfilter);
