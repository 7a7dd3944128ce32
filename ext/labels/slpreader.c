/* onepass: reader for SLEAP labels (.slp, .pkg.slp), format 1.0 to 2.x.
 *
 * Follows ../shared/spec/sleap-format.md (and sleap-io, the reference
 * reader): /frames rows hold half-open ranges of /instances rows, user
 * instances index /points and predicted ones /pred_points (two independent
 * tables), keypoints are stored in each skeleton's own node order, format
 * 1.0 coordinates are shifted by -0.5, and frames need not be sorted.
 * Embedded images of .pkg.slp files are not read: annotfilter labels the
 * frames of the source video.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "h5util.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/* the newest format_id whose changes we know not to touch the core tables */
#define NEWEST_KNOWN_FORMAT 2.8

typedef struct
{
  guint32 video;
  guint64 frame_idx, inst_start, inst_end;
} FrameRow;

typedef struct
{
  gint64 id;                    /* instance_id: what from_predicted names */
  guint8 type;
  guint32 skeleton;
  gint32 track;
  gint64 from_predicted;
  gfloat score;
  guint64 pt_start, pt_end;
} InstRow;

typedef struct
{
  gdouble x, y;
  guint8 visible;
  gdouble score;
} PointRow;

typedef struct
{
  hid_t file;
  OpLabels *labels;
  gdouble format_id;
  JsonNode *meta;               /* parsed /metadata json */
  GPtrArray *skeletons;         /* OpSkeleton * */
  GArray *tracks;               /* per track: its name in the labels
                                 * (op_labels_intern_name) */
  GArray *embedded;             /* gint per video: N of "videoN/...", or -1 */
  FrameRow *frames;
  InstRow *insts;
  gsize n_frames, n_insts, n_points, n_pred_points;
  gsize user_base, pred_base;   /* where each point table starts in the
                                 * labels' point columns */
  gboolean *replaced;           /* per /instances row */
} SlpReader;

static gboolean
slp_probe (const gchar * path, const guint8 * head, gsize len)
{
  hid_t file, meta;
  gboolean ok = FALSE;

  if (!op_h5_has_signature (head, len))
    return FALSE;
  op_h5_lock ();
  file = op_h5_open (path, NULL);
  if (file >= 0) {
    if (op_h5_exists (file, "metadata")) {
      meta = H5Oopen (file, "metadata", H5P_DEFAULT);
      ok = meta >= 0 && H5Aexists (meta, "format_id") > 0;
      if (meta >= 0)
        H5Oclose (meta);
    }
    H5Fclose (file);
  }
  op_h5_unlock ();
  return ok;
}

#define CORRUPT(...) \
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT, __VA_ARGS__)

/* Python's json and simplejson write NaN, Infinity and -Infinity, which
 * json-glib refuses: turn them (outside strings) into null. */
static gchar *
python_json_to_json (const gchar * text)
{
  static const gchar *const words[] = { "-Infinity", "Infinity", "NaN" };
  GString *out = g_string_sized_new (strlen (text));
  gboolean in_string = FALSE;
  const gchar *p = text;
  guint i;

  while (*p) {
    if (in_string) {
      if (*p == '\\' && p[1]) {
        g_string_append_len (out, p, 2);
        p += 2;
        continue;
      }
      in_string = *p != '"';
    } else if (*p == '"') {
      in_string = TRUE;
    } else {
      for (i = 0; i < G_N_ELEMENTS (words); i++) {
        if (g_str_has_prefix (p, words[i])) {
          g_string_append (out, "null");
          p += strlen (words[i]);
          break;
        }
      }
      if (i < G_N_ELEMENTS (words))
        continue;
    }
    g_string_append_c (out, *p++);
  }
  return g_string_free (out, FALSE);
}

/**
 * op_sleap_parse_json:
 * @what: names the text in the error
 *
 * Parses JSON as Python writes it (NaN and Infinity allowed).
 *
 * Returns: (transfer full) (nullable): the root, or %NULL with @error set
 */
JsonNode *
op_sleap_parse_json (const gchar * python_text, const gchar * what,
    GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonNode *root = NULL;
  GError *err = NULL;
  gchar *text = python_json_to_json (python_text);

  if (json_parser_load_from_data (parser, text, -1, &err)
      && json_parser_get_root (parser))
    root = json_node_ref (json_parser_get_root (parser));
  else
    CORRUPT ("%s is not JSON: %s", what, err ? err->message : "empty");
  g_clear_error (&err);
  g_object_unref (parser);
  g_free (text);
  return root;
}

static JsonObject *
object_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
array_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const gchar *
string_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

/* an integer (jsonpickle may store 1 as 1.0); FALSE for anything else */
static gboolean
node_int (JsonNode * n, gint64 * out)
{
  GType t;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64) {
    *out = json_node_get_int (n);
    return TRUE;
  }
  if (t == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (n);
    if (d != (gdouble) (gint64) d)
      return FALSE;
    *out = (gint64) d;
    return TRUE;
  }
  return FALSE;
}

/* links[].type is jsonpickle: {"py/reduce": [{"py/type": ...},
 * {"py/tuple": [T]}]} the first time an edge type is met, {"py/id": N}
 * afterwards, where N numbers the py/reduce objects of the skeleton in
 * order of appearance (1, 2, ...). T = 1 is an edge, 2 a symmetry; so when
 * a symmetry comes first, {"py/id": 1} means a symmetry. Like sleap-io, an
 * id that no py/reduce defined is taken as the type itself. */
