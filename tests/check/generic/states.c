/* Every onepass element through the state changes an application makes:
 * up and down, repeatedly, and straight from PAUSED or PLAYING to NULL,
 * with no data flowing (what GStreamer's generic/states test does, with the
 * settings each element needs to start). The elements are found in the
 * registry (every element of the "onepass" package), so a new element is
 * covered without editing this file. Leaks show under valgrind. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

static gchar *tmpdir;
static gchar *labels;

static GstElement *
make (const gchar * name)
{
  GstElement *e = gst_element_factory_make (name, NULL);

  fail_unless (e != NULL,
      "no element %s (is the build tree on the plugin path?)", name);
  if (g_str_equal (name, "annotfilter"))
    g_object_set (e, "location", labels, NULL);
  else if (g_str_equal (name, "batchsink"))
    g_object_set (e, "location", tmpdir, NULL);
  return e;
}

/* at least these must be registered: a build that lost one fails here */
static const gchar *const known[] = {
  "annotfilter", "cropextract", "batchsink", "ramcache", "compositor328",
  "framestats", "annotoverlay", "annotaugment"
};

static gboolean
is_onepass (GstPluginFeature * feature, gpointer user_data)
{
  GstPlugin *plugin;
  gboolean ours;

  if (!GST_IS_ELEMENT_FACTORY (feature))
    return FALSE;
  plugin = gst_plugin_feature_get_plugin (feature);
  ours = plugin && g_strcmp0 (gst_plugin_get_package (plugin), "onepass") == 0;
  /* the suite tests this build tree, never an installed copy (the test
   * environment's plugin whitelist makes sure of it) */
  if (ours && g_getenv ("ONEPASS_BUILD_ROOT"))
    fail_unless (g_str_has_prefix (gst_plugin_get_filename (plugin),
            g_getenv ("ONEPASS_BUILD_ROOT")), "%s is loaded from %s",
        gst_plugin_feature_get_name (feature),
        gst_plugin_get_filename (plugin));
  if (plugin)
    gst_object_unref (plugin);
  return ours;
}

/* the names of every onepass element in the registry, sorted */
static GPtrArray *
onepass_elements (void)
{
  GList *features = gst_registry_feature_filter (gst_registry_get (),
      is_onepass, FALSE, NULL), *l;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (l = features; l; l = l->next)
    g_ptr_array_add (names,
        g_strdup (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (l->data))));
  gst_plugin_feature_list_free (features);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (i = 0; i < G_N_ELEMENTS (known); i++) {
    gboolean found = FALSE;
    guint k;

    for (k = 0; k < names->len; k++)
      found |= g_str_equal (g_ptr_array_index (names, k), known[i]);
    fail_unless (found, "no element %s in the registry", known[i]);
  }
  return names;
}

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
  GPtrArray *elements = onepass_elements ();
  guint i, k;

  for (i = 0; i < elements->len; i++) {
    GstElement *e = make (g_ptr_array_index (elements, i));
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
  g_ptr_array_unref (elements);
}

GST_END_TEST;

GST_START_TEST (test_straight_down)
{
  const GstState tops[] = { GST_STATE_READY, GST_STATE_PAUSED,
    GST_STATE_PLAYING
  };
  GPtrArray *elements = onepass_elements ();
  guint i, k;

  for (i = 0; i < elements->len; i++) {
    for (k = 0; k < G_N_ELEMENTS (tops); k++) {
      GstElement *e = make (g_ptr_array_index (elements, i));
      go (e, tops[k]);
      go (e, GST_STATE_NULL);
      gst_object_unref (e);
    }
  }
  g_ptr_array_unref (elements);
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
