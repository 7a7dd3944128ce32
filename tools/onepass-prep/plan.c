/* onepass-prep: which videos this task runs, whether they are already
 * done, and the one pipeline per video.
 *
 * The share of task I of N is every video whose index in the inputs,
 * sorted by source name, is I modulo N: deterministic whatever order the
 * inputs were given in, and balanced. A video is complete when its run's
 * manifest in OUT says `complete` (batchsink writes that only at EOS);
 * an incomplete one is resumed by batchsink itself (tar, jsonl: after its
 * complete shards) or, for hdf5, whose files are complete only at EOS,
 * started again (`overwrite=true` on every hdf5 run not yet complete: a
 * kill between the file's rename and its manifest leaves a complete file
 * that no manifest lists).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <string.h>
#include <json-glib/json-glib.h>

static gint
compare_source (gconstpointer a, gconstpointer b)
{
  const PrepVideo *x = *(PrepVideo * const *) a;
  const PrepVideo *y = *(PrepVideo * const *) b;

  return strcmp (x->source, y->source);
}

/* Returns: (transfer container): this task's videos, sorted by source. */
GPtrArray *
prep_plan_share (GPtrArray * videos, guint task_i, guint task_n)
{
  GPtrArray *share = g_ptr_array_new ();
  guint i;

  g_ptr_array_sort (videos, compare_source);
  for (i = 0; i < videos->len; i++)
    if (task_n <= 1 || i % task_n == task_i)
      g_ptr_array_add (share, videos->pdata[i]);
  return share;
}

/* The file batchsink writes for this video (tar/dir: the directory). */
static gchar *
location_of (const PrepOptions * opt, const PrepVideo * v)
{
  gchar *name, *path;

  if (!strcmp (opt->format, "tar") || !strcmp (opt->format, "dir"))
    return g_strdup (opt->out);
  name = g_strconcat (v->source, !strcmp (opt->format, "hdf5") ? ".h5" :
      ".jsonl.gz", NULL);
  path = g_build_filename (opt->out, name, NULL);
  g_free (name);
  return path;
}

/* The run's manifest, as batchsink names it (docs/batchsink.md, "Runs"). */
gchar *
prep_plan_manifest (const PrepOptions * opt, const PrepVideo * v)
{
  gchar *loc = location_of (opt, v), *base, *name, *path;

  if (!strcmp (opt->format, "tar") || !strcmp (opt->format, "dir"))
    base = g_strdup (v->source);
  else
    base = g_path_get_basename (loc);
  name = g_strconcat (base, ".manifest.json", NULL);
  path = g_build_filename (opt->out, name, NULL);
  g_free (name);
  g_free (base);
  g_free (loc);
  return path;
}

void
prep_plan_status (const PrepOptions * opt, PrepVideo * v)
{
  gchar *manifest = prep_plan_manifest (opt, v);
  JsonParser *parser = json_parser_new ();

  v->complete = v->resume = FALSE;
  if (json_parser_load_from_file (parser, manifest, NULL)) {
    JsonNode *root = json_parser_get_root (parser);

    if (root && JSON_NODE_HOLDS_OBJECT (root)
        && json_object_get_boolean_member_with_default (json_node_get_object
            (root), "complete", FALSE))
      v->complete = TRUE;
    else
      v->resume = TRUE;
  }
  g_object_unref (parser);
  g_free (manifest);
}

/* ------------------------------------------------------------ pipeline */

typedef struct
{
  const gchar *factory;         /* "capsfilter": printed as its caps */
  const gchar *name;
  GPtrArray *props;             /* "prop=value", applied in order */
} Stage;

static void
stage_free (gpointer data)
{
  Stage *s = data;

  g_ptr_array_unref (s->props);
  g_free (s);
}

static Stage *
add_stage (GPtrArray * stages, const gchar * factory, const gchar * name)
{
  Stage *s = g_new0 (Stage, 1);

  s->factory = factory;
  s->name = name;
  s->props = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (stages, s);
  return s;
}

#define PROP(stage, ...) g_ptr_array_add ((stage)->props, \
    g_strdup_printf (__VA_ARGS__))

