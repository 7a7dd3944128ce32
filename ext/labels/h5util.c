/* onepass: small libhdf5 helpers shared by the SLEAP readers.
 *
 * Errors are OP_LABELS_ERROR_CORRUPT unless said otherwise, with a message
 * naming the object ("/frames: ...") and libhdf5's innermost complaint.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5util.h"

#include "h5check.h"

#include <glib/gstdio.h>
#include "oplabels.h"
#include <string.h>

/* gzip cannot expand more than about 1:1032, so a dataset claiming far more
 * bytes than it stores is damaged (and would make us allocate or loop for
 * nothing). */
#define MAX_EXPANSION 2048
#define SMALL_DATASET (64 * 1024 * 1024)

gboolean
op_h5_has_signature (const guint8 * head, gsize len)
{
  static const guint8 sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
  gsize off;

  /* a user block moves the superblock to 512, 1024, 2048, ... */
  for (off = 0; off + sizeof (sig) <= len; off = off ? off * 2 : 512)
    if (memcmp (head + off, sig, sizeof (sig)) == 0)
      return TRUE;
  return FALSE;
}

static void
set_h5_error (GError ** error, gint code, const gchar * what)
{
  gchar *why = op_h5_take_error ();

  g_set_error (error, OP_LABELS_ERROR, code, "%s: %s", what, why);
  g_free (why);
}

/* The last file HDF5 refused, so the probes and the load do not each
 * retry it: libhdf5 1.10.8 leaks an object header on some failed opens. */
static gchar *refused_path;
static gchar *refused_why;
static struct stat refused_stat;

static gboolean
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino
      && a->st_size == b->st_size && a->st_mtime == b->st_mtime;
}

hid_t
op_h5_open (const gchar * path, GError ** error)
{
  hid_t fapl;
  hid_t file;
  struct stat st;
  gboolean have_stat = g_stat (path, &st) == 0;

  if (have_stat && refused_path && g_strcmp0 (path, refused_path) == 0
      && same_file (&st, &refused_stat)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT, "%s",
        refused_why);
    return -1;
  }
  fapl = H5Pcreate (H5P_FILE_ACCESS);

  /* close every object with the file, so an early return cannot leak */
  H5Pset_fclose_degree (fapl, H5F_CLOSE_STRONG);
  file = H5Fopen (path, H5F_ACC_RDONLY, fapl);
  /* take the reason first: the next API call clears the error stack */
  if (file < 0) {
    gchar *why = op_h5_take_error ();

    g_free (refused_path);
    g_free (refused_why);
    refused_path = have_stat ? g_strdup (path) : NULL;
    refused_stat = st;
    refused_why = g_strdup_printf ("HDF5 cannot open the file (damaged or "
        "truncated?): %s", why);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT, "%s",
        refused_why);
    g_free (why);
  }
  H5Pclose (fapl);
  return file;
}

/* whether every component of @path exists (H5Lexists needs the parents) */
gboolean
op_h5_exists (hid_t loc, const gchar * path)
{
  gchar **parts = g_strsplit (path, "/", -1);
  GString *sofar = g_string_new (NULL);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; parts[i] && ok; i++) {
    if (*parts[i] == '\0')
      continue;
    if (sofar->len)
      g_string_append_c (sofar, '/');
    g_string_append (sofar, parts[i]);
    ok = H5Lexists (loc, sofar->str, H5P_DEFAULT) > 0;
  }
  if (ok && sofar->len)
    ok = H5Oexists_by_name (loc, sofar->str, H5P_DEFAULT) > 0;
  H5Eclear2 (H5E_DEFAULT);
  g_string_free (sofar, TRUE);
  g_strfreev (parts);
  return ok;
}

/* How an object is stored, for errors about layouts we do not read:
 * "a 2-D array (3x2) of 64-bit floats", "a scalar opaque value", ... */
