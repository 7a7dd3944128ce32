/* batchsink: one HDF5 file (per split), like the seed preprocessors'
 * output.h5. Datasets grow a batch at a time:
 *   images       uint8   N x H x W x C  chunk (1, H, W, C), deflate 1
 *   keypoints    float32 N x K x 4      x, y, visible, score (NaN = none)
 *   frame_index  int64   N
 *   instance     int32   N              crop.instance, 0 for frames
 *   track        int32   N              -1 untracked
 *   rect         int32   N x 4          crop rect; [0, 0, w, h] for frames
 *   source       int32   N              index into the `sources` attribute
 *   json         string  N              the annotation JSON (all instances)
 * Root attributes: `sources`, `skeleton_name`, `skeleton_nodes`,
 * `skeleton_edges` (int32 E x 2), `onepass_version`.
 * Keypoints, track and rect describe the sample's first instance (a crop
 * has exactly one); `json` keeps every instance of a frame.
 * The file is written as `<name>.partial` and renamed at EOS (HDF5 cannot
 * be made readable mid-write without SWMR, which 1.10 readers rarely use).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"
#include "batchfile.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <hdf5.h>

enum
{
  DS_IMAGES, DS_KEYPOINTS, DS_FRAME, DS_INSTANCE, DS_TRACK, DS_RECT,
  DS_SOURCE, DS_JSON, N_DS
};

typedef struct
{
  gchar *path;
  gchar *partial;
  hid_t file;
  hid_t ds[N_DS];
  guint64 rows;
  guint h, w, c, k;
  GPtrArray *sources;           /* interned names, index = id */
  GHashTable *source_ids;
  OpSkeleton *skeleton;
  guint64 bytes;
} HFile;

struct _OpWriter
{
  gchar *location;
  gboolean with_split;
  GHashTable *files;            /* split -> HFile */
  OpWriterStats stats;
};

static herr_t
first_error (unsigned n, const H5E_error2_t * e, void *data)
{
  gchar **desc = data;

  if (!*desc && e->desc && *e->desc)
    *desc = g_strdup (e->desc);
  return 0;
}

/* The innermost HDF5 message says what went wrong (e.g. a failed write). */
static gboolean
h5_fail (GError ** error, const gchar * what, const gchar * path)
{
  gint err = errno;             /* the sec2 driver leaves write's errno */
  gchar *desc = NULL;

  H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &desc);
  if (err == ENOSPC)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
        "Could not %s \"%s\": %s", what, path, g_strerror (err));
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Could not %s \"%s\": %s", what, path, desc ? desc : "HDF5 error");
  g_free (desc);
  H5Eclear2 (H5E_DEFAULT);
  return FALSE;
}

static void
hfile_free (gpointer data)
{
  HFile *f = data;
  guint i;

  for (i = 0; i < N_DS; i++)
    if (f->ds[i] > 0)
      H5Dclose (f->ds[i]);
  if (f->file > 0)
    H5Fclose (f->file);
  if (f->partial)
    g_unlink (f->partial);
  g_clear_pointer (&f->skeleton, op_skeleton_unref);
  g_ptr_array_unref (f->sources);
  g_hash_table_unref (f->source_ids);
  g_free (f->partial);
  g_free (f->path);
  g_free (f);
}

static void
hdf5_free (OpWriter * w)
{
  g_hash_table_unref (w->files);
  g_free (w->location);
  g_free (w);
}

static OpWriter *
hdf5_open (const OpWriterConfig * config, GError ** error)
{
  OpWriter *w;
  OpBatchFile *probe;
  gchar *dir = g_path_get_dirname (config->location);
  gboolean ok = op_batch_mkdirs (dir, error);

  g_free (dir);
  if (!ok)
    return NULL;
  probe = op_batch_file_open (config->location, error);
  if (!probe)
    return NULL;
  op_batch_file_abort (probe);
  /* errors are reported through GError, not printed by the library */
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  w = g_new0 (OpWriter, 1);
  w->location = g_strdup (config->location);
  w->with_split = config->has_split;
  w->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      hfile_free);
  return w;
}

