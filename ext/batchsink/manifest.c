/* batchsink: a run's manifest, `<run>.manifest.json`, written by every
 * format through this one writer:
 *
 *   {"onepass_version", "format", "complete", "split", "split_by",
 *    "shards": [{"name", "split", "samples", "bytes", "last_key",
 *                "sources"}],
 *    "shard_count", "samples", "bytes", "upload" (s3:// only:
 *    {"requests", "bytes"} sent before this manifest), "skeleton",
 *    "sources": [{"name", "width", "height"}]}
 *
 * `shards` lists the run's complete files (tar and jsonl shards, hdf5
 * split files; none for dir, whose loose files count in the totals only).
 * The totals add up what is listed (plus dir's loose files), so they hold
 * for a reader whatever the state of the run. Each rewrite is atomic
 * (op_batch_file_replace) and followed by a rebuild of the directory's
 * dataset.json (dataset.c).
 *
 * Once a shard added with op_manifest_add() is listed in a manifest on
 * disk, the writer's shard_closed callback is called for it (batchsink
 * posts `batchsink-shard-closed`): an application that acts on the message
 * finds the file complete and indexed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "manifest.h"
#include "batchfile.h"

#include <onepass/opjson.h>

#include "config.h"

#include <string.h>

typedef struct
{
  gchar *name;
  gchar *path;                  /* full path, for the callback */
  gchar *split;
  guint index;
  guint64 samples;
  guint64 bytes;
  gchar *last_key;
  gchar **sources;
  gboolean announced;           /* kept shards never are */
} Entry;

typedef struct
{
  const gchar *name;            /* interned */
  guint width, height;
} SourceRow;

struct _OpManifest
{
  gchar *path;
  gchar *dir;
  gchar *format;
  gchar *extra;
  OpShardClosedFunc shard_closed;
  gpointer user_data;
  GArray *entries;              /* Entry, in commit order */
  OpSkeleton *skeleton;
  GArray *sources;              /* SourceRow, first-seen order */
  guint64 loose_samples;
  guint64 loose_bytes;
  gboolean uploaded;            /* location=s3://: "upload" is written */
  guint64 upload_requests;
  guint64 upload_bytes;
};

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e->path);
  g_free (e->split);
  g_free (e->last_key);
  g_strfreev (e->sources);
}

/**
 * op_manifest_new:
 * @path: the manifest's path; the shards' names are relative to its
 *   directory
 * @config: gives the manifest_extra members and the shard_closed callback
 */
OpManifest *
op_manifest_new (const gchar * path, const gchar * format,
    const OpWriterConfig * config)
{
  OpManifest *m = g_new0 (OpManifest, 1);

  m->path = g_strdup (path);
  m->dir = g_path_get_dirname (path);
  m->format = g_strdup (format);
  m->extra = g_strdup (config->manifest_extra);
  m->shard_closed = config->shard_closed;
  m->user_data = config->user_data;
  m->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (m->entries, entry_clear);
  m->sources = g_array_new (FALSE, TRUE, sizeof (SourceRow));
  return m;
}

static void
append (OpManifest * m, const gchar * name, const gchar * split, guint index,
    guint64 samples, guint64 bytes, const gchar * last_key,
    const gchar * const *sources, gboolean announced)
{
  Entry e = { 0 };

  e.name = g_strdup (name);
  e.path = g_build_filename (m->dir, name, NULL);
  e.split = g_strdup (split);
  e.index = index;
  e.samples = samples;
  e.bytes = bytes;
  e.last_key = g_strdup (last_key);
  e.sources = g_strdupv ((gchar **) sources);
  e.announced = announced;
  g_array_append_val (m->entries, e);
}

/* A shard an interrupted run of the same name completed: listed again,
 * never announced (that run did). */
void
op_manifest_keep (OpManifest * m, const OpRunShard * s)
{
  append (m, s->name, s->split, 0, s->samples, s->bytes, s->last_key,
      (const gchar * const *) s->sources, TRUE);
}

