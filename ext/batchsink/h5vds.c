/* batchsink: several complete layout-v2 HDF5 files (the writer's
 * `<stem>.<split>.h5`, docs/batchsink.md "HDF5 layout") combined into one
 * file that h5py opens like any of them:
 *   - every per-sample dataset (images, keypoints, n_instances, track,
 *     kind, score, bbox, frame_index, pts, instance, rect) is a virtual
 *     dataset mapping each input's rows in input order; inputs with fewer
 *     instances fill the rest of the instance axis with the writer's
 *     padding (the first input's fill values: NaN, -1, 255);
 *   - `source` is a real dataset, remapped into the merged `sources` table
 *     (`source_width`, `source_height`, `/attributes/<column>` per source);
 *   - root attributes (skeleton, layout_version...) and the datasets'
 *     attributes are the first input's; every input must have the same
 *     skeleton, image shape and pixel format, else an error naming them.
 * The inputs are referenced by paths relative to the output's directory,
 * so the directory can be moved as a whole. The output is written as
 * `<out>.partial`, fsynced and renamed: readers see the old or the new
 * file, never half of one.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5vds.h"
#include "h5file.h"
#include "h5consolidate.h"
#include "batchfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <oph5global.h>

/* the per-sample datasets; axis 1 of the per-instance ones is the
 * instance axis, which may differ between inputs */
static const struct
{
  const gchar *name;
  gboolean per_instance;
  gboolean crops_only;
  gboolean optional;            /* newer than layout v2's first files */
} rows_ds[] = {
  {"images", FALSE, FALSE},
  {"keypoints", TRUE, FALSE},
  {"n_instances", FALSE, FALSE},
  {"track", TRUE, FALSE},
  {"kind", TRUE, FALSE},
  {"score", TRUE, FALSE},
  {"bbox", TRUE, FALSE},
  {"frame_index", FALSE, FALSE},
  {"pts", FALSE, FALSE},
  {"augment", FALSE, FALSE, TRUE},
  {"instance", FALSE, TRUE},
  {"rect", FALSE, TRUE},
};

/* the root attributes that make up the skeleton */
static const gchar *skeleton_attrs[] = { "edges", "symmetries" };

typedef struct
{
  const gchar *path;
  gchar *rel;                   /* relative to the output's directory */
  hid_t file;
  hsize_t rows;
  gboolean crops;
  gchar **sources;
  guint n_sources;
  gint32 *width, *height;
  gint32 *map;                  /* input source id -> merged id */
} Input;

typedef struct
{
  Input *in;
  guint n;
  hid_t out;
  hsize_t rows;
  GPtrArray *names;             /* merged sources */
  GArray *width, *height;
  GHashTable *ids;              /* name -> merged id + 1 */
  gboolean real;                /* copy the rows instead of mapping them */
  guint64 in_bytes;             /* the inputs' sizes on disk */
} Combine;

static gboolean
h5_error (GError ** error, const gchar * what, const gchar * path)
{
  gchar *desc = op_h5_take_error ();

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not %s \"%s\": %s",
      what, path, desc);
  g_free (desc);
  return FALSE;
}

/* @path relative to the directory @dir (both made absolute first). */
static gchar *
relative_path (const gchar * dir, const gchar * path)
{
  gchar *adir = g_canonicalize_filename (dir, NULL);
  gchar *apath = g_canonicalize_filename (path, NULL);
  gchar **a = g_strsplit (adir + 1, "/", -1);
  gchar **b = g_strsplit (apath + 1, "/", -1);
  GString *rel = g_string_new (NULL);
  guint i = 0, j;

  if (g_str_equal (adir, "/"))
    a[0][0] = '\0';
  while (a[i] && *a[i] && b[i] && b[i + 1] && g_str_equal (a[i], b[i]))
    i++;
  for (j = i; a[j] && *a[j]; j++)
    g_string_append (rel, "../");
  for (j = i; b[j]; j++)
    g_string_append_printf (rel, "%s%s", b[j], b[j + 1] ? "/" : "");
  g_strfreev (a);
  g_strfreev (b);
  g_free (adir);
  g_free (apath);
  return g_string_free (rel, FALSE);
}

/* Reads a string list (attribute or dataset @name of @loc, variable or
 * fixed length); NULL-terminated. A missing @name is an empty list. */
