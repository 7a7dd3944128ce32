/* onepass: libhdf5's process-wide state (one lock, the error handler),
 * shared by the label readers and batchsink's HDF5 writer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5GLOBAL_H__
#define __OP_H5GLOBAL_H__

#include <glib.h>
#include <hdf5.h>

G_BEGIN_DECLS

void   op_h5_lock        (void);
void   op_h5_unlock      (void);
gchar *op_h5_take_error  (void);

G_END_DECLS

#endif /* __OP_H5GLOBAL_H__ */
