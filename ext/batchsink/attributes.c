/* batchsink: per-source attributes (`attributes=FILE`).
 *
 * The file is a CSV whose header has a `source` column and any number of
 * numeric columns (`source,beta0,beta1`); each row gives one source's
 * values. Stored
 * - in HDF5 as `/attributes/<column>` (float64, one value per row of
 *   `sources`, in the same order);
 * - in the run's manifest as `"attributes": {"file", "columns", "rows":
 *   {source: [values]}}` (the whole table: the run does not know its
 *   sources when it writes its first manifest), from which dataset.json's
 *   `sources` rows get `"attributes": {column: value}`.
 * A source without a row is an error (batchsink fails at its first
 * sample), never NaN: attributes on the wrong subject are silent garbage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "attributes.h"

#include <gio/gio.h>
#include <hdf5.h>
#include <math.h>
#include <string.h>
#include <onepass/opjson.h>

struct _OpAttributes
{
  gchar *path;
  GPtrArray *columns;           /* numeric column names */
  GPtrArray *order;             /* source names, file order */
  GHashTable *rows;             /* source -> gdouble[columns->len] */
};

void
op_attributes_free (OpAttributes * a)
{
  if (!a)
    return;
  g_free (a->path);
  g_ptr_array_unref (a->columns);
  g_ptr_array_unref (a->order);
  g_hash_table_unref (a->rows);
  g_free (a);
}

static gchar **
split_row (const gchar * line)
{
  gchar **cols = g_strsplit (line, ",", -1);
  guint i;

  for (i = 0; cols[i]; i++) {
    gsize n;

    g_strstrip (cols[i]);
    n = strlen (cols[i]);
    if (n >= 2 && cols[i][0] == '"' && cols[i][n - 1] == '"') {
      memmove (cols[i], cols[i] + 1, n - 2);
      cols[i][n - 2] = '\0';
    }
  }
  return cols;
}

#define ATTR_ERROR(error, ...) \
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, __VA_ARGS__)

