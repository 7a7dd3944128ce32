/* Every onepass element through the state changes an application makes:
 * up and down, repeatedly, and straight from PAUSED or PLAYING to NULL,
 * with no data flowing (what GStreamer's generic/states test does, with the
 * settings each element needs to start). Leaks show under valgrind. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

static gchar *tmpdir;
static gchar *labels;

static GstElement *
make (const gchar * name)
{
  GstElement *e = gst_element_factory_make (name, NULL);

  fail_unless (e != NULL, "no element %s (is the build tree on the plugin path?)",
      name);
  if (g_str_equal (name, "annotfilter"))
    g_object_set (e, "location", labels, NULL);
  else if (g_str_equal (name, "batchsink"))
    g_object_set (e, "location", tmpdir, NULL);
  return e;
}

static const gchar *const elements[] = {
  "annotfilter", "cropextract", "batchsink", "ramcache", "compositor328"
};

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("onepass-states-XXXXXX", NULL);
  labels = g_build_filename (tmpdir, "labels.jsonl", NULL);
  fail_unless (g_file_set_contents (labels, "{\"frame_index\":0,"
          "\"instances\":[]}\n", -1, NULL));
}

static void
teardown (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;

  while (d && (n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&labels, g_free);
}

static void
go (GstElement * e, GstState state)
{
  GstStateChangeReturn ret = gst_element_set_state (e, state);

  fail_unless (ret != GST_STATE_CHANGE_FAILURE, "%s: change to %s failed",
      GST_OBJECT_NAME (e), gst_element_state_get_name (state));
  if (ret == GST_STATE_CHANGE_ASYNC)
    gst_element_get_state (e, NULL, NULL, 0);
}

GST_START_TEST (test_up_down_repeatedly)
{
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElement *e = make (elements[i]);
    for (k = 0; k < 3; k++) {
      go (e, GST_STATE_READY);
      go (e, GST_STATE_PAUSED);
      go (e, GST_STATE_PLAYING);
      go (e, GST_STATE_PAUSED);
      go (e, GST_STATE_READY);
      go (e, GST_STATE_NULL);
    }
    gst_object_unref (e);
  }
}
GST_END_TEST;

GST_START_TEST (test_straight_down)
{
  const GstState tops[] = { GST_STATE_READY, GST_STATE_PAUSED,
    GST_STATE_PLAYING
  };
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    for (k = 0; k < G_N_ELEMENTS (tops); k++) {
      GstElement *e = make (elements[i]);
      go (e, tops[k]);
      go (e, GST_STATE_NULL);
      gst_object_unref (e);
    }
  }
}
GST_END_TEST;

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_up_down_repeatedly);
  tcase_add_test (tc, test_straight_down);
  return s;
}

GST_CHECK_MAIN (states);
