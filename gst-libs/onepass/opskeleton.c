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
 *
 * Adds an edge. Only call this while building, before the skeleton is shared.
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

OpSkeleton *
op_skeleton_ref (OpSkeleton * s)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_atomic_int_inc (&s->refcount);
  return s;
}

void
op_skeleton_unref (OpSkeleton * s)
{
  g_return_if_fail (s != NULL);
  if (!g_atomic_int_dec_and_test (&s->refcount))
    return;
  g_free (s->name);
  g_strfreev (s->nodes);
  g_free (s->edges);
  g_free (s);
}

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
  return a->n_edges == 0
      || memcmp (a->edges, b->edges, 2 * a->n_edges * sizeof (guint)) == 0;
}

/**
 * op_skeleton_find_node:
 *
 * Returns: the index of the node called @name, or -1
 */
gint
op_skeleton_find_node (const OpSkeleton * s, const gchar * name)
{
  guint i;

  for (i = 0; i < s->n_nodes; i++)
    if (g_strcmp0 (s->nodes[i], name) == 0)
      return (gint) i;
  return -1;
}
