/* onepass: compositor328's rectangles file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The seed's crop_rectangles.json: an object mapping a frame index to one
 * corner pair [x1, y1, x2, y2] (x2, y2 exclusive, as numpy slices take them)
 * or a list of them, one per crop of that frame in stream order. Stored as
 * [x, y, w, h]. A malformed entry keeps its slot (as an empty rect) so the
 * crops after it still find their own rect. */
#include "rectsfile.h"

#include <json-glib/json-glib.h>
#include <math.h>

struct _OpRectsFile
{
  GHashTable *frames;           /* frame index -> GArray of gint[4] */
  guint n_malformed;
  gchar *first_problem;
};

typedef struct
{
  gint r[4];
} Rect;

static const Rect no_rect;      /* all zero: the mark of a malformed rect */

static void
note_problem (OpRectsFile * rects, const gchar * key, const gchar * what)
{
  if (rects->n_malformed++ == 0)
    rects->first_problem = g_strdup_printf ("frame \"%s\": %s", key, what);
}

/* Coordinates beyond this are damage, not a frame position. */
#define MAX_COORD 1e8

/* NULL and *out set, or why @node is not a usable coordinate */
static const gchar *
parse_number (JsonNode * node, gint * out)
{
  gdouble v;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return "coordinates must be numbers";
  switch (json_node_get_value_type (node)) {
    case G_TYPE_INT64:
      v = json_node_get_int (node);
      break;
    case G_TYPE_DOUBLE:
      v = json_node_get_double (node);
      break;
    default:
      return "coordinates must be numbers";
  }
  if (!isfinite (v) || fabs (v) > MAX_COORD)
    return "a coordinate is out of range (beyond +-1e8)";
  *out = (gint) lrint (v);
  return NULL;
}

/* One [x1, y1, x2, y2]; an empty rect (w = 0) marks a malformed one. */
static Rect
parse_corners (OpRectsFile * rects, const gchar * key, JsonArray * arr)
{
  Rect rect = no_rect;
  gint c[4];
  guint i;

  if (json_array_get_length (arr) != 4) {
    note_problem (rects, key, "expected [x1, y1, x2, y2]");
    return rect;
  }
  for (i = 0; i < 4; i++) {
    const gchar *why = parse_number (json_array_get_element (arr, i), &c[i]);

    if (why) {
      note_problem (rects, key, why);
      return rect;
    }
  }
  if (c[2] <= c[0] || c[3] <= c[1]) {
    note_problem (rects, key, "x2 <= x1 or y2 <= y1");
    return rect;
  }
  rect.r[0] = c[0];
  rect.r[1] = c[1];
  rect.r[2] = c[2] - c[0];
  rect.r[3] = c[3] - c[1];
  return rect;
}

static void
parse_member (JsonObject * obj, const gchar * key, JsonNode * node,
    gpointer user_data)
{
  OpRectsFile *rects = user_data;
  JsonArray *arr;
  GArray *list;
  gchar *end = NULL;
  guint64 frame;
  guint i, n;

  frame = g_ascii_strtoull (key, &end, 10);
  if (key[0] < '0' || key[0] > '9' || end == key || *end != '\0') {
    note_problem (rects, key, "key is not a frame index");
    return;
  }
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    note_problem (rects, key, "value is not an array");
    return;
  }
  arr = json_node_get_array (node);
  n = json_array_get_length (arr);
  list = g_array_new (FALSE, TRUE, sizeof (Rect));
  if (n > 0 && JSON_NODE_HOLDS_ARRAY (json_array_get_element (arr, 0))) {
    for (i = 0; i < n; i++) {
      JsonNode *el = json_array_get_element (arr, i);
      Rect r = no_rect;

      if (JSON_NODE_HOLDS_ARRAY (el))
        r = parse_corners (rects, key, json_node_get_array (el));
      else
        note_problem (rects, key, "list entry is not [x1, y1, x2, y2]");
      g_array_append_val (list, r);
    }
  } else {
    Rect r = parse_corners (rects, key, arr);
    g_array_append_val (list, r);
  }
  g_hash_table_replace (rects->frames, GSIZE_TO_POINTER ((gsize) frame), list);
}

/**
 * op_rects_file_load:
 *
 * Returns: the rectangles, or NULL with @error set when the file cannot be
 * read, is not JSON or is not an object. Malformed entries do not fail the
 * load: they are counted (op_rects_file_n_malformed()).
 */
OpRectsFile *
op_rects_file_load (const gchar * path, GError ** error)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root;
  OpRectsFile *rects = NULL;

  if (!json_parser_load_from_file (parser, path, error))
    goto done;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "top level is not an object mapping frame index to rectangles");
    goto done;
  }
  rects = g_new0 (OpRectsFile, 1);
  rects->frames = g_hash_table_new_full (g_direct_hash, g_direct_equal,
      NULL, (GDestroyNotify) g_array_unref);
  json_object_foreach_member (json_node_get_object (root), parse_member, rects);
done:
  g_object_unref (parser);
  return rects;
}

void
op_rects_file_free (OpRectsFile * rects)
{
  if (rects == NULL)
    return;
  g_hash_table_unref (rects->frames);
  g_free (rects->first_problem);
  g_free (rects);
}

/**
 * op_rects_file_lookup:
 * @k: index of the crop within its frame
 *
 * Returns: TRUE and the [x, y, w, h] of the @k-th rect of the frame, FALSE
 * when there is none or it was malformed.
 */
gboolean
op_rects_file_lookup (const OpRectsFile * rects, guint64 frame_index,
    guint k, gint rect[4])
{
  GArray *list = g_hash_table_lookup (rects->frames,
      GSIZE_TO_POINTER ((gsize) frame_index));
  const Rect *r;

  if (list == NULL || k >= list->len)
    return FALSE;
  r = &g_array_index (list, Rect, k);
  if (r->r[2] <= 0)
    return FALSE;
  rect[0] = r->r[0];
  rect[1] = r->r[1];
  rect[2] = r->r[2];
  rect[3] = r->r[3];
  return TRUE;
}

guint
op_rects_file_n_frames (const OpRectsFile * rects)
{
  return g_hash_table_size (rects->frames);
}

guint
op_rects_file_n_malformed (const OpRectsFile * rects)
{
  return rects->n_malformed;
}

/* Returns: (nullable): a description of the first malformed entry. */
const gchar *
op_rects_file_first_problem (const OpRectsFile * rects)
{
  return rects->first_problem;
}