static hid_t
make_dataset (hid_t file, const gchar * name, hid_t type, gint rank,
    const hsize_t * item, const hsize_t * chunk, gboolean deflate)
{
  hsize_t dims[4] = { 0 }, maxdims[4] = { H5S_UNLIMITED }, cdims[4];
  hid_t space, dcpl, ds;
  gint i;

  for (i = 1; i < rank; i++) {
    dims[i] = maxdims[i] = item[i - 1];
    cdims[i] = MAX (item[i - 1], 1);
  }
  cdims[0] = chunk[0];
  space = H5Screate_simple (rank, dims, maxdims);
  dcpl = H5Pcreate (H5P_DATASET_CREATE);
  H5Pset_chunk (dcpl, rank, cdims);
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

/* The first sample fixes the image shape and keypoint count. */
static HFile *
hfile_create (OpWriter * w, const OpSample * s, GError ** error)
{
  HFile *f = g_new0 (HFile, 1);
  GstVideoInfo info;
  hsize_t item[3], chunk1 = 1, chunk = 1024;
  hid_t str;

  f->sources = g_ptr_array_new ();
  f->source_ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  f->path = op_batch_split_file_path (w->location, s->split, w->with_split);
  f->partial = g_strconcat (f->path, ".partial", NULL);
  if (!s->caps || !gst_video_info_from_caps (&info, s->caps) || !s->payload) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "format=hdf5 needs raw video samples for \"%s\"", f->path);
    goto fail;
  }
  f->w = GST_VIDEO_INFO_WIDTH (&info);
  f->h = GST_VIDEO_INFO_HEIGHT (&info);
  f->c = GST_VIDEO_INFO_COMP_PSTRIDE (&info, 0);
  if (s->ann.skeleton) {
    f->skeleton = op_skeleton_ref (s->ann.skeleton);
    f->k = s->ann.skeleton->n_nodes;
  } else if (op_annotation_n_instances (&s->ann) > 0) {
    f->k = op_annotation_get_instance (&s->ann, 0)->n_keypoints;
  }
  f->file = H5Fcreate (f->partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f->file < 0) {
    h5_fail (error, "create", f->partial);
    goto fail;
  }
  item[0] = f->h;
  item[1] = f->w;
  item[2] = f->c;
  f->ds[DS_IMAGES] = make_dataset (f->file, "images", H5T_STD_U8LE, 4, item,
      &chunk1, TRUE);
  item[0] = f->k;
  item[1] = 4;
  f->ds[DS_KEYPOINTS] = make_dataset (f->file, "keypoints", H5T_IEEE_F32LE,
      3, item, &chunk, FALSE);
  f->ds[DS_FRAME] = make_dataset (f->file, "frame_index", H5T_STD_I64LE, 1,
      NULL, &chunk, FALSE);
  f->ds[DS_INSTANCE] = make_dataset (f->file, "instance", H5T_STD_I32LE, 1,
      NULL, &chunk, FALSE);
  f->ds[DS_TRACK] = make_dataset (f->file, "track", H5T_STD_I32LE, 1, NULL,
      &chunk, FALSE);
  item[0] = 4;
  f->ds[DS_RECT] = make_dataset (f->file, "rect", H5T_STD_I32LE, 2, item,
      &chunk, FALSE);
  f->ds[DS_SOURCE] = make_dataset (f->file, "source", H5T_STD_I32LE, 1, NULL,
      &chunk, FALSE);
  str = vlen_string_type ();
  f->ds[DS_JSON] = make_dataset (f->file, "json", str, 1, NULL, &chunk, TRUE);
  H5Tclose (str);
  for (guint i = 0; i < N_DS; i++)
    if (f->ds[i] < 0) {
      h5_fail (error, "create datasets in", f->partial);
      goto fail;
    }
  return f;

fail:
  hfile_free (f);
  return NULL;
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
source_id (HFile * f, const gchar * source)
{
  gpointer id;

  if (g_hash_table_lookup_extended (f->source_ids, source, NULL, &id))
    return GPOINTER_TO_INT (id);
  g_ptr_array_add (f->sources, (gpointer) source);
  g_hash_table_insert (f->source_ids, (gpointer) source,
      GINT_TO_POINTER (f->sources->len - 1));
  return f->sources->len - 1;
}

