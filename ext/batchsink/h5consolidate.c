/* batchsink: the rows of one HDF5 dataset copied into another, for the
 * self-contained file a complete run's shards are consolidated into
 * (op_h5_consolidate(), h5vds.c).
 *
 * Where the two datasets have the same chunk shape, filters and fill
 * value and the rows start on a chunk boundary of the destination, each
 * stored chunk is copied as it is on disk (H5Dread_chunk/H5Dwrite_chunk,
 * libhdf5 1.10.3+): no decompression, no recompression. Otherwise the
 * rows go through hyperslabs of at most BLOCK_BYTES (at least one row),
 * so memory stays bounded whatever the dataset's size.
 * Called with the HDF5 lock held.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5consolidate.h"

#include <string.h>

#define BLOCK_BYTES (8 << 20)
/* rows per chunk of a dataset whose source was not chunked */
#define CHUNK_BYTES (1 << 20)
#define MAX_RANK 4

/**
 * op_h5_real_dcpl:
 * @dcpl0: the creation properties of the first source's dataset
 * @type: the dataset's type
 * @dims: the destination's dimensions
 *
 * The creation properties of a real dataset holding what the sources
 * hold: the first source's (chunk shape, filters, fill value) when it is
 * chunked; else (contiguous, or itself a virtual dataset, whose mappings
 * must not be copied) chunks of about CHUNK_BYTES and its fill value.
 *
 * Returns: a property list for H5Pclose().
 */
hid_t
op_h5_real_dcpl (hid_t dcpl0, hid_t type, gint rank, const hsize_t * dims)
{
  H5D_fill_value_t fill_set = H5D_FILL_VALUE_DEFAULT;
  hsize_t chunk[MAX_RANK];
  guint8 fill[64];
  gsize row = H5Tget_size (type);
  hid_t dcpl;
  gint a;

  if (H5Pget_layout (dcpl0) == H5D_CHUNKED)
    return H5Pcopy (dcpl0);
  dcpl = H5Pcreate (H5P_DATASET_CREATE);
  for (a = 1; a < rank; a++) {
    chunk[a] = MAX (dims[a], 1);
    row *= chunk[a];
  }
  chunk[0] = CLAMP (CHUNK_BYTES / MAX (row, 1), 1, 1024);
  H5Pset_chunk (dcpl, rank, chunk);
  H5Pfill_value_defined (dcpl0, &fill_set);
  if (fill_set == H5D_FILL_VALUE_USER_DEFINED && H5Tget_size (type) <=
      sizeof (fill) && H5Pget_fill_value (dcpl0, type, fill) >= 0)
    H5Pset_fill_value (dcpl, type, fill);
  return dcpl;
}

static gboolean
same_filters (hid_t a, hid_t b)
{
  gint n = H5Pget_nfilters (a), i;

  if (n < 0 || n != H5Pget_nfilters (b))
    return FALSE;
  for (i = 0; i < n; i++) {
    guint fa, fb, va[8], vb[8];
    size_t na = G_N_ELEMENTS (va), nb = G_N_ELEMENTS (vb);
    H5Z_filter_t ia = H5Pget_filter2 (a, i, &fa, &na, va, 0, NULL, NULL);
    H5Z_filter_t ib = H5Pget_filter2 (b, i, &fb, &nb, vb, 0, NULL, NULL);

    if (ia < 0 || ia != ib || fa != fb || na != nb ||
        memcmp (va, vb, sizeof (guint) * MIN (na, G_N_ELEMENTS (va))) != 0)
      return FALSE;
  }
  return TRUE;
}

/* Unallocated chunks read as the fill value: it must be the same. */
static gboolean
same_fill (hid_t a, hid_t b, hid_t type)
{
  guint8 fa[64] = { 0 }, fb[64] = { 0 };
  gsize size = H5Tget_size (type);

  return size <= sizeof (fa) && H5Pget_fill_value (a, type, fa) >= 0 &&
      H5Pget_fill_value (b, type, fb) >= 0 && memcmp (fa, fb, size) == 0;
}

/* Whether @from's stored chunks can be written as they are into @to at
 * row @at: the same chunk shape, filters and fill value, @at on a chunk
 * boundary, and no stored chunk holding cells past @from's edge that
 * would be visible inside @to (a partial edge chunk is fine only where
 * @to ends too). */
static gboolean
chunks_fit (hid_t from, hid_t to, hsize_t at, gint rank,
    const hsize_t * din, const hsize_t * dout, hsize_t * chunk)
{
  hid_t pf = H5Dget_create_plist (from), pt = H5Dget_create_plist (to);
  hid_t type = H5Dget_type (from);
  hsize_t ct[MAX_RANK];
  gboolean ok = pf >= 0 && pt >= 0 && type >= 0 &&
      H5Pget_layout (pf) == H5D_CHUNKED && H5Pget_layout (pt) == H5D_CHUNKED &&
      H5Pget_chunk (pf, MAX_RANK, chunk) == rank &&
      H5Pget_chunk (pt, MAX_RANK, ct) == rank &&
      same_filters (pf, pt) && same_fill (pf, pt, type);
  gint a;

  for (a = 0; ok && a < rank; a++)
    ok = chunk[a] == ct[a] && (din[a] % chunk[a] == 0 ||
        (a == 0 ? at + din[0] == dout[0] : din[a] == dout[a]));
  ok = ok && at % chunk[0] == 0;
  if (type >= 0)
    H5Tclose (type);
  if (pt >= 0)
    H5Pclose (pt);
  if (pf >= 0)
    H5Pclose (pf);
  return ok;
}

