/* batchsink: runs in a shared output directory, and its dataset.json.
 *
 * Several pipelines (videos, job-array tasks) may write into one
 * directory at once. Each is a *run* with a name (tar and dir: the
 * `shard-prefix` property, else the sanitized source of the first sample;
 * jsonl and hdf5: the location's base name). A run
 * - holds an exclusive flock on `.<name>.lock` while it writes (a second
 *   pipeline with the same name fails at once instead of mixing shards;
 *   the kernel drops the lock when a process dies, even by kill -9);
 * - names every file after itself, so runs never share a file;
 * - keeps its own manifest `<name>.manifest.json`. A complete manifest
 *   means the run is done: a rerun fails unless `overwrite=true`. An
 *   incomplete one (an interrupted run) is resumed: its listed shards
 *   stay, and the same input skips the samples they hold.
 * `dataset.json` is the index of the whole directory: it is rebuilt from
 * every `*.manifest.json` under an exclusive flock on `.dataset.json.lock`
 * after each manifest change, and replaced atomically, so concurrent runs
 * never lose each other's entries. Runs with different skeletons give
 * `skeleton` null and `skeleton_conflict` (two manifests), not an error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dataset.h"
#include "batchfile.h"
#include "attributes.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

struct _OpRun
{
  gint lock_fd;
  gchar *manifest;
  GArray *resumed;              /* OpRunShard */
};

static void
run_shard_clear (gpointer data)
{
  OpRunShard *r = data;

  g_free (r->name);
  g_free (r->split);
  g_free (r->last_key);
  g_strfreev (r->sources);
}

static gint
lock_file (const gchar * path, gboolean wait, GError ** error)
{
  gint fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

  if (fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "Could not open \"%s\": %s", path, g_strerror (errno));
    return -1;
  }
  while (flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR)
      continue;
    if (errno == EWOULDBLOCK)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
          "Another pipeline is writing the run locked by \"%s\"; give "
          "each pipeline its own shard-prefix (or location)", path);
    else
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "Could not lock \"%s\": %s", path, g_strerror (errno));
    close (fd);
    return -1;
  }
  return fd;
}

static JsonObject *
load_object (const gchar * path, JsonParser ** parser, GError ** error)
{
  JsonNode *root;

  *parser = json_parser_new ();
  if (!json_parser_load_from_file (*parser, path, error))
    return NULL;
  root = json_parser_get_root (*parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" is not a JSON object", path);
    return NULL;
  }
  return json_node_get_object (root);
}

/* The shards an interrupted run listed, checked on disk. */
static gboolean
read_resumed (OpRun * run, const gchar * dir, JsonObject * m, GError ** error)
{
  JsonArray *shards = json_object_has_member (m, "shards") ?
      json_object_get_array_member (m, "shards") : NULL;
  guint i;

  for (i = 0; shards && i < json_array_get_length (shards); i++) {
    JsonObject *o = json_array_get_object_element (shards, i);
    OpRunShard r = { 0 };
    gchar *path;
    GStatBuf sb;

    r.name = g_strdup (json_object_get_string_member (o, "name"));
    r.split = g_strdup (json_object_get_string_member (o, "split"));
    r.samples = json_object_get_int_member (o, "samples");
    r.bytes = json_object_get_int_member (o, "bytes");
    r.last_key = g_strdup (json_object_get_string_member_with_default (o,
            "last_key", NULL));
    if (json_object_has_member (o, "sources")) {
      JsonArray *a = json_object_get_array_member (o, "sources");
      guint j, n = a ? json_array_get_length (a) : 0;

      r.sources = g_new0 (gchar *, n + 1);
      for (j = 0; j < n; j++)
        r.sources[j] = g_strdup (json_array_get_string_element (a, j));
    }
    g_array_append_val (run->resumed, r);
    path = g_build_filename (dir, r.name, NULL);
    if (g_stat (path, &sb) != 0 || (guint64) sb.st_size != r.bytes) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "Cannot resume the interrupted run of \"%s\": its shard \"%s\" is "
          "missing or has another size; set overwrite=true to start it "
          "again", run->manifest, path);
      g_free (path);
      return FALSE;
    }
    g_free (path);
  }
  return TRUE;
}

/**
 * op_run_claim:
 * @overwrite: replace a complete run of the same name instead of failing
 *
 * Locks run @name in @dir and reads what an earlier run of that name left.
 */