static gchar **
read_strings (hid_t loc, const gchar * name, gboolean attr, guint * n)
{
  hid_t obj = -1, ftype = -1, mtype = -1, space = -1;
  GPtrArray *out = g_ptr_array_new ();
  gboolean ok = FALSE;
  hssize_t npoints;
  gsize size;

  if (attr ? H5Aexists (loc, name) <= 0 : H5Lexists (loc, name,
          H5P_DEFAULT) <= 0) {
    *n = 0;
    g_ptr_array_add (out, NULL);
    return (gchar **) g_ptr_array_free (out, FALSE);
  }
  obj = attr ? H5Aopen (loc, name, H5P_DEFAULT) : H5Dopen2 (loc, name,
      H5P_DEFAULT);
  if (obj < 0)
    goto out;
  ftype = attr ? H5Aget_type (obj) : H5Dget_type (obj);
  space = attr ? H5Aget_space (obj) : H5Dget_space (obj);
  if (ftype < 0 || space < 0 || H5Tget_class (ftype) != H5T_STRING)
    goto out;
  npoints = H5Sget_simple_extent_npoints (space);
  mtype = H5Tcopy (ftype);
  size = H5Tget_size (ftype);
  if (H5Tis_variable_str (ftype) > 0) {
    gchar **v = g_new0 (gchar *, MAX (npoints, 1));
    hssize_t i;

    ok = npoints == 0 || (attr ? H5Aread (obj, mtype, v) : H5Dread (obj,
            mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)) >= 0;
    for (i = 0; ok && i < npoints; i++)
      g_ptr_array_add (out, g_strdup (v[i] ? v[i] : ""));
    if (ok && npoints > 0)
      H5Dvlen_reclaim (mtype, space, H5P_DEFAULT, v);
    g_free (v);
  } else {
    gchar *v = g_malloc0 (size * MAX (npoints, 1));
    hssize_t i;

    ok = npoints == 0 || (attr ? H5Aread (obj, mtype, v) : H5Dread (obj,
            mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)) >= 0;
    for (i = 0; ok && i < npoints; i++)
      g_ptr_array_add (out, g_strndup (v + i * size, size));
    g_free (v);
  }
  *n = out->len;
out:
  if (mtype >= 0)
    H5Tclose (mtype);
  if (space >= 0)
    H5Sclose (space);
  if (ftype >= 0)
    H5Tclose (ftype);
  if (obj >= 0)
    attr ? H5Aclose (obj) : H5Dclose (obj);
  g_ptr_array_add (out, NULL);
  if (!ok) {
    g_strfreev ((gchar **) g_ptr_array_free (out, FALSE));
    return NULL;
  }
  return (gchar **) g_ptr_array_free (out, FALSE);
}

/* Reads a numeric attribute or dataset as @memtype (NULL on failure, an
 * empty array for a missing @name). */
static gpointer
read_numbers (hid_t loc, const gchar * name, gboolean attr, hid_t memtype,
    hssize_t * n)
{
  hid_t obj, space;
  gpointer v = NULL;
  herr_t r;

  *n = 0;
  if (attr ? H5Aexists (loc, name) <= 0 : H5Lexists (loc, name,
          H5P_DEFAULT) <= 0)
    return g_malloc0 (H5Tget_size (memtype));
  obj = attr ? H5Aopen (loc, name, H5P_DEFAULT) : H5Dopen2 (loc, name,
      H5P_DEFAULT);
  if (obj < 0)
    return NULL;
  space = attr ? H5Aget_space (obj) : H5Dget_space (obj);
  *n = space < 0 ? -1 : H5Sget_simple_extent_npoints (space);
  if (*n >= 0) {
    v = g_malloc0 (H5Tget_size (memtype) * MAX (*n, 1));
    r = *n == 0 ? 0 : attr ? H5Aread (obj, memtype, v) : H5Dread (obj,
        memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (r < 0)
      g_clear_pointer (&v, g_free);
  }
  if (space >= 0)
    H5Sclose (space);
  attr ? H5Aclose (obj) : H5Dclose (obj);
  return v;
}

static void
input_clear (Input * in)
{
  if (in->file > 0)
    H5Fclose (in->file);
  g_free (in->rel);
  g_strfreev (in->sources);
  g_free (in->width);
  g_free (in->height);
  g_free (in->map);
}

static gboolean
input_open (Input * in, const gchar * out_dir, GError ** error)
{
  gint32 layout = 0;
  hid_t attr, ds, space;
  hssize_t nw = 0, nh = 0;

  in->rel = relative_path (out_dir, in->path);
  in->file = H5Fopen (in->path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (in->file < 0)
    return h5_error (error, "open", in->path);
  attr = H5Aexists (in->file, "layout_version") > 0 ?
      H5Aopen (in->file, "layout_version", H5P_DEFAULT) : -1;
  if (attr >= 0) {
    H5Aread (attr, H5T_NATIVE_INT32, &layout);
    H5Aclose (attr);
  }
  if (layout != 2) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" is not an onepass HDF5 file of layout version 2", in->path);
    return FALSE;
  }
  ds = H5Dopen2 (in->file, "images", H5P_DEFAULT);
  space = ds < 0 ? -1 : H5Dget_space (ds);
  if (space < 0 || H5Sget_simple_extent_dims (space, &in->rows, NULL) < 1)
    in->rows = G_MAXUINT64;
  if (space >= 0)
    H5Sclose (space);
  if (ds >= 0)
    H5Dclose (ds);
  if (in->rows == G_MAXUINT64)
    return h5_error (error, "read the images of", in->path);
  in->crops = H5Lexists (in->file, "instance", H5P_DEFAULT) > 0;
  in->sources = read_strings (in->file, "sources", FALSE, &in->n_sources);
  in->width = read_numbers (in->file, "source_width", FALSE,
      H5T_NATIVE_INT32, &nw);
  in->height = read_numbers (in->file, "source_height", FALSE,
      H5T_NATIVE_INT32, &nh);
  if (!in->sources || !in->width || !in->height ||
      (nw && nw != in->n_sources) || (nh && nh != in->n_sources)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" has no readable sources table", in->path);
    return FALSE;
  }
  if (!nw) {
    in->width = g_renew (gint32, in->width, MAX (in->n_sources, 1));
    in->height = g_renew (gint32, in->height, MAX (in->n_sources, 1));
    memset (in->width, 0, sizeof (gint32) * in->n_sources);
    memset (in->height, 0, sizeof (gint32) * in->n_sources);
  }
  return TRUE;
}

