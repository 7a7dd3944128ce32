/* onepass: small libhdf5 helpers shared by the SLEAP readers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5UTIL_H__
#define __OP_H5UTIL_H__

#include <glib.h>
#include <hdf5.h>
#include <oph5global.h>

G_BEGIN_DECLS

/* Every HDF5 call of the readers runs between op_h5_lock() and
 * op_h5_unlock() (oph5global.h): one HDF5 user at a time in the process,
 * libhdf5's own error printing silenced and then restored. */

gboolean  op_h5_has_signature        (const guint8 * head, gsize len);
hid_t     op_h5_open                 (const gchar * path, GError ** error);
gboolean  op_h5_exists               (hid_t loc, const gchar * path);

gchar    *op_h5_read_string_attr     (hid_t obj, const gchar * obj_name,
                                      const gchar * attr, GError ** error);
gboolean  op_h5_read_double_attr     (hid_t obj, const gchar * obj_name,
                                      const gchar * attr, gdouble * out,
                                      GError ** error);
gchar   **op_h5_read_strings         (hid_t loc, const gchar * name,
                                      guint * n, GError ** error);
gchar   **op_h5_read_strings_nd      (hid_t loc, const gchar * name,
                                      gint max_rank, guint * n,
                                      GError ** error);
gchar    *op_h5_read_string          (hid_t loc, const gchar * name,
                                      GError ** error);

/**
 * OpH5Field:
 * @name: compound member name in the file
 * @mem_type: native type to convert it to (e.g. H5T_NATIVE_UINT64)
 * @offset: offset in the caller's row struct
 * @required: fail when the file lacks the member; otherwise the row keeps
 *   the default value
 */
typedef struct {
  const gchar *name;
  hid_t mem_type;
  gsize offset;
  gboolean required;
} OpH5Field;

gpointer  op_h5_read_table           (hid_t loc, const gchar * name,
                                      const OpH5Field * fields,
                                      guint n_fields, gsize row_size,
                                      gconstpointer defaults,
                                      gsize * n_rows, GError ** error);

typedef struct _OpH5Table OpH5Table;

OpH5Table *op_h5_table_open          (hid_t loc, const gchar * name,
                                      const OpH5Field * fields,
                                      guint n_fields, gsize row_size,
                                      gsize * n_rows, GError ** error);
gboolean  op_h5_table_read           (OpH5Table * table, gsize start,
                                      gsize count, gconstpointer defaults,
                                      gpointer rows, GError ** error);
gboolean  op_h5_table_read_columns   (OpH5Table * table, gsize start,
                                      gsize count, gconstpointer defaults,
                                      gpointer const * columns,
                                      GError ** error);
void      op_h5_table_close          (OpH5Table * table);

gboolean  op_h5_check_storage        (hid_t dset, const gchar * name,
                                      guint64 n_bytes, GError ** error);

G_END_DECLS

#endif /* __OP_H5UTIL_H__ */
