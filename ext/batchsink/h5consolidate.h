/* batchsink: the rows of one HDF5 dataset copied into another, chunk by
 * chunk where the layouts allow (h5consolidate.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5CONSOLIDATE_H__
#define __OP_H5CONSOLIDATE_H__

#include <glib.h>
#include <hdf5.h>

G_BEGIN_DECLS

hid_t    op_h5_real_dcpl (hid_t dcpl0, hid_t type, gint rank,
                          const hsize_t * dims);
gboolean op_h5_copy_rows (hid_t from, hid_t to, hsize_t at);

G_END_DECLS

#endif /* __OP_H5CONSOLIDATE_H__ */
