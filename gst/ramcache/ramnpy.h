/* onepass: ramcache's .npy layout of cached frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_NPY_H__
#define __OP_RAM_NPY_H__

#include <gst/video/video.h>

G_BEGIN_DECLS

/* How one cached frame is laid out as a NumPy array item. */
typedef struct
{
  gchar descr[4];               /* "|u1", "<u2" or ">u2" */
  guint n_dims;                 /* item dims: 1 (raw bytes), 2 (H, W) or
                                 * 3 (H, W, C); 0 for a 1-D array */
  guint64 dims[3];
  guint rows;                   /* rows of row_bytes in one item */
  gsize row_bytes;              /* tight bytes per row */
  gsize src_stride;             /* bytes between rows in the cache's copy */
  gsize item_bytes;             /* rows * row_bytes */
} OpRamNpyLayout;

void op_ram_npy_layout (const GstVideoInfo * info, OpRamNpyLayout * l);
gboolean op_ram_npy_is_tight (const OpRamNpyLayout * l);
void op_ram_npy_header (guint8 * buf, gsize size, const OpRamNpyLayout * l,
    guint64 n_items);
gchar *op_ram_npy_index_path (const gchar * location);

G_END_DECLS

#endif /* __OP_RAM_NPY_H__ */
