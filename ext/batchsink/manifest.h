/* batchsink: a run's manifest, the one writer of `<run>.manifest.json`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_MANIFEST_H__
#define __OP_BATCH_MANIFEST_H__

#include "opwriter.h"
#include "dataset.h"

G_BEGIN_DECLS

typedef struct _OpManifest OpManifest;

OpManifest *op_manifest_new       (const gchar * path, const gchar * format,
                                   const OpWriterConfig * config);
void        op_manifest_keep      (OpManifest * m, const OpRunShard * shard);
void        op_manifest_add       (OpManifest * m, const gchar * path,
                                   const gchar * split, guint index,
                                   guint64 samples, guint64 bytes,
                                   const gchar * last_key,
                                   const gchar * const *sources);
void        op_manifest_merge_split (OpManifest * m, const gchar * path,
                                   const gchar * split, guint64 bytes);
void        op_manifest_note      (OpManifest * m, const OpAnnotation * ann);
void        op_manifest_add_loose (OpManifest * m, guint64 samples,
                                   guint64 bytes);
void        op_manifest_set_upload (OpManifest * m, guint64 requests,
                                   guint64 bytes);
guint       op_manifest_n_shards  (OpManifest * m);
guint64     op_manifest_n_samples (OpManifest * m);
gboolean    op_manifest_write     (OpManifest * m, gboolean complete,
                                   GError ** error);
void        op_manifest_free      (OpManifest * m);

G_END_DECLS

#endif /* __OP_BATCH_MANIFEST_H__ */
