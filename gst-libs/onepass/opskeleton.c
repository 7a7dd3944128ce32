/* onepass: shared, refcounted skeleton.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opskeleton.h"

#include <string.h>

G_DEFINE_BOXED_TYPE (OpSkeleton, op_skeleton, op_skeleton_ref,
    op_skeleton_unref);

/**
 * op_skeleton_new:
 * @name: (nullable): skeleton name
 * @nodes: (array length=n_nodes): node names in keypoint order
 * @n_nodes: number of nodes
 *
 * Returns: (transfer full): a new skeleton with no edges
 *
 * Since: 0.1
 */
OpSkeleton *
op_skeleton_new (const gchar * name, const gchar * const *nodes, guint n_nodes)
{
  OpSkeleton *s = g_new0 (OpSkeleton, 1);
  guint i;

  s->refcount = 1;
  s->name = g_strdup (name ? name : "");
  s->n_nodes = n_nodes;
  s->nodes = g_new0 (gchar *, n_nodes + 1);
  for (i = 0; i < n_nodes; i++)
    s->nodes[i] = g_strdup (nodes[i]);
  return s;
}

/**
 * op_skeleton_add_edge:
 * @skeleton: a skeleton that is not shared yet
 * @src: source node index
 * @dst: destination node index
 *
 * Adds an edge. Only call this while building, before the skeleton is shared.
 *
 * Since: 0.1
 */
void
op_skeleton_add_edge (OpSkeleton * s, guint src, guint dst)
{
  g_return_if_fail (s != NULL);
  g_return_if_fail (src < s->n_nodes && dst < s->n_nodes);

  s->edges = g_renew (guint, s->edges, 2 * (s->n_edges + 1));
  s->edges[2 * s->n_edges] = src;
  s->edges[2 * s->n_edges + 1] = dst;
  s->n_edges++;
}

/**
 * op_skeleton_add_symmetry:
 * @skeleton: a skeleton that is not shared yet
 * @a: a node index
 * @b: the index of its mirror node
 *
 * Records that @a and @b are each other's mirror image (left and right ear).
 * The pair is unordered and kept once: SLEAP stores both directions.
 *
 * Since: 0.2
 */
void
op_skeleton_add_symmetry (OpSkeleton * s, guint a, guint b)
{
  guint i;

  g_return_if_fail (s != NULL);
  g_return_if_fail (a < s->n_nodes && b < s->n_nodes && a != b);

  for (i = 0; i < s->n_symmetries; i++) {
    guint x = s->symmetries[2 * i], y = s->symmetries[2 * i + 1];
    if ((x == a && y == b) || (x == b && y == a))
      return;
  }
  s->symmetries = g_renew (guint, s->symmetries, 2 * (s->n_symmetries + 1));
  s->symmetries[2 * s->n_symmetries] = MIN (a, b);
  s->symmetries[2 * s->n_symmetries + 1] = MAX (a, b);
  s->n_symmetries++;
}

/**
 * op_skeleton_ref:
 * @skeleton: a skeleton
 *
 * Returns: (transfer full): @skeleton, with one more reference
 *
 * Since: 0.1
 */
OpSkeleton *
op_skeleton_ref (OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_atomic_int_inc (&s->refcount);
  return s;
}

/**
 * op_skeleton_unref:
 * @skeleton: (transfer full): a skeleton
 *
 * Drops a reference; the last one frees the skeleton.
 *
 * Since: 0.1
 */
void
op_skeleton_unref (OpSkeleton * s)
{
  g_return_if_fail (s != NULL);
  if (!g_atomic_int_dec_and_test (&s->refcount))
    return;
  g_free (s->name);
  g_strfreev (s->nodes);
  g_free (s->edges);
  g_free (s->symmetries);
  g_free (s);
}

/**
 * op_skeleton_equal:
 * @a: (nullable): a skeleton
 * @b: (nullable): another skeleton
 *
 * Returns: whether @a and @b have the same name, nodes, edges and
 *   symmetries
 *
 * Since: 0.1
 */
