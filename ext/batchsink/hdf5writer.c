/* batchsink: one HDF5 file per split, layout version 2 of the design
 * ("Dataset layout (what tools read)"). Datasets grow a batch at a time:
 *   images       uint8   N x H x W x C  chunk (1, H, W, C), gzip 1;
 *                attrs pixel_format ("RGB", "BGR", "GRAY8"...), layout NHWC
 *   keypoints    float32 N x I x K x 4  x, y, visible, score; NaN padding
 *   n_instances  int32   N
 *   track        int32   N x I          -1 untracked or padding
 *   kind         uint8   N x I          0 user, 1 predicted, 2 detection,
 *                                       255 padding
 *   score        float32 N x I          NaN none or padding
 *   bbox         float32 N x I x 4      NaN none or padding
 *   frame_index  int64   N
 *   pts          int64   N              ns, -1 unknown
 *   source       int32   N              index into `sources`
 *   instance     int32   N              crops only: crop.instance
 *   rect         int32   N x 4          crops only: crop rect
 * Per-source table (written at commit): `sources` (names), `source_width`,
 * `source_height` (int32, the video's size before any scaling, 0 unknown).
 * Root attributes: `layout_version` = 2, `onepass_version`, `coordinates`,
 * `skeleton_name`, `nodes`, `edges` (int32 E x 2), `symmetries` (int32
 * S x 2).
 * I is the most instances seen in one sample so far: the instance axis is
 * extended when a sample has more, earlier rows read as padding (the
 * datasets' fill values). The first sample fixes H, W, C, K and whether
 * the file holds crops or frames.
 * Crash safety: a split's samples go to shard files committed like tar
 * shards (HDF5 cannot be made readable mid-write without SWMR, which 1.10
 * readers rarely use, and a killed writer leaves a file h5py refuses).
 * Each shard is written as `<shard>.partial`; once it holds
 * max-shard-samples or max-shard-bytes (image bytes) and the next sample
 * comes, it is closed, fsynced and renamed to `<stem>.<split>-NNNNNN.h5`,
 * and `<stem>.<split>.h5` is rewritten (atomically) as a view of every
 * committed shard (h5vds.c), then the manifest lists the shard. A split
 * that never rotated is renamed at EOS straight to `<stem>.<split>.h5`, a
 * self-contained file as before; one that rotated is consolidated at a
 * clean EOS (op_h5_consolidate_locked(): the shards' rows copied into one
 * real file renamed over the view), the manifest lists that file instead
 * of the shards, and once the complete manifest is written the shards are
 * deleted. After any other stop the view opens and holds every listed
 * shard; an interrupted run of the same name starts again and first
 * removes the files its predecessor listed.
 * Every entry point (write, close, free) holds the process-wide HDF5 lock
 * of oph5global.h while it calls libhdf5, as the label readers do, and
 * leaves libhdf5's error handler as it found it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "batchfile.h"
#include "dataset.h"
#include "manifest.h"
#include "splitfile.h"
#include "attributes.h"
#include "h5vds.h"
#include "h5file.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <oph5global.h>

enum
{
  DS_IMAGES, DS_KEYPOINTS, DS_N_INSTANCES, DS_TRACK, DS_KIND, DS_SCORE,
  DS_BBOX, DS_FRAME, DS_PTS, DS_SOURCE, DS_AUGMENT, DS_INSTANCE, DS_RECT, N_DS
};

/* room for the metadata libhdf5 flushes, reserved with every write */
#define RESERVE_MARGIN (256 * 1024)

/* datasets with an instance axis (axis 1) */
#define PER_INSTANCE(i) ((i) >= DS_KEYPOINTS && (i) <= DS_BBOX && \
    (i) != DS_N_INSTANCES)

typedef struct
{
  const gchar *name;
  guint width, height;
} SourceRow;

typedef struct
{
  gchar *path;                  /* the split's file (or view of shards) */
  gchar *partial;               /* the open shard's .partial */
  guint index;                  /* number of the open shard */
  GPtrArray *shards;            /* committed shard paths, in order */
  gboolean consolidated;        /* path holds the shards' rows: drop them */
  hid_t file;
  hid_t ds[N_DS];
  guint64 rows;                 /* in the open shard, as bytes below */
  guint h, w, c, k;
  guint ni;                     /* current size of the instance axis */
  gboolean crops;
  const gchar *pixel_format;
  GArray *sources;              /* SourceRow, index = id */
  GHashTable *source_ids;       /* interned name -> id + 1 */
  OpSkeleton *skeleton;
  guint64 bytes;
  gchar *last_key;
  const OpAttributes *attributes;       /* batchsink's, or NULL */
} HFile;

struct _OpWriter
{
  gchar *location;
  gboolean with_split;
  gboolean overwrite;
  guint64 max_samples, max_bytes;
  OpRun *run;
  OpManifest *manifest;
  GHashTable *files;            /* split -> HFile */
  OpWriterStats stats;
  const OpAttributes *attributes;
  gboolean closed;              /* close() committed everything */
  guint consolidated;           /* splits whose shards may go */
};

/* The innermost HDF5 message says what went wrong (e.g. a failed write).
 * Called with the HDF5 lock held. */
static gboolean
h5_fail (GError ** error, const gchar * what, const gchar * path)
{
  gint err = errno;             /* the sec2 driver leaves write's errno */
  gchar *desc = op_h5_take_error ();

  if (err == ENOSPC)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
        "Could not %s \"%s\": %s", what, path, g_strerror (err));
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Could not %s \"%s\": %s", what, path, desc);
  g_free (desc);
  return FALSE;
}

