/* onepass: annotoverlay's drawing primitives on a mapped 8-bit video frame.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_OV_CANVAS_H__
#define __OP_OV_CANVAS_H__

#include <gst/video/video.h>

G_BEGIN_DECLS

/* Coordinates are pixel centres at integers (the image corner at -0.5,
 * -0.5): a point at (10, 20) is pixel column 10, row 20. */

typedef enum {
  OP_OV_STROKE_SOLID,
  OP_OV_STROKE_DASHED,
  OP_OV_STROKE_CORNERS,
} OpOvStroke;

typedef struct {
  GstVideoFrame *frame;
  gint width, height;
  guint n_comp;
  /* the colour as the format's component values (R, G, B or Y, U, V;
   * then alpha, always opaque) */
  guint8 value[4];
} OpOvCanvas;

void op_ov_canvas_init      (OpOvCanvas * canvas, GstVideoFrame * frame);
void op_ov_canvas_set_rgb   (OpOvCanvas * canvas, const guint8 rgb[3]);
void op_ov_canvas_plot      (OpOvCanvas * canvas, gint x, gint y);
void op_ov_draw_point       (OpOvCanvas * canvas, gdouble x, gdouble y,
                             gdouble radius, gboolean filled);
void op_ov_draw_segment     (OpOvCanvas * canvas, gdouble x0, gdouble y0,
                             gdouble x1, gdouble y1, gdouble width);
void op_ov_draw_box         (OpOvCanvas * canvas, const gdouble box[4],
                             gdouble width, OpOvStroke stroke);
void op_ov_draw_text        (OpOvCanvas * canvas, gint x, gint baseline,
                             const gchar * text);

G_END_DECLS

#endif /* __OP_OV_CANVAS_H__ */
