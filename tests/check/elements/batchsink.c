/* Element tests: batchsink. Outputs are read back with independent tools
 * (GNU tar, gzip, h5py) and checked against the bytes and annotations
 * pushed in; split assignments against constants computed in Python with
 * the documented hash (FNV-1a 64 + fmix64, see docs/batchsink.md). */
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <onepass/onepass.h>
#include <oplabelreaders.h>
#include <hdf5.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

static gchar *tmp;
static OpSkeleton *skeleton;

static void
setup (void)
{
  const gchar *nodes[] = { "head", "thorax", "tail" };

  tmp = g_dir_make_tmp ("batchsink-XXXXXX", NULL);
  fail_unless (tmp != NULL);
  skeleton = op_skeleton_new ("fly", nodes, 3);
  op_skeleton_add_edge (skeleton, 0, 1);
  op_skeleton_add_edge (skeleton, 1, 2);
}

static void
teardown (void)
{
  gchar *argv[] = { (gchar *) "rm", (gchar *) "-rf", tmp, NULL };

  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
      NULL, NULL, NULL);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&skeleton, op_skeleton_unref);
  g_unsetenv ("ONEPASS_BATCHSINK_FAULT");
}

/* ------------------------------------------------------------ helpers */

static guint8
pattern (guint sample, guint i)
{
  return (guint8) (sample * 31 + i * 7 + 3);
}

static void
set_kp (OpKeypoint * kp, gdouble x, gdouble y, gboolean visible, gdouble score)
{
  kp->x = x;
  kp->y = y;
  kp->visible = visible;
  kp->score = score;
}

/* Keypoints of sample @n, instance @k: values a person can recompute. */
static void
fill_instance (OpInstance * inst, guint n, guint k, gint track)
{
  inst->track = track;
  set_kp (&inst->keypoints[0], 10.25 + n, 20.5 + k, TRUE, NAN);
  set_kp (&inst->keypoints[1], NAN, NAN, FALSE, NAN);
  set_kp (&inst->keypoints[2], -0.5, 100.125 + n, TRUE, 0.75);
}

static GstBuffer *
crop_buffer (guint n, guint64 frame, guint instance, gint track, gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  OpAnnotation ann;
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < size; i++)
    map.data[i] = pattern (n, i);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = frame * GST_SECOND / 25;
  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, skeleton);
  op_annotation_set_source (&ann, "clip");
  ann.frame_index = frame;
  ann.pts = GST_BUFFER_PTS (buf);
  ann.width = 1024;
  ann.height = 768;
  ann.has_crop = TRUE;
  ann.crop.instance = instance;
  ann.crop.rect[0] = 100 + n;
  ann.crop.rect[1] = 50;
  ann.crop.rect[2] = 190;
  ann.crop.rect[3] = 200;
  ann.crop.width = 328;
  ann.crop.height = 328;
  fill_instance (op_annotation_add_instance (&ann, OP_INSTANCE_USER), n,
      instance, track);
  op_buffer_add_crop_meta (buf, &ann);
  op_annotation_clear (&ann);
  return buf;
}

static GstBuffer *
frame_buffer (guint64 frame, guint n_instances)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);
  OpAnnotation ann;
  guint k;

  gst_buffer_memset (buf, 0, 0, 16);
  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, skeleton);
  op_annotation_set_source (&ann, "clip");
  ann.frame_index = frame;
  ann.width = 1024;
  ann.height = 768;
  for (k = 0; k < n_instances; k++)
    fill_instance (op_annotation_add_instance (&ann, OP_INSTANCE_USER),
        (guint) frame, k, (gint) k);
  op_buffer_add_annotation_meta (buf, &ann);
  op_annotation_clear (&ann);
  return buf;
}

typedef struct
{
  GstElement *pipe;
  GstElement *src;
  GstElement *sink;
  GList *progress;              /* GstStructure copies, in order */
  GError *error;
  gchar *error_debug;
  guint warnings;
  gboolean started;
} Run;

static Run *
run_start (const gchar * caps, const gchar * sink_desc)
{
  Run *r = g_new0 (Run, 1);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time "
      "max-bytes=100000000 ! %s name=sink", sink_desc);
  GstCaps *c = gst_caps_from_string (caps);

  r->pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (r->pipe != NULL);
  r->src = gst_bin_get_by_name (GST_BIN (r->pipe), "src");
  r->sink = gst_bin_get_by_name (GST_BIN (r->pipe), "sink");
  g_object_set (r->src, "caps", c, NULL);
  gst_caps_unref (c);
  r->started = gst_element_set_state (r->pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
  return r;
}

static void
run_push (Run * r, GstBuffer * buf)
{
  /* after an error appsrc may refuse; the bus tells */
  gst_app_src_push_buffer (GST_APP_SRC (r->src), buf);
}

/* Ends the stream and collects messages until EOS or ERROR. */
static void
run_finish (Run * r)
{
  GstBus *bus = gst_element_get_bus (r->pipe);
  gboolean done = FALSE;

  if (r->started)
    gst_app_src_end_of_stream (GST_APP_SRC (r->src));
  while (!done) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT |
        GST_MESSAGE_WARNING);
    const GstStructure *s;

    fail_unless (m != NULL, "no EOS or ERROR");
    switch (GST_MESSAGE_TYPE (m)) {
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        if (!r->error)
          gst_message_parse_error (m, &r->error, &r->error_debug);
        done = TRUE;
        break;
      case GST_MESSAGE_WARNING:
        r->warnings++;
        break;
      case GST_MESSAGE_ELEMENT:
        s = gst_message_get_structure (m);
        if (gst_structure_has_name (s, "batchsink-progress"))
          r->progress = g_list_append (r->progress, gst_structure_copy (s));
        break;
      default:
        break;
    }
    gst_message_unref (m);
    if (!r->started && r->error)
      done = TRUE;
  }
  gst_object_unref (bus);
  gst_element_set_state (r->pipe, GST_STATE_NULL);
}

static void
run_free (Run * r)
{
  g_list_free_full (r->progress, (GDestroyNotify) gst_structure_free);
  g_clear_error (&r->error);
  g_free (r->error_debug);
  gst_object_unref (r->src);
  gst_object_unref (r->sink);
  gst_object_unref (r->pipe);
  g_free (r);
}

static gchar *
run_cmd (const gchar * cmd, gint * status)
{
  gchar *out = NULL;
  gint st = -1;
  GError *err = NULL;

  fail_unless (g_spawn_command_line_sync (cmd, &out, NULL, &st, &err),
      "%s: %s", cmd, err ? err->message : "");
  *status = st;
  return out;
}

static void
check_cmd (const gchar * cmd)
{
  gint st;
  gchar *out = run_cmd (cmd, &st);

  fail_unless (g_spawn_check_wait_status (st, NULL), "%s failed: %s", cmd, out);
  g_free (out);
}

static JsonObject *
read_manifest_file (const gchar * path, JsonParser ** parser)
{
  GError *err = NULL;

  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_file (*parser, path, &err), "%s: %s",
      path, err ? err->message : "");
  return json_node_get_object (json_parser_get_root (*parser));
}

/* The manifest of the only run in @dir (`<run>.manifest.json`). */
static JsonObject *
read_manifest (const gchar * dir, JsonParser ** parser)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  gchar *path = NULL;
  JsonObject *o;

  fail_unless (d != NULL, "%s", dir);
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".manifest.json")) {
      fail_unless (path == NULL, "two manifests in %s", dir);
      path = g_build_filename (dir, name, NULL);
    }
  g_dir_close (d);
  fail_unless (path != NULL, "no manifest in %s", dir);
  o = read_manifest_file (path, parser);
  g_free (path);
  return o;
}

/* The path of the first shard the run in @dir lists. */
static gchar *
first_shard (const gchar * dir)
{
  JsonParser *parser;
  JsonObject *m = read_manifest (dir, &parser);
  JsonArray *a = json_object_get_array_member (m, "shards");
  gchar *path;

  fail_unless (json_array_get_length (a) > 0);
  path = g_build_filename (dir, json_object_get_string_member
      (json_array_get_object_element (a, 0), "name"), NULL);
  g_object_unref (parser);
  return path;
}

static gchar *
path_in (const gchar * a, const gchar * b)
{
  return g_build_filename (tmp, a, b, NULL);
}

static gboolean
file_has_bytes (const gchar * path, guint n, gsize size)
{
  gchar *data = NULL;
  gsize len = 0, i;
  gboolean ok;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  ok = len == size;
  for (i = 0; ok && i < len; i++)
    ok = (guint8) data[i] == pattern (n, i);
  g_free (data);
  return ok;
}

static void
check_crop_json (const gchar * path, guint n, guint64 frame, guint instance,
    gint track)
{
  gchar *data = NULL;
  OpAnnotation ann;
  OpInstance *inst;
  GError *err = NULL;

  fail_unless (g_file_get_contents (path, &data, NULL, NULL), "%s", path);
  op_annotation_init (&ann);
  fail_unless (op_annotation_from_json (&ann, data, -1, NULL, &err), "%s: %s",
      path, err ? err->message : "");
  fail_unless_equals_string (ann.source, "clip");
  fail_unless_equals_uint64 (ann.frame_index, frame);
  fail_unless (ann.has_crop);
  fail_unless_equals_int (ann.crop.instance, instance);
  fail_unless_equals_int (ann.crop.rect[0], 100 + n);
  fail_unless_equals_int (op_annotation_n_instances (&ann), 1);
  inst = op_annotation_get_instance (&ann, 0);
  fail_unless_equals_int (inst->track, track);
  fail_unless_equals_float (inst->keypoints[0].x, 10.25 + n);
  fail_unless_equals_float (inst->keypoints[0].y, 20.5 + instance);
  fail_unless (isnan (inst->keypoints[1].x) && !inst->keypoints[1].visible);
  fail_unless_equals_float (inst->keypoints[2].y, 100.125 + n);
  fail_unless_equals_float (inst->keypoints[2].score, 0.75);
  fail_unless (ann.skeleton && ann.skeleton->n_nodes == 3);
  op_annotation_clear (&ann);
  g_free (data);
}

static const GstStructure *
last_progress (Run * r)
{
  GList *l = g_list_last (r->progress);
  return l ? l->data : NULL;
}

