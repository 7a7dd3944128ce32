/* batchsink: one annotation JSON object per line, gzip when the location
 * ends in ".gz". The location is a file name; with a split, one file per
 * split with the split name inserted before the extensions
 * (`frames.train.jsonl.gz`).
 *
 * Shards rotate through shards.c exactly like tar (max-shard-samples,
 * max-shard-bytes, `.partial` -> fsync -> rename, manifest rewritten after
 * each shard). Naming: a split's first shard is written as
 * `<file>.partial` (`frames.jsonl.gz.partial`); if it is still open at EOS
 * it becomes `<file>` (`frames.jsonl.gz`, the one file of a run that
 * never rotates). Once a shard of the split reaches a limit, its shards
 * are numbered instead: the number goes after the (split-inserted) stem,
 * `frames-000000.jsonl.gz`, `frames.train-000001.jsonl.gz`; shard 0 is
 * renamed to its numbered name when it rotates. Every gzip shard is a complete gzip stream (one
 * compressor per shard). The manifest is `<location>.manifest.json`, next
 * to the shards, rewritten like tar's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "shards.h"
#include "splitfile.h"

#include <string.h>
#include <gio/gio.h>

#define ZBUF 65536

struct _OpWriter
{
  gchar *location;
  gboolean with_split;
  gboolean gzip;
  guint64 max_bytes;
  OpShards *shards;
  OpRun *run;
  guint8 *zbuf;
};

/* `<stem>[.<split>]-<NNNNNN><extensions>`: the split inserted as for the
 * unnumbered file, then the shard number before the first extension. */
static gchar *
numbered_path (OpWriter * w, const gchar * split, guint index)
{
  const gchar *base, *dot;
  gchar *stem, *path;

  base = strrchr (w->location, '/');
  base = base ? base + 1 : w->location;
  dot = strchr (base + (*base == '.'), '.');
  if (!dot)
    dot = base + strlen (base);
  stem = g_strndup (w->location, dot - w->location);
  path = g_strdup_printf ("%s%s%s-%06u%s", stem, w->with_split ? "." : "",
      w->with_split ? split : "", index, dot);
  g_free (stem);
  return path;
}

/* Shard 0 is opened under the unnumbered name (kept if it is the split's
 * only shard), later ones under their numbered name. */
static gchar *
jsonl_path (const gchar * split, guint index, gpointer user_data)
{
  OpWriter *w = user_data;

  if (index == 0)
    return op_batch_split_file_path (w->location, split, w->with_split);
  return numbered_path (w, split, index);
}

static gchar *
jsonl_final_path (OpShard * shard, gboolean last, gpointer user_data)
{
  if (shard->index == 0 && !last)
    return numbered_path (user_data, shard->split, 0);
  return NULL;
}

typedef enum
{
  PUT_DATA,
  PUT_FLUSH,                    /* Z_SYNC_FLUSH: everything so far on disk */
  PUT_END                       /* close the gzip stream */
} PutMode;

/* Per-shard state of a gzip shard. */
typedef struct
{
  GConverter *z;
  guint64 pending;              /* input bytes fed since the last flush */
} GzShard;

/* Feeds @len bytes through the shard's compressor (or straight to the
 * file) until all input is consumed and, for PUT_FLUSH / PUT_END, the
 * compressor has written out everything it holds / closed the stream. */
static gboolean
put (OpWriter * w, OpShard * shard, const void *data, gsize len,
    PutMode mode, GError ** error)
{
  GzShard *gz = shard->data;
  const guint8 *in = data;

  if (!gz)
    return op_batch_file_write (shard->file, data, len, error);
  gz->pending = mode == PUT_DATA ? gz->pending + len : 0;
  for (;;) {
    gsize nread = 0, nwritten = 0;
    GConverterResult r = g_converter_convert (gz->z, in, len, w->zbuf, ZBUF,
        mode == PUT_END ? G_CONVERTER_INPUT_AT_END :
        mode == PUT_FLUSH ? G_CONVERTER_FLUSH : G_CONVERTER_NO_FLAGS,
        &nread, &nwritten, error);
    if (r == G_CONVERTER_ERROR)
      return FALSE;
    if (nwritten &&
        !op_batch_file_write (shard->file, w->zbuf, nwritten, error))
      return FALSE;
    in += nread;
    len -= nread;
    if (r == G_CONVERTER_FINISHED || r == G_CONVERTER_FLUSHED)
      return TRUE;
    if (len == 0 && (mode == PUT_DATA ||
            (mode == PUT_FLUSH && nwritten < ZBUF)))
      /* a sync flush that left output space is complete (zlib.h) */
      return TRUE;
  }
}

