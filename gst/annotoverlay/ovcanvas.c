/* onepass: annotoverlay's drawing primitives.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include "ovcanvas.h"
#include "ovfont.h"
#include "oppixel.h"

/* Every 8-bit format annotoverlay takes (packed RGB, planar and semi-planar
 * YUV, GRAY8) is reached through the component tables of GstVideoFormatInfo:
 * one plot routine, no per-format code. */
void
op_ov_canvas_init (OpOvCanvas * canvas, GstVideoFrame * frame)
{
  canvas->frame = frame;
  canvas->width = GST_VIDEO_FRAME_WIDTH (frame);
  canvas->height = GST_VIDEO_FRAME_HEIGHT (frame);
  canvas->n_comp = GST_VIDEO_FRAME_N_COMPONENTS (frame);
  canvas->value[0] = canvas->value[1] = canvas->value[2] = 255;
  canvas->value[3] = 255;
}

/* the shared conversion (gst/pixel): the caps' matrix and range, BT.601
 * when unsaid, GRAY8 full range; alpha opaque */
void
op_ov_canvas_set_rgb (OpOvCanvas * canvas, const guint8 rgb[3])
{
  guint32 argb = 0xff000000u | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];

  op_pixel_color (&canvas->frame->info, argb, canvas->value);
}

void
op_ov_canvas_plot (OpOvCanvas * canvas, gint x, gint y)
{
  const GstVideoFormatInfo *finfo = canvas->frame->info.finfo;
  guint c;

  if (x < 0 || y < 0 || x >= canvas->width || y >= canvas->height)
    return;
  for (c = 0; c < canvas->n_comp; c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (canvas->frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE (canvas->frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (canvas->frame, c);
    /* a subsampled chroma sample is shared by its 2x2 luma pixels */
    gint cx = x >> GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    gint cy = y >> GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);

    data[cy * stride + cx * pstride] = canvas->value[c];
  }
}

/* Filled: every pixel within @radius of the point, and always the pixel
 * that holds it (the nearest centre), so radius 0 draws that one pixel.
 * Hollow: the same without the pixels more than one pixel inside the edge
 * and without the point's own pixel, which keeps the image. */
void
op_ov_draw_point (OpOvCanvas * canvas, gdouble x, gdouble y, gdouble radius,
    gboolean filled)
{
  gint i, j;
  gint x0 = (gint) floor (x - radius), x1 = (gint) ceil (x + radius);
  gint y0 = (gint) floor (y - radius), y1 = (gint) ceil (y + radius);
  gint cx = (gint) floor (x + 0.5), cy = (gint) floor (y + 0.5);
  gdouble inner = radius - 1;

  if (filled)
    op_ov_canvas_plot (canvas, cx, cy);
  for (j = y0; j <= y1; j++)
    for (i = x0; i <= x1; i++) {
      gdouble d2 = (i - x) * (i - x) + (j - y) * (j - y);

      if (d2 > radius * radius + 1e-9)
        continue;
      if (!filled && ((i == cx && j == cy) ||
              (inner >= 0 && d2 <= inner * inner + 1e-9)))
        continue;
      op_ov_canvas_plot (canvas, i, j);
    }
}

/* Every pixel whose centre is within @width / 2 of the segment: a
 * one-pixel line on a row or column is exactly that row or column, and
 * any slope stays connected. */
void
op_ov_draw_segment (OpOvCanvas * canvas, gdouble x0, gdouble y0, gdouble x1,
    gdouble y1, gdouble width)
{
  gdouble half = width / 2, dx = x1 - x0, dy = y1 - y0;
  gdouble len2 = dx * dx + dy * dy;
  gint i, j, l, r, t, b;

  l = (gint) floor (MIN (x0, x1) - half);
  r = (gint) ceil (MAX (x0, x1) + half);
  t = (gint) floor (MIN (y0, y1) - half);
  b = (gint) ceil (MAX (y0, y1) + half);
  /* only the visible part is scanned */
  l = MAX (l, 0);
  t = MAX (t, 0);
  r = MIN (r, canvas->width - 1);
  b = MIN (b, canvas->height - 1);
  for (j = t; j <= b; j++)
    for (i = l; i <= r; i++) {
      gdouble u = len2 > 0 ? ((i - x0) * dx + (j - y0) * dy) / len2 : 0;
      gdouble px, py;

      u = CLAMP (u, 0, 1);
      px = x0 + u * dx - i;
      py = y0 + u * dy - j;
      if (px * px + py * py <= half * half + 1e-9)
        op_ov_canvas_plot (canvas, i, j);
    }
}

/* One side from (x0, y0) to (x1, y1) in the box's stroke. */
static void
draw_side (OpOvCanvas * canvas, gdouble x0, gdouble y0, gdouble x1,
    gdouble y1, gdouble width, OpOvStroke stroke, gdouble corner)
{
  gdouble len = hypot (x1 - x0, y1 - y0), on, off, s;

  if (stroke == OP_OV_STROKE_SOLID || len == 0) {
    op_ov_draw_segment (canvas, x0, y0, x1, y1, width);
    return;
  }
  if (stroke == OP_OV_STROKE_CORNERS) {
    gdouble f = MIN (corner / len, 0.5);

    op_ov_draw_segment (canvas, x0, y0, x0 + f * (x1 - x0),
        y0 + f * (y1 - y0), width);
    op_ov_draw_segment (canvas, x1 - f * (x1 - x0), y1 - f * (y1 - y0),
        x1, y1, width);
    return;
  }
  /* dashes of 4 line widths, gaps of 3, starting at each corner */
  on = 4 * MAX (width, 1);
  off = 3 * MAX (width, 1);
  for (s = 0; s < len; s += on + off) {
    gdouble e = MIN (s + on, len);

    op_ov_draw_segment (canvas, x0 + (x1 - x0) * s / len,
        y0 + (y1 - y0) * s / len, x0 + (x1 - x0) * e / len,
        y0 + (y1 - y0) * e / len, width);
  }
}

/* @box is [x, y, w, h]: the sides run through x, x + w, y and y + h. */
void
op_ov_draw_box (OpOvCanvas * canvas, const gdouble box[4], gdouble width,
    OpOvStroke stroke)
{
  gdouble x0 = box[0], y0 = box[1], x1 = box[0] + box[2], y1 = box[1] + box[3];
  gdouble corner = MIN (box[2], box[3]) / 4;

  draw_side (canvas, x0, y0, x1, y0, width, stroke, corner);
  draw_side (canvas, x1, y0, x1, y1, width, stroke, corner);
  draw_side (canvas, x1, y1, x0, y1, width, stroke, corner);
  draw_side (canvas, x0, y1, x0, y0, width, stroke, corner);
}

/* The text's cell starts at column @x, its baseline is row @y (glyph row
 * OP_OV_FONT_BASELINE); one pixel per set bit, no background, clipped. */
void
op_ov_draw_text (OpOvCanvas * canvas, gint x, gint y, const gchar * text)
{
  const guchar *p;

  for (p = (const guchar *) text; *p; p++) {
    const OpOvGlyph *g = op_ov_font_glyph (*p);
    gint row, col;

    for (row = 0; row < OP_OV_FONT_HEIGHT; row++)
      for (col = 0; col < OP_OV_FONT_WIDTH; col++)
        if (g->rows[row] & (1u << col))
          op_ov_canvas_plot (canvas, x + col, y - OP_OV_FONT_BASELINE + row);
    x += g->advance;
  }
}