typedef struct
{
  gint64 by_id[8];              /* type of py/id 1..8 */
  guint n_ids;
} EdgeTypes;

static gint64
edge_type (EdgeTypes * types, JsonObject * link)
{
  JsonNode *n = json_object_get_member (link, "type");
  JsonObject *t;
  JsonArray *reduce, *tuple;
  gint64 v = -1;

  if (n == NULL)
    return 1;                   /* plain networkx graph: all links are edges */
  if (node_int (n, &v))
    return v;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return -1;
  t = json_node_get_object (n);
  if (node_int (json_object_get_member (t, "py/id"), &v))
    return v >= 1 && v <= types->n_ids ? types->by_id[v - 1] : v;
  reduce = array_member (t, "py/reduce");
  if (reduce && json_array_get_length (reduce) >= 2) {
    JsonNode *second = json_array_get_element (reduce, 1);
    if (JSON_NODE_HOLDS_OBJECT (second)) {
      tuple = array_member (json_node_get_object (second), "py/tuple");
      if (tuple && json_array_get_length (tuple) >= 1)
        node_int (json_array_get_element (tuple, 0), &v);
    }
    if (types->n_ids < G_N_ELEMENTS (types->by_id))
      types->by_id[types->n_ids++] = v;
  }
  return v;
}

/* The node-link dict of skeleton @s: the entry itself, or, in the form
 * SLEAP 1.3.2+ writes for skeletons with a description or preview image,
 * its "nx_graph" member ({"nx_graph": {...}, "description": ...,
 * "preview_image": ...}). NULL with @error naming the form otherwise. */
static JsonObject *
skeleton_graph (JsonNode * sn, guint s, GError ** error)
{
  JsonObject *so = sn && JSON_NODE_HOLDS_OBJECT (sn) ?
      json_node_get_object (sn) : NULL;
  JsonObject *nx = object_member (so, "nx_graph");
  JsonNode *nodes;

  if (nx)
    so = nx;
  nodes = so ? json_object_get_member (so, "nodes") : NULL;
  if (nodes && JSON_NODE_HOLDS_ARRAY (nodes))
    return so;
  if (so == NULL)
    CORRUPT ("/metadata json: skeleton %u is not a JSON object", s);
  else if (json_object_get_member (so, "py/object")
      || json_object_get_member (so, "py/state"))
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "/metadata json: skeleton %u is a pickled Skeleton object "
        "(\"py/object\"), not the node-link graph .slp files hold; onepass "
        "cannot read that form", s);
  else
    CORRUPT ("/metadata json: skeleton %u has no \"nodes\" list (neither "
        "a node-link graph nor one wrapped in \"nx_graph\")", s);
  return NULL;
}

/* Builds every skeleton of metadata.json once: node names in the
 * skeleton's own order (ids index the global node list), edges from links
 * of type 1. */
static gboolean
read_skeletons (SlpReader * r, GError ** error)
{
  JsonObject *root = json_node_get_object (r->meta);
  JsonArray *nodes = array_member (root, "nodes");
  JsonArray *skels = array_member (root, "skeletons");
  guint n_global = nodes ? json_array_get_length (nodes) : 0;
  guint s, i;

  if (skels == NULL) {
    CORRUPT ("/metadata json has no \"skeletons\" list");
    return FALSE;
  }
  for (s = 0; s < json_array_get_length (skels); s++) {
    JsonObject *so = skeleton_graph (json_array_get_element (skels, s), s,
        error);
    JsonArray *snodes = array_member (so, "nodes");
    JsonArray *links = array_member (so, "links");
    guint n = snodes ? json_array_get_length (snodes) : 0;
    EdgeTypes types = { {0,}, 0 };
    gint64 *ids;
    const gchar **names;
    OpSkeleton *sk;

    if (so == NULL)
      return FALSE;
    ids = g_new0 (gint64, MAX (n, 1));
    names = g_new0 (const gchar *, n + 1);
    for (i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element (snodes, i);
      JsonObject *eo = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) :
          NULL;
      JsonNode *id = eo ? json_object_get_member (eo, "id") : NULL;
      JsonNode *gn;
      if (id && JSON_NODE_HOLDS_OBJECT (id)) {
        /* the standalone skeleton-file form: ids are pickled Node objects */
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
            "/metadata json: skeleton %u node %u is a pickled object, not "
            "an index into the node list (the standalone skeleton-file "
            "form); onepass cannot read that form", s, i);
        g_free (ids);
        g_free (names);
        return FALSE;
      }
      if (!node_int (id, &ids[i]) || ids[i] < 0 || ids[i] >= n_global) {
        CORRUPT ("/metadata json: skeleton %u node %u does not name one of "
            "the %u nodes", s, i, n_global);
        g_free (ids);
        g_free (names);
        return FALSE;
      }
      gn = json_array_get_element (nodes, ids[i]);
      names[i] = JSON_NODE_HOLDS_OBJECT (gn) ?
          string_member (json_node_get_object (gn), "name") : NULL;
      if (names[i] == NULL) {
        CORRUPT ("/metadata json: node %" G_GINT64_FORMAT " has no name",
            ids[i]);
        g_free (ids);
        g_free (names);
        return FALSE;
      }
    }
    sk = op_skeleton_new (string_member (object_member (so, "graph"),
            "name"), names, n);
    for (i = 0; links && i < json_array_get_length (links); i++) {
      JsonNode *ln = json_array_get_element (links, i);
      JsonObject *lo = JSON_NODE_HOLDS_OBJECT (ln) ?
          json_node_get_object (ln) : NULL;
      gint64 src, dst;
      gint a = -1, b = -1, type;
      guint k;

      /* every link's type is resolved, so py/ids keep their numbering:
       * 1 is an edge, 2 a symmetry */
      type = lo ? edge_type (&types, lo) : 0;
      if ((type != 1 && type != 2)
          || !node_int (json_object_get_member (lo, "source"), &src)
          || !node_int (json_object_get_member (lo, "target"), &dst))
        continue;
      for (k = 0; k < n; k++) {
        if (ids[k] == src)
          a = k;
        if (ids[k] == dst)
          b = k;
      }
      if (a < 0 || b < 0 || (type == 2 && a == b)) {
        op_labels_add_warning (r->labels, "skeleton %u: %s names a node "
            "outside the skeleton; ignored", s, type == 1 ? "an edge" :
            "a symmetry");
        continue;
      }
      if (type == 1)
        op_skeleton_add_edge (sk, a, b);
      else
        op_skeleton_add_symmetry (sk, a, b);
    }
    g_ptr_array_add (r->skeletons, sk);
    g_free (ids);
    g_free (names);
  }
  return TRUE;
}