/* the stored size of @from's chunk at @off, 0 if it was never written.
 * libhdf5 1.10's H5Dget_chunk_info_by_coord walks the whole chunk index
 * on every call (quadratic in chunks); H5Dget_chunk_storage_size looks
 * the chunk up, but fails alike for an unwritten chunk and a real error,
 * so it serves only when every chunk is stored (@all_stored: what
 * batchsink's own shards hold). */
static gboolean
stored_size (hid_t from, const hsize_t * off, gboolean all_stored,
    hsize_t * size)
{
  haddr_t addr;
  guint32 mask;

  if (all_stored)
    return H5Dget_chunk_storage_size (from, off, size) >= 0;
  if (H5Dget_chunk_info_by_coord (from, off, &mask, &addr, size) < 0)
    return FALSE;
  if (addr == HADDR_UNDEF)
    *size = 0;
  return TRUE;
}

/* Every stored chunk of @from, moved down by @at rows, as it is on disk;
 * chunks never written stay unwritten (both read as the same fill). */
static gboolean
copy_chunks (hid_t from, hid_t to, hsize_t at, gint rank,
    const hsize_t * din, const hsize_t * chunk)
{
  hsize_t n[MAX_RANK], off[MAX_RANK], total = 1, i, rest, size, room = 0;
  hsize_t n_stored = 0;
  hid_t space = H5Dget_space (from);
  guint8 *buf = NULL;
  gboolean ok = space >= 0, all_stored;
  guint32 mask;
  gint a;

  for (a = 0; a < rank; a++) {
    n[a] = (din[a] + chunk[a] - 1) / chunk[a];
    total *= n[a];
  }
  ok = ok && H5Dget_num_chunks (from, space, &n_stored) >= 0;
  if (space >= 0)
    H5Sclose (space);
  all_stored = n_stored == total;
  for (i = 0; ok && i < total; i++) {
    for (rest = i, a = rank - 1; a >= 0; a--) {
      off[a] = (rest % n[a]) * chunk[a];
      rest /= n[a];
    }
    if (!stored_size (from, off, all_stored, &size)) {
      ok = FALSE;
      break;
    }
    if (size == 0)
      continue;
    if (size > room) {
      room = size;
      buf = g_realloc (buf, room);
    }
    ok = H5Dread_chunk (from, H5P_DEFAULT, off, &mask, buf) >= 0;
    off[0] += at;
    ok = ok && H5Dwrite_chunk (to, H5P_DEFAULT, mask, off, size, buf) >= 0;
  }
  g_free (buf);
  return ok;
}

/* @from's rows into @to from row @at, BLOCK_BYTES (at least a row) at a
 * time, through libhdf5's filters. */
static gboolean
copy_slabs (hid_t from, hid_t to, hsize_t at, gint rank, const hsize_t * din)
{
  hid_t type = H5Dget_type (from);
  hsize_t start[MAX_RANK] = { 0 }, count[MAX_RANK], step, r;
  gsize row = type < 0 ? 0 : H5Tget_size (type);
  gboolean ok = type >= 0;
  guint8 *buf = NULL;
  gint a;

  for (a = 1; a < rank; a++)
    row *= din[a];
  step = MAX (BLOCK_BYTES / MAX (row, 1), 1);
  if (ok && row && din[0])
    buf = g_malloc (row * MIN (step, din[0]));
  for (r = 0; ok && buf && r < din[0]; r += step) {
    hid_t fs = H5Dget_space (from), ts = H5Dget_space (to), ms;

    memcpy (count, din, sizeof (hsize_t) * rank);
    count[0] = MIN (step, din[0] - r);
    ms = H5Screate_simple (rank, count, NULL);
    start[0] = r;
    ok = H5Sselect_hyperslab (fs, H5S_SELECT_SET, start, NULL, count,
        NULL) >= 0 && H5Dread (from, type, ms, fs, H5P_DEFAULT, buf) >= 0;
    start[0] = at + r;
    ok = ok && H5Sselect_hyperslab (ts, H5S_SELECT_SET, start, NULL, count,
        NULL) >= 0 && H5Dwrite (to, type, ms, ts, H5P_DEFAULT, buf) >= 0;
    H5Sclose (ms);
    H5Sclose (ts);
    H5Sclose (fs);
  }
  g_free (buf);
  if (type >= 0)
    H5Tclose (type);
  return ok;
}

/**
 * op_h5_copy_rows:
 * @from: the source dataset (any layout, virtual too)
 * @to: the destination, of @from's type and rank, already large enough:
 *   @from's rows go to rows @at.. of it; cells of @to past @from's extent
 *   on other axes are left to @to's fill value
 *
 * Returns: FALSE on a libhdf5 error (its error stack says which).
 */
gboolean
op_h5_copy_rows (hid_t from, hid_t to, hsize_t at)
{
  hsize_t din[MAX_RANK], dout[MAX_RANK], chunk[MAX_RANK];
  hid_t sf = H5Dget_space (from), st = H5Dget_space (to);
  gint rank = sf < 0 ? -1 : H5Sget_simple_extent_ndims (sf);
  gboolean ok = rank >= 1 && rank <= MAX_RANK && st >= 0 &&
      H5Sget_simple_extent_ndims (st) == rank;

  if (ok) {
    H5Sget_simple_extent_dims (sf, din, NULL);
    H5Sget_simple_extent_dims (st, dout, NULL);
  }
  if (sf >= 0)
    H5Sclose (sf);
  if (st >= 0)
    H5Sclose (st);
  if (!ok)
    return FALSE;
  if (chunks_fit (from, to, at, rank, din, dout, chunk))
    return copy_chunks (from, to, at, rank, din, chunk);
  g_debug ("copying %" G_GUINT64_FORMAT " rows through hyperslabs (chunks "
      "do not line up)", (guint64) din[0]);
  return copy_slabs (from, to, at, rank, din);
}