/* ------------------------------------------------------------ tests */

GST_START_TEST (test_tar_shards_roundtrip)
{
  gchar *out = path_in ("tar", NULL), *desc, *cmd, *listing;
  Run *r;
  JsonParser *parser;
  JsonObject *m;
  JsonArray *shards;
  GstBufferList *list;
  const GstStructure *last;
  guint i, lines, st;
  guint64 v;
  gboolean final;

  desc = g_strdup_printf ("batchsink location=%s max-shard-samples=5 "
      "batch-size=4", out);
  r = run_start ("image/jpeg", desc);
  fail_unless (r->started);
  /* 12 crops: frames 0..5, instances 0 and 1; half through render_list */
  for (i = 0; i < 6; i++)
    run_push (r, crop_buffer (i, i / 2 * 2 + 0, i % 2, i % 2, 700 + i));
  list = gst_buffer_list_new ();
  for (i = 6; i < 12; i++)
    gst_buffer_list_add (list, crop_buffer (i, i, i % 2, i % 2, 700 + i));
  gst_app_src_push_buffer_list (GST_APP_SRC (r->src), list);
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");

  m = read_manifest (out, &parser);
  fail_unless (json_object_get_boolean_member (m, "complete"));
  fail_unless_equals_string (json_object_get_string_member (m, "format"),
      "tar");
  fail_unless_equals_int (json_object_get_int_member (m, "samples"), 12);
  shards = json_object_get_array_member (m, "shards");
  fail_unless_equals_int (json_array_get_length (shards), 3);
  for (i = 0; i < 3; i++) {
    JsonObject *s = json_array_get_object_element (shards, i);
    gchar *name = g_strdup_printf ("data-clip-%06u.tar", i);
    gchar *path = g_build_filename (out, name, NULL);
    GStatBuf sb;

    fail_unless_equals_string (json_object_get_string_member (s, "name"), name);
    fail_unless_equals_int (json_object_get_int_member (s, "samples"),
        i < 2 ? 5 : 2);
    fail_unless (g_stat (path, &sb) == 0);
    fail_unless_equals_int (json_object_get_int_member (s, "bytes"),
        sb.st_size);
    fail_unless_equals_int (sb.st_size % 512, 0);
    /* GNU tar lists two members per sample */
    cmd = g_strdup_printf ("tar -tvf %s", path);
    listing = run_cmd (cmd, (gint *) & st);
    fail_unless (g_spawn_check_wait_status (st, NULL), "%s", listing);
    lines = 0;
    for (gchar * p = listing; *p; p++)
      lines += *p == '\n';
    fail_unless_equals_int (lines, 2 * (i < 2 ? 5 : 2));
    g_free (listing);
    g_free (cmd);
    cmd = g_strdup_printf ("tar -xf %s -C %s", path, out);
    check_cmd (cmd);
    g_free (cmd);
    g_free (path);
    g_free (name);
  }
  g_object_unref (parser);
  /* every member, byte for byte and value for value */
  for (i = 0; i < 12; i++) {
    guint64 frame = i < 6 ? i / 2 * 2 : i;
    gchar *key = g_strdup_printf ("clip_%06" G_GUINT64_FORMAT "_%02u", frame,
        i % 2);
    gchar *jpg = g_strdup_printf ("%s/%s.jpg", out, key);
    gchar *json = g_strdup_printf ("%s/%s.json", out, key);

    fail_unless (file_has_bytes (jpg, i, 700 + i), "%s", jpg);
    check_crop_json (json, i, frame, i % 2, i % 2);
    g_free (json);
    g_free (jpg);
    g_free (key);
  }
  /* a progress message per batch, the final one last */
  fail_unless (g_list_length (r->progress) >= 2);
  last = last_progress (r);
  fail_unless (gst_structure_get_boolean (last, "final", &final) && final);
  fail_unless (gst_structure_get_uint64 (last, "samples", &v));
  fail_unless_equals_uint64 (v, 12);
  fail_unless (gst_structure_get_uint (last, "shards", &st));
  fail_unless_equals_int (st, 3);
  fail_unless_equals_string (gst_structure_get_string (last, "location"), out);
  fail_unless_equals_int (r->warnings, 0);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* WebDataset's grouping (webdataset/tariterators.py: base_plus_ext cuts
 * a member name at the first dot after the last '/'; group_by_keys starts
 * a sample when that prefix changes and refuses a repeated suffix),
 * reimplemented. argv: shard, expected sample count. */
static const gchar *wds_check =
    "import re, sys, tarfile\n"
    "def base_plus_ext(path):\n"
    "    m = re.match(r'^((?:.*/|)[^.]+)[.]([^/]*)$', path)\n"
    "    return (m.group(1), m.group(2)) if m else (None, None)\n"
    "samples = []\n"
    "for m in tarfile.open(sys.argv[1]):\n"
    "    key, ext = base_plus_ext(m.name)\n"
    "    assert key is not None, m.name\n"
    "    if not samples or samples[-1]['__key__'] != key:\n"
    "        samples.append({'__key__': key})\n"
    "    assert ext.lower() not in samples[-1], 'duplicate ' + m.name\n"
    "    samples[-1][ext.lower()] = m.size\n"
    "assert len(samples) == int(sys.argv[2]), [s['__key__'] for s in samples]\n"
    "assert len({s['__key__'] for s in samples}) == len(samples)\n"
    "assert all(set(s) == {'__key__', 'jpg', 'json'} for s in samples)\n";

