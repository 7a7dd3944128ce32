/* batchsink: the HDF5 files it writes, safe on a full disk (h5file.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5FILE_H__
#define __OP_H5FILE_H__

#include <glib.h>
#include <hdf5.h>

G_BEGIN_DECLS

hid_t    op_h5_file_access_new (void);
gboolean op_h5_file_reserve    (hid_t file, guint64 bytes,
                                const gchar * path, GError ** error);
gboolean op_h5_release_reserve (gint fd);
void     op_h5_file_truncate   (hid_t file);
void     op_h5_file_drop       (hid_t file);
gboolean op_h5_file_commit     (hid_t file);

G_END_DECLS

#endif /* __OP_H5FILE_H__ */
