/* batchsink: batched, atomic dataset writing with train/val splits.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-batchsink
 * @title: batchsink
 * @see_also: annotfilter, cropextract, multifilesink, splitmuxsink
 *
 * Writes every incoming buffer as one dataset sample: its payload (JPEG,
 * PNG or packed raw pixels) and its annotation JSON (the crop meta if
 * present, else the frame annotation meta, serialized by the onepass
 * library). Samples are written in batches, on a writer thread behind a
 * queue bounded by `max-pending-bytes`, into few large files, atomically:
 * every file is written as `<name>.partial`, fsynced and renamed, and for
 * `tar` and `jsonl` a manifest listing the complete shards is rewritten the
 * same way after each shard. A reader never sees a truncated file under a
 * final name; a kill leaves the complete shards plus at most one
 * `.partial` per split.
 *
 * Sample key: `<source>_<frame-index:06>_<instance:02>`, `<source>`
 * sanitized to [A-Za-z0-9_-] (no dots: WebDataset's sample key ends at the
 * first dot; one '_' per other character, UTF-8 aware) and cut to 64
 * characters. Two sources that give the same name are an error. The
 * instance is `crop.instance` for crops and 0 for whole frames (a frame is
 * one sample whatever its instance count; its JSON lists all of them).
 * annotaugment's k-th copy of a sample (annotation `augment` = k) gets
 * `_aug<k>` appended. A
 * buffer without annotation meta is written with a minimal annotation
 * (source `unlabeled`, frame index = count of such buffers, the buffer
 * PTS, the raw video size if known, no instances) and one element warning
 * is posted for the first such buffer.
 *
 * Payload by caps: `image/jpeg` → `.jpg`, `image/png` → `.png`,
 * `video/x-raw` in a packed format → named for the format (`.rgb`, `.bgr`,
 * `.rgba`, `.bgra`, `.argb`, `.abgr`, `.rgbx`, `.bgrx`, `.xrgb`, `.xbgr`,
 * `.gray` for GRAY8), rows without padding, and the JSON gets
 * `"pixel_format"`; the image is `width` x `height` (frames) or
 * `crop.width` x `crop.height` (crops) of the JSON, checked. Other raw
 * formats are refused at caps time. `format=jsonl` writes only the JSON
 * and accepts any caps; `format=hdf5` needs packed raw video.
 *
 * Formats:
 * - `tar`: `location` is a directory; WebDataset shards
 *   `<split>-<run>-<NNNNNN>.tar` holding `<key>.<ext>` + `<key>.json`,
 *   rotated at `max-shard-samples` / `max-shard-bytes`; `<run>` is
 *   `shard-prefix`, else the sanitized source of the first sample.
 * - `hdf5`: `location` is a file (one per split, split name inserted before
 *   the last extension: `out.train.h5`), written as `.partial`; a split
 *   that reaches `max-shard-samples` / `max-shard-bytes` rotates like tar:
 *   each full shard is committed as `out.train-NNNNNN.h5` and `out.train.h5`
 *   is rewritten as a view (HDF5 virtual datasets) of every committed
 *   shard, so a kill keeps them; a split that never rotates is renamed to
 *   `out.train.h5` at EOS, and a split that rotated is consolidated at a
 *   clean EOS into one self-contained `out.train.h5` (its shards deleted);
 *   after other stops the view and its shards stay; layout version 2: `images` (attrs `pixel_format`, `layout`),
 *   `keypoints` N x I x K x 4 for every instance (NaN padding),
 *   `n_instances`, `track`, `kind`, `score`, `bbox`, `frame_index`, `pts`,
 *   `source`, crops also `instance` and `rect`; the per-source table
 *   `sources`, `source_width`, `source_height`; attributes `nodes`,
 *   `edges`, `symmetries`, `coordinates`, `layout_version`,
 *   `onepass_version`.
 * - `jsonl`: `location` is a file name, one JSON object per line, gzip
 *   when it ends in `.gz` (every shard a complete gzip stream). Shards
 *   rotate at `max-shard-samples` / `max-shard-bytes` like tar. A split
 *   whose samples fit in one shard gets one file, `location` itself
 *   (`frames.jsonl.gz`) or, with `split`, the split name inserted before
 *   the extensions (`frames.train.jsonl.gz`), renamed at EOS. Once a shard
 *   reaches a limit that split's shards are numbered after the stem:
 *   `frames-000000.jsonl.gz`, `frames-000001.jsonl.gz`, ... or
 *   `frames.train-000000.jsonl.gz`.
 * - `dir`: `<location>/<split>/track_<N>/<key>.<ext>` + `<key>.json`
 *   (`untracked/` without a track), the seed's loose-file layout; each file
 *   goes through `.partial` + rename.
 *
 * Runs: every pipeline is a run named as above (jsonl, hdf5: the
 * location's base name) with its own manifest `<run>.manifest.json`
 * (`onepass_version`, `format`, `complete`, `split`, `split_by`, `shards`
 * [{`name`, `split`, `samples`, `bytes`, `last_key`, `sources`}],
 * `shard_count`, `samples`, `bytes`, `skeleton`, `sources` [{`name`,
 * `width`, `height`}]), locked while it writes, so several pipelines can
 * write into one directory at once. `dataset.json` at the root lists every
 * complete shard or file of every run (path, split, samples, bytes,
 * sources), the skeleton and the per-source table; it is rebuilt under a
 * file lock whenever a manifest changes. A complete run is never
 * overwritten unless `overwrite` is set; an interrupted run is resumed by
 * the same command (its complete shards are kept and their samples
 * skipped, checked by key).
 *
 * Splits: with `split` set, each sample's group (see `split-by`) is hashed
 * (FNV-1a 64 + MurmurHash3 fmix64 over a canonical string, top 53 bits as
 * a fraction in [0, 1)) and mapped to the split whose cumulative fraction
 * range holds it: the same input gives the same split on any machine.
 * Without `split` every sample goes to split `data`.
 *
 * Events: EOS waits until the writer thread has written and committed
 * everything, then posts the final `batchsink-progress` message, then EOS.
 * FLUSH_START wakes a streaming thread waiting for queue space; samples
 * already queued are still written. Stopping before EOS (the element
 * going to NULL) keeps completed shards, removes `.partial` files,
 * rewrites the run's manifest with `"complete": false` (every format) and
 * posts a WARNING (RESOURCE WRITE, debug `kept=N dropped=M`; also printed,
 * as gst-launch-1.0 no longer reads the bus then; an application sees it
 * from a bus sync handler) with the samples kept and dropped.
 *
 * Object storage: `location=s3://bucket/prefix/` (tar) or
 * `s3://bucket/prefix/name.jsonl.gz` (jsonl) writes the run to an
 * S3-compatible store (AWS, MinIO, Ceph, Google Cloud Storage with HMAC
 * keys; `endpoint` or `AWS_ENDPOINT_URL` for non-AWS stores, keys from
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` or
 * `~/.aws/credentials` with `AWS_PROFILE`, region from `AWS_REGION`).
 * Shards are written to `staging-dir` (default: a temporary directory)
 * and each is uploaded when it completes (one PUT up to `part-size`,
 * multipart above), before the manifest and dataset.json that list it are
 * uploaded: the store never holds an index naming a missing object. The
 * bucket and credentials are checked at start. Requests are retried 5
 * times with backoff on connection errors and 5xx; a shard that still
 * fails is a RESOURCE WRITE error naming `s3://bucket/key` (its multipart
 * upload aborted, earlier objects intact, the shard kept in a given
 * `staging-dir`). hdf5 and dir are refused with s3:// (RESOURCE SETTINGS).
 * No key, secret or token appears in messages or logs. See
 * docs/batchsink.md, "Object storage".
 *
 * Errors: an unwritable `location` fails at start (RESOURCE OPEN_WRITE
 * naming the path); a `location` with a URI scheme other than file:// or
 * s3:// (`gs://bucket/run1/`) fails at start with RESOURCE SETTINGS and
 * creates nothing; an s3:// location whose bucket is missing or refuses
 * the credentials fails at start with RESOURCE OPEN_WRITE; a bad `split` or `shard-prefix` fails at start (RESOURCE
 * SETTINGS); a complete earlier run of the same name, or another pipeline
 * writing it, fails with RESOURCE OPEN_WRITE (jsonl, hdf5: at start) or
 * RESOURCE WRITE (tar, dir: at the first sample); a
 * full disk is RESOURCE NO_SPACE_LEFT naming the file, other write errors
 * RESOURCE WRITE; completed shards stay intact. For tests,
 * `ONEPASS_BATCHSINK_FAULT=enospc-after-bytes:N` (read at start) makes
 * writes fail with ENOSPC once N bytes were written.
 *
 * ## Messages
 * `batchsink-progress` (element message), after each batch is written and
 * once more at EOS when everything is on disk:
 * - `samples` (G_TYPE_UINT64): samples written so far
 * - `bytes` (G_TYPE_UINT64): bytes written to disk so far
 * - `shards` (G_TYPE_UINT): shards (tar, jsonl) or files (hdf5) completed
 * - `final` (G_TYPE_BOOLEAN): TRUE only for the message posted at EOS
 * - `location` (G_TYPE_STRING): the `location` property
 * - `requests` (G_TYPE_UINT64, s3:// only): HTTP requests sent to the
 *   store so far, retries included (the manifest's `upload` has the count
 *   before its own upload)
 * - `upload-bytes` (G_TYPE_UINT64, s3:// only): request body bytes sent
 * - `split-requested` (G_TYPE_STRING, final message, with `split` only):
 *   the split normalized, e.g. `train=0.8,val=0.2`
 * - `split-achieved` (G_TYPE_STRING, final message, with `split` only):
 *   the fractions of the samples written per split, e.g.
 *   `train=0.3333,val=0.6667`; an element WARNING follows when one is more
 *   than 0.10 from the request (few tracks or sources: use
 *   `split-by=frame` or `sample`)
 *
 * `batchsink-shard-closed` (element message), once per shard (tar, jsonl)
 * or split file (hdf5) as soon as it is complete under its final name and
 * listed in the run's manifest, like splitmuxsink's
 * `splitmuxsink-fragment-closed`; `dir` writes loose files and posts none.
 * A resumed run does not announce the shards it kept.
 * - `path` (G_TYPE_STRING): the file
 * - `split` (G_TYPE_STRING): its split (`data` without `split`)
 * - `index` (G_TYPE_UINT): its number within the split (0 for hdf5)
 * - `samples` (G_TYPE_UINT64): samples in it
 * - `bytes` (G_TYPE_UINT64): its size on disk
 *
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=250 ! \
 *   video/x-raw,format=RGB,width=64,height=48 ! jpegenc ! \
 *   batchsink format=tar location=out/ max-shard-samples=100 \
 *   2>&1 | grep batchsink-shard-closed
 * ]| prints three messages: shards 0 and 1 with 100 samples, shard 2 with 50.
 *
 * ## Per-source attributes
 *
 * `attributes=FILE` is a CSV with a `source` column and numeric columns
 * (`source,beta0,beta1`: seed 000's shape betas). HDF5 files get
 * `/attributes/<column>` (float64, aligned with `sources`), the run's
 * manifest the table, and dataset.json each source row's values
 * (`"attributes": {"beta0": ...}`). A sample whose source has no row is a
 * STREAM FORMAT error naming the source and the file.
 * |[
 * gst-launch-1.0 filesrc location=s1/camA.mp4 ! decodebin ! \
 *   annotfilter location=s1/camA.slp source=s1_camA ! \
 *   videoconvert ! video/x-raw,format=RGB ! \
 *   batchsink format=hdf5 location=s1_camA.h5 attributes=betas.csv
 * ]|
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp ! cropextract ! \
 *   videoconvert ! video/x-raw,format=RGB ! jpegenc ! \
 *   batchsink format=tar location=out/ split="train=0.9,val=0.1"
 * # a second video into the same directory, at the same time if wanted
 * gst-launch-1.0 filesrc location=clip2.mp4 ! decodebin ! \
 *   annotfilter location=clip2.slp ! cropextract ! \
 *   videoconvert ! video/x-raw,format=RGB ! jpegenc ! \
 *   batchsink format=tar location=out/ split="train=0.9,val=0.1" \
 *   shard-prefix=clip2-run1
 * gst-launch-1.0 -m videotestsrc num-buffers=100 ! video/x-raw,format=RGB ! \
 *   batchsink format=hdf5 location=frames.h5 overwrite=true
 * # straight to object storage (here a MinIO on localhost)
 * AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
 * gst-launch-1.0 -m filesrc location=clip.mp4 ! decodebin ! \
 *   annotfilter location=clip.slp ! cropextract ! \
 *   videoconvert ! video/x-raw,format=RGB ! jpegenc ! \
 *   batchsink format=tar location=s3://bucket/run1/ \
 *   endpoint=http://127.0.0.1:9000 split="train=0.9,val=0.1"
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>
#include <gst/video/video.h>
#include <onepass/onepass.h>
#include "opwriter.h"

#include "gstbatchsink.h"
#include "split.h"
#include "batchfile.h"
#include "writers.h"
#include "writerthread.h"
#include "s3sink.h"
#include "attributes.h"

GST_DEBUG_CATEGORY_STATIC (op_batch_sink_debug);
#define GST_CAT_DEFAULT op_batch_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT 0        /* tar: index in op_batch_formats */
#define DEFAULT_BATCH_SIZE 256
#define DEFAULT_MAX_SHARD_SAMPLES 10000
#define DEFAULT_MAX_SHARD_BYTES (G_GUINT64_CONSTANT (1) << 30)
#define DEFAULT_SPLIT NULL
#define DEFAULT_SPLIT_BY OP_SPLIT_BY_TRACK
#define DEFAULT_MAX_PENDING_BYTES (64 * 1024 * 1024)
#define DEFAULT_SHARD_PREFIX NULL
#define DEFAULT_OVERWRITE FALSE
#define DEFAULT_STAGING_DIR NULL
#define DEFAULT_ENDPOINT NULL
#define DEFAULT_PART_SIZE (G_GUINT64_CONSTANT (8) << 20)
#define SOURCE_MAX 64

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_BATCH_SIZE,
  PROP_MAX_SHARD_SAMPLES,
  PROP_MAX_SHARD_BYTES,
  PROP_SPLIT,
  PROP_SPLIT_BY,
  PROP_MAX_PENDING_BYTES,
  PROP_SHARD_PREFIX,
  PROP_OVERWRITE,
  PROP_STAGING_DIR,
  PROP_ENDPOINT,
  PROP_PART_SIZE,
  PROP_ATTRIBUTES,
};