OpRun *
op_run_claim (const gchar * dir, const gchar * name, gboolean overwrite,
    GError ** error)
{
  OpRun *run = g_new0 (OpRun, 1);
  gchar *base = g_strdup_printf (".%s.lock", name), *lock;
  JsonParser *parser = NULL;
  JsonObject *m;
  GError *err = NULL;

  run->resumed = g_array_new (FALSE, TRUE, sizeof (OpRunShard));
  g_array_set_clear_func (run->resumed, run_shard_clear);
  lock = g_build_filename (dir, base, NULL);
  g_free (base);
  run->lock_fd = lock_file (lock, FALSE, error);
  g_free (lock);
  base = g_strdup_printf ("%s.manifest.json", name);
  run->manifest = g_build_filename (dir, base, NULL);
  g_free (base);
  if (run->lock_fd < 0)
    goto fail;
  if (!g_file_test (run->manifest, G_FILE_TEST_EXISTS))
    return run;
  m = load_object (run->manifest, &parser, &err);
  if (!m) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Cannot read the manifest \"%s\" of an earlier run: %s",
        run->manifest, err->message);
    g_clear_error (&err);
    goto fail;
  }
  if (overwrite) {
    /* start again: the earlier run's files are replaced one by one */
  } else if (json_object_get_boolean_member_with_default (m, "complete", FALSE)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "\"%s\" already holds the complete run \"%s\" (%s); set "
        "overwrite=true to replace it, or shard-prefix to add another run",
        dir, name, run->manifest);
    goto fail;
  } else if (!read_resumed (run, dir, m, error)) {
    goto fail;
  }
  g_object_unref (parser);
  return run;

fail:
  g_clear_object (&parser);
  op_run_release (run);
  return NULL;
}

const gchar *
op_run_manifest_path (OpRun * run)
{
  return run->manifest;
}

/* Shards of the interrupted run to keep (OpRunShard), in manifest order. */
GArray *
op_run_resumed (OpRun * run)
{
  return run->resumed;
}

void
op_run_release (OpRun * run)
{
  if (!run)
    return;
  if (run->lock_fd >= 0)
    close (run->lock_fd);
  g_array_unref (run->resumed);
  g_free (run->manifest);
  g_free (run);
}

/* ------------------------------------------------------------ dataset.json */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Runs with different skeletons do not make one dataset: dataset.json
 * then says so (`skeleton` null, `skeleton_conflict` naming two manifests)
 * rather than failing a run because of an unrelated file that shares its
 * directory (a jsonl next to others in /tmp). */
static void
merge_manifest (JsonObject * m, const gchar * file, JsonBuilder * runs,
    JsonBuilder * shards, GHashTable * sources, GPtrArray * source_order,
    gchar ** skeleton, gchar ** skeleton_from, gchar ** conflict)
{
  JsonArray *a;
  guint i;
  const gchar *fmt = json_object_get_string_member_with_default (m, "format",
      "");
  JsonNode *sk = json_object_get_member (m, "skeleton");

  json_builder_begin_object (runs);
  json_builder_set_member_name (runs, "manifest");
  json_builder_add_string_value (runs, file);
  json_builder_set_member_name (runs, "format");
  json_builder_add_string_value (runs, fmt);
  json_builder_set_member_name (runs, "complete");
  json_builder_add_boolean_value (runs,
      json_object_get_boolean_member_with_default (m, "complete", FALSE));
  json_builder_set_member_name (runs, "samples");
  json_builder_add_int_value (runs,
      json_object_get_int_member_with_default (m, "samples", 0));
  json_builder_end_object (runs);

  if (sk && JSON_NODE_HOLDS_OBJECT (sk)) {
    gchar *s = json_to_string (sk, FALSE);
    if (!*skeleton) {
      *skeleton = s;
      *skeleton_from = g_strdup (file);
    } else if (strcmp (s, *skeleton) != 0 && !*conflict) {
      *conflict = g_strdup (file);
      g_free (s);
    } else {
      g_free (s);
    }
  }
  a = json_object_has_member (m, "sources") ?
      json_object_get_array_member (m, "sources") : NULL;
  for (i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *o = json_array_get_object_element (a, i);
    const gchar *name = json_object_get_string_member (o, "name");
    if (name && !g_hash_table_contains (sources, name)) {
      JsonNode *attrs = op_attributes_row_from_manifest (m, name);

      /* batchsink attributes=FILE: the source's row goes with it */
      if (attrs)
        json_object_set_member (o, "attributes", attrs);
      g_hash_table_insert (sources, g_strdup (name), json_object_ref (o));
      g_ptr_array_add (source_order, g_strdup (name));
    }
  }
  a = json_object_has_member (m, "shards") ?
      json_object_get_array_member (m, "shards") : NULL;
  for (i = 0; a && i < json_array_get_length (a); i++) {
    JsonObject *o = json_array_get_object_element (a, i);
    JsonNode *srcs = json_object_get_member (o, "sources");

    json_builder_begin_object (shards);
    json_builder_set_member_name (shards, "path");
    json_builder_add_string_value (shards,
        json_object_get_string_member (o, "name"));
    json_builder_set_member_name (shards, "format");
    json_builder_add_string_value (shards, fmt);
    json_builder_set_member_name (shards, "split");
    json_builder_add_string_value (shards,
        json_object_get_string_member (o, "split"));
    json_builder_set_member_name (shards, "samples");
    json_builder_add_int_value (shards,
        json_object_get_int_member (o, "samples"));
    json_builder_set_member_name (shards, "bytes");
    json_builder_add_int_value (shards, json_object_get_int_member (o,
            "bytes"));
    json_builder_set_member_name (shards, "sources");
    if (srcs)
      json_builder_add_value (shards, json_node_copy (srcs));
    else
      json_builder_add_null_value (shards);
    json_builder_set_member_name (shards, "manifest");
    json_builder_add_string_value (shards, file);
    json_builder_end_object (shards);
  }
}