static gboolean
jsonl_begin (OpShard * shard, gpointer user_data, GError ** error)
{
  OpWriter *w = user_data;

  if (w->gzip) {
    GzShard *gz = g_new0 (GzShard, 1);

    gz->z = G_CONVERTER (g_zlib_compressor_new
        (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6));
    shard->data = gz;
  }
  return TRUE;
}

static void
jsonl_discard (OpShard * shard, gpointer user_data)
{
  GzShard *gz = shard->data;

  if (gz) {
    g_object_unref (gz->z);
    g_free (gz);
    shard->data = NULL;
  }
}

static gboolean
jsonl_end (OpShard * shard, gpointer user_data, GError ** error)
{
  OpWriter *w = user_data;
  gboolean ok = TRUE;

  if (shard->data)
    ok = put (w, shard, "", 0, PUT_END, error);
  jsonl_discard (shard, user_data);
  return ok;
}

static const OpShardHooks jsonl_hooks =
    { jsonl_path, jsonl_begin, jsonl_end, jsonl_discard, jsonl_final_path };

static void
jsonl_free (OpWriter * w)
{
  if (w->shards)
    op_shards_free (w->shards);
  op_run_release (w->run);
  g_free (w->zbuf);
  g_free (w->location);
  g_free (w);
}

static OpWriter *
jsonl_open (const OpWriterConfig * config, GError ** error)
{
  OpWriter *w;
  OpBatchFile *probe;
  gchar *base, *dir = g_path_get_dirname (config->location);
  gboolean ok = op_batch_split_file_check (config->location, "jsonl",
      "frames.jsonl.gz", error) && op_batch_mkdirs (dir, error);

  g_free (dir);
  if (!ok)
    return NULL;
  w = g_new0 (OpWriter, 1);
  w->location = g_strdup (config->location);
  w->with_split = config->has_split;
  w->gzip = g_str_has_suffix (config->location, ".gz");
  w->max_bytes = config->max_shard_bytes;
  w->zbuf = g_malloc (ZBUF);
  /* prove the location is writable now rather than at the first sample */
  probe = op_batch_file_open (w->location, error);
  if (!probe) {
    jsonl_free (w);
    return NULL;
  }
  op_batch_file_abort (probe);
  /* the run is named after the location: a second pipeline writing the
   * same location fails, a finished one is not overwritten */
  base = g_path_get_basename (config->location);
  dir = g_path_get_dirname (config->location);
  w->run = op_run_claim (dir, base, config->overwrite, error);
  g_free (base);
  g_free (dir);
  if (!w->run) {
    jsonl_free (w);
    return NULL;
  }
  if (!config->overwrite && op_run_resumed (w->run)->len == 0 &&
      !config->has_split
      && g_file_test (config->location, G_FILE_TEST_EXISTS)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "\"%s\" exists; set overwrite=true to replace it", config->location);
    jsonl_free (w);
    return NULL;
  }
  w->shards = op_shards_new ("jsonl", config,
      op_run_manifest_path (w->run), &jsonl_hooks, w);
  op_shards_resume (w->shards, op_run_resumed (w->run));
  /* an empty manifest up front, as for tar */
  if (!op_shards_write_manifest (w->shards, FALSE, error)) {
    jsonl_free (w);
    return NULL;
  }
  return w;
}

/* The compressor holds back up to about half a MiB of input before it
 * writes a block, so the file size alone would let a gzip shard pass
 * max-shard-bytes by tens of KiB. When what it may hold (at most about
 * the input fed since the last flush) could take the shard to the limit,
 * a sync flush writes it out and the size shards.c checks is exact. Far
 * from the limit nothing is flushed, so compression is unchanged; near it
 * the flushes cost a few bytes each. */
static gboolean
flush_near_limit (OpWriter * w, OpShard * shard, GError ** error)
{
  GzShard *gz = shard->data;

  if (!gz || !w->max_bytes || gz->pending == 0 ||
      op_batch_file_size (shard->file) + gz->pending < w->max_bytes)
    return TRUE;
  return put (w, shard, "", 0, PUT_FLUSH, error);
}

static gboolean
jsonl_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i;

  for (i = 0; i < n; i++) {
    OpShard *shard;
    gboolean skip;

    if (!op_shards_skip (w->shards, samples[i], &skip, error))
      return FALSE;
    if (skip)
      continue;
    shard = op_shards_get (w->shards, samples[i]->split, error);
    if (!shard || !put (w, shard, samples[i]->json,
            strlen (samples[i]->json), PUT_DATA, error) ||
        !put (w, shard, "\n", 1, PUT_DATA, error) ||
        !flush_near_limit (w, shard, error) ||
        !op_shards_sample_done (w->shards, shard, samples[i], error))
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
