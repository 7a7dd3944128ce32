/* Unit tests: the OpLabels container and the reader dispatch. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <onepass/onepass.h>
#include <oplabels.h>

static gboolean
fake_probe (const gchar * path, const guint8 * head, gsize len)
{
  return len >= 4 && memcmp (head, "FAKE", 4) == 0;
}

/* frames out of order, one listed twice, two videos */
static OpLabels *
fake_load (const gchar * path, GError ** error)
{
  const gchar *nodes[] = { "a" };
  OpSkeleton *sk = op_skeleton_new ("s", nodes, 1);
  OpLabels *l = op_labels_new (path, "fake");
  const guint64 order[] = { 990, 0, 440, 110, 440 };
  guint i;

  g_ptr_array_add (l->videos, g_strdup ("a.mp4"));
  g_ptr_array_add (l->videos, g_strdup ("b.mp4"));
  for (i = 0; i < G_N_ELEMENTS (order); i++) {
    OpLabeledFrame *f = op_labels_add_frame (l, 0, order[i], sk);
    op_annotation_add_instance (&f->ann, OP_INSTANCE_USER)->keypoints[0].x = i;
  }
  op_labels_add_frame (l, 1, 5, sk);
  op_skeleton_unref (sk);
  return l;
}

static gboolean
broken_probe (const gchar * path, const guint8 * head, gsize len)
{
  return len >= 6 && memcmp (head, "BROKEN", 6) == 0;
}

static OpLabels *
broken_load (const gchar * path, GError ** error)
{
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
      "/instances row 3: point_id_end 99 is beyond /points (12 rows)");
  return NULL;
}

static const OpLabelReader fake_reader = { "fake", "fake labels (.fake)",
  fake_probe, fake_load
};

static const OpLabelReader broken_reader = { "broken", NULL, broken_probe,
  broken_load
};

static const OpLabelReader *const readers[] = { &broken_reader, &fake_reader,
  NULL
};

static gchar *
write_temp (const gchar * content)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("onepass-labels-XXXXXX", &path, NULL);

  fail_unless (fd >= 0);
  fail_unless (write (fd, content,
          strlen (content)) == (gssize) strlen (content));
  close (fd);
  return path;
}

GST_START_TEST (test_sorted_merged_lookup)
{
  gchar *path = write_temp ("FAKE labels");
  GError *err = NULL;
  OpLabels *l = op_labels_load (path, readers, &err);
  const OpLabelsFrame *f;
  const guint64 want[] = { 0, 110, 440, 990 };
  guint i;

  fail_unless (l != NULL);
  fail_unless_equals_int (l->n_frames, 5);
  for (i = 0; i < G_N_ELEMENTS (want); i++)
    fail_unless_equals_uint64 (l->frames[i].frame_index, want[i]);
  /* 440 was listed twice: merged, instances in file order */
  f = op_labels_lookup (l, 0, 440);
  fail_unless (f != NULL);
  fail_unless_equals_int (f->n_instances, 2);
  fail_unless_equals_float (l->x[l->instances[f->first_instance].first_point],
      2);
  fail_unless_equals_float (l->x[l->instances[f->first_instance +
              1].first_point], 4);
  fail_unless_equals_int (l->warnings->len, 1);

  fail_unless (op_labels_lookup (l, 0, 441) == NULL);
  fail_unless_equals_uint64 (op_labels_next (l, 0, 441)->frame_index, 990);
  fail_unless_equals_uint64 (op_labels_next (l, 0, 0)->frame_index, 0);
  fail_unless (op_labels_next (l, 0, 991) == NULL);
  fail_unless_equals_uint64 (op_labels_next (l, 1, 0)->frame_index, 5);
  fail_unless (op_labels_next (l, 2, 0) == NULL);
  fail_unless_equals_int (op_labels_count_frames (l, 0), 4);
  fail_unless_equals_int (op_labels_count_frames (l, 1), 1);
  op_labels_free (l);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_errors_name_the_file)
{
  GError *err = NULL;
  gchar *path;

  fail_unless (op_labels_load ("/nonexistent/x.slp", readers, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN));
  fail_unless (strstr (err->message, "/nonexistent/x.slp") != NULL);
  g_clear_error (&err);

  path = write_temp ("");
  fail_unless (op_labels_load (path, readers, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT));
  fail_unless (strstr (err->message, path) != NULL);
  fail_unless (strstr (err->message, "empty") != NULL);
  g_clear_error (&err);
  g_unlink (path);
  g_free (path);

  /* the message lists the table's formats, not a hard-coded list */
  path = write_temp ("something else");
  fail_unless (op_labels_load (path, readers, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT));
  fail_unless (g_str_has_prefix (err->message, path), "%s", err->message);
  fail_unless (strstr (err->message, "not a label file") != NULL);
  fail_unless (strstr (err->message, "none of: fake labels (.fake))") != NULL,
      "%s", err->message);
  fail_unless (strstr (err->message, "SLEAP") == NULL, "%s", err->message);
  g_clear_error (&err);
  g_unlink (path);
  g_free (path);

  path = write_temp ("BROKEN");
  fail_unless (op_labels_load (path, readers, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT));
  fail_unless (g_str_has_prefix (err->message, path));
  fail_unless (strstr (err->message, "point_id_end") != NULL);
  g_clear_error (&err);
  g_unlink (path);
  g_free (path);

  fail_unless (op_labels_load (NULL, readers, &err) == NULL);
  g_clear_error (&err);
}

GST_END_TEST;

static Suite *
labels_suite (void)
{
  Suite *s = suite_create ("labels");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sorted_merged_lookup);
  tcase_add_test (tc, test_errors_name_the_file);
  return s;
}

GST_CHECK_MAIN (labels);
