/* onepass: the annotation JSON of the design, both ways.
 *
 * The writer is hand-rolled on a GString: it runs once per sample on
 * batchsink's writer thread, and it prints each double with the fewest
 * digits that read back to the same bits, so a round trip is exact.
 * The reader uses json-glib.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opjson.h"
#include "opmeta.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/**
 * op_annotation_error_quark:
 *
 * Returns: the #OP_ANNOTATION_ERROR domain
 *
 * Since: 0.1
 */
/* *INDENT-OFF* */
G_DEFINE_QUARK (op-annotation-error-quark, op_annotation_error);
/* *INDENT-ON* */

/* ------------------------------------------------------------------ writer */

static void
append_double (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  static const gchar *const formats[] = { "%.15g", "%.16g", "%.17g" };
  guint i;

  if (!isfinite (v)) {
    g_string_append (out, "null");
    return;
  }
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_ascii_formatd (buf, sizeof (buf), formats[i], v);
    if (i == G_N_ELEMENTS (formats) - 1 || g_ascii_strtod (buf, NULL) == v)
      break;
  }
  g_string_append (out, buf);
}

/**
 * op_json_append_string: (skip)
 * @out: where the JSON string literal is appended
 * @s: (nullable): UTF-8 text (invalid UTF-8 is repaired); %NULL gives null
 *
 * Appends @s as a quoted, escaped JSON string (used by batchsink's
 * manifests, which list source names that may hold any character).
 *
 * Since: 0.1
 */
void
op_json_append_string (GString * out, const gchar * s)
{
  const gchar *p;
  gchar *valid = NULL;

  if (s == NULL) {
    g_string_append (out, "null");
    return;
  }
  if (!g_utf8_validate (s, -1, NULL))
    s = valid = g_utf8_make_valid (s, -1);
  g_string_append_c (out, '"');
  for (p = s; *p; p++) {
    guchar c = (guchar) * p;
    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (out, "\\u%04x", c);
        else
          g_string_append_c (out, (gchar) c);
    }
  }
  g_string_append_c (out, '"');
  g_free (valid);
}

/**
 * op_json_append_skeleton: (skip)
 * @out: where the JSON object is appended
 * @sk: a skeleton
 *
 * Appends @sk as the annotation JSON's `skeleton` object (also used by
 * batchsink's manifests and dataset.json).
 *
 * Since: 0.1
 */
void
op_json_append_skeleton (GString * out, const OpSkeleton * sk)
{
  guint i;

  g_string_append (out, "{\"name\":");
  op_json_append_string (out, sk->name);
  g_string_append (out, ",\"nodes\":[");
  for (i = 0; i < sk->n_nodes; i++) {
    if (i)
      g_string_append_c (out, ',');
    op_json_append_string (out, sk->nodes[i]);
  }
  g_string_append (out, "],\"edges\":[");
  for (i = 0; i < sk->n_edges; i++)
    g_string_append_printf (out, "%s[%u,%u]", i ? "," : "", sk->edges[2 * i],
        sk->edges[2 * i + 1]);
  g_string_append (out, "]}");
}

static void
append_instance (GString * out, const OpInstance * inst)
{
  guint k;

  g_string_append_printf (out, "{\"track\":%d,\"track_name\":", inst->track);
  op_json_append_string (out, inst->track_name);
  g_string_append (out, ",\"kind\":");
  op_json_append_string (out, op_instance_kind_to_string (inst->kind));
  g_string_append (out, ",\"score\":");
  append_double (out, inst->score);
  g_string_append (out, ",\"bbox\":");
  if (inst->has_bbox) {
    for (k = 0; k < 4; k++) {
      g_string_append_c (out, k ? ',' : '[');
      append_double (out, inst->bbox[k]);
    }
    g_string_append_c (out, ']');
  } else {
    g_string_append (out, "null");
  }
  g_string_append (out, ",\"keypoints\":[");
  for (k = 0; k < inst->n_keypoints; k++) {
    const OpKeypoint *kp = &inst->keypoints[k];
    gboolean missing = isnan (kp->x) || isnan (kp->y);
    if (k)
      g_string_append_c (out, ',');
    g_string_append_c (out, '[');
    append_double (out, missing ? NAN : kp->x);
    g_string_append_c (out, ',');
    append_double (out, missing ? NAN : kp->y);
    g_string_append_printf (out, ",%d,", (!missing && kp->visible) ? 1 : 0);
    append_double (out, kp->score);
    g_string_append_c (out, ']');
  }
  g_string_append (out, "]}");
}