/* The properties, as set (under the object lock) and as the stream uses
 * them (a copy taken in start ()). */
typedef struct
{
  gchar *location;
  gint format;                  /* index in op_batch_formats */
  guint batch_size;
  guint64 max_shard_samples;
  guint64 max_shard_bytes;
  gchar *split;
  OpSplitBy split_by;
  guint64 max_pending_bytes;
  gchar *shard_prefix;
  gboolean overwrite;
  gchar *staging_dir;
  gchar *endpoint;
  guint64 part_size;
  gchar *attributes;
} OpBatchSinkSettings;

struct _OpBatchSink
{
  GstBaseSink parent;

  /* properties (OBJECT_LOCK) */
  OpBatchSinkSettings settings;

  /* streaming state, set in start, freed in stop */
  OpBatchSinkSettings cur;      /* the copy; cur.location made local */
  OpAttributes *cur_attributes;
  const OpBatchFormat *cur_format;
  GstCaps *accepted;            /* cur_format's caps */
  OpSplit *splits;
  OpWriterThread *writer;
  OpS3Sink *s3;                 /* location=s3:// */
  guint64 unlabeled;
  gboolean warned_unlabeled;
  GHashTable *names;            /* the samples' shared source names */
  GHashTable *key_prefix;       /* shared source name -> sanitized name */
  GHashTable *prefix_source;    /* sanitized name -> interned source */