/* The strings of /name, or of the metadata json list @fallback when the
 * dataset is absent (older files kept videos and tracks there). Elements of
 * the fallback list are serialized back to JSON text. */
static gchar **
read_json_list (SlpReader * r, const gchar * name, const gchar * fallback,
    guint * n, GError ** error)
{
  JsonArray *list;
  gchar **out;
  guint i;

  if (op_h5_exists (r->file, name))
    return op_h5_read_strings (r->file, name, n, error);
  list = array_member (json_node_get_object (r->meta), fallback);
  *n = list ? json_array_get_length (list) : 0;
  out = g_new0 (gchar *, *n + 1);
  for (i = 0; i < *n; i++)
    out[i] = json_to_string (json_array_get_element (list, i), FALSE);
  return out;
}

/* "videoN/video" or "/videoN/..." -> N, else -1 */
static gint
embedded_index (const gchar * dataset)
{
  gchar *end;
  guint64 v;

  if (dataset == NULL)
    return -1;
  if (*dataset == '/')
    dataset++;
  if (!g_str_has_prefix (dataset, "video") || !g_ascii_isdigit (dataset[5]))
    return -1;
  v = g_ascii_strtoull (dataset + 5, &end, 10);
  return (*end == '/' || *end == '\0') && v < G_MAXINT ? (gint) v : -1;
}

/* the file name of a videos_json-style dict: "filename", else
 * backend.filename, else the first of backend.filenames */
static const gchar *
video_dict_filename (JsonObject * o)
{
  JsonObject *backend = object_member (o, "backend");
  JsonArray *files = array_member (backend, "filenames");
  const gchar *f = string_member (o, "filename");

  if (f == NULL)
    f = string_member (backend, "filename");
  if (f == NULL && files && json_array_get_length (files) > 0
      && JSON_NODE_HOLDS_VALUE (json_array_get_element (files, 0)))
    f = json_array_get_string_element (files, 0);
  return f;
}

/* A positive integer member of @o; 0 when absent or null; FALSE when it
 * is something else. */
static gboolean
size_member (JsonObject * o, const gchar * name, guint * out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  gint64 v;

  *out = 0;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!node_int (n, &v) || v < 0 || v > G_MAXINT)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/**
 * op_sleap_backend_size:
 * @backend: (nullable): a SLEAP video backend dict (videos_json's
 *   "backend", an analysis file's video_backend_metadata)
 *
 * The frame size it records: sleap-io's shape [frames, height, width,
 * channels], else SLEAP's image-sequence height_/width_. 0 x 0 when it
 * records none (SLEAP's own MediaVideo entries, a null shape).
 *
 * Returns: FALSE with @error set when the entry is malformed: a guessed
 *   size could accept the labels of another video
 */
gboolean
op_sleap_backend_size (JsonObject * backend, const gchar * what,
    guint * width, guint * height, GError ** error)
{
  JsonNode *n = backend ? json_object_get_member (backend, "shape") : NULL;
  gint64 dim[4] = { 0, };
  guint i, len;

  *width = *height = 0;
  if (n && JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *shape = json_node_get_array (n);
    len = json_array_get_length (shape);
    for (i = 0; i < len && i < 4; i++) {
      JsonNode *e = json_array_get_element (shape, i);
      if (JSON_NODE_HOLDS_NULL (e)) {
        dim[i] = 0;             /* sleap-io writes None for unknown parts */
      } else if (!node_int (e, &dim[i]) || dim[i] < 0 || dim[i] > G_MAXINT) {
        len = 0;
        break;
      }
    }
    if (len != 3 && len != 4) {
      CORRUPT ("%s: backend shape is not [frames, height, width, channels]",
          what);
      return FALSE;
    }
    *height = (guint) dim[1];
    *width = (guint) dim[2];
  } else if (n && !JSON_NODE_HOLDS_NULL (n)) {
    CORRUPT ("%s: backend shape is not [frames, height, width, channels]",
        what);
    return FALSE;
  } else if (!size_member (backend, "height_", height)
      || !size_member (backend, "width_", width)) {
    CORRUPT ("%s: backend height_/width_ are not sizes", what);
    return FALSE;
  }
  /* half a size is no size */
  if (*width == 0 || *height == 0)
    *width = *height = 0;
  return TRUE;
}

/* For an embedded video, the name of the video it was cut from and the
 * size that video's dict records (0 x 0 when none). FALSE only when that
 * dict is malformed. */
