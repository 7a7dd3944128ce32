/* onepass: annotfilter's node-map, a CSV `from,to` that renames and reorders
 * a label file's skeleton onto a target skeleton.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_NODE_MAP_H__
#define __OP_NODE_MAP_H__

#include <oplabels.h>

G_BEGIN_DECLS

typedef struct _OpNodeMap OpNodeMap;

OpNodeMap *op_node_map_load  (const gchar * path, GError ** error);
gboolean   op_node_map_apply (const OpNodeMap * map, OpLabels * labels,
                              GError ** error);
void       op_node_map_free  (OpNodeMap * map);

G_END_DECLS

#endif /* __OP_NODE_MAP_H__ */
