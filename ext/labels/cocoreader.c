/* onepass: reader for COCO keypoints and detection JSON (one object with
 * "images", "annotations" and "categories", as pycocotools reads it).
 *
 * Each annotation is one instance of its image's frame:
 * - an image's frame is its "frame_index" member when present, else the last
 *   number in its file name (img_00012.png -> 12, so a COCO file over an
 *   image folder matches multifilesrc's numbering from 0); its video is the
 *   file name's folder ("" when none) and its size the image's width/height;
 * - with "keypoints" (x, y, v triplets, one per name in its category's
 *   "keypoints") it is a pose instance: user, or predicted when it has a
 *   "score" (a results file); v 0 = not labeled (missing), 1 = labeled but
 *   not visible (coordinates kept, not visible), 2 = visible;
 * - without "keypoints" it is a detection (its "bbox" is required);
 * - "track_id" (PoseTrack and video extensions) is the track;
 * - crowd regions (iscrowd 1) are skipped and counted in a warning.
 * Coordinates: COCO keypoints are integer pixel indices (pixel centres, as
 * onepass: unchanged); a bbox is in continuous coordinates with the image
 * corner at 0, 0, so its corner moves by -0.5 (docs/labelreaders.md).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "textutil.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  OpSkeleton *skeleton;         /* NULL when the category has no keypoints */
} Category;

typedef struct
{
  guint video;
  guint64 frame;
  gint64 id;
  guint slot;                   /* 1 + index in labels->building, 0 = none */
} Image;

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, OP_LABELS_ERROR, code, __VA_ARGS__); \
    goto fail; } G_STMT_END

/* A COCO file is one JSON object whose top level holds an "images" and an
 * "annotations" member. The JSON-lines reader, tried before, claims files
 * whose first line is an annotation object; this probe looks for both
 * member names anywhere in the file (the top-level order is free, and an
 * "info" or "licenses" member may come first), so a JSON file that is not
 * COCO at all is still "not a label file". */
static gboolean
coco_probe (const gchar * path, const guint8 * head, gsize len)
{
  GMappedFile *map;
  const gchar *data;
  gsize size, i;
  gboolean ok;

  for (i = 0; i < len && g_ascii_isspace (head[i]); i++);
  if (i == len || head[i] != '{')
    return FALSE;
  map = g_mapped_file_new (path, FALSE, NULL);
  if (map == NULL)
    return FALSE;
  data = g_mapped_file_get_contents (map);
  size = g_mapped_file_get_length (map);
  ok = data && g_strstr_len (data, size, "\"images\"")
      && g_strstr_len (data, size, "\"annotations\"");
  g_mapped_file_unref (map);
  return ok;
}

static gboolean
get_int (JsonObject * o, const gchar * member, gint64 * value)
{
  JsonNode *n = json_object_get_member (o, member);
  gdouble d;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64) {
    *value = json_node_get_int (n);
    return TRUE;
  }
  if (json_node_get_value_type (n) != G_TYPE_DOUBLE)
    return FALSE;
  d = json_node_get_double (n);
  if (d != (gint64) d)
    return FALSE;
  *value = (gint64) d;
  return TRUE;
}

static gboolean
get_number (JsonNode * n, gdouble * value)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    *value = json_node_get_int (n);
  else if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    *value = json_node_get_double (n);
  else
    return FALSE;
  return isfinite (*value);
}