static gboolean
parse_header (OpAttributes * a, gchar ** cols, gint * source_col,
    GError ** error)
{
  guint i;

  *source_col = -1;
  for (i = 0; cols[i]; i++) {
    if (!strcmp (cols[i], "source") && *source_col < 0)
      *source_col = i;
    else if (!*cols[i] || strchr (cols[i], '/')) {
      ATTR_ERROR (error, "attributes %s: column %u has no usable name "
          "(\"%s\")", a->path, i + 1, cols[i]);
      return FALSE;
    } else
      g_ptr_array_add (a->columns, g_strdup (cols[i]));
  }
  if (*source_col < 0) {
    ATTR_ERROR (error, "attributes %s: the header has no \"source\" column",
        a->path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_row (OpAttributes * a, gchar ** cols, gint source_col, guint line,
    GError ** error)
{
  guint n = a->columns->len, i, c = 0;
  gdouble *v;

  if (g_strv_length (cols) != n + 1) {
    ATTR_ERROR (error, "attributes %s: line %u has %u columns, the header "
        "%u", a->path, line, g_strv_length (cols), n + 1);
    return FALSE;
  }
  if (g_hash_table_contains (a->rows, cols[source_col])) {
    ATTR_ERROR (error, "attributes %s: source \"%s\" has two rows (line %u)",
        a->path, cols[source_col], line);
    return FALSE;
  }
  v = g_new (gdouble, MAX (n, 1));
  for (i = 0; cols[i]; i++) {
    gchar *end;

    if ((gint) i == source_col)
      continue;
    v[c] = g_ascii_strtod (cols[i], &end);
    if (!*cols[i] || *end) {
      ATTR_ERROR (error, "attributes %s: line %u, column \"%s\": \"%s\" is "
          "not a number", a->path, line,
          (const gchar *) a->columns->pdata[c], cols[i]);
      g_free (v);
      return FALSE;
    }
    c++;
  }
  g_ptr_array_add (a->order, g_strdup (cols[source_col]));
  g_hash_table_insert (a->rows, g_strdup (cols[source_col]), v);
  return TRUE;
}

OpAttributes *
op_attributes_load (const gchar * path, GError ** error)
{
  OpAttributes *a = g_new0 (OpAttributes, 1);
  gchar *text = NULL, **lines = NULL;
  gint source_col = -1;
  gboolean header = FALSE, ok = TRUE;
  guint i;

  a->path = g_strdup (path);
  a->columns = g_ptr_array_new_with_free_func (g_free);
  a->order = g_ptr_array_new_with_free_func (g_free);
  a->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!g_file_get_contents (path, &text, NULL, error)) {
    op_attributes_free (a);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; ok && lines[i]; i++) {
    gchar **cols;

    g_strchomp (lines[i]);
    if (!lines[i][0])
      continue;
    cols = split_row (lines[i]);
    if (!header)
      ok = header = parse_header (a, cols, &source_col, error);
    else
      ok = parse_row (a, cols, source_col, i + 1, error);
    g_strfreev (cols);
  }
  if (ok && !header) {
    ATTR_ERROR (error, "attributes %s: the file is empty", path);
    ok = FALSE;
  }
  g_strfreev (lines);
  g_free (text);
  if (!ok) {
    op_attributes_free (a);
    return NULL;
  }
  return a;
}

const gchar *
op_attributes_path (const OpAttributes * a)
{
  return a->path;
}

/* The source's values (one per column), or NULL when it has no row. */
const gdouble *
op_attributes_lookup (const OpAttributes * a, const gchar * source)
{
  return g_hash_table_lookup (a->rows, source);
}

static void
append_number (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isfinite (v))
    g_string_append (out, g_ascii_dtostr (buf, sizeof (buf), v));
  else
    g_string_append (out, "null");
}

/* `"attributes":{...}` for the run's manifest (manifest_extra). */
void
op_attributes_append_manifest (const OpAttributes * a, GString * out)
{
  guint i, c;

  g_string_append (out, "\"attributes\":{\"file\":");
  op_json_append_string (out, a->path);
  g_string_append (out, ",\"columns\":[");
  for (c = 0; c < a->columns->len; c++) {
    if (c)
      g_string_append_c (out, ',');
    op_json_append_string (out, a->columns->pdata[c]);
  }
  g_string_append (out, "],\"rows\":{");
  for (i = 0; i < a->order->len; i++) {
    const gdouble *v = g_hash_table_lookup (a->rows, a->order->pdata[i]);

    if (i)
      g_string_append_c (out, ',');
    op_json_append_string (out, a->order->pdata[i]);
    g_string_append (out, ":[");
    for (c = 0; c < a->columns->len; c++) {
      if (c)
        g_string_append_c (out, ',');
      append_number (out, v[c]);
    }
    g_string_append_c (out, ']');
  }
  g_string_append (out, "}}");
}

/**
 * op_attributes_write_h5:
 * @file: an open HDF5 file (hid_t), under the caller's HDF5 lock
 * @sources: the file's `sources` rows
 *
 * Writes `/attributes/<column>`, float64, aligned with @sources. Every
 * source has a row (batchsink checked each at its first sample).
 */
gboolean
op_attributes_write_h5 (const OpAttributes * a, gint64 file,
    const gchar * const *sources, guint n)
{
  hid_t group = H5Gcreate2 (file, "attributes", H5P_DEFAULT, H5P_DEFAULT,
      H5P_DEFAULT);
  gdouble *col = g_new (gdouble, MAX (n, 1));
  gboolean ok = group >= 0;
  guint c, i;

  for (c = 0; ok && c < a->columns->len; c++) {
    hsize_t dims = n;
    hid_t space = H5Screate_simple (1, &dims, NULL);
    hid_t ds = H5Dcreate2 (group, a->columns->pdata[c], H5T_IEEE_F64LE,
        space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);

    for (i = 0; i < n; i++) {
      const gdouble *v = op_attributes_lookup (a, sources[i]);
      col[i] = v ? v[c] : NAN;
    }
    ok = ds >= 0 && (n == 0 || H5Dwrite (ds, H5T_NATIVE_DOUBLE, H5S_ALL,
            H5S_ALL, H5P_DEFAULT, col) >= 0);
    if (ds >= 0)
      H5Dclose (ds);
    H5Sclose (space);
  }
  if (group >= 0)
    H5Gclose (group);
  g_free (col);
  return ok;
}

/**
 * op_attributes_row_from_manifest:
 *
 * Returns: (transfer full) (nullable): `{column: value}` of @source from a
 * manifest's `attributes`, for dataset.json's `sources` rows.
 */
JsonNode *
op_attributes_row_from_manifest (JsonObject * m, const gchar * source)
{
  JsonObject *at, *rows, *out;
  JsonArray *cols, *v;
  JsonNode *node;
  guint c;

  at = json_object_has_member (m, "attributes") ?
      json_object_get_object_member (m, "attributes") : NULL;
  if (!at || !json_object_has_member (at, "rows")
      || !json_object_has_member (at, "columns"))
    return NULL;
  rows = json_object_get_object_member (at, "rows");
  cols = json_object_get_array_member (at, "columns");
  if (!rows || !cols || !json_object_has_member (rows, source))
    return NULL;
  v = json_object_get_array_member (rows, source);
  out = json_object_new ();
  for (c = 0; v && c < json_array_get_length (cols)
      && c < json_array_get_length (v); c++)
    json_object_set_member (out, json_array_get_string_element (cols, c),
        json_node_copy (json_array_get_element (v, c)));
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, out);
  return node;
}