static gboolean
read_source_video (SlpReader * r, gint index, gchar ** name, guint * width,
    guint * height, GError ** error)
{
  gchar *group = g_strdup_printf ("video%d/source_video", index);
  gchar *json, *dset;
  JsonNode *root;
  gboolean ok = TRUE;
  hid_t g;

  *name = NULL;
  *width = *height = 0;
  if (!op_h5_exists (r->file, group)) {
    g_free (group);
    return TRUE;
  }
  /* sleap-io writes a json dataset instead of the attribute when the
   * text passes HDF5's 64 KB attribute limit, and prefers it on read */
  dset = g_strdup_printf ("%s/json", group);
  if (op_h5_exists (r->file, dset)) {
    json = op_h5_read_string (r->file, dset, NULL);
  } else {
    g = H5Oopen (r->file, group, H5P_DEFAULT);
    json = g >= 0 ? op_h5_read_string_attr (g, group, "json", NULL) : NULL;
    if (g >= 0)
      H5Oclose (g);
  }
  g_free (dset);
  root = json ? op_sleap_parse_json (json, group, NULL) : NULL;
  if (root && JSON_NODE_HOLDS_OBJECT (root)) {
    JsonObject *o = json_node_get_object (root);
    gchar *what = g_strdup_printf ("/%s json", group);
    *name = g_strdup (video_dict_filename (o));
    ok = op_sleap_backend_size (object_member (o, "backend"), what, width,
        height, error);
    g_free (what);
  }
  if (root)
    json_node_unref (root);
  g_free (json);
  g_free (group);
  return ok;
}

static gboolean
read_videos (SlpReader * r, GError ** error)
{
  guint n, i;
  gchar **list = read_json_list (r, "videos_json", "videos", &n, error);

  if (list == NULL)
    return FALSE;
  for (i = 0; i < n; i++) {
    gchar *what = g_strdup_printf ("/videos_json[%u]", i);
    JsonNode *root = op_sleap_parse_json (list[i], what, error);
    JsonObject *o;
    const gchar *file;
    gchar *name;
    guint width, height;
    gboolean ok;
    gint emb;

    g_free (what);
    if (root == NULL) {
      g_strfreev (list);
      return FALSE;
    }
    o = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
    file = video_dict_filename (o);
    emb = embedded_index (string_member (object_member (o, "backend"),
            "dataset"));
    name = g_strdup (file ? file : "");
    what = g_strdup_printf ("/videos_json[%u]", i);
    ok = op_sleap_backend_size (object_member (o, "backend"), what, &width,
        &height, error);
    if (ok && g_strcmp0 (name, ".") == 0) {
      gchar *src;
      guint sw, sh;
      ok = read_source_video (r, emb >= 0 ? emb : (gint) i, &src, &sw, &sh,
          error);
      if (src) {
        g_free (name);
        name = src;
      }
      /* the labels belong to the source video; SLEAP embeds whole frames,
       * so two recorded sizes that differ mean something we do not know */
      if (ok && sw && width && (sw != width || sh != height)) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
            "%s: the embedded frames are %ux%u but their source video %s is "
            "%ux%u; onepass cannot tell which size the labels are for", what,
            width, height, name, sw, sh);
        ok = FALSE;
      }
      if (sw) {
        width = sw;
        height = sh;
      }
    }
    g_free (what);
    g_ptr_array_add (r->labels->videos, name);
    g_array_append_val (r->embedded, emb);
    json_node_unref (root);
    if (!ok) {
      g_strfreev (list);
      return FALSE;
    }
    op_labels_set_video_size (r->labels, i, width, height);
  }
  g_strfreev (list);
  return TRUE;
}

static gboolean
read_tracks (SlpReader * r, GError ** error)
{
  guint n, i;
  gchar **list = read_json_list (r, "tracks_json", "tracks", &n, error);

  if (list == NULL)
    return FALSE;
  for (i = 0; i < n; i++) {
    gchar *what = g_strdup_printf ("/tracks_json[%u]", i);
    JsonNode *root = op_sleap_parse_json (list[i], what, error);
    const gchar *name = NULL;

    g_free (what);
    if (root == NULL) {
      g_strfreev (list);
      return FALSE;
    }
    /* [spawned_on, "name"]; the old metadata list held {"name": ...} */
    if (JSON_NODE_HOLDS_ARRAY (root)) {
      JsonArray *a = json_node_get_array (root);
      if (json_array_get_length (a) >= 2) {
        JsonNode *nn = json_array_get_element (a, 1);
        if (JSON_NODE_HOLDS_VALUE (nn)
            && json_node_get_value_type (nn) == G_TYPE_STRING)
          name = json_node_get_string (nn);
      }
    } else if (JSON_NODE_HOLDS_OBJECT (root)) {
      name = string_member (json_node_get_object (root), "name");
    }
    {
      guint32 id = op_labels_intern_name (r->labels, name ? name : "");
      g_array_append_val (r->tracks, id);
    }
    json_node_unref (root);
  }
  g_strfreev (list);
  return TRUE;
}

/* point table @name opened (*t NULL when the file has none: it reads as
 * empty, and any use of it is then out of range, reported with the
 * instance that uses it) */
static gboolean
open_points (SlpReader * r, const gchar * name, const OpH5Field * fields,
    guint n_fields, OpH5Table ** t, gsize * n_rows, GError ** error)
{
  *t = NULL;
  *n_rows = 0;
  if (!op_h5_exists (r->file, name))
    return TRUE;
  *t = op_h5_table_open (r->file, name, fields, n_fields, sizeof (PointRow),
      n_rows, error);
  return *t != NULL;
}