/* Closes every HDF5 object of the open shard, which is dropped (on errors
 * too: truncated first, so that no close fails on a full disk). */
static void
shard_close_h5 (HFile * f)
{
  guint i;

  if (f->file <= 0)
    return;
  op_h5_file_truncate (f->file);
  for (i = 0; i < N_DS; i++)
    if (f->ds[i] > 0)
      H5Dclose (f->ds[i]);
  memset (f->ds, 0, sizeof (f->ds));
  H5Fclose (f->file);
  f->file = 0;
}

static void
hfile_free (gpointer data)
{
  HFile *f = data;

  shard_close_h5 (f);
  if (f->partial)
    g_unlink (f->partial);
  g_ptr_array_unref (f->shards);
  g_clear_pointer (&f->skeleton, op_skeleton_unref);
  g_array_unref (f->sources);
  g_hash_table_unref (f->source_ids);
  g_free (f->partial);
  g_free (f->path);
  g_free (f->last_key);
  g_free (f);
}

static void
hdf5_free (OpWriter * w)
{
  /* closes the files close() did not commit */
  op_h5_lock ();
  g_hash_table_unref (w->files);
  op_h5_unlock ();
  /* stopped before EOS: the manifest says so (and lists what is kept) */
  if (w->manifest && !w->closed && w->stats.samples > 0)
    op_manifest_write (w->manifest, FALSE, NULL);
  if (w->manifest)
    op_manifest_free (w->manifest);
  op_run_release (w->run);
  g_free (w->location);
  g_free (w);
}

/* An interrupted run of this name (the run lock is ours, so no complete
 * run of it exists unless overwrite is set) starts again: every shard it
 * left goes first, listed or not (a kill between a shard's rename and the
 * manifest leaves one unlisted), and with it the view that names it, so
 * that no view shows missing shards (h5py would read fill values) or
 * shards of the new run. */
static void
drop_interrupted (OpWriter * w)
{
  gchar *dir = g_path_get_dirname (w->location);
  gchar *base = g_path_get_basename (w->location);
  const gchar *dot = strrchr (base, '.'), *name;
  gchar *stem = g_regex_escape_string (base, dot && dot != base ?
      (gint) (dot - base) : -1);
  gchar *ext = g_regex_escape_string (dot && dot != base ? dot : "", -1);
  /* groups: 1 the view's name without the extension, 2 the extension */
  gchar *pattern = g_strdup_printf ("^(%s%s)-[0-9]{6}(%s)(\\.partial)?$",
      stem, w->with_split ? "\\.[^./]+" : "", ext);
  GRegex *shard = g_regex_new (pattern, 0, 0, NULL);
  GDir *d = g_dir_open (dir, 0, NULL);
  GMatchInfo *m = NULL;

  while (d && shard && (name = g_dir_read_name (d))) {
    if (g_regex_match (shard, name, 0, &m)) {
      gchar *view_stem = g_match_info_fetch (m, 1);
      gchar *view_ext = g_match_info_fetch (m, 2);
      gchar *view = g_strconcat (dir, "/", view_stem, view_ext, NULL);
      gchar *path = g_build_filename (dir, name, NULL);

      g_unlink (view);
      g_unlink (path);
      g_free (path);
      g_free (view);
      g_free (view_ext);
      g_free (view_stem);
    }
    g_clear_pointer (&m, g_match_info_free);
  }
  if (d)
    g_dir_close (d);
  if (shard)
    g_regex_unref (shard);
  g_free (pattern);
  g_free (ext);
  g_free (stem);
  g_free (base);
  g_free (dir);
}

static OpWriter *
hdf5_open (const OpWriterConfig * config, GError ** error)
{
  OpWriter *w;
  OpBatchFile *probe;
  gchar *dir = g_path_get_dirname (config->location);
  gboolean ok = op_batch_split_file_check (config->location, "hdf5",
      "out.h5", error) && op_batch_mkdirs (dir, error);

  g_free (dir);
  if (!ok)
    return NULL;
  probe = op_batch_file_open (config->location, error);
  if (!probe)
    return NULL;
  op_batch_file_abort (probe);
  w = g_new0 (OpWriter, 1);
  w->location = g_strdup (config->location);
  w->with_split = config->has_split;
  w->overwrite = config->overwrite;
  w->attributes = config->attributes;
  w->max_samples = MAX (config->max_shard_samples, 1);
  w->max_bytes = MAX (config->max_shard_bytes, 1);
  w->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      hfile_free);
  /* one run per location: locked while written, never overwritten */
  {
    gchar *base = g_path_get_basename (config->location);
    gchar *dir = g_path_get_dirname (config->location);

    w->run = op_run_claim (dir, base, config->overwrite, error);
    g_free (base);
    g_free (dir);
  }
  if (!w->run) {
    hdf5_free (w);
    return NULL;
  }
  w->manifest = op_manifest_new (op_run_manifest_path (w->run), "hdf5", config);
  drop_interrupted (w);
  return w;
}

/* @item: the dimensions after the row axis; with @per_instance the first
 * of them is the instance axis, created empty and extendable. @fill: the
 * value of padding (NULL: HDF5's zero). */