GST_START_TEST (test_tar_names_sanitized)
{
  gchar *script, *shard;
  /* keys are [A-Za-z0-9_-]: no dot but the one before the extension
   * (WebDataset's sample key ends at the first dot), one '_' per UTF-8
   * character */
  const gchar *sources[] = { "../../etc/passwd", "/abs/path", ".hidden",
    "a b\\c", "cam.1 left", "2023.05.01_mouse3", "m\xc3\xa4use"
  };
  const gchar *want[] = { "______etc_passwd_000000_00",
    "_abs_path_000001_00", "_hidden_000002_00", "a_b_c_000003_00",
    "cam_1_left_000004_00", "2023_05_01_mouse3_000005_00",
    "m_use_000006_00"
  };
  gchar *out = path_in ("names", NULL), *desc, *cmd, *listing;
  gchar **names;
  Run *r;
  guint i;
  gint st;

  desc = g_strdup_printf ("batchsink location=%s", out);
  r = run_start ("image/jpeg", desc);
  for (i = 0; i < G_N_ELEMENTS (sources); i++) {
    GstBuffer *b = crop_buffer (i, i, 0, 0, 10);
    OpCropMeta *m = op_buffer_get_crop_meta (b);
    op_annotation_set_source (&m->ann, sources[i]);
    run_push (r, b);
  }
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  shard = first_shard (out);
  /* the run is named after the first sample's source */
  fail_unless (g_str_has_suffix (shard, "/data-______etc_passwd-000000.tar"),
      "%s", shard);
  cmd = g_strdup_printf ("tar -tf %s", shard);
  listing = run_cmd (cmd, &st);
  fail_unless (g_spawn_check_wait_status (st, NULL), "%s", listing);
  names = g_strsplit (listing, "\n", -1);
  fail_unless_equals_int (g_strv_length (names),
      2 * G_N_ELEMENTS (sources) + 1);
  for (i = 0; i < 2 * G_N_ELEMENTS (sources); i++) {
    gchar *expected = g_strconcat (want[i / 2], i % 2 ? ".json" : ".jpg",
        NULL);
    fail_unless_equals_string (names[i], expected);
    fail_if (strchr (names[i], '/') || names[i][0] == '.');
    fail_unless (strchr (names[i], '.') == strrchr (names[i], '.'));
    g_free (expected);
  }
  g_strfreev (names);
  g_free (listing);
  g_free (cmd);
  /* read as WebDataset does: one sample per key */
  script = path_in ("wds.py", NULL);
  fail_unless (g_file_set_contents (script, wds_check, -1, NULL));
  cmd = g_strdup_printf ("/usr/bin/python3 %s %s %u", script, shard,
      (guint) G_N_ELEMENTS (sources));
  check_cmd (cmd);
  g_free (cmd);
  g_free (script);
  g_free (shard);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* Source names from the metas are copied, never interned: an application
 * that writes many sources keeps none of them once the sink stopped. */
GST_START_TEST (test_sources_not_interned)
{
  gchar *out = path_in ("names", NULL), *desc;
  gchar *name = g_strdup_printf ("cam-%08x-%08x", g_random_int (),
      g_random_int ());
  Run *r;
  GstBuffer *b;

  desc = g_strdup_printf ("batchsink location=%s", out);
  r = run_start ("image/jpeg", desc);
  b = crop_buffer (0, 1, 0, 0, 10);
  op_annotation_set_source (&op_buffer_get_crop_meta (b)->ann, name);
  run_push (r, b);
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  run_free (r);
  fail_unless (g_quark_try_string (name) == 0, "%s was interned", name);
  g_free (name);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* Two sources that sanitize to one key prefix would share keys. */
GST_START_TEST (test_key_collision_refused)
{
  gchar *out = path_in ("collide", NULL), *desc;
  Run *r;
  GstBuffer *b;

  desc = g_strdup_printf ("batchsink location=%s", out);
  r = run_start ("image/jpeg", desc);
  b = crop_buffer (0, 1, 0, 0, 10);
  op_annotation_set_source (&op_buffer_get_crop_meta (b)->ann, "cam.1");
  run_push (r, b);
  b = crop_buffer (1, 1, 0, 0, 10);
  op_annotation_set_source (&op_buffer_get_crop_meta (b)->ann, "cam_1");
  run_push (r, b);
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (strstr (r->error->message, "cam.1") &&
      strstr (r->error->message, "cam_1"), "%s", r->error->message);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* gs://, s3://... : an error at start, and no local "gs:" folder. */
GST_START_TEST (test_uri_location_refused)
{
  const gchar *formats[] = { "tar", "dir", "jsonl", "hdf5" };
  gchar *cwd = g_get_current_dir ();
  guint i;

  fail_unless (g_chdir (tmp) == 0);
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *desc = g_strdup_printf ("batchsink format=%s "
        "location=gs://bucket/run1/", formats[i]);
    Run *r = run_start ("image/jpeg", desc);

    fail_if (r->started, "%s started", formats[i]);
    run_finish (r);
    fail_unless (r->error != NULL);
    fail_unless (g_error_matches (r->error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS), "%s", r->error->message);
    fail_unless (strstr (r->error->message, "gs://bucket/run1/") != NULL);
    fail_if (g_file_test ("gs:", G_FILE_TEST_EXISTS), "gs: created");
    run_free (r);
    g_free (desc);
  }
  fail_unless (g_chdir (cwd) == 0);
  g_free (cwd);
}

GST_END_TEST;

/* A raw payload is named for its pixel format and its JSON says the
 * format; the JSON's crop size is the image size. */
GST_START_TEST (test_tar_raw_declared)
{
  const struct
  {
    const gchar *format, *ext;
    guint bpp;
  } cases[] = { {"RGB", "rgb", 3}, {"BGR", "bgr", 3}, {"GRAY8", "gray", 1},
  {"RGBA", "rgba", 4}
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *out = path_in ("raw", cases[i].ext), *desc, *caps, *member, *data;
    gchar *cmd;
    GstBuffer *b;
    Run *r;
    JsonParser *p = json_parser_new ();
    JsonObject *o;
    gsize len;

    desc = g_strdup_printf ("batchsink location=%s", out);
    caps = g_strdup_printf ("video/x-raw,format=%s,width=8,height=4,"
        "framerate=0/1", cases[i].format);
    r = run_start (caps, desc);
    b = crop_buffer (0, 3, 0, 0, 8 * 4 * cases[i].bpp);
    op_buffer_get_crop_meta (b)->ann.crop.width = 8;
    op_buffer_get_crop_meta (b)->ann.crop.height = 4;
    run_push (r, b);
    run_finish (r);
    fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
    cmd = g_strdup_printf ("sh -c 'cd %s && tar -xf data-*.tar'", out);
    check_cmd (cmd);
    member = g_strdup_printf ("%s/clip_000003_00.%s", out, cases[i].ext);
    fail_unless (file_has_bytes (member, 0, 8 * 4 * cases[i].bpp), "%s",
        member);
    g_free (member);
    member = g_strdup_printf ("%s/clip_000003_00.json", out);
    fail_unless (g_file_get_contents (member, &data, &len, NULL));
    fail_unless (json_parser_load_from_data (p, data, len, NULL));
    o = json_node_get_object (json_parser_get_root (p));
    fail_unless_equals_string (json_object_get_string_member (o,
            "pixel_format"), cases[i].format);
    o = json_object_get_object_member (o, "crop");
    fail_unless_equals_int (json_object_get_int_member (o, "width"), 8);
    fail_unless_equals_int (json_object_get_int_member (o, "height"), 4);
    g_free (data);
    g_free (member);
    g_object_unref (p);
    run_free (r);
    g_free (cmd);
    g_free (caps);
    g_free (desc);
    g_free (out);
  }
}

GST_END_TEST;

/* A raw crop whose meta says another size than the image is refused. */
GST_START_TEST (test_raw_size_mismatch_refused)
{
  gchar *out = path_in ("rawbad", NULL), *desc;
  Run *r;

  desc = g_strdup_printf ("batchsink location=%s", out);
  r = run_start ("video/x-raw,format=RGB,width=8,height=4,framerate=0/1", desc);
  /* crop_buffer says 328x328 */
  run_push (r, crop_buffer (0, 3, 0, 0, 8 * 4 * 3));
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (strstr (r->error->message, "328x328") != NULL, "%s",
      r->error->message);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* 3 tracks cannot make 0.8/0.2: the final message says what was achieved
 * and a warning says so; 2000 samples split by sample come close. */
GST_START_TEST (test_split_fractions_reported)
{
  guint pass;

  for (pass = 0; pass < 2; pass++) {
    gchar *out = path_in (pass ? "fr-sample" : "fr-track", NULL), *desc;
    const gchar *achieved;
    gdouble train, val;
    guint i, n = pass ? 2000 : 30;
    Run *r;

    desc = g_strdup_printf ("batchsink location=%s split=train=0.8,val=0.2 "
        "split-by=%s", out, pass ? "sample" : "track");
    r = run_start ("image/jpeg", desc);
    for (i = 0; i < n; i++)
      run_push (r, crop_buffer (i, i, 0, i % 3, 4));
    run_finish (r);
    fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
    achieved = gst_structure_get_string (last_progress (r), "split-achieved");
    fail_unless (achieved != NULL);
    fail_unless (sscanf (achieved, "train=%lf,val=%lf", &train, &val) == 2,
        "%s", achieved);
    fail_unless_equals_string (gst_structure_get_string (last_progress (r),
            "split-requested"), "train=0.8,val=0.2");
    fail_unless (fabs (train + val - 1) < 1e-3);
    if (pass == 0) {
      /* thirds: at least 0.13 from 0.8 */
      fail_unless (fabs (train * 3 - round (train * 3)) < 1e-3, "%s", achieved);
      fail_unless_equals_int (r->warnings, 1);
    } else {
      fail_unless (fabs (train - 0.8) < 0.05, "%s", achieved);
      fail_unless_equals_int (r->warnings, 0);
    }
    run_free (r);
    g_free (desc);
    g_free (out);
  }
}

GST_END_TEST;

/* Two jsonl files with different skeletons in one directory: both runs
 * write, dataset.json says the skeletons conflict instead of naming one. */
GST_START_TEST (test_dataset_skeleton_conflict)
{
  const gchar *nodes[] = { "a", "b" };
  OpSkeleton *other = op_skeleton_new ("other", nodes, 2);
  gchar *ds = path_in ("dataset.json", NULL);
  JsonParser *parser;
  JsonObject *o;
  guint k;

  for (k = 0; k < 2; k++) {
    gchar *loc = path_in (k ? "b.jsonl" : "a.jsonl", NULL);
    gchar *desc = g_strdup_printf ("batchsink format=jsonl location=%s", loc);
    Run *r = run_start ("application/x-onepass-meta", desc);
    GstBuffer *b = frame_buffer (1, 1);

    if (k)
      op_annotation_set_skeleton (&op_buffer_get_annotation_meta (b)->ann,
          other);
    run_push (r, b);
    run_finish (r);
    fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
    run_free (r);
    g_free (desc);
    g_free (loc);
  }
  o = read_manifest_file (ds, &parser);
  fail_unless (json_object_get_null_member (o, "skeleton"));
  fail_unless_equals_int (json_array_get_length
      (json_object_get_array_member (o, "skeleton_conflict")), 2);
  fail_unless_equals_int (json_array_get_length
      (json_object_get_array_member (o, "shards")), 2);
  g_object_unref (parser);
  op_skeleton_unref (other);
  g_free (ds);
}

GST_END_TEST;

/* Resuming with another input is refused (the key after the kept shards
 * differs), and a complete run is not overwritten without overwrite. */
GST_START_TEST (test_resume_other_input_refused)
{
  gchar *out = path_in ("res", NULL), *desc, *man, *data, *partial;
  Run *r;
  guint i;

  desc = g_strdup_printf ("batchsink location=%s max-shard-samples=2 "
      "shard-prefix=run1", out);
  r = run_start ("image/jpeg", desc);
  for (i = 0; i < 5; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 10));
  run_finish (r);
  fail_unless (r->error == NULL);
  run_free (r);
  /* fake an interruption: the manifest says incomplete */
  man = g_build_filename (out, "run1.manifest.json", NULL);
  fail_unless (g_file_get_contents (man, &data, NULL, NULL));
  partial = strstr (data, "\"complete\":true");
  fail_unless (partial != NULL);
  {
    gchar *fixed = g_strdup_printf ("%.*s\"complete\":false%s",
        (gint) (partial - data), data, partial + strlen ("\"complete\":true"));
    fail_unless (g_file_set_contents (man, fixed, -1, NULL));
    g_free (fixed);
  }
  /* frames 10.. instead of 0..: sample 4 of split data is not clip_000003 */
  r = run_start ("image/jpeg", desc);
  for (i = 0; i < 5; i++)
    run_push (r, crop_buffer (i, 10 + i, 0, 0, 10));
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (strstr (r->error->message, "input differs") != NULL, "%s",
      r->error->message);
  run_free (r);
  g_free (data);
  g_free (man);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* Which split each tar member landed in: key -> split name. */
static GHashTable *
members_by_split (const gchar * out)
{
  GHashTable *where = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  JsonParser *parser;
  JsonObject *m = read_manifest (out, &parser);
  JsonArray *shards = json_object_get_array_member (m, "shards");
  guint i;

  for (i = 0; i < json_array_get_length (shards); i++) {
    JsonObject *s = json_array_get_object_element (shards, i);
    gchar *cmd = g_strdup_printf ("tar -tf %s/%s", out,
        json_object_get_string_member (s, "name"));
    gint st;
    gchar *listing = run_cmd (cmd, &st);
    gchar **names = g_strsplit (listing, "\n", -1);

    fail_unless (g_spawn_check_wait_status (st, NULL));
    for (gchar ** n = names; *n; n++)
      if (g_str_has_suffix (*n, ".json"))
        g_hash_table_insert (where, g_strndup (*n, strlen (*n) - 5),
            g_strdup (json_object_get_string_member (s, "split")));
    g_strfreev (names);
    g_free (listing);
    g_free (cmd);
  }
  g_object_unref (parser);
  return where;
}

GST_START_TEST (test_split_by_track_fixed)
{
  /* FNV-1a 64 + fmix64 of "clip/track/<t>", t = 0..19, with
   * train=0.7,val=0.3, computed in Python (docs/batchsink.md) */
  const gchar *expected = "VTTTTVVTVTVTTTTTTVTV";
  gchar *out = path_in ("split", NULL), *desc;
  GHashTable *where;
  Run *r;
  guint t, f;

  desc = g_strdup_printf ("batchsink location=%s split=train=0.7,val=0.3 "
      "max-shard-samples=7", out);
  r = run_start ("image/png", desc);
  for (f = 0; f < 3; f++)
    for (t = 0; t < 20; t++)
      run_push (r, crop_buffer (t, f, t, t, 10));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  where = members_by_split (out);
  fail_unless_equals_int (g_hash_table_size (where), 60);
  for (t = 0; t < 20; t++)
    for (f = 0; f < 3; f++) {
      gchar *key = g_strdup_printf ("clip_%06u_%02u", f, t);
      const gchar *split = g_hash_table_lookup (where, key);
      fail_unless (split != NULL, "%s missing", key);
      fail_unless_equals_string (split, expected[t] == 'T' ? "train" : "val");
      g_free (key);
    }
  g_hash_table_unref (where);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

static guint
count_lines (const gchar * path)
{
  gchar *data = NULL;
  guint n = 0;

  fail_unless (g_file_get_contents (path, &data, NULL, NULL), "%s", path);
  for (gchar * p = data; *p; p++)
    n += *p == '\n';
  g_free (data);
  return n;
}

GST_START_TEST (test_split_by_sample_fractions)
{
  gchar *loc = path_in ("f.jsonl", NULL), *desc, *train, *val;
  Run *r;
  guint i, nt, nv;

  desc = g_strdup_printf ("batchsink format=jsonl location=%s "
      "split=train=0.9,val=0.1 split-by=sample", loc);
  r = run_start ("application/x-onepass-meta", desc);
  for (i = 0; i < 5000; i++)
    run_push (r, frame_buffer (i, 0));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  train = path_in ("f.train.jsonl", NULL);
  val = path_in ("f.val.jsonl", NULL);
  nt = count_lines (train);
  nv = count_lines (val);
  /* keys clip_<i:06>_00: 4511 / 489 by the same hash in Python */
  fail_unless_equals_int (nt, 4511);
  fail_unless_equals_int (nv, 489);
  fail_unless (nv > 0.08 * 5000 && nv < 0.12 * 5000);
  fail_unless (!g_file_test (loc, G_FILE_TEST_EXISTS));
  run_free (r);
  g_free (train);
  g_free (val);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

GST_START_TEST (test_jsonl_gzip_frames)
{
  gchar *loc = path_in ("frames.jsonl.gz", NULL), *desc, *cmd, *text;
  gchar **lines;
  Run *r;
  gint st;
  guint i;

  desc = g_strdup_printf ("batchsink format=jsonl location=%s batch-size=3",
      loc);
  r = run_start ("video/x-raw,format=I420,width=4,height=4", desc);
  for (i = 0; i < 10; i++)
    run_push (r, frame_buffer (i * 3, 2));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  cmd = g_strdup_printf ("gzip -t %s", loc);
  check_cmd (cmd);
  g_free (cmd);
  cmd = g_strdup_printf ("gzip -dc %s", loc);
  text = run_cmd (cmd, &st);
  fail_unless (g_spawn_check_wait_status (st, NULL));
  lines = g_strsplit (text, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 11);
  fail_unless_equals_string (lines[10], "");
  for (i = 0; i < 10; i++) {
    OpAnnotation ann;
    GError *err = NULL;

    op_annotation_init (&ann);
    fail_unless (op_annotation_from_json (&ann, lines[i], -1, NULL, &err),
        "%s", err ? err->message : "");
    fail_unless_equals_uint64 (ann.frame_index, i * 3);
    fail_unless (!ann.has_crop);
    fail_unless_equals_int (op_annotation_n_instances (&ann), 2);
    fail_unless_equals_int (op_annotation_get_instance (&ann, 1)->track, 1);
    fail_unless_equals_float (op_annotation_get_instance (&ann,
            1)->keypoints[0].y, 21.5);
    op_annotation_clear (&ann);
  }
  g_strfreev (lines);
  g_free (text);
  g_free (cmd);
  /* everything fits in one shard: the one unnumbered file, listed alone */
  {
    gchar *man = g_strconcat (loc, ".manifest.json", NULL);
    gchar *numbered = path_in ("frames-000000.jsonl.gz", NULL);
    JsonParser *parser;
    JsonObject *o = read_manifest_file (man, &parser), *sh;
    JsonArray *shards = json_object_get_array_member (o, "shards");

    fail_unless (json_object_get_boolean_member (o, "complete"));
    fail_unless_equals_string (json_object_get_string_member (o, "format"),
        "jsonl");
    fail_unless_equals_int (json_array_get_length (shards), 1);
    sh = json_array_get_object_element (shards, 0);
    fail_unless_equals_string (json_object_get_string_member (sh, "name"),
        "frames.jsonl.gz");
    fail_unless_equals_int (json_object_get_int_member (sh, "samples"), 10);
    fail_unless (!g_file_test (numbered, G_FILE_TEST_EXISTS));
    g_object_unref (parser);
    g_free (numbered);
    g_free (man);
  }
  run_free (r);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

/* Lines of one JSON lines shard: `gzip -t` must pass on a .gz shard, and
 * the text must end with a newline. */
static gchar **
shard_lines (const gchar * path)
{
  gchar *text = NULL, *cmd, **lines;
  guint n;

  if (g_str_has_suffix (path, ".gz")) {
    gint st;

    cmd = g_strdup_printf ("gzip -t %s", path);
    check_cmd (cmd);
    g_free (cmd);
    cmd = g_strdup_printf ("gzip -dc %s", path);
    text = run_cmd (cmd, &st);
    fail_unless (g_spawn_check_wait_status (st, NULL), "%s", cmd);
    g_free (cmd);
  } else {
    fail_unless (g_file_get_contents (path, &text, NULL, NULL), "%s", path);
  }
  fail_unless (g_str_has_suffix (text, "\n"), "%s: no final newline", path);
  text[strlen (text) - 1] = '\0';
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  fail_unless (n > 0 && *lines[n - 1], "%s: empty line", path);
  g_free (text);
  return lines;
}

static guint
count_partials (void)
{
  GDir *d = g_dir_open (tmp, 0, NULL);
  const gchar *name;
  guint n = 0;

  fail_unless (d != NULL);
  while ((name = g_dir_read_name (d)))
    n += g_str_has_suffix (name, ".partial");
  g_dir_close (d);
  return n;
}

/* Walks @manifest's shards of @split (in manifest order, which is shard
 * order within a split): names `<stem>[.<split>]-<NNNNNN><ext>` numbered
 * from 0, sizes as listed, every line a JSON annotation, frame indices
 * increasing across shards (order preserved), every shard but the last
 * at least @max_bytes. Sets seen[frame] (each frame once) and returns the
 * shard count; *max_line gets the longest line + 1. */
static guint
check_jsonl_split (JsonObject * manifest, const gchar * stem,
    const gchar * split, const gchar * ext, guint64 max_bytes,
    gboolean * seen, guint n_frames, gsize * max_line)
{
  JsonArray *shards = json_object_get_array_member (manifest, "shards");
  guint i, j, k = 0;
  gint64 last = -1;
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (guint64));

  for (i = 0; i < json_array_get_length (shards); i++) {
    JsonObject *sh = json_array_get_object_element (shards, i);
    const gchar *name = json_object_get_string_member (sh, "name");
    gchar *want, *path, **lines;
    GStatBuf st;
    guint64 bytes;

    if (strcmp (json_object_get_string_member (sh, "split"), split))
      continue;
    /* split `data` is the no-split case: no split name in file names */
    if (strcmp (split, "data"))
      want = g_strdup_printf ("%s.%s-%06u%s", stem, split, k, ext);
    else
      want = g_strdup_printf ("%s-%06u%s", stem, k, ext);
    fail_unless_equals_string (name, want);
    g_free (want);
    path = path_in (name, NULL);
    fail_unless (g_stat (path, &st) == 0, "%s", path);
    bytes = json_object_get_int_member (sh, "bytes");
    fail_unless_equals_uint64 ((guint64) st.st_size, bytes);
    g_array_append_val (sizes, bytes);
    lines = shard_lines (path);
    fail_unless_equals_int (g_strv_length (lines),
        json_object_get_int_member (sh, "samples"));
    for (j = 0; lines[j]; j++) {
      OpAnnotation ann;
      GError *err = NULL;

      *max_line = MAX (*max_line, strlen (lines[j]) + 1);
      op_annotation_init (&ann);
      fail_unless (op_annotation_from_json (&ann, lines[j], -1, NULL, &err),
          "%s line %u: %s", path, j, err ? err->message : "");
      fail_unless ((gint64) ann.frame_index > last, "%s: frame %"
          G_GUINT64_FORMAT " after %" G_GINT64_FORMAT, path, ann.frame_index,
          last);
      last = ann.frame_index;
      fail_unless (ann.frame_index < n_frames && !seen[ann.frame_index]);
      seen[ann.frame_index] = TRUE;
      op_annotation_clear (&ann);
    }
    g_strfreev (lines);
    g_free (path);
    k++;
  }
  for (i = 0; max_bytes && i + 1 < sizes->len; i++)
    fail_unless (g_array_index (sizes, guint64, i) >= max_bytes,
        "%s shard %u: %" G_GUINT64_FORMAT " bytes", split, i,
        g_array_index (sizes, guint64, i));
  g_array_unref (sizes);
  return k;
}

GST_START_TEST (test_jsonl_rotate_samples)
{
  gchar *loc = path_in ("frames.jsonl.gz", NULL), *man, *desc;
  JsonParser *parser;
  JsonObject *o;
  JsonArray *shards;
  gboolean seen[20] = { FALSE };
  gsize max_line = 0;
  guint i, n_shards = 0;
  Run *r;

  desc = g_strdup_printf ("batchsink format=jsonl location=%s batch-size=3 "
      "max-shard-samples=4", loc);
  r = run_start ("application/x-onepass-meta", desc);
  for (i = 0; i < 10; i++)
    run_push (r, frame_buffer (i * 2, 1));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless (last_progress (r) != NULL);
  fail_unless (gst_structure_get_uint (last_progress (r), "shards", &n_shards));
  fail_unless_equals_int (n_shards, 3);
  run_free (r);
  man = g_strconcat (loc, ".manifest.json", NULL);
  o = read_manifest_file (man, &parser);
  fail_unless (json_object_get_boolean_member (o, "complete"));
  fail_unless_equals_int (json_object_get_int_member (o, "shard_count"), 3);
  fail_unless_equals_int (json_object_get_int_member (o, "samples"), 10);
  shards = json_object_get_array_member (o, "shards");
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (json_object_get_int_member
        (json_array_get_object_element (shards, i), "samples"), i < 2 ? 4 : 2);
  /* frame_buffer (i * 2): frame indices 0, 2, ..., 18, in order */
  fail_unless_equals_int (check_jsonl_split (o, "frames", "data",
          ".jsonl.gz", 0, seen, 20, &max_line), 3);
  for (i = 0; i < 20; i++)
    fail_unless (seen[i] == (i % 2 == 0), "frame %u", i);
  /* rotated: no unnumbered file, nothing left half-written */
  fail_unless (!g_file_test (loc, G_FILE_TEST_EXISTS));
  fail_unless_equals_int (count_partials (), 0);
  g_object_unref (parser);
  g_free (man);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

GST_START_TEST (test_jsonl_rotate_bytes)
{
  gchar *loc, *man, *desc;
  JsonParser *parser;
  JsonArray *shards;
  JsonObject *o;
  gboolean *seen;
  gsize max_line = 0;
  guint i, n = 300, nt, nv;
  Run *r;

  /* plain JSON lines, two splits: a shard closes at the first sample that
   * takes it to 3000 bytes, so it holds [3000, 3000 + one line) bytes */
  loc = path_in ("b.jsonl", NULL);
  desc = g_strdup_printf ("batchsink format=jsonl location=%s batch-size=7 "
      "max-shard-bytes=3000 split=train=0.5,val=0.5 split-by=sample", loc);
  r = run_start ("application/x-onepass-meta", desc);
  for (i = 0; i < n; i++)
    run_push (r, frame_buffer (i, 2));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  run_free (r);
  man = g_strconcat (loc, ".manifest.json", NULL);
  o = read_manifest_file (man, &parser);
  fail_unless (json_object_get_boolean_member (o, "complete"));
  fail_unless_equals_int (json_object_get_int_member (o, "samples"), n);
  seen = g_new0 (gboolean, n);
  nt = check_jsonl_split (o, "b", "train", ".jsonl", 3000, seen, n, &max_line);
  nv = check_jsonl_split (o, "b", "val", ".jsonl", 3000, seen, n, &max_line);
  fail_unless (nt > 2 && nv > 2, "train %u, val %u shards", nt, nv);
  fail_unless_equals_int (json_object_get_int_member (o, "shard_count"),
      nt + nv);
  for (i = 0; i < n; i++)
    fail_unless (seen[i], "frame %u missing", i);
  shards = json_object_get_array_member (o, "shards");
  for (i = 0; i < json_array_get_length (shards); i++) {
    JsonObject *sh = json_array_get_object_element (shards, i);
    fail_unless (json_object_get_int_member (sh, "bytes") <
        3000 + (gint64) max_line, "%s",
        json_object_get_string_member (sh, "name"));
  }
  fail_unless (!g_file_test (loc, G_FILE_TEST_EXISTS));
  g_object_unref (parser);
  g_free (seen);
  g_free (man);
  g_free (desc);
  g_free (loc);

  /* gzip: the limit counts compressed bytes; every shard is its own
   * complete gzip stream (shard_lines runs gzip -t) */
  n = 3000;
  loc = path_in ("g.jsonl.gz", NULL);
  desc = g_strdup_printf ("batchsink format=jsonl location=%s "
      "max-shard-bytes=4096", loc);
  r = run_start ("application/x-onepass-meta", desc);
  for (i = 0; i < n; i++)
    run_push (r, frame_buffer (i, 2));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  run_free (r);
  man = g_strconcat (loc, ".manifest.json", NULL);
  o = read_manifest_file (man, &parser);
  seen = g_new0 (gboolean, n);
  nt = check_jsonl_split (o, "g", "data", ".jsonl.gz", 4096, seen, n,
      &max_line);
  fail_unless (nt > 2, "%u gzip shards", nt);
  for (i = 0; i < n; i++)
    fail_unless (seen[i], "frame %u missing", i);
  /* near the limit the compressor is sync-flushed, so a shard passes it by
   * at most one sample (compressed, at most its line) plus the flush and
   * gzip trailer bytes, not by a whole deflate block (tens of KiB) */
  shards = json_object_get_array_member (o, "shards");
  for (i = 0; i < json_array_get_length (shards); i++) {
    JsonObject *sh = json_array_get_object_element (shards, i);
    fail_unless (json_object_get_int_member (sh, "bytes") <
        4096 + (gint64) max_line + 64, "%s: %" G_GINT64_FORMAT " bytes",
        json_object_get_string_member (sh, "name"),
        json_object_get_int_member (sh, "bytes"));
  }
  fail_unless_equals_int (count_partials (), 0);
  g_object_unref (parser);
  g_free (seen);
  g_free (man);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

/* Raw RGB 6x4: GStreamer pads rows to 20 bytes, the file must not. */
static GstBuffer *
rgb_crop (guint n)
{
  GstVideoInfo info;
  GstBuffer *buf, *crop = crop_buffer (n, 40 + n, 0, 5, 1);
  GstVideoFrame frame;
  guint x, y, c;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 6, 4);
  fail_unless_equals_int (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 20);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_memset (buf, 0, 0xEE, GST_VIDEO_INFO_SIZE (&info));
  gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE);
  for (y = 0; y < 4; y++)
    for (x = 0; x < 6; x++)
      for (c = 0; c < 3; c++)
        ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0))[y * 20 + x * 3 +
            c] = (guint8) (n * 50 + y * 18 + x * 3 + c);
  gst_video_frame_unmap (&frame);
  /* carry the crop meta over; the crop is the 6x4 image */
  gst_buffer_copy_into (buf, crop, GST_BUFFER_COPY_META, 0, -1);
  gst_buffer_unref (crop);
  op_buffer_get_crop_meta (buf)->ann.crop.width = 6;
  op_buffer_get_crop_meta (buf)->ann.crop.height = 4;
  return buf;
}

/* layout version 2 of crops: one instance per row */
static const gchar *h5_check =
    "import sys, json, h5py, numpy as np\n"
    "f = h5py.File(sys.argv[1], 'r')\n"
    "im = f['images']\n"
    "assert im.shape == (5, 4, 6, 3) and im.dtype == np.uint8, im\n"
    "assert im.attrs['pixel_format'] == 'RGB' and im.attrs['layout'] == 'NHWC'\n"
    "n, y, x, c = np.indices(im.shape)\n"
    "assert (im[...] == ((n * 50 + y * 18 + x * 3 + c) % 256)).all()\n"
    "assert im.chunks == (1, 4, 6, 3) and im.compression == 'gzip'\n"
    "kp = f['keypoints'][...]\n"
    "assert kp.shape == (5, 1, 3, 4) and kp.dtype == np.float32, kp.shape\n"
    "for i in range(5):\n"
    "    assert kp[i, 0, 0, :3].tolist() == [10.25 + i, 20.5, 1]\n"
    "    assert np.isnan(kp[i, 0, 0, 3])\n"
    "    assert np.isnan(kp[i, 0, 1, :2]).all() and kp[i, 0, 1, 2] == 0\n"
    "    assert kp[i, 0, 2].tolist() == [-0.5, 100.125 + i, 1, 0.75]\n"
    "assert f['n_instances'][...].tolist() == [1] * 5\n"
    "assert f['frame_index'][...].tolist() == [40, 41, 42, 43, 44]\n"
    "assert f['frame_index'].dtype == np.int64\n"
    "assert f['pts'][...].tolist() == [(40 + i) * 10**9 // 25 for i in range(5)]\n"
    "assert f['instance'][...].tolist() == [0] * 5\n"
    "assert f['track'][...].tolist() == [[5]] * 5\n"
    "assert f['track'].dtype == np.int32\n"
    "assert f['kind'][...].tolist() == [[0]] * 5\n"
    "assert np.isnan(f['score'][...]).all() and np.isnan(f['bbox'][...]).all()\n"
    "rect = f['rect'][...].tolist()\n"
    "assert rect == [[100 + i, 50, 190, 200] for i in range(5)]\n"
    "assert f['source'][...].tolist() == [0] * 5\n"
    "def strs(a):\n"
    "    return [s.decode() if isinstance(s, bytes) else s for s in a]\n"
    "assert strs(f['sources'][...]) == ['clip']\n"
    "assert f['source_width'][...].tolist() == [0]\n"
    "assert strs(f.attrs['nodes']) == ['head', 'thorax', 'tail']\n"
    "assert f.attrs['edges'].tolist() == [[0, 1], [1, 2]]\n"
    "assert f.attrs['symmetries'].shape == (0, 2)\n"
    "assert f.attrs['layout_version'] == 2\n"
    "assert 'crop coordinates' in f.attrs['coordinates']\n" "print('ok')\n";

GST_START_TEST (test_hdf5_values)
{
  gchar *loc = path_in ("sub", "out.h5"), *desc, *cmd, *script;
  Run *r;
  guint i;

  desc = g_strdup_printf ("batchsink format=hdf5 location=%s batch-size=2",
      loc);
  r = run_start ("video/x-raw,format=RGB,width=6,height=4,framerate=0/1", desc);
  for (i = 0; i < 5; i++)
    run_push (r, rgb_crop (i));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  script = path_in ("check.py", NULL);
  fail_unless (g_file_set_contents (script, h5_check, -1, NULL));
  cmd = g_strdup_printf ("/usr/bin/python3 %s %s", script, loc);
  check_cmd (cmd);
  g_free (cmd);
  g_free (script);
  run_free (r);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

static herr_t
counting_handler (hid_t stack, void *data)
{
  (*(guint *) data)++;
  return 0;
}

/* libhdf5's automatic error handler is global state of the application
 * (h5py installs its own): a failed HDF5 create inside batchsink must leave
 * it as it was, and must not have printed through it. */
GST_START_TEST (test_hdf5_error_handler_kept)
{
  gchar *loc = path_in ("eh", "out.h5"), *partial, *desc;
  H5E_auto2_t old_func, func;
  void *old_data, *data;
  guint calls = 0;
  Run *r;

  H5Eget_auto2 (H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2 (H5E_DEFAULT, counting_handler, &calls);
  /* the split file's .partial is a directory: H5Fcreate fails */
  partial = path_in ("eh", "out.train.h5.partial");
  fail_unless (g_mkdir_with_parents (partial, 0755) == 0);
  desc = g_strdup_printf ("batchsink format=hdf5 location=%s "
      "split=train=1.0", loc);
  r = run_start ("video/x-raw,format=RGB,width=6,height=4,framerate=0/1", desc);
  run_push (r, rgb_crop (0));
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (strstr (r->error->message, partial) != NULL, "%s",
      r->error->message);
  H5Eget_auto2 (H5E_DEFAULT, &func, &data);
  fail_unless (func == counting_handler && data == &calls,
      "batchsink replaced libhdf5's error handler");
  fail_unless_equals_int (calls, 0);
  H5Eset_auto2 (H5E_DEFAULT, old_func, old_data);
  run_free (r);
  g_rmdir (partial);
  g_free (partial);
  g_free (desc);
  g_free (loc);
}

GST_END_TEST;

/* ------------------------------------------------ batchsink-shard-closed */

typedef struct
{
  gchar *manifest;
  GPtrArray *messages;          /* GstStructure copies, in order */
  GString *problems;            /* what was wrong when a message came */
} ClosedLog;

/* On the writer thread, when the message is posted: the file must be
 * complete under its name and already listed in the manifest. */
static GstBusSyncReply
closed_sync (GstBus * bus, GstMessage * m, gpointer data)
{
  ClosedLog *log = data;
  const GstStructure *s = gst_message_get_structure (m);
  const gchar *path;
  guint64 bytes = 0, samples = 0;
  JsonParser *parser = json_parser_new ();
  JsonArray *shards;
  GStatBuf sb;
  gchar *name;
  guint i;
  gboolean listed = FALSE;

  if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_ELEMENT
      || !gst_structure_has_name (s, "batchsink-shard-closed")) {
    g_object_unref (parser);
    return GST_BUS_PASS;
  }
  g_ptr_array_add (log->messages, gst_structure_copy (s));
  path = gst_structure_get_string (s, "path");
  gst_structure_get_uint64 (s, "bytes", &bytes);
  gst_structure_get_uint64 (s, "samples", &samples);
  if (!path || g_stat (path, &sb) != 0 || (guint64) sb.st_size != bytes)
    g_string_append_printf (log->problems, "%s: not on disk with %"
        G_GUINT64_FORMAT " bytes; ", path, bytes);
  name = path ? g_path_get_basename (path) : g_strdup ("");
  if (json_parser_load_from_file (parser, log->manifest, NULL)) {
    shards = json_object_get_array_member (json_node_get_object
        (json_parser_get_root (parser)), "shards");
    for (i = 0; i < json_array_get_length (shards); i++) {
      JsonObject *o = json_array_get_object_element (shards, i);
      listed |= g_str_equal (json_object_get_string_member (o, "name"), name)
          && (guint64) json_object_get_int_member (o, "samples") == samples;
    }
  }
  if (!listed)
    g_string_append_printf (log->problems, "%s: not yet in %s; ", name,
        log->manifest);
  g_free (name);
  g_object_unref (parser);
  return GST_BUS_PASS;
}

static ClosedLog *
closed_log_attach (Run * r, const gchar * manifest)
{
  ClosedLog *log = g_new0 (ClosedLog, 1);
  GstBus *bus = gst_element_get_bus (r->pipe);

  log->manifest = g_strdup (manifest);
  log->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  log->problems = g_string_new (NULL);
  gst_bus_set_sync_handler (bus, closed_sync, log, NULL);
  gst_object_unref (bus);
  return log;
}

/* The messages are the manifest's shards, one each, in commit order, with
 * the same name, split, samples and bytes, numbered 0, 1, ... per split
 * (@numbered) or all 0 (hdf5). Returns the number of messages. */
static guint
check_closed (Run * r, ClosedLog * log, gboolean numbered)
{
  JsonParser *parser;
  JsonObject *m = read_manifest_file (log->manifest, &parser);
  JsonArray *shards = json_object_get_array_member (m, "shards");
  GHashTable *next = g_hash_table_new (g_str_hash, g_str_equal);
  guint i, n = log->messages->len;
  GstBus *bus = gst_element_get_bus (r->pipe);

  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  fail_unless (log->problems->len == 0, "%s", log->problems->str);
  fail_unless_equals_int (n, json_array_get_length (shards));
  for (i = 0; i < n; i++) {
    const GstStructure *s = g_ptr_array_index (log->messages, i);
    JsonObject *o = json_array_get_object_element (shards, i);
    const gchar *split = json_object_get_string_member (o, "split");
    gchar *base = g_path_get_basename (gst_structure_get_string (s, "path"));
    guint index, want = GPOINTER_TO_UINT (g_hash_table_lookup (next, split));
    guint64 v;

    fail_unless_equals_string (base, json_object_get_string_member (o, "name"));
    fail_unless_equals_string (gst_structure_get_string (s, "split"), split);
    fail_unless (gst_structure_get_uint64 (s, "samples", &v));
    fail_unless_equals_int (v, json_object_get_int_member (o, "samples"));
    fail_unless (gst_structure_get_uint64 (s, "bytes", &v));
    fail_unless_equals_int (v, json_object_get_int_member (o, "bytes"));
    fail_unless (gst_structure_get_uint (s, "index", &index));
    fail_unless_equals_int (index, numbered ? want : 0);
    g_hash_table_insert (next, (gpointer) split, GUINT_TO_POINTER (want + 1));
    g_free (base);
  }
  g_hash_table_unref (next);
  g_object_unref (parser);
  g_ptr_array_unref (log->messages);
  g_string_free (log->problems, TRUE);
  g_free (log->manifest);
  g_free (log);
  return n;
}

/* `batchsink-shard-closed` after every commit of tar, jsonl and hdf5, when
 * the file is complete and listed; none for dir's loose files. */
GST_START_TEST (test_shard_closed_messages)
{
  gchar *out, *desc, *man;
  ClosedLog *log;
  Run *r;
  guint i;

  /* tar: 12 samples in shards of 5 */
  out = path_in ("sc-tar", NULL);
  desc = g_strdup_printf ("batchsink location=%s shard-prefix=run1 "
      "max-shard-samples=5 batch-size=4", out);
  man = g_build_filename (out, "run1.manifest.json", NULL);
  r = run_start ("image/jpeg", desc);
  log = closed_log_attach (r, man);
  for (i = 0; i < 12; i++)
    run_push (r, crop_buffer (i, i, 0, i % 2, 300 + i));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless_equals_int (check_closed (r, log, TRUE), 3);
  run_free (r);
  g_free (desc);
  g_free (man);
  g_free (out);

  /* jsonl with two splits, rotating: numbered names, per-split indices */
  out = path_in ("sc", "frames.jsonl");
  desc = g_strdup_printf ("batchsink format=jsonl location=%s "
      "split=train=0.5,val=0.5 split-by=sample max-shard-samples=3", out);
  man = g_strconcat (out, ".manifest.json", NULL);
  r = run_start ("application/x-onepass-meta", desc);
  log = closed_log_attach (r, man);
  for (i = 0; i < 14; i++)
    run_push (r, frame_buffer (i, 1));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless (check_closed (r, log, TRUE) >= 5);
  run_free (r);
  g_free (desc);
  g_free (man);
  g_free (out);

  /* hdf5 with two splits: one message per split file */
  out = path_in ("sc", "crops.h5");
  desc = g_strdup_printf ("batchsink format=hdf5 location=%s "
      "split=train=0.5,val=0.5 split-by=sample batch-size=2", out);
  man = g_strconcat (out, ".manifest.json", NULL);
  r = run_start ("video/x-raw,format=RGB,width=6,height=4,framerate=0/1", desc);
  log = closed_log_attach (r, man);
  for (i = 0; i < 8; i++)
    run_push (r, rgb_crop (i));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless_equals_int (check_closed (r, log, FALSE), 2);
  run_free (r);
  g_free (desc);
  g_free (man);
  g_free (out);

  /* dir: loose files, no shard, no message */
  out = path_in ("sc-dir", NULL);
  desc = g_strdup_printf ("batchsink format=dir location=%s "
      "shard-prefix=run1", out);
  man = g_build_filename (out, "run1.manifest.json", NULL);
  r = run_start ("image/jpeg", desc);
  log = closed_log_attach (r, man);
  for (i = 0; i < 3; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 100));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless_equals_int (check_closed (r, log, TRUE), 0);
  run_free (r);
  g_free (desc);
  g_free (man);
  g_free (out);
}

GST_END_TEST;

/* ------------------------------------------------ HDF5 from 8 threads */

#define N_PIPES 8
#define N_FRAMES 3

static const gchar *const parallel_labels[] = { "labels.v002.slp",
  "minimal_instance.slp", "centered_pair_predictions.slp"
};

typedef struct
{
  guint i;
  gchar *labels;
  gchar *out;
  guint8 rgb[3];
  GError *error;
  guint handler_calls;
  gboolean handler_kept;
} Pipe;

/* Pipeline @p from its own thread: the READY->PAUSED change (annotfilter
 * loading the .slp, batchsink opening its file) and the stream run at the
 * same time as the other pipelines' reads and writes. */
static gpointer
run_pipe (gpointer data)
{
  Pipe *p = data;
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u "
      "pattern=solid-color foreground-color=0x%02x%02x%02x%02x ! "
      "video/x-raw,format=RGB,width=384,height=384,framerate=15/1 ! "
      "annotfilter location=\"%s\" instances=all ! "
      "batchsink format=hdf5 batch-size=1 location=\"%s\"", N_FRAMES, 0xff,
      p->rgb[0], p->rgb[1], p->rgb[2], p->labels, p->out);
  GstElement *pipe = gst_parse_launch (desc, &p->error);
  GstMessage *m;
  H5E_auto2_t func;
  void *func_data;

  g_free (desc);
  if (!pipe)
    return NULL;
  /* this thread's handler (per thread in a thread-safe libhdf5): the
   * readers and the writer's open run here and must leave it alone */
  H5Eset_auto2 (H5E_DEFAULT, counting_handler, &p->handler_calls);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 300 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m == NULL)
    p->error = g_error_new (GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "timeout");
  else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
    gst_message_parse_error (m, &p->error, NULL);
  if (m)
    gst_message_unref (m);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  H5Eget_auto2 (H5E_DEFAULT, &func, &func_data);
  p->handler_kept = func == counting_handler && func_data == &p->handler_calls;
  return NULL;
}

static void
read_dataset (hid_t file, const gchar * name, hid_t type, gsize n_expect,
    gsize elem, gpointer * out)
{
  hid_t ds = H5Dopen2 (file, name, H5P_DEFAULT);
  hid_t space;
  hssize_t n;

  fail_unless (ds >= 0, "no dataset %s", name);
  space = H5Dget_space (ds);
  n = H5Sget_simple_extent_npoints (space);
  fail_unless_equals_int (n, n_expect);
  *out = g_malloc (MAX (n, 1) * elem);
  fail_unless (H5Dread (ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) >= 0);
  H5Sclose (space);
  H5Dclose (ds);
}

/* Output @p, read with the HDF5 C API, against the label file read alone
 * (op_label_readers_load) and the colour the pipeline's source painted. */
static void
check_pipe_output (Pipe * p)
{
  OpLabels *labels = op_label_readers_load (p->labels, NULL);
  GArray *want = g_array_new (FALSE, FALSE, sizeof (guint64));
  hid_t file;
  gint64 *frames;
  gint32 *n_inst;
  gfloat *kps;
  guint8 *images;
  guint64 f;
  guint n, r, k, j, ni, nk, x;
  hsize_t dims[4];
  hid_t ds, space;

  fail_unless (labels != NULL);
  for (f = 0; f < N_FRAMES; f++)
    if (op_labels_lookup (labels, 0, f))
      g_array_append_val (want, f);
  n = want->len;
  fail_unless (n > 0);
  file = H5Fopen (p->out, H5F_ACC_RDONLY, H5P_DEFAULT);
  fail_unless (file >= 0, "cannot open %s", p->out);
  ds = H5Dopen2 (file, "keypoints", H5P_DEFAULT);
  space = H5Dget_space (ds);
  fail_unless_equals_int (H5Sget_simple_extent_dims (space, dims, NULL), 4);
  H5Sclose (space);
  H5Dclose (ds);
  fail_unless_equals_int (dims[0], n);
  ni = dims[1];
  nk = dims[2];
  read_dataset (file, "frame_index", H5T_NATIVE_INT64, n, 8,
      (gpointer *) & frames);
  read_dataset (file, "n_instances", H5T_NATIVE_INT32, n, 4,
      (gpointer *) & n_inst);
  read_dataset (file, "keypoints", H5T_NATIVE_FLOAT, n * ni * nk * 4, 4,
      (gpointer *) & kps);
  read_dataset (file, "images", H5T_NATIVE_UINT8, n * 384 * 384 * 3, 1,
      (gpointer *) & images);
  for (r = 0; r < n; r++) {
    const OpLabelsFrame *lf = op_labels_lookup (labels, 0,
        g_array_index (want, guint64, r));
    OpAnnotation ann;

    fail_unless (lf != NULL);
    op_labels_get_annotation (labels, lf, &ann);
    fail_unless_equals_int (frames[r], g_array_index (want, guint64, r));
    fail_unless_equals_int (n_inst[r], op_annotation_n_instances (&ann));
    fail_unless_equals_int (nk, ann.skeleton->n_nodes);
    for (j = 0; j < (guint) n_inst[r]; j++) {
      const OpInstance *inst = op_annotation_get_instance (&ann, j);
      for (k = 0; k < nk; k++) {
        const gfloat *v = kps + ((r * ni + j) * nk + k) * 4;
        if (isnan (inst->keypoints[k].x))
          fail_unless (isnan (v[0]));
        else
          fail_unless (v[0] == (gfloat) inst->keypoints[k].x
              && v[1] == (gfloat) inst->keypoints[k].y,
              "%s row %u instance %u node %u: %f,%f != %f,%f", p->out, r, j, k,
              v[0], v[1], inst->keypoints[k].x, inst->keypoints[k].y);
      }
    }
    /* one assertion per image: check marks every assertion it passes */
    for (x = 0; x < 384 * 384; x++)
      if (memcmp (images + ((gsize) r * 384 * 384 + x) * 3, p->rgb, 3) != 0)
        break;
    fail_unless (x == 384 * 384, "%s row %u pixel %u is not this "
        "pipeline's colour", p->out, r, x);
    op_annotation_clear (&ann);
  }
  H5Fclose (file);
  g_free (frames);
  g_free (n_inst);
  g_free (kps);
  g_free (images);
  g_array_unref (want);
  op_labels_free (labels);
}

/* Eight pipelines in one process read .slp files and write HDF5 at the
 * same time (the readers and the writer share libhdf5's global state
 * through one lock); every file holds exactly its own frames, labels and
 * pixels, and the application's HDF5 error handler is untouched. */
GST_START_TEST (test_hdf5_parallel_pipelines)
{
  const gchar *root = g_getenv ("ONEPASS_SHARED_DATA");
  Pipe pipes[N_PIPES];
  GThread *threads[N_PIPES];
  H5E_auto2_t func_before, func;
  void *data_before, *data;
  guint i;

  H5Eget_auto2 (H5E_DEFAULT, &func_before, &data_before);
  for (i = 0; i < N_PIPES; i++) {
    gchar *name = g_strdup_printf ("out%u.h5", i);

    pipes[i].i = i;
    pipes[i].labels = g_build_filename (root ? root : "../shared/data",
        "sleap", parallel_labels[i % G_N_ELEMENTS (parallel_labels)], NULL);
    pipes[i].out = path_in ("par", name);
    pipes[i].rgb[0] = 10 + 30 * i;
    pipes[i].rgb[1] = 200 - 20 * i;
    pipes[i].rgb[2] = 7 * i + 1;
    pipes[i].error = NULL;
    pipes[i].handler_calls = 0;
    pipes[i].handler_kept = FALSE;
    g_free (name);
  }
  for (i = 0; i < N_PIPES; i++)
    threads[i] = g_thread_new ("pipe", run_pipe, &pipes[i]);
  for (i = 0; i < N_PIPES; i++)
    g_thread_join (threads[i]);
  for (i = 0; i < N_PIPES; i++) {
    fail_unless (pipes[i].error == NULL, "pipeline %u: %s", i,
        pipes[i].error->message);
    fail_unless (pipes[i].handler_kept, "pipeline %u: libhdf5's error "
        "handler was replaced", i);
    fail_unless_equals_int (pipes[i].handler_calls, 0);
    check_pipe_output (&pipes[i]);
    g_free (pipes[i].labels);
    g_free (pipes[i].out);
  }
  H5Eget_auto2 (H5E_DEFAULT, &func, &data);
  fail_unless (func == func_before && data == data_before);
}

GST_END_TEST;

GST_START_TEST (test_dir_layout)
{
  gchar *out = path_in ("dir", NULL), *desc, *p;
  Run *r;
  GstBuffer *b;

  desc = g_strdup_printf ("batchsink format=dir location=%s", out);
  r = run_start ("image/jpeg", desc);
  run_push (r, crop_buffer (0, 7, 0, 0, 100));
  run_push (r, crop_buffer (1, 7, 1, 1, 101));
  b = crop_buffer (2, 8, 0, -1, 102);
  run_push (r, b);
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  p = g_build_filename (out, "data/track_0/clip_000007_00.jpg", NULL);
  fail_unless (file_has_bytes (p, 0, 100), "%s", p);
  g_free (p);
  p = g_build_filename (out, "data/track_1/clip_000007_01.jpg", NULL);
  fail_unless (file_has_bytes (p, 1, 101), "%s", p);
  g_free (p);
  p = g_build_filename (out, "data/untracked/clip_000008_00.json", NULL);
  check_crop_json (p, 2, 8, 0, -1);
  g_free (p);
  p = g_build_filename (out, "clip.manifest.json", NULL);
  fail_unless (g_file_test (p, G_FILE_TEST_EXISTS));
  g_free (p);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

static void
expect_start_error (const gchar * desc, GQuark domain, gint code,
    const gchar * in_message)
{
  Run *r = run_start ("image/jpeg", desc);

  fail_if (r->started, "%s started", desc);
  run_finish (r);
  fail_unless (r->error != NULL, "%s: no error", desc);
  fail_unless (g_error_matches (r->error, domain, code), "%s: %s", desc,
      r->error->message);
  fail_unless (strstr (r->error->message, in_message) != NULL,
      "'%s' not in '%s'", in_message, r->error->message);
  run_free (r);
}

GST_START_TEST (test_bad_split_refused)
{
  const gchar *bad[] = { "train=0.8,val=0.1", "train=0.9,tr ain=0.1",
    "train=1.0,val=0", "train=0.5,train=0.5", "train", "a/b=1",
    "train=0.9x,val=0.1"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *desc = g_strdup_printf ("batchsink location=%s/x split=\"%s\"",
        tmp, bad[i]);
    expect_start_error (desc, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, "Invalid split");
    g_free (desc);
  }
}

GST_END_TEST;

GST_START_TEST (test_unwritable_location)
{
  gchar *file = path_in ("plain-file", NULL), *desc;
  const gchar *formats[] = { "tar", "dir", "jsonl", "hdf5" };
  guint i;

  fail_unless (g_file_set_contents (file, "x", 1, NULL));
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    desc = g_strdup_printf ("batchsink format=%s location=%s/sub/out",
        formats[i], file);
    expect_start_error (desc, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_WRITE, file);
    g_free (desc);
  }
  g_free (file);
}

GST_END_TEST;

GST_START_TEST (test_caps_refused)
{
  struct
  {
    const gchar *caps, *format, *text;
    gint code;
  } cases[] = {
    {"video/x-raw,format=I420,width=8,height=8", "tar", "packed",
        GST_STREAM_ERROR_FORMAT},
    {"image/jpeg", "hdf5", "cannot store image/jpeg samples (it takes "
          "packed video/x-raw)", GST_STREAM_ERROR_WRONG_TYPE},
    {"audio/x-raw", "tar", "cannot store audio/x-raw samples (it takes "
          "image/jpeg, image/png or packed video/x-raw)",
        GST_STREAM_ERROR_WRONG_TYPE},
    {"video/x-raw,format=NV12,width=8,height=8", "hdf5", "packed",
        GST_STREAM_ERROR_FORMAT},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *desc = g_strdup_printf ("batchsink format=%s location=%s/c%u",
        cases[i].format, tmp, i);
    Run *r = run_start (cases[i].caps, desc);

    run_push (r, crop_buffer (0, 0, 0, 0, 64));
    run_finish (r);
    fail_unless (r->error != NULL);
    fail_unless (g_error_matches (r->error, GST_STREAM_ERROR, cases[i].code),
        "%s", r->error->message);
    fail_unless (strstr (r->error->message, cases[i].text) != NULL, "%s",
        r->error->message);
    run_free (r);
    g_free (desc);
  }
}

GST_END_TEST;

/* Checks that every shard in the manifest is a valid tar with the listed
 * sample count and that no .partial is left. Returns the shard count. */
static guint
check_complete_shards (const gchar * out)
{
  JsonParser *parser;
  JsonObject *m = read_manifest (out, &parser);
  JsonArray *shards = json_object_get_array_member (m, "shards");
  guint i, n = json_array_get_length (shards);
  GDir *d;
  const gchar *name;

  for (i = 0; i < n; i++) {
    JsonObject *s = json_array_get_object_element (shards, i);
    gchar *cmd = g_strdup_printf ("tar -tf %s/%s", out,
        json_object_get_string_member (s, "name"));
    gint st, lines = 0;
    gchar *listing = run_cmd (cmd, &st);

    fail_unless (g_spawn_check_wait_status (st, NULL), "%s", cmd);
    for (gchar * p = listing; *p; p++)
      lines += *p == '\n';
    fail_unless_equals_int (lines,
        2 * json_object_get_int_member (s, "samples"));
    g_free (listing);
    g_free (cmd);
  }
  d = g_dir_open (out, 0, NULL);
  while ((name = g_dir_read_name (d)))
    fail_if (g_str_has_suffix (name, ".partial"), "%s left", name);
  g_dir_close (d);
  g_object_unref (parser);
  return n;
}

GST_START_TEST (test_enospc_injected)
{
  gchar *out = path_in ("full", NULL), *desc;
  Run *r;
  guint i, shards;

  /* a sample is two 512-byte headers + 1024 (payload) + 512 or 1024
   * (JSON); a shard of 4 is 11264 or 13312 bytes with its trailer, a
   * manifest about 300: two shards fit in 30000 either way, three do not */
  g_setenv ("ONEPASS_BATCHSINK_FAULT", "enospc-after-bytes:30000", TRUE);
  desc = g_strdup_printf ("batchsink location=%s max-shard-samples=4 "
      "batch-size=1", out);
  r = run_start ("image/jpeg", desc);
  for (i = 0; i < 20; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 1000));
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (g_error_matches (r->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", r->error->message);
  fail_unless (strstr (r->error->message, out) != NULL, "%s",
      r->error->message);
  shards = check_complete_shards (out);
  fail_unless_equals_int (shards, 2);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

GST_START_TEST (test_enospc_real_tmpfs)
{
  gchar *mnt = path_in ("mnt", NULL), *cmd, *desc;
  gint st;
  gchar *msg;
  Run *r;
  guint i;

  g_mkdir (mnt, 0755);
  cmd = g_strdup_printf ("mount -t tmpfs -o size=1m tmpfs %s", mnt);
  msg = run_cmd (cmd, &st);
  g_free (cmd);
  g_free (msg);
  if (!g_spawn_check_wait_status (st, NULL)) {
    GST_INFO ("mounting a tmpfs is not permitted here: skipped");
    g_free (mnt);
    return;
  }
  desc = g_strdup_printf ("batchsink location=%s/out max-shard-samples=3", mnt);
  r = run_start ("image/jpeg", desc);
  /* 3 x 100 KB per shard: the fourth shard cannot fit in 1 MiB */
  for (i = 0; i < 40; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 100000));
  run_finish (r);
  fail_unless (r->error != NULL);
  fail_unless (g_error_matches (r->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", r->error->message);
  fail_unless (strstr (r->error->message, mnt) != NULL, "%s",
      r->error->message);
  cmd = g_strdup_printf ("%s/out", mnt);
  fail_unless (check_complete_shards (cmd) >= 1);
  g_free (cmd);
  run_free (r);
  cmd = g_strdup_printf ("umount %s", mnt);
  check_cmd (cmd);
  g_free (cmd);
  g_free (desc);
  g_free (mnt);
}

GST_END_TEST;

GST_START_TEST (test_small_queue_backpressure)
{
  gchar *out = path_in ("bp", NULL), *desc;
  Run *r;
  guint i;
  guint64 v;

  /* one sample (1000 payload + 1024 accounted) nearly fills the queue, so
   * the streaming thread waits at every push and the writer must write
   * short batches instead of waiting for 100 samples */
  desc = g_strdup_printf ("batchsink location=%s max-pending-bytes=3000 "
      "batch-size=100", out);
  r = run_start ("image/jpeg", desc);
  for (i = 0; i < 50; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 1000));
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless (g_list_length (r->progress) > 2);
  fail_unless (gst_structure_get_uint64 (last_progress (r), "samples", &v));
  fail_unless_equals_uint64 (v, 50);
  fail_unless_equals_int (check_complete_shards (out), 1);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

static gpointer
set_null (gpointer pipe)
{
  return GINT_TO_POINTER (gst_element_set_state (pipe, GST_STATE_NULL));
}

/* The writer thread is stuck writing into a FIFO nobody reads (a disk that
 * hangs); the streaming thread fills the queue and waits. FLUSH_START must
 * wake it (basesink takes the preroll lock after unlock(), so a wait that
 * ignored unlock would hang here), and shutting down must still work. */
GST_START_TEST (test_unlock_wakes_full_queue)
{
  gchar *out = path_in ("fifo", NULL), *fifo, *desc;
  gchar buf[65536];
  Run *r;
  guint i, level = 0;
  gint fd, flags;
  GThread *t;

  g_mkdir (out, 0755);
  fifo = g_build_filename (out, "data-clip-000000.tar.partial", NULL);
  fail_unless (mkfifo (fifo, 0644) == 0);
  /* a reader that never reads: the writer's open succeeds, its writes
   * stop once the 64 KiB pipe buffer is full */
  fd = open (fifo, O_RDONLY | O_NONBLOCK);
  fail_unless (fd >= 0);
  desc = g_strdup_printf ("batchsink location=%s batch-size=1 "
      "max-pending-bytes=250000", out);
  r = run_start ("image/jpeg", desc);
  g_object_set (r->src, "block", FALSE, NULL);
  for (i = 0; i < 10; i++)
    run_push (r, crop_buffer (i, i, 0, 0, 100000));
  /* the writer buffers two samples and is stuck writing at the third,
   * which still counts as pending with the fourth (queued); render waits
   * with the fifth: 5 stay in appsrc */
  for (i = 0; i < 3000 && level != 5; i++) {
    g_usleep (10000);
    g_object_get (r->src, "current-level-buffers", &level, NULL);
  }
  fail_unless_equals_int (level, 5);
  fail_unless (gst_element_send_event (r->pipe, gst_event_new_flush_start ()));
  fail_unless (gst_element_send_event (r->pipe,
          gst_event_new_flush_stop (TRUE)));
  /* shut down while draining the FIFO so the stuck write can finish */
  t = g_thread_new ("set-null", set_null, r->pipe);
  flags = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, flags & ~O_NONBLOCK);
  while (read (fd, buf, sizeof (buf)) > 0);
  close (fd);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)),
      GST_STATE_CHANGE_SUCCESS);
  /* stopped before EOS: the .partial (here the FIFO) is removed */
  fail_if (g_file_test (fifo, G_FILE_TEST_EXISTS));
  run_free (r);
  g_free (desc);
  g_free (fifo);
  g_free (out);
}

