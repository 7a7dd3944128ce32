/* cropextract: from an instance to the integer frame rectangle to cut.
 *
 * Boxes are in the design's point coordinates (pixel centres at integers);
 * they are moved to edge coordinates (+0.5, pixel i spans [i, i + 1)) where
 * a rect [x, y, w, h] spans exactly [x, x + w) x [y, y + h). Rounding is
 * always floor (v + 0.5), sizes round up so the padded box stays inside.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cropbox.h"

#include <math.h>

/* keeps every rect coordinate and x + w far inside gint */
#define MAX_COORD 1e7
/* absorbs float noise before ceil (): 100.0000000001 is still 100 */
#define EPS 1e-6

static gint
round_half_up (gdouble v)
{
  return (gint) floor (v + 0.5);
}

static gint
ceil_size (gdouble v)
{
  return MAX (1, (gint) ceil (v - EPS));
}

static OpCropRectResult
instance_box (const OpInstance * inst, OpCropExtractBox box, gdouble b[4])
{
  gboolean use_bbox = box == OP_CROP_EXTRACT_BOX_BBOX ||
      (box == OP_CROP_EXTRACT_BOX_AUTO && inst->has_bbox);
  guint i;

  if (use_bbox) {
    if (!inst->has_bbox)
      return OP_CROP_RECT_NO_BOX;
    for (i = 0; i < 4; i++)
      b[i] = inst->bbox[i];
  } else if (!op_instance_bounds (inst, b)) {
    return OP_CROP_RECT_NO_BOX;
  }
  for (i = 0; i < 4; i++)
    if (!isfinite (b[i]) || fabs (b[i]) > MAX_COORD)
      return OP_CROP_RECT_BAD_BOX;
  if (b[2] < 0 || b[3] < 0)
    return OP_CROP_RECT_BAD_BOX;
  return OP_CROP_RECT_OK;
}

/**
 * op_crop_compute_rect:
 * @anchor: node index to centre on in center mode, or -1
 * @width: crop width
 * @height: crop height
 * @rect: (out): [x, y, w, h] in frame pixels, may pass the frame edges
 *
 * fit: the padded box (edges l, r, t, b) grows along its shorter side
 * around its centre to the crop's aspect; with pw = r - l, ph = b - t, if
 * pw * height >= ph * width then w = ceil (pw), h = ceil (w * height /
 * width), else the other way round (both at least 1); x = round (centre -
 * w / 2), likewise y. For a square crop w == h, so the scale is exactly
 * uniform. stretch: x = round (l), w = round (r) - x, likewise y; a side
 * that rounds to less than 1 pixel becomes the pixel holding the centre
 * (x = floor (centre), w = 1).
 * center: w, h = the crop size, x = round (cx + 0.5 - width / 2) with cx the
 * anchor keypoint when present, else the box centre.
 */
OpCropRectResult
op_crop_compute_rect (const OpInstance * inst, OpCropExtractMode mode,
    OpCropExtractBox box, gdouble padding, gint anchor, guint width,
    guint height, gint rect[4])
{
  gdouble b[4], l, r, t, btm, cx, cy;
  OpCropRectResult res;

  if (mode == OP_CROP_EXTRACT_MODE_CENTER && anchor >= 0
      && (guint) anchor < inst->n_keypoints
      && op_keypoint_is_present (&inst->keypoints[anchor])) {
    cx = inst->keypoints[anchor].x + 0.5;
    cy = inst->keypoints[anchor].y + 0.5;
    if (!isfinite (cx) || !isfinite (cy) || fabs (cx) > MAX_COORD
        || fabs (cy) > MAX_COORD)
      return OP_CROP_RECT_BAD_BOX;
    goto centre;
  }

  res = instance_box (inst, box, b);
  if (res != OP_CROP_RECT_OK)
    return res;

  l = b[0] - b[2] * padding + 0.5;
  r = b[0] + b[2] * (1.0 + padding) + 0.5;
  t = b[1] - b[3] * padding + 0.5;
  btm = b[1] + b[3] * (1.0 + padding) + 0.5;
  if (r - l > 2 * MAX_COORD || btm - t > 2 * MAX_COORD)
    return OP_CROP_RECT_BAD_BOX;
  cx = (l + r) / 2;
  cy = (t + btm) / 2;

  switch (mode) {
    case OP_CROP_EXTRACT_MODE_FIT:{
      gdouble pw = r - l, ph = btm - t;

      if (pw * height >= ph * width) {
        rect[2] = ceil_size (pw);
        rect[3] = ceil_size ((gdouble) rect[2] * height / width);
      } else {
        rect[3] = ceil_size (ph);
        rect[2] = ceil_size ((gdouble) rect[3] * width / height);
      }
      rect[0] = round_half_up (cx - rect[2] / 2.0);
      rect[1] = round_half_up (cy - rect[3] / 2.0);
      return OP_CROP_RECT_OK;
    }
    case OP_CROP_EXTRACT_MODE_STRETCH:
      rect[0] = round_half_up (l);
      rect[1] = round_half_up (t);
      rect[2] = round_half_up (r) - rect[0];
      rect[3] = round_half_up (btm) - rect[1];
      /* a box thinner than a pixel: the pixel holding its centre */
      if (rect[2] < 1) {
        rect[0] = (gint) floor (cx);
        rect[2] = 1;
      }
      if (rect[3] < 1) {
        rect[1] = (gint) floor (cy);
        rect[3] = 1;
      }
      return OP_CROP_RECT_OK;
    case OP_CROP_EXTRACT_MODE_CENTER:
      goto centre;
  }
  return OP_CROP_RECT_BAD_BOX;

centre:
  rect[0] = round_half_up (cx - width / 2.0);
  rect[1] = round_half_up (cy - height / 2.0);
  rect[2] = width;
  rect[3] = height;
  return OP_CROP_RECT_OK;
}