  /* negotiated */
  GstCaps *caps;
  const gchar *ext;
  const gchar *pixel_format;
  gboolean raw;
  gboolean have_vinfo;
  GstVideoInfo vinfo;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define op_batch_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (OpBatchSink, op_batch_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (op_batch_sink_debug, "batchsink", 0,
        "batched dataset writer"));
GST_ELEMENT_REGISTER_DEFINE (batchsink, "batchsink", GST_RANK_NONE,
    OP_TYPE_BATCH_SINK);

/* the values are the formats' table (writers.c), in its order */
GType
op_batch_sink_format_get_type (void)
{
  static GType type = 0;
  static GEnumValue values[OP_BATCH_N_FORMATS + 1];

  if (g_once_init_enter (&type)) {
    guint i;

    for (i = 0; i < OP_BATCH_N_FORMATS; i++) {
      values[i].value = i;
      values[i].value_name = op_batch_formats[i].description;
      values[i].value_nick = op_batch_formats[i].nick;
    }
    g_once_init_leave (&type,
        g_enum_register_static ("OpBatchSinkFormat", values));
  }
  return type;
}

GType
op_batch_sink_split_by_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_SPLIT_BY_TRACK, "All samples of a track in one split", "track"},
    {OP_SPLIT_BY_SOURCE, "All samples of a source in one split", "source"},
    {OP_SPLIT_BY_FRAME, "All samples of a frame in one split", "frame"},
    {OP_SPLIT_BY_SAMPLE, "Each sample on its own", "sample"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("OpBatchSinkSplitBy", values));
  return type;
}

static void op_batch_sink_finalize (GObject * object);
static void op_batch_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_batch_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean op_batch_sink_start (GstBaseSink * sink);
static gboolean op_batch_sink_stop (GstBaseSink * sink);
static gboolean op_batch_sink_unlock (GstBaseSink * sink);
static gboolean op_batch_sink_unlock_stop (GstBaseSink * sink);
static gboolean op_batch_sink_set_caps (GstBaseSink * sink, GstCaps * caps);
static gboolean op_batch_sink_propose_allocation (GstBaseSink * sink,
    GstQuery * query);
static GstFlowReturn op_batch_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);
static GstFlowReturn op_batch_sink_render_list (GstBaseSink * sink,
    GstBufferList * list);
static gboolean op_batch_sink_event (GstBaseSink * sink, GstEvent * event);