/**
 * op_annotation_append_json: (skip)
 * @ann: an annotation
 * @out: where the one-line JSON object is appended (no newline)
 * @with_skeleton: whether to write the "skeleton" member
 *
 * Writes @ann as the design's annotation JSON. Missing keypoints become
 * [null, null, 0, score]; NaN scores become null.
 *
 * Since: 0.1
 */
void
op_annotation_append_json (GString * out, const OpAnnotation * ann,
    gboolean with_skeleton)
{
  guint i;

  g_string_append (out, "{\"source\":");
  op_json_append_string (out, ann->source);
  g_string_append_printf (out, ",\"frame_index\":%" G_GUINT64_FORMAT
      ",\"pts\":", ann->frame_index);
  if (GST_CLOCK_TIME_IS_VALID (ann->pts))
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, ann->pts);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"width\":%u,\"height\":%u", ann->width,
      ann->height);
  /* optional (design: optional fields may be added): the video's size
   * before any scaling, when known */
  if (ann->source_width && ann->source_height)
    g_string_append_printf (out, ",\"source_width\":%u,\"source_height\":%u",
        ann->source_width, ann->source_height);
  if (with_skeleton && ann->skeleton) {
    g_string_append (out, ",\"skeleton\":");
    op_json_append_skeleton (out, ann->skeleton);
  }
  g_string_append (out, ",\"instances\":[");
  for (i = 0; i < ann->instances->len; i++) {
    if (i)
      g_string_append_c (out, ',');
    append_instance (out, op_annotation_get_instance (ann, i));
  }
  g_string_append_c (out, ']');
  if (ann->has_crop) {
    const OpCropInfo *c = &ann->crop;
    g_string_append_printf (out,
        ",\"crop\":{\"instance\":%u,\"rect\":[%d,%d,%d,"
        "%d],\"width\":%u,\"height\":%u}", c->instance, c->rect[0], c->rect[1],
        c->rect[2], c->rect[3], c->width, c->height);
  }
  /* optional: only augmented copies (annotaugment) have it */
  if (ann->augment)
    g_string_append_printf (out, ",\"augment\":%u", ann->augment);
  g_string_append_c (out, '}');
}

/**
 * op_annotation_to_json:
 * @ann: an annotation
 * @with_skeleton: whether to write the "skeleton" member
 *
 * Returns: (transfer full): @ann as one line of annotation JSON
 *
 * Since: 0.1
 */
gchar *
op_annotation_to_json (const OpAnnotation * ann, gboolean with_skeleton)
{
  GString *s = g_string_sized_new (256);

  op_annotation_append_json (s, ann, with_skeleton);
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------ reader */

#define INVALID(err, ...) \
  g_set_error (err, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID, __VA_ARGS__)

static gboolean
node_is_number (JsonNode * n)
{
  GType t;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
node_is_integer (JsonNode * n)
{
  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_INT64;
}

/* a number or null (-> NaN); anything else is an error */
static gboolean
read_double (JsonNode * n, gdouble * out)
{
  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    *out = NAN;
    return TRUE;
  }
  if (!node_is_number (n))
    return FALSE;
  *out = json_node_get_double (n);
  return TRUE;
}

static gboolean
get_uint (JsonObject * o, const gchar * name, guint64 max, guint64 * out,
    gboolean required, GError ** error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    if (required) {
      INVALID (error, "member \"%s\" is missing", name);
      return FALSE;
    }
    return TRUE;
  }
  if (!node_is_integer (n) || json_node_get_int (n) < 0
      || (guint64) json_node_get_int (n) > max) {
    INVALID (error, "member \"%s\" is not an integer in 0..%" G_GUINT64_FORMAT,
        name, max);
    return FALSE;
  }
  *out = (guint64) json_node_get_int (n);
  return TRUE;
}