/* The skeleton of input @i must be input 0's, node by node. */
static gboolean
same_skeleton (Combine * c, guint i, GError ** error)
{
  Input *a = &c->in[0], *b = &c->in[i];
  guint na, nb, k;
  gchar **x = read_strings (a->file, "nodes", TRUE, &na);
  gchar **y = read_strings (b->file, "nodes", TRUE, &nb);
  gboolean ok = x && y;

  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Could not read the skeleton nodes of \"%s\"", x ? b->path : a->path);
  for (k = 0; ok && k < MAX (na, nb); k++)
    if (k >= na || k >= nb || !g_str_equal (x[k], y[k])) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "\"%s\" and \"%s\" have different skeletons: node %u is %s%s%s in "
          "the first and %s%s%s in the second (%u and %u nodes)", a->path,
          b->path, k, k < na ? "\"" : "", k < na ? x[k] : "missing",
          k < na ? "\"" : "", k < nb ? "\"" : "", k < nb ? y[k] : "missing",
          k < nb ? "\"" : "", na, nb);
      ok = FALSE;
    }
  g_strfreev (x);
  g_strfreev (y);
  for (k = 0; ok && k < G_N_ELEMENTS (skeleton_attrs); k++) {
    hssize_t n1, n2;
    gint32 *p = read_numbers (a->file, skeleton_attrs[k], TRUE,
        H5T_NATIVE_INT32, &n1);
    gint32 *q = read_numbers (b->file, skeleton_attrs[k], TRUE,
        H5T_NATIVE_INT32, &n2);

    if (!p || !q || n1 != n2 || memcmp (p, q, sizeof (gint32) * n1) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "\"%s\" and \"%s\" have different skeletons: their %s differ",
          a->path, b->path, skeleton_attrs[k]);
      ok = FALSE;
    }
    g_free (p);
    g_free (q);
  }
  return ok;
}

/* Input @i's images must have input 0's pixel format. */
static gboolean
same_pixel_format (Combine * c, guint i, GError ** error)
{
  gchar **pf[2] = { NULL, NULL };
  guint k, n;
  gboolean ok;

  for (k = 0; k < 2; k++) {
    hid_t ds = H5Dopen2 (c->in[k ? i : 0].file, "images", H5P_DEFAULT);

    if (ds >= 0) {
      pf[k] = read_strings (ds, "pixel_format", TRUE, &n);
      H5Dclose (ds);
    }
  }
  ok = pf[0] && pf[1] && g_strv_equal ((const gchar * const *) pf[0],
      (const gchar * const *) pf[1]);
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" holds %s images, \"%s\" holds %s: only files of one pixel "
        "format combine", c->in[i].path, pf[1] && pf[1][0] ? pf[1][0] :
        "unknown", c->in[0].path, pf[0] && pf[0][0] ? pf[0][0] : "unknown");
  g_strfreev (pf[0]);
  g_strfreev (pf[1]);
  return ok;
}

/* The merged per-source table: sources in order of first appearance. */
static gboolean
merge_sources (Combine * c, GError ** error)
{
  guint i, s;

  for (i = 0; i < c->n; i++) {
    Input *in = &c->in[i];

    in->map = g_new0 (gint32, MAX (in->n_sources, 1));
    for (s = 0; s < in->n_sources; s++) {
      gpointer id;
      gint32 *w, *h;

      if (!g_hash_table_lookup_extended (c->ids, in->sources[s], NULL, &id)) {
        g_ptr_array_add (c->names, in->sources[s]);
        g_array_append_val (c->width, in->width[s]);
        g_array_append_val (c->height, in->height[s]);
        id = GINT_TO_POINTER (c->names->len);
        g_hash_table_insert (c->ids, in->sources[s], id);
      }
      in->map[s] = GPOINTER_TO_INT (id) - 1;
      w = &g_array_index (c->width, gint32, in->map[s]);
      h = &g_array_index (c->height, gint32, in->map[s]);
      if (!*w) {
        *w = in->width[s];
        *h = in->height[s];
      } else if (in->width[s] && (in->width[s] != *w || in->height[s] != *h)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "Source \"%s\" is %dx%d in \"%s\" but %dx%d in an earlier input",
            in->sources[s], in->width[s], in->height[s], in->path, *w, *h);
        return FALSE;
      }
    }
  }
  return TRUE;
}

