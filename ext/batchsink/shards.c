/* batchsink: shard rotation per split and the manifest.
 *
 * Each split has at most one open shard, written as `<name>.partial`. A
 * shard closes when it reaches max-shard-samples or max-shard-bytes (checked
 * after each sample, so a shard may pass the byte limit by one sample): the
 * format writes its trailer, the file is fsynced and renamed, the directory
 * fsynced, and the run's manifest is rewritten the same way (then
 * dataset.json, see dataset.c). So after a crash the manifest lists only
 * complete shards (one renamed just before the crash may be missing), and
 * there is at most one `.partial` per split. A format may give a shard
 * another final name than its `.partial` (final_path hook): jsonl names a
 * split's only shard without a number. A resumed run keeps the shards of
 * the interrupted one and skips the samples they hold (op_shards_resume,
 * op_shards_skip).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shards.h"

#include <onepass/opjson.h>
#include <gio/gio.h>

#include "config.h"

#include <string.h>

typedef struct
{
  gchar *name;
  gchar *split;
  guint64 samples;
  guint64 bytes;
  gchar *last_key;
  gchar **sources;
} ShardRecord;

/* What a resumed split skips: the samples its kept shards hold. */
typedef struct
{
  guint64 skip;
  guint64 skipped;
  guint next_index;
  gchar *last_key;
} Resume;

typedef struct
{
  const gchar *name;
  guint width, height;
} SourceRow;

struct _OpShards
{
  gchar *format;
  gchar *extra;
  gchar *manifest_path;
  guint64 max_samples;
  guint64 max_bytes;
  OpShardHooks hooks;
  gpointer user_data;
  GHashTable *open;             /* split -> OpShard */
  GArray *done;                 /* ShardRecord */
  guint64 samples;
  guint64 committed_bytes;
  GHashTable *resume;           /* split -> Resume */
  OpSkeleton *skeleton;
  GArray *sources;              /* SourceRow, first-seen order */
};

static void note_table (OpShards * s, const OpAnnotation * a);

static void
resume_free (gpointer data)
{
  Resume *r = data;

  g_free (r->last_key);
  g_free (r);
}

static void
record_clear (gpointer data)
{
  ShardRecord *r = data;
  g_free (r->name);
  g_free (r->split);
  g_free (r->last_key);
  g_strfreev (r->sources);
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

  s->format = g_strdup (format);
  s->extra = g_strdup (config->manifest_extra);
  s->manifest_path = g_strdup (manifest_path);
  s->max_samples = config->max_shard_samples ? config->max_shard_samples :
      G_MAXUINT64;
  s->max_bytes = config->max_shard_bytes ? config->max_shard_bytes :
      G_MAXUINT64;
  s->hooks = *hooks;
  s->user_data = user_data;
  s->open = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, shard_free);
  s->done = g_array_new (FALSE, TRUE, sizeof (ShardRecord));
  g_array_set_clear_func (s->done, record_clear);
  s->resume = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      resume_free);
  s->sources = g_array_new (FALSE, TRUE, sizeof (SourceRow));
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
    ShardRecord rec = { g_strdup (o->name), g_strdup (o->split), o->samples,
      o->bytes, g_strdup (o->last_key), g_strdupv (o->sources)
    };

    if (!r) {
      r = g_new0 (Resume, 1);
      g_hash_table_insert (s->resume, g_strdup (o->split), r);
    }
    r->skip += o->samples;
    r->next_index++;
    g_free (r->last_key);
    r->last_key = g_strdup (o->last_key);
    g_array_append_val (s->done, rec);
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
  note_table (s, &sample->ann);
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

static void
append_records (GString * out, OpShards * s)
{
  guint i, j;

  for (i = 0; i < s->done->len; i++) {
    ShardRecord *r = &g_array_index (s->done, ShardRecord, i);
    g_string_append (out, i ? ",\n  {\"name\":" : "\n  {\"name\":");
    op_json_append_string (out, r->name);
    g_string_append (out, ",\"split\":");
    op_json_append_string (out, r->split);
    g_string_append_printf (out, ",\"samples\":%" G_GUINT64_FORMAT
        ",\"bytes\":%" G_GUINT64_FORMAT ",\"last_key\":", r->samples, r->bytes);
    op_json_append_string (out, r->last_key);
    g_string_append (out, ",\"sources\":[");
    for (j = 0; r->sources && r->sources[j]; j++) {
      if (j)
        g_string_append_c (out, ',');
      op_json_append_string (out, r->sources[j]);
    }
    g_string_append (out, "]}");
  }
}