/* rows read per HDF5 call: a bounded buffer (2 MiB), never the table */
#define POINT_BLOCK 65536

/* Reads point table @t (@n rows) straight into the labels' point columns
 * (17 or 25 bytes a point instead of the table's 18 to 26 plus our own
 * copy), applying format 1.0's -0.5 shift; a point without coordinates is
 * missing whatever its visible flag says. */
static gboolean
read_points (SlpReader * r, OpH5Table * t, gsize n, gboolean scored,
    gsize * base, GError ** error)
{
  const PointRow pdef = { NAN, NAN, 1, NAN };
  gdouble shift = r->format_id < 1.1 ? -0.5 : 0.0;
  OpLabels *l = r->labels;
  gsize start;

  *base = l->n_points;
  if (t == NULL)
    return TRUE;
  /* every column of every point is written below */
  if (!op_labels_reserve_points_unset (l, n, scored && n > 0, base, error))
    return FALSE;
  for (start = 0; start < n; start += POINT_BLOCK) {
    gsize count = MIN (POINT_BLOCK, n - start), k, i0 = *base + start;
    /* members straight into the columns, in the fields' order */
    gpointer const cols[] = { l->x + i0, l->y + i0, l->visible + i0,
      scored ? l->score + i0 : NULL
    };
    if (!op_h5_table_read_columns (t, start, count, &pdef, cols, error))
      return FALSE;
    /* a point without coordinates is missing whatever its flag says */
    for (k = i0; k < i0 + count; k++) {
      if (G_UNLIKELY (isnan (l->x[k]) || isnan (l->y[k]))) {
        l->x[k] = l->y[k] = NAN;
        l->visible[k] = 0;
      }
    }
    for (k = i0; shift != 0.0 && k < i0 + count; k++) {
      l->x[k] += shift;
      l->y[k] += shift;
    }
  }
  return TRUE;
}

static gboolean
read_tables (SlpReader * r, GError ** error)
{
  const FrameRow fdef = { 0, 0, 0, 0 };
  const InstRow idef = { -1, 0, 0, -1, -1, NAN, 0, 0 };
  const OpH5Field ffields[] = {
    {"video", H5T_NATIVE_UINT32, G_STRUCT_OFFSET (FrameRow, video), TRUE},
    {"frame_idx", H5T_NATIVE_UINT64, G_STRUCT_OFFSET (FrameRow, frame_idx),
        TRUE},
    {"instance_id_start", H5T_NATIVE_UINT64, G_STRUCT_OFFSET (FrameRow,
            inst_start), TRUE},
    {"instance_id_end", H5T_NATIVE_UINT64, G_STRUCT_OFFSET (FrameRow,
            inst_end), TRUE},
  };
  const OpH5Field ifields[] = {
    {"instance_id", H5T_NATIVE_INT64, G_STRUCT_OFFSET (InstRow, id), FALSE},
    {"instance_type", H5T_NATIVE_UINT8, G_STRUCT_OFFSET (InstRow, type), TRUE},
    {"from_predicted", H5T_NATIVE_INT64, G_STRUCT_OFFSET (InstRow,
            from_predicted), FALSE},
    {"skeleton", H5T_NATIVE_UINT32, G_STRUCT_OFFSET (InstRow, skeleton), TRUE},
    {"track", H5T_NATIVE_INT32, G_STRUCT_OFFSET (InstRow, track), FALSE},
    {"score", H5T_NATIVE_FLOAT, G_STRUCT_OFFSET (InstRow, score), FALSE},
    {"point_id_start", H5T_NATIVE_UINT64, G_STRUCT_OFFSET (InstRow, pt_start),
        TRUE},
    {"point_id_end", H5T_NATIVE_UINT64, G_STRUCT_OFFSET (InstRow, pt_end),
        TRUE},
  };
  const OpH5Field pfields[] = {
    {"x", H5T_NATIVE_DOUBLE, G_STRUCT_OFFSET (PointRow, x), TRUE},
    {"y", H5T_NATIVE_DOUBLE, G_STRUCT_OFFSET (PointRow, y), TRUE},
    {"visible", H5T_NATIVE_UINT8, G_STRUCT_OFFSET (PointRow, visible), FALSE},
    {"score", H5T_NATIVE_DOUBLE, G_STRUCT_OFFSET (PointRow, score), FALSE},
  };
  OpH5Table *user = NULL, *pred = NULL;
  gboolean ok;

  if (!op_h5_exists (r->file, "frames")) {
    CORRUPT ("the /frames table is missing");
    return FALSE;
  }
  if (!op_h5_exists (r->file, "instances")) {
    CORRUPT ("the /instances table is missing");
    return FALSE;
  }
  r->frames = op_h5_read_table (r->file, "frames", ffields,
      G_N_ELEMENTS (ffields), sizeof (FrameRow), &fdef, &r->n_frames, error);
  if (r->frames == NULL)
    return FALSE;
  r->insts = op_h5_read_table (r->file, "instances", ifields,
      G_N_ELEMENTS (ifields), sizeof (InstRow), &idef, &r->n_insts, error);
  if (r->insts == NULL)
    return FALSE;
  ok = open_points (r, "points", pfields, 3, &user, &r->n_points, error)
      && open_points (r, "pred_points", pfields, 4, &pred, &r->n_pred_points,
      error);
  if (ok && r->n_points > G_MAXSIZE - r->n_pred_points) {
    CORRUPT ("the point tables are too large");
    ok = FALSE;
  }
  /* every frame, instance and point in the columns at once: no growth, and
   * in the label loader the columns are the hand-over file itself */
  ok = ok && op_labels_reserve (r->labels, r->n_frames, r->n_insts,
      r->n_points + r->n_pred_points, r->n_pred_points > 0, error)
      && read_points (r, user, r->n_points, FALSE, &r->user_base, error)
      && read_points (r, pred, r->n_pred_points, TRUE, &r->pred_base, error);
  op_h5_table_close (user);
  op_h5_table_close (pred);
  return ok;
}

