/* onepass: shared, refcounted skeleton (node names and edges).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_SKELETON_H__
#define __OP_SKELETON_H__

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * OpSkeleton:
 * @name: skeleton name (may be empty, never %NULL)
 * @n_nodes: number of nodes
 * @nodes: node names, in the skeleton's own order (the keypoint order)
 * @n_edges: number of edges
 * @edges: 2 * @n_edges node indices, pairs (source, destination)
 * @n_symmetries: number of symmetric node pairs (left/right), 0 if unknown
 * @symmetries: 2 * @n_symmetries node indices, each unordered pair once
 *   (SLEAP's symmetry edges; what a flip swaps)
 *
 * Immutable once shared: a skeleton is built, then referenced by every meta
 * that uses it, never copied per frame. @nodes is %NULL-terminated.
 *
 * A boxed type (copy = a new reference). Bindings read it through the
 * accessors (op_skeleton_get_nodes(), op_skeleton_get_edge(), ...).
 *
 * Since: 0.1
 */
typedef struct _OpSkeleton OpSkeleton;
struct _OpSkeleton {
  gchar *name;
  guint n_nodes;
  gchar **nodes;
  guint n_edges;
  guint *edges;
  guint n_symmetries;
  guint *symmetries;

  /*< private >*/
  gint refcount;
};

#define OP_TYPE_SKELETON (op_skeleton_get_type ())
GType        op_skeleton_get_type (void);

OpSkeleton * op_skeleton_new      (const gchar * name,
                                   const gchar * const * nodes,
                                   guint n_nodes);
void         op_skeleton_add_edge (OpSkeleton * skeleton,
                                   guint src,
                                   guint dst);
void         op_skeleton_add_symmetry (OpSkeleton * skeleton,
                                   guint a,
                                   guint b);
OpSkeleton * op_skeleton_ref      (OpSkeleton * skeleton);
void         op_skeleton_unref    (OpSkeleton * skeleton);
gboolean     op_skeleton_equal    (const OpSkeleton * a,
                                   const OpSkeleton * b);
gint         op_skeleton_find_node (const OpSkeleton * skeleton,
                                   const gchar * name);

const gchar *op_skeleton_get_name (const OpSkeleton * skeleton);
guint        op_skeleton_get_n_nodes (const OpSkeleton * skeleton);
const gchar *op_skeleton_get_node_name (const OpSkeleton * skeleton,
                                   guint index);
const gchar * const *op_skeleton_get_nodes (const OpSkeleton * skeleton);
guint        op_skeleton_get_n_edges (const OpSkeleton * skeleton);
gboolean     op_skeleton_get_edge (const OpSkeleton * skeleton,
                                   guint index,
                                   guint * src,
                                   guint * dst);
guint        op_skeleton_get_n_symmetries (const OpSkeleton * skeleton);
gboolean     op_skeleton_get_symmetry (const OpSkeleton * skeleton,
                                   guint index,
                                   guint * a,
                                   guint * b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpSkeleton, op_skeleton_unref)

G_END_DECLS

#endif /* __OP_SKELETON_H__ */