static OpSkeleton *
parse_skeleton (JsonObject * o, GError ** error)
{
  JsonArray *nodes, *edges = NULL;
  const gchar *name = NULL;
  OpSkeleton *sk;
  GPtrArray *names;
  guint i, n;

  if (json_object_has_member (o, "name")) {
    JsonNode *nn = json_object_get_member (o, "name");
    if (!JSON_NODE_HOLDS_NULL (nn)) {
      if (!JSON_NODE_HOLDS_VALUE (nn)
          || json_node_get_value_type (nn) != G_TYPE_STRING) {
        INVALID (error, "skeleton \"name\" is not a string");
        return NULL;
      }
      name = json_node_get_string (nn);
    }
  }
  if (!json_object_has_member (o, "nodes")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "nodes"))) {
    INVALID (error, "skeleton \"nodes\" is missing or not an array");
    return NULL;
  }
  nodes = json_object_get_array_member (o, "nodes");
  n = json_array_get_length (nodes);
  names = g_ptr_array_sized_new (n);
  for (i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (nodes, i);
    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_STRING) {
      g_ptr_array_unref (names);
      INVALID (error, "skeleton node %u is not a string", i);
      return NULL;
    }
    g_ptr_array_add (names, (gpointer) json_node_get_string (e));
  }
  sk = op_skeleton_new (name, (const gchar * const *) names->pdata, n);
  g_ptr_array_unref (names);

  if (json_object_has_member (o, "edges")) {
    JsonNode *en = json_object_get_member (o, "edges");
    if (!JSON_NODE_HOLDS_ARRAY (en))
      goto bad_edges;
    edges = json_node_get_array (en);
  }
  for (i = 0; edges && i < json_array_get_length (edges); i++) {
    JsonNode *e = json_array_get_element (edges, i);
    JsonArray *pair;
    gint64 a, b;
    if (!JSON_NODE_HOLDS_ARRAY (e))
      goto bad_edges;
    pair = json_node_get_array (e);
    if (json_array_get_length (pair) != 2
        || !node_is_integer (json_array_get_element (pair, 0))
        || !node_is_integer (json_array_get_element (pair, 1)))
      goto bad_edges;
    a = json_array_get_int_element (pair, 0);
    b = json_array_get_int_element (pair, 1);
    if (a < 0 || b < 0 || a >= n || b >= n)
      goto bad_edges;
    op_skeleton_add_edge (sk, (guint) a, (guint) b);
  }
  return sk;

bad_edges:
  op_skeleton_unref (sk);
  INVALID (error, "skeleton \"edges\" must be [[a, b], ...] with node indices "
      "below %u", n);
  return NULL;
}

