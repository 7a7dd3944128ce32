/* batchsink: writing a run to S3 (`location=s3://bucket/prefix/`).
 *
 * The tar and jsonl writers work unchanged on a local staging directory
 * (the `staging-dir` property, or a new temporary one). shards.c calls
 * op_s3_sink_upload_shard() for each shard once it is complete under its
 * final name and before it is listed in the manifest, then
 * op_s3_sink_upload_index() after each manifest rewrite: the manifest,
 * then dataset.json. So the store only ever holds indexes whose shards
 * were uploaded before them; a shard that fails is never listed. In a
 * temporary staging directory each shard is deleted once uploaded (the
 * disk holds at most the open shards); a `staging-dir` keeps them, so a
 * failed shard stays there and an interrupted run resumes from it.
 * Objects are named `<prefix><file name>`, the names the run has on disk.
 *
 * The writers reach their sink through OpWriterConfig.remote.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "s3sink.h"
#include "s3client.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

struct _OpS3Sink
{
  OpS3Client *client;
  gchar *bucket;
  gchar *prefix;                /* "" or ending in '/' */
  gchar *staging;               /* the directory */
  gboolean temporary;
  gchar *location;              /* what the writer writes: dir or file */
};


gboolean
op_s3_is_url (const gchar * location)
{
  return location && g_ascii_strncasecmp (location, "s3://", 5) == 0;
}

/* jsonl's location names a file, tar's a directory. */
static gboolean
split_name (OpS3Sink * s, const OpS3SinkSettings * set, gchar ** name,
    GError ** error)
{
  gboolean is_dir = !*s->prefix || g_str_has_suffix (s->prefix, "/");
  gchar *dir;

  *name = NULL;
  if (strcmp (set->format, "jsonl") == 0) {
    if (is_dir) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "format=jsonl needs a file name in \"%s\", e.g. "
          "s3://%s/%sframes.jsonl.gz", set->url, s->bucket, s->prefix);
      return FALSE;
    }
    *name = g_path_get_basename (s->prefix);
    dir = g_path_get_dirname (s->prefix);
    g_free (s->prefix);
    s->prefix = strcmp (dir, ".") == 0 ? g_strdup ("") :
        g_strconcat (dir, "/", NULL);
    g_free (dir);
  } else if (!is_dir) {
    gchar *p = g_strconcat (s->prefix, "/", NULL);

    g_free (s->prefix);
    s->prefix = p;
  }
  return TRUE;
}

static gboolean
make_staging (OpS3Sink * s, const gchar * staging_dir, GError ** error)
{
  if (staging_dir && *staging_dir) {
    if (g_mkdir_with_parents (staging_dir, 0755) != 0) {
      gint e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
          "Could not create staging-dir \"%s\": %s", staging_dir,
          g_strerror (e));
      return FALSE;
    }
    s->staging = g_strdup (staging_dir);
    return TRUE;
  }
  s->staging = g_dir_make_tmp ("onepass-s3-XXXXXX", error);
  s->temporary = s->staging != NULL;
  return s->staging != NULL;
}

/**
 * op_s3_sink_new:
 *
 * Reads the credentials, checks that the bucket exists and accepts them,
 * and prepares the staging directory. Fails (naming the URL, never a key)
 * before anything is written.
 */
OpS3Sink *
op_s3_sink_new (const OpS3SinkSettings * set, GError ** error)
{
  OpS3Sink *s = g_new0 (OpS3Sink, 1);
  OpS3Config *config;
  gchar *name = NULL;

  if (!op_s3_url_parse (set->url, &s->bucket, &s->prefix, error)
      || !split_name (s, set, &name, error))
    goto fail;
  config = op_s3_config_load (set->endpoint, error);
  if (!config)
    goto fail;
  s->client = op_s3_client_new (config, s->bucket, set->part_size);
  if (!op_s3_client_check_bucket (s->client, error)
      || !make_staging (s, set->staging_dir, error))
    goto fail;
  s->location = name ? g_build_filename (s->staging, name, NULL) :
      g_strdup (s->staging);
  g_clear_pointer (&name, g_free);
  return s;

fail:
  g_free (name);
  op_s3_sink_free (s);
  return NULL;
}

const gchar *
op_s3_sink_staged_location (OpS3Sink * s)
{
  return s->location;
}

static gboolean
upload (OpS3Sink * s, const gchar * path, GError ** error)
{
  gchar *name = g_path_get_basename (path);
  gchar *key = g_strconcat (s->prefix, name, NULL);
  gboolean ok = op_s3_client_put_file (s->client, key, path, error);

  g_free (key);
  g_free (name);
  return ok;
}

/* @path: a shard complete under its final name, not listed yet */
gboolean
op_s3_sink_upload_shard (OpS3Sink * s, const gchar * path, GError ** error)
{
  if (!upload (s, path, error))
    return FALSE;
  if (s->temporary)
    g_unlink (path);
  return TRUE;
}

/* After every shard it lists was uploaded: the manifest, then the
 * directory's dataset.json (built from the manifests). */
gboolean
op_s3_sink_upload_index (OpS3Sink * s, const gchar * manifest_path,
    GError ** error)
{
  gchar *dataset = g_build_filename (s->staging, "dataset.json", NULL);
  gboolean ok = upload (s, manifest_path, error)
      && upload (s, dataset, error);

  g_free (dataset);
  return ok;
}

void
op_s3_sink_counters (OpS3Sink * s, guint64 * requests, guint64 * bytes)
{
  op_s3_client_counters (s->client, requests, bytes);
}

static void
remove_tree (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *n;

  while (d && (n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, n, NULL);

    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

void
op_s3_sink_free (OpS3Sink * s)
{
  if (!s)
    return;
  if (s->temporary)
    remove_tree (s->staging);
  op_s3_client_free (s->client);
  g_free (s->bucket);
  g_free (s->prefix);
  g_free (s->staging);
  g_free (s->location);
  g_free (s);
}