static JsonArray *
get_array (JsonObject * o, const gchar * member)
{
  JsonNode *n = json_object_get_member (o, member);

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static void
category_free (gpointer data)
{
  Category *c = data;

  g_clear_pointer (&c->skeleton, op_skeleton_unref);
  g_free (c);
}

/* categories -> id -> Category; keypoint names and 1-based skeleton pairs */
static GHashTable *
read_categories (JsonObject * root, GError ** error)
{
  GHashTable *cats = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, category_free);
  JsonArray *arr = get_array (root, "categories");
  guint i, k;

  if (arr == NULL && json_object_has_member (root, "categories"))
    FAIL (OP_LABELS_ERROR_CORRUPT, "\"categories\" is not a list");
  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonNode *n = json_array_get_element (arr, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : 0;
    JsonArray *names, *pairs;
    Category *c;
    gint64 id, *key;
    GPtrArray *strv;

    if (o == NULL || !get_int (o, "id", &id))
      FAIL (OP_LABELS_ERROR_CORRUPT, "categories[%u] has no integer \"id\"", i);
    if (g_hash_table_contains (cats, &id))
      FAIL (OP_LABELS_ERROR_CORRUPT, "categories[%u]: id %" G_GINT64_FORMAT
          " is used twice", i, id);
    c = g_new0 (Category, 1);
    key = g_new (gint64, 1);
    *key = id;
    g_hash_table_insert (cats, key, c);
    names = get_array (o, "keypoints");
    if (names == NULL || json_array_get_length (names) == 0)
      continue;
    strv = g_ptr_array_new ();
    for (k = 0; k < json_array_get_length (names); k++) {
      JsonNode *s = json_array_get_element (names, k);
      if (!JSON_NODE_HOLDS_VALUE (s)
          || json_node_get_value_type (s) != G_TYPE_STRING) {
        g_ptr_array_unref (strv);
        FAIL (OP_LABELS_ERROR_CORRUPT, "categories[%u]: keypoint name %u is "
            "not a string", i, k);
      }
      g_ptr_array_add (strv, (gpointer) json_node_get_string (s));
    }
    c->skeleton = op_skeleton_new (json_object_has_member (o, "name")
        && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "name")) ?
        json_object_get_string_member (o, "name") : NULL,
        (const gchar * const *) strv->pdata, strv->len);
    g_ptr_array_unref (strv);
    pairs = get_array (o, "skeleton");
    for (k = 0; pairs && k < json_array_get_length (pairs); k++) {
      JsonNode *p = json_array_get_element (pairs, k);
      JsonArray *pa = JSON_NODE_HOLDS_ARRAY (p) ? json_node_get_array (p) : 0;
      gdouble a, b;
      guint nn = json_array_get_length (names);
      if (pa == NULL || json_array_get_length (pa) != 2
          || !get_number (json_array_get_element (pa, 0), &a)
          || !get_number (json_array_get_element (pa, 1), &b)
          || a != (gint) a || b != (gint) b || a < 1 || b < 1 || a > nn
          || b > nn)
        FAIL (OP_LABELS_ERROR_CORRUPT, "categories[%u]: skeleton pair %u is "
            "not two 1-based keypoint numbers (1 to %u)", i, k, nn);
      op_skeleton_add_edge (c->skeleton, (guint) a - 1, (guint) b - 1);
    }
  }
  return cats;

fail:
  g_hash_table_unref (cats);
  return NULL;
}

static guint
video_for_name (OpLabels * l, const gchar * name)
{
  guint i;

  for (i = 0; i < l->videos->len; i++)
    if (g_strcmp0 (g_ptr_array_index (l->videos, i), name) == 0)
      return i;
  g_ptr_array_add (l->videos, g_strdup (name));
  return l->videos->len - 1;
}

/* images -> id -> Image; frames from frame_index or the file name */
static GHashTable *
read_images (JsonObject * root, OpLabels * l, GError ** error)
{
  GHashTable *images = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      NULL, g_free);
  GHashTable *frames = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  JsonArray *arr = get_array (root, "images");
  guint i;

  if (arr == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "\"images\" is missing or not a list");
  for (i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *n = json_array_get_element (arr, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : 0;
    const gchar *file_name = NULL;
    gchar *dir, *fkey;
    gint64 id, w = 0, h = 0, fi;
    guint64 frame;
    Image *img;
    gpointer prev;
    guint vw, vh;

    if (o == NULL || !get_int (o, "id", &id))
      FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u] has no integer \"id\"", i);
    if (g_hash_table_contains (images, &id))
      FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u]: id %" G_GINT64_FORMAT
          " is used twice", i, id);
    if (json_object_has_member (o, "file_name")
        && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "file_name")))
      file_name = json_object_get_string_member (o, "file_name");
    if (json_object_has_member (o, "frame_index")) {
      if (!get_int (o, "frame_index", &fi) || fi < 0)
        FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u] (id %" G_GINT64_FORMAT
            "): \"frame_index\" is not an integer >= 0", i, id);
      frame = (guint64) fi;
    } else if (file_name == NULL || !op_text_number_in_name (file_name, &frame)) {
      FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u] (id %" G_GINT64_FORMAT
          "): no \"frame_index\" and no number in its file name \"%s\"; "
          "onepass needs the frame of each image", i, id,
          file_name ? file_name : "");
    }
    img = g_new0 (Image, 1);
    img->id = id;
    img->frame = frame;
    dir = file_name ? g_path_get_dirname (file_name) : g_strdup (".");
    img->video = video_for_name (l, strcmp (dir, ".") ? dir : "");
    g_free (dir);
    g_hash_table_insert (images, &img->id, img);
    /* two images on one frame would merge two pictures' labels */
    fkey = g_strdup_printf ("%u/%" G_GUINT64_FORMAT, img->video, frame);
    if (g_hash_table_lookup_extended (frames, fkey, NULL, &prev)) {
      g_free (fkey);
      FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u] (id %" G_GINT64_FORMAT
          ") is frame %" G_GUINT64_FORMAT " of video \"%s\", like images[%u]",
          i, id, frame, (gchar *) g_ptr_array_index (l->videos, img->video),
          GPOINTER_TO_UINT (prev) - 1);
    }
    g_hash_table_insert (frames, fkey, GUINT_TO_POINTER (i + 1));
    get_int (o, "width", &w);
    get_int (o, "height", &h);
    if (w > 0 && h > 0 && w <= G_MAXINT && h <= G_MAXINT) {
      if (op_labels_get_video_size (l, img->video, &vw, &vh)
          && (vw != w || vh != h))
        FAIL (OP_LABELS_ERROR_CORRUPT, "images[%u] (id %" G_GINT64_FORMAT
            ") is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ", but an earlier "
            "image of video \"%s\" is %ux%u; one video has one frame size",
            i, id, w, h, (gchar *) g_ptr_array_index (l->videos, img->video),
            vw, vh);
      op_labels_set_video_size (l, img->video, w, h);
    }
  }
  g_hash_table_unref (frames);
  return images;