static gboolean
parse_instance (JsonNode * node, guint index, OpAnnotation * ann,
    GError ** error)
{
  JsonObject *o;
  JsonNode *n;
  JsonArray *kps;
  OpInstance *inst;
  OpInstanceKind kind = OP_INSTANCE_USER;
  guint k, n_kps, want = ann->skeleton ? ann->skeleton->n_nodes : 0;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    INVALID (error, "instance %u is not an object", index);
    return FALSE;
  }
  o = json_node_get_object (node);

  n = json_object_get_member (o, "kind");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_STRING
        || !op_instance_kind_from_string (json_node_get_string (n), &kind)) {
      INVALID (error,
          "instance %u: \"kind\" must be \"user\", \"predicted\" "
          "or \"detection\"", index);
      return FALSE;
    }
  }

  n = json_object_get_member (o, "keypoints");
  kps = (n && JSON_NODE_HOLDS_ARRAY (n)) ? json_node_get_array (n) : NULL;
  if (n && !JSON_NODE_HOLDS_NULL (n) && kps == NULL) {
    INVALID (error, "instance %u: \"keypoints\" is not an array", index);
    return FALSE;
  }
  n_kps = kps ? json_array_get_length (kps) : 0;
  if (n_kps != want && !(n_kps == 0 && kind == OP_INSTANCE_DETECTION)) {
    INVALID (error, "instance %u has %u keypoints, the skeleton has %u nodes",
        index, n_kps, want);
    return FALSE;
  }

  inst = op_annotation_add_instance (ann, kind);
  if (n_kps == 0 && inst->n_keypoints > 0) {
    /* a detection without keypoints */
    op_instance_clear (inst);
  }

  n = json_object_get_member (o, "track");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!node_is_integer (n) || json_node_get_int (n) < -1
        || json_node_get_int (n) > G_MAXINT) {
      INVALID (error, "instance %u: \"track\" is not an integer >= -1", index);
      return FALSE;
    }
    inst->track = (gint) json_node_get_int (n);
  }
  n = json_object_get_member (o, "track_name");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_STRING) {
      INVALID (error, "instance %u: \"track_name\" is not a string", index);
      return FALSE;
    }
    op_instance_set_track_name (inst, json_node_get_string (n));
  }
  if (!read_double (json_object_get_member (o, "score"), &inst->score)) {
    INVALID (error, "instance %u: \"score\" is not a number or null", index);
    return FALSE;
  }
  n = json_object_get_member (o, "bbox");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    JsonArray *b = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
    if (!b || json_array_get_length (b) != 4)
      goto bad_bbox;
    for (k = 0; k < 4; k++)
      if (!node_is_number (json_array_get_element (b, k)))
        goto bad_bbox;
    for (k = 0; k < 4; k++)
      inst->bbox[k] = json_array_get_double_element (b, k);
    inst->has_bbox = TRUE;
  }

  for (k = 0; k < n_kps; k++) {
    JsonNode *e = json_array_get_element (kps, k);
    JsonArray *kp = JSON_NODE_HOLDS_ARRAY (e) ? json_node_get_array (e) : NULL;
    OpKeypoint *p = &inst->keypoints[k];
    guint len = kp ? json_array_get_length (kp) : 0;
    JsonNode *vis;

    if (len < 2 || len > 4
        || !read_double (json_array_get_element (kp, 0), &p->x)
        || !read_double (json_array_get_element (kp, 1), &p->y)
        || (len == 4
            && !read_double (json_array_get_element (kp, 3), &p->score))) {
      INVALID (error,
          "instance %u keypoint %u must be [x, y, visible, score] "
          "with numbers or null", index, k);
      return FALSE;
    }
    vis = len >= 3 ? json_array_get_element (kp, 2) : NULL;
    if (vis == NULL || JSON_NODE_HOLDS_NULL (vis))
      p->visible = !isnan (p->x) && !isnan (p->y);
    else if (node_is_integer (vis))
      p->visible = json_node_get_int (vis) != 0;
    else if (JSON_NODE_HOLDS_VALUE (vis)
        && json_node_get_value_type (vis) == G_TYPE_BOOLEAN)
      p->visible = json_node_get_boolean (vis);
    else {
      INVALID (error, "instance %u keypoint %u: visible must be 0 or 1",
          index, k);
      return FALSE;
    }
    if (isnan (p->x) || isnan (p->y)) {
      p->x = p->y = NAN;
      p->visible = FALSE;
    }
  }
  return TRUE;

bad_bbox:
  INVALID (error, "instance %u: \"bbox\" must be [x, y, w, h] numbers", index);
  return FALSE;
}

