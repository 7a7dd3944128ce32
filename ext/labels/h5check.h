/* onepass: checks of HDF5 metadata that libhdf5 trusts, run before a read.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5CHECK_H__
#define __OP_H5CHECK_H__

#include <glib.h>
#include <hdf5.h>

G_BEGIN_DECLS

/* Both return FALSE with OP_LABELS_ERROR_CORRUPT set, the message starting
 * with @what ("/frames") or "@obj_name attribute @name"; the caller adds
 * the path. Call them between op_h5_lock() and op_h5_unlock(). */

gboolean  op_h5_check_dataset        (hid_t dset, const gchar * what,
                                      GError ** error);
gboolean  op_h5_check_attribute      (hid_t attr, const gchar * obj_name,
                                      const gchar * name, GError ** error);

G_END_DECLS

#endif /* __OP_H5CHECK_H__ */