/* Writes @n samples of one split as one slab per dataset. */
static gboolean
write_slab (OpWriter * w, HFile * f, OpSample * const *s, guint n,
    GError ** error)
{
  gsize img = (gsize) f->h * f->w * f->c;
  guint8 *images = g_malloc (img * n);
  gfloat *kps = g_new (gfloat, (gsize) n * MAX (f->k, 1) * 4);
  gint64 *frames = g_new (gint64, n);
  gint32 *inst = g_new (gint32, n), *track = g_new (gint32, n);
  gint32 *rect = g_new (gint32, 4 * n), *src = g_new (gint32, n);
  const gchar **json = g_new (const gchar *, n);
  gboolean ok = TRUE;
  guint i, j;

  for (i = 0; i < n && ok; i++) {
    const OpAnnotation *a = &s[i]->ann;
    const OpInstance *in = op_annotation_n_instances (a) ?
        op_annotation_get_instance (a, 0) : NULL;
    GstVideoInfo info;

    if (!s[i]->payload || !s[i]->caps ||
        !gst_video_info_from_caps (&info, s[i]->caps) ||
        (guint) GST_VIDEO_INFO_WIDTH (&info) != f->w ||
        (guint) GST_VIDEO_INFO_HEIGHT (&info) != f->h ||
        (guint) GST_VIDEO_INFO_COMP_PSTRIDE (&info, 0) != f->c ||
        gst_buffer_get_size (s[i]->payload) != img) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "Sample %s does not match the %ux%ux%u images of \"%s\"",
          s[i]->key, f->w, f->h, f->c, f->path);
      ok = FALSE;
      break;
    }
    if (in && in->n_keypoints != f->k) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "Sample %s has %u keypoints, \"%s\" has %u", s[i]->key,
          in->n_keypoints, f->path, f->k);
      ok = FALSE;
      break;
    }
    gst_buffer_extract (s[i]->payload, 0, images + img * i, img);
    for (j = 0; j < f->k; j++) {
      gfloat *p = kps + ((gsize) i * f->k + j) * 4;
      const OpKeypoint *kp = in ? &in->keypoints[j] : NULL;
      p[0] = kp ? kp->x : NAN;
      p[1] = kp ? kp->y : NAN;
      p[2] = kp && kp->visible ? 1 : 0;
      p[3] = kp ? kp->score : NAN;
    }
    frames[i] = a->frame_index;
    inst[i] = a->has_crop ? (gint32) a->crop.instance : 0;
    track[i] = in ? in->track : -1;
    if (a->has_crop) {
      for (j = 0; j < 4; j++)
        rect[4 * i + j] = a->crop.rect[j];
    } else {
      rect[4 * i] = rect[4 * i + 1] = 0;
      rect[4 * i + 2] = a->width;
      rect[4 * i + 3] = a->height;
    }
    src[i] = source_id (f, a->source);
    json[i] = s[i]->json;
  }
  if (ok)
    ok = op_batch_fault_take (f->partial, img * n, error);
  if (ok) {
    hid_t str = vlen_string_type ();
    ok = append_rows (f, DS_IMAGES, H5T_NATIVE_UINT8, n, images, error) &&
        append_rows (f, DS_KEYPOINTS, H5T_NATIVE_FLOAT, n, kps, error) &&
        append_rows (f, DS_FRAME, H5T_NATIVE_INT64, n, frames, error) &&
        append_rows (f, DS_INSTANCE, H5T_NATIVE_INT32, n, inst, error) &&
        append_rows (f, DS_TRACK, H5T_NATIVE_INT32, n, track, error) &&
        append_rows (f, DS_RECT, H5T_NATIVE_INT32, n, rect, error) &&
        append_rows (f, DS_SOURCE, H5T_NATIVE_INT32, n, src, error) &&
        append_rows (f, DS_JSON, str, n, json, error);
    H5Tclose (str);
  }
  if (ok) {
    f->rows += n;
    w->stats.samples += n;
    f->bytes += img * n;
    w->stats.bytes += img * n;
  }
  g_free (images);
  g_free (kps);
  g_free (frames);
  g_free (inst);
  g_free (track);
  g_free (rect);
  g_free (src);
  g_free (json);
  return ok;
}

