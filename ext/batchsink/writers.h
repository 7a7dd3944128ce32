/* batchsink: the dataset formats, one table.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_WRITERS_H__
#define __OP_BATCH_WRITERS_H__

#include <gio/gio.h>
#include "opwriter.h"

G_BEGIN_DECLS

/**
 * OpBatchFormat:
 * @nick: the `format` property's value
 * @description: its description in the GEnum (gst-inspect shows it)
 * @caps: the sample caps the format stores, as a caps string
 * @payload: samples carry their image; FALSE: only the JSON is written
 * @writer: the implementation
 *
 * One dataset format. The `format` GEnum (value = index in
 * op_batch_formats), the writer dispatch and the caps check all come from
 * op_batch_formats: a new format is one writer file and one line there.
 */
typedef struct {
  const gchar *nick;
  const gchar *description;
  const gchar *caps;
  gboolean payload;
  const OpWriterFormat *writer;
} OpBatchFormat;

#define OP_BATCH_N_FORMATS 4

extern const OpBatchFormat op_batch_formats[OP_BATCH_N_FORMATS];

extern const OpWriterFormat op_tar_writer;
extern const OpWriterFormat op_hdf5_writer;
extern const OpWriterFormat op_jsonl_writer;
extern const OpWriterFormat op_dir_writer;

G_END_DECLS

#endif /* __OP_BATCH_WRITERS_H__ */
