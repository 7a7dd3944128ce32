/* onepass: annotaugment's move of an annotation with its pixels.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Keypoints go through the same matrix as the pixels; a point that lands
 * outside the image (-0.5 <= x < W - 0.5, likewise y) becomes missing
 * (NaN, not visible: there is nothing in the picture to see). When the
 * matrix mirrors the picture, the left and right nodes of each symmetric
 * pair trade places, so "wingL" still names the wing on the animal's
 * left. A box becomes the bounds of its four moved corners, clipped to the
 * image; a box left with no area is removed. */
#include <math.h>
#include <string.h>
#include "augmeta.h"

static void
add_pair (GArray * pairs, guint a, guint b)
{
  g_array_append_val (pairs, a);
  g_array_append_val (pairs, b);
}

static void
take_pairs (OpAugSymmetry * out, GArray * pairs)
{
  out->n_pairs = pairs->len / 2;
  out->pairs = (guint *) g_array_free (pairs, FALSE);
}

/* "left_ear:right_ear,left_paw:right_paw" by node names, or "none" for a
 * skeleton that has no left and right */
gboolean
op_aug_symmetry_parse (const gchar * spec, const OpSkeleton * skeleton,
    OpAugSymmetry * out, GError ** error)
{
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (guint));
  gchar **items = NULL, *trimmed = g_strstrip (g_strdup (spec));
  gboolean none = g_str_equal (trimmed, "none");
  guint i;

  g_free (trimmed);
  if (!none) {
    items = g_strsplit (spec, ",", -1);
    for (i = 0; items[i]; i++) {
      gchar **ab = g_strsplit (g_strstrip (items[i]), ":", -1);
      gint a = -1, b = -1;

      if (g_strv_length (ab) == 2) {
        a = op_skeleton_find_node (skeleton, g_strstrip (ab[0]));
        b = op_skeleton_find_node (skeleton, g_strstrip (ab[1]));
      }
      if (g_strv_length (ab) != 2 || a < 0 || b < 0 || a == b) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "symmetries: \"%s\" is not two different nodes of skeleton "
            "\"%s\" joined by ':'", items[i], op_skeleton_get_name (skeleton));
        g_strfreev (ab);
        g_strfreev (items);
        g_array_free (pairs, TRUE);
        return FALSE;
      }
      add_pair (pairs, a, b);
      g_strfreev (ab);
    }
  }
  g_strfreev (items);
  take_pairs (out, pairs);
  return TRUE;
}

void
op_aug_symmetry_from_skeleton (const OpSkeleton * skeleton, OpAugSymmetry * out)
{
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (guint));
  guint i, a, b;

  for (i = 0; i < op_skeleton_get_n_symmetries (skeleton); i++)
    if (op_skeleton_get_symmetry (skeleton, i, &a, &b))
      add_pair (pairs, a, b);
  take_pairs (out, pairs);
}

void
op_aug_symmetry_clear (OpAugSymmetry * sym)
{
  g_clear_pointer (&sym->pairs, g_free);
  sym->n_pairs = 0;
}

static gboolean
inside (gdouble x, gdouble y, guint width, guint height)
{
  return x >= -0.5 && y >= -0.5 && x < width - 0.5 && y < height - 0.5;
}

static void
move_box (OpInstance * inst, const OpAugMatrix * mat, guint width, guint height)
{
  gdouble *b = inst->bbox;
  gdouble x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE,
      y1 = -G_MAXDOUBLE;
  guint k;

  for (k = 0; k < 4; k++) {
    gdouble x, y;

    op_aug_matrix_apply (mat, b[0] + (k & 1 ? b[2] : 0),
        b[1] + (k & 2 ? b[3] : 0), &x, &y);
    x0 = MIN (x0, x);
    y0 = MIN (y0, y);
    x1 = MAX (x1, x);
    y1 = MAX (y1, y);
  }
  x0 = MAX (x0, -0.5);
  y0 = MAX (y0, -0.5);
  x1 = MIN (x1, width - 0.5);
  y1 = MIN (y1, height - 0.5);
  if (x1 <= x0 || y1 <= y0) {
    inst->has_bbox = FALSE;
    return;
  }
  b[0] = x0;
  b[1] = y0;
  b[2] = x1 - x0;
  b[3] = y1 - y0;
}

static void
move_instance (OpInstance * inst, const OpAugMatrix * mat,
    const OpAugSymmetry * sym, guint width, guint height)
{
  guint k;

  for (k = 0; k < inst->n_keypoints; k++) {
    OpKeypoint *p = &inst->keypoints[k];

    if (isnan (p->x) || isnan (p->y))
      continue;
    op_aug_matrix_apply (mat, p->x, p->y, &p->x, &p->y);
    if (!inside (p->x, p->y, width, height)) {
      p->x = p->y = NAN;
      p->visible = FALSE;
    }
  }
  if (op_aug_matrix_mirrors (mat)) {
    for (k = 0; k < sym->n_pairs; k++) {
      guint a = sym->pairs[2 * k], b = sym->pairs[2 * k + 1];
      OpKeypoint t;

      if (a >= inst->n_keypoints || b >= inst->n_keypoints)
        continue;
      t = inst->keypoints[a];
      inst->keypoints[a] = inst->keypoints[b];
      inst->keypoints[b] = t;
    }
  }
  if (inst->has_bbox)
    move_box (inst, mat, width, height);
}

/* @width x @height: the image the annotation's coordinates refer to (the
 * frame, or the crop for a crop annotation), which the warp keeps. */
void
op_aug_transform_annotation (OpAnnotation * ann, const OpAugMatrix * mat,
    const OpAugSymmetry * sym, guint width, guint height)
{
  guint i;

  for (i = 0; i < op_annotation_n_instances (ann); i++)
    move_instance (op_annotation_get_instance (ann, i), mat, sym, width,
        height);
}