gboolean
op_shards_write_manifest (OpShards * s, gboolean complete, GError ** error)
{
  GString *out;
  guint64 bytes = 0, samples = 0;
  guint i;
  gboolean ok;
  gchar *dir;

  if (!s->manifest_path)
    return TRUE;
  /* totals of the listed shards only, so they add up for a reader */
  for (i = 0; i < s->done->len; i++) {
    bytes += g_array_index (s->done, ShardRecord, i).bytes;
    samples += g_array_index (s->done, ShardRecord, i).samples;
  }
  out = g_string_new ("{\"onepass_version\":\"" VERSION "\",\"format\":");
  op_json_append_string (out, s->format);
  g_string_append_printf (out, ",\"complete\":%s", complete ? "true" : "false");
  if (s->extra && *s->extra)
    g_string_append_printf (out, ",%s", s->extra);
  g_string_append (out, ",\"shards\":[");
  append_records (out, s);
  g_string_append_printf (out, "],\n \"shard_count\":%u,\"samples\":%"
      G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT ",\n \"skeleton\":",
      s->done->len, samples, bytes);
  if (s->skeleton)
    op_json_append_skeleton (out, s->skeleton);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\n \"sources\":[");
  for (i = 0; i < s->sources->len; i++) {
    SourceRow *r = &g_array_index (s->sources, SourceRow, i);
    g_string_append (out, i ? ",{\"name\":" : "{\"name\":");
    op_json_append_string (out, r->name);
    g_string_append_printf (out, ",\"width\":%u,\"height\":%u}", r->width,
        r->height);
  }
  g_string_append (out, "]}\n");
  ok = op_batch_file_replace (s->manifest_path, out->str, out->len, TRUE,
      error);
  g_string_free (out, TRUE);
  dir = g_path_get_dirname (s->manifest_path);
  ok = ok && op_dataset_update (dir, error);
  g_free (dir);
  return ok;
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
  ShardRecord r;
  OpBatchFile *f = shard->file;
  gchar *final;
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
  r.name = g_path_get_basename (op_batch_file_path (f));
  r.split = g_strdup (shard->split);
  r.samples = shard->samples;
  r.bytes = op_batch_file_size (f);
  r.last_key = g_steal_pointer (&shard->last_key);
  g_ptr_array_add (shard->sources, NULL);
  r.sources = g_strdupv ((gchar **) shard->sources->pdata);
  g_ptr_array_set_size (shard->sources, 0);
  if (!op_batch_file_commit (f, TRUE, error)) {
    record_clear (&r);
    return FALSE;
  }
  s->committed_bytes += r.bytes;
  g_array_append_val (s->done, r);
  shard->index++;
  return op_shards_write_manifest (s, FALSE, error);
}

/* The run's per-source table and skeleton (also fed by skipped samples, so
 * a resumed run still lists what its kept shards hold). */
static void
note_table (OpShards * s, const OpAnnotation * a)
{
  guint i;

  if (!s->skeleton && a->skeleton)
    s->skeleton = op_skeleton_ref (a->skeleton);
  for (i = 0; i < s->sources->len; i++) {
    SourceRow *r = &g_array_index (s->sources, SourceRow, i);
    if (r->name == a->source) {
      if (!r->width && a->source_width) {
        r->width = a->source_width;
        r->height = a->source_height;
      }
      return;
    }
  }
  {
    SourceRow r = { a->source, a->source_width, a->source_height };
    g_array_append_val (s->sources, r);
  }
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
  note_table (s, a);
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
  return ok && op_shards_write_manifest (s, TRUE, error);
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
  g_hash_table_unref (s->open);
  g_array_unref (s->done);
  g_hash_table_unref (s->resume);
  g_array_unref (s->sources);
  g_clear_pointer (&s->skeleton, op_skeleton_unref);
  g_free (s->manifest_path);
  g_free (s->extra);
  g_free (s->format);
  g_free (s);
}

void
op_shards_stats (OpShards * s, OpWriterStats * stats)
{
  GHashTableIter it;
  OpShard *shard;

  stats->samples = s->samples;
  stats->bytes = s->committed_bytes;
  stats->shards = s->done->len;
  g_hash_table_iter_init (&it, s->open);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & shard))
    if (shard->file)
      stats->bytes += op_batch_file_size (shard->file);
}
