/* onepass: annotoverlay's built-in bitmap font.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_OV_FONT_H__
#define __OP_OV_FONT_H__

#include <glib.h>

G_BEGIN_DECLS

#define OP_OV_FONT_WIDTH 11
#define OP_OV_FONT_HEIGHT 13
#define OP_OV_FONT_BASELINE 10

typedef struct {
  guint8 advance;               /* pixels to the next character */
  guint16 rows[OP_OV_FONT_HEIGHT];      /* bit x of row y: pixel (x, y) */
} OpOvGlyph;

const OpOvGlyph *op_ov_font_glyph (guchar c);

G_END_DECLS

#endif /* __OP_OV_FONT_H__ */