static gchar *
describe_layout (hid_t type, hid_t space)
{
  static const struct
  {
    H5T_class_t cls;
    const gchar *one, *many;
  } names[] = {
    {H5T_INTEGER, "integer", "integers"},
    {H5T_FLOAT, "float", "floats"},
    {H5T_STRING, "string", "strings"},
    {H5T_OPAQUE, "opaque value", "opaque values"},
    {H5T_COMPOUND, "compound record", "compound records"},
    {H5T_ENUM, "enum", "enums"},
    {H5T_VLEN, "variable-length sequence", "variable-length sequences"},
    {H5T_ARRAY, "array-typed value", "array-typed values"},
    {H5T_REFERENCE, "reference", "references"},
  };
  GString *out = g_string_new (NULL);
  H5S_class_t scls = space >= 0 ? H5Sget_simple_extent_type (space) :
      H5S_NO_CLASS;
  gint rank = space >= 0 ? H5Sget_simple_extent_ndims (space) : -1;
  H5T_class_t cls = type >= 0 ? H5Tget_class (type) : H5T_NO_CLASS;
  gboolean plural = TRUE;
  const gchar *what = "values of an unknown type";
  hsize_t dims[H5S_MAX_RANK];
  guint i;

  if (scls == H5S_NULL) {
    g_string_append (out, "an empty (null dataspace) attribute of ");
  } else if (rank == 0) {
    g_string_append (out, "a scalar ");
    plural = FALSE;
  } else if (rank > 0 && rank <= H5S_MAX_RANK) {
    H5Sget_simple_extent_dims (space, dims, NULL);
    g_string_append_printf (out, "a %d-D array (", rank);
    for (i = 0; i < (guint) rank; i++)
      g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, i ? "x" : "",
          (guint64) dims[i]);
    g_string_append (out, ") of ");
  }
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].cls == cls)
      what = plural ? names[i].many : names[i].one;
  if (cls == H5T_STRING && H5Tis_variable_str (type) > 0)
    g_string_append (out, "variable-length ");
  else if (cls == H5T_STRING)
    g_string_append_printf (out, "%" G_GSIZE_FORMAT "-byte fixed-length ",
        H5Tget_size (type));
  else if (cls == H5T_INTEGER || cls == H5T_FLOAT)
    g_string_append_printf (out, "%" G_GSIZE_FORMAT "-bit ",
        H5Tget_size (type) * 8);
  g_string_append (out, what);
  if (cls == H5T_STRING)
    g_string_append (out, H5Tget_cset (type) == H5T_CSET_UTF8 ? " (UTF-8)" :
        " (ASCII)");
  H5Eclear2 (H5E_DEFAULT);
  return g_string_free (out, FALSE);
}

/* every string must be UTF-8: json-glib and the JSON we write need it */
static gboolean
check_utf8 (gchar ** v, gsize n, const gchar * what, GError ** error)
{
  gsize i;

  for (i = 0; i < n; i++) {
    if (!g_utf8_validate (v[i], -1, NULL)) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "%s: string %" G_GSIZE_FORMAT " is not UTF-8 text", what, i);
      return FALSE;
    }
  }
  return TRUE;
}

/* Reads @n strings of file type @ftype from an attribute (@attr >= 0) or a
 * dataset into a NULL-terminated vector. Handles fixed-length (any padding)
 * and variable-length strings, ASCII or UTF-8: the memory type takes the
 * file's character set, since HDF5 converts between sets only by failing. */
