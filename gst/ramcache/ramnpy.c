/* onepass: ramcache's .npy layout of cached frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A frame of a single-plane format whose components are all 8 or 16 bits
 * (GRAY8, GRAY16_LE/BE, RGB, BGR, RGBA, RGBx, YUY2, ...) is an item of
 * shape (height, width) or (height, width, pixel stride / sample size),
 * rows tightly packed; any other format (planar I420, NV12, packed 10-bit)
 * is an item of its raw bytes at GStreamer's default layout, shape (size,).
 * The file is NumPy's .npy version 1.0: magic, a header dict padded with
 * spaces to the requested size, then the items in C order.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ramnpy.h"

#include <opnpy.h>

#include <string.h>

void
op_ram_npy_layout (const GstVideoInfo * info, OpRamNpyLayout * l)
{
  const GstVideoFormatInfo *f = info->finfo;
  guint depth = GST_VIDEO_FORMAT_INFO_DEPTH (f, 0), i, bps, channels;
  gboolean simple = GST_VIDEO_INFO_N_PLANES (info) == 1 &&
      !GST_VIDEO_FORMAT_INFO_IS_COMPLEX (f) && (depth == 8 || depth == 16);

  memset (l, 0, sizeof (*l));
  for (i = 1; simple && i < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (f); i++)
    simple = GST_VIDEO_FORMAT_INFO_DEPTH (f, i) == depth &&
        GST_VIDEO_FORMAT_INFO_SHIFT (f, i) == 0;
  bps = depth / 8;
  if (simple)
    simple = GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0) % bps == 0;

  if (!simple) {
    strcpy (l->descr, "|u1");
    l->n_dims = 1;
    l->dims[0] = GST_VIDEO_INFO_SIZE (info);
    l->rows = 1;
    l->row_bytes = l->src_stride = l->item_bytes = GST_VIDEO_INFO_SIZE (info);
    return;
  }
  channels = GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0) / bps;
  strcpy (l->descr, bps == 1 ? "|u1" : (GST_VIDEO_FORMAT_INFO_IS_LE (f) ?
          "<u2" : ">u2"));
  l->dims[0] = GST_VIDEO_INFO_HEIGHT (info);
  l->dims[1] = GST_VIDEO_INFO_WIDTH (info);
  l->dims[2] = channels;
  l->n_dims = channels > 1 ? 3 : 2;
  l->rows = GST_VIDEO_INFO_HEIGHT (info);
  l->row_bytes = (gsize) GST_VIDEO_INFO_WIDTH (info) *
      GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0);
  l->src_stride = GST_VIDEO_INFO_PLANE_STRIDE (info, 0);
  l->item_bytes = l->rows * l->row_bytes;
}

/* TRUE when the cache's copy of a frame already is the item's bytes. */
gboolean
op_ram_npy_is_tight (const OpRamNpyLayout * l)
{
  return l->rows == 1 || l->src_stride == l->row_bytes;
}

/* Writes a header of exactly @size bytes (a multiple of 64) for @n_items
 * items. */
void
op_ram_npy_header (guint8 * buf, gsize size, const OpRamNpyLayout * l,
    guint64 n_items)
{
  guint64 shape[4] = { n_items };

  memcpy (shape + 1, l->dims, l->n_dims * sizeof (guint64));
  op_npy_header (buf, size, l->descr, shape, l->n_dims + 1);
}

/* "frames.npy" -> "frames.index.npy"; other names get ".index.npy" added */
gchar *
op_ram_npy_index_path (const gchar * location)
{
  if (g_str_has_suffix (location, ".npy"))
    return g_strdup_printf ("%.*s.index.npy",
        (gint) (strlen (location) - 4), location);
  return g_strconcat (location, ".index.npy", NULL);
}