static void
op_batch_sink_class_init (OpBatchSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->finalize = op_batch_sink_finalize;
  gobject_class->set_property = op_batch_sink_set_property;
  gobject_class->get_property = op_batch_sink_get_property;

  /**
   * OpBatchSink:location:
   *
   * Output directory (tar, dir) or file (hdf5, jsonl). Parent directories
   * are created. tar and jsonl also take `s3://bucket/prefix/` (jsonl:
   * `s3://bucket/prefix/name.jsonl[.gz]`): see staging-dir, endpoint,
   * part-size.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Output directory (tar, dir) or file (hdf5, jsonl)",
          DEFAULT_LOCATION, flags));
  /**
   * OpBatchSink:format:
   *
   * Dataset format: tar shards, one HDF5 file, JSON lines, or loose files.
   */
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format", "Dataset format",
          OP_TYPE_BATCH_SINK_FORMAT, DEFAULT_FORMAT, flags));
  /**
   * OpBatchSink:batch-size:
   *
   * Samples the writer thread hands to the format at once (fewer when the
   * queue is full or at EOS). One `batchsink-progress` message per batch.
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Samples per write", 1, 1 << 20, DEFAULT_BATCH_SIZE, flags));
  /**
   * OpBatchSink:max-shard-samples:
   *
   * A tar, jsonl or hdf5 shard is closed once it holds this many samples
   * (hdf5: and `<stem>.<split>.h5` becomes the view of its shards). A kill
   * loses at most the open shard of each split.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_SHARD_SAMPLES,
      g_param_spec_uint64 ("max-shard-samples", "Max shard samples",
          "Samples per tar/jsonl/hdf5 shard", 1, G_MAXUINT64,
          DEFAULT_MAX_SHARD_SAMPLES, flags));
  /**
   * OpBatchSink:max-shard-bytes:
   *
   * A tar or jsonl shard is closed once it holds this many bytes on disk
   * (checked after each sample, so a shard passes the limit by at most one
   * sample; a gzip jsonl shard is flushed near the limit so its compressed
   * size is exact). An hdf5 shard counts its raw image bytes (compressed
   * on disk) and passes the limit by less than one image.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_SHARD_BYTES,
      g_param_spec_uint64 ("max-shard-bytes", "Max shard bytes",
          "Bytes per tar/jsonl/hdf5 shard", 1, G_MAXUINT64,
          DEFAULT_MAX_SHARD_BYTES, flags));
  /**
   * OpBatchSink:split:
   *
   * Splits as `name=fraction` pairs, e.g. `train=0.9,val=0.1`: names of
   * [A-Za-z0-9_-], fractions > 0 summing to 1. %NULL: one split `data`.
   */
  g_object_class_install_property (gobject_class, PROP_SPLIT,
      g_param_spec_string ("split", "Split",
          "Splits as name=fraction pairs (e.g. train=0.9,val=0.1)",
          DEFAULT_SPLIT, flags));
  /**
   * OpBatchSink:split-by:
   *
   * What stays together in one split: `track` (`<source>/track/<N>` of the
   * sample's first instance; untracked samples go by frame), `source`
   * (`<source>`), `frame` (`<source>/frame/<index>`) or `sample` (the key).
   */
  g_object_class_install_property (gobject_class, PROP_SPLIT_BY,
      g_param_spec_enum ("split-by", "Split by",
          "What stays together in one split", OP_TYPE_BATCH_SINK_SPLIT_BY,
          DEFAULT_SPLIT_BY, flags));
  /**
   * OpBatchSink:max-pending-bytes:
   *
   * Bytes of samples queued for the writer thread before the streaming
   * thread waits.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PENDING_BYTES,
      g_param_spec_uint64 ("max-pending-bytes", "Max pending bytes",
          "Queued bytes before the streaming thread waits", 1, G_MAXUINT64,
          DEFAULT_MAX_PENDING_BYTES, flags));

  /**
   * OpBatchSink:shard-prefix:
   *
   * Name of this run for `tar` and `dir` ([A-Za-z0-9_-]): shards are
   * `<split>-<shard-prefix>-NNNNNN.tar`, the run's manifest
   * `<shard-prefix>.manifest.json`. %NULL: the sanitized source of the
   * first sample. Give each pipeline writing into one directory its own.
   */
  g_object_class_install_property (gobject_class, PROP_SHARD_PREFIX,
      g_param_spec_string ("shard-prefix", "Shard prefix",
          "Run name in shard names (default: the first sample's source)",
          DEFAULT_SHARD_PREFIX, flags));
  /**
   * OpBatchSink:overwrite:
   *
   * Replace a complete earlier run of the same name (or an existing
   * jsonl/hdf5 file) instead of failing. An interrupted run is resumed
   * whatever this says, unless it is TRUE (then it starts again).
   */
  g_object_class_install_property (gobject_class, PROP_OVERWRITE,
      g_param_spec_boolean ("overwrite", "Overwrite",
          "Replace a complete earlier run of the same name", DEFAULT_OVERWRITE,
          flags));
  /**
   * OpBatchSink:staging-dir:
   *
   * With an `s3://` location: the local directory the shards are written
   * to before they are uploaded. It keeps them (a shard whose upload
   * failed stays there; an interrupted run resumes from it). %NULL: a new
   * temporary directory, each shard deleted once uploaded, the directory
   * at the end.
   */
  g_object_class_install_property (gobject_class, PROP_STAGING_DIR,
      g_param_spec_string ("staging-dir", "Staging directory",
          "s3:// location: local directory for shards before upload "
          "(default: a temporary one)", DEFAULT_STAGING_DIR, flags));
  /**
   * OpBatchSink:endpoint:
   *
   * With an `s3://` location: base URL of an S3-compatible store (MinIO,
   * Ceph, `https://storage.googleapis.com` with HMAC keys), addressed
   * path-style. %NULL: `AWS_ENDPOINT_URL`, else AWS.
   */
  g_object_class_install_property (gobject_class, PROP_ENDPOINT,
      g_param_spec_string ("endpoint", "Endpoint",
          "s3:// location: S3-compatible store URL (default: "
          "AWS_ENDPOINT_URL, else AWS)", DEFAULT_ENDPOINT, flags));
  /**
   * OpBatchSink:part-size:
   *
   * With an `s3://` location: a shard up to this size is uploaded with one
   * PUT, a larger one in parts of this size (multipart upload; AWS wants
   * at least 5 MiB, smaller values are for tests against other stores).
   */
  g_object_class_install_property (gobject_class, PROP_PART_SIZE,
      g_param_spec_uint64 ("part-size", "Part size",
          "s3:// location: single-PUT limit and multipart part size",
          1024, G_GUINT64_CONSTANT (5) << 30, DEFAULT_PART_SIZE, flags));
  /**
   * OpBatchSink:attributes:
   *
   * A CSV with a `source` column and numeric columns: per-source values
   * stored as `/attributes/<column>` (HDF5) and in the manifest and
   * dataset.json. NULL: none.
   */
  g_object_class_install_property (gobject_class, PROP_ATTRIBUTES,
      g_param_spec_string ("attributes", "Attributes",
          "CSV of per-source numeric columns (a source column plus values)",
          NULL, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Batched dataset sink", "Sink/File",
      "Writes annotated samples as tar shards, HDF5, JSON lines or files, "
      "in batches, atomically, with deterministic splits",
      "onepass developers");

  sink_class->start = GST_DEBUG_FUNCPTR (op_batch_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (op_batch_sink_stop);
  sink_class->unlock = GST_DEBUG_FUNCPTR (op_batch_sink_unlock);
  sink_class->unlock_stop = GST_DEBUG_FUNCPTR (op_batch_sink_unlock_stop);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (op_batch_sink_set_caps);
  sink_class->propose_allocation =
      GST_DEBUG_FUNCPTR (op_batch_sink_propose_allocation);
  sink_class->render = GST_DEBUG_FUNCPTR (op_batch_sink_render);
  sink_class->render_list = GST_DEBUG_FUNCPTR (op_batch_sink_render_list);
  sink_class->event = GST_DEBUG_FUNCPTR (op_batch_sink_event);

  gst_type_mark_as_plugin_api (OP_TYPE_BATCH_SINK_FORMAT, 0);
  gst_type_mark_as_plugin_api (OP_TYPE_BATCH_SINK_SPLIT_BY, 0);
}

static void
op_batch_sink_init (OpBatchSink * self)
{
  self->settings.location = g_strdup (DEFAULT_LOCATION);
  self->settings.format = DEFAULT_FORMAT;
  self->settings.batch_size = DEFAULT_BATCH_SIZE;
  self->settings.max_shard_samples = DEFAULT_MAX_SHARD_SAMPLES;
  self->settings.max_shard_bytes = DEFAULT_MAX_SHARD_BYTES;
  self->settings.split = g_strdup (DEFAULT_SPLIT);
  self->settings.split_by = DEFAULT_SPLIT_BY;
  self->settings.max_pending_bytes = DEFAULT_MAX_PENDING_BYTES;
  self->settings.shard_prefix = g_strdup (DEFAULT_SHARD_PREFIX);
  self->settings.overwrite = DEFAULT_OVERWRITE;
  self->settings.staging_dir = g_strdup (DEFAULT_STAGING_DIR);
  self->settings.endpoint = g_strdup (DEFAULT_ENDPOINT);
  self->settings.part_size = DEFAULT_PART_SIZE;
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* the queue already holds what it needs; no extra last-buffer ref */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

static void
settings_clear (OpBatchSinkSettings * s)
{
  g_clear_pointer (&s->location, g_free);
  g_clear_pointer (&s->split, g_free);
  g_clear_pointer (&s->shard_prefix, g_free);
  g_clear_pointer (&s->staging_dir, g_free);
  g_clear_pointer (&s->endpoint, g_free);
  g_clear_pointer (&s->attributes, g_free);
}

static void
settings_copy (OpBatchSinkSettings * dst, const OpBatchSinkSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->location = g_strdup (src->location);
  dst->split = g_strdup (src->split);
  dst->shard_prefix = g_strdup (src->shard_prefix);
  dst->staging_dir = g_strdup (src->staging_dir);
  dst->endpoint = g_strdup (src->endpoint);
  dst->attributes = g_strdup (src->attributes);
}

static void
op_batch_sink_finalize (GObject * object)
{
  OpBatchSink *self = OP_BATCH_SINK (object);

  settings_clear (&self->settings);
  settings_clear (&self->cur);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------ writer side */

static const gchar *
split_by_nick (OpSplitBy by)
{
  GEnumClass *klass = g_type_class_ref (OP_TYPE_BATCH_SINK_SPLIT_BY);
  GEnumValue *v = g_enum_get_value (klass, by);

  g_type_class_unref (klass);
  return v ? v->value_nick : "?";
}

static void
post_progress (OpBatchSink * self, const OpWriterStats * stats, gboolean final)
{
  GstStructure *s = gst_structure_new ("batchsink-progress",
      "samples", G_TYPE_UINT64, stats->samples,
      "bytes", G_TYPE_UINT64, stats->bytes,
      "shards", G_TYPE_UINT, stats->shards,
      "final", G_TYPE_BOOLEAN, final,
      "location", G_TYPE_STRING, self->cur.location, NULL);
  gdouble worst = 0;
  gchar *achieved = NULL, *wanted = NULL;

  if (self->s3) {
    guint64 requests, bytes;

    op_s3_sink_counters (self->s3, &requests, &bytes);
    gst_structure_set (s, "requests", G_TYPE_UINT64, requests,
        "upload-bytes", G_TYPE_UINT64, bytes, NULL);
  }

  /* the streaming thread counts assignments; at EOS it is idle */
  if (final && self->splits) {
    achieved = op_split_report (self->splits, &worst);
    wanted = op_split_to_string (self->splits);
    gst_structure_set (s, "split-achieved", G_TYPE_STRING, achieved,
        "split-requested", G_TYPE_STRING, wanted, NULL);
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  if (worst > 0.10)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("batchsink split %s is far from the requested %s: samples are "
            "assigned by %s, and there are too few of them to reach the "
            "fractions; use split-by=frame or split-by=sample (or more "
            "%ss).", achieved, wanted, split_by_nick (self->cur.split_by),
            split_by_nick (self->cur.split_by)), (NULL));
  g_free (achieved);
  g_free (wanted);
}

/* writer thread, no lock held */
static void
on_progress (const OpWriterStats * stats, gpointer user_data)
{
  post_progress (OP_BATCH_SINK (user_data), stats, FALSE);
}

/* writer thread, no lock held: the shard is complete and listed in the
 * run's manifest (manifest.c calls this after writing it) */
static void
on_shard_closed (const OpShardInfo * info, gpointer user_data)
{
  OpBatchSink *self = OP_BATCH_SINK (user_data);
  GstStructure *s = gst_structure_new ("batchsink-shard-closed",
      "path", G_TYPE_STRING, info->path,
      "split", G_TYPE_STRING, info->split,
      "index", G_TYPE_UINT, info->index,
      "samples", G_TYPE_UINT64, info->samples,
      "bytes", G_TYPE_UINT64, info->bytes, NULL);

  GST_INFO_OBJECT (self, "shard %s closed: %" G_GUINT64_FORMAT " samples",
      info->path, info->samples);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* writer thread, no lock held */
static void
on_error (const GError * err, gpointer user_data)
{
  OpBatchSink *self = OP_BATCH_SINK (user_data);

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", err->message),
        ("writing %s", self->cur.location));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message),
        ("writing %s", self->cur.location));
}

/* ------------------------------------------------------------ start/stop */

/* A location with a URI scheme ("gs://", "s3://", "http://") must not
 * become a local folder named "gs:". file:// URIs are turned into paths. */
static gboolean
local_location (gchar ** location)
{
  const gchar *p = *location;
  gchar *path;

  if (!g_ascii_isalpha (*p))
    return TRUE;
  while (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.')
    p++;
  if (!g_str_has_prefix (p, "://"))
    return TRUE;
  if (g_ascii_strncasecmp (*location, "file://", 7) != 0)
    return FALSE;
  path = g_filename_from_uri (*location, NULL, NULL);
  if (!path)
    return FALSE;
  g_free (*location);
  *location = path;
  return TRUE;
}

/* location=s3://: the writer works in a staging directory, shards.c
 * uploads (s3sink.c) */
static gboolean
start_s3 (OpBatchSink * self, GError ** error)
{
  OpS3SinkSettings set = { self->cur.location,
    self->cur_format->writer->name, NULL, NULL, 0
  };

  set.part_size = self->cur.part_size;
  set.staging_dir = self->cur.staging_dir;
  set.endpoint = self->cur.endpoint;
  self->s3 = op_s3_sink_new (&set, error);
  return self->s3 != NULL;
}

/* attributes=FILE: the table, and its copy in the manifest's extra */
static gboolean
load_attributes (OpBatchSink * self, const gchar * path, gchar ** extra)
{
  GError *err = NULL;
  GString *s;

  self->cur_attributes = op_attributes_load (path, &err);
  if (!self->cur_attributes) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message), (NULL));
    g_clear_error (&err);
    return FALSE;
  }
  s = g_string_new (*extra);
  g_string_append_c (s, ',');
  op_attributes_append_manifest (self->cur_attributes, s);
  g_free (*extra);
  *extra = g_string_free (s, FALSE);
  return TRUE;
}