static gchar **
read_strings (hid_t attr, hid_t dset, hid_t ftype, hid_t space, gsize n,
    const gchar * what, GError ** error)
{
  gchar **out = NULL;
  hid_t mtype = H5Tcopy (H5T_C_S1);
  herr_t rc;
  gsize i;

  H5Tset_cset (mtype, H5Tget_cset (ftype));
  if (H5Tis_variable_str (ftype) > 0) {
    gchar **buf = g_new0 (gchar *, n);

    H5Tset_size (mtype, H5T_VARIABLE);
    rc = attr >= 0 ? H5Aread (attr, mtype, buf) :
        H5Dread (dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc >= 0) {
      out = g_new0 (gchar *, n + 1);
      for (i = 0; i < n; i++)
        out[i] = g_strdup (buf[i] ? buf[i] : "");
      H5Dvlen_reclaim (mtype, space, H5P_DEFAULT, buf);
    }
    g_free (buf);
  } else {
    gsize size = H5Tget_size (ftype);
    gchar *buf;

    if (size == 0 || n > G_MAXSIZE / size) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "%s: bad string size", what);
      H5Tclose (mtype);
      return NULL;
    }
    buf = g_try_malloc0 (n * size);
    if (buf == NULL) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "%s: %" G_GSIZE_FORMAT " strings do not fit in memory", what, n);
      H5Tclose (mtype);
      return NULL;
    }
    /* NULLPAD in memory: the file's strings need not be terminated */
    H5Tset_size (mtype, size);
    H5Tset_strpad (mtype, H5T_STR_NULLPAD);
    rc = attr >= 0 ? H5Aread (attr, mtype, buf) :
        H5Dread (dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc >= 0) {
      out = g_new0 (gchar *, n + 1);
      for (i = 0; i < n; i++)
        out[i] = g_strndup (buf + i * size, size);
    }
    g_free (buf);
  }
  if (out == NULL) {
    /* before any other call: the next one clears libhdf5's error stack */
    gchar *why = op_h5_take_error ();
    gchar *layout = describe_layout (ftype, space);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: cannot read the strings (%s): %s", what, layout, why);
    g_free (layout);
    g_free (why);
  } else if (!check_utf8 (out, n, what, error)) {
    g_strfreev (out);
    out = NULL;
  }
  H5Tclose (mtype);
  return out;
}

/* the element count of @space, or -1 when its rank passes @max_rank */
static gssize
count_elements (hid_t space, gint max_rank)
{
  gint rank = H5Sget_simple_extent_ndims (space);
  gssize n = H5Sget_simple_extent_npoints (space);

  if (rank < 0 || rank > max_rank || n < 0)
    return -1;
  return n;
}

/* A 1-D array of 8-bit integers read as the bytes of one string: sleap-io
 * accepts metadata json stored that way (numpy bytes arrays). */
static gchar *
read_byte_string (hid_t a, hid_t type, hid_t space, const gchar * what,
    GError ** error)
{
  gssize n = H5Sget_simple_extent_npoints (space), i;
  gsize len;
  gchar *buf;

  if (n < 0 || n > 64 * 1024 * 1024) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: implausible byte count", what);
    return NULL;
  }
  buf = g_malloc0 (n + 1);
  /* the file's own signedness: no conversion, the bytes as they are */
  if (n > 0 && H5Aread (a, H5Tget_sign (type) == H5T_SGN_2 ?
          H5T_NATIVE_SCHAR : H5T_NATIVE_UCHAR, buf) < 0) {
    gchar *why = op_h5_take_error ();
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: cannot read the bytes: %s", what, why);
    g_free (why);
    g_free (buf);
    return NULL;
  }
  /* NUL padding may follow the text; a NUL inside it would cut it */
  len = strlen (buf);
  for (i = len; i < n; i++) {
    if (buf[i] != '\0') {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "%s: the bytes hold a NUL inside the text", what);
      g_free (buf);
      return NULL;
    }
  }
  if (!g_utf8_validate (buf, len, NULL)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: the bytes are not UTF-8 text", what);
    g_free (buf);
    return NULL;
  }
  return buf;
}

/**
 * op_h5_read_string_attr:
 *
 * Reads a string attribute stored as h5py can write it: scalar or
 * one-element, fixed- or variable-length, ASCII or UTF-8, or a 1-D array
 * of 8-bit integers holding the bytes. Anything else is refused with an
 * error naming how it is stored.
 *
 * Returns: (transfer full) (nullable): the scalar string attribute @attr of
 *   @obj, or %NULL with @error set (missing, not a string, unreadable)
 */