static gboolean
parse_crop (JsonObject * o, OpCropInfo * crop, GError ** error)
{
  guint64 v = 0;
  JsonNode *rn;
  JsonArray *r;
  guint k;

  if (!get_uint (o, "instance", G_MAXUINT, &v, TRUE, error))
    return FALSE;
  crop->instance = (guint) v;
  if (!get_uint (o, "width", G_MAXINT, &v, TRUE, error))
    return FALSE;
  crop->width = (guint) v;
  if (!get_uint (o, "height", G_MAXINT, &v, TRUE, error))
    return FALSE;
  crop->height = (guint) v;
  /* a crop of no pixels has no coordinates for its points */
  if (crop->width == 0 || crop->height == 0) {
    INVALID (error, "crop: \"width\" and \"height\" must be at least 1, "
        "not %u x %u", crop->width, crop->height);
    return FALSE;
  }
  rn = json_object_get_member (o, "rect");
  r = (rn && JSON_NODE_HOLDS_ARRAY (rn)) ? json_node_get_array (rn) : NULL;
  if (!r || json_array_get_length (r) != 4)
    goto bad_rect;
  for (k = 0; k < 4; k++) {
    JsonNode *e = json_array_get_element (r, k);
    gint64 x;
    if (!node_is_integer (e))
      goto bad_rect;
    x = json_node_get_int (e);
    if (x < G_MININT || x > G_MAXINT || (k >= 2 && x <= 0))
      goto bad_rect;
    crop->rect[k] = (gint) x;
  }
  return TRUE;

bad_rect:
  INVALID (error, "crop \"rect\" must be [x, y, w, h] integers with w, h > 0");
  return FALSE;
}

/**
 * op_annotation_from_json: (skip)
 * @data: UTF-8 JSON text
 * @length: length of @data in bytes, or -1 when it is NUL-terminated
 * @error: a #GError, or %NULL
 * @ann: an initialised annotation, filled on success (left in an
 *   unspecified but valid state on failure)
 * @fallback_skeleton: (nullable): skeleton to use when the object has
 *   none (later lines of a JSON lines file); also shared when the object's
 *   own skeleton equals it
 *
 * Parses one annotation JSON object of the design. Bindings use
 * op_annotation_new_from_json().
 *
 * Returns: TRUE on success
 *
 * Since: 0.1
 */
gboolean
op_annotation_from_json (OpAnnotation * ann, const gchar * data,
    gssize length, OpSkeleton * fallback_skeleton, GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonNode *root, *n;
  JsonObject *o;
  GError *err = NULL;
  guint64 v;
  gboolean ok = FALSE;
  guint i;

  if (!json_parser_load_from_data (parser, data, length, &err)) {
    g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_SYNTAX,
        "not JSON: %s", err->message);
    g_clear_error (&err);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    INVALID (error, "not a JSON object");
    goto out;
  }
  o = json_node_get_object (root);

  g_array_set_size (ann->instances, 0);
  n = json_object_get_member (o, "source");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_STRING) {
      INVALID (error, "member \"source\" is not a string");
      goto out;
    }
    op_annotation_set_source (ann, json_node_get_string (n));
  }
  if (!get_uint (o, "frame_index", G_MAXINT64, &ann->frame_index, TRUE, error))
    goto out;
  v = GST_CLOCK_TIME_NONE;
  if (!get_uint (o, "pts", G_MAXINT64, &v, FALSE, error))
    goto out;
  ann->pts = v;
  v = 0;
  if (!get_uint (o, "width", G_MAXINT, &v, FALSE, error))
    goto out;
  ann->width = (guint) v;
  v = 0;
  if (!get_uint (o, "height", G_MAXINT, &v, FALSE, error))
    goto out;
  ann->height = (guint) v;
  v = 0;
  if (!get_uint (o, "source_width", G_MAXINT, &v, FALSE, error))
    goto out;
  ann->source_width = (guint) v;
  v = 0;
  if (!get_uint (o, "source_height", G_MAXINT, &v, FALSE, error))
    goto out;
  ann->source_height = (guint) v;
  v = 0;
  if (!get_uint (o, "augment", G_MAXUINT, &v, FALSE, error))
    goto out;
  ann->augment = (guint) v;

  n = json_object_get_member (o, "skeleton");
  if (n && JSON_NODE_HOLDS_OBJECT (n)) {
    OpSkeleton *sk = parse_skeleton (json_node_get_object (n), error);
    if (sk == NULL)
      goto out;
    op_annotation_set_skeleton (ann, op_skeleton_equal (sk, fallback_skeleton)
        ? fallback_skeleton : sk);
    op_skeleton_unref (sk);
  } else if (n && !JSON_NODE_HOLDS_NULL (n)) {
    INVALID (error, "member \"skeleton\" is not an object");
    goto out;
  } else {
    op_annotation_set_skeleton (ann, fallback_skeleton);
  }

  n = json_object_get_member (o, "instances");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n)) {
    INVALID (error, "member \"instances\" is missing or not an array");
    goto out;
  }
  for (i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
    if (!parse_instance (json_array_get_element (json_node_get_array (n), i), i,
            ann, error))
      goto out;

  n = json_object_get_member (o, "crop");
  ann->has_crop = n && JSON_NODE_HOLDS_OBJECT (n);
  if (ann->has_crop) {
    if (!parse_crop (json_node_get_object (n), &ann->crop, error))
      goto out;
    if (ann->instances->len != 1) {
      INVALID (error, "a crop must hold exactly one instance, not %u",
          ann->instances->len);
      goto out;
    }
  } else if (n && !JSON_NODE_HOLDS_NULL (n)) {
    INVALID (error, "member \"crop\" is not an object");
    goto out;
  }
  ok = TRUE;

out:
  g_object_unref (parser);
  return ok;
}