/**
 * op_dataset_update:
 *
 * Rebuilds `<dir>/dataset.json` from every `*.manifest.json` in @dir
 * (sorted by name, so the result does not depend on which run finished
 * first), under the directory's dataset lock.
 */
gboolean
op_dataset_update (const gchar * dir, GError ** error)
{
  gchar *lock = g_build_filename (dir, ".dataset.json.lock", NULL);
  gint fd = lock_file (lock, TRUE, error);
  GDir *d = NULL;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *order = g_ptr_array_new_with_free_func (g_free);
  GHashTable *sources = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) json_object_unref);
  JsonBuilder *runs = json_builder_new (), *shards = json_builder_new ();
  JsonBuilder *out = json_builder_new ();
  JsonGenerator *gen = NULL;
  JsonNode *root = NULL;
  gchar *skeleton = NULL, *skeleton_from = NULL, *conflict = NULL;
  gchar *text, *path;
  const gchar *name;
  gboolean ok = FALSE;
  guint i;

  g_free (lock);
  if (fd < 0)
    goto out;
  d = g_dir_open (dir, 0, error);
  if (!d)
    goto out;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".manifest.json") && name[0] != '.')
      g_ptr_array_add (files, g_strdup (name));
  g_ptr_array_sort (files, compare_names);
  json_builder_begin_array (runs);
  json_builder_begin_array (shards);
  for (i = 0; i < files->len; i++) {
    JsonParser *parser;
    GError *err = NULL;
    gchar *p = g_build_filename (dir, files->pdata[i], NULL);
    JsonObject *m = load_object (p, &parser, &err);

    g_free (p);
    if (!m) {
      /* another tool's file, or one being written by hand: skip it */
      g_clear_error (&err);
      g_object_unref (parser);
      continue;
    }
    merge_manifest (m, files->pdata[i], runs, shards, sources, order,
        &skeleton, &skeleton_from, &conflict);
    g_object_unref (parser);
  }
  json_builder_end_array (runs);
  json_builder_end_array (shards);

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "onepass_version");
  json_builder_add_string_value (out, VERSION);
  json_builder_set_member_name (out, "runs");
  json_builder_add_value (out, json_builder_get_root (runs));
  json_builder_set_member_name (out, "shards");
  json_builder_add_value (out, json_builder_get_root (shards));
  json_builder_set_member_name (out, "skeleton");
  if (skeleton && !conflict)
    json_builder_add_value (out, json_from_string (skeleton, NULL));
  else
    json_builder_add_null_value (out);
  if (conflict) {
    json_builder_set_member_name (out, "skeleton_conflict");
    json_builder_begin_array (out);
    json_builder_add_string_value (out, skeleton_from);
    json_builder_add_string_value (out, conflict);
    json_builder_end_array (out);
  }
  json_builder_set_member_name (out, "sources");
  json_builder_begin_array (out);
  for (i = 0; i < order->len; i++) {
    JsonNode *n = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (n, g_hash_table_lookup (sources, order->pdata[i]));
    json_builder_add_value (out, n);
  }
  json_builder_end_array (out);
  json_builder_end_object (out);

  root = json_builder_get_root (out);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  path = g_build_filename (dir, "dataset.json", NULL);
  ok = op_batch_file_replace (path, text, strlen (text), TRUE, error);
  g_free (path);
  g_free (text);

out:
  if (root)
    json_node_unref (root);
  g_clear_object (&gen);
  g_object_unref (out);
  g_object_unref (runs);
  g_object_unref (shards);
  g_hash_table_unref (sources);
  g_ptr_array_unref (order);
  g_ptr_array_unref (files);
  g_free (skeleton);
  g_free (skeleton_from);
  g_free (conflict);
  if (d)
    g_dir_close (d);
  if (fd >= 0)
    close (fd);
  return ok;
}