gchar *
op_h5_read_string_attr (hid_t obj, const gchar * obj_name, const gchar * attr,
    GError ** error)
{
  gchar *what = g_strdup_printf ("%s attribute %s", obj_name, attr);
  gchar *value = NULL, **v;
  hid_t a, t = -1, s = -1;
  H5T_class_t cls;

  if (H5Aexists (obj, attr) <= 0) {
    H5Eclear2 (H5E_DEFAULT);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s is missing", what);
    g_free (what);
    return NULL;
  }
  a = H5Aopen (obj, attr, H5P_DEFAULT);
  if (a < 0) {
    set_h5_error (error, OP_LABELS_ERROR_CORRUPT, what);
    g_free (what);
    return NULL;
  }
  t = H5Aget_type (a);
  s = H5Aget_space (a);
  cls = t >= 0 ? H5Tget_class (t) : H5T_NO_CLASS;
  if (!op_h5_check_attribute (a, obj_name, attr, error)) {
    /* damaged metadata: the error says what */
  } else if (cls == H5T_STRING && s >= 0 && count_elements (s, 1) == 1) {
    if ((v = read_strings (a, -1, t, s, 1, what, error))) {
      value = g_strdup (v[0]);
      g_strfreev (v);
    }
  } else if (cls == H5T_INTEGER && H5Tget_size (t) == 1 && s >= 0
      && H5Sget_simple_extent_ndims (s) == 1) {
    value = read_byte_string (a, t, s, what, error);
  } else {
    gchar *layout = describe_layout (t, s);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "%s is stored as %s; onepass reads one fixed- or variable-length "
        "string (ASCII or UTF-8), or a 1-D array of bytes", what, layout);
    g_free (layout);
  }
  H5Eclear2 (H5E_DEFAULT);
  if (t >= 0)
    H5Tclose (t);
  if (s >= 0)
    H5Sclose (s);
  H5Aclose (a);
  g_free (what);
  return value;
}

gboolean
op_h5_read_double_attr (hid_t obj, const gchar * obj_name, const gchar * attr,
    gdouble * out, GError ** error)
{
  hid_t a, t, s;
  gboolean ok = FALSE;
  H5T_class_t cls;

  if (H5Aexists (obj, attr) <= 0) {
    H5Eclear2 (H5E_DEFAULT);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s has no %s attribute", obj_name, attr);
    return FALSE;
  }
  a = H5Aopen (obj, attr, H5P_DEFAULT);
  if (a < 0) {
    set_h5_error (error, OP_LABELS_ERROR_CORRUPT, attr);
    return FALSE;
  }
  if (!op_h5_check_attribute (a, obj_name, attr, error)) {
    H5Aclose (a);
    return FALSE;
  }
  t = H5Aget_type (a);
  s = H5Aget_space (a);
  cls = H5Tget_class (t);
  if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && count_elements (s, 1) == 1
      && H5Aread (a, H5T_NATIVE_DOUBLE, out) >= 0) {
    ok = TRUE;
  } else if (cls == H5T_ENUM && count_elements (s, 1) == 1
      && H5Tget_size (t) <= 8) {
    /* h5py bools are enums: read the raw value, convert from the base */
    hid_t base = H5Tget_super (t);
    union
    {
      guint8 raw[16];
      gdouble d;
    } buf;
    memset (&buf, 0, sizeof (buf));
    ok = H5Aread (a, t, buf.raw) >= 0 && H5Tconvert (base, H5T_NATIVE_DOUBLE,
        1, buf.raw, NULL, H5P_DEFAULT) >= 0;
    *out = buf.d;
    H5Tclose (base);
  }
  if (!ok) {
    gchar *layout = describe_layout (t, s);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s attribute %s is not a single number (it is stored as %s)",
        obj_name, attr, layout);
    g_free (layout);
  }
  H5Eclear2 (H5E_DEFAULT);
  H5Tclose (t);
  H5Sclose (s);
  H5Aclose (a);
  return ok;
}

/**
 * op_h5_read_strings:
 * @n: (out): number of strings
 *
 * Reads a scalar or 1-D string dataset. An empty dataset of any type (h5py
 * stores an empty list as float64) gives no strings.
 *
 * Returns: (transfer full) (nullable): %NULL-terminated strings
 */
gchar **
op_h5_read_strings (hid_t loc, const gchar * name, guint * n, GError ** error)
{
  return op_h5_read_strings_nd (loc, name, 1, n, error);
}

/**
 * op_h5_read_strings_nd:
 * @max_rank: highest rank accepted; the strings come in row-major order
 *
 * Like op_h5_read_strings() for arrays of strings (edge_names is N x 2).
 */