/**
 * op_annotation_new_from_json: (constructor)
 * @json: one annotation JSON object of the design
 * @error: a #GError, or %NULL
 *
 * Returns: (transfer full) (nullable): the annotation, or %NULL with
 *   @error naming the problem
 *
 * Since: 0.2
 */
OpAnnotation *
op_annotation_new_from_json (const gchar * json, GError ** error)
{
  OpAnnotation *ann;

  g_return_val_if_fail (json != NULL, NULL);
  ann = op_annotation_new ();
  if (!op_annotation_from_json (ann, json, -1, NULL, error)) {
    op_annotation_free (ann);
    return NULL;
  }
  return ann;
}

/**
 * op_buffer_get_annotation_json:
 * @buffer: a buffer
 *
 * The design's annotation JSON (with the skeleton) of what
 * op_buffer_get_annotation() returns: a crop's annotation (with `crop`)
 * on a crop buffer, else the frame's.
 *
 * Returns: (transfer full) (nullable): the JSON, or %NULL when @buffer has
 *   no annotation
 *
 * Since: 0.2
 */
gchar *
op_buffer_get_annotation_json (GstBuffer * buffer)
{
  const OpAnnotation *ann;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  ann = op_buffer_get_annotation (buffer);
  return ann ? op_annotation_to_json (ann, TRUE) : NULL;
}

/**
 * op_buffer_add_annotation_json:
 * @buffer: a writable buffer
 * @json: one annotation JSON object of the design (with a `skeleton` when
 *   instances have keypoints; with `crop` for a crop)
 * @error: a #GError, or %NULL
 *
 * Parses @json and puts it on @buffer in place of any onepass meta it had,
 * as op_buffer_add_annotation() does.
 *
 * Returns: %FALSE (@error set to an #OP_ANNOTATION_ERROR naming the
 *   problem, @buffer unchanged) on bad JSON, an invalid annotation or a
 *   buffer that is not writable
 *
 * Since: 0.2
 */
gboolean
op_buffer_add_annotation_json (GstBuffer * buffer, const gchar * json,
    GError ** error)
{
  OpAnnotation ann;
  gboolean ok;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  op_annotation_init (&ann);
  ok = op_annotation_from_json (&ann, json, -1, NULL, error)
      && op_buffer_add_annotation (buffer, &ann, error);
  op_annotation_clear (&ann);
  return ok;
}