fail:
  g_hash_table_unref (frames);
  g_hash_table_unref (images);
  return NULL;
}

/* one annotation into its frame; @where names it in errors */
static gboolean
read_annotation (JsonObject * o, const gchar * where, GHashTable * images,
    GHashTable * cats, OpLabels * l, guint * crowd, GError ** error)
{
  gint64 image_id, cat_id, v;
  Image *img;
  Category *cat;
  JsonArray *kps = get_array (o, "keypoints"), *bbox = get_array (o, "bbox");
  OpLabeledFrame *f;
  OpInstance *inst;
  OpSkeleton *sk;
  gdouble b[4], score;
  guint k;

  if (get_int (o, "iscrowd", &v) && v != 0) {
    (*crowd)++;
    return TRUE;
  }
  if (!get_int (o, "image_id", &image_id)
      || (img = g_hash_table_lookup (images, &image_id)) == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"image_id\" names no image", where);
  if (!get_int (o, "category_id", &cat_id)
      || (cat = g_hash_table_lookup (cats, &cat_id)) == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"category_id\" names no category",
        where);
  if (json_object_has_member (o, "keypoints") && kps == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"keypoints\" is not a list", where);
  if (kps && cat->skeleton == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: has keypoints, but its category %"
        G_GINT64_FORMAT " names none", where, cat_id);
  if (kps && json_array_get_length (kps) != 3 * cat->skeleton->n_nodes)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: %u keypoint values; category %"
        G_GINT64_FORMAT " has %u keypoints (x, y, v each: %u values)", where,
        json_array_get_length (kps), cat_id, cat->skeleton->n_nodes,
        3 * cat->skeleton->n_nodes);
  if (bbox && (json_array_get_length (bbox) != 4
          || !get_number (json_array_get_element (bbox, 0), &b[0])
          || !get_number (json_array_get_element (bbox, 1), &b[1])
          || !get_number (json_array_get_element (bbox, 2), &b[2])
          || !get_number (json_array_get_element (bbox, 3), &b[3])
          || b[2] < 0 || b[3] < 0))
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"bbox\" is not [x, y, width, "
        "height] with width, height >= 0", where);
  if (json_object_has_member (o, "bbox") && bbox == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"bbox\" is not a list", where);
  if (kps == NULL && bbox == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "%s: neither \"keypoints\" nor \"bbox\"",
        where);

  sk = kps ? cat->skeleton : NULL;
  if (img->slot == 0) {
    f = op_labels_add_frame (l, img->video, img->frame, sk);
    img->slot = l->building->len;
  } else {
    f = &g_array_index (l->building, OpLabeledFrame, img->slot - 1);
    if (sk && f->ann.skeleton == NULL && f->ann.instances->len > 0) {
      /* detections came first: give them this skeleton's missing points */
      OpAnnotation tmp;
      guint i;
      op_annotation_init (&tmp);
      op_annotation_set_skeleton (&tmp, sk);
      for (i = 0; i < f->ann.instances->len; i++) {
        OpInstance *d = op_annotation_add_instance (&tmp,
            OP_INSTANCE_DETECTION);
        const OpInstance *old = op_annotation_get_instance (&f->ann, i);
        d->track = old->track;
        d->score = old->score;
        op_instance_set_bbox (d, old->bbox[0], old->bbox[1], old->bbox[2],
            old->bbox[3]);
      }
      tmp.frame_index = f->ann.frame_index;
      op_annotation_clear (&f->ann);
      f->ann = tmp;
    } else if (sk && f->ann.skeleton == NULL) {
      op_annotation_set_skeleton (&f->ann, sk);
    } else if (sk && f->ann.skeleton != sk) {
      FAIL (OP_LABELS_ERROR_UNSUPPORTED, "%s: image %" G_GINT64_FORMAT
          " mixes keypoint categories; onepass carries one skeleton per "
          "frame", where, image_id);
    }
  }
  inst = op_annotation_add_instance (&f->ann, kps ? OP_INSTANCE_USER :
      OP_INSTANCE_DETECTION);
  if (json_object_has_member (o, "score")) {
    if (!get_number (json_object_get_member (o, "score"), &score))
      FAIL (OP_LABELS_ERROR_CORRUPT, "%s: \"score\" is not a number", where);
    inst->score = score;
    if (kps)
      inst->kind = OP_INSTANCE_PREDICTED;
  }
  if (get_int (o, "track_id", &v) && v >= 0 && v <= G_MAXINT)
    inst->track = (gint) v;
  if (bbox)
    op_instance_set_bbox (inst, b[0] - 0.5, b[1] - 0.5, b[2], b[3]);
  for (k = 0; kps && k < cat->skeleton->n_nodes; k++) {
    gdouble x, y, vis;
    if (!get_number (json_array_get_element (kps, 3 * k), &x)
        || !get_number (json_array_get_element (kps, 3 * k + 1), &y)
        || !get_number (json_array_get_element (kps, 3 * k + 2), &vis)
        || (vis != 0 && vis != 1 && vis != 2))
      FAIL (OP_LABELS_ERROR_CORRUPT, "%s: keypoint %u (%s) is not x, y, v "
          "numbers with v 0, 1 or 2", where, k,
          op_skeleton_get_node_name (cat->skeleton, k));
    if (vis == 0)
      continue;                 /* not labeled: stays missing */
    inst->keypoints[k].x = x;
    inst->keypoints[k].y = y;
    inst->keypoints[k].visible = vis == 2;
  }
  return TRUE;

