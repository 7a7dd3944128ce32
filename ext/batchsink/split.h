/* batchsink: deterministic train/val/... split assignment.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_SPLIT_H__
#define __OP_BATCH_SPLIT_H__

#include <onepass/opannotation.h>

G_BEGIN_DECLS

typedef enum
{
  OP_SPLIT_BY_TRACK,
  OP_SPLIT_BY_SOURCE,
  OP_SPLIT_BY_FRAME,
  OP_SPLIT_BY_SAMPLE,
} OpSplitBy;

typedef struct _OpSplit OpSplit;

OpSplit *op_split_parse (const gchar * spec, GError ** error);
void op_split_free (OpSplit * split);
gchar *op_split_to_string (const OpSplit * split);
gchar *op_split_canonical (OpSplitBy by, const OpAnnotation * ann,
    const gchar * key);
const gchar *op_split_assign (OpSplit * split, const gchar * canonical);
gchar *op_split_report (const OpSplit * split, gdouble * worst);
guint op_split_n (const OpSplit * split);
const gchar *op_split_name (const OpSplit * split, guint i);
guint64 op_split_count (const OpSplit * split, guint i);
guint64 op_split_hash (const gchar * s);

G_END_DECLS

#endif /* __OP_BATCH_SPLIT_H__ */
