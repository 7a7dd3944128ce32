/* onepass: annotaugment's random draws and the affine map they make.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_AUG_PARAMS_H__
#define __OP_AUG_PARAMS_H__

#include <glib.h>

G_BEGIN_DECLS

/* What the user allows (the element's properties). */
typedef struct {
  gdouble hflip, vflip;         /* probabilities */
  gdouble rotate;               /* degrees: angle uniform in [-rotate, rotate] */
  gdouble scale;                /* factor uniform in [1 - scale, 1 + scale] */
  gdouble translate;            /* shift uniform in [-t, t] x image size */
  gdouble brightness;           /* offset uniform in [-b, b] x 255 */
  gdouble contrast;             /* gain uniform in [1 - c, 1 + c] */
} OpAugRanges;

/* One copy's draw. */
typedef struct {
  gboolean hflip, vflip;
  gdouble angle;                /* degrees, counter-clockwise on screen */
  gdouble scale;
  gdouble tx, ty;               /* pixels */
  gdouble brightness;           /* levels */
  gdouble contrast;
} OpAugDraw;

/* A 2x3 affine map of pixel-centre coordinates (the image corner at -0.5):
 * x' = m[0] x + m[1] y + m[2], y' = m[3] x + m[4] y + m[5]. The same
 * layout as OpenCV's warpAffine matrix. */
typedef struct {
  gdouble m[6];
} OpAugMatrix;

guint64  op_aug_sample_seed   (guint64 seed, const gchar * source,
                               guint64 frame, guint instance, guint copy);
void     op_aug_draw          (const OpAugRanges * ranges, guint64 sample_seed,
                               guint width, guint height, OpAugDraw * draw);
void     op_aug_matrix_from_draw (const OpAugDraw * draw, guint width,
                               guint height, OpAugMatrix * out);
gboolean op_aug_matrix_invert (const OpAugMatrix * in, OpAugMatrix * out);
void     op_aug_matrix_apply  (const OpAugMatrix * mat, gdouble x, gdouble y,
                               gdouble * ox, gdouble * oy);
void     op_aug_matrix_for_plane (const OpAugMatrix * mat, guint sub_w,
                               guint sub_h, OpAugMatrix * out);
gboolean op_aug_matrix_mirrors (const OpAugMatrix * mat);

G_END_DECLS

#endif /* __OP_AUG_PARAMS_H__ */
