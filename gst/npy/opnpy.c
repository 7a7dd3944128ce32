/* onepass: the NumPy .npy header, shared by ramcache and framestats.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Format version 1.0: the magic "\x93NUMPY", version 1.0, a little-endian
 * 16-bit header length, then the header dict padded with spaces and ended
 * by a newline so that the data starts at a multiple of 64. The data that
 * follows is in C order.
 */
#include "opnpy.h"

#include <string.h>

/**
 * op_npy_header:
 * @buf: where the header goes, @size bytes
 * @size: the header's total size, a multiple of 64 (the data starts there)
 * @descr: NumPy dtype string ("|u1", "<u2", "<f4")
 * @shape: the array's shape, @n_dims values (>= 1)
 * @n_dims: number of dimensions
 *
 * A fixed-size header can be rewritten in place once the leading dimension
 * is known (streamed blocks, a spill file that becomes the export).
 */
void
op_npy_header (guint8 * buf, gsize size, const gchar * descr,
    const guint64 * shape, guint n_dims)
{
  GString *dict = g_string_new (NULL);
  guint i;

  g_assert (size % 64 == 0 && size <= 65535 + 10 && n_dims >= 1);
  g_string_append_printf (dict, "{'descr': '%s', 'fortran_order': False, "
      "'shape': (", descr);
  for (i = 0; i < n_dims; i++)
    g_string_append_printf (dict, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
        shape[i]);
  /* a 1-tuple needs its comma */
  g_string_append (dict, n_dims == 1 ? ",), }" : "), }");
  g_assert (dict->len < size - 10);

  memset (buf, ' ', size);
  memcpy (buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (size - 10) & 0xff;
  buf[9] = (size - 10) >> 8;
  memcpy (buf + 10, dict->str, dict->len);
  buf[size - 1] = '\n';
  g_string_free (dict, TRUE);
}
