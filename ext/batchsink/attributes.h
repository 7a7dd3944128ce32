/* batchsink: per-source attributes (`attributes=FILE`, seed 000's shape
 * betas): a CSV with a `source` column and numeric columns.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_ATTRIBUTES_H__
#define __OP_BATCH_ATTRIBUTES_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _OpAttributes OpAttributes;

OpAttributes  *op_attributes_load    (const gchar * path, GError ** error);
void           op_attributes_free    (OpAttributes * attrs);
const gchar   *op_attributes_path    (const OpAttributes * attrs);
const gdouble *op_attributes_lookup  (const OpAttributes * attrs,
                                      const gchar * source);
void           op_attributes_append_manifest (const OpAttributes * attrs,
                                      GString * out);
gboolean       op_attributes_write_h5 (const OpAttributes * attrs,
                                      gint64 file,
                                      const gchar * const * sources, guint n);
JsonNode      *op_attributes_row_from_manifest (JsonObject * manifest,
                                      const gchar * source);

G_END_DECLS

#endif /* __OP_BATCH_ATTRIBUTES_H__ */