typedef struct
{
  hid_t to;
  const gchar *skip;
  gboolean ok;
} CopyAttrs;

static herr_t
copy_attr (hid_t loc, const char *name, const H5A_info_t * info, void *data)
{
  CopyAttrs *c = data;
  hid_t from = H5Aopen (loc, name, H5P_DEFAULT), type, space, to;
  gpointer buf;
  gboolean vlen;

  if (c->skip && g_str_equal (name, c->skip))
    return H5Aclose (from);
  type = H5Aget_type (from);
  space = H5Aget_space (from);
  buf = g_malloc0 (H5Tget_size (type) *
      MAX (H5Sget_simple_extent_npoints (space), 1));
  vlen = H5Tis_variable_str (type) > 0 || H5Tdetect_class (type, H5T_VLEN) > 0;
  to = H5Acreate2 (c->to, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (to < 0 || H5Aread (from, type, buf) < 0)
    c->ok = FALSE;
  else {
    c->ok = c->ok && H5Awrite (to, type, buf) >= 0;
    if (vlen)
      H5Dvlen_reclaim (type, space, H5P_DEFAULT, buf);
  }
  if (to >= 0)
    H5Aclose (to);
  g_free (buf);
  H5Sclose (space);
  H5Tclose (type);
  H5Aclose (from);
  return c->ok ? 0 : -1;
}

static gboolean
copy_attrs (hid_t from, hid_t to, const gchar * skip)
{
  CopyAttrs c = { to, skip, TRUE };

  return H5Aiterate2 (from, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr,
      &c) >= 0 && c.ok;
}

static gchar *
shape_string (const hsize_t * dims, gint rank)
{
  GString *s = g_string_new ("(");
  gint i;

  for (i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
        (guint64) dims[i]);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* Input @i's dataset @d (open in @ds, of @rank and @dims) must fit input
 * 0's (@type0, @dims0): same type, same size past the row and instance
 * axes, as many rows as its images. */
static gboolean
same_shape (Combine * c, guint d, guint i, hid_t ds, gint rank,
    const hsize_t * dims, gint rank0, const hsize_t * dims0, hid_t type0,
    GError ** error)
{
  hid_t type = H5Dget_type (ds);
  gboolean ok = type >= 0 && H5Tequal (type, type0) > 0 && rank == rank0 &&
      dims[0] == c->in[i].rows;
  gint a;

  for (a = rows_ds[d].per_instance ? 2 : 1; ok && a < rank; a++)
    ok = dims[a] == dims0[a];
  if (type >= 0)
    H5Tclose (type);
  if (!ok) {
    gchar *s = shape_string (dims, rank), *s0 = shape_string (dims0, rank0);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" of \"%s\" has shape %s, \"%s\" of \"%s\" has %s: only files "
        "of one image shape, keypoint count and type combine",
        rows_ds[d].name, c->in[i].path, s, rows_ds[d].name, c->in[0].path, s0);
    g_free (s);
    g_free (s0);
  }
  return ok;
}

/* An optional dataset is combined only when every input has it. */
static gboolean
all_have (Combine * c, const gchar * name)
{
  guint i;

  for (i = 0; i < c->n; i++)
    if (H5Lexists (c->in[i].file, name, H5P_DEFAULT) <= 0)
      return FALSE;
  return TRUE;
}

/* Maps each input's whole dataset @name onto its rows of @space. */
static gboolean
map_inputs (Combine * c, const gchar * name, hid_t dcpl, hid_t space,
    GError ** error)
{
  hsize_t dims[4], start[4] = { 0 }, offset = 0;
  guint i;

  for (i = 0; i < c->n; i++) {
    hid_t ds, src, dst;
    herr_t r;

    if (!c->in[i].rows)
      continue;
    ds = H5Dopen2 (c->in[i].file, name, H5P_DEFAULT);
    src = H5Dget_space (ds);
    H5Sget_simple_extent_dims (src, dims, NULL);
    H5Dclose (ds);
    dst = H5Scopy (space);
    start[0] = offset;
    r = H5Sselect_hyperslab (dst, H5S_SELECT_SET, start, NULL, dims, NULL);
    if (r >= 0)
      r = H5Pset_virtual (dcpl, dst, c->in[i].rel, name, src);
    H5Sclose (dst);
    H5Sclose (src);
    if (r < 0)
      return h5_error (error, "map the rows of", c->in[i].path);
    offset += c->in[i].rows;
  }
  return TRUE;
}

/* Copies each input's dataset @name into its rows of @ds. */
static gboolean
copy_inputs (Combine * c, const gchar * name, hid_t ds, GError ** error)
{
  hsize_t offset = 0;
  guint i;

  for (i = 0; i < c->n; i++) {
    hid_t from;
    gboolean ok;

    if (!c->in[i].rows)
      continue;
    from = H5Dopen2 (c->in[i].file, name, H5P_DEFAULT);
    ok = from >= 0 && op_h5_copy_rows (from, ds, offset);
    if (from >= 0)
      H5Dclose (from);
    if (!ok)
      return h5_error (error, "copy the rows of", c->in[i].path);
    offset += c->in[i].rows;
  }
  return TRUE;
}

/* One per-sample dataset over every input's rows: virtual, or (c->real)
 * a real dataset with the first input's chunking, filters and fill. */
static gboolean
make_rows (Combine * c, guint d, GError ** error)
{
  const gchar *name = rows_ds[d].name;
  hid_t ds0 = -1, type = -1, dcpl0 = -1, dcpl = -1, space = -1, out = -1;
  hsize_t first[4], dims0[4], dims[4], maxdims[4];
  gint rank0, rank, a;
  guint8 fill[64];
  H5D_fill_value_t fill_set = H5D_FILL_VALUE_DEFAULT;
  gboolean ok = FALSE;
  guint i;

  ds0 = H5Dopen2 (c->in[0].file, name, H5P_DEFAULT);
  if (ds0 < 0) {
    h5_error (error, "open the dataset of", c->in[0].path);
    goto out;
  }
  type = H5Dget_type (ds0);
  dcpl0 = H5Dget_create_plist (ds0);
  space = H5Dget_space (ds0);
  rank0 = H5Sget_simple_extent_dims (space, first, NULL);
  H5Sclose (space);
  space = -1;
  if (rank0 < 1 || rank0 > 4 || H5Tget_size (type) > sizeof (fill)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "\"%s\" of \"%s\" is not a per-sample dataset", name, c->in[0].path);
    goto out;
  }
  memcpy (dims0, first, sizeof (first));
  dims0[0] = c->rows;
  /* the instance axis is the largest of the inputs' */
  for (i = 0; i < c->n; i++) {
    hid_t ds = H5Dopen2 (c->in[i].file, name, H5P_DEFAULT);

    if (ds < 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "\"%s\" has no dataset \"%s\"", c->in[i].path, name);
      goto out;
    }
    space = H5Dget_space (ds);
    rank = H5Sget_simple_extent_dims (space, dims, NULL);
    ok = same_shape (c, d, i, ds, rank, dims, rank0, first, type, error);
    H5Dclose (ds);
    if (ok && rows_ds[d].per_instance)
      dims0[1] = MAX (i ? dims0[1] : 0, dims[1]);
    H5Sclose (space);
    space = -1;
    if (!ok)
      goto out;
  }
  ok = FALSE;
  if (c->real) {
    /* extendable like the shards' (a fixed axis may not be shorter than
     * its chunk) */
    for (a = 0; a < rank0; a++)
      maxdims[a] = a == 0 || (a == 1 && rows_ds[d].per_instance) ?
          H5S_UNLIMITED : dims0[a];
    space = H5Screate_simple (rank0, dims0, maxdims);
    dcpl = op_h5_real_dcpl (dcpl0, type, rank0, dims0);
  } else {
    space = H5Screate_simple (rank0, dims0, NULL);
    dcpl = H5Pcreate (H5P_DATASET_CREATE);
    H5Pfill_value_defined (dcpl0, &fill_set);
    if (fill_set == H5D_FILL_VALUE_USER_DEFINED &&
        H5Pget_fill_value (dcpl0, type, fill) >= 0)
      H5Pset_fill_value (dcpl, type, fill);
    if (!map_inputs (c, name, dcpl, space, error))
      goto out;
  }
  /* no rows at all: a plain empty dataset (a virtual one needs a map) */
  out = H5Dcreate2 (c->out, name, type, space, H5P_DEFAULT,
      c->rows || c->real ? dcpl : H5P_DEFAULT, H5P_DEFAULT);
  ok = out >= 0 && copy_attrs (ds0, out, NULL);
  if (!ok)
    h5_error (error, c->real ? "write a dataset for" :
        "write a virtual dataset for", c->in[0].path);
  else if (c->real)
    ok = copy_inputs (c, name, out, error);
