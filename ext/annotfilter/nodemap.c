/* onepass: annotfilter's node-map (seed 000's joint lookup table).
 *
 * A CSV of `from,to` rows (an optional header row `from,to`). The target
 * skeleton's nodes are the distinct `to` values in the order they first
 * appear; a label file's node named in `from` becomes that target node,
 * nodes not named are dropped, target nodes no source node maps to are
 * NaN. One file may list the names of several source skeletons (rows
 * `nose,head` and `snout,head`), so that sessions labeled with different
 * skeletons become one dataset. The target skeleton is the same for every
 * input: its name is the map file's base name without extension and it
 * has no edges or symmetries (the source skeletons' edges differ, and a
 * dataset has one skeleton). Never guessed: two nodes of one skeleton
 * mapped onto one target node, or a skeleton none of whose nodes the map
 * names, is an error naming the files and nodes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "nodemap.h"

#include <math.h>
#include <string.h>

struct _OpNodeMap
{
  gchar *path;
  GHashTable *to_index;         /* from name -> target index + 1 */
  OpSkeleton *target;
};

void
op_node_map_free (OpNodeMap * map)
{
  if (!map)
    return;
  g_free (map->path);
  g_hash_table_unref (map->to_index);
  if (map->target)
    op_skeleton_unref (map->target);
  g_free (map);
}

static gchar *
csv_field (const gchar * s)
{
  gchar *f = g_strstrip (g_strdup (s));
  gsize n = strlen (f);

  /* quoted fields: "a b" -> a b (no embedded commas in node names) */
  if (n >= 2 && f[0] == '"' && f[n - 1] == '"') {
    memmove (f, f + 1, n - 2);
    f[n - 2] = '\0';
  }
  return f;
}

#define MAP_ERROR(error, ...) \
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED, __VA_ARGS__)

OpNodeMap *
op_node_map_load (const gchar * path, GError ** error)
{
  OpNodeMap *map = g_new0 (OpNodeMap, 1);
  GPtrArray *targets = g_ptr_array_new_with_free_func (g_free);
  gchar *text = NULL, **lines = NULL, *base, *dot;
  GError *err = NULL;
  guint i;

  map->path = g_strdup (path);
  map->to_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!g_file_get_contents (path, &text, NULL, &err)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "node-map %s: %s", path, err->message);
    g_clear_error (&err);
    goto fail;
  }
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar **cols, *from, *to;
    guint t;

    g_strchomp (lines[i]);
    if (lines[i][0] == '\0' || lines[i][0] == '#')
      continue;
    cols = g_strsplit (lines[i], ",", -1);
    if (g_strv_length (cols) != 2) {
      MAP_ERROR (error, "node-map %s: line %u has %u columns, expected 2 "
          "(from,to)", path, i + 1, g_strv_length (cols));
      g_strfreev (cols);
      goto fail;
    }
    from = csv_field (cols[0]);
    to = csv_field (cols[1]);
    g_strfreev (cols);
    if (targets->len == 0 && !strcmp (from, "from") && !strcmp (to, "to")) {
      g_free (from);
      g_free (to);
      continue;
    }
    if (!*from || !*to) {
      MAP_ERROR (error, "node-map %s: line %u has an empty node name", path,
          i + 1);
      g_free (from);
      g_free (to);
      goto fail;
    }
    if (g_hash_table_contains (map->to_index, from)) {
      MAP_ERROR (error, "node-map %s: node \"%s\" is mapped twice (line %u)",
          path, from, i + 1);
      g_free (from);
      g_free (to);
      goto fail;
    }
    for (t = 0; t < targets->len; t++)
      if (!strcmp (targets->pdata[t], to))
        break;
    if (t == targets->len)
      g_ptr_array_add (targets, g_strdup (to));
    g_hash_table_insert (map->to_index, from, GUINT_TO_POINTER (t + 1));
    g_free (to);
  }
  if (targets->len == 0) {
    MAP_ERROR (error, "node-map %s: no from,to rows", path);
    goto fail;
  }
  base = g_path_get_basename (path);
  if ((dot = strchr (base, '.')) && dot != base)
    *dot = '\0';
  map->target = op_skeleton_new (base, (const gchar * const *) targets->pdata,
      targets->len);
  g_free (base);
  g_strfreev (lines);
  g_free (text);
  g_ptr_array_unref (targets);
  return map;

fail:
  g_strfreev (lines);
  g_free (text);
  g_ptr_array_unref (targets);
  op_node_map_free (map);
  return NULL;
}

