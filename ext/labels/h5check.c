/* onepass: checks of HDF5 metadata that libhdf5 1.10 trusts.
 *
 * libhdf5 decodes a dataset's datatype, dataspace and layout when it opens
 * it, but checks little of them, and the read then follows them. A damaged
 * file can make the read copy past a buffer (a compound member whose offset
 * lies beyond the row) or follow a variable-length string into a global
 * heap collection whose object sizes are garbage (a crash in H5HG_read, an
 * endless loop on an object of size 0). bench/mutate_labels.py found these;
 * docs/labelreaders.md ("Damaged files") lists what is checked and what is
 * left to the child-process isolation.
 *
 * Only metadata is read: the types, extent and layout, and for
 * variable-length strings their 16-byte heap references (through a
 * conversion that keeps them as stored) and the heap collections they point
 * to, which the read itself would load.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5check.h"

#include "oplabels.h"
#include <string.h>
#include <unistd.h>

/* SLEAP arrays have at most 4 dimensions */
#define MAX_RANK 8
#define MAX_MEMBERS 1024
#define MAX_DEPTH 8
/* HDF5 stores a chunk's byte size in 32 bits */
#define MAX_CHUNK_BYTES G_MAXUINT32
/* a float's exponent is read into a 64-bit integer (H5T__bit_get_d) */
#define MAX_EXPONENT_BITS 64
/* SLEAP tables have a few hundred chunks (2048 for 7M points); the check
 * is quadratic in them (see check_chunks) */
#define MAX_CHECKED_CHUNKS 16384

#define CORRUPT(...) g_set_error (error, OP_LABELS_ERROR, \
    OP_LABELS_ERROR_CORRUPT, __VA_ARGS__)

static gboolean check_type (hid_t type, const gchar * what, guint depth,
    GError ** error);

/* precision, offset and float fields inside the value's bits */
static gboolean
check_atom (hid_t type, H5T_class_t cls, gsize size, const gchar * what,
    GError ** error)
{
  gsize bits = size * 8, prec = H5Tget_precision (type);
  gsize off = H5Tget_offset (type);
  size_t spos, epos, esize, mpos, msize;

  if (size > 16 || prec == 0 || prec > bits || off > bits - prec) {
    CORRUPT ("%s: its %" G_GSIZE_FORMAT "-byte number type claims %"
        G_GSIZE_FORMAT " bits at bit %" G_GSIZE_FORMAT, what, size, prec, off);
    return FALSE;
  }
  if (cls != H5T_FLOAT)
    return TRUE;
  if (H5Tget_fields (type, &spos, &epos, &esize, &mpos, &msize) < 0
      || spos >= bits || esize == 0 || esize > MAX_EXPONENT_BITS
      || epos > bits - esize || msize == 0 || mpos > bits - msize) {
    CORRUPT ("%s: its float type has impossible bit fields", what);
    return FALSE;
  }
  return TRUE;
}

/* every member inside the row, each of a sane type */
static gboolean
check_compound (hid_t type, gsize size, const gchar * what, guint depth,
    GError ** error)
{
  gint n = H5Tget_nmembers (type), i;
  gboolean ok = TRUE;

  if (n < 1 || n > MAX_MEMBERS) {
    CORRUPT ("%s: its compound type has %d members", what, n);
    return FALSE;
  }
  for (i = 0; i < n && ok; i++) {
    gsize off = H5Tget_member_offset (type, i);
    hid_t mt = H5Tget_member_type (type, i);
    gsize ms = mt >= 0 ? H5Tget_size (mt) : 0;

    if (ms == 0 || off > size || ms > size - off) {
      gchar *name = H5Tget_member_name (type, i);

      CORRUPT ("%s: compound member %d (\"%s\") claims bytes %" G_GSIZE_FORMAT
          "..%" G_GSIZE_FORMAT " of a %" G_GSIZE_FORMAT "-byte row", what, i,
          name ? name : "?", off, off + ms, size);
      H5free_memory (name);
      ok = FALSE;
    } else {
      ok = check_type (mt, what, depth + 1, error);
    }
    if (mt >= 0)
      H5Tclose (mt);
  }
  return ok;
}