static hid_t
make_dataset (hid_t file, const gchar * name, hid_t type, gint rank,
    const hsize_t * item, const hsize_t * chunk, gboolean deflate,
    gboolean per_instance, hid_t fill_type, const void *fill)
{
  hsize_t dims[4] = { 0 }, maxdims[4] = { H5S_UNLIMITED }, cdims[4];
  hid_t space, dcpl, ds;
  gint i;

  for (i = 1; i < rank; i++) {
    dims[i] = maxdims[i] = item[i - 1];
    cdims[i] = MAX (item[i - 1], 1);
  }
  if (per_instance) {
    dims[1] = 0;
    maxdims[1] = H5S_UNLIMITED;
    cdims[1] = 1;
  }
  cdims[0] = chunk[0];
  space = H5Screate_simple (rank, dims, maxdims);
  dcpl = H5Pcreate (H5P_DATASET_CREATE);
  H5Pset_chunk (dcpl, rank, cdims);
  if (fill)
    H5Pset_fill_value (dcpl, fill_type, fill);
  if (deflate)
    H5Pset_deflate (dcpl, 1);
  ds = H5Dcreate2 (file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose (dcpl);
  H5Sclose (space);
  return ds;
}

static hid_t
vlen_string_type (void)
{
  hid_t t = H5Tcopy (H5T_C_S1);

  H5Tset_size (t, H5T_VARIABLE);
  H5Tset_cset (t, H5T_CSET_UTF8);
  return t;
}

static gboolean write_string_attr (hid_t loc, const gchar * name,
    const gchar * const *v, gsize n, gboolean scalar);

/* shard @index of @f: "-NNNNNN" before the last extension of its path */
static gchar *
shard_path (HFile * f, guint index)
{
  const gchar *base = strrchr (f->path, '/'), *dot;

  base = base ? base + 1 : f->path;
  dot = strrchr (base, '.');
  if (!dot || dot == base)
    return g_strdup_printf ("%s-%06u", f->path, index);
  return g_strdup_printf ("%.*s-%06u%s", (gint) (dot - f->path), f->path,
      index, dot);
}

/* The first sample fixes the image shape, the keypoint count and whether
 * the split's files hold crops or whole frames. */
static HFile *
hfile_new (OpWriter * w, const OpSample * s, GError ** error)
{
  HFile *f = g_new0 (HFile, 1);
  GstVideoInfo info;

  f->sources = g_array_new (FALSE, TRUE, sizeof (SourceRow));
  f->attributes = w->attributes;
  f->source_ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  f->shards = g_ptr_array_new_with_free_func (g_free);
  f->path = op_batch_split_file_path_last (w->location, s->split,
      w->with_split);
  if (!w->overwrite && g_file_test (f->path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "\"%s\" exists; set overwrite=true to replace it", f->path);
    goto fail;
  }
  if (!s->caps || !gst_video_info_from_caps (&info, s->caps) || !s->payload) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "format=hdf5 needs raw video samples for \"%s\"", f->path);
    goto fail;
  }
  f->w = GST_VIDEO_INFO_WIDTH (&info);
  f->h = GST_VIDEO_INFO_HEIGHT (&info);
  f->c = GST_VIDEO_INFO_COMP_PSTRIDE (&info, 0);
  f->pixel_format = s->pixel_format;
  f->crops = s->ann.has_crop;
  if (s->ann.skeleton) {
    f->skeleton = op_skeleton_ref (s->ann.skeleton);
    f->k = s->ann.skeleton->n_nodes;
  } else if (op_annotation_n_instances (&s->ann) > 0) {
    f->k = op_annotation_get_instance (&s->ann, 0)->n_keypoints;
  }
  return f;

fail:
  hfile_free (f);
  return NULL;
}