static gboolean
hdf5_write (OpWriter * w, OpSample * const *samples, guint n, GError ** error)
{
  guint i = 0;

  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  /* runs of consecutive samples of one split go in one slab */
  while (i < n) {
    HFile *f = g_hash_table_lookup (w->files, samples[i]->split);
    guint j = i + 1;

    if (!f) {
      f = hfile_create (w, samples[i], error);
      if (!f)
        return FALSE;
      g_hash_table_insert (w->files, g_strdup (samples[i]->split), f);
    }
    while (j < n && strcmp (samples[j]->split, samples[i]->split) == 0)
      j++;
    if (!write_slab (w, f, samples + i, j - i, error))
      return FALSE;
    i = j;
  }
  return TRUE;
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
  herr_t r = attr < 0 ? -1 : H5Awrite (attr, t, v);

  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (t);
  return r >= 0;
}

static gboolean
write_attributes (HFile * f)
{
  const gchar *version = VERSION;
  gboolean ok;

  ok = write_string_attr (f->file, "onepass_version", &version, 1, TRUE) &&
      write_string_attr (f->file, "sources",
      (const gchar * const *) f->sources->pdata, f->sources->len, FALSE);
  if (ok && f->skeleton) {
    hsize_t dims[2] = { f->skeleton->n_edges, 2 };
    hid_t space = H5Screate_simple (2, dims, NULL);
    hid_t attr;
    const gchar *name = f->skeleton->name;

    ok = write_string_attr (f->file, "skeleton_name", &name, 1, TRUE) &&
        write_string_attr (f->file, "skeleton_nodes",
        (const gchar * const *) f->skeleton->nodes, f->skeleton->n_nodes,
        FALSE);
    attr = H5Acreate2 (f->file, "skeleton_edges", H5T_STD_I32LE, space,
        H5P_DEFAULT, H5P_DEFAULT);
    ok = ok && attr >= 0 && H5Awrite (attr, H5T_NATIVE_UINT,
        f->skeleton->edges) >= 0;
    if (attr >= 0)
      H5Aclose (attr);
    H5Sclose (space);
  }
  return ok;
}

/* Closes the HDF5 file, fsyncs it and renames it to its final name. */
static gboolean
hfile_commit (HFile * f, GError ** error)
{
  gint fd;
  guint i;
  gchar *dir;
  gboolean ok;

  errno = 0;
  if (!write_attributes (f))
    return h5_fail (error, "write attributes to", f->partial);
  for (i = 0; i < N_DS; i++) {
    H5Dclose (f->ds[i]);
    f->ds[i] = 0;
  }
  ok = H5Fclose (f->file) >= 0;
  f->file = 0;
  if (!ok)
    return h5_fail (error, "close", f->partial);
  fd = open (f->partial, O_RDONLY | O_CLOEXEC);
  ok = fd >= 0 && fsync (fd) == 0;
  if (fd >= 0)
    close (fd);
  if (!ok || g_rename (f->partial, f->path) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Could not sync and rename \"%s\"", f->partial);
    return FALSE;
  }
  g_clear_pointer (&f->partial, g_free);
  dir = g_path_get_dirname (f->path);
  ok = op_batch_sync_dir (dir, error);
  g_free (dir);
  return ok;
}

static gboolean
hdf5_close (OpWriter * w, GError ** error)
{
  GList *splits = g_list_sort (g_hash_table_get_keys (w->files),
      (GCompareFunc) strcmp), *l;
  gboolean ok = TRUE;

  for (l = splits; l && ok; l = l->next) {
    ok = hfile_commit (g_hash_table_lookup (w->files, l->data), error);
    if (ok)
      w->stats.shards++;
  }
  g_list_free (splits);
  return ok;
}

static void
hdf5_stats (OpWriter * w, OpWriterStats * stats)
{
  *stats = w->stats;
}

const OpWriterFormat op_hdf5_writer = {
  "hdf5", hdf5_open, hdf5_write, hdf5_close, hdf5_free, hdf5_stats
};