typedef struct
{
  guint64 start, end;
  gsize row;
} Range;

static gint
compare_ranges (gconstpointer a, gconstpointer b)
{
  const Range *ra = a, *rb = b;

  if (ra->start != rb->start)
    return ra->start < rb->start ? -1 : 1;
  return ra->row < rb->row ? -1 : ra->row > rb->row;
}

/* instance ranges: ordered, inside /instances, disjoint */
static gboolean
check_frame_ranges (SlpReader * r, GError ** error)
{
  Range *ranges = g_new (Range, MAX (r->n_frames, 1));
  gsize i, n = 0;
  gboolean ok = TRUE;

  for (i = 0; i < r->n_frames && ok; i++) {
    const FrameRow *f = &r->frames[i];
    if (f->inst_start > f->inst_end) {
      CORRUPT ("/frames row %" G_GSIZE_FORMAT ": instance range %"
          G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " is reversed", i,
          f->inst_start, f->inst_end);
      ok = FALSE;
    } else if (f->inst_end > r->n_insts) {
      CORRUPT ("/frames row %" G_GSIZE_FORMAT ": instance_id_end %"
          G_GUINT64_FORMAT " is beyond /instances (%" G_GSIZE_FORMAT " rows)",
          i, f->inst_end, r->n_insts);
      ok = FALSE;
    } else if (f->inst_start < f->inst_end) {
      ranges[n].start = f->inst_start;
      ranges[n].end = f->inst_end;
      ranges[n++].row = i;
    }
  }
  if (ok && n > 1) {
    gboolean sorted = TRUE;
    /* SLEAP writes them in order: sort only a file that does not */
    for (i = 1; i < n && sorted; i++)
      sorted = compare_ranges (&ranges[i - 1], &ranges[i]) < 0;
    if (!sorted)
      qsort (ranges, n, sizeof (Range), compare_ranges);
    for (i = 1; i < n && ok; i++) {
      if (ranges[i].start < ranges[i - 1].end) {
        CORRUPT ("/frames rows %" G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT
            " claim the same /instances rows (%" G_GUINT64_FORMAT "..%"
            G_GUINT64_FORMAT " overlaps %" G_GUINT64_FORMAT "..%"
            G_GUINT64_FORMAT ")", MIN (ranges[i - 1].row, ranges[i].row),
            MAX (ranges[i - 1].row, ranges[i].row), ranges[i].start,
            ranges[i].end, ranges[i - 1].start, ranges[i - 1].end);
        ok = FALSE;
      }
    }
  }
  g_free (ranges);
  return ok;
}

/* sleap-io's rule for sparse video ids (embedded videoN written as N): if
 * the ids are exactly 0..n-1 they are list indices; otherwise an id N
 * names the video stored as videoN, and any other id is an index. */
static guint *
map_video_ids (SlpReader * r, guint32 * n_map, GError ** error)
{
  guint n_videos = r->labels->videos->len;
  guint32 max_id = 0;
  gboolean *seen;
  guint *map;
  guint n_distinct = 0, i;
  gsize k;

  for (k = 0; k < r->n_frames; k++)
    max_id = MAX (max_id, r->frames[k].video);
  if (max_id >= (1u << 24)) {
    CORRUPT ("/frames: video id %u is implausible", max_id);
    return NULL;
  }
  *n_map = max_id + 1;
  seen = g_new0 (gboolean, *n_map);
  for (k = 0; k < r->n_frames; k++) {
    if (!seen[r->frames[k].video])
      n_distinct++;
    seen[r->frames[k].video] = TRUE;
  }
  map = g_new (guint, *n_map);
  for (i = 0; i < *n_map; i++)
    map[i] = i;
  if (!(n_distinct == n_videos && max_id + 1 == n_videos)) {
    for (i = 0; i < *n_map; i++) {
      guint v;
      for (v = 0; v < n_videos; v++)
        if (g_array_index (r->embedded, gint, v) == (gint) i)
          map[i] = v;
    }
  }
  for (k = 0; k < r->n_frames; k++) {
    if (map[r->frames[k].video] >= n_videos) {
      CORRUPT ("/frames row %" G_GSIZE_FORMAT ": video %u does not map to "
          "one of the %u videos in /videos_json", k, r->frames[k].video,
          n_videos);
      g_free (map);
      map = NULL;
      break;
    }
  }
  g_free (seen);
  return map;
}

/* SLEAP's from_predicted: a user instance made by correcting a prediction
 * names that prediction by its instance_id (sleap-io links them through
 * that column, which equals the row in every file seen). The prediction is
 * marked replaced when it is in the same frame (video and frame index:
 * a frame listed twice is one frame), so that selecting both kinds gives
 * the animal once, as SLEAP shows it. Links to nothing, to a user instance
 * or to another frame's prediction (or to an instance_id that two rows
 * share) replace nothing and are counted in a warning. */
#define DUPLICATE_ID GSIZE_TO_POINTER (G_MAXSIZE)