/* For one source skeleton: src_of[target] = source node index, or -1. */
static gint *
build_index (const OpNodeMap * map, const OpSkeleton * sk,
    const gchar * labels_path, GError ** error)
{
  guint n = map->target->n_nodes, i, found = 0;
  gint *src_of = g_new (gint, n);

  for (i = 0; i < n; i++)
    src_of[i] = -1;
  for (i = 0; i < sk->n_nodes; i++) {
    gpointer v = g_hash_table_lookup (map->to_index, sk->nodes[i]);
    guint t;

    if (!v)
      continue;
    t = GPOINTER_TO_UINT (v) - 1;
    if (src_of[t] >= 0) {
      MAP_ERROR (error, "%s: node-map %s maps both \"%s\" and \"%s\" onto "
          "\"%s\"", labels_path, map->path, sk->nodes[src_of[t]],
          sk->nodes[i], map->target->nodes[t]);
      g_free (src_of);
      return NULL;
    }
    src_of[t] = i;
    found++;
  }
  if (found == 0) {
    gchar *names = g_strjoinv (", ", sk->nodes);
    MAP_ERROR (error, "%s: node-map %s names none of the skeleton's nodes "
        "(%s)", labels_path, map->path, names);
    g_free (names);
    g_free (src_of);
    return NULL;
  }
  return src_of;
}

/* New point columns: every instance of a frame whose skeleton is not the
 * target gets the target's nodes (NaN where no source node maps). */
typedef struct
{
  gdouble *x, *y, *score;
  guint8 *visible;
  gsize n;
} Points;

static void
copy_point (const OpLabels * l, gsize from, Points * p, gsize to)
{
  p->x[to] = l->x[from];
  p->y[to] = l->y[from];
  p->visible[to] = l->visible[from];
  if (p->score)
    p->score[to] = l->score[from];
}

static void
missing_point (Points * p, gsize to)
{
  p->x[to] = p->y[to] = NAN;
  p->visible[to] = 0;
  if (p->score)
    p->score[to] = NAN;
}

/**
 * op_node_map_apply:
 *
 * Rewrites every frame of @labels onto the map's target skeleton.
 */
gboolean
op_node_map_apply (const OpNodeMap * map, OpLabels * labels, GError ** error)
{
  /* one index per distinct source skeleton (frames share them) */
  GHashTable *indices = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  guint n = map->target->n_nodes;
  guint32 target;
  Points p = { 0, };
  gsize f, i, total = 0;
  gboolean ok = TRUE;

  /* first the indices (and their errors), then the sizes */
  for (f = 0; ok && f < labels->n_frames; f++) {
    OpSkeleton *sk = op_labels_frame_skeleton (labels, &labels->frames[f]);
    gsize count = labels->frames[f].n_instances;

    if (sk && sk != map->target && !g_hash_table_contains (indices, sk)) {
      gint *src_of = build_index (map, sk, labels->path, error);
      if (!src_of) {
        ok = FALSE;
        break;
      }
      g_hash_table_insert (indices, sk, src_of);
    }
    for (i = 0; i < count; i++)
      total += (sk && sk != map->target) ? n :
          labels->instances[labels->frames[f].first_instance + i].n_points;
  }
  if (ok && total > G_MAXUINT32) {
    MAP_ERROR (error, "node-map %s: %s would have more than %u keypoints",
        map->path, labels->path, G_MAXUINT32);
    ok = FALSE;
  }
  if (!ok)
    goto done;

  p.x = g_new (gdouble, MAX (total, 1));
  p.y = g_new (gdouble, MAX (total, 1));
  p.visible = g_new (guint8, MAX (total, 1));
  p.score = labels->score ? g_new (gdouble, MAX (total, 1)) : NULL;
  target = op_labels_intern_skeleton (labels, map->target);
  for (f = 0; f < labels->n_frames; f++) {
    OpLabelsFrame *lf = &labels->frames[f];
    OpSkeleton *sk = op_labels_frame_skeleton (labels, lf);
    const gint *src_of = sk ? g_hash_table_lookup (indices, sk) : NULL;

    for (i = 0; i < lf->n_instances; i++) {
      OpLabelsInstance *inst = &labels->instances[lf->first_instance + i];
      guint t, k = src_of ? n : inst->n_points;

      for (t = 0; t < k; t++) {
        if (!src_of)
          copy_point (labels, inst->first_point + t, &p, p.n + t);
        else if (src_of[t] >= 0 && (guint) src_of[t] < inst->n_points)
          copy_point (labels, inst->first_point + src_of[t], &p, p.n + t);
        else
          missing_point (&p, p.n + t);
      }
      inst->first_point = p.n;
      inst->n_points = k;
      p.n += k;
    }
    lf->skeleton = target;
  }
  op_labels_replace_points (labels, p.x, p.y, p.visible, p.score, p.n);

done:
  g_hash_table_unref (indices);
  return ok;
}
