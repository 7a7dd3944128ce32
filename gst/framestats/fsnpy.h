/* onepass: framestats' .npy writer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FS_NPY_H__
#define __OP_FS_NPY_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OpNpyWriter OpNpyWriter;

OpNpyWriter *op_npy_writer_new (const gchar * path, const gchar * descr,
    guint n_dims, const guint64 * item_shape, gboolean stacked,
    GError ** error);
gboolean op_npy_writer_append (OpNpyWriter * w, gconstpointer item,
    GError ** error);
guint64 op_npy_writer_n_items (OpNpyWriter * w);
gboolean op_npy_writer_finish (OpNpyWriter * w, GError ** error);
void op_npy_writer_abort (OpNpyWriter * w);

G_END_DECLS

#endif /* __OP_FS_NPY_H__ */
