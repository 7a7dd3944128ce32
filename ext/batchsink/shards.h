/* batchsink: shard rotation per split (tar, jsonl); the manifest is manifest.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_SHARDS_H__
#define __OP_SHARDS_H__

#include "opwriter.h"
#include "batchfile.h"
#include "dataset.h"

G_BEGIN_DECLS

typedef struct _OpShards OpShards;

/**
 * OpShard:
 * @split: split name
 * @index: number of this shard within its split
 * @file: the open `.partial`, or %NULL between shards
 * @samples: samples in the open shard
 * @data: the format's per-shard state
 */
typedef struct
{
  gchar *split;
  guint index;
  OpBatchFile *file;
  guint64 samples;
  gpointer data;
  /*< private > */
  GPtrArray *sources;           /* interned source names in this shard */
  gchar *last_key;
} OpShard;

/**
 * OpShardHooks:
 * @path: (transfer full) the final path of shard @index of @split
 * @begin: called after a shard's file is opened
 * @end: called before a shard is committed (trailers, compressor flush);
 *   also frees @shard->data
 * @discard: frees @shard->data when a shard is dropped
 * @final_path: (nullable) (transfer full) the name shard @shard gets at
 *   commit when it differs from the one @path gave its `.partial`; @last is
 *   TRUE when the shard is committed by op_shards_close() (the split's last
 *   shard), FALSE when it is full and rotates. %NULL (hook or return
 *   value): keep @path's name.
 */
typedef struct
{
  gchar *(*path) (const gchar * split, guint index, gpointer user_data);
  gboolean (*begin) (OpShard * shard, gpointer user_data, GError ** error);
  gboolean (*end) (OpShard * shard, gpointer user_data, GError ** error);
  void (*discard) (OpShard * shard, gpointer user_data);
  gchar *(*final_path) (OpShard * shard, gboolean last, gpointer user_data);
} OpShardHooks;

OpShards *op_shards_new (const gchar * format, const OpWriterConfig * config,
    const gchar * manifest_path,
    const OpShardHooks * hooks, gpointer user_data);
OpShard *op_shards_get (OpShards * shards, const gchar * split,
    GError ** error);
gboolean op_shards_sample_done (OpShards * shards, OpShard * shard,
    const OpSample * sample, GError ** error);
void op_shards_resume (OpShards * shards, GArray * resumed);
gboolean op_shards_skip (OpShards * shards, const OpSample * sample,
    gboolean * skip, GError ** error);
gboolean op_shards_write_manifest (OpShards * shards, gboolean complete,
    GError ** error);
gboolean op_shards_close (OpShards * shards, GError ** error);
void op_shards_free (OpShards * shards);
void op_shards_stats (OpShards * shards, OpWriterStats * stats);

G_END_DECLS

#endif /* __OP_SHARDS_H__ */