gchar **
op_h5_read_strings_nd (hid_t loc, const gchar * name, gint max_rank,
    guint * n, GError ** error)
{
  gchar *what = g_strdup_printf ("/%s", name);
  gchar **out = NULL;
  hid_t d, t = -1, s = -1;
  gssize count;

  *n = 0;
  d = H5Dopen2 (loc, name, H5P_DEFAULT);
  if (d < 0) {
    set_h5_error (error, OP_LABELS_ERROR_CORRUPT, what);
    g_free (what);
    return NULL;
  }
  t = H5Dget_type (d);
  s = H5Dget_space (d);
  count = count_elements (s, max_rank);
  if (count == 0) {
    out = g_new0 (gchar *, 1);
  } else if (count < 0 || count > G_MAXINT32 || t < 0
      || H5Tget_class (t) != H5T_STRING) {
    gchar *layout = describe_layout (t, s);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "%s is stored as %s; onepass reads %s of fixed- or variable-length "
        "strings (ASCII or UTF-8)", what, layout, max_rank > 1 ?
        "arrays" : "lists");
    g_free (layout);
  } else if (op_h5_check_storage (d, what, (guint64) count * 8, error)) {
    out = read_strings (-1, d, t, s, count, what, error);
    if (out)
      *n = count;
  }
  H5Eclear2 (H5E_DEFAULT);
  if (t >= 0)
    H5Tclose (t);
  if (s >= 0)
    H5Sclose (s);
  H5Dclose (d);
  g_free (what);
  return out;
}

/**
 * op_h5_read_string:
 *
 * Returns: (transfer full) (nullable): the scalar (or one-element) string
 *   dataset @name
 */
gchar *
op_h5_read_string (hid_t loc, const gchar * name, GError ** error)
{
  guint n;
  gchar **v = op_h5_read_strings (loc, name, &n, error);
  gchar *value = NULL;

  if (v && n == 1)
    value = g_strdup (v[0]);
  else if (v)
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "/%s holds %u strings, not one", name, n);
  g_strfreev (v);
  return value;
}

/**
 * op_h5_check_storage:
 * @n_bytes: what reading the whole dataset will produce in memory
 *
 * Refuses datasets that claim far more data than the file stores: reading
 * them would only allocate and produce fill values. Checks first the
 * metadata libhdf5 trusts (op_h5_check_dataset()), since the table and
 * string readers here and the analysis reader call this before a read.
 */
gboolean
op_h5_check_storage (hid_t dset, const gchar * name, guint64 n_bytes,
    GError ** error)
{
  guint64 stored;

  if (!op_h5_check_dataset (dset, name, error))
    return FALSE;
  stored = H5Dget_storage_size (dset);
  H5Eclear2 (H5E_DEFAULT);
  if (n_bytes <= SMALL_DATASET || stored >= n_bytes / MAX_EXPANSION)
    return TRUE;
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
      "%s claims %" G_GUINT64_FORMAT " bytes of data but the file stores only "
      "%" G_GUINT64_FORMAT, name, n_bytes, stored);
  return FALSE;
}

/* a member read from the file's own row layout into the caller's row */
typedef struct
{
  gsize file_offset, row_offset, size;
  guint field;                  /* index in the caller's fields */
} RawField;

struct _OpH5Table
{
  hid_t dset, mtype;
  gsize row_size, n_rows;
  gchar *what;
  /* when every wanted member already has the wanted type, rows are read
   * in the file's layout (no libhdf5 conversion, as h5py reads) and the
   * members copied out: libhdf5's per-member conversion costs twice the
   * read */
  hid_t raw_type;
  gsize raw_size;
  RawField *raw;
  guint n_raw;
  gboolean all_present;         /* no member takes its default */
  OpH5Field *fields;            /* the caller's, for op_h5_table_read_columns */
  guint n_fields;
};

void
op_h5_table_close (OpH5Table * t)
{
  if (t == NULL)
    return;
  if (t->mtype >= 0)
    H5Tclose (t->mtype);
  if (t->raw_type >= 0)
    H5Tclose (t->raw_type);
  g_free (t->raw);
  g_free (t->fields);
  if (t->dset >= 0)
    H5Dclose (t->dset);
  g_free (t->what);
  g_free (t);
}

/* whether a member of type @mt can be copied as bytes into @want: the same
 * type (a file's little-endian IEEE double is a native double here), or
 * an enum over it (h5py's bool) */
