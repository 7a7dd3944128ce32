/* batchsink: a run's S3 destination (staging directory + uploads).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_S3_SINK_H__
#define __OP_S3_SINK_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OpS3Sink OpS3Sink;

/**
 * OpS3SinkSettings:
 * @url: the `location`, `s3://bucket/prefix/` (tar) or
 *   `s3://bucket/prefix/name.jsonl[.gz]` (jsonl)
 * @format: the format nick
 * @staging_dir: (nullable): where shards are written before upload; %NULL:
 *   a new temporary directory, removed at the end
 * @endpoint: (nullable): the `endpoint` property
 * @part_size: multipart threshold and part size
 */
typedef struct
{
  const gchar *url;
  const gchar *format;
  const gchar *staging_dir;
  const gchar *endpoint;
  guint64 part_size;
} OpS3SinkSettings;

gboolean op_s3_is_url (const gchar * location);
OpS3Sink *op_s3_sink_new (const OpS3SinkSettings * settings,
    GError ** error);
const gchar *op_s3_sink_staged_location (OpS3Sink * sink);
gboolean op_s3_sink_upload_shard (OpS3Sink * sink, const gchar * path,
    GError ** error);
gboolean op_s3_sink_upload_index (OpS3Sink * sink,
    const gchar * manifest_path, GError ** error);
void op_s3_sink_counters (OpS3Sink * sink, guint64 * requests,
    guint64 * bytes);
void op_s3_sink_free (OpS3Sink * sink);

G_END_DECLS

#endif /* __OP_S3_SINK_H__ */