static GPtrArray *
build_stages (const PrepOptions * opt, const PrepVideo * v, GError ** error)
{
  GPtrArray *st = g_ptr_array_new_with_free_func (stage_free);
  gboolean images = strcmp (opt->format, "jsonl") != 0;
  gboolean encode = !strcmp (opt->format, "tar") || !strcmp (opt->format,
      "dir");
  gchar *loc = location_of (opt, v);
  Stage *s;
  guint i, j;

  s = add_stage (st, "filesrc", "filesrc");
  PROP (s, "location=%s", v->video);
  add_stage (st, "decodebin", "decodebin");
  s = add_stage (st, "annotfilter", "annotfilter");
  PROP (s, "location=%s", v->labels);
  PROP (s, "source=%s", v->source);
  if (opt->instances)
    PROP (s, "instances=%s", opt->instances);
  if (opt->node_map)
    PROP (s, "node-map=%s", opt->node_map);
  if (opt->crop_w) {
    s = add_stage (st, "cropextract", "cropextract");
    PROP (s, "width=%u", opt->crop_w);
    PROP (s, "height=%u", opt->crop_h);
  }
  if (images) {
    add_stage (st, "videoconvert", "videoconvert");
    /* RGB before jpegenc: docs/architecture.md, the JPEG colour range */
    s = add_stage (st, "capsfilter", "rgb");
    PROP (s, "caps=video/x-raw,format=RGB");
  }
  if (encode)
    add_stage (st, "jpegenc", "jpegenc");
  s = add_stage (st, "batchsink", "batchsink");
  PROP (s, "format=%s", opt->format);
  PROP (s, "location=%s", loc);
  /* no shard-prefix: the run is named by its first sample's source, which
   * is v->source (annotfilter source=) */
  if (opt->split)
    PROP (s, "split=%s", opt->split);
  if (opt->split_by)
    PROP (s, "split-by=%s", opt->split_by);
  if (opt->attributes)
    PROP (s, "attributes=%s", opt->attributes);
  if (opt->queue_bytes)
    PROP (s, "max-pending-bytes=%" G_GUINT64_FORMAT, opt->queue_bytes);
  /* an hdf5 run without a complete manifest never finished (killed
   * between renaming its file and listing it, at worst): write it again */
  if (!v->complete && !strcmp (opt->format, "hdf5"))
    PROP (s, "overwrite=true");
  g_free (loc);

  for (i = 0; opt->sets && opt->sets[i]; i++) {
    const gchar *dot = strchr (opt->sets[i], '.');
    gboolean found = FALSE;

    for (j = 0; dot && strchr (dot, '=') && j < st->len; j++) {
      s = st->pdata[j];
      if (strlen (s->name) == (gsize) (dot - opt->sets[i])
          && !strncmp (s->name, opt->sets[i], dot - opt->sets[i])) {
        PROP (s, "%s", dot + 1);
        found = TRUE;
      }
    }
    if (!found) {
      GString *names = g_string_new (NULL);
      for (j = 0; j < st->len; j++)
        g_string_append_printf (names, "%s%s", j ? ", " : "",
            ((Stage *) st->pdata[j])->name);
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "--set %s: expected element.property=value with element one of "
          "this pipeline's: %s", opt->sets[i], names->str);
      g_string_free (names, TRUE);
      g_ptr_array_unref (st);
      return NULL;
    }
  }
  return st;
}

/* The pipeline as a gst-launch-1.0 line a user can paste (--dry-run). */
gchar *
prep_plan_describe (const PrepOptions * opt, const PrepVideo * v)
{
  GPtrArray *st = build_stages (opt, v, NULL);
  GString *out = g_string_new ("gst-launch-1.0");
  guint i, j;

  for (i = 0; st && i < st->len; i++) {
    Stage *s = st->pdata[i];

    g_string_append (out, i ? " !" : "");
    if (!strcmp (s->factory, "capsfilter")) {
      g_string_append_printf (out, " %s", strchr (s->props->pdata[0], '=') + 1);
      continue;
    }
    g_string_append_printf (out, " %s", s->factory);
    for (j = 0; j < s->props->len; j++) {
      gchar *q = g_shell_quote (s->props->pdata[j]);
      g_string_append_printf (out, " %s", q);
      g_free (q);
    }
  }
  if (st)
    g_ptr_array_unref (st);
  return g_string_free (out, FALSE);
}

/* Properties are set on the elements, not parsed from a string, so paths
 * with spaces or quotes need no escaping. */
static gboolean
apply_props (GstElement * pipeline, Stage * s, GError ** error)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), s->name);
  guint j;

  for (j = 0; e && j < s->props->len; j++) {
    const gchar *kv = s->props->pdata[j], *eq = strchr (kv, '=');
    gchar *prop = g_strndup (kv, eq - kv);

    if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "%s has no property \"%s\" (gst-inspect-1.0 %s)", s->name, prop,
          s->factory);
      g_free (prop);
      gst_object_unref (e);
      return FALSE;
    }
    gst_util_set_object_arg (G_OBJECT (e), prop, eq + 1);
    g_free (prop);
  }
  if (e)
    gst_object_unref (e);
  return TRUE;
}

GstElement *
prep_plan_pipeline (const PrepOptions * opt, const PrepVideo * v,
    GError ** error)
{
  GPtrArray *st = build_stages (opt, v, error);
  GString *desc;
  GstElement *pipeline;
  GError *err = NULL;
  guint i;

  if (!st)
    return NULL;
  desc = g_string_new (NULL);
  for (i = 0; i < st->len; i++) {
    Stage *s = st->pdata[i];
    g_string_append_printf (desc, "%s%s name=%s", i ? " ! " : "", s->factory,
        s->name);
  }
  pipeline = gst_parse_launch (desc->str, &err);
  g_string_free (desc, TRUE);
  if (err) {
    /* a missing plugin: even a "recoverable" parse error is fatal here */
    g_clear_pointer (&pipeline, gst_object_unref);
    g_propagate_error (error, err);
  }
  for (i = 0; pipeline && i < st->len; i++)
    if (!apply_props (pipeline, st->pdata[i], error))
      g_clear_pointer (&pipeline, gst_object_unref);
  g_ptr_array_unref (st);
  return pipeline;
}