out:
  if (out >= 0)
    H5Dclose (out);
  if (space >= 0)
    H5Sclose (space);
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (dcpl0 >= 0)
    H5Pclose (dcpl0);
  if (type >= 0)
    H5Tclose (type);
  if (ds0 >= 0)
    H5Dclose (ds0);
  return ok;
}

static gboolean
write_dataset_full (hid_t loc, const gchar * name, hid_t filetype,
    hid_t memtype, hsize_t n, gconstpointer v, const hsize_t * maxdims,
    hid_t dcpl)
{
  hid_t space = H5Screate_simple (1, &n, maxdims);
  hid_t ds = H5Dcreate2 (loc, name, filetype, space, H5P_DEFAULT, dcpl,
      H5P_DEFAULT);
  gboolean ok = ds >= 0 && (n == 0 ||
      H5Dwrite (ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);

  if (ds >= 0)
    H5Dclose (ds);
  H5Sclose (space);
  return ok;
}

static gboolean
write_dataset (hid_t loc, const gchar * name, hid_t filetype, hid_t memtype,
    hsize_t n, gconstpointer v)
{
  return write_dataset_full (loc, name, filetype, memtype, n, v, NULL,
      H5P_DEFAULT);
}

/* `source`, per sample: in a consolidated file extendable and chunked
 * like the first input's, as the writer makes it. */
static gboolean
write_source_rows (Combine * c, const gint32 * src)
{
  hsize_t unlimited = H5S_UNLIMITED;
  hid_t ds0, dcpl0, dcpl;
  gboolean ok;

  if (!c->real)
    return write_dataset (c->out, "source", H5T_STD_I32LE,
        H5T_NATIVE_INT32, c->rows, src);
  ds0 = H5Dopen2 (c->in[0].file, "source", H5P_DEFAULT);
  dcpl0 = ds0 < 0 ? -1 : H5Dget_create_plist (ds0);
  dcpl = dcpl0 < 0 ? -1 : op_h5_real_dcpl (dcpl0, H5T_STD_I32LE, 1, &c->rows);
  ok = dcpl >= 0 && write_dataset_full (c->out, "source", H5T_STD_I32LE,
      H5T_NATIVE_INT32, c->rows, src, &unlimited, dcpl);
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (dcpl0 >= 0)
    H5Pclose (dcpl0);
  if (ds0 >= 0)
    H5Dclose (ds0);
  return ok;
}

/* `source` remapped into the merged table, and the table itself. */
static gboolean
write_sources (Combine * c, GError ** error)
{
  gint32 *src = g_new (gint32, MAX (c->rows, 1));
  hid_t str = H5Tcopy (H5T_C_S1);
  hsize_t at = 0;
  gboolean ok = TRUE;
  guint i;

  H5Tset_size (str, H5T_VARIABLE);
  H5Tset_cset (str, H5T_CSET_UTF8);
  for (i = 0; ok && i < c->n; i++) {
    Input *in = &c->in[i];
    hssize_t n, r;
    gint32 *v = read_numbers (in->file, "source", FALSE, H5T_NATIVE_INT32,
        &n);

    if (!v || (hsize_t) n != in->rows) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "\"%s\" has no \"source\" for each of its %" G_GUINT64_FORMAT
          " rows", in->path, (guint64) in->rows);
      ok = FALSE;
    }
    for (r = 0; ok && r < n; r++) {
      if (v[r] < 0 || (guint) v[r] >= in->n_sources) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "Row %" G_GINT64_FORMAT " of \"%s\" names source %d, the file "
            "has %u sources", (gint64) r, in->path, v[r], in->n_sources);
        ok = FALSE;
      } else
        src[at + r] = in->map[v[r]];
    }
    g_free (v);
    at += in->rows;
  }
  if (ok && !(write_source_rows (c, src) &&
          write_dataset (c->out, "sources", str, str, c->names->len,
              c->names->pdata) &&
          write_dataset (c->out, "source_width", H5T_STD_I32LE,
              H5T_NATIVE_INT32, c->width->len, c->width->data) &&
          write_dataset (c->out, "source_height", H5T_STD_I32LE,
              H5T_NATIVE_INT32, c->height->len, c->height->data)))
    ok = h5_error (error, "write the sources table for", c->in[0].path);
  H5Tclose (str);
  g_free (src);
  return ok;
}

