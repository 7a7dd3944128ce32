/* batchsink: shard rotation per split.
 *
 * Each split has at most one open shard, written as `<name>.partial`. A
 * shard closes when it reaches max-shard-samples or max-shard-bytes (checked
 * after each sample, so a shard may pass the byte limit by one sample): the
 * format writes its trailer, the file is fsynced and renamed, the directory
 * fsynced, and the run's manifest is rewritten the same way (manifest.c,
 * then dataset.json, see dataset.c). So after a crash the manifest lists only
 * complete shards (one renamed just before the crash may be missing), and
 * there is at most one `.partial` per split. A format may give a shard
 * another final name than its `.partial` (final_path hook): jsonl names a
 * split's only shard without a number. A resumed run keeps the shards of
 * the interrupted one and skips the samples they hold (op_shards_resume,
 * op_shards_skip). With an s3:// location (s3sink.c) each shard is
 * uploaded after its rename and before it is listed, the manifest and
 * dataset.json after each rewrite.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shards.h"
#include "manifest.h"
#include "s3sink.h"

#include <gio/gio.h>
#include <string.h>

/* What a resumed split skips: the samples its kept shards hold. */
typedef struct
{
  guint64 skip;
  guint64 skipped;
  guint next_index;
  gchar *last_key;
} Resume;

struct _OpShards
{
  OpManifest *manifest;
  gchar *manifest_path;
  guint64 max_samples;
  guint64 max_bytes;
  OpShardHooks hooks;
  gpointer user_data;
  GHashTable *open;             /* split -> OpShard */
  guint64 samples;
  guint64 committed_bytes;
  GHashTable *resume;           /* split -> Resume */
  OpS3Sink *remote;             /* location=s3://: upload, then list */
  gboolean closed;              /* op_shards_close() committed all */
};

static void
resume_free (gpointer data)
{
  Resume *r = data;

  g_free (r->last_key);
  g_free (r);
}

static void
shard_free (gpointer data)
{
  OpShard *s = data;
  g_free (s->split);
  g_free (s->last_key);
  if (s->sources)
    g_ptr_array_unref (s->sources);
  g_free (s);
}

OpShards *
op_shards_new (const gchar * format, const OpWriterConfig * config,
    const gchar * manifest_path, const OpShardHooks * hooks, gpointer user_data)
{
  OpShards *s = g_new0 (OpShards, 1);

  s->manifest = op_manifest_new (manifest_path, format, config);
  s->manifest_path = g_strdup (manifest_path);
  s->max_samples = config->max_shard_samples ? config->max_shard_samples :
      G_MAXUINT64;
  s->max_bytes = config->max_shard_bytes ? config->max_shard_bytes :
      G_MAXUINT64;
  s->hooks = *hooks;
  s->user_data = user_data;
  s->open = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, shard_free);
  s->resume = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      resume_free);
  s->remote = config->remote;
  return s;
}

/* Keeps the shards an interrupted run of the same name completed: they
 * stay listed, numbering goes on after them, and op_shards_skip() drops
 * the samples they hold when the same input comes again. */
void
op_shards_resume (OpShards * s, GArray * resumed)
{
  guint i;

  for (i = 0; i < resumed->len; i++) {
    OpRunShard *o = &g_array_index (resumed, OpRunShard, i);
    Resume *r = g_hash_table_lookup (s->resume, o->split);

    if (!r) {
      r = g_new0 (Resume, 1);
      g_hash_table_insert (s->resume, g_strdup (o->split), r);
    }
    r->skip += o->samples;
    r->next_index++;
    g_free (r->last_key);
    r->last_key = g_strdup (o->last_key);
    op_manifest_keep (s->manifest, o);
    s->committed_bytes += o->bytes;
  }
}

/* TRUE in @skip for a sample that a kept shard already holds. The last
 * skipped sample of a split must have the key the interrupted run
 * recorded: otherwise the input is not the same, and resuming would lose
 * or repeat samples. */
gboolean
op_shards_skip (OpShards * s, const OpSample * sample, gboolean * skip,
    GError ** error)
{
  Resume *r = g_hash_table_lookup (s->resume, sample->split);

  *skip = r && r->skipped < r->skip;
  if (!*skip)
    return TRUE;
  op_manifest_note (s->manifest, &sample->ann);
  r->skipped++;
  if (r->skipped == r->skip && r->last_key &&
      strcmp (r->last_key, sample->key) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Cannot resume into \"%s\": sample %" G_GUINT64_FORMAT " of split "
        "%s is %s, the interrupted run wrote %s there; the input differs, "
        "set overwrite=true to start again", s->manifest_path, r->skip,
        sample->split, sample->key, r->last_key);
    return FALSE;
  }
  return TRUE;
}

/* With an S3 location the manifest and dataset.json are uploaded after
 * the shards they list (s3sink.c). */
gboolean
op_shards_write_manifest (OpShards * s, gboolean complete, GError ** error)
{
  guint64 requests, bytes;

  if (!s->remote)
    return op_manifest_write (s->manifest, complete, error);
  op_s3_sink_counters (s->remote, &requests, &bytes);
  op_manifest_set_upload (s->manifest, requests, bytes);
  return op_manifest_write (s->manifest, complete, error)
      && op_s3_sink_upload_index (s->remote, s->manifest_path, error);
}

