/* batchsink: a small S3 client (libcurl, SigV4), one bucket.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_S3_CLIENT_H__
#define __OP_S3_CLIENT_H__

#include "s3config.h"

G_BEGIN_DECLS

typedef struct _OpS3Client OpS3Client;

/* AWS's smallest part (all but the last must be at least this) */
#define OP_S3_MIN_PART_SIZE (G_GUINT64_CONSTANT (5) << 20)

OpS3Client *op_s3_client_new (OpS3Config * config, const gchar * bucket,
    guint64 part_size);
gboolean op_s3_client_check_bucket (OpS3Client * c, GError ** error);
gboolean op_s3_client_put_data (OpS3Client * c, const gchar * key,
    const guint8 * data, gsize len, GError ** error);
gboolean op_s3_client_put_file (OpS3Client * c, const gchar * key,
    const gchar * path, GError ** error);
void op_s3_client_counters (OpS3Client * c, guint64 * requests,
    guint64 * bytes);
void op_s3_client_free (OpS3Client * c);

G_END_DECLS

#endif /* __OP_S3_CLIENT_H__ */