static gboolean
op_batch_sink_start (GstBaseSink * sink)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);
  OpWriterConfig config = { 0 };
  const OpWriterFormat *impl;
  OpWriter *writer;
  GError *err = NULL;
  const gchar *split, *prefix, *attributes;
  gchar *extra;
  GEnumValue *by;
  guint batch_size;
  guint64 max_pending;

  GST_OBJECT_LOCK (self);
  settings_copy (&self->cur, &self->settings);
  GST_OBJECT_UNLOCK (self);
  self->cur_format = &op_batch_formats[self->cur.format];
  split = self->cur.split;
  config.max_shard_samples = self->cur.max_shard_samples;
  config.max_shard_bytes = self->cur.max_shard_bytes;
  batch_size = self->cur.batch_size;
  max_pending = self->cur.max_pending_bytes;
  prefix = self->cur.shard_prefix;
  config.overwrite = self->cur.overwrite;
  attributes = self->cur.attributes;

  if (!self->cur.location || !*self->cur.location)
    goto no_location;
  if (op_s3_is_url (self->cur.location)) {
    if (strcmp (self->cur_format->writer->name, "tar") != 0
        && strcmp (self->cur_format->writer->name, "jsonl") != 0)
      goto s3_format;
    if (!start_s3 (self, &err))
      goto s3_failed;
  } else if (!local_location (&self->cur.location))
    goto not_local;
  if (prefix && *prefix && !op_name_is_safe (prefix))
    goto bad_prefix;
  config.shard_prefix = prefix && *prefix ? prefix : NULL;
  if (split && *split) {
    self->splits = op_split_parse (split, &err);
    if (!self->splits)
      goto bad_split;
  }
  by = g_enum_get_value (g_type_class_peek (OP_TYPE_BATCH_SINK_SPLIT_BY),
      self->cur.split_by);
  if (self->splits) {
    gchar *norm = op_split_to_string (self->splits);
    extra = g_strdup_printf ("\"split\":\"%s\",\"split_by\":\"%s\"", norm,
        by->value_nick);
    g_free (norm);
  } else
    extra = g_strdup ("\"split\":null,\"split_by\":null");
  config.location = self->s3 ? op_s3_sink_staged_location (self->s3) :
      self->cur.location;
  if (attributes && *attributes && !load_attributes (self, attributes, &extra))
    goto bad_attributes;
  config.attributes = self->cur_attributes;
  config.remote = self->s3;
  config.has_split = self->splits != NULL;
  config.manifest_extra = extra;
  config.shard_closed = on_shard_closed;
  config.user_data = self;
  op_batch_fault_reset ();

  impl = self->cur_format->writer;
  writer = impl->open (&config, &err);
  g_free (extra);
  if (!writer)
    goto open_failed;
  GST_INFO_OBJECT (self, "writing %s to %s, batches of %u, queue %"
      G_GUINT64_FORMAT " bytes", impl->name, self->cur.location, batch_size,
      max_pending);
  self->unlabeled = 0;
  self->warned_unlabeled = FALSE;
  self->key_prefix = g_hash_table_new_full (g_direct_hash, g_direct_equal,
      NULL, g_free);
  self->prefix_source = g_hash_table_new (g_str_hash, g_str_equal);
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->writer = op_writer_thread_new (impl, writer, batch_size, max_pending,
      on_progress, on_error, self);
  self->accepted = gst_caps_from_string (self->cur_format->caps);
  return TRUE;

  /* ERRORS */