static void
mark_replaced (SlpReader * r, const guint * video_map)
{
  gssize *owner = g_new (gssize, MAX (r->n_insts, 1));
  GHashTable *by_id = NULL;
  guint64 n_bad = 0;
  gsize i, k;

  r->replaced = g_new0 (gboolean, MAX (r->n_insts, 1));
  for (k = 0; k < r->n_insts; k++) {
    owner[k] = -1;
    if (r->insts[k].id < 0)
      r->insts[k].id = k;       /* no instance_id column: the row */
  }
  for (i = 0; i < r->n_frames; i++)
    for (k = r->frames[i].inst_start; k < r->frames[i].inst_end; k++)
      owner[k] = i;
  for (k = 0; k < r->n_insts; k++) {
    const InstRow *u = &r->insts[k];
    const FrameRow *fu, *fp;
    gpointer row = NULL;
    gsize p;

    if (u->type != 0 || u->from_predicted < 0 || owner[k] < 0)
      continue;
    /* the id is almost always the row; look it up only when it is not */
    p = u->from_predicted;
    if (u->from_predicted >= (gint64) r->n_insts
        || r->insts[p].id != u->from_predicted) {
      if (by_id == NULL) {
        gsize j;
        by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, NULL);
        /* value: row + 1, or DUPLICATE_ID when two rows share the id */
        for (j = 0; j < r->n_insts; j++)
          g_hash_table_insert (by_id, &r->insts[j].id,
              g_hash_table_contains (by_id, &r->insts[j].id) ?
              DUPLICATE_ID : GSIZE_TO_POINTER (j + 1));
      }
      row = g_hash_table_lookup (by_id, &u->from_predicted);
      if (row == NULL || row == DUPLICATE_ID) {
        n_bad++;
        continue;
      }
      p = GPOINTER_TO_SIZE (row) - 1;
    }
    fu = &r->frames[owner[k]];
    fp = owner[p] >= 0 ? &r->frames[owner[p]] : NULL;
    if (r->insts[p].type != 1 || fp == NULL || fp->frame_idx != fu->frame_idx
        || video_map[fp->video] != video_map[fu->video]) {
      n_bad++;
      continue;
    }
    r->replaced[p] = TRUE;
  }
  if (n_bad)
    op_labels_add_warning (r->labels, "%" G_GUINT64_FORMAT " user "
        "instance(s) name in from_predicted no prediction of their own frame; "
        "nothing was replaced for them", n_bad);
  if (by_id)
    g_hash_table_unref (by_id);
  g_free (owner);
}

/* one /instances row into the labels' columns, pointing at its points */
static gboolean
add_instance (SlpReader * r, gsize row, const OpSkeleton * sk,
    gboolean * blank, GError ** error)
{
  const InstRow *ir = &r->insts[row];
  gboolean pred = ir->type == 1;
  gsize n_table = pred ? r->n_pred_points : r->n_points;
  gsize base = pred ? r->pred_base : r->user_base;
  const gchar *tname = pred ? "/pred_points" : "/points";
  OpLabelsInstance *inst;

  if (ir->pt_start > ir->pt_end) {
    CORRUPT ("/instances row %" G_GSIZE_FORMAT ": point range %"
        G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " is reversed", row,
        ir->pt_start, ir->pt_end);
    return FALSE;
  }
  if (ir->pt_end > n_table) {
    CORRUPT ("/instances row %" G_GSIZE_FORMAT ": point_id_end %"
        G_GUINT64_FORMAT " is beyond %s (%" G_GSIZE_FORMAT " rows)", row,
        ir->pt_end, tname, n_table);
    return FALSE;
  }
  if (ir->pt_end - ir->pt_start != sk->n_nodes) {
    CORRUPT ("/instances row %" G_GSIZE_FORMAT ": %" G_GUINT64_FORMAT
        " points, but its skeleton has %u nodes", row,
        ir->pt_end - ir->pt_start, sk->n_nodes);
    return FALSE;
  }
  if (ir->track < -1 || ir->track >= (gint) r->tracks->len) {
    CORRUPT ("/instances row %" G_GSIZE_FORMAT ": track %d is not one of "
        "the %u tracks in /tracks_json", row, ir->track, r->tracks->len);
    return FALSE;
  }
  inst = op_labels_append_instance (r->labels, pred ? OP_INSTANCE_PREDICTED :
      OP_INSTANCE_USER, base + ir->pt_start, sk->n_nodes);
  inst->track = ir->track;
  inst->track_name = ir->track >= 0 ? g_array_index (r->tracks, guint32,
      ir->track) : 0;
  inst->score = pred ? ir->score : NAN;
  inst->replaced = r->replaced[row];
  *blank = !op_labels_instance_has_present (r->labels, inst);
  return TRUE;
}