fail:
  return FALSE;
}

static OpLabels *
coco_load (const gchar * path, GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *top;
  JsonArray *anns;
  GHashTable *cats = NULL, *images = NULL;
  OpLabels *labels = NULL;
  GError *err = NULL;
  guint i, crowd = 0;

  if (!json_parser_load_from_mapped_file (parser, path, &err)) {
    g_set_error (error, OP_LABELS_ERROR, err->domain == G_FILE_ERROR ?
        OP_LABELS_ERROR_OPEN : OP_LABELS_ERROR_CORRUPT,
        "not valid COCO JSON: %s", err->message);
    g_clear_error (&err);
    g_object_unref (parser);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    FAIL (OP_LABELS_ERROR_CORRUPT, "a COCO file is one JSON object");
  top = json_node_get_object (root);
  anns = get_array (top, "annotations");
  if (anns == NULL)
    FAIL (OP_LABELS_ERROR_CORRUPT, "\"annotations\" is missing or not a list");
  labels = op_labels_new (path, "coco");
  if ((cats = read_categories (top, error)) == NULL
      || (images = read_images (top, labels, error)) == NULL)
    goto fail;
  for (i = 0; i < json_array_get_length (anns); i++) {
    JsonNode *n = json_array_get_element (anns, i);
    gchar *where;
    gint64 id;
    gboolean ok;

    if (!JSON_NODE_HOLDS_OBJECT (n))
      FAIL (OP_LABELS_ERROR_CORRUPT, "annotations[%u] is not an object", i);
    where = get_int (json_node_get_object (n), "id", &id) ?
        g_strdup_printf ("annotations[%u] (id %" G_GINT64_FORMAT ")", i, id) :
        g_strdup_printf ("annotations[%u]", i);
    ok = read_annotation (json_node_get_object (n), where, images, cats,
        labels, &crowd, error);
    g_free (where);
    if (!ok)
      goto fail;
  }
  for (i = 0; i < labels->building->len; i++) {
    OpLabeledFrame *f = &g_array_index (labels->building, OpLabeledFrame, i);
    op_labels_get_video_size (labels, f->video, &f->ann.width, &f->ann.height);
  }
  if (crowd > 0)
    op_labels_add_warning (labels, "%u crowd annotation(s) (iscrowd 1) were "
        "skipped", crowd);
  if (labels->building->len == 0)
    op_labels_add_warning (labels, "the file holds no annotations");
  g_hash_table_unref (cats);
  g_hash_table_unref (images);
  g_object_unref (parser);
  return labels;

fail:
  g_clear_pointer (&cats, g_hash_table_unref);
  g_clear_pointer (&images, g_hash_table_unref);
  g_object_unref (parser);
  op_labels_free (labels);
  return NULL;
}

const OpLabelReader op_coco_reader = { "coco",
  "COCO keypoints or detections JSON", coco_probe, coco_load
};