/**
 * op_manifest_add:
 * @path: the shard, complete under its final name, in the manifest's
 *   directory
 * @index: its number within @split
 * @sources: (nullable): the sources of its samples
 *
 * Lists a shard just committed; it is announced at the next successful
 * op_manifest_write().
 */
void
op_manifest_add (OpManifest * m, const gchar * path, const gchar * split,
    guint index, guint64 samples, guint64 bytes, const gchar * last_key,
    const gchar * const *sources)
{
  gchar *name = g_path_get_basename (path);

  append (m, name, split, index, samples, bytes, last_key, sources, FALSE);
  g_free (name);
}

/**
 * op_manifest_merge_split:
 * @path: one complete file, in the manifest's directory, holding every
 *   sample of @split's listed shards (format=hdf5 consolidated at EOS)
 * @bytes: its size
 *
 * Lists @path in place of @split's shards: its samples are theirs, its
 * sources their union, its last key the last shard's. Announced at the
 * next successful op_manifest_write(), like a shard just committed.
 */
void
op_manifest_merge_split (OpManifest * m, const gchar * path,
    const gchar * split, guint64 bytes)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func (g_free);
  gchar *last_key = NULL, *name = g_path_get_basename (path);
  guint64 samples = 0;
  guint i, j, at = m->entries->len;
  Entry e = { 0 };

  for (i = 0; i < m->entries->len;) {
    Entry *s = &g_array_index (m->entries, Entry, i);

    if (g_strcmp0 (s->split, split) != 0) {
      i++;
      continue;
    }
    samples += s->samples;
    g_free (last_key);
    last_key = g_strdup (s->last_key);
    for (j = 0; s->sources && s->sources[j]; j++)
      if (!g_ptr_array_find_with_equal_func (sources, s->sources[j],
              g_str_equal, NULL))
        g_ptr_array_add (sources, g_strdup (s->sources[j]));
    at = MIN (at, i);
    g_array_remove_index (m->entries, i);
  }
  g_ptr_array_add (sources, NULL);
  e.name = name;
  e.path = g_build_filename (m->dir, name, NULL);
  e.split = g_strdup (split);
  e.samples = samples;
  e.bytes = bytes;
  e.last_key = last_key;
  e.sources = (gchar **) g_ptr_array_free (sources, FALSE);
  g_array_insert_val (m->entries, at, e);
}

/* The run's skeleton and per-source table (fed by every sample, skipped
 * ones of a resumed run included). */
void
op_manifest_note (OpManifest * m, const OpAnnotation * a)
{
  SourceRow row = { a->source, a->source_width, a->source_height };
  guint i;

  if (!m->skeleton && a->skeleton)
    m->skeleton = op_skeleton_ref (a->skeleton);
  for (i = 0; i < m->sources->len; i++) {
    SourceRow *r = &g_array_index (m->sources, SourceRow, i);
    if (r->name == a->source) {
      /* a later sample may know the size when the first did not */
      if (!r->width && a->source_width) {
        r->width = a->source_width;
        r->height = a->source_height;
      }
      return;
    }
  }
  g_array_append_val (m->sources, row);
}

/* Samples and bytes written outside shards (dir's loose files). */
void
op_manifest_add_loose (OpManifest * m, guint64 samples, guint64 bytes)
{
  m->loose_samples += samples;
  m->loose_bytes += bytes;
}

/* S3 requests and bytes sent before this manifest's own upload. */
void
op_manifest_set_upload (OpManifest * m, guint64 requests, guint64 bytes)
{
  m->uploaded = TRUE;
  m->upload_requests = requests;
  m->upload_bytes = bytes;
}

guint
op_manifest_n_shards (OpManifest * m)
{
  return m->entries->len;
}

/* Samples in the listed shards and loose files: what a stop keeps. */
guint64
op_manifest_n_samples (OpManifest * m)
{
  guint64 n = m->loose_samples;
  guint i;

  for (i = 0; i < m->entries->len; i++)
    n += g_array_index (m->entries, Entry, i).samples;
  return n;
}

