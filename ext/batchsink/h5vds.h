/* batchsink: several complete layout-v2 HDF5 files presented as one file
 * (HDF5 virtual datasets), or copied into one self-contained file. Used
 * by the HDF5 writer for its shard view and its file after a clean EOS,
 * and by onepass-prep --merge.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_H5VDS_H__
#define __OP_H5VDS_H__

#include <glib.h>

G_BEGIN_DECLS

gboolean op_h5_combine            (const gchar * out_path,
                                   const gchar * const *inputs,
                                   GError ** error);
gboolean op_h5_combine_locked     (const gchar * out_path,
                                   const gchar * const *inputs,
                                   GError ** error);
gboolean op_h5_consolidate        (const gchar * out_path,
                                   const gchar * const *inputs,
                                   GError ** error);
gboolean op_h5_consolidate_locked (const gchar * out_path,
                                   const gchar * const *inputs,
                                   GError ** error);

G_END_DECLS

#endif /* __OP_H5VDS_H__ */