static gboolean
check_array (hid_t type, gsize size, const gchar * what, guint depth,
    GError ** error)
{
  gint rank = H5Tget_array_ndims (type), i;
  hsize_t dims[H5S_MAX_RANK];
  hid_t base;
  guint64 total;
  gboolean ok;

  if (rank < 1 || rank > MAX_RANK || H5Tget_array_dims2 (type, dims) < 0) {
    CORRUPT ("%s: its array type has %d dimensions", what, rank);
    return FALSE;
  }
  base = H5Tget_super (type);
  total = base >= 0 ? H5Tget_size (base) : 0;
  for (i = 0; i < rank && total; i++)
    total = dims[i] && total <= G_MAXUINT64 / dims[i] ? total * dims[i] : 0;
  ok = total == size;
  if (!ok)
    CORRUPT ("%s: its array type's size does not match its dimensions", what);
  else
    ok = check_type (base, what, depth + 1, error);
  if (base >= 0)
    H5Tclose (base);
  return ok;
}

/* enums and variable-length sequences: their base type */
static gboolean
check_super (hid_t type, const gchar * what, guint depth, GError ** error)
{
  hid_t base = H5Tget_super (type);
  gboolean ok;

  if (base < 0) {
    CORRUPT ("%s: its datatype has no readable base type", what);
    return FALSE;
  }
  ok = check_type (base, what, depth + 1, error);
  H5Tclose (base);
  return ok;
}

/* A variable-length string is a sequence of 1-byte characters: the read
 * allocates length x the base's size, so a damaged base size of 3 GB
 * makes it clear gigabytes for a 6-byte name. */
static gboolean
check_string_base (hid_t type, const gchar * what, GError ** error)
{
  hid_t base = H5Tget_super (type);
  gsize size = base >= 0 ? H5Tget_size (base) : 0;

  if (base >= 0)
    H5Tclose (base);
  H5Eclear2 (H5E_DEFAULT);
  if (size == 1)
    return TRUE;
  CORRUPT ("%s: its variable-length strings have characters of %"
      G_GSIZE_FORMAT " bytes", what, size);
  return FALSE;
}

static gboolean
check_type (hid_t type, const gchar * what, guint depth, GError ** error)
{
  H5T_class_t cls = type >= 0 ? H5Tget_class (type) : H5T_NO_CLASS;
  gsize size = cls != H5T_NO_CLASS ? H5Tget_size (type) : 0;

  if (depth > MAX_DEPTH) {
    CORRUPT ("%s: its datatype nests more than %d levels", what, MAX_DEPTH);
    return FALSE;
  }
  if (cls == H5T_NO_CLASS || size == 0) {
    CORRUPT ("%s: its datatype is unreadable or of size 0", what);
    return FALSE;
  }
  switch (cls) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_BITFIELD:
      return check_atom (type, cls, size, what, error);
    case H5T_COMPOUND:
      return check_compound (type, size, what, depth, error);
    case H5T_ARRAY:
      return check_array (type, size, what, depth, error);
    case H5T_ENUM:
    case H5T_VLEN:
      return check_super (type, what, depth, error);
    case H5T_STRING:
      return H5Tis_variable_str (type) <= 0
          || check_string_base (type, what, error);
    default:
      return TRUE;
  }
}

/* rank, maximum sizes, and a byte count that fits in 64 bits */
static gboolean
check_space (hid_t space, gsize type_size, const gchar * what,
    gint * rank, hsize_t * dims, guint64 * n_bytes, GError ** error)
{
  H5S_class_t cls = space >= 0 ? H5Sget_simple_extent_type (space) :
      H5S_NO_CLASS;
  hsize_t maxdims[MAX_RANK];
  guint64 n = type_size;
  gint i;

  *rank = 0;
  *n_bytes = 0;
  if (cls == H5S_NULL)
    return TRUE;
  *rank = cls == H5S_SCALAR || cls == H5S_SIMPLE ?
      H5Sget_simple_extent_ndims (space) : -1;
  if (*rank < 0 || *rank > MAX_RANK) {
    CORRUPT ("%s: its dataspace has %d dimensions (onepass reads at most %d)",
        what, *rank, MAX_RANK);
    return FALSE;
  }
  H5Sget_simple_extent_dims (space, dims, maxdims);
  for (i = 0; i < *rank; i++) {
    if (maxdims[i] != H5S_UNLIMITED && maxdims[i] < dims[i]) {
      CORRUPT ("%s: dimension %d holds %" G_GUINT64_FORMAT " entries, more "
          "than its maximum %" G_GUINT64_FORMAT, what, i, (guint64) dims[i],
          (guint64) maxdims[i]);
      return FALSE;
    }
    if (dims[i] && n > G_MAXUINT64 / dims[i]) {
      CORRUPT ("%s: its dimensions hold more than 2^64 bytes", what);
      return FALSE;
    }
    n *= dims[i];
  }
  *n_bytes = n;
  return TRUE;
}

