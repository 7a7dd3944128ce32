/* batchsink: one annotation JSON object per line, gzip when the location
 * ends in ".gz". The location is a file, written as `<location>.partial`
 * and renamed at EOS; with a split, one file per split with the split
 * name inserted before the extensions (`frames.train.jsonl.gz`).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "shards.h"

#include <string.h>
#include <gio/gio.h>

#define ZBUF 65536

struct _OpWriter
{
  gchar *location;
  gboolean with_split;
  gboolean gzip;
  OpShards *shards;
  guint8 *zbuf;
};

gchar *
op_batch_split_file_path (const gchar * location, const gchar * split,
    gboolean with_split)
{
  const gchar *base, *dot;

  if (!with_split)
    return g_strdup (location);
  base = strrchr (location, '/');
  base = base ? base + 1 : location;
  dot = strchr (base + (*base == '.'), '.');
  if (!dot)
    return g_strconcat (location, ".", split, NULL);
  return g_strdup_printf ("%.*s.%s%s", (gint) (dot - location), location,
      split, dot);
}

static gchar *
jsonl_path (const gchar * split, guint index, gpointer user_data)
{
  OpWriter *w = user_data;

  return op_batch_split_file_path (w->location, split, w->with_split);
}

/* Feeds @len bytes through the shard's compressor (or straight to the
 * file) until all input is consumed and, at the end, the stream closed. */
static gboolean
put (OpWriter * w, OpShard * shard, const void *data, gsize len,
    gboolean end, GError ** error)
{
  GConverter *z = shard->data;
  const guint8 *in = data;

  if (!z)
    return op_batch_file_write (shard->file, data, len, error);
  for (;;) {
    gsize nread = 0, nwritten = 0;
    GConverterResult r = g_converter_convert (z, in, len, w->zbuf, ZBUF,
        end ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS, &nread,
        &nwritten, error);
    if (r == G_CONVERTER_ERROR)
      return FALSE;
    if (nwritten &&
        !op_batch_file_write (shard->file, w->zbuf, nwritten, error))
      return FALSE;
    in += nread;
    len -= nread;
    if (r == G_CONVERTER_FINISHED || (!end && len == 0))
      return TRUE;
  }
}

static gboolean
jsonl_begin (OpShard * shard, gpointer user_data, GError ** error)
{
  OpWriter *w = user_data;

  if (w->gzip)
    shard->data = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  return TRUE;
}

static void
jsonl_discard (OpShard * shard, gpointer user_data)
{
  g_clear_object (&shard->data);
}

static gboolean
jsonl_end (OpShard * shard, gpointer user_data, GError ** error)
{
  OpWriter *w = user_data;
  gboolean ok = TRUE;

  if (shard->data)
    ok = put (w, shard, "", 0, TRUE, error);
  jsonl_discard (shard, user_data);
  return ok;
}

static const OpShardHooks jsonl_hooks =
    { jsonl_path, jsonl_begin, jsonl_end, jsonl_discard };

static void
jsonl_free (OpWriter * w)
{
  if (w->shards)
    op_shards_free (w->shards);
  g_free (w->zbuf);
  g_free (w->location);
  g_free (w);
}

static OpWriter *
jsonl_open (const OpWriterConfig * config, GError ** error)
{
  OpWriterConfig one = *config;
  OpWriter *w;
  OpBatchFile *probe;
  gchar *dir = g_path_get_dirname (config->location);
  gboolean ok = op_batch_mkdirs (dir, error);

  g_free (dir);
  if (!ok)
    return NULL;
  /* a JSON lines file is one file per split: no rotation */
  one.max_shard_samples = one.max_shard_bytes = 0;
  w = g_new0 (OpWriter, 1);
  w->location = g_strdup (config->location);
  w->with_split = config->has_split;
  w->gzip = g_str_has_suffix (config->location, ".gz");
  w->zbuf = g_malloc (ZBUF);
  /* prove the location is writable now rather than at the first sample */
  probe = op_batch_file_open (w->location, error);
  if (!probe) {
    jsonl_free (w);
    return NULL;
  }
  op_batch_file_abort (probe);
  w->shards = op_shards_new ("jsonl", &one, NULL, &jsonl_hooks, w);
  return w;
}

static gboolean
jsonl_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i;

  for (i = 0; i < n; i++) {
    OpShard *shard = op_shards_get (w->shards, samples[i]->split, error);

    if (!shard || !put (w, shard, samples[i]->json,
            strlen (samples[i]->json), FALSE, error) ||
        !put (w, shard, "\n", 1, FALSE, error) ||
        !op_shards_sample_done (w->shards, shard, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
jsonl_close (OpWriter * w, GError ** error)
{
  OpWriterStats stats;

  /* an empty stream still leaves a (valid, empty) file at location */
  op_shards_stats (w->shards, &stats);
  if (stats.samples == 0 && !w->with_split &&
      !op_shards_get (w->shards, "data", error))
    return FALSE;
  return op_shards_close (w->shards, error);
}

static void
jsonl_stats (OpWriter * w, OpWriterStats * stats)
{
  op_shards_stats (w->shards, stats);
}

const OpWriterFormat op_jsonl_writer = {
  "jsonl", jsonl_open, jsonl_write, jsonl_close, jsonl_free, jsonl_stats
};
