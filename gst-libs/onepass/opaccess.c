/* onepass: OpAnnotation and OpInstance as boxed types, with getters and
 * setters, for bindings (GObject introspection).
 *
 * Python never needs the struct layout: it builds and reads annotations
 * through these calls. A value a binding reads off a buffer is its own
 * copy (the boxed copy below), so it outlives the buffer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opannotation.h"
#include "opjson.h"

#include <string.h>

static OpInstance *instance_copy_boxed (const OpInstance * inst);
static OpAnnotation *annotation_copy_boxed (const OpAnnotation * ann);

G_DEFINE_BOXED_TYPE (OpInstance, op_instance, instance_copy_boxed,
    op_instance_free);
G_DEFINE_BOXED_TYPE (OpAnnotation, op_annotation, annotation_copy_boxed,
    op_annotation_free);

static OpInstance *
instance_copy_boxed (const OpInstance * inst)
{
  return op_instance_copy (inst);
}

static OpAnnotation *
annotation_copy_boxed (const OpAnnotation * ann)
{
  return op_annotation_copy (ann);
}

/**
 * op_instance_new: (constructor)
 * @kind: the kind
 * @n_keypoints: the skeleton's node count (0 for a box only)
 *
 * Returns: (transfer full): an instance with @n_keypoints missing
 *   keypoints, untracked (-1), no score, no bbox
 *
 * Since: 0.2
 */
OpInstance *
op_instance_new (OpInstanceKind kind, guint n_keypoints)
{
  OpInstance *inst = g_new (OpInstance, 1);

  op_instance_init (inst, kind, n_keypoints);
  return inst;
}

/**
 * op_instance_copy:
 * @inst: an instance
 *
 * Returns: (transfer full): a deep copy of @inst
 *
 * Since: 0.2
 */
OpInstance *
op_instance_copy (const OpInstance * inst)
{
  OpInstance *copy;

  g_return_val_if_fail (inst != NULL, NULL);
  copy = g_new (OpInstance, 1);
  op_instance_copy_into (copy, inst);
  return copy;
}

/**
 * op_instance_free:
 * @inst: (transfer full) (nullable): an instance from op_instance_new() or
 *   op_instance_copy()
 *
 * Since: 0.2
 */
void
op_instance_free (OpInstance * inst)
{
  if (inst == NULL)
    return;
  op_instance_clear (inst);
  g_free (inst);
}

/**
 * op_instance_get_kind:
 * @inst: an instance
 *
 * Returns: the kind
 *
 * Since: 0.2
 */
OpInstanceKind
op_instance_get_kind (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, OP_INSTANCE_USER);
  return inst->kind;
}

/**
 * op_instance_set_kind:
 * @inst: an instance
 * @kind: the kind
 *
 * Since: 0.2
 */
void
op_instance_set_kind (OpInstance * inst, OpInstanceKind kind)
{
  g_return_if_fail (inst != NULL);
  g_return_if_fail ((guint) kind <= OP_INSTANCE_DETECTION);
  inst->kind = kind;
}

/**
 * op_instance_get_track:
 * @inst: an instance
 *
 * Returns: the track index, -1 when untracked
 *
 * Since: 0.2
 */
gint
op_instance_get_track (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, -1);
  return inst->track;
}

/**
 * op_instance_set_track:
 * @inst: an instance
 * @track: the track index, -1 for none
 *
 * Since: 0.2
 */
void
op_instance_set_track (OpInstance * inst, gint track)
{
  g_return_if_fail (inst != NULL);
  g_return_if_fail (track >= -1);
  inst->track = track;
}

/**
 * op_instance_get_track_name:
 * @inst: an instance
 *
 * Returns: (transfer none) (nullable): the track name
 *
 * Since: 0.2
 */
const gchar *
op_instance_get_track_name (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, NULL);
  return inst->track_name;
}

/**
 * op_instance_set_track_name:
 * @inst: an instance
 * @track_name: (nullable): the track name (copied)
 *
 * Since: 0.2
 */