/* What the file layer tells: libhdf5's own descriptor when the driver is
 * sec2 (the default, always ours), the size and the address fields. */
typedef struct
{
  gint fd;
  guint64 eof;
  guint64 base;
  gsize sizeof_addr;
  gsize sizeof_size;
} FileInfo;

static gboolean
get_file_info (hid_t obj, FileInfo * fi)
{
  hid_t file = H5Iget_file_id (obj);
  hid_t fapl = file >= 0 ? H5Fget_access_plist (file) : -1;
  hid_t fcpl = file >= 0 ? H5Fget_create_plist (file) : -1;
  gint *handle = NULL;
  hsize_t eof = 0, ub = 0;
  gboolean ok = fapl >= 0 && fcpl >= 0 && H5Pget_driver (fapl) == H5FD_SEC2
      && H5Fget_vfd_handle (file, H5P_DEFAULT, (void **) &handle) >= 0
      && handle && H5Fget_filesize (file, &eof) >= 0
      && H5Pget_userblock (fcpl, &ub) >= 0
      && H5Pget_sizes (fcpl, &fi->sizeof_addr, &fi->sizeof_size) >= 0
      && fi->sizeof_addr <= 8 && fi->sizeof_size <= 8;

  if (ok) {
    fi->fd = *handle;
    fi->eof = eof;
    fi->base = ub;
  }
  if (fcpl >= 0)
    H5Pclose (fcpl);
  if (fapl >= 0)
    H5Pclose (fapl);
  if (file >= 0)
    H5Fclose (file);
  H5Eclear2 (H5E_DEFAULT);
  return ok;
}

static guint64
get_le (const guint8 * p, gsize n)
{
  guint64 v = 0;

  while (n--)
    v = (v << 8) | p[n];
  return v;
}

/* @n bytes at file offset @off, or NULL when they pass the end of file */
static guint8 *
read_bytes (const FileInfo * fi, guint64 off, guint64 n)
{
  guint8 *buf;

  if (off > fi->eof || n > fi->eof - off || n > G_MAXSIZE)
    return NULL;
  buf = g_try_malloc (MAX (n, 1));
  if (buf && pread (fi->fd, buf, n, off) != (gssize) n)
    g_clear_pointer (&buf, g_free);
  return buf;
}

/* Reads the collection at @addr as H5HG__cache_heap_deserialize does and
 * records each object's size in @objs (index -> size). Refuses what makes
 * libhdf5 overrun the collection or loop: an object passing its end, a
 * free-space object smaller than its own header. */
static gboolean
load_collection (const FileInfo * fi, guint64 addr, GHashTable * objs,
    const gchar * what, GError ** error)
{
  gsize head = 8 + fi->sizeof_size, ohead = 8 + fi->sizeof_size;
  /* no wrap-around: an address past the file reads nothing */
  guint64 off = addr < fi->eof ? fi->base + addr : G_MAXUINT64;
  guint8 *h = read_bytes (fi, off, head), *buf = NULL;
  guint64 size = 0, p;
  gboolean ok = FALSE;

  if (h == NULL || memcmp (h, "GCOL", 4) != 0 || h[4] != 1) {
    CORRUPT ("%s: a string points to byte %" G_GUINT64_FORMAT ", which "
        "holds no global heap collection", what, addr);
    goto done;
  }
  size = get_le (h + 8, fi->sizeof_size);
  buf = size >= head ? read_bytes (fi, off, size) : NULL;
  if (buf == NULL) {
    CORRUPT ("%s: the global heap collection at byte %" G_GUINT64_FORMAT
        " claims %" G_GUINT64_FORMAT " bytes, %s", what, addr, size,
        size < head ? "fewer than its header" : "past the end of the file");
    goto done;
  }
  for (p = head; p + ohead <= size;) {
    guint idx = get_le (buf + p, 2);
    guint64 osize = get_le (buf + p + 8, fi->sizeof_size);
    guint64 need = osize;

    if (idx > 0)
      need = osize > size ? G_MAXUINT64 : ohead + ((osize + 7) & ~7);
    if (need < ohead || need > size - p) {
      CORRUPT ("%s: the global heap collection at byte %" G_GUINT64_FORMAT
          " is damaged (object %u at byte %" G_GUINT64_FORMAT " claims %"
          G_GUINT64_FORMAT " bytes of %" G_GUINT64_FORMAT ")", what, addr,
          idx, p, osize, size);
      goto done;
    }
    if (idx > 0)
      g_hash_table_insert (objs, GUINT_TO_POINTER (idx),
          g_memdup2 (&osize, sizeof (osize)));
    p += need;
  }
  ok = TRUE;

done:
  g_free (h);
  g_free (buf);
  return ok;
}

