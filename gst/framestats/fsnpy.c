/* onepass: framestats' .npy writer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writes one array in NumPy's .npy format, version 1.0: the magic, a
 * header dict (descr, fortran_order, shape) padded to a fixed 128 bytes,
 * then the C-order data. The file is written as "<path>.part" and renamed
 * to <path> by finish(), so a crash never leaves a complete-looking file.
 *
 * A stacked writer has a leading axis counting the items appended (blocks
 * of framestats window=N): items are streamed to disk as they come, and the
 * header, reserved at a fixed size, is rewritten with the final count.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fsnpy.h"

#include <opnpy.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

/* 10 bytes of magic + version + length, then the dict: a multiple of 64 */
#define HEADER_BYTES 128

struct _OpNpyWriter
{
  gchar *path;
  gchar *part;
  FILE *f;
  gchar *descr;
  guint n_dims;
  guint64 shape[4];
  gboolean stacked;
  gsize item_bytes;
  guint64 n_items;
};

static gboolean
set_errno_error (GError ** error, const gchar * what, const gchar * path)
{
  gint err = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
      "cannot %s \"%s\": %s", what, path, g_strerror (err));
  return FALSE;
}

/* The 128-byte header describing the array as it stands. */
static void
make_header (OpNpyWriter * w, guint8 header[HEADER_BYTES])
{
  guint64 dims[5];
  guint n = 0;

  if (w->stacked)
    dims[n++] = w->n_items;
  memcpy (dims + n, w->shape, w->n_dims * sizeof (guint64));
  op_npy_header (header, HEADER_BYTES, w->descr, dims, n + w->n_dims);
}

/* @descr: NumPy dtype string ("|u1", "<u2", "<f4"); @item_shape: the
 * shape of one item (at most 3 dims). Not stacked: exactly one item. */
OpNpyWriter *
op_npy_writer_new (const gchar * path, const gchar * descr, guint n_dims,
    const guint64 * item_shape, gboolean stacked, GError ** error)
{
  OpNpyWriter *w;
  guint8 header[HEADER_BYTES];
  guint i;

  g_return_val_if_fail (n_dims >= 1 && n_dims <= 3, NULL);

  w = g_new0 (OpNpyWriter, 1);
  w->path = g_strdup (path);
  w->part = g_strconcat (path, ".part", NULL);
  w->descr = g_strdup (descr);
  w->n_dims = n_dims;
  w->stacked = stacked;
  w->item_bytes = descr[2] - '0';
  for (i = 0; i < n_dims; i++) {
    w->shape[i] = item_shape[i];
    w->item_bytes *= item_shape[i];
  }
  w->f = g_fopen (w->part, "wb");
  if (!w->f) {
    set_errno_error (error, "create", w->part);
    goto fail;
  }
  make_header (w, header);
  if (fwrite (header, 1, HEADER_BYTES, w->f) != HEADER_BYTES) {
    set_errno_error (error, "write", w->part);
    goto fail;
  }
  return w;

fail:
  op_npy_writer_abort (w);
  return NULL;
}

gboolean
op_npy_writer_append (OpNpyWriter * w, gconstpointer item, GError ** error)
{
  g_return_val_if_fail (w->stacked || w->n_items == 0, FALSE);

  if (fwrite (item, 1, w->item_bytes, w->f) != w->item_bytes)
    return set_errno_error (error, "write", w->part);
  w->n_items++;
  return TRUE;
}

guint64
op_npy_writer_n_items (OpNpyWriter * w)
{
  return w->n_items;
}

/* Writes the final header, closes and renames; frees @w in any case. */
gboolean
op_npy_writer_finish (OpNpyWriter * w, GError ** error)
{
  guint8 header[HEADER_BYTES];
  gboolean ok = FALSE;

  make_header (w, header);
  if (fseek (w->f, 0, SEEK_SET) != 0 ||
      fwrite (header, 1, HEADER_BYTES, w->f) != HEADER_BYTES ||
      fflush (w->f) != 0) {
    set_errno_error (error, "write", w->part);
    goto done;
  }
  if (fclose (w->f) != 0) {
    w->f = NULL;
    set_errno_error (error, "write", w->part);
    goto done;
  }
  w->f = NULL;
  if (g_rename (w->part, w->path) != 0) {
    set_errno_error (error, "rename to the final name", w->part);
    goto done;
  }
  ok = TRUE;

done:
  if (!ok) {
    op_npy_writer_abort (w);
    return FALSE;
  }
  g_free (w->path);
  g_free (w->part);
  g_free (w->descr);
  g_free (w);
  return TRUE;
}

/* Closes and deletes the partial file; frees @w. */
void
op_npy_writer_abort (OpNpyWriter * w)
{
  if (w->f)
    fclose (w->f);
  g_unlink (w->part);
  g_free (w->path);
  g_free (w->part);
  g_free (w->descr);
  g_free (w);
}