/* Opens shard f->index as its .partial, with empty datasets. */
static gboolean
shard_open (HFile * f, GError ** error)
{
  hsize_t item[3], chunk1 = 1, chunk = 1024, ichunk = 64;
  const gfloat nan_fill = NAN;
  const gint32 track_fill = -1;
  const guint8 kind_fill = 255;
  const gchar *layout = "NHWC";
  /* shard 0 as the split file's .partial: it keeps that name at EOS
   * unless the split rotates */
  gchar *final = f->index ? shard_path (f, f->index) : g_strdup (f->path);
  hid_t fapl = op_h5_file_access_new ();
  guint i;

  f->rows = 0;
  f->bytes = 0;
  f->ni = 0;
  g_array_set_size (f->sources, 0);
  g_hash_table_remove_all (f->source_ids);
  g_clear_pointer (&f->last_key, g_free);
  g_free (f->partial);
  f->partial = g_strconcat (final, ".partial", NULL);
  g_free (final);
  f->file = H5Fcreate (f->partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose (fapl);
  if (f->file < 0) {
    f->file = 0;
    return h5_fail (error, "create", f->partial);
  }
  if (!op_h5_file_reserve (f->file, RESERVE_MARGIN, f->partial, error)) {
    shard_close_h5 (f);
    g_unlink (f->partial);
    return FALSE;
  }
  item[0] = f->h;
  item[1] = f->w;
  item[2] = f->c;
  f->ds[DS_IMAGES] = make_dataset (f->file, "images", H5T_STD_U8LE, 4, item,
      &chunk1, TRUE, FALSE, 0, NULL);
  item[0] = 0;
  item[1] = f->k;
  item[2] = 4;
  f->ds[DS_KEYPOINTS] = make_dataset (f->file, "keypoints", H5T_IEEE_F32LE,
      4, item, &ichunk, FALSE, TRUE, H5T_NATIVE_FLOAT, &nan_fill);
  f->ds[DS_N_INSTANCES] = make_dataset (f->file, "n_instances",
      H5T_STD_I32LE, 1, NULL, &chunk, FALSE, FALSE, 0, NULL);
  f->ds[DS_TRACK] = make_dataset (f->file, "track", H5T_STD_I32LE, 2, item,
      &chunk, FALSE, TRUE, H5T_NATIVE_INT32, &track_fill);
  f->ds[DS_KIND] = make_dataset (f->file, "kind", H5T_STD_U8LE, 2, item,
      &chunk, FALSE, TRUE, H5T_NATIVE_UINT8, &kind_fill);
  f->ds[DS_SCORE] = make_dataset (f->file, "score", H5T_IEEE_F32LE, 2, item,
      &chunk, FALSE, TRUE, H5T_NATIVE_FLOAT, &nan_fill);
  item[1] = 4;
  f->ds[DS_BBOX] = make_dataset (f->file, "bbox", H5T_IEEE_F32LE, 3, item,
      &chunk, FALSE, TRUE, H5T_NATIVE_FLOAT, &nan_fill);
  f->ds[DS_FRAME] = make_dataset (f->file, "frame_index", H5T_STD_I64LE, 1,
      NULL, &chunk, FALSE, FALSE, 0, NULL);
  f->ds[DS_PTS] = make_dataset (f->file, "pts", H5T_STD_I64LE, 1, NULL,
      &chunk, FALSE, FALSE, 0, NULL);
  f->ds[DS_SOURCE] = make_dataset (f->file, "source", H5T_STD_I32LE, 1, NULL,
      &chunk, FALSE, FALSE, 0, NULL);
  /* 0 = original, k = annotaugment's k-th copy (its key ends in _aug<k>) */
  f->ds[DS_AUGMENT] = make_dataset (f->file, "augment", H5T_STD_I32LE, 1,
      NULL, &chunk, FALSE, FALSE, 0, NULL);
  if (f->crops) {
    f->ds[DS_INSTANCE] = make_dataset (f->file, "instance", H5T_STD_I32LE, 1,
        NULL, &chunk, FALSE, FALSE, 0, NULL);
    item[0] = 4;
    f->ds[DS_RECT] = make_dataset (f->file, "rect", H5T_STD_I32LE, 2, item,
        &chunk, FALSE, FALSE, 0, NULL);
  }
  for (i = 0; i < N_DS; i++)
    if (f->ds[i] < 0 || (f->ds[i] == 0 && (f->crops || (i != DS_INSTANCE &&
                    i != DS_RECT)))) {
      h5_fail (error, "create datasets in", f->partial);
      goto fail;
    }
  if (!write_string_attr (f->ds[DS_IMAGES], "pixel_format",
          &f->pixel_format, 1, TRUE) ||
      !write_string_attr (f->ds[DS_IMAGES], "layout", &layout, 1, TRUE)) {
    h5_fail (error, "write attributes to", f->partial);
    goto fail;
  }
  return TRUE;

fail:
  /* no dataset id may stay negative: shard_close_h5 closes the rest */
  for (i = 0; i < N_DS; i++)
    if (f->ds[i] < 0)
      f->ds[i] = 0;
  shard_close_h5 (f);
  g_unlink (f->partial);
  return FALSE;
}

/* Grows the instance axis of every per-instance dataset to @ni; the new
 * cells of earlier rows read as the fill value (padding). */
static gboolean
grow_instances (HFile * f, guint ni, GError ** error)
{
  guint i;

  for (i = 0; i < N_DS; i++) {
    hsize_t dims[4];
    hid_t space;

    if (!PER_INSTANCE (i))
      continue;
    space = H5Dget_space (f->ds[i]);
    H5Sget_simple_extent_dims (space, dims, NULL);
    H5Sclose (space);
    dims[1] = ni;
    if (H5Dset_extent (f->ds[i], dims) < 0)
      return h5_fail (error, "extend a dataset in", f->partial);
  }
  f->ni = ni;
  return TRUE;
}

static gboolean
append_rows (HFile * f, gint which, hid_t memtype, guint n, const void *data,
    GError ** error)
{
  hid_t ds = f->ds[which], fspace, mspace;
  hsize_t dims[4], start[4] = { 0 };
  gint rank, i;
  herr_t r;

  errno = 0;
  fspace = H5Dget_space (ds);
  rank = H5Sget_simple_extent_dims (fspace, dims, NULL);
  H5Sclose (fspace);
  dims[0] = f->rows + n;
  if (H5Dset_extent (ds, dims) < 0)
    return h5_fail (error, "extend a dataset in", f->partial);
  fspace = H5Dget_space (ds);
  start[0] = f->rows;
  dims[0] = n;
  for (i = 1; i < rank; i++)
    start[i] = 0;
  H5Sselect_hyperslab (fspace, H5S_SELECT_SET, start, NULL, dims, NULL);
  mspace = H5Screate_simple (rank, dims, NULL);
  r = H5Dwrite (ds, memtype, mspace, fspace, H5P_DEFAULT, data);
  H5Sclose (mspace);
  H5Sclose (fspace);
  if (r < 0)
    return h5_fail (error, "write to", f->partial);
  return TRUE;
}

static gint
source_id (HFile * f, const OpAnnotation * a)
{
  gpointer id;
  SourceRow row = { a->source, a->source_width, a->source_height };

  if (g_hash_table_lookup_extended (f->source_ids, a->source, NULL, &id)) {
    SourceRow *r = &g_array_index (f->sources, SourceRow,
        GPOINTER_TO_INT (id) - 1);
    /* a later sample may know the size when the first did not */
    if (!r->width && a->source_width) {
      r->width = a->source_width;
      r->height = a->source_height;
    }
    return GPOINTER_TO_INT (id) - 1;
  }
  g_array_append_val (f->sources, row);
  g_hash_table_insert (f->source_ids, (gpointer) a->source,
      GINT_TO_POINTER (f->sources->len));
  return f->sources->len - 1;
}

/* Disk space reserved before libhdf5 writes (op_h5_file_reserve()): a
 * slab's bytes (compressed images are not larger than raw by more than
 * 1/64) plus room for the metadata libhdf5 flushes with it. */
static guint64
slab_bytes (HFile * f, guint n, guint ni)
{
  guint64 row = (guint64) f->h * f->w * f->c + (guint64) ni * (f->k * 16 +
      25) + 52;

  return row * n + row * n / 64 + RESERVE_MARGIN;
}

/* the root attributes and per-source table written at commit */
static guint64
tables_bytes (HFile * f)
{
  guint64 n = RESERVE_MARGIN + f->sources->len * 64;
  guint i;

  for (i = 0; f->skeleton && i < f->skeleton->n_nodes; i++)
    n += 32 + strlen (f->skeleton->nodes[i]);
  if (f->skeleton)
    n += 16 * (f->skeleton->n_edges + f->skeleton->n_symmetries);
  return n;
}

/* Writes @n samples of one split as one slab per dataset, every instance
 * of every sample (padding up to the file's instance axis). */
static gboolean
write_slab (OpWriter * w, HFile * f, OpSample * const *s, guint n,
    GError ** error)
{
  gsize img = (gsize) f->h * f->w * f->c;
  guint8 *images = NULL, *kind = NULL;
  gfloat *kps = NULL, *score = NULL, *bbox = NULL;
  gint64 *frames = g_new (gint64, n), *pts = g_new (gint64, n);
  gint32 *nins = g_new (gint32, n), *track = NULL;
  gint32 *inst = g_new (gint32, n), *rect = g_new (gint32, 4 * n);
  gint32 *src = g_new (gint32, n), *aug = g_new (gint32, n);
  gboolean ok = TRUE;
  guint i, j, q, ni = f->ni;
  gsize cells, kcells;

  for (i = 0; i < n && ok; i++) {
    const OpAnnotation *a = &s[i]->ann;
    GstVideoInfo info;

    if (!s[i]->payload || !s[i]->caps ||
        !gst_video_info_from_caps (&info, s[i]->caps) ||
        (guint) GST_VIDEO_INFO_WIDTH (&info) != f->w ||
        (guint) GST_VIDEO_INFO_HEIGHT (&info) != f->h ||
        (guint) GST_VIDEO_INFO_COMP_PSTRIDE (&info, 0) != f->c ||
        g_strcmp0 (s[i]->pixel_format, f->pixel_format) != 0 ||
        gst_buffer_get_size (s[i]->payload) != img) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "Sample %s does not match the %ux%ux%u %s images of \"%s\"",
          s[i]->key, f->w, f->h, f->c, f->pixel_format, f->path);
      ok = FALSE;
    } else if (a->has_crop != f->crops) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "Sample %s is a %s, \"%s\" holds %s", s[i]->key,
          a->has_crop ? "crop" : "whole frame", f->path,
          f->crops ? "crops" : "whole frames");
      ok = FALSE;
    }
    for (j = 0; ok && j < op_annotation_n_instances (a); j++)
      if (op_annotation_get_instance (a, j)->n_keypoints != f->k) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "Sample %s has %u keypoints, \"%s\" has %u", s[i]->key,
            op_annotation_get_instance (a, j)->n_keypoints, f->path, f->k);
        ok = FALSE;
      }
    ni = MAX (ni, op_annotation_n_instances (a));
  }
  if (ok && ni > f->ni)
    ok = grow_instances (f, ni, error);
  if (!ok)
    goto out;

  cells = (gsize) n *ni;
  kcells = cells * f->k * 4;
  images = g_malloc (img * n);
  kps = g_new (gfloat, MAX (kcells, 1));
  score = g_new (gfloat, MAX (cells, 1));
  bbox = g_new (gfloat, MAX (cells * 4, 1));
  track = g_new (gint32, MAX (cells, 1));
  kind = g_new (guint8, MAX (cells, 1));
  for (q = 0; q < kcells; q++)
    kps[q] = NAN;
  for (q = 0; q < cells; q++) {
    score[q] = NAN;
    track[q] = -1;
    kind[q] = 255;
  }
  for (q = 0; q < cells * 4; q++)
    bbox[q] = NAN;
  for (i = 0; i < n; i++) {
    const OpAnnotation *a = &s[i]->ann;

    gst_buffer_extract (s[i]->payload, 0, images + img * i, img);
    nins[i] = op_annotation_n_instances (a);
    for (j = 0; j < (guint) nins[i]; j++) {
      const OpInstance *in = op_annotation_get_instance (a, j);
      gsize cell = (gsize) i * ni + j;

      for (q = 0; q < f->k; q++) {
        gfloat *p = kps + (cell * f->k + q) * 4;
        const OpKeypoint *kp = &in->keypoints[q];
        p[0] = kp->x;
        p[1] = kp->y;
        p[2] = op_keypoint_is_present (kp) ? 1 : 0;
        p[3] = kp->score;
      }
      track[cell] = in->track;
      kind[cell] = in->kind;
      score[cell] = in->score;
      if (in->has_bbox)
        for (q = 0; q < 4; q++)
          bbox[cell * 4 + q] = in->bbox[q];
    }
    frames[i] = a->frame_index;
    pts[i] = GST_CLOCK_TIME_IS_VALID (a->pts) ? (gint64) a->pts : -1;
    inst[i] = a->has_crop ? (gint32) a->crop.instance : 0;
    for (j = 0; j < 4; j++)
      rect[4 * i + j] = a->crop.rect[j];
    src[i] = source_id (f, a);
    aug[i] = (gint32) a->augment;
    op_manifest_note (w->manifest, a);
  }
  ok = op_batch_fault_take (f->partial, img * n, error) &&
      op_h5_file_reserve (f->file, slab_bytes (f, n, ni), f->partial, error);
  if (ok)
    ok = append_rows (f, DS_IMAGES, H5T_NATIVE_UINT8, n, images, error) &&
        append_rows (f, DS_KEYPOINTS, H5T_NATIVE_FLOAT, n, kps, error) &&
        append_rows (f, DS_N_INSTANCES, H5T_NATIVE_INT32, n, nins, error) &&
        append_rows (f, DS_TRACK, H5T_NATIVE_INT32, n, track, error) &&
        append_rows (f, DS_KIND, H5T_NATIVE_UINT8, n, kind, error) &&
        append_rows (f, DS_SCORE, H5T_NATIVE_FLOAT, n, score, error) &&
        append_rows (f, DS_BBOX, H5T_NATIVE_FLOAT, n, bbox, error) &&
        append_rows (f, DS_FRAME, H5T_NATIVE_INT64, n, frames, error) &&
        append_rows (f, DS_PTS, H5T_NATIVE_INT64, n, pts, error) &&
        append_rows (f, DS_SOURCE, H5T_NATIVE_INT32, n, src, error) &&
        append_rows (f, DS_AUGMENT, H5T_NATIVE_INT32, n, aug, error) &&
        (!f->crops ||
        (append_rows (f, DS_INSTANCE, H5T_NATIVE_INT32, n, inst, error) &&
            append_rows (f, DS_RECT, H5T_NATIVE_INT32, n, rect, error)));
  if (ok) {
    g_free (f->last_key);
    f->last_key = g_strdup (s[n - 1]->key);
    f->rows += n;
    w->stats.samples += n;
    f->bytes += img * n;
    w->stats.bytes += img * n;
  }