GST_END_TEST;

GST_START_TEST (test_unannotated_buffers)
{
  gchar *out = path_in ("plain", NULL), *desc, *p;
  Run *r;
  guint i;

  desc = g_strdup_printf ("batchsink location=%s format=dir", out);
  r = run_start ("image/png", desc);
  for (i = 0; i < 3; i++) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, 5, NULL);
    gst_buffer_memset (b, 0, i, 5);
    GST_BUFFER_PTS (b) = i * GST_SECOND;
    run_push (r, b);
  }
  run_finish (r);
  fail_unless (r->error == NULL, "%s", r->error ? r->error->message : "");
  fail_unless_equals_int (r->warnings, 1);
  p = g_build_filename (out, "data/untracked/unlabeled_000002_00.json", NULL);
  fail_unless (g_file_test (p, G_FILE_TEST_EXISTS), "%s", p);
  g_free (p);
  run_free (r);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

static Suite *
batchsink_suite (void)
{
  Suite *s = suite_create ("batchsink");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_tar_shards_roundtrip);
  tcase_add_test (tc, test_tar_names_sanitized);
  tcase_add_test (tc, test_key_collision_refused);
  tcase_add_test (tc, test_sources_not_interned);
  tcase_add_test (tc, test_uri_location_refused);
  tcase_add_test (tc, test_tar_raw_declared);
  tcase_add_test (tc, test_raw_size_mismatch_refused);
  tcase_add_test (tc, test_split_fractions_reported);
  tcase_add_test (tc, test_dataset_skeleton_conflict);
  tcase_add_test (tc, test_resume_other_input_refused);
  tcase_add_test (tc, test_split_by_track_fixed);
  tcase_add_test (tc, test_split_by_sample_fractions);
  tcase_add_test (tc, test_jsonl_gzip_frames);
  tcase_add_test (tc, test_jsonl_rotate_samples);
  tcase_add_test (tc, test_jsonl_rotate_bytes);
  tcase_add_test (tc, test_hdf5_values);
  tcase_add_test (tc, test_hdf5_error_handler_kept);
  tcase_add_test (tc, test_hdf5_parallel_pipelines);
  tcase_add_test (tc, test_shard_closed_messages);
  tcase_add_test (tc, test_dir_layout);
  tcase_add_test (tc, test_bad_split_refused);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_caps_refused);
  tcase_add_test (tc, test_enospc_injected);
  tcase_add_test (tc, test_enospc_real_tmpfs);
  tcase_add_test (tc, test_small_queue_backpressure);
  tcase_add_test (tc, test_unlock_wakes_full_queue);
  tcase_add_test (tc, test_unannotated_buffers);
  return s;
}

GST_CHECK_MAIN (batchsink);