no_location:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("No location set for batchsink."), (NULL));
  goto fail;
bad_prefix:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Invalid shard-prefix \"%s\": use only [A-Za-z0-9_-].", prefix), (NULL));
  goto fail;
not_local:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("batchsink cannot write to \"%s\": location must be a local path "
          "or a file:// URI, or s3://bucket/prefix/ for format=tar or "
          "jsonl (other object stores: write locally and upload the "
          "finished files).", self->cur.location), (NULL));
  goto fail;
s3_format:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("batchsink cannot write format=%s to \"%s\": only tar and jsonl "
          "shards are uploaded to S3; write %s locally and upload the "
          "finished files.", self->cur_format->writer->name,
          self->cur.location, self->cur_format->writer->name), (NULL));
  goto fail;
s3_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
      ("Could not open \"%s\" for writing: %s", self->cur.location,
          err->message), (NULL));
  g_clear_error (&err);
  goto fail;
bad_split:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message), (NULL));
  g_clear_error (&err);
  goto fail;
bad_attributes:
  g_free (extra);
  goto fail;
open_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
      ("Could not open \"%s\" for writing: %s", self->cur.location,
          err->message), (NULL));
  g_clear_error (&err);
fail:
  g_clear_pointer (&self->cur_attributes, op_attributes_free);
  g_clear_pointer (&self->splits, op_split_free);
  g_clear_pointer (&self->s3, op_s3_sink_free);
  settings_clear (&self->cur);
  return FALSE;
}

/* A stop before EOS keeps the complete shards (the manifest says
 * "complete": false) and drops the rest: say how many of each. Printed
 * too, as gst-launch-1.0 no longer reads the bus once interrupted. */
static void
stop_writer (OpBatchSink * self)
{
  guint64 kept, dropped;
  gchar *msg;

  if (!self->writer)
    return;
  if (op_writer_thread_stop (self->writer, &kept, &dropped) ||
      kept + dropped == 0) {
    self->writer = NULL;
    return;
  }
  self->writer = NULL;
  msg = g_strdup_printf ("batchsink stopped before EOS: kept %"
      G_GUINT64_FORMAT " samples in complete files of \"%s\" (its manifest "
      "says \"complete\": false), dropped %" G_GUINT64_FORMAT " samples",
      kept, self->cur.location, dropped);
  g_message ("%s", msg);
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", msg),
      ("kept=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT, kept, dropped));
  g_free (msg);
}

static gboolean
op_batch_sink_stop (GstBaseSink * sink)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);

  stop_writer (self);
  /* after the writer, which uploads through it */
  g_clear_pointer (&self->s3, op_s3_sink_free);
  g_clear_pointer (&self->cur_attributes, op_attributes_free);
  g_clear_pointer (&self->splits, op_split_free);
  settings_clear (&self->cur);
  gst_caps_replace (&self->caps, NULL);
  gst_caps_replace (&self->accepted, NULL);
  self->ext = NULL;
  self->pixel_format = NULL;
  self->raw = FALSE;
  self->have_vinfo = FALSE;
  g_clear_pointer (&self->prefix_source, g_hash_table_unref);
  g_clear_pointer (&self->key_prefix, g_hash_table_unref);
  g_clear_pointer (&self->names, g_hash_table_unref);
  return TRUE;
}

static gboolean
op_batch_sink_unlock (GstBaseSink * sink)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);

  if (self->writer)
    op_writer_thread_set_flushing (self->writer, TRUE);
  return TRUE;
}

static gboolean
op_batch_sink_unlock_stop (GstBaseSink * sink)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);

  if (self->writer)
    op_writer_thread_set_flushing (self->writer, FALSE);
  return TRUE;
}

/* ------------------------------------------------------------ caps */

/* Raw payloads are named for their pixel format, so a reader needs no
 * guess (the JSON also has `pixel_format`). */
static const gchar *
raw_extension (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
      return "rgb";
    case GST_VIDEO_FORMAT_BGR:
      return "bgr";
    case GST_VIDEO_FORMAT_RGBA:
      return "rgba";
    case GST_VIDEO_FORMAT_BGRA:
      return "bgra";
    case GST_VIDEO_FORMAT_ARGB:
      return "argb";
    case GST_VIDEO_FORMAT_ABGR:
      return "abgr";
    case GST_VIDEO_FORMAT_RGBx:
      return "rgbx";
    case GST_VIDEO_FORMAT_BGRx:
      return "bgrx";
    case GST_VIDEO_FORMAT_xRGB:
      return "xrgb";
    case GST_VIDEO_FORMAT_xBGR:
      return "xbgr";
    case GST_VIDEO_FORMAT_GRAY8:
    default:
      return "gray";
  }
}

/* "image/jpeg, image/png or packed video/x-raw": the structures of a
 * format's caps, for the message refusing other caps */
