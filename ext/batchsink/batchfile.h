/* batchsink: files written as <name>.partial, fsynced, then renamed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_FILE_H__
#define __OP_BATCH_FILE_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OpBatchFile OpBatchFile;

OpBatchFile *op_batch_file_open (const gchar * path, GError ** error);
gboolean op_batch_file_write (OpBatchFile * f, const void *data,
    gsize len, GError ** error);
guint64 op_batch_file_size (OpBatchFile * f);
const gchar *op_batch_file_path (OpBatchFile * f);
void op_batch_file_set_path (OpBatchFile * f, const gchar * path);
gboolean op_batch_file_commit (OpBatchFile * f, gboolean sync, GError ** error);
void op_batch_file_abort (OpBatchFile * f);

gboolean op_batch_file_replace (const gchar * path, const void *data,
    gsize len, gboolean sync, GError ** error);
gboolean op_batch_sync_dir (const gchar * dir, GError ** error);
gboolean op_batch_mkdirs (const gchar * dir, GError ** error);
gboolean op_batch_check_dir (const gchar * dir, GError ** error);

void op_batch_fault_reset (void);
gboolean op_batch_fault_take (const gchar * path, gsize len, GError ** error);

G_END_DECLS

#endif /* __OP_BATCH_FILE_H__ */
