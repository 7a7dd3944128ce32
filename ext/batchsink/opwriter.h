/* batchsink: the interface its dataset formats implement. Private to the
 * plugin (not installed, no ABI promise); the formats are listed in
 * writers.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_WRITER_H__
#define __OP_WRITER_H__

#include <gst/gst.h>
#include <onepass/opannotation.h>

G_BEGIN_DECLS

/**
 * OpSample:
 * @key: the design's key, `<source>_<frame-index:06>_<instance:02>`
 * @split: split name ("train", "val", ... or "data" without a split)
 * @ext: payload extension ("jpg", "png", or for raw pixels the format:
 *   "rgb", "bgr", "rgba", "gray"...) or %NULL for meta-only
 * @pixel_format: (nullable): GStreamer name of the raw pixel format ("RGB",
 *   "BGR", "GRAY8"...), %NULL for encoded or meta-only samples; written
 *   into the sample's JSON as `pixel_format`
 * @payload: (nullable): the encoded image or packed raw pixels (rows
 *   without padding)
 * @caps: (nullable): the payload's caps (raw pixels need them)
 * @ann: the sample's annotation (frame or crop)
 * @shared_source: @ann.source is batchsink's shared copy of the name (not
 *   freed with the sample; the writers may compare those pointers)
 * @json: @ann serialized once, as every format writes the same JSON
 *
 * One sample as the writer thread hands it to a format.
 */
typedef struct {
  gchar *key;
  const gchar *split;
  const gchar *ext;
  const gchar *pixel_format;
  GstBuffer *payload;
  GstCaps *caps;
  OpAnnotation ann;
  gboolean shared_source;
  gchar *json;
} OpSample;

/**
 * OpShardInfo:
 * @path: the shard's file, complete under its final name
 * @split: its split
 * @index: its number within the split (0 for hdf5's one file per split)
 * @samples: samples in it
 * @bytes: its size on disk
 *
 * A shard that was just committed and listed in the run's manifest.
 */
typedef struct {
  const gchar *path;
  const gchar *split;
  guint index;
  guint64 samples;
  guint64 bytes;
} OpShardInfo;

/* Called on the writer thread with no lock held. */
typedef void (*OpShardClosedFunc) (const OpShardInfo * info,
                                   gpointer user_data);

/**
 * OpWriterConfig:
 * @location: output directory (tar, dir) or file (hdf5, jsonl)
 * @max_shard_samples: close a shard once it holds this many samples
 * @max_shard_bytes: close a shard once it holds this many bytes
 * @has_split: a split is set; single-file formats (hdf5, jsonl) then write
 *   one file per split, the split name inserted before the extensions
 * @manifest_extra: (nullable): a JSON object body (without braces) that
 *   the manifest repeats, e.g. `"split":"train=0.9","split_by":"track"`
 * @shard_prefix: (nullable): the run name for tar and dir (shard names
 *   `<split>-<prefix>-NNNNNN.tar`, manifest `<prefix>.manifest.json`);
 *   %NULL: the sanitized source of the first sample
 * @overwrite: replace a complete earlier run (or file) of the same name
 *   instead of failing
 * @shard_closed: (nullable): called once per shard (tar, jsonl) or file
 *   (hdf5) after it is committed and listed in the manifest (manifest.c
 *   calls it, so no format can forget)
 * @user_data: for @shard_closed
 * @attributes: (nullable): the `attributes=FILE` table
 * @remote: (nullable): with `location=s3://`, the sink that uploads what
 *   the shard formats write into @location (a staging directory)
 *
 * What a format needs to know when it opens.
 */
typedef struct {
  const gchar *location;
  guint64 max_shard_samples;
  guint64 max_shard_bytes;
  gboolean has_split;
  const gchar *manifest_extra;
  const gchar *shard_prefix;
  gboolean overwrite;
  OpShardClosedFunc shard_closed;
  gpointer user_data;
  const struct _OpAttributes *attributes;
  struct _OpS3Sink *remote;
} OpWriterConfig;

/**
 * OpWriterStats:
 * @samples: samples handed to the format so far
 * @bytes: bytes written to disk so far (payload, JSON and container)
 * @shards: shards (or files) completed under their final name
 * @kept: samples in those (what a stop now would keep)
 */
typedef struct {
  guint64 samples;
  guint64 bytes;
  guint shards;
  guint64 kept;
} OpWriterStats;

typedef struct _OpWriter OpWriter;

/**
 * OpWriterFormat:
 * @name: the batchsink `format` nick
 * @open: prepares the location of @config; fails (naming the path) when it
 *   cannot be written; nothing visible as complete exists yet
 * @write: appends @n samples; may rotate shards (each shard is written as
 *   `.partial`, flushed, fsynced and renamed, then the manifest is rewritten
 *   atomically)
 * @close: commits what is pending; after it returns TRUE every sample is on
 *   disk under its final name (@writer stays valid for @stats)
 * @free: frees @writer; whatever @close did not commit is dropped, leaving
 *   completed shards and never a file that looks complete
 * @stats: fills the counters posted in `batchsink-progress`
 *
 * Called only from one thread at a time (batchsink's writer thread, or the
 * thread that changes the state, in start(), for @open). Errors use
 * G_IO_ERROR codes and name the path. @free is called exactly once, after @close or instead of it.
 */
typedef struct {
  const gchar *name;
  OpWriter *(*open)  (const OpWriterConfig * config, GError ** error);
  gboolean  (*write) (OpWriter * writer, OpSample * const * samples, guint n,
                      GError ** error);
  gboolean  (*close) (OpWriter * writer, GError ** error);
  void      (*free)  (OpWriter * writer);
  void      (*stats) (OpWriter * writer, OpWriterStats * stats);
} OpWriterFormat;

G_END_DECLS

#endif /* __OP_WRITER_H__ */