gboolean
op_skeleton_equal (const OpSkeleton * a, const OpSkeleton * b)
{
  guint i;

  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;
  if (a->n_nodes != b->n_nodes || a->n_edges != b->n_edges
      || g_strcmp0 (a->name, b->name) != 0)
    return FALSE;
  for (i = 0; i < a->n_nodes; i++)
    if (g_strcmp0 (a->nodes[i], b->nodes[i]) != 0)
      return FALSE;
  if (a->n_edges != 0
      && memcmp (a->edges, b->edges, 2 * a->n_edges * sizeof (guint)) != 0)
    return FALSE;
  return a->n_symmetries == b->n_symmetries && (a->n_symmetries == 0
      || memcmp (a->symmetries, b->symmetries,
          2 * a->n_symmetries * sizeof (guint)) == 0);
}

/**
 * op_skeleton_find_node:
 * @skeleton: a skeleton
 * @name: a node name
 *
 * Returns: the index of the node called @name, or -1
 *
 * Since: 0.1
 */
gint
op_skeleton_find_node (const OpSkeleton * s, const gchar * name)
{
  guint i;

  g_return_val_if_fail (s != NULL, -1);

  for (i = 0; i < s->n_nodes; i++)
    if (g_strcmp0 (s->nodes[i], name) == 0)
      return (gint) i;
  return -1;
}

/**
 * op_skeleton_get_name:
 * @skeleton: a skeleton
 *
 * Returns: (transfer none): the skeleton's name (may be empty)
 *
 * Since: 0.2
 */
const gchar *
op_skeleton_get_name (const OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->name;
}

/**
 * op_skeleton_get_n_nodes:
 * @skeleton: a skeleton
 *
 * Returns: the number of nodes, which is every instance's keypoint count
 *
 * Since: 0.2
 */
guint
op_skeleton_get_n_nodes (const OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_nodes;
}

/**
 * op_skeleton_get_node_name:
 * @skeleton: a skeleton
 * @index: a node index
 *
 * Returns: (transfer none) (nullable): the name of node @index, %NULL when
 *   @index is not below the node count
 *
 * Since: 0.2
 */
const gchar *
op_skeleton_get_node_name (const OpSkeleton * s, guint index)
{
  g_return_val_if_fail (s != NULL, NULL);
  return index < s->n_nodes ? s->nodes[index] : NULL;
}

/**
 * op_skeleton_get_nodes:
 * @skeleton: a skeleton
 *
 * Returns: (transfer none) (array zero-terminated=1): the node names in
 *   keypoint order
 *
 * Since: 0.2
 */
const gchar *const *
op_skeleton_get_nodes (const OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return (const gchar * const *) s->nodes;
}

/**
 * op_skeleton_get_n_edges:
 * @skeleton: a skeleton
 *
 * Returns: the number of edges
 *
 * Since: 0.2
 */
guint
op_skeleton_get_n_edges (const OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_edges;
}

/**
 * op_skeleton_get_edge:
 * @skeleton: a skeleton
 * @index: an edge index
 * @src: (out) (optional): source node index
 * @dst: (out) (optional): destination node index
 *
 * Returns: %FALSE when @index is not below the edge count
 *
 * Since: 0.2
 */
gboolean
op_skeleton_get_edge (const OpSkeleton * s, guint index, guint * src,
    guint * dst)
{
  g_return_val_if_fail (s != NULL, FALSE);
  if (index >= s->n_edges)
    return FALSE;
  if (src)
    *src = s->edges[2 * index];
  if (dst)
    *dst = s->edges[2 * index + 1];
  return TRUE;
}

/**
 * op_skeleton_get_n_symmetries:
 * @skeleton: a skeleton
 *
 * Returns: the number of symmetric node pairs
 *
 * Since: 0.2
 */
guint
op_skeleton_get_n_symmetries (const OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->n_symmetries;
}

/**
 * op_skeleton_get_symmetry:
 * @skeleton: a skeleton
 * @index: a pair index
 * @a: (out) (optional): the lower node index of the pair
 * @b: (out) (optional): the higher node index
 *
 * Returns: %FALSE when @index is not below the pair count
 *
 * Since: 0.2
 */
gboolean
op_skeleton_get_symmetry (const OpSkeleton * s, guint index, guint * a,
    guint * b)
{
  g_return_val_if_fail (s != NULL, FALSE);
  if (index >= s->n_symmetries)
    return FALSE;
  if (a)
    *a = s->symmetries[2 * index];
  if (b)
    *b = s->symmetries[2 * index + 1];
  return TRUE;
}