static gchar *
describe_caps (const GstCaps * caps)
{
  GString *out = g_string_new (NULL);
  guint i, n = gst_caps_get_size (caps);

  for (i = 0; i < n; i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);

    if (i)
      g_string_append (out, i + 1 == n ? " or " : ", ");
    if (gst_structure_has_field (s, "format"))
      g_string_append (out, "packed ");
    g_string_append (out, gst_structure_get_name (s));
  }
  return g_string_free (out, FALSE);
}

/* The format's table entry decides what it stores. Raw video of a type the
 * format stores, in a pixel format it does not, is told to convert. */
static gboolean
op_batch_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  const gchar *fmt = self->cur_format->nick;
  gboolean is_raw = g_str_equal (name, "video/x-raw");
  gchar *takes;
  guint i;

  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT, caps);
  self->raw = FALSE;
  self->ext = NULL;
  self->pixel_format = NULL;
  self->have_vinfo = is_raw && gst_video_info_from_caps (&self->vinfo, caps);
  if (!gst_caps_can_intersect (caps, self->accepted)) {
    for (i = 0; is_raw && i < gst_caps_get_size (self->accepted); i++)
      if (gst_structure_has_name (gst_caps_get_structure (self->accepted, i),
              "video/x-raw"))
        goto not_packed;
    goto wrong_type;
  }
  if (!self->cur_format->payload) {
    /* JSON only: the payload is not written */
  } else if (is_raw) {
    if (!self->have_vinfo)
      goto not_packed;
    self->raw = TRUE;
    self->pixel_format =
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&self->vinfo));
    self->ext = raw_extension (GST_VIDEO_INFO_FORMAT (&self->vinfo));
  } else if (g_str_equal (name, "image/jpeg")) {
    self->ext = "jpg";
  } else if (g_str_equal (name, "image/png")) {
    self->ext = "png";
  } else {
    goto wrong_type;            /* a table entry this code cannot name */
  }
  gst_caps_replace (&self->caps, caps);
  return TRUE;

  /* ERRORS */
not_packed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("batchsink format=%s stores raw video only in a packed RGB/BGR/"
          "RGBA-family or GRAY8 format; add videoconvert ! "
          "video/x-raw,format=RGB before it.", fmt),
      ("caps %" GST_PTR_FORMAT, caps));
  return FALSE;
wrong_type:
  takes = describe_caps (self->accepted);
  GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE,
      ("batchsink format=%s cannot store %s samples (it takes %s).", fmt,
          name, takes), ("caps %" GST_PTR_FORMAT, caps));
  g_free (takes);
  return FALSE;
}

/* ------------------------------------------------------------ data path */

/* The design's key. Two different sources that sanitize to the same name
 * would give two samples one key (WebDataset would merge them, dir would
 * overwrite one): that is an error, not a guess. */
static gchar *
make_key (OpBatchSink * self, const gchar * source, guint64 frame,
    guint instance, guint augment)
{
  const gchar *prefix, *other;

  source = source && *source ? source : g_intern_static_string ("unknown");
  prefix = g_hash_table_lookup (self->key_prefix, source);
  if (!prefix) {
    gchar *p = op_name_sanitize (source, SOURCE_MAX);

    other = g_hash_table_lookup (self->prefix_source, p);
    if (other && other != source) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Sources \"%s\" and \"%s\" both give the sample key prefix "
              "\"%s\"; give them distinct names (annotfilter source).",
              other, source, p), (NULL));
      g_free (p);
      return NULL;
    }
    if (self->cur_attributes
        && !op_attributes_lookup (self->cur_attributes, source)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Source \"%s\" has no row in attributes file %s.", source,
              op_attributes_path (self->cur_attributes)), (NULL));
      g_free (p);
      return NULL;
    }
    /* key_prefix owns the prefix; sources are the shared names */
    prefix = p;
    g_hash_table_insert (self->key_prefix, (gpointer) source, p);
    g_hash_table_insert (self->prefix_source, p, (gpointer) source);
  }
  /* annotaugment's copies of one sample: each its own key */
  if (augment)
    return g_strdup_printf ("%s_%06" G_GUINT64_FORMAT "_%02u_aug%u", prefix,
        frame, instance, augment);
  return g_strdup_printf ("%s_%06" G_GUINT64_FORMAT "_%02u", prefix, frame,
      instance);
}

/* Raw payloads are read through gst_video_frame_map (and JSON-only
 * formats read no pixels), so decoders may keep their own padded buffers
 * (GstVideoMeta) instead of copying each frame for us. */
static gboolean
op_batch_sink_propose_allocation (GstBaseSink * sink, GstQuery * query)
{
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

/* The payload as the formats want it: raw rows without padding, in memory
 * we own when the buffer comes from a pool (holding pooled buffers in the
 * queue could starve the upstream pool). */
static GstBuffer *
make_payload (OpBatchSink * self, GstBuffer * buf)
{
  GstVideoFrame frame;
  GstBuffer *out;
  GstMapInfo map;
  guint row, h, stride;
  gsize row_bytes;

  if (!self->raw)
    return buf->pool ? gst_buffer_copy_deep (buf) : gst_buffer_ref (buf);
  if (!gst_video_frame_map (&frame, &self->vinfo, buf, GST_MAP_READ))
    return NULL;
  h = GST_VIDEO_FRAME_HEIGHT (&frame);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  row_bytes = (gsize) GST_VIDEO_FRAME_WIDTH (&frame) *
      GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0);
  out = gst_buffer_new_allocate (NULL, row_bytes * h, NULL);
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  for (row = 0; row < h; row++)
    memcpy (map.data + row * row_bytes,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) row * stride, row_bytes);
  gst_buffer_unmap (out, &map);
  gst_video_frame_unmap (&frame);
  return out;
}

static void
fill_unlabeled (OpBatchSink * self, OpAnnotation * ann, GstBuffer * buf)
{
  op_annotation_set_source (ann, "unlabeled");
  ann->frame_index = self->unlabeled++;
  ann->pts = GST_BUFFER_PTS (buf);
  if (self->have_vinfo) {
    ann->width = GST_VIDEO_INFO_WIDTH (&self->vinfo);
    ann->height = GST_VIDEO_INFO_HEIGHT (&self->vinfo);
  }
}

/* A raw sample's JSON gives its image size: `width` x `height` for a
 * frame, `crop.width` x `crop.height` for a crop. A frame of unknown size
 * (0) gets the caps' size. */
static gboolean
raw_size_matches (OpBatchSink * self, OpSample * sample)
{
  guint w = GST_VIDEO_INFO_WIDTH (&self->vinfo);
  guint h = GST_VIDEO_INFO_HEIGHT (&self->vinfo);
  OpAnnotation *a = &sample->ann;

  if (a->has_crop)
    return a->crop.width == w && a->crop.height == h;
  if (a->width == 0 && a->height == 0) {
    a->width = w;
    a->height = h;
  }
  return a->width == w && a->height == h;
}

/* The sink's samples share one copy of each source name, which the
 * writers' tables (key prefixes, manifest, shards, HDF5 sources) compare
 * by pointer; the names live until stop(), after the writer thread. */
