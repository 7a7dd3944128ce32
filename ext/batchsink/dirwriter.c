/* batchsink: the seed's loose-file layout, `<split>/track_<N>/<key>.<ext>`
 * plus `<key>.json` (`untracked/` for samples without a track). Each file
 * goes through `.partial` + rename, so no truncated file ever has a final
 * name, but files are not fsynced one by one (the layout exists for tools
 * that need loose files, and the seed did not either): at EOS every
 * directory is synced and `<run>.manifest.json` written (manifest.c, no
 * shards, the totals and the source table), which marks the run complete.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "batchfile.h"
#include "dataset.h"
#include "manifest.h"

#include <onepass/opname.h>

#include <string.h>

struct _OpWriter
{
  gchar *dir;
  OpWriterConfig config;
  gchar *prefix;
  OpRun *run;
  OpManifest *manifest;
  GHashTable *dirs;             /* directories made so far */
  OpWriterStats stats;
  gboolean listed;              /* the totals are in the manifest */
  gboolean closed;
};

static void
dir_free (OpWriter * w)
{
  /* stopped before EOS: every file written is complete; the manifest
   * counts them and says the run is not */
  if (w->manifest && !w->closed && w->stats.samples > 0) {
    if (!w->listed)
      op_manifest_add_loose (w->manifest, w->stats.samples, w->stats.bytes);
    op_manifest_write (w->manifest, FALSE, NULL);
  }
  g_hash_table_unref (w->dirs);
  op_manifest_free (w->manifest);
  op_run_release (w->run);
  g_free (w->prefix);
  g_free ((gchar *) w->config.manifest_extra);
  g_free (w->dir);
  g_free (w);
}

static OpWriter *
dir_open (const OpWriterConfig * config, GError ** error)
{
  OpWriter *w;

  if (!op_batch_check_dir (config->location, error))
    return NULL;
  w = g_new0 (OpWriter, 1);
  w->dir = g_strdup (config->location);
  /* kept for the manifest, made once the run has a name */
  w->config = *config;
  w->config.location = w->dir;
  w->config.manifest_extra = g_strdup (config->manifest_extra);
  w->config.shard_prefix = NULL;
  w->prefix = g_strdup (config->shard_prefix);
  w->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return w;
}

static gint
sample_track (const OpSample * s)
{
  if (op_annotation_n_instances (&s->ann) == 0)
    return -1;
  return op_annotation_get_instance (&s->ann, 0)->track;
}

static gboolean
put_file (OpWriter * w, const gchar * dir, const gchar * key,
    const gchar * ext, const void *data, gsize len, GError ** error)
{
  gchar *base = g_strconcat (key, ".", ext, NULL);
  gchar *path = g_build_filename (dir, base, NULL);
  gboolean ok = op_batch_file_replace (path, data, len, FALSE, error);

  g_free (path);
  g_free (base);
  w->stats.bytes += ok ? len : 0;
  return ok;
}

static gboolean
dir_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i;

  if (!w->run) {
    /* named like a tar run: shard-prefix, else the first source */
    if (!w->prefix)
      w->prefix = op_name_sanitize (samples[0]->ann.source, 64);
    w->run = op_run_claim (w->dir, w->prefix, w->config.overwrite, error);
    if (!w->run)
      return FALSE;
    w->manifest = op_manifest_new (op_run_manifest_path (w->run), "dir",
        &w->config);
  }
  for (i = 0; i < n; i++) {
    OpSample *s = samples[i];
    gint track = sample_track (s);
    gchar *sub = track >= 0 ? g_strdup_printf ("track_%d", track) :
        g_strdup ("untracked");
    gchar *dir = g_build_filename (w->dir, s->split, sub, NULL);
    gboolean ok = TRUE;

    g_free (sub);
    if (!g_hash_table_contains (w->dirs, dir)) {
      ok = op_batch_mkdirs (dir, error);
      if (ok)
        g_hash_table_add (w->dirs, g_strdup (dir));
    }
    if (ok && s->ext && s->payload) {
      GstMapInfo map;
      if (gst_buffer_map (s->payload, &map, GST_MAP_READ)) {
        ok = put_file (w, dir, s->key, s->ext, map.data, map.size, error);
        gst_buffer_unmap (s->payload, &map);
      } else {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "Could not map the payload of sample %s", s->key);
        ok = FALSE;
      }
    }
    if (ok)
      ok = put_file (w, dir, s->key, "json", s->json, strlen (s->json), error);
    g_free (dir);
    if (!ok)
      return FALSE;
    op_manifest_note (w->manifest, &s->ann);
    w->stats.samples++;
    w->stats.kept++;
  }
  return TRUE;
}

static gboolean
dir_close (OpWriter * w, GError ** error)
{
  GHashTableIter it;
  gchar *dir;
  gboolean ok = TRUE;

  if (!w->run)
    return TRUE;                /* no sample, no name: nothing written */
  g_hash_table_iter_init (&it, w->dirs);
  while (ok && g_hash_table_iter_next (&it, (gpointer *) & dir, NULL))
    ok = op_batch_sync_dir (dir, error);
  if (!ok)
    return FALSE;
  /* loose files: no shards, only the totals */
  op_manifest_add_loose (w->manifest, w->stats.samples, w->stats.bytes);
  w->listed = TRUE;
  w->closed = op_manifest_write (w->manifest, TRUE, error);
  return w->closed;
}

static void
dir_stats (OpWriter * w, OpWriterStats * stats)
{
  *stats = w->stats;
}

const OpWriterFormat op_dir_writer = {
  "dir", dir_open, dir_write, dir_close, dir_free, dir_stats
};
