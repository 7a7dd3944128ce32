/* onepass: annotoverlay's colours.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_OV_PALETTE_H__
#define __OP_OV_PALETTE_H__

#include <glib.h>

G_BEGIN_DECLS

#define OP_OV_PALETTE_SIZE 10

const guint8 *op_ov_palette_color   (guint index);
const guint8 *op_ov_untracked_color (void);

G_END_DECLS

#endif /* __OP_OV_PALETTE_H__ */