out:
  g_free (images);
  g_free (kps);
  g_free (score);
  g_free (bbox);
  g_free (track);
  g_free (kind);
  g_free (frames);
  g_free (pts);
  g_free (nins);
  g_free (inst);
  g_free (rect);
  g_free (src);
  g_free (aug);
  return ok;
}

static gboolean rotate (OpWriter * w, const gchar * split, HFile * f,
    GError ** error);

/* How many more samples the open shard takes before it is full. */
static guint64
shard_room (OpWriter * w, HFile * f)
{
  guint64 img = MAX ((guint64) f->h * f->w * f->c, 1);
  guint64 by_bytes = f->bytes >= w->max_bytes ? 0 :
      (w->max_bytes - f->bytes + img - 1) / img;

  return MIN (f->rows >= w->max_samples ? 0 : w->max_samples - f->rows,
      by_bytes);
}

static gboolean
write_locked (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i = 0;

  /* runs of consecutive samples of one split go in one slab per shard */
  while (i < n) {
    HFile *f = g_hash_table_lookup (w->files, samples[i]->split);
    guint j = i + 1;

    if (!f) {
      f = hfile_new (w, samples[i], error);
      if (!f)
        return FALSE;
      g_hash_table_insert (w->files, g_strdup (samples[i]->split), f);
    }
    /* a full shard is committed when the next sample comes, so that a
     * split that fits in one shard ends as one self-contained file */
    if (f->file > 0 && shard_room (w, f) == 0 &&
        !rotate (w, samples[i]->split, f, error))
      return FALSE;
    if (f->file <= 0 && !shard_open (f, error))
      return FALSE;
    while (j < n && strcmp (samples[j]->split, samples[i]->split) == 0 &&
        j - i < shard_room (w, f))
      j++;
    if (!write_slab (w, f, samples + i, j - i, error))
      return FALSE;
    i = j;
  }
  return TRUE;
}