static gboolean
same_bytes (hid_t mt, hid_t want)
{
  gboolean same = H5Tequal (mt, want) > 0;

  /* h5py's bool is an enum over int8 {FALSE 0, TRUE 1}: its bytes are the
   * flag we read as uint8 */
  if (!same && H5Tget_class (mt) == H5T_ENUM && H5Tget_nmembers (mt) == 2) {
    hid_t base = H5Tget_super (mt);
    same = base >= 0 && H5Tget_class (base) == H5T_INTEGER
        && H5Tget_class (want) == H5T_INTEGER
        && H5Tget_size (base) == H5Tget_size (want)
        && H5Tget_order (base) == H5Tget_order (want);
    if (same && H5Tget_size (base) <= sizeof (guint64)) {
      /* little-endian, zero-extended: small values read as themselves */
      guint64 v0 = 0, v1 = 0;
      same = H5Tget_order (base) == H5T_ORDER_LE
          && H5Tget_member_value (mt, 0, &v0) >= 0
          && H5Tget_member_value (mt, 1, &v1) >= 0 && MIN (v0, v1) == 0
          && MAX (v0, v1) == 1;
    } else {
      same = FALSE;
    }
    if (base >= 0)
      H5Tclose (base);
  }
  return same;
}

/* The raw plan of struct _OpH5Table: rows are read with the file's own
 * type as memory type (libhdf5 converts nothing) when every wanted member
 * can be copied as bytes; else the converting read is used. */
static void
plan_raw_read (OpH5Table * t, hid_t ftype, const OpH5Field * fields,
    guint n_fields)
{
  gsize size = H5Tget_size (ftype);
  gboolean ok = size > 0;
  guint i;

  t->raw = g_new0 (RawField, n_fields);
  for (i = 0; ok && i < n_fields; i++) {
    gint idx = H5Tget_member_index (ftype, fields[i].name);
    hid_t mt;

    if (idx < 0)
      continue;
    mt = H5Tget_member_type (ftype, idx);
    ok = mt >= 0 && same_bytes (mt, fields[i].mem_type);
    if (ok) {
      RawField *rf = &t->raw[t->n_raw++];
      rf->field = i;
      rf->file_offset = H5Tget_member_offset (ftype, idx);
      rf->row_offset = fields[i].offset;
      rf->size = H5Tget_size (mt);
      ok = rf->size > 0 && rf->file_offset <= size
          && rf->size <= size - rf->file_offset;
    }
    if (mt >= 0)
      H5Tclose (mt);
  }
  H5Eclear2 (H5E_DEFAULT);
  if (ok) {
    t->raw_type = H5Tcopy (ftype);
    t->raw_size = size;
  } else {
    g_clear_pointer (&t->raw, g_free);
    t->n_raw = 0;
  }
}

/**
 * op_h5_table_open:
 * @n_rows: (out): the table's row count
 *
 * Opens the 1-D compound dataset @name for reading the members named in
 * @fields by name (HDF5 matches compound members by name and converts
 * their types, so 9- and 10-member /instances read alike), in row ranges
 * with op_h5_table_read().
 *
 * Returns: (transfer full) (nullable): the table
 */
OpH5Table *
op_h5_table_open (hid_t loc, const gchar * name, const OpH5Field * fields,
    guint n_fields, gsize row_size, gsize * n_rows, GError ** error)
{
  OpH5Table *t = g_new0 (OpH5Table, 1);
  hid_t ftype = -1, space = -1;
  gssize count;
  gboolean ok = FALSE;
  guint i;

  t->what = g_strdup_printf ("/%s", name);
  t->mtype = t->raw_type = -1;
  t->row_size = row_size;
  t->dset = H5Dopen2 (loc, name, H5P_DEFAULT);
  if (t->dset < 0) {
    set_h5_error (error, OP_LABELS_ERROR_CORRUPT, t->what);
    goto done;
  }
  ftype = H5Dget_type (t->dset);
  space = H5Dget_space (t->dset);
  count = count_elements (space, 1);
  if (ftype < 0 || H5Tget_class (ftype) != H5T_COMPOUND || count < 0
      || H5Sget_simple_extent_ndims (space) != 1) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s is not a table (a 1-D compound dataset)", t->what);
    goto done;
  }
  if (count > G_MAXINT32) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s has too many rows (%" G_GSSIZE_FORMAT ")", t->what, count);
    goto done;
  }
  t->mtype = H5Tcreate (H5T_COMPOUND, row_size);
  t->fields = g_memdup2 (fields, n_fields * sizeof (OpH5Field));
  t->n_fields = n_fields;
  t->all_present = TRUE;
  for (i = 0; i < n_fields; i++) {
    if (H5Tget_member_index (ftype, fields[i].name) < 0) {
      H5Eclear2 (H5E_DEFAULT);
      t->all_present = FALSE;
      if (fields[i].required) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
            "%s has no \"%s\" field", t->what, fields[i].name);
        goto done;
      }
      continue;
    }
    H5Tinsert (t->mtype, fields[i].name, fields[i].offset, fields[i].mem_type);
  }
  plan_raw_read (t, ftype, fields, n_fields);
  if (!op_h5_check_storage (t->dset, t->what, (guint64) count * row_size,
          error))
    goto done;
  t->n_rows = count;
  ok = TRUE;