static gboolean
build_frames (SlpReader * r, const guint * video_map, GError ** error)
{
  guint64 n_empty = 0, n_blank = 0;
  gsize i, k;

  for (i = 0; i < r->n_frames; i++) {
    const FrameRow *f = &r->frames[i];
    guint video = video_map[f->video];
    OpSkeleton *sk = NULL;

    for (k = f->inst_start; k < f->inst_end; k++) {
      const InstRow *ir = &r->insts[k];
      OpSkeleton *ks;
      if (ir->skeleton >= r->skeletons->len) {
        CORRUPT ("/instances row %" G_GSIZE_FORMAT ": skeleton %u is not one "
            "of the %u skeletons in /metadata", k, ir->skeleton,
            r->skeletons->len);
        return FALSE;
      }
      if (ir->type > 1) {
        CORRUPT ("/instances row %" G_GSIZE_FORMAT ": instance_type %u is "
            "neither 0 (user) nor 1 (predicted)", k, ir->type);
        return FALSE;
      }
      ks = g_ptr_array_index (r->skeletons, ir->skeleton);
      if (sk && ks != sk) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
            "frame %" G_GUINT64_FORMAT " of video %u holds instances of two "
            "skeletons (%u and %u); onepass needs one skeleton per frame",
            f->frame_idx, video, r->insts[f->inst_start].skeleton,
            ir->skeleton);
        return FALSE;
      }
      sk = ks;
    }
    if (sk == NULL) {
      /* an empty frame still needs a skeleton for the merge check */
      sk = r->skeletons->len ? g_ptr_array_index (r->skeletons, 0) : NULL;
      n_empty++;
    }
    /* the frame size the labels were made on, when the file records it,
     * comes with the frame */
    op_labels_append_frame (r->labels, video, f->frame_idx,
        op_labels_intern_skeleton (r->labels, sk));
    for (k = f->inst_start; k < f->inst_end; k++) {
      gboolean blank;
      if (!add_instance (r, k, sk, &blank, error))
        return FALSE;
      if (blank)
        n_blank++;
    }
  }
  if (r->n_frames == 0)
    op_labels_add_warning (r->labels, "the file holds no labeled frames");
  if (n_empty)
    op_labels_add_warning (r->labels, "%" G_GUINT64_FORMAT " labeled "
        "frame(s) hold no instance", n_empty);
  if (n_blank)
    op_labels_add_warning (r->labels, "%" G_GUINT64_FORMAT " instance(s) "
        "have no visible keypoint (all NaN or invisible)", n_blank);
  return TRUE;
}

static gboolean
read_metadata (SlpReader * r, GError ** error)
{
  hid_t meta = H5Oopen (r->file, "metadata", H5P_DEFAULT);
  gchar *json;
  gboolean ok;

  if (meta < 0) {
    gchar *why = op_h5_take_error ();
    CORRUPT ("cannot open /metadata: %s", why);
    g_free (why);
    return FALSE;
  }
  ok = op_h5_read_double_attr (meta, "/metadata", "format_id", &r->format_id,
      error);
  if (ok && !isfinite (r->format_id)) {
    CORRUPT ("/metadata format_id is not a number");
    ok = FALSE;
  }
  /* a json dataset is no layout a SLEAP writer uses: say so rather than
   * "missing" */
  if (ok && H5Aexists (meta, "json") <= 0 && op_h5_exists (r->file,
          "metadata/json")) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "/metadata holds its json as a dataset; SLEAP and sleap-io store it "
        "as the attribute /metadata json, the only form onepass reads");
    ok = FALSE;
  }
  H5Eclear2 (H5E_DEFAULT);
  json = ok ? op_h5_read_string_attr (meta, "/metadata", "json", error) : NULL;
  H5Oclose (meta);
  if (json == NULL)
    return FALSE;
  r->meta = op_sleap_parse_json (json, "/metadata json", error);
  g_free (json);
  if (r->meta && !JSON_NODE_HOLDS_OBJECT (r->meta)) {
    CORRUPT ("/metadata json is not an object");
    return FALSE;
  }
  if (r->meta == NULL)
    return FALSE;
  if (r->format_id < 1.0 || r->format_id > NEWEST_KNOWN_FORMAT + 1e-9)
    op_labels_add_warning (r->labels, "SLEAP format_id %g is not one onepass "
        "knows (1.0 to %.1f); only the core tables were read", r->format_id,
        NEWEST_KNOWN_FORMAT);
  return TRUE;
}

static OpLabels *
slp_load (const gchar * path, GError ** error)
{
  SlpReader r = { 0, };
  guint *video_map = NULL;
  guint32 n_map;
  gboolean ok = FALSE;

  r.labels = op_labels_new (path, "slp");
  r.skeletons = g_ptr_array_new_with_free_func ((GDestroyNotify)
      op_skeleton_unref);
  r.tracks = g_array_new (FALSE, FALSE, sizeof (guint32));
  r.embedded = g_array_new (FALSE, FALSE, sizeof (gint));

  op_h5_lock ();
  r.file = op_h5_open (path, error);
  if (r.file < 0)
    goto done;
  if (op_h5_exists (r.file, "video_crops")) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "the file describes a virtual crop of its video (/video_crops, SLEAP "
        "format 2.3+), which onepass does not support; save the labels "
        "without the crop");
    goto done;
  }
  if (!read_metadata (&r, error) || !read_skeletons (&r, error)
      || !read_videos (&r, error) || !read_tracks (&r, error)
      || !read_tables (&r, error) || !check_frame_ranges (&r, error))
    goto done;
  video_map = map_video_ids (&r, &n_map, error);
  if (video_map == NULL)
    goto done;
  mark_replaced (&r, video_map);
  ok = build_frames (&r, video_map, error);

done:
  if (r.file >= 0)
    H5Fclose (r.file);
  op_h5_unlock ();
  g_free (video_map);
  g_free (r.frames);
  g_free (r.insts);
  g_free (r.replaced);
  if (r.meta)
    json_node_unref (r.meta);
  g_ptr_array_unref (r.skeletons);
  g_array_unref (r.tracks);
  g_array_unref (r.embedded);
  if (!ok)
    g_clear_pointer (&r.labels, op_labels_free);
  return r.labels;
}

const OpLabelReader op_slp_reader = { "slp",
  "SLEAP labels (.slp, .pkg.slp)", slp_probe, slp_load
};
