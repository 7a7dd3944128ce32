/* batchsink: runs in a shared output directory, and its dataset.json.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_DATASET_H__
#define __OP_BATCH_DATASET_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OpRun OpRun;

/**
 * OpRunShard:
 * @name: file name, relative to the run's directory
 * @split: split name
 * @samples: samples in the file
 * @bytes: bytes on disk
 * @last_key: (nullable): key of the file's last sample
 * @sources: (nullable): the sources of its samples
 *
 * A complete shard that an interrupted run listed in its manifest.
 */
typedef struct
{
  gchar *name;
  gchar *split;
  guint64 samples;
  guint64 bytes;
  gchar *last_key;
  gchar **sources;
} OpRunShard;

OpRun *op_run_claim (const gchar * dir, const gchar * name,
    gboolean overwrite, GError ** error);
const gchar *op_run_manifest_path (OpRun * run);
GArray *op_run_resumed (OpRun * run);
void op_run_release (OpRun * run);

gboolean op_dataset_update (const gchar * dir, GError ** error);

G_END_DECLS

#endif /* __OP_BATCH_DATASET_H__ */