done:
  H5Eclear2 (H5E_DEFAULT);
  if (ftype >= 0)
    H5Tclose (ftype);
  if (space >= 0)
    H5Sclose (space);
  if (!ok)
    g_clear_pointer (&t, op_h5_table_close);
  *n_rows = ok ? t->n_rows : 0;
  return t;
}

/* constant sizes: the compiler makes plain loads and stores of them */
static inline void
copy_member (guint8 * dst, const guint8 * src, gsize size)
{
  switch (size) {
    case 1:
      *dst = *src;
      break;
    case 4:
      memcpy (dst, src, 4);
      break;
    case 8:
      memcpy (dst, src, 8);
      break;
    default:
      memcpy (dst, src, size);
      break;
  }
}

/* rows @start .. @start + @count - 1 as @type: the file's own layout (the
 * raw plan) or the caller's row (libhdf5 converts) */
static gboolean
read_block (OpH5Table * t, hid_t type, gsize start, gsize count,
    gpointer buf, GError ** error)
{
  hsize_t off = start, n = count;
  hid_t fspace = H5Dget_space (t->dset);
  hid_t mspace = H5Screate_simple (1, &n, NULL);
  herr_t rc = H5Sselect_hyperslab (fspace, H5S_SELECT_SET, &off, NULL, &n,
      NULL);

  if (rc >= 0)
    rc = H5Dread (t->dset, type, mspace, fspace, H5P_DEFAULT, buf);
  H5Sclose (mspace);
  H5Sclose (fspace);
  if (rc < 0) {
    gchar *w = g_strdup_printf ("%s: cannot read the rows (wrong field types?)",
        t->what);
    set_h5_error (error, OP_LABELS_ERROR_CORRUPT, w);
    g_free (w);
    H5Eclear2 (H5E_DEFAULT);
    return FALSE;
  }
  return TRUE;
}

/**
 * op_h5_table_read:
 * @defaults: one row of values for the members the file lacks
 * @rows: room for @count rows
 *
 * Reads rows @start .. @start + @count - 1.
 */
gboolean
op_h5_table_read (OpH5Table * t, gsize start, gsize count,
    gconstpointer defaults, gpointer rows, GError ** error)
{
  /* the raw path reads through a bounded buffer, never a second table */
  gsize block = t->raw ? MAX (1, (1 << 21) / t->raw_size) : MAX (count, 1);
  guint8 *raw = NULL;
  gboolean ok = TRUE;
  gsize r, done;

  g_return_val_if_fail (start + count <= t->n_rows, FALSE);
  /* the raw path writes every member itself when the file has them all */
  for (r = 0; !(t->raw && t->all_present) && r < count; r++)
    memcpy ((guint8 *) rows + r * t->row_size, defaults, t->row_size);
  if (t->raw)
    raw = g_malloc (MIN (block, MAX (count, 1)) * t->raw_size);
  for (done = 0; ok && done < count; done += block) {
    gsize n = MIN (block, count - done);
    guint8 *dst = (guint8 *) rows + done * t->row_size;

    if (!raw) {
      ok = read_block (t, t->mtype, start + done, n, dst, error);
      continue;
    }
    ok = read_block (t, t->raw_type, start + done, n, raw, error);
    for (r = 0; ok && r < n; r++) {
      const guint8 *src = raw + r * t->raw_size;
      guint f;
      for (f = 0; f < t->n_raw; f++)
        copy_member (dst + r * t->row_size + t->raw[f].row_offset,
            src + t->raw[f].file_offset, t->raw[f].size);
    }
  }
  g_free (raw);
  return ok;
}