void
op_instance_set_track_name (OpInstance * inst, const gchar * track_name)
{
  g_return_if_fail (inst != NULL);
  if (inst->track_name == track_name)
    return;
  g_free (inst->track_name);
  inst->track_name = g_strdup (track_name);
}

/**
 * op_instance_get_score:
 * @inst: an instance
 *
 * Returns: the instance score, NaN when it has none
 *
 * Since: 0.2
 */
gdouble
op_instance_get_score (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, NAN);
  return inst->score;
}

/**
 * op_instance_set_score:
 * @inst: an instance
 * @score: the score, NaN for none
 *
 * Since: 0.2
 */
void
op_instance_set_score (OpInstance * inst, gdouble score)
{
  g_return_if_fail (inst != NULL);
  inst->score = score;
}

/**
 * op_instance_get_bbox:
 * @inst: an instance
 * @x: (out) (optional): left, in the keypoints' coordinates
 * @y: (out) (optional): top
 * @w: (out) (optional): width
 * @h: (out) (optional): height
 *
 * Returns: whether @inst has a box; the outputs are untouched when not
 *
 * Since: 0.2
 */
gboolean
op_instance_get_bbox (const OpInstance * inst, gdouble * x, gdouble * y,
    gdouble * w, gdouble * h)
{
  g_return_val_if_fail (inst != NULL, FALSE);
  if (!inst->has_bbox)
    return FALSE;
  if (x)
    *x = inst->bbox[0];
  if (y)
    *y = inst->bbox[1];
  if (w)
    *w = inst->bbox[2];
  if (h)
    *h = inst->bbox[3];
  return TRUE;
}

/**
 * op_instance_set_bbox:
 * @inst: an instance
 * @x: left, in the keypoints' coordinates (pixel centres at integers)
 * @y: top
 * @w: width
 * @h: height
 *
 * Since: 0.2
 */
void
op_instance_set_bbox (OpInstance * inst, gdouble x, gdouble y, gdouble w,
    gdouble h)
{
  g_return_if_fail (inst != NULL);
  inst->bbox[0] = x;
  inst->bbox[1] = y;
  inst->bbox[2] = w;
  inst->bbox[3] = h;
  inst->has_bbox = TRUE;
}

/**
 * op_instance_unset_bbox:
 * @inst: an instance
 *
 * Removes the box.
 *
 * Since: 0.2
 */
void
op_instance_unset_bbox (OpInstance * inst)
{
  g_return_if_fail (inst != NULL);
  inst->has_bbox = FALSE;
  memset (inst->bbox, 0, sizeof (inst->bbox));
}

/**
 * op_instance_is_replaced:
 * @inst: an instance
 *
 * Returns: whether @inst is a prediction that a user instance of the same
 *   frame corrects (SLEAP's `from_predicted`)
 *
 * Since: 0.2
 */
gboolean
op_instance_is_replaced (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, FALSE);
  return inst->replaced;
}

/**
 * op_instance_get_n_keypoints:
 * @inst: an instance
 *
 * Returns: the number of keypoints: the skeleton's node count, or 0 for a
 *   detection without keypoints
 *
 * Since: 0.2
 */
guint
op_instance_get_n_keypoints (const OpInstance * inst)
{
  g_return_val_if_fail (inst != NULL, 0);
  return inst->n_keypoints;
}

/**
 * op_instance_get_keypoint:
 * @inst: an instance
 * @index: a keypoint (skeleton node) index
 * @x: (out) (optional): x, NaN when missing
 * @y: (out) (optional): y, NaN when missing
 * @visible: (out) (optional): visibility
 * @score: (out) (optional): score, NaN for none
 *
 * Returns: %FALSE when @index is not below the keypoint count
 *
 * Since: 0.2
 */
