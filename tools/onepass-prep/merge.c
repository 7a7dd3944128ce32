/* onepass-prep --merge: the one dataset.json of OUT, rebuilt from every
 * run's manifest by batchsink's own code (op_dataset_update, the static
 * opdataset library), then checked: runs with different skeletons do not
 * make one dataset, and that is an error naming them (map them with
 * --node-map).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <dataset.h>

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
  ok = TRUE;
done:
  g_object_unref (p);
  g_free (path);
  return ok;
}