/* One stored string reference: length, collection address, object index.
 * The read copies the whole object into a buffer of the stated length. */
static gboolean
check_string_ref (const FileInfo * fi, const guint8 * ref, guint64 i,
    GHashTable * heaps, const gchar * what, GError ** error)
{
  guint64 len = get_le (ref, 4);
  guint64 addr = get_le (ref + 4, fi->sizeof_addr);
  guint idx = get_le (ref + 4 + fi->sizeof_addr, 4);
  GHashTable *objs;
  guint64 *osize;

  if (addr == 0 && len == 0)
    return TRUE;
  objs = g_hash_table_lookup (heaps, &addr);
  if (objs == NULL) {
    objs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
    g_hash_table_insert (heaps, g_memdup2 (&addr, sizeof (addr)), objs);
    if (!load_collection (fi, addr, objs, what, error))
      return FALSE;
  }
  osize = g_hash_table_lookup (objs, GUINT_TO_POINTER (idx));
  if (osize == NULL || *osize != len) {
    CORRUPT ("%s: string %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
        " bytes) points to object %u of the global heap collection at byte %"
        G_GUINT64_FORMAT ", which %s", what, i, len, idx, addr,
        osize ? "has another size" : "does not hold it");
    return FALSE;
  }
  return TRUE;
}

/* A conversion from variable-length strings to an opaque type of the same
 * size that converts nothing: reading through it gives the references as
 * stored, so they can be checked before libhdf5 follows them. Registered
 * once, for string -> opaque pairs tagged REFS_TAG only. */
#define REFS_TAG "onepass: stored variable-length string references"

static herr_t
keep_refs (hid_t src, hid_t dst, H5T_cdata_t * cdata, size_t n,
    size_t buf_stride, size_t bkg_stride, void *buf, void *bkg, hid_t dxpl)
{
  gchar *tag;
  gboolean ours;

  if (cdata->command != H5T_CONV_INIT)
    return 0;
  tag = H5Tget_class (dst) == H5T_OPAQUE ? H5Tget_tag (dst) : NULL;
  ours = tag && strcmp (tag, REFS_TAG) == 0 && H5Tis_variable_str (src) > 0
      && H5Tget_size (src) == H5Tget_size (dst);
  H5free_memory (tag);
  cdata->need_bkg = H5T_BKG_NO;
  return ours ? 0 : -1;
}

/* the stored references of @obj (an attribute when @is_attr), or NULL */
static guint8 *
read_refs (hid_t obj, gboolean is_attr, guint64 n, gsize ref)
{
  static gboolean registered;
  hid_t refs = H5Tcreate (H5T_OPAQUE, ref), vstr = H5Tcopy (H5T_C_S1);
  guint8 *buf = n <= G_MAXSIZE / ref ? g_try_malloc (n * ref) : NULL;
  herr_t rc = -1;

  H5Tset_tag (refs, REFS_TAG);
  H5Tset_size (vstr, H5T_VARIABLE);
  if (!registered)
    registered = H5Tregister (H5T_PERS_SOFT, "onepass-keep-refs", vstr, refs,
        keep_refs) >= 0;
  if (buf && registered)
    rc = is_attr ? H5Aread (obj, refs, buf) :
        H5Dread (obj, refs, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  if (rc < 0)
    g_clear_pointer (&buf, g_free);
  H5Tclose (vstr);
  H5Tclose (refs);
  H5Eclear2 (H5E_DEFAULT);
  return buf;
}

/* Every reference of a variable-length string dataset or attribute must
 * name an object of a sound heap collection, of the stated length. When
 * the references cannot be read this way, libhdf5's own read says why. */
static gboolean
check_string_heap (hid_t obj, gboolean is_attr, guint64 n,
    const gchar * what, GError ** error)
{
  FileInfo fi;
  GHashTable *heaps;
  guint8 *buf;
  gboolean ok = TRUE;
  guint64 i;

  if (n == 0 || !get_file_info (obj, &fi)
      || !(buf = read_refs (obj, is_attr, n, 8 + fi.sizeof_addr)))
    return TRUE;
  heaps = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      (GDestroyNotify) g_hash_table_unref);
  for (i = 0; i < n && ok; i++)
    ok = check_string_ref (&fi, buf + i * (8 + fi.sizeof_addr), i, heaps,
        what, error);
  g_free (buf);
  g_hash_table_unref (heaps);
  return ok;
}