gboolean
op_instance_get_keypoint (const OpInstance * inst, guint index, gdouble * x,
    gdouble * y, gboolean * visible, gdouble * score)
{
  const OpKeypoint *kp;

  g_return_val_if_fail (inst != NULL, FALSE);
  if (index >= inst->n_keypoints)
    return FALSE;
  kp = &inst->keypoints[index];
  if (x)
    *x = kp->x;
  if (y)
    *y = kp->y;
  if (visible)
    *visible = kp->visible;
  if (score)
    *score = kp->score;
  return TRUE;
}

/* The record's rule: a point without coordinates is missing, never
 * visible, and both coordinates are NaN. */
static void
set_keypoint (OpKeypoint * kp, gdouble x, gdouble y, gboolean visible,
    gdouble score)
{
  if (isnan (x) || isnan (y)) {
    kp->x = kp->y = NAN;
    kp->visible = FALSE;
  } else {
    kp->x = x;
    kp->y = y;
    kp->visible = visible;
  }
  kp->score = score;
}

/**
 * op_instance_set_keypoint:
 * @inst: an instance
 * @index: a keypoint index below op_instance_get_n_keypoints()
 * @x: x in pixel-centre coordinates, NaN = missing
 * @y: y, NaN = missing
 * @visible: visibility (ignored for a missing point, which is never visible)
 * @score: score, NaN for none
 *
 * Since: 0.2
 */
void
op_instance_set_keypoint (OpInstance * inst, guint index, gdouble x,
    gdouble y, gboolean visible, gdouble score)
{
  g_return_if_fail (inst != NULL);
  g_return_if_fail (index < inst->n_keypoints);
  set_keypoint (&inst->keypoints[index], x, y, visible, score);
}

/**
 * op_instance_get_keypoints:
 * @inst: an instance
 * @n_values: (out): 4 * the keypoint count
 *
 * All keypoints as one flat array, 4 values per skeleton node in the
 * skeleton's order: x, y, visible (1.0 or 0.0), score; NaN marks a missing
 * coordinate or no score (numpy: `reshape(-1, 4)`).
 *
 * Returns: (transfer full) (array length=n_values) (nullable): the values,
 *   %NULL when there are no keypoints
 *
 * Since: 0.2
 */
gdouble *
op_instance_get_keypoints (const OpInstance * inst, guint * n_values)
{
  gdouble *v;
  guint k;

  g_return_val_if_fail (inst != NULL, NULL);
  g_return_val_if_fail (n_values != NULL, NULL);
  *n_values = 4 * inst->n_keypoints;
  if (inst->n_keypoints == 0)
    return NULL;
  v = g_new (gdouble, 4 * inst->n_keypoints);
  for (k = 0; k < inst->n_keypoints; k++) {
    const OpKeypoint *kp = &inst->keypoints[k];
    v[4 * k] = kp->x;
    v[4 * k + 1] = kp->y;
    v[4 * k + 2] = kp->visible ? 1.0 : 0.0;
    v[4 * k + 3] = kp->score;
  }
  return v;
}

/**
 * op_instance_set_keypoints:
 * @inst: an instance
 * @values: (array length=n_values) (nullable): x, y, visible, score per
 *   node, as op_instance_get_keypoints() gives them (visible: non-zero =
 *   visible; a point with a NaN coordinate is missing)
 * @n_values: a multiple of 4: 4 * the skeleton's node count (0 for a
 *   detection without keypoints)
 * @error: a #GError, or %NULL
 *
 * Replaces all keypoints; their count becomes @n_values / 4.
 *
 * Returns: %FALSE (and @error set, nothing changed) when @n_values is not
 *   a multiple of 4
 *
 * Since: 0.2
 */
