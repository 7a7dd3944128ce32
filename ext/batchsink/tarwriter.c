/* batchsink: WebDataset tar shards, `<split>-<run>-<NNNNNN>.tar` in a
 * directory, each sample as `<key>.<jpg|png|rgb|...>` then `<key>.json`.
 * The run name (shard-prefix, else the first sample's sanitized source)
 * is known at the first sample: the run is claimed then (dataset.c).
 *
 * The ustar headers are written here (about a hundred lines) rather than
 * through libarchive: members are only regular files with short,
 * already-sanitized names, so nothing else of the format is needed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "shards.h"

#include <onepass/opname.h>

#include <string.h>

#define BLOCK 512

struct _OpWriter
{
  gchar *dir;
  gchar *prefix;                /* the run name, once known */
  OpWriterConfig config;
  gchar *extra;
  OpRun *run;
  OpShards *shards;
  gint64 mtime;
};

static void
octal (gchar * field, gsize width, guint64 value)
{
  /* width - 1 digits, zero padded, then NUL */
  g_snprintf (field, width, "%0*" G_GINT64_MODIFIER "o", (gint) width - 1,
      value);
}

/* Member names are keys: [A-Za-z0-9._-], never starting with '.', so they
 * cannot be absolute or climb out with "..". Anything else is refused. */
static gboolean
name_is_safe (const gchar * name)
{
  const gchar *p;

  if (!*name || *name == '.' || strlen (name) >= 100)
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
write_member (OpWriter * w, OpShard * shard, const gchar * name,
    const void *data, gsize len, GError ** error)
{
  guint8 hdr[BLOCK];
  static const guint8 zeros[BLOCK];
  guint sum = 0, i;

  if (!name_is_safe (name)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
        "Refusing tar member name \"%s\" in \"%s\"", name,
        op_batch_file_path (shard->file));
    return FALSE;
  }
  memset (hdr, 0, BLOCK);
  memcpy (hdr, name, strlen (name));
  octal ((gchar *) hdr + 100, 8, 0644);
  octal ((gchar *) hdr + 108, 8, 0);
  octal ((gchar *) hdr + 116, 8, 0);
  octal ((gchar *) hdr + 124, 12, len);
  octal ((gchar *) hdr + 136, 12, w->mtime);
  hdr[156] = '0';
  memcpy (hdr + 257, "ustar", 6);
  memcpy (hdr + 263, "00", 2);
  /* the checksum is computed with its own field as spaces */
  memset (hdr + 148, ' ', 8);
  for (i = 0; i < BLOCK; i++)
    sum += hdr[i];
  g_snprintf ((gchar *) hdr + 148, 8, "%06o", sum);
  hdr[155] = ' ';
  if (!op_batch_file_write (shard->file, hdr, BLOCK, error) ||
      !op_batch_file_write (shard->file, data, len, error))
    return FALSE;
  if (len % BLOCK)
    return op_batch_file_write (shard->file, zeros, BLOCK - len % BLOCK, error);
  return TRUE;
}

static gchar *
tar_path (const gchar * split, guint index, gpointer user_data)
{
  OpWriter *w = user_data;
  gchar *base = g_strdup_printf ("%s-%s-%06u.tar", split, w->prefix, index);
  gchar *path = g_build_filename (w->dir, base, NULL);

  g_free (base);
  return path;
}

static gboolean
tar_end (OpShard * shard, gpointer user_data, GError ** error)
{
  static const guint8 zeros[2 * BLOCK];

  return op_batch_file_write (shard->file, zeros, sizeof (zeros), error);
}

static void tar_free (OpWriter * w);

static const OpShardHooks tar_hooks = { tar_path, NULL, tar_end, NULL };


/* Claims run @name: lock, refuse a complete run unless overwrite, resume
 * an interrupted one. */
static gboolean
tar_claim (OpWriter * w, const gchar * name, GError ** error)
{
  w->prefix = g_strdup (name);
  w->run = op_run_claim (w->dir, name, w->config.overwrite, error);
  if (!w->run)
    return FALSE;
  w->config.manifest_extra = w->extra;
  w->shards = op_shards_new ("tar", &w->config,
      op_run_manifest_path (w->run), &tar_hooks, w);
  op_shards_resume (w->shards, op_run_resumed (w->run));
  return op_shards_write_manifest (w->shards, FALSE, error);
}

static OpWriter *
tar_open (const OpWriterConfig * config, GError ** error)
{
  OpWriter *w;

  if (!op_batch_check_dir (config->location, error))
    return NULL;
  w = g_new0 (OpWriter, 1);
  w->dir = g_strdup (config->location);
  w->mtime = g_get_real_time () / G_USEC_PER_SEC;
  w->config = *config;
  w->config.location = w->dir;
  w->extra = g_strdup (config->manifest_extra);
  w->config.shard_prefix = NULL;
  if (config->shard_prefix && !tar_claim (w, config->shard_prefix, error)) {
    tar_free (w);
    return NULL;
  }
  return w;
}

static gboolean
tar_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i;

  for (i = 0; i < n; i++) {
    OpSample *s = samples[i];
    OpShard *shard;
    gchar *name;
    gboolean ok = TRUE, skip;

    if (!w->shards) {
      gchar *src = op_name_sanitize (s->ann.source, 64);
      ok = tar_claim (w, src, error);
      g_free (src);
      if (!ok)
        return FALSE;
    }
    if (!op_shards_skip (w->shards, s, &skip, error))
      return FALSE;
    if (skip)
      continue;
    shard = op_shards_get (w->shards, s->split, error);
    if (!shard)
      return FALSE;
    if (s->ext && s->payload) {
      GstMapInfo map;
      if (!gst_buffer_map (s->payload, &map, GST_MAP_READ)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "Could not map the payload of sample %s", s->key);
        return FALSE;
      }
      name = g_strconcat (s->key, ".", s->ext, NULL);
      ok = write_member (w, shard, name, map.data, map.size, error);
      g_free (name);
      gst_buffer_unmap (s->payload, &map);
    }
    if (ok) {
      name = g_strconcat (s->key, ".json", NULL);
      ok = write_member (w, shard, name, s->json, strlen (s->json), error);
      g_free (name);
    }
    if (!ok || !op_shards_sample_done (w->shards, shard, s, error))
      return FALSE;
  }
  return TRUE;
}

static void
tar_free (OpWriter * w)
{
  if (w->shards)
    op_shards_free (w->shards);
  op_run_release (w->run);
  g_free (w->prefix);
  g_free (w->extra);
  g_free (w->dir);
  g_free (w);
}

/* A run that never got a sample (and no shard-prefix) has no name: it
 * leaves no file. */
static gboolean
tar_close (OpWriter * w, GError ** error)
{
  return !w->shards || op_shards_close (w->shards, error);
}

static void
tar_stats (OpWriter * w, OpWriterStats * stats)
{
  if (w->shards)
    op_shards_stats (w->shards, stats);
  else
    memset (stats, 0, sizeof (*stats));
}

const OpWriterFormat op_tar_writer = {
  "tar", tar_open, tar_write, tar_close, tar_free, tar_stats
};