static gboolean
hdf5_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  gboolean ok;

  op_h5_lock ();
  ok = write_locked (w, samples, n, error);
  op_h5_unlock ();
  return ok;
}

static gboolean
write_string_attr (hid_t loc, const gchar * name, const gchar * const *v,
    gsize n, gboolean scalar)
{
  hid_t t = vlen_string_type ();
  hsize_t dims = n;
  hid_t space = scalar ? H5Screate (H5S_SCALAR) : H5Screate_simple (1, &dims,
      NULL);
  hid_t attr = H5Acreate2 (loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = attr < 0 ? -1 : (!scalar && n == 0) ? 0 : H5Awrite (attr, t, v);

  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (t);
  return r >= 0;
}

static gboolean
write_pairs_attr (hid_t loc, const gchar * name, const guint * pairs, guint n)
{
  hsize_t dims[2] = { n, 2 };
  hid_t space = H5Screate_simple (2, dims, NULL);
  hid_t attr = H5Acreate2 (loc, name, H5T_STD_I32LE, space, H5P_DEFAULT,
      H5P_DEFAULT);
  gboolean ok = attr >= 0 && (n == 0 ||
      H5Awrite (attr, H5T_NATIVE_UINT, pairs) >= 0);

  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  return ok;
}

static gboolean
write_int_dataset (hid_t file, const gchar * name, const gint32 * v, guint n)
{
  hsize_t dims = n;
  hid_t space = H5Screate_simple (1, &dims, NULL);
  hid_t ds = H5Dcreate2 (file, name, H5T_STD_I32LE, space, H5P_DEFAULT,
      H5P_DEFAULT, H5P_DEFAULT);
  gboolean ok = ds >= 0 && (n == 0 ||
      H5Dwrite (ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);

  if (ds >= 0)
    H5Dclose (ds);
  H5Sclose (space);
  return ok;
}

/* The per-source table: names and the video sizes before any scaling. */
static gboolean
write_sources (HFile * f)
{
  guint n = f->sources->len, i;
  const gchar **names = g_new (const gchar *, MAX (n, 1));
  gint32 *wd = g_new (gint32, MAX (n, 1)), *ht = g_new (gint32, MAX (n, 1));
  hsize_t dims = n;
  hid_t t = vlen_string_type ();
  hid_t space = H5Screate_simple (1, &dims, NULL);
  hid_t ds;
  gboolean ok;

  for (i = 0; i < n; i++) {
    SourceRow *r = &g_array_index (f->sources, SourceRow, i);
    names[i] = r->name;
    wd[i] = r->width;
    ht[i] = r->height;
  }
  ds = H5Dcreate2 (f->file, "sources", t, space, H5P_DEFAULT, H5P_DEFAULT,
      H5P_DEFAULT);
  ok = ds >= 0 && (n == 0 ||
      H5Dwrite (ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
  if (ds >= 0)
    H5Dclose (ds);
  H5Sclose (space);
  H5Tclose (t);
  ok = ok && write_int_dataset (f->file, "source_width", wd, n) &&
      write_int_dataset (f->file, "source_height", ht, n);
  g_free (names);
  g_free (wd);
  g_free (ht);
  return ok;
}

/* `attributes=FILE`: /attributes/<column>, aligned with `sources` */
static gboolean
write_source_attributes (HFile * f)
{
  const gchar **names = g_new0 (const gchar *, f->sources->len + 1);
  gboolean ok;
  guint i;

  for (i = 0; i < f->sources->len; i++)
    names[i] = g_array_index (f->sources, SourceRow, i).name;
  ok = op_attributes_write_h5 (f->attributes, f->file, names, f->sources->len);
  g_free (names);
  return ok;
}

static gboolean
write_attributes (HFile * f)
{
  const gchar *version = VERSION;
  const gchar *coords = f->crops ?
      "crop coordinates: pixel centres at integers, the crop's top-left "
      "corner at (-0.5, -0.5); rect is [x, y, w, h] in frame coordinates" :
      "frame coordinates: pixel centres at integers, the frame's top-left "
      "corner at (-0.5, -0.5)";
  const gchar *name = f->skeleton ? f->skeleton->name : "";
  gint32 layout = 2;
  hid_t space = H5Screate (H5S_SCALAR);
  hid_t attr = H5Acreate2 (f->file, "layout_version", H5T_STD_I32LE, space,
      H5P_DEFAULT, H5P_DEFAULT);
  gboolean ok = attr >= 0 && H5Awrite (attr, H5T_NATIVE_INT32, &layout) >= 0;

  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  ok = ok && write_sources (f) &&
      write_string_attr (f->file, "onepass_version", &version, 1, TRUE) &&
      write_string_attr (f->file, "coordinates", &coords, 1, TRUE) &&
      write_string_attr (f->file, "skeleton_name", &name, 1, TRUE) &&
      write_string_attr (f->file, "nodes", f->skeleton ?
      (const gchar * const *) f->skeleton->nodes : NULL,
      f->skeleton ? f->skeleton->n_nodes : 0, FALSE) &&
      write_pairs_attr (f->file, "edges", f->skeleton ? f->skeleton->edges :
      NULL, f->skeleton ? f->skeleton->n_edges : 0) &&
      write_pairs_attr (f->file, "symmetries", f->skeleton ?
      f->skeleton->symmetries : NULL, f->skeleton ?
      f->skeleton->n_symmetries : 0);
  if (ok && f->attributes)
    ok = write_source_attributes (f);
  return ok;
}

/* Closes the open shard, fsyncs it and renames it to @dest. */
static gboolean
shard_commit (HFile * f, const gchar * dest, GError ** error)
{
  gint fd;
  guint i;
  gchar *dir;
  gboolean ok;

  errno = 0;
  if (!op_h5_file_reserve (f->file, tables_bytes (f), f->partial, error))
    return FALSE;
  if (!write_attributes (f))
    return h5_fail (error, "write attributes to", f->partial);
  /* a failed flush leaves the file whole, for shard_close_h5 to drop */
  if (H5Fflush (f->file, H5F_SCOPE_LOCAL) < 0)
    return h5_fail (error, "close", f->partial);
  for (i = 0; i < N_DS; i++) {
    if (f->ds[i] > 0)
      H5Dclose (f->ds[i]);
    f->ds[i] = 0;
  }
  ok = H5Fclose (f->file) >= 0;
  f->file = 0;
  if (!ok)
    return h5_fail (error, "close", f->partial);
  fd = open (f->partial, O_RDWR | O_CLOEXEC);
  ok = fd >= 0 && op_h5_release_reserve (fd) && fsync (fd) == 0;
  if (fd >= 0)
    close (fd);
  if (!ok || g_rename (f->partial, dest) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "Could not sync and rename \"%s\": %s", f->partial, g_strerror (errno));
    return FALSE;
  }
  g_clear_pointer (&f->partial, g_free);
  dir = g_path_get_dirname (dest);
  ok = op_batch_sync_dir (dir, error);
  g_free (dir);
  return ok;
}

/* Lists a committed shard (or split file) in the run's manifest. */
static void
list_file (OpWriter * w, const gchar * split, HFile * f, const gchar * path)
{
  const gchar **names = g_new0 (const gchar *, f->sources->len + 1);
  GStatBuf sb;
  guint i;

  for (i = 0; i < f->sources->len; i++)
    names[i] = g_array_index (f->sources, SourceRow, i).name;
  op_manifest_add (w->manifest, path, split, f->index, f->rows,
      g_stat (path, &sb) == 0 ? (guint64) sb.st_size : 0, f->last_key, names);
  w->stats.shards++;
  g_free (names);
}

/* Commits the open shard under its numbered name, rewrites the split's
 * view over every committed shard, then lists the shard in the manifest:
 * whatever the manifest lists, the view holds. */
static gboolean
rotate (OpWriter * w, const gchar * split, HFile * f, GError ** error)
{
  gchar *dest = shard_path (f, f->index);

  if (!shard_commit (f, dest, error)) {
    g_free (dest);
    return FALSE;
  }
  g_ptr_array_add (f->shards, dest);
  g_ptr_array_add (f->shards, NULL);
  if (!op_h5_combine_locked (f->path, (const gchar * const *)
          f->shards->pdata, error)) {
    g_ptr_array_set_size (f->shards, f->shards->len - 1);
    return FALSE;
  }
  g_ptr_array_set_size (f->shards, f->shards->len - 1);
  list_file (w, split, f, dest);
  f->index++;
  return op_manifest_write (w->manifest, FALSE, error);
}

/* A complete split of several shards becomes one self-contained file
 * under its view's name (h5vds.c), so that the file copied alone never
 * reads fill values; the manifest lists it in place of the shards, which
 * are deleted once a complete manifest says so (drop_shards). */
static gboolean
consolidate (OpWriter * w, const gchar * split, HFile * f, GError ** error)
{
  GStatBuf sb;
  gboolean ok;

  g_ptr_array_add (f->shards, NULL);
  ok = op_h5_consolidate_locked (f->path, (const gchar * const *)
      f->shards->pdata, error);
  g_ptr_array_set_size (f->shards, f->shards->len - 1);
  if (!ok) {
    g_prefix_error (error, "Could not consolidate the %u shards of \"%s\" "
        "(they stay, with the view): ", f->shards->len, f->path);
    return FALSE;
  }
  op_manifest_merge_split (w->manifest, f->path, split,
      g_stat (f->path, &sb) == 0 ? (guint64) sb.st_size : 0);
  f->consolidated = TRUE;
  w->consolidated++;
  return TRUE;
}

/* After the complete manifest: the consolidated splits' shards go. */
static void
drop_shards (OpWriter * w)
{
  gchar *dir = g_path_get_dirname (w->location);
  GHashTableIter iter;
  HFile *f;
  guint i;

  g_hash_table_iter_init (&iter, w->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & f)) {
    for (i = 0; f->consolidated && i < f->shards->len; i++) {
      const gchar *path = g_ptr_array_index (f->shards, i);

      if (g_unlink (path) != 0)
        g_warning ("Could not remove the consolidated shard \"%s\": %s",
            path, g_strerror (errno));
    }
  }
  op_batch_sync_dir (dir, NULL);
  g_free (dir);
}

static gboolean
hdf5_close (OpWriter * w, GError ** error)
{
  GList *splits = g_list_sort (g_hash_table_get_keys (w->files),
      (GCompareFunc) strcmp), *l;
  gboolean ok = TRUE;

  op_h5_lock ();
  for (l = splits; l && ok; l = l->next) {
    HFile *f = g_hash_table_lookup (w->files, l->data);

    if (f->file <= 0)
      continue;
    if (f->index > 0)
      ok = rotate (w, l->data, f, error);
    else if ((ok = shard_commit (f, f->path, error)))
      list_file (w, l->data, f, f->path);
  }
  /* every split's samples are committed before any is consolidated: a
   * consolidation that fails (a full disk) loses nothing */
  for (l = splits; l && ok; l = l->next) {
    HFile *f = g_hash_table_lookup (w->files, l->data);

    if (f->shards->len > 0)
      ok = consolidate (w, l->data, f, error);
  }
  op_h5_unlock ();
  /* a run without samples leaves no file and no manifest */
  if (ok && splits)
    ok = op_manifest_write (w->manifest, TRUE, error);
  if (ok)
    drop_shards (w);
  else if (w->consolidated && op_manifest_write (w->manifest, FALSE, NULL))
    /* a later split failed: the earlier ones are listed as their files */
    drop_shards (w);
  w->closed = ok;
  g_list_free (splits);
  return ok;
}

static void
hdf5_stats (OpWriter * w, OpWriterStats * stats)
{
  *stats = w->stats;
  stats->kept = op_manifest_n_samples (w->manifest);
}

const OpWriterFormat op_hdf5_writer = {
  "hdf5", hdf5_open, hdf5_write, hdf5_close, hdf5_free, hdf5_stats
};