gboolean
op_instance_set_keypoints (OpInstance * inst, const gdouble * values,
    guint n_values, GError ** error)
{
  guint k, n = n_values / 4;

  g_return_val_if_fail (inst != NULL, FALSE);
  if (n_values % 4 != 0) {
    g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID,
        "keypoints need 4 values per node (x, y, visible, score), got %u "
        "values", n_values);
    return FALSE;
  }
  g_return_val_if_fail (n == 0 || values != NULL, FALSE);
  if (n != inst->n_keypoints) {
    g_free (inst->keypoints);
    inst->keypoints = n ? g_new (OpKeypoint, n) : NULL;
    inst->n_keypoints = n;
  }
  for (k = 0; k < n; k++)
    set_keypoint (&inst->keypoints[k], values[4 * k], values[4 * k + 1],
        values[4 * k + 2] != 0.0, values[4 * k + 3]);
  return TRUE;
}

/**
 * op_annotation_new: (constructor)
 *
 * Returns: (transfer full): an empty annotation (see op_annotation_init())
 *
 * Since: 0.2
 */
OpAnnotation *
op_annotation_new (void)
{
  OpAnnotation *ann = g_new (OpAnnotation, 1);

  op_annotation_init (ann);
  return ann;
}

/**
 * op_annotation_copy:
 * @ann: an annotation
 *
 * Returns: (transfer full): a deep copy of @ann (the skeleton is shared)
 *
 * Since: 0.2
 */
OpAnnotation *
op_annotation_copy (const OpAnnotation * ann)
{
  OpAnnotation *copy;

  g_return_val_if_fail (ann != NULL, NULL);
  copy = op_annotation_new ();
  op_annotation_copy_into (copy, ann);
  return copy;
}

/**
 * op_annotation_free:
 * @ann: (transfer full) (nullable): an annotation from op_annotation_new()
 *   or op_annotation_copy()
 *
 * Since: 0.2
 */
void
op_annotation_free (OpAnnotation * ann)
{
  if (ann == NULL)
    return;
  op_annotation_clear (ann);
  g_free (ann);
}

/**
 * op_annotation_get_source:
 * @ann: an annotation
 *
 * Returns: (transfer none): the source name
 *
 * Since: 0.2
 */
const gchar *
op_annotation_get_source (const OpAnnotation * ann)
{
  g_return_val_if_fail (ann != NULL, NULL);
  return ann->source;
}

/**
 * op_annotation_set_source:
 * @ann: an annotation
 * @source: the source name (copied). Dataset keys use it as it is:
 *   op_source_name_from_uri() or op_name_sanitize() make a safe one
 *
 * Since: 0.2
 */
void
op_annotation_set_source (OpAnnotation * ann, const gchar * source)
{
  g_return_if_fail (ann != NULL);
  g_return_if_fail (source != NULL);
  if (ann->source == source)
    return;
  g_free (ann->source);
  ann->source = g_strdup (source);
}

/**
 * op_annotation_get_frame_index:
 * @ann: an annotation
 *
 * Returns: the 0-based presentation-order frame index
 *
 * Since: 0.2
 */
guint64
op_annotation_get_frame_index (const OpAnnotation * ann)
{
  g_return_val_if_fail (ann != NULL, 0);
  return ann->frame_index;
}

/**
 * op_annotation_set_frame_index:
 * @ann: an annotation
 * @frame_index: the 0-based presentation-order frame index
 *
 * Since: 0.2
 */
void
op_annotation_set_frame_index (OpAnnotation * ann, guint64 frame_index)
{
  g_return_if_fail (ann != NULL);
  ann->frame_index = frame_index;
}

/**
 * op_annotation_get_pts:
 * @ann: an annotation
 *
 * Returns: the buffer timestamp it was made for, or GST_CLOCK_TIME_NONE
 *
 * Since: 0.2
 */
GstClockTime
op_annotation_get_pts (const OpAnnotation * ann)
{
  g_return_val_if_fail (ann != NULL, GST_CLOCK_TIME_NONE);
  return ann->pts;
}

/**
 * op_annotation_set_pts:
 * @ann: an annotation
 * @pts: a timestamp, or GST_CLOCK_TIME_NONE
 *
 * Since: 0.2
 */