/**
 * op_h5_table_read_columns:
 * @defaults: one row (of the open's row layout) with the values of the
 *   members the file lacks
 * @columns: per field of the open, %NULL or room for @count values of the
 *   field's memory type
 *
 * Reads rows @start .. @start + @count - 1 member by member into separate
 * arrays (the label columns) through a bounded buffer.
 */
gboolean
op_h5_table_read_columns (OpH5Table * t, gsize start, gsize count,
    gconstpointer defaults, gpointer const *columns, GError ** error)
{
  gsize stride = t->raw ? t->raw_size : t->row_size;
  gsize block = MAX (1, (1 << 21) / stride), done, r;
  guint8 *buf = g_malloc (MIN (block, MAX (count, 1)) * stride);
  gboolean ok = TRUE;
  guint f;

  for (done = 0; ok && done < count; done += block) {
    gsize n = MIN (block, count - done);

    if (!t->raw) {
      ok = op_h5_table_read (t, start + done, n, defaults, buf, error);
      for (f = 0; ok && f < t->n_fields; f++) {
        gsize size = H5Tget_size (t->fields[f].mem_type);
        guint8 *col = columns[f];
        for (r = 0; col && r < n; r++)
          copy_member (col + (done + r) * size, buf + r * stride +
              t->fields[f].offset, size);
      }
      continue;
    }
    ok = read_block (t, t->raw_type, start + done, n, buf, error);
    for (f = 0; ok && f < t->n_raw; f++) {
      const RawField *rf = &t->raw[f];
      guint8 *col = columns[rf->field];
      const guint8 *src = buf + rf->file_offset;
      if (col == NULL)
        continue;
      col += done * rf->size;
      /* one loop per size: fixed-size copies the compiler inlines */
      if (rf->size == 8)
        for (r = 0; r < n; r++)
          memcpy (col + 8 * r, src + r * stride, 8);
      else if (rf->size == 1)
        for (r = 0; r < n; r++)
          col[r] = src[r * stride];
      else
        for (r = 0; r < n; r++)
          memcpy (col + r * rf->size, src + r * stride, rf->size);
    }
    /* members the file lacks take their default */
    for (f = 0; ok && !t->all_present && f < t->n_fields; f++) {
      gsize size = H5Tget_size (t->fields[f].mem_type), k;
      guint8 *col = columns[f];
      gboolean present = FALSE;
      for (k = 0; k < t->n_raw; k++)
        present = present || t->raw[k].field == f;
      for (r = 0; col && !present && r < n; r++)
        copy_member (col + (done + r) * size, (const guint8 *) defaults +
            t->fields[f].offset, size);
    }
  }
  g_free (buf);
  return ok;
}

/**
 * op_h5_read_table:
 * @defaults: one row of values for the members the file lacks
 * @n_rows: (out): rows read
 *
 * Reads the whole 1-D compound dataset @name (see op_h5_table_open()).
 *
 * Returns: (transfer full) (nullable): @n_rows rows of @row_size bytes
 */
gpointer
op_h5_read_table (hid_t loc, const gchar * name, const OpH5Field * fields,
    guint n_fields, gsize row_size, gconstpointer defaults, gsize * n_rows,
    GError ** error)
{
  OpH5Table *t;
  gpointer rows;
  gsize n;

  *n_rows = 0;
  t = op_h5_table_open (loc, name, fields, n_fields, row_size, &n, error);
  if (t == NULL)
    return NULL;
  rows = g_try_malloc (MAX (n, 1) * row_size);
  if (rows == NULL) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: %" G_GSIZE_FORMAT " rows do not fit in memory", t->what, n);
  } else if (!op_h5_table_read (t, 0, n, defaults, rows, error)) {
    g_clear_pointer (&rows, g_free);
  } else {
    *n_rows = n;
  }
  op_h5_table_close (t);
  return rows;
}
