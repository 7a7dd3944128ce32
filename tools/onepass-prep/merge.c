/* onepass-prep --merge: the one dataset.json of OUT, rebuilt from every
 * run's manifest by batchsink's own code (op_dataset_update, the static
 * opdataset library), then checked: runs with different skeletons do not
 * make one dataset, and that is an error naming them (map them with
 * --node-map). HDF5 runs are then presented as one file per split,
 * `OUT/dataset.h5` (`OUT/dataset.<split>.h5` with splits): virtual
 * datasets over the per-video files (op_h5_combine, ext/batchsink/h5vds.c),
 * in dataset.json's shard order. Nothing is copied: measured, combining
 * is a few milliseconds per input file whatever its size, a copy would
 * rewrite every image (docs/onepass-prep.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <dataset.h>
#include <h5vds.h>

/* "name (node, node, ...)" of a manifest's skeleton */
static gchar *
describe_skeleton (const gchar * out, const gchar * manifest)
{
  gchar *path = g_build_filename (out, manifest, NULL), *s = NULL;
  JsonParser *p = json_parser_new ();

  if (json_parser_load_from_file (p, path, NULL)) {
    JsonNode *root = json_parser_get_root (p);
    JsonObject *sk = NULL;

    if (root && JSON_NODE_HOLDS_OBJECT (root)
        && json_object_has_member (json_node_get_object (root), "skeleton"))
      sk = json_object_get_object_member (json_node_get_object (root),
          "skeleton");
    if (sk && json_object_has_member (sk, "nodes")) {
      JsonArray *nodes = json_object_get_array_member (sk, "nodes");
      GString *g = g_string_new (json_object_get_string_member_with_default
          (sk, "name", ""));
      guint i;

      g_string_append (g, " (");
      for (i = 0; i < json_array_get_length (nodes); i++)
        g_string_append_printf (g, "%s%s", i ? ", " : "",
            json_array_get_string_element (nodes, i));
      g_string_append_c (g, ')');
      s = g_string_free (g, FALSE);
    }
  }
  g_object_unref (p);
  g_free (path);
  return s ? s : g_strdup ("?");
}

/* The hdf5 shards of dataset.json, per split, combined into one file. */
static gboolean
combine_hdf5 (const gchar * out, JsonObject * root, GError ** error)
{
  JsonArray *shards = json_object_get_array_member (root, "shards");
  GHashTable *by_split = g_hash_table_new_full (g_str_hash, g_str_equal,
      NULL, (GDestroyNotify) g_ptr_array_unref);
  GPtrArray *splits = g_ptr_array_new ();
  gboolean ok = TRUE;
  guint i;

  for (i = 0; shards && i < json_array_get_length (shards); i++) {
    JsonObject *s = json_array_get_object_element (shards, i);
    const gchar *split = json_object_get_string_member (s, "split");
    GPtrArray *files;

    if (g_strcmp0 (json_object_get_string_member (s, "format"), "hdf5"))
      continue;
    files = g_hash_table_lookup (by_split, split);
    if (!files) {
      files = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (by_split, (gpointer) split, files);
      g_ptr_array_add (splits, (gpointer) split);
    }
    g_ptr_array_add (files, g_build_filename (out,
            json_object_get_string_member (s, "path"), NULL));
  }
  for (i = 0; ok && i < splits->len; i++) {
    GPtrArray *files = g_hash_table_lookup (by_split, splits->pdata[i]);
    /* batchsink names the split "data" without a split property */
    gchar *name = !strcmp (splits->pdata[i], "data") ?
        g_strdup ("dataset.h5") :
        g_strdup_printf ("dataset.%s.h5", (gchar *) splits->pdata[i]);
    gchar *path = g_build_filename (out, name, NULL);

    g_ptr_array_add (files, NULL);
    ok = op_h5_combine (path, (const gchar * const *) files->pdata, error);
    if (ok)
      printf ("%s: %u files as one (virtual datasets)\n", path, files->len - 1);
    g_free (path);
    g_free (name);
  }
  g_ptr_array_unref (splits);
  g_hash_table_unref (by_split);
  return ok;
}

gboolean
prep_merge (const gchar * out, GError ** error)
{
  gchar *path = g_build_filename (out, "dataset.json", NULL);
  JsonParser *p = json_parser_new ();
  JsonObject *root;
  gboolean ok = FALSE;

  if (!op_dataset_update (out, error))
    goto done;
  if (!json_parser_load_from_file (p, path, error))
    goto done;
  root = json_node_get_object (json_parser_get_root (p));
  if (json_object_has_member (root, "skeleton_conflict")) {
    JsonArray *c = json_object_get_array_member (root, "skeleton_conflict");
    const gchar *a = json_array_get_string_element (c, 0);
    const gchar *b = json_array_get_string_element (c, 1);
    gchar *sa = describe_skeleton (out, a), *sb = describe_skeleton (out, b);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: runs with different skeletons do not make one dataset: %s has "
        "%s, %s has %s; map them onto one with --node-map FILE (CSV "
        "from,to)", out, a, sa, b, sb);
    g_free (sa);
    g_free (sb);
    goto done;
  }
  ok = combine_hdf5 (out, root, error);
done:
  g_object_unref (p);
  g_free (path);
  return ok;
}