void
op_annotation_set_pts (OpAnnotation * ann, GstClockTime pts)
{
  g_return_if_fail (ann != NULL);
  ann->pts = pts;
}

/**
 * op_annotation_get_size:
 * @ann: an annotation
 * @width: (out) (optional): frame width
 * @height: (out) (optional): frame height
 *
 * Since: 0.2
 */
void
op_annotation_get_size (const OpAnnotation * ann, guint * width, guint * height)
{
  g_return_if_fail (ann != NULL);
  if (width)
    *width = ann->width;
  if (height)
    *height = ann->height;
}

/**
 * op_annotation_set_size:
 * @ann: an annotation
 * @width: frame width
 * @height: frame height
 *
 * Sets the frame size (nothing is rescaled: see op_annotation_rescale()).
 *
 * Since: 0.2
 */
void
op_annotation_set_size (OpAnnotation * ann, guint width, guint height)
{
  g_return_if_fail (ann != NULL);
  ann->width = width;
  ann->height = height;
}

/**
 * op_annotation_get_source_size:
 * @ann: an annotation
 * @width: (out) (optional): the source video's width (0 = unknown)
 * @height: (out) (optional): its height
 *
 * Since: 0.2
 */
void
op_annotation_get_source_size (const OpAnnotation * ann, guint * width,
    guint * height)
{
  g_return_if_fail (ann != NULL);
  if (width)
    *width = ann->source_width;
  if (height)
    *height = ann->source_height;
}

/**
 * op_annotation_set_source_size:
 * @ann: an annotation
 * @width: the source video's width before any scaling (0 = unknown)
 * @height: its height
 *
 * Since: 0.2
 */
void
op_annotation_set_source_size (OpAnnotation * ann, guint width, guint height)
{
  g_return_if_fail (ann != NULL);
  ann->source_width = width;
  ann->source_height = height;
}

/**
 * op_annotation_get_augment:
 * @ann: an annotation
 *
 * Returns: 0 for an original image, k >= 1 for annotaugment's k-th
 *   augmented copy (the sample key ends in `_aug<k>`)
 *
 * Since: 0.2
 */
guint
op_annotation_get_augment (const OpAnnotation * ann)
{
  g_return_val_if_fail (ann != NULL, 0);
  return ann->augment;
}

/**
 * op_annotation_set_augment:
 * @ann: an annotation
 * @augment: 0 for an original image, k >= 1 for an augmented copy
 *
 * Since: 0.2
 */
void
op_annotation_set_augment (OpAnnotation * ann, guint augment)
{
  g_return_if_fail (ann != NULL);
  ann->augment = augment;
}

/**
 * op_annotation_get_skeleton:
 * @ann: an annotation
 *
 * Returns: (transfer none) (nullable): the skeleton
 *
 * Since: 0.2
 */
OpSkeleton *
op_annotation_get_skeleton (const OpAnnotation * ann)
{
  g_return_val_if_fail (ann != NULL, NULL);
  return ann->skeleton;
}

/**
 * op_annotation_get_crop:
 * @ann: an annotation
 * @instance: (out) (optional): index of the cropped instance in its frame
 * @x: (out) (optional): crop rect left, in frame pixels
 * @y: (out) (optional): crop rect top
 * @w: (out) (optional): crop rect width
 * @h: (out) (optional): crop rect height
 * @crop_width: (out) (optional): crop width in pixels
 * @crop_height: (out) (optional): crop height in pixels
 *
 * Returns: whether @ann describes a crop; the outputs are untouched when not
 *
 * Since: 0.2
 */
gboolean
op_annotation_get_crop (const OpAnnotation * ann, guint * instance, gint * x,
    gint * y, gint * w, gint * h, guint * crop_width, guint * crop_height)
{
  g_return_val_if_fail (ann != NULL, FALSE);
  if (!ann->has_crop)
    return FALSE;
  if (instance)
    *instance = ann->crop.instance;
  if (x)
    *x = ann->crop.rect[0];
  if (y)
    *y = ann->crop.rect[1];
  if (w)
    *w = ann->crop.rect[2];
  if (h)
    *h = ann->crop.rect[3];
  if (crop_width)
    *crop_width = ann->crop.width;
  if (crop_height)
    *crop_height = ann->crop.height;
  return TRUE;
}

