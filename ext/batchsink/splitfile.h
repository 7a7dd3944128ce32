/* batchsink: the file names of single-file formats with a split.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_SPLIT_FILE_H__
#define __OP_BATCH_SPLIT_FILE_H__

#include <glib.h>

G_BEGIN_DECLS

gchar *op_batch_split_file_path      (const gchar * location,
                                      const gchar * split,
                                      gboolean with_split);
gchar *op_batch_split_file_path_last (const gchar * location,
                                      const gchar * split,
                                      gboolean with_split);

gboolean op_batch_split_file_check    (const gchar * location,
                                      const gchar * format,
                                      const gchar * example,
                                      GError ** error);

G_END_DECLS

#endif /* __OP_BATCH_SPLIT_FILE_H__ */