static void
share_source (OpBatchSink * self, OpSample * sample)
{
  gchar *name = g_hash_table_lookup (self->names, sample->ann.source);

  if (name == NULL) {
    name = g_strdup (sample->ann.source);
    g_hash_table_add (self->names, name);
  }
  g_free (sample->ann.source);
  sample->ann.source = name;
  sample->shared_source = TRUE;
}

static GstFlowReturn
op_batch_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);
  const OpAnnotation *ann = op_buffer_get_annotation (buf);
  OpSample *sample = op_sample_new ();
  gsize bytes = 1024;
  gboolean warn = FALSE;

  if (ann) {
    op_annotation_copy_into (&sample->ann, ann);
  } else {
    fill_unlabeled (self, &sample->ann, buf);
    warn = !self->warned_unlabeled;
    self->warned_unlabeled = TRUE;
  }
  share_source (self, sample);
  if (warn)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("batchsink received a buffer without annotation meta; writing "
            "such buffers as source \"unlabeled\" with no instances."),
        ("first at %" GST_TIME_FORMAT, GST_TIME_ARGS (GST_BUFFER_PTS (buf))));
  sample->key = make_key (self, sample->ann.source, sample->ann.frame_index,
      sample->ann.has_crop ? sample->ann.crop.instance : 0,
      sample->ann.augment);
  if (!sample->key) {
    op_sample_free (sample);
    return GST_FLOW_ERROR;
  }
  if (self->splits) {
    gchar *canon = op_split_canonical (self->cur.split_by, &sample->ann,
        sample->key);
    sample->split = op_split_assign (self->splits, canon);
    g_free (canon);
  } else {
    sample->split = "data";
  }
  if (self->raw && !raw_size_matches (self, sample))
    goto wrong_size;
  if (self->ext) {
    sample->ext = self->ext;
    sample->pixel_format = self->pixel_format;
    sample->payload = make_payload (self, buf);
    if (!sample->payload)
      goto map_failed;
    sample->caps = gst_caps_ref (self->caps);
    bytes += gst_buffer_get_size (sample->payload);
  }
  GST_LOG_OBJECT (self, "sample %s -> %s", sample->key, sample->split);
  return op_writer_thread_push (self->writer, sample, bytes);

  /* ERRORS */
wrong_size:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("Sample %s: the annotation describes a %ux%u %s, the raw image is "
          "%dx%d; its coordinates would not match the pixels.", sample->key,
          sample->ann.has_crop ? sample->ann.crop.width : sample->ann.width,
          sample->ann.has_crop ? sample->ann.crop.height : sample->ann.height,
          sample->ann.has_crop ? "crop" : "frame",
          GST_VIDEO_INFO_WIDTH (&self->vinfo),
          GST_VIDEO_INFO_HEIGHT (&self->vinfo)), (NULL));
  op_sample_free (sample);
  return GST_FLOW_ERROR;
map_failed:
  op_sample_free (sample);
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not map a raw video buffer."), (NULL));
  return GST_FLOW_ERROR;
}

static GstFlowReturn
op_batch_sink_render_list (GstBaseSink * sink, GstBufferList * list)
{
  guint i, n = gst_buffer_list_length (list);
  GstFlowReturn ret = GST_FLOW_OK;

  for (i = 0; i < n && ret == GST_FLOW_OK; i++)
    ret = op_batch_sink_render (sink, gst_buffer_list_get (list, i));
  return ret;
}

/* ------------------------------------------------------------ events */

static gboolean
op_batch_sink_event (GstBaseSink * sink, GstEvent * event)
{
  OpBatchSink *self = OP_BATCH_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->writer) {
    OpWriterStats stats;
    GstFlowReturn ret = op_writer_thread_drain (self->writer, &stats);

    if (ret == GST_FLOW_ERROR) {
      /* the writer thread already posted the error */
      gst_event_unref (event);
      return FALSE;
    }
    if (ret == GST_FLOW_OK)
      post_progress (self, &stats, TRUE);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* ------------------------------------------------------------ properties */

static void
op_batch_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpBatchSink *self = OP_BATCH_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->settings.location);
      self->settings.location = g_value_dup_string (value);
      break;
    case PROP_FORMAT:
      self->settings.format = g_value_get_enum (value);
      break;
    case PROP_BATCH_SIZE:
      self->settings.batch_size = g_value_get_uint (value);
      break;
    case PROP_MAX_SHARD_SAMPLES:
      self->settings.max_shard_samples = g_value_get_uint64 (value);
      break;
    case PROP_MAX_SHARD_BYTES:
      self->settings.max_shard_bytes = g_value_get_uint64 (value);
      break;
    case PROP_SPLIT:
      g_free (self->settings.split);
      self->settings.split = g_value_dup_string (value);
      break;
    case PROP_SPLIT_BY:
      self->settings.split_by = g_value_get_enum (value);
      break;
    case PROP_MAX_PENDING_BYTES:
      self->settings.max_pending_bytes = g_value_get_uint64 (value);
      break;
    case PROP_SHARD_PREFIX:
      g_free (self->settings.shard_prefix);
      self->settings.shard_prefix = g_value_dup_string (value);
      break;
    case PROP_OVERWRITE:
      self->settings.overwrite = g_value_get_boolean (value);
      break;
    case PROP_STAGING_DIR:
      g_free (self->settings.staging_dir);
      self->settings.staging_dir = g_value_dup_string (value);
      break;
    case PROP_ENDPOINT:
      g_free (self->settings.endpoint);
      self->settings.endpoint = g_value_dup_string (value);
      break;
    case PROP_PART_SIZE:
      self->settings.part_size = g_value_get_uint64 (value);
      break;
    case PROP_ATTRIBUTES:
      g_free (self->settings.attributes);
      self->settings.attributes = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_batch_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  OpBatchSink *self = OP_BATCH_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->settings.location);
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, self->settings.format);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->settings.batch_size);
      break;
    case PROP_MAX_SHARD_SAMPLES:
      g_value_set_uint64 (value, self->settings.max_shard_samples);
      break;
    case PROP_MAX_SHARD_BYTES:
      g_value_set_uint64 (value, self->settings.max_shard_bytes);
      break;
    case PROP_SPLIT:
      g_value_set_string (value, self->settings.split);
      break;
    case PROP_SPLIT_BY:
      g_value_set_enum (value, self->settings.split_by);
      break;
    case PROP_MAX_PENDING_BYTES:
      g_value_set_uint64 (value, self->settings.max_pending_bytes);
      break;
    case PROP_SHARD_PREFIX:
      g_value_set_string (value, self->settings.shard_prefix);
      break;
    case PROP_OVERWRITE:
      g_value_set_boolean (value, self->settings.overwrite);
      break;
    case PROP_STAGING_DIR:
      g_value_set_string (value, self->settings.staging_dir);
      break;
    case PROP_ENDPOINT:
      g_value_set_string (value, self->settings.endpoint);
      break;
    case PROP_PART_SIZE:
      g_value_set_uint64 (value, self->settings.part_size);
      break;
    case PROP_ATTRIBUTES:
      g_value_set_string (value, self->settings.attributes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