static herr_t
collect_name (hid_t loc, const char *name, const H5L_info_t * info, void *data)
{
  g_ptr_array_add (data, g_strdup (name));
  return 0;
}

/* `/attributes/<column>`: one value per merged source, NaN where no input
 * has it; two inputs giving one source different values is an error. */
static gboolean
write_attribute_columns (Combine * c, GError ** error)
{
  GPtrArray *columns = g_ptr_array_new_with_free_func (g_free);
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_free);
  hid_t group = -1;
  gboolean ok = TRUE;
  guint i, j, s;

  for (i = 0; ok && i < c->n; i++) {
    Input *in = &c->in[i];
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    hid_t g;

    if (H5Lexists (in->file, "attributes", H5P_DEFAULT) <= 0) {
      g_ptr_array_unref (names);
      continue;
    }
    g = H5Gopen2 (in->file, "attributes", H5P_DEFAULT);
    ok = g >= 0 && H5Literate (g, H5_INDEX_NAME, H5_ITER_INC, NULL,
        collect_name, names) >= 0;
    for (j = 0; ok && j < names->len; j++) {
      const gchar *col = names->pdata[j];
      hssize_t n;
      gdouble *v = read_numbers (g, col, FALSE, H5T_NATIVE_DOUBLE, &n);
      gdouble *merged = g_hash_table_lookup (values, col);

      if (!v || n != in->n_sources) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "\"/attributes/%s\" of \"%s\" is not one number per source",
            col, in->path);
        ok = FALSE;
      }
      if (ok && !merged) {
        merged = g_new (gdouble, MAX (c->names->len, 1));
        for (s = 0; s < c->names->len; s++)
          merged[s] = NAN;
        g_ptr_array_add (columns, g_strdup (col));
        g_hash_table_insert (values, columns->pdata[columns->len - 1], merged);
      }
      for (s = 0; ok && s < in->n_sources; s++) {
        gdouble *m = &merged[in->map[s]];

        if (!isnan (*m) && !isnan (v[s]) && *m != v[s]) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
              "\"/attributes/%s\" of source \"%s\" is %g in \"%s\" but %g "
              "in an earlier input", col, in->sources[s], v[s], in->path, *m);
          ok = FALSE;
        } else if (!isnan (v[s]))
          *m = v[s];
      }
      g_free (v);
    }
    if (!ok && error && !*error)
      h5_error (error, "read the attributes of", in->path);
    if (g >= 0)
      H5Gclose (g);
    g_ptr_array_unref (names);
  }
  if (ok && columns->len) {
    group = H5Gcreate2 (c->out, "attributes", H5P_DEFAULT, H5P_DEFAULT,
        H5P_DEFAULT);
    ok = group >= 0;
    for (j = 0; ok && j < columns->len; j++)
      ok = write_dataset (group, columns->pdata[j], H5T_IEEE_F64LE,
          H5T_NATIVE_DOUBLE, c->names->len,
          g_hash_table_lookup (values, columns->pdata[j]));
    if (!ok)
      h5_error (error, "write the attributes for", c->in[0].path);
  }
  if (group >= 0)
    H5Gclose (group);
  g_hash_table_unref (values);
  g_ptr_array_unref (columns);
  return ok;
}