static void
append_entries (GString * out, OpManifest * m, guint64 * samples,
    guint64 * bytes)
{
  guint i, j;

  for (i = 0; i < m->entries->len; i++) {
    Entry *e = &g_array_index (m->entries, Entry, i);
    g_string_append (out, i ? ",\n  {\"name\":" : "\n  {\"name\":");
    op_json_append_string (out, e->name);
    g_string_append (out, ",\"split\":");
    op_json_append_string (out, e->split);
    g_string_append_printf (out, ",\"samples\":%" G_GUINT64_FORMAT
        ",\"bytes\":%" G_GUINT64_FORMAT ",\"last_key\":", e->samples, e->bytes);
    op_json_append_string (out, e->last_key);
    g_string_append (out, ",\"sources\":[");
    for (j = 0; e->sources && e->sources[j]; j++) {
      if (j)
        g_string_append_c (out, ',');
      op_json_append_string (out, e->sources[j]);
    }
    g_string_append (out, "]}");
    *samples += e->samples;
    *bytes += e->bytes;
  }
}

static gchar *
to_json (OpManifest * m, gboolean complete)
{
  GString *out = g_string_new ("{\"onepass_version\":\"" VERSION "\"");
  guint64 samples = m->loose_samples, bytes = m->loose_bytes;
  guint i;

  g_string_append (out, ",\"format\":");
  op_json_append_string (out, m->format);
  g_string_append_printf (out, ",\"complete\":%s", complete ? "true" : "false");
  if (m->extra && *m->extra)
    g_string_append_printf (out, ",%s", m->extra);
  g_string_append (out, ",\"shards\":[");
  append_entries (out, m, &samples, &bytes);
  g_string_append_printf (out, "],\n \"shard_count\":%u,\"samples\":%"
      G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT ",\n ",
      m->entries->len, samples, bytes);
  if (m->uploaded)
    g_string_append_printf (out, "\"upload\":{\"requests\":%"
        G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT "},",
        m->upload_requests, m->upload_bytes);
  g_string_append (out, "\"skeleton\":");
  if (m->skeleton)
    op_json_append_skeleton (out, m->skeleton);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\n \"sources\":[");
  for (i = 0; i < m->sources->len; i++) {
    SourceRow *r = &g_array_index (m->sources, SourceRow, i);
    g_string_append (out, i ? ",{\"name\":" : "{\"name\":");
    op_json_append_string (out, r->name);
    g_string_append_printf (out, ",\"width\":%u,\"height\":%u}", r->width,
        r->height);
  }
  g_string_append (out, "]}\n");
  return g_string_free (out, FALSE);
}

/**
 * op_manifest_write:
 * @complete: the run is done (a rerun then needs overwrite=true)
 *
 * Replaces the manifest atomically, rebuilds dataset.json, then announces
 * the shards added since the last write.
 */
gboolean
op_manifest_write (OpManifest * m, gboolean complete, GError ** error)
{
  gchar *text = to_json (m, complete);
  gboolean ok;
  guint i;

  ok = op_batch_file_replace (m->path, text, strlen (text), TRUE, error)
      && op_dataset_update (m->dir, error);
  g_free (text);
  for (i = 0; ok && i < m->entries->len; i++) {
    Entry *e = &g_array_index (m->entries, Entry, i);
    OpShardInfo info = { e->path, e->split, e->index, e->samples, e->bytes };

    if (e->announced)
      continue;
    e->announced = TRUE;
    if (m->shard_closed)
      m->shard_closed (&info, m->user_data);
  }
  return ok;
}

void
op_manifest_free (OpManifest * m)
{
  if (!m)
    return;
  g_array_unref (m->entries);
  g_array_unref (m->sources);
  g_clear_pointer (&m->skeleton, op_skeleton_unref);
  g_free (m->extra);
  g_free (m->format);
  g_free (m->dir);
  g_free (m->path);
  g_free (m);
}