/* Each stored chunk must lie inside the file; one stored without its
 * filters (no pipeline, or a filter mask skipping them all) must hold a
 * whole chunk, since libhdf5 reads only its stored bytes into a whole
 * chunk's buffer (garbage after them) or copies a whole chunk out of them.
 * The chunks are visited by their index in the chunk index:
 * H5Dget_chunk_info_by_coord walks the whole index on every call in
 * libhdf5 1.10 (a third of a 270k-frame file's load), H5Dget_chunk_info
 * only up to the chunk asked for (0.03 s for 2048 chunks). Bounded: past
 * MAX_CHECKED_CHUNKS the chunks are left to libhdf5. */
static gboolean
check_chunks (hid_t dset, hid_t dcpl, gint rank, guint64 chunk_bytes,
    const gchar * what, GError ** error)
{
  gint n_filters = H5Pget_nfilters (dcpl), i;
  guint all = n_filters >= 32 ? G_MAXUINT : (1u << MAX (n_filters, 0)) - 1;
  hsize_t at[MAX_RANK], size, n = 0, c;
  hid_t space = H5Dget_space (dset);
  gboolean ok = TRUE;
  unsigned mask;
  haddr_t addr;
  FileInfo fi;

  if (space < 0)
    return TRUE;
  if (H5Dget_num_chunks (dset, space, &n) < 0 || n > MAX_CHECKED_CHUNKS
      || !get_file_info (dset, &fi))
    n = 0;
  for (c = 0; c < n && ok; c++) {
    gboolean raw;

    if (H5Dget_chunk_info (dset, space, c, at, &mask, &addr, &size) < 0
        || addr == HADDR_UNDEF)
      continue;
    raw = n_filters <= 0 || (mask & all) == all;
    if (size == 0 || addr > fi.eof || size > fi.eof - addr
        || (raw && size < chunk_bytes)) {
      GString *where = g_string_new (NULL);

      for (i = 0; i < rank; i++)
        g_string_append_printf (where, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
            (guint64) at[i]);
      CORRUPT ("%s: its chunk at (%s) is damaged (%" G_GUINT64_FORMAT
          " bytes%s at byte %" G_GUINT64_FORMAT " of a %" G_GUINT64_FORMAT
          "-byte file; a chunk is %" G_GUINT64_FORMAT " bytes)", what,
          where->str, (guint64) size, raw ? " stored unfiltered" : "",
          (guint64) addr, fi.eof, chunk_bytes);
      g_string_free (where, TRUE);
      ok = FALSE;
    }
  }
  H5Sclose (space);
  H5Eclear2 (H5E_DEFAULT);
  return ok;
}

