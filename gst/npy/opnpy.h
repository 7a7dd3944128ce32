/* onepass: the NumPy .npy header, shared by ramcache and framestats.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_NPY_H__
#define __OP_NPY_H__

#include <glib.h>

G_BEGIN_DECLS

void op_npy_header (guint8 * buf, gsize size, const gchar * descr,
                    const guint64 * shape, guint n_dims);

G_END_DECLS

#endif /* __OP_NPY_H__ */