/**
 * op_annotation_set_crop:
 * @ann: an annotation holding one instance, in crop coordinates
 * @instance: index of the cropped instance in its frame
 * @x: crop rect left, in frame pixels
 * @y: crop rect top
 * @w: crop rect width (> 0)
 * @h: crop rect height (> 0)
 * @crop_width: crop width in pixels
 * @crop_height: crop height in pixels
 *
 * Makes @ann a crop annotation.
 *
 * Since: 0.2
 */
void
op_annotation_set_crop (OpAnnotation * ann, guint instance, gint x, gint y,
    gint w, gint h, guint crop_width, guint crop_height)
{
  g_return_if_fail (ann != NULL);
  ann->has_crop = TRUE;
  ann->crop.instance = instance;
  ann->crop.rect[0] = x;
  ann->crop.rect[1] = y;
  ann->crop.rect[2] = w;
  ann->crop.rect[3] = h;
  ann->crop.width = crop_width;
  ann->crop.height = crop_height;
}

/**
 * op_annotation_unset_crop:
 * @ann: an annotation
 *
 * Makes @ann a frame annotation.
 *
 * Since: 0.2
 */
void
op_annotation_unset_crop (OpAnnotation * ann)
{
  g_return_if_fail (ann != NULL);
  ann->has_crop = FALSE;
  memset (&ann->crop, 0, sizeof (ann->crop));
}

/**
 * op_annotation_remove_instances:
 * @ann: an annotation
 *
 * Removes every instance.
 *
 * Since: 0.2
 */
void
op_annotation_remove_instances (OpAnnotation * ann)
{
  g_return_if_fail (ann != NULL);
  g_array_set_size (ann->instances, 0);
}

/**
 * op_annotation_validate:
 * @ann: an annotation
 * @error: a #GError, or %NULL
 *
 * Checks what the annotation JSON parser checks: every instance has one
 * keypoint per skeleton node (a detection may have none), a crop holds
 * exactly one instance and a rect of positive size.
 *
 * Returns: %FALSE (@error set to an #OP_ANNOTATION_ERROR_INVALID naming the
 *   problem) when @ann breaks a rule
 *
 * Since: 0.2
 */
gboolean
op_annotation_validate (const OpAnnotation * ann, GError ** error)
{
  guint i, want;

  g_return_val_if_fail (ann != NULL, FALSE);
  want = ann->skeleton ? ann->skeleton->n_nodes : 0;
  for (i = 0; i < ann->instances->len; i++) {
    const OpInstance *inst = op_annotation_get_instance (ann, i);

    if ((guint) inst->kind > OP_INSTANCE_DETECTION) {
      g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID,
          "instance %u has an unknown kind %d", i, (gint) inst->kind);
      return FALSE;
    }
    if (inst->n_keypoints != want && !(inst->n_keypoints == 0
            && inst->kind == OP_INSTANCE_DETECTION)) {
      g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID,
          "instance %u has %u keypoints, the skeleton has %u nodes", i,
          inst->n_keypoints, want);
      return FALSE;
    }
  }
  if (ann->has_crop) {
    if (ann->instances->len != 1) {
      g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID,
          "a crop must hold exactly one instance, not %u", ann->instances->len);
      return FALSE;
    }
    if (ann->crop.rect[2] <= 0 || ann->crop.rect[3] <= 0) {
      g_set_error (error, OP_ANNOTATION_ERROR, OP_ANNOTATION_ERROR_INVALID,
          "crop \"rect\" must have w, h > 0");
      return FALSE;
    }
  }
  return TRUE;
}