/* chunk shape against the dataset; stored bytes against the file */
static gboolean
check_layout (hid_t dset, hid_t dcpl, gint rank, const hsize_t * dims,
    guint64 n_bytes, gsize type_size, const gchar * what, GError ** error)
{
  H5D_layout_t layout = H5Pget_layout (dcpl);
  hsize_t cdims[H5S_MAX_RANK];
  guint64 stored = H5Dget_storage_size (dset), bytes = type_size;
  FileInfo fi;
  haddr_t addr;
  gint crank, i;

  if (layout == H5D_CHUNKED) {
    crank = H5Pget_chunk (dcpl, H5S_MAX_RANK, cdims);
    if (crank != rank) {
      CORRUPT ("%s: its chunks have %d dimensions, the dataset %d", what,
          crank, rank);
      return FALSE;
    }
    for (i = 0; i < crank; i++) {
      if (cdims[i] == 0 || bytes > MAX_CHUNK_BYTES / cdims[i]) {
        CORRUPT ("%s: chunk dimension %d is %" G_GUINT64_FORMAT " (chunks "
            "must be 1 byte to 4 GiB)", what, i, (guint64) cdims[i]);
        return FALSE;
      }
      bytes *= cdims[i];
    }
    return check_chunks (dset, dcpl, rank, bytes, what, error);
  } else if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
    addr = layout == H5D_CONTIGUOUS ? H5Dget_offset (dset) : HADDR_UNDEF;
    /* nothing stored yet reads as fill values */
    if (stored && stored < n_bytes) {
      CORRUPT ("%s: it stores %" G_GUINT64_FORMAT " bytes for %"
          G_GUINT64_FORMAT " bytes of data", what, stored, n_bytes);
      return FALSE;
    }
    if (addr != HADDR_UNDEF && get_file_info (dset, &fi)
        && (addr > fi.eof || n_bytes > fi.eof - addr)) {
      CORRUPT ("%s: its %" G_GUINT64_FORMAT " bytes at byte %"
          G_GUINT64_FORMAT " pass the end of the file (%" G_GUINT64_FORMAT
          " bytes)", what, n_bytes, (guint64) addr, fi.eof);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * op_h5_check_dataset:
 *
 * Checks @dset's datatype (compound members inside the row, sane nested
 * and number types), dataspace (rank, maximum sizes, byte count), layout
 * (chunk rank and sizes, contiguous data inside the file) and, for
 * variable-length strings, the heap objects the strings point to.
 */
gboolean
op_h5_check_dataset (hid_t dset, const gchar * what, GError ** error)
{
  hid_t type = H5Dget_type (dset), space = H5Dget_space (dset);
  hid_t dcpl = H5Dget_create_plist (dset);
  hsize_t dims[MAX_RANK];
  guint64 n_bytes;
  gint rank;
  gboolean ok = type >= 0 && space >= 0 && dcpl >= 0;

  if (!ok)
    CORRUPT ("%s: its datatype, dataspace or layout is unreadable", what);
  ok = ok && check_type (type, what, 0, error)
      && check_space (space, H5Tget_size (type), what, &rank, dims, &n_bytes,
      error)
      && check_layout (dset, dcpl, rank, dims, n_bytes, H5Tget_size (type),
      what, error);
  if (ok && H5Tis_variable_str (type) > 0)
    ok = check_string_heap (dset, FALSE, n_bytes / H5Tget_size (type), what,
        error);
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (space >= 0)
    H5Sclose (space);
  if (type >= 0)
    H5Tclose (type);
  H5Eclear2 (H5E_DEFAULT);
  return ok;
}

/**
 * op_h5_check_attribute:
 *
 * Checks the attribute @name of @obj_name (@attr) as op_h5_check_dataset()
 * checks a dataset: type, extent, and the heap objects of variable-length
 * strings.
 */
gboolean
op_h5_check_attribute (hid_t attr, const gchar * obj_name, const gchar * name,
    GError ** error)
{
  gchar *what = g_strdup_printf ("%s attribute %s", obj_name, name);
  hid_t type = H5Aget_type (attr), space = H5Aget_space (attr);
  hsize_t dims[MAX_RANK];
  guint64 n_bytes, stored = H5Aget_storage_size (attr);
  gint rank;
  gboolean ok = type >= 0 && space >= 0;

  if (!ok)
    CORRUPT ("%s: its datatype or dataspace is unreadable", what);
  ok = ok && check_type (type, what, 0, error)
      && check_space (space, H5Tget_size (type), what, &rank, dims, &n_bytes,
      error);
  /* a variable-length string is smaller in memory than in the file */
  if (ok && stored < n_bytes && H5Tis_variable_str (type) <= 0
      && H5Tdetect_class (type, H5T_VLEN) <= 0) {
    CORRUPT ("%s: it stores %" G_GUINT64_FORMAT " bytes for %"
        G_GUINT64_FORMAT " bytes of data", what, stored, n_bytes);
    ok = FALSE;
  }
  if (ok && H5Tis_variable_str (type) > 0)
    ok = check_string_heap (attr, TRUE, n_bytes / H5Tget_size (type), what,
        error);
  if (space >= 0)
    H5Sclose (space);
  if (type >= 0)
    H5Tclose (type);
  H5Eclear2 (H5E_DEFAULT);
  g_free (what);
  return ok;
}
