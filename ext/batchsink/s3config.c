/* batchsink: S3 credentials, region and endpoint, read the way the AWS
 * tools read them:
 * - keys: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *   else the profile AWS_PROFILE (default "default") of
 *   AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials);
 * - region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in
 *   AWS_CONFIG_FILE (default ~/.aws/config), else us-east-1;
 * - endpoint: batchsink's `endpoint` property, else AWS_ENDPOINT_URL,
 *   else AWS itself.
 * Errors name the files and variables, never a key.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "s3config.h"

#include <gio/gio.h>
#include <string.h>

static gchar *
env_value (const gchar * name)
{
  const gchar *v = g_getenv (name);

  return v && *v ? g_strdup (v) : NULL;
}

static gchar *
aws_file (const gchar * env, const gchar * name)
{
  gchar *path = env_value (env);

  return path ? path : g_build_filename (g_get_home_dir (), ".aws", name, NULL);
}

/* @key of @group in the INI file @path, or %NULL */
static gchar *
ini_value (const gchar * path, const gchar * group, const gchar * key)
{
  GKeyFile *kf = g_key_file_new ();
  gchar *v = NULL;

  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    v = g_key_file_get_string (kf, group, key, NULL);
  g_key_file_free (kf);
  if (v)
    g_strstrip (v);
  return v;
}

static gboolean
load_keys (OpS3Config * c, const gchar * profile, GError ** error)
{
  gchar *path;

  c->access_key = env_value ("AWS_ACCESS_KEY_ID");
  c->secret_key = env_value ("AWS_SECRET_ACCESS_KEY");
  if (c->access_key && c->secret_key) {
    c->session_token = env_value ("AWS_SESSION_TOKEN");
    c->origin = g_strdup ("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    return TRUE;
  }
  g_clear_pointer (&c->access_key, g_free);
  g_clear_pointer (&c->secret_key, g_free);
  path = aws_file ("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  c->access_key = ini_value (path, profile, "aws_access_key_id");
  c->secret_key = ini_value (path, profile, "aws_secret_access_key");
  c->session_token = ini_value (path, profile, "aws_session_token");
  c->origin = g_strdup_printf ("profile %s in %s", profile, path);
  g_free (path);
  if (c->access_key && *c->access_key && c->secret_key && *c->secret_key)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
      "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
      "or aws_access_key_id and aws_secret_access_key in %s", c->origin);
  return FALSE;
}

static gchar *
load_region (const gchar * profile)
{
  gchar *v = env_value ("AWS_REGION");
  gchar *path, *group;

  if (!v)
    v = env_value ("AWS_DEFAULT_REGION");
  if (v)
    return v;
  path = aws_file ("AWS_CONFIG_FILE", "config");
  group = strcmp (profile, "default") == 0 ? g_strdup (profile) :
      g_strdup_printf ("profile %s", profile);
  v = ini_value (path, group, "region");
  g_free (group);
  g_free (path);
  return v && *v ? v : (g_free (v), g_strdup ("us-east-1"));
}

/**
 * op_s3_config_load:
 * @endpoint: (nullable): the `endpoint` property; wins over AWS_ENDPOINT_URL
 *
 * Returns: (transfer full) the configuration, or %NULL without credentials
 * or with an endpoint that is not an http(s) URL.
 */
OpS3Config *
op_s3_config_load (const gchar * endpoint, GError ** error)
{
  OpS3Config *c = g_new0 (OpS3Config, 1);
  gchar *profile = env_value ("AWS_PROFILE");

  if (!profile)
    profile = g_strdup ("default");
  c->endpoint = endpoint && *endpoint ? g_strdup (endpoint) :
      env_value ("AWS_ENDPOINT_URL");
  if (c->endpoint) {
    gsize n = strlen (c->endpoint);

    while (n > 0 && c->endpoint[n - 1] == '/')
      c->endpoint[--n] = '\0';
    if (!g_str_has_prefix (c->endpoint, "http://")
        && !g_str_has_prefix (c->endpoint, "https://")) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "S3 endpoint \"%s\" is not an http:// or https:// URL", c->endpoint);
      goto fail;
    }
  }
  if (!load_keys (c, profile, error))
    goto fail;
  c->region = load_region (profile);
  g_free (profile);
  return c;

fail:
  g_free (profile);
  op_s3_config_free (c);
  return NULL;
}

void
op_s3_config_free (OpS3Config * c)
{
  if (!c)
    return;
  g_free (c->access_key);
  if (c->secret_key)
    memset (c->secret_key, 0, strlen (c->secret_key));
  g_free (c->secret_key);
  g_free (c->session_token);
  g_free (c->region);
  g_free (c->endpoint);
  g_free (c->origin);
  g_free (c);
}

/* Object keys are built from the prefix and onepass's own file names, so
 * only characters that need no URL encoding are allowed. */
static gboolean
key_chars_ok (const gchar * s)
{
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && !strchr ("-_./", *s))
      return FALSE;
  return TRUE;
}

/**
 * op_s3_url_parse:
 * @url: `s3://bucket/prefix/...`
 * @bucket: (out) (transfer full): the bucket
 * @prefix: (out) (transfer full): the rest after `bucket/` ("" for none)
 */
gboolean
op_s3_url_parse (const gchar * url, gchar ** bucket, gchar ** prefix,
    GError ** error)
{
  const gchar *b, *slash;

  if (g_ascii_strncasecmp (url, "s3://", 5) != 0)
    goto bad;
  b = url + 5;
  slash = strchr (b, '/');
  *bucket = slash ? g_strndup (b, slash - b) : g_strdup (b);
  *prefix = g_strdup (slash ? slash + 1 : "");
  if (**bucket && key_chars_ok (*bucket) && !strchr (*bucket, '/')
      && key_chars_ok (*prefix) && !strstr (*prefix, "//")
      && !g_str_has_prefix (*prefix, "/"))
    return TRUE;
  g_clear_pointer (bucket, g_free);
  g_clear_pointer (prefix, g_free);
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "\"%s\" is not an s3://bucket/prefix/ URL onepass can write (bucket "
      "and prefix may hold only A-Z a-z 0-9 - _ . /)", url);
  return FALSE;
}