/* The inputs' paths, as the virtual datasets name them. */
static gboolean
write_inputs_attr (Combine * c)
{
  const gchar **rel = g_new (const gchar *, c->n);
  hid_t t = H5Tcopy (H5T_C_S1), space, attr;
  hsize_t n = c->n;
  gboolean ok;
  guint i;

  for (i = 0; i < c->n; i++)
    rel[i] = c->in[i].rel;
  H5Tset_size (t, H5T_VARIABLE);
  H5Tset_cset (t, H5T_CSET_UTF8);
  space = H5Screate_simple (1, &n, NULL);
  attr = H5Acreate2 (c->out, "combined_from", t, space, H5P_DEFAULT,
      H5P_DEFAULT);
  ok = attr >= 0 && H5Awrite (attr, t, rel) >= 0;
  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (t);
  g_free (rel);
  return ok;
}

static gboolean
combine (Combine * c, const gchar * partial, GError ** error)
{
  hid_t fapl;
  gboolean ok = TRUE;
  guint i, d;

  for (i = 1; ok && i < c->n; i++) {
    ok = same_skeleton (c, i, error) && same_pixel_format (c, i, error);
    if (ok && c->in[i].crops != c->in[0].crops) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "\"%s\" holds %s, \"%s\" holds %s", c->in[i].path,
          c->in[i].crops ? "crops" : "whole frames", c->in[0].path,
          c->in[0].crops ? "crops" : "whole frames");
      ok = FALSE;
    }
  }
  if (ok)
    ok = merge_sources (c, error);
  if (!ok)
    return FALSE;
  fapl = op_h5_file_access_new ();
  c->out = H5Fcreate (partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose (fapl);
  if (c->out < 0)
    return h5_error (error, "create", partial);
  /* the views' mappings (or the copied rows: as large as the inputs) and
   * the tables, before libhdf5 writes them */
  if (!op_h5_file_reserve (c->out, 256 * 1024 + (guint64) c->n * 8192 +
          c->names->len * 128 + (c->real ? c->in_bytes : 0), partial, error)) {
    op_h5_file_drop (c->out);
    return FALSE;
  }
  for (d = 0; ok && d < G_N_ELEMENTS (rows_ds); d++)
    if ((c->in[0].crops || !rows_ds[d].crops_only) &&
        (!rows_ds[d].optional || all_have (c, rows_ds[d].name)))
      ok = make_rows (c, d, error);
  ok = ok && write_sources (c, error) && write_attribute_columns (c, error);
  /* a consolidated file names no inputs: they are deleted after it */
  if (ok && !(copy_attrs (c->in[0].file, c->out, "combined_from") &&
          (c->real || write_inputs_attr (c))))
    ok = h5_error (error, "write the attributes of", partial);
  if (!ok)
    op_h5_file_drop (c->out);
  else if (!op_h5_file_commit (c->out))
    ok = h5_error (error, "close", partial);
  c->out = -1;
  return ok;
}

