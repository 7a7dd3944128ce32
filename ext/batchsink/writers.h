/* batchsink: the dataset formats behind OpWriterFormat.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_WRITERS_H__
#define __OP_BATCH_WRITERS_H__

#include <gio/gio.h>
#include "opwriter.h"

G_BEGIN_DECLS extern const OpWriterFormat op_tar_writer;
extern const OpWriterFormat op_hdf5_writer;
extern const OpWriterFormat op_jsonl_writer;
extern const OpWriterFormat op_dir_writer;

gchar *op_batch_split_file_path (const gchar * location, const gchar * split,
    gboolean with_split);
gchar *op_batch_split_file_path_last (const gchar * location,
    const gchar * split, gboolean with_split);

G_END_DECLS
#endif /* __OP_BATCH_WRITERS_H__ */
