/* batchsink: where an S3 request goes and with which keys.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_S3_CONFIG_H__
#define __OP_S3_CONFIG_H__

#include <glib.h>

G_BEGIN_DECLS

/**
 * OpS3Config:
 * @access_key: key id
 * @secret_key: secret (never printed)
 * @session_token: (nullable): temporary credentials' token (never printed)
 * @region: signing region
 * @endpoint: (nullable): base URL of a non-AWS store, no trailing slash;
 *   %NULL: AWS (`https://<bucket>.s3.<region>.amazonaws.com`)
 * @origin: where the keys came from, for messages ("AWS_ACCESS_KEY_ID",
 *   "profile default in ~/.aws/credentials")
 */
typedef struct
{
  gchar *access_key;
  gchar *secret_key;
  gchar *session_token;
  gchar *region;
  gchar *endpoint;
  gchar *origin;
} OpS3Config;

OpS3Config *op_s3_config_load (const gchar * endpoint, GError ** error);
void op_s3_config_free (OpS3Config * config);

gboolean op_s3_url_parse (const gchar * url, gchar ** bucket,
    gchar ** prefix, GError ** error);

G_END_DECLS

#endif /* __OP_S3_CONFIG_H__ */