OpShard *
op_shards_get (OpShards * s, const gchar * split, GError ** error)
{
  OpShard *shard = g_hash_table_lookup (s->open, split);
  gchar *path;

  if (!shard) {
    Resume *r = g_hash_table_lookup (s->resume, split);

    shard = g_new0 (OpShard, 1);
    shard->split = g_strdup (split);
    shard->sources = g_ptr_array_new ();
    shard->index = r ? r->next_index : 0;
    g_hash_table_insert (s->open, shard->split, shard);
  }
  if (shard->file)
    return shard;
  path = s->hooks.path (split, shard->index, s->user_data);
  shard->file = op_batch_file_open (path, error);
  g_free (path);
  if (!shard->file)
    return NULL;
  shard->samples = 0;
  if (s->hooks.begin && !s->hooks.begin (shard, s->user_data, error)) {
    op_batch_file_abort (shard->file);
    shard->file = NULL;
    return NULL;
  }
  return shard;
}

static gboolean
commit_shard (OpShards * s, OpShard * shard, gboolean last, GError ** error)
{
  OpBatchFile *f = shard->file;
  gchar *final;
  guint64 bytes;
  gboolean ok;

  ok = !s->hooks.end || s->hooks.end (shard, s->user_data, error);
  shard->file = NULL;
  if (!ok) {
    op_batch_file_abort (f);
    return FALSE;
  }
  final = s->hooks.final_path ?
      s->hooks.final_path (shard, last, s->user_data) : NULL;
  if (final) {
    op_batch_file_set_path (f, final);
    g_free (final);
  }
  bytes = op_batch_file_size (f);
  g_ptr_array_add (shard->sources, NULL);
  /* commit frees @f: list the shard under the name it is committed as */
  final = g_strdup (op_batch_file_path (f));
  ok = op_batch_file_commit (f, TRUE, error);
  /* uploaded before it is listed: no index names a missing object */
  if (ok && s->remote)
    ok = op_s3_sink_upload_shard (s->remote, final, error);
  if (ok) {
    op_manifest_add (s->manifest, final, shard->split, shard->index,
        shard->samples, bytes, shard->last_key,
        (const gchar * const *) shard->sources->pdata);
    s->committed_bytes += bytes;
    shard->index++;
  }
  g_free (final);
  g_clear_pointer (&shard->last_key, g_free);
  g_ptr_array_set_size (shard->sources, 0);
  /* at close (@last) the complete manifest lists every split's shard in one
   * write: each write rebuilds the folder's dataset.json under its lock */
  return ok && (last || op_shards_write_manifest (s, FALSE, error));
}

static void
note_source (OpShards * s, OpShard * shard, const OpAnnotation * a)
{
  guint i;

  for (i = 0; i < shard->sources->len; i++)
    if (shard->sources->pdata[i] == a->source)
      break;
  if (i == shard->sources->len)
    g_ptr_array_add (shard->sources, (gpointer) a->source);
  op_manifest_note (s->manifest, a);
}

/* Counts one sample in @shard and rotates it when it is full. */
gboolean
op_shards_sample_done (OpShards * s, OpShard * shard, const OpSample * sample,
    GError ** error)
{
  note_source (s, shard, &sample->ann);
  g_free (shard->last_key);
  shard->last_key = g_strdup (sample->key);
  shard->samples++;
  s->samples++;
  if (shard->samples < s->max_samples &&
      op_batch_file_size (shard->file) < s->max_bytes)
    return TRUE;
  return commit_shard (s, shard, FALSE, error);
}

/* Commits every open shard (in split name order, so runs are repeatable)
 * and marks the manifest complete. */
gboolean
op_shards_close (OpShards * s, GError ** error)
{
  GList *splits = g_list_sort (g_hash_table_get_keys (s->open),
      (GCompareFunc) strcmp);
  GList *l;
  gboolean ok = TRUE;

  for (l = splits; l && ok; l = l->next) {
    OpShard *shard = g_hash_table_lookup (s->open, l->data);
    if (shard->file)
      ok = commit_shard (s, shard, TRUE, error);
  }
  g_list_free (splits);
  s->closed = ok && op_shards_write_manifest (s, TRUE, error);
  return s->closed;
}

/* Drops open shards (their .partial files are removed) and frees. */
void
op_shards_free (OpShards * s)
{
  GHashTableIter it;
  OpShard *shard;

  g_hash_table_iter_init (&it, s->open);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & shard)) {
    if (shard->file) {
      if (s->hooks.discard)
        s->hooks.discard (shard, s->user_data);
      op_batch_file_abort (shard->file);
      shard->file = NULL;
    }
  }
  /* stopped before EOS: the manifest says so and lists what is kept */
  if (!s->closed && s->samples > 0)
    op_manifest_write (s->manifest, FALSE, NULL);
  g_hash_table_unref (s->open);
  g_hash_table_unref (s->resume);
  op_manifest_free (s->manifest);
  g_free (s->manifest_path);
  g_free (s);
}

void
op_shards_stats (OpShards * s, OpWriterStats * stats)
{
  GHashTableIter it;
  OpShard *shard;

  stats->samples = s->samples;
  stats->bytes = s->committed_bytes;
  stats->shards = op_manifest_n_shards (s->manifest);
  stats->kept = op_manifest_n_samples (s->manifest);
  g_hash_table_iter_init (&it, s->open);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & shard))
    if (shard->file)
      stats->bytes += op_batch_file_size (shard->file);
}