static gboolean
combine_into (const gchar * out_path, const gchar * const *inputs,
    gboolean real, GError ** error)
{
  Combine c = { 0 };
  gchar *dir = g_path_get_dirname (out_path);
  gchar *partial = g_strconcat (out_path, ".partial", NULL);
  gboolean ok = TRUE;
  guint i;
  gint fd;

  c.n = g_strv_length ((gchar **) inputs);
  if (c.n == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Nothing to combine into \"%s\"", out_path);
    ok = FALSE;
  }
  c.in = g_new0 (Input, MAX (c.n, 1));
  c.names = g_ptr_array_new ();
  c.width = g_array_new (FALSE, FALSE, sizeof (gint32));
  c.height = g_array_new (FALSE, FALSE, sizeof (gint32));
  c.ids = g_hash_table_new (g_str_hash, g_str_equal);
  c.real = real;
  for (i = 0; ok && i < c.n; i++) {
    GStatBuf sb;

    c.in[i].path = inputs[i];
    ok = input_open (&c.in[i], dir, error);
    c.rows += c.in[i].rows;
    c.in_bytes += g_stat (inputs[i], &sb) == 0 ? (guint64) sb.st_size : 0;
  }
  ok = ok && combine (&c, partial, error);
  for (i = 0; i < c.n; i++)
    input_clear (&c.in[i]);
  if (ok) {
    fd = open (partial, O_RDWR | O_CLOEXEC);
    ok = fd >= 0 && op_h5_release_reserve (fd) && fsync (fd) == 0;
    if (fd >= 0)
      close (fd);
    if (!ok || g_rename (partial, out_path) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "Could not sync and rename \"%s\": %s", partial, g_strerror (errno));
      ok = FALSE;
    }
    ok = ok && op_batch_sync_dir (dir, error);
  }
  if (!ok)
    g_unlink (partial);
  g_hash_table_unref (c.ids);
  g_array_unref (c.width);
  g_array_unref (c.height);
  g_ptr_array_unref (c.names);
  g_free (c.in);
  g_free (partial);
  g_free (dir);
  return ok;
}

static gboolean
combine_with_lock (const gchar * out_path, const gchar * const *inputs,
    gboolean real, GError ** error)
{
  gboolean ok;

  op_h5_lock ();
  ok = combine_into (out_path, inputs, real, error);
  op_h5_unlock ();
  return ok;
}

/**
 * op_h5_combine_locked:
 * @out_path: the file to write (replaced atomically)
 * @inputs: NULL-terminated list of complete layout-v2 files, in row order
 * @error: where to put an error naming the file at fault
 *
 * op_h5_combine() for a caller that holds op_h5_lock() already.
 */
gboolean
op_h5_combine_locked (const gchar * out_path, const gchar * const *inputs,
    GError ** error)
{
  return combine_into (out_path, inputs, FALSE, error);
}

/**
 * op_h5_consolidate_locked:
 * @out_path: the file to write (replaced atomically)
 * @inputs: NULL-terminated list of complete layout-v2 files, in row order
 * @error: where to put an error naming the file at fault
 *
 * Writes @out_path as op_h5_combine() does, but self-contained: every
 * per-sample dataset is a real dataset holding the inputs' rows (copied
 * chunk by chunk where the layouts allow, h5consolidate.c), with the
 * first input's chunking, filters, fill values and attributes, and no
 * `combined_from` attribute. Disk space for a copy of the inputs is
 * reserved first: on a full disk nothing is written. Needs op_h5_lock().
 *
 * Returns: TRUE on success; on failure @out_path is left as it was.
 */
gboolean
op_h5_consolidate_locked (const gchar * out_path,
    const gchar * const *inputs, GError ** error)
{
  return combine_into (out_path, inputs, TRUE, error);
}

/**
 * op_h5_combine:
 * @out_path: the file to write (replaced atomically)
 * @inputs: NULL-terminated list of complete layout-v2 files, in row order
 * @error: where to put an error naming the file at fault
 *
 * Writes @out_path as one layout-v2 file whose rows are the inputs' rows
 * in order (virtual datasets; see the top of this file). Takes the
 * process-wide HDF5 lock.
 *
 * Returns: TRUE on success; on failure @out_path is left as it was.
 */
gboolean
op_h5_combine (const gchar * out_path, const gchar * const *inputs,
    GError ** error)
{
  return combine_with_lock (out_path, inputs, FALSE, error);
}

/**
 * op_h5_consolidate:
 *
 * op_h5_consolidate_locked(), taking the process-wide HDF5 lock.
 */
gboolean
op_h5_consolidate (const gchar * out_path, const gchar * const *inputs,
    GError ** error)
{
  return combine_with_lock (out_path, inputs, TRUE, error);
}
