/* onepass: the interface dataset writers implement (used by batchsink).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_WRITER_H__
#define __OP_WRITER_H__

#include <gst/gst.h>
#include "opannotation.h"

G_BEGIN_DECLS

/**
 * OpSample:
 * @key: the design's key, `<source>_<frame-index:06>_<instance:02>`
 * @split: split name ("train", "val", ... or "data" without a split)
 * @ext: payload extension ("jpg", "png", "raw") or %NULL for meta-only
 * @payload: (nullable): the encoded image or raw pixels
 * @caps: (nullable): the payload's caps (raw pixels need them)
 * @ann: the sample's annotation (frame or crop)
 * @json: @ann serialized once, as every format writes the same JSON
 *
 * One sample as the writer thread hands it to a format.
 */
typedef struct {
  gchar *key;
  const gchar *split;
  const gchar *ext;
  GstBuffer *payload;
  GstCaps *caps;
  OpAnnotation ann;
  gchar *json;
} OpSample;

typedef struct _OpWriter OpWriter;

/**
 * OpWriterFormat:
 * @name: the batchsink `format` nick
 * @open: prepares @location; nothing visible as complete exists yet
 * @write: appends @n samples; may rotate shards (each shard is written as
 *   `.partial`, flushed, fsynced and renamed, then the manifest is rewritten
 *   atomically)
 * @close: commits what is pending; after it returns TRUE every sample is on
 *   disk under its final name
 * @abort: stops without committing; leaves completed shards and at most one
 *   `.partial`, never a file that looks complete
 *
 * Called only from batchsink's writer thread, never concurrently. Errors
 * use G_IO_ERROR codes and name the path.
 */
typedef struct {
  const gchar *name;
  OpWriter *(*open)  (const gchar * location, GError ** error);
  gboolean  (*write) (OpWriter * writer, OpSample * const * samples, guint n,
                      GError ** error);
  gboolean  (*close) (OpWriter * writer, GError ** error);
  void      (*abort) (OpWriter * writer);
} OpWriterFormat;

G_END_DECLS

#endif /* __OP_WRITER_H__ */
