/* onepass: the plain annotation record shared by the metas, readers and writers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opannotation.h"
#include "opname.h"

#include <string.h>

static const gchar *const kind_names[] = { "user", "predicted", "detection" };

/**
 * op_instance_kind_to_string:
 * @kind: a kind
 *
 * Returns: (transfer none): "user", "predicted" or "detection"
 *
 * Since: 0.1
 */
const gchar *
op_instance_kind_to_string (OpInstanceKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), "user");
  return kind_names[kind];
}

/**
 * op_instance_kind_from_string:
 * @str: "user", "predicted" or "detection"
 * @kind: (out): the kind
 *
 * Returns: %FALSE when @str names no kind
 *
 * Since: 0.1
 */
gboolean
op_instance_kind_from_string (const gchar * str, OpInstanceKind * kind)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (kind_names); i++) {
    if (g_strcmp0 (str, kind_names[i]) == 0) {
      *kind = (OpInstanceKind) i;
      return TRUE;
    }
  }
  return FALSE;
}

/**
 * op_keypoint_is_present:
 * @kp: a keypoint
 *
 * Returns: whether @kp is visible and has coordinates
 *
 * Since: 0.2 (a macro before)
 */
gboolean
op_keypoint_is_present (const OpKeypoint * kp)
{
  return kp->visible && !isnan (kp->x) && !isnan (kp->y);
}

/**
 * op_instance_init: (skip)
 * @inst: uninitialised memory
 * @kind: the kind
 * @n_keypoints: the skeleton's node count (0 for a box only)
 *
 * Sets up @inst with @n_keypoints missing keypoints, untracked, no score,
 * no bbox.
 *
 * Since: 0.1
 */
void
op_instance_init (OpInstance * inst, OpInstanceKind kind, guint n_keypoints)
{
  guint i;

  memset (inst, 0, sizeof (*inst));
  inst->kind = kind;
  inst->track = -1;
  inst->score = NAN;
  inst->n_keypoints = n_keypoints;
  inst->keypoints = n_keypoints ? g_new (OpKeypoint, n_keypoints) : NULL;
  for (i = 0; i < n_keypoints; i++) {
    inst->keypoints[i].x = inst->keypoints[i].y = NAN;
    inst->keypoints[i].visible = FALSE;
    inst->keypoints[i].score = NAN;
  }
}

/**
 * op_instance_clear: (skip)
 * @inst: an instance set up with op_instance_init()
 *
 * Frees the keypoints.
 *
 * Since: 0.1
 */
void
op_instance_clear (OpInstance * inst)
{
  g_clear_pointer (&inst->keypoints, g_free);
  g_clear_pointer (&inst->track_name, g_free);
  inst->n_keypoints = 0;
}

/**
 * op_instance_copy_into: (skip)
 * @dest: uninitialised (or cleared) memory
 * @src: an instance
 *
 * Deep-copies @src into @dest.
 *
 * Since: 0.1
 */
void
op_instance_copy_into (OpInstance * dest, const OpInstance * src)
{
  *dest = *src;
  dest->track_name = g_strdup (src->track_name);
  dest->keypoints = src->n_keypoints ?
      g_memdup2 (src->keypoints, src->n_keypoints * sizeof (OpKeypoint)) : NULL;
}

/**
 * op_instance_count_present:
 * @inst: an instance
 *
 * Returns: the number of present keypoints (op_keypoint_is_present())
 *
 * Since: 0.1
 */
guint
op_instance_count_present (const OpInstance * inst)
{
  guint i, n = 0;

  for (i = 0; i < inst->n_keypoints; i++)
    if (op_keypoint_is_present (&inst->keypoints[i]))
      n++;
  return n;
}

/**
 * op_instance_bounds:
 * @inst: an instance
 * @bounds: (out caller-allocates) (array fixed-size=4): [x, y, w, h] of the
 *   present keypoints
 *
 * Returns: FALSE when no keypoint is present (then @bounds is NaN)
 *
 * Since: 0.1
 */
gboolean
op_instance_bounds (const OpInstance * inst, gdouble bounds[4])
{
  gdouble x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  guint i;

  for (i = 0; i < inst->n_keypoints; i++) {
    const OpKeypoint *kp = &inst->keypoints[i];
    if (!op_keypoint_is_present (kp))
      continue;
    x0 = MIN (x0, kp->x);
    y0 = MIN (y0, kp->y);
    x1 = MAX (x1, kp->x);
    y1 = MAX (y1, kp->y);
  }
  if (x0 > x1) {
    /* bindings hand in uninitialised memory: leave nothing that looks
     * like a box */
    bounds[0] = bounds[1] = bounds[2] = bounds[3] = NAN;
    return FALSE;
  }
  bounds[0] = x0;
  bounds[1] = y0;
  bounds[2] = x1 - x0;
  bounds[3] = y1 - y0;
  return TRUE;
}

static void
instance_clear_func (gpointer data)
{
  op_instance_clear (data);
}

/**
 * op_annotation_init: (skip)
 * @ann: uninitialised memory
 *
 * Sets up an empty annotation: no source (""), frame 0, no pts, no
 * skeleton, no instances.
 *
 * Since: 0.1
 */
void
op_annotation_init (OpAnnotation * ann)
{
  memset (ann, 0, sizeof (*ann));
  ann->source = g_strdup ("");
  ann->pts = GST_CLOCK_TIME_NONE;
  ann->instances = g_array_new (FALSE, FALSE, sizeof (OpInstance));
  g_array_set_clear_func (ann->instances, instance_clear_func);
}

/**
 * op_annotation_clear: (skip)
 * @ann: an annotation set up with op_annotation_init()
 *
 * Frees the instances and drops the skeleton.
 *
 * Since: 0.1
 */
void
op_annotation_clear (OpAnnotation * ann)
{
  g_clear_pointer (&ann->skeleton, op_skeleton_unref);
  g_clear_pointer (&ann->instances, g_array_unref);
  g_clear_pointer (&ann->source, g_free);
}

/**
 * op_annotation_copy_into: (skip)
 * @dest: an initialised annotation whose contents are replaced
 * @src: the annotation to copy
 *
 * Deep-copies instances; the skeleton is shared, not copied.
 *
 * Since: 0.1
 */
void
op_annotation_copy_into (OpAnnotation * dest, const OpAnnotation * src)
{
  guint i;

  g_array_set_size (dest->instances, 0);
  op_annotation_set_skeleton (dest, src->skeleton);
  if (dest->source != src->source) {
    g_free (dest->source);
    dest->source = g_strdup (src->source);
  }
  dest->frame_index = src->frame_index;
  dest->pts = src->pts;
  dest->width = src->width;
  dest->height = src->height;
  dest->source_width = src->source_width;
  dest->source_height = src->source_height;
  dest->has_crop = src->has_crop;
  dest->crop = src->crop;
  dest->augment = src->augment;
  for (i = 0; i < src->instances->len; i++)
    op_annotation_append_instance (dest, op_annotation_get_instance (src, i));
}

/**
 * op_annotation_set_skeleton:
 * @ann: an annotation
 * @skeleton: (nullable) (transfer none): the skeleton (a reference is taken)
 *
 * Sets the skeleton. The keypoints of instances already added are not
 * changed: set the skeleton first.
 *
 * Since: 0.1
 */
void
op_annotation_set_skeleton (OpAnnotation * ann, OpSkeleton * skeleton)
{
  if (ann->skeleton == skeleton)
    return;
  if (skeleton)
    op_skeleton_ref (skeleton);
  if (ann->skeleton)
    op_skeleton_unref (ann->skeleton);
  ann->skeleton = skeleton;
}

/**
 * op_annotation_add_instance: (skip)
 * @ann: an annotation
 * @kind: the new instance's kind
 *
 * Appends an instance with one missing keypoint per skeleton node.
 * Bindings use op_instance_new() and op_annotation_append_instance().
 *
 * Returns: (transfer none): the new instance, valid until the next add
 *
 * Since: 0.1
 */
OpInstance *
op_annotation_add_instance (OpAnnotation * ann, OpInstanceKind kind)
{
  OpInstance inst;

  op_instance_init (&inst, kind, ann->skeleton ? ann->skeleton->n_nodes : 0);
  g_array_append_val (ann->instances, inst);
  return &g_array_index (ann->instances, OpInstance, ann->instances->len - 1);
}

/**
 * op_annotation_append_instance:
 * @ann: an annotation
 * @inst: the instance, copied
 *
 * Appends a copy of @inst.
 *
 * Since: 0.1
 */
void
op_annotation_append_instance (OpAnnotation * ann, const OpInstance * inst)
{
  OpInstance copy;

  op_instance_copy_into (&copy, inst);
  g_array_append_val (ann->instances, copy);
}

/**
 * op_annotation_get_instance:
 * @ann: an annotation
 * @i: an index below op_annotation_n_instances()
 *
 * Returns: (transfer none) (nullable): instance @i, owned by @ann (bindings
 *   get a copy)
 *
 * Since: 0.1
 */
OpInstance *
op_annotation_get_instance (const OpAnnotation * ann, guint i)
{
  g_return_val_if_fail (i < ann->instances->len, NULL);
  return &g_array_index (ann->instances, OpInstance, i);
}

/**
 * op_annotation_n_instances:
 * @ann: an annotation
 *
 * Returns: the number of instances
 *
 * Since: 0.1
 */
guint
op_annotation_n_instances (const OpAnnotation * ann)
{
  return ann->instances->len;
}

/**
 * op_coord_scale:
 * @v: a coordinate
 * @in_size: the axis size before the resize
 * @out_size: the axis size after it
 *
 * Maps a coordinate when an axis of @in_size pixels is resized to @out_size
 * pixels, with pixel centres at integers: (v + 0.5) * out / in - 0.5.
 * NaN stays NaN; an unchanged size returns @v bit for bit.
 *
 * Returns: the coordinate after the resize
 *
 * Since: 0.1
 */
gdouble
op_coord_scale (gdouble v, gdouble in_size, gdouble out_size)
{
  if (in_size == out_size || in_size <= 0)
    return v;
  return (v + 0.5) * out_size / in_size - 0.5;
}

/**
 * op_frame_to_crop:
 * @rect: (array fixed-size=4): the crop's rect [x, y, w, h] in the frame
 * @crop_w: crop width
 * @crop_h: crop height
 * @x: frame x
 * @y: frame y
 * @cx: (out): crop x
 * @cy: (out): crop y
 *
 * The design's crop formula: ((x + 0.5 - rect.x) * W / rect.w - 0.5, ...).
 *
 * Since: 0.1
 */
void
op_frame_to_crop (const gint rect[4], guint crop_w, guint crop_h,
    gdouble x, gdouble y, gdouble * cx, gdouble * cy)
{
  *cx = (x + 0.5 - rect[0]) * crop_w / rect[2] - 0.5;
  *cy = (y + 0.5 - rect[1]) * crop_h / rect[3] - 0.5;
}

/**
 * op_crop_to_frame:
 * @rect: (array fixed-size=4): the crop's rect [x, y, w, h] in the frame
 * @crop_w: crop width
 * @crop_h: crop height
 * @cx: crop x
 * @cy: crop y
 * @x: (out): frame x
 * @y: (out): frame y
 *
 * The inverse of op_frame_to_crop(), used by compositor328.
 *
 * Since: 0.1
 */
void
op_crop_to_frame (const gint rect[4], guint crop_w, guint crop_h,
    gdouble cx, gdouble cy, gdouble * x, gdouble * y)
{
  *x = (cx + 0.5) * rect[2] / crop_w - 0.5 + rect[0];
  *y = (cy + 0.5) * rect[3] / crop_h - 0.5 + rect[1];
}

/**
 * op_instance_frame_to_crop:
 * @inst: an instance in frame coordinates
 * @rect: (array fixed-size=4): the crop's rect [x, y, w, h] in the frame
 * @crop_w: crop width
 * @crop_h: crop height
 *
 * Moves @inst's keypoints and box from frame coordinates into those of a
 * @crop_w x @crop_h crop cut from @rect. The box corner moves like a
 * point, its extent scales. NaN stays NaN.
 *
 * Since: 0.1
 */
void
op_instance_frame_to_crop (OpInstance * inst, const gint rect[4],
    guint crop_w, guint crop_h)
{
  guint k;

  for (k = 0; k < inst->n_keypoints; k++) {
    OpKeypoint *kp = &inst->keypoints[k];
    op_frame_to_crop (rect, crop_w, crop_h, kp->x, kp->y, &kp->x, &kp->y);
  }
  if (inst->has_bbox) {
    op_frame_to_crop (rect, crop_w, crop_h, inst->bbox[0], inst->bbox[1],
        &inst->bbox[0], &inst->bbox[1]);
    inst->bbox[2] = inst->bbox[2] * crop_w / rect[2];
    inst->bbox[3] = inst->bbox[3] * crop_h / rect[3];
  }
}

/**
 * op_instance_crop_to_frame:
 * @inst: an instance in crop coordinates
 * @rect: (array fixed-size=4): the crop's rect [x, y, w, h] in the frame
 * @crop_w: crop width
 * @crop_h: crop height
 *
 * The inverse of op_instance_frame_to_crop().
 *
 * Since: 0.1
 */
void
op_instance_crop_to_frame (OpInstance * inst, const gint rect[4],
    guint crop_w, guint crop_h)
{
  guint k;

  for (k = 0; k < inst->n_keypoints; k++) {
    OpKeypoint *kp = &inst->keypoints[k];
    op_crop_to_frame (rect, crop_w, crop_h, kp->x, kp->y, &kp->x, &kp->y);
  }
  if (inst->has_bbox) {
    op_crop_to_frame (rect, crop_w, crop_h, inst->bbox[0], inst->bbox[1],
        &inst->bbox[0], &inst->bbox[1]);
    inst->bbox[2] *= (gdouble) rect[2] / crop_w;
    inst->bbox[3] *= (gdouble) rect[3] / crop_h;
  }
}

static void
rescale_instance (OpInstance * inst, guint in_w, guint in_h, guint out_w,
    guint out_h)
{
  guint k;

  for (k = 0; k < inst->n_keypoints; k++) {
    inst->keypoints[k].x = op_coord_scale (inst->keypoints[k].x, in_w, out_w);
    inst->keypoints[k].y = op_coord_scale (inst->keypoints[k].y, in_h, out_h);
  }
  if (inst->has_bbox) {
    /* the box's corner moves like a point, its extent scales linearly */
    inst->bbox[0] = op_coord_scale (inst->bbox[0], in_w, out_w);
    inst->bbox[1] = op_coord_scale (inst->bbox[1], in_h, out_h);
    if (in_w != out_w)
      inst->bbox[2] = inst->bbox[2] * out_w / in_w;
    if (in_h != out_h)
      inst->bbox[3] = inst->bbox[3] * out_h / in_h;
  }
}

/**
 * op_annotation_rescale:
 * @ann: an annotation
 * @new_width: the image's new width
 * @new_height: the image's new height
 *
 * Applies a resize of the image the annotation describes to
 * @new_width x @new_height: the frame for a frame annotation (keypoints,
 * boxes and frame size change), the crop for a crop annotation (crop-space
 * keypoints and crop size change; the rect stays in frame coordinates).
 *
 * Since: 0.1
 */
void
op_annotation_rescale (OpAnnotation * ann, guint new_width, guint new_height)
{
  guint *w = ann->has_crop ? &ann->crop.width : &ann->width;
  guint *h = ann->has_crop ? &ann->crop.height : &ann->height;
  guint i;

  if (*w == 0 || *h == 0 || (*w == new_width && *h == new_height))
    return;
  for (i = 0; i < ann->instances->len; i++)
    rescale_instance (op_annotation_get_instance (ann, i), *w, *h, new_width,
        new_height);
  *w = new_width;
  *h = new_height;
}

/* multifilesrc's URI ("multifle:" in GStreamer 1.22, "multifile:") holds
 * a printf pattern such as img_%05d.png: the path, without the pattern */
static gchar *
pattern_path (const gchar * uri)
{
  const gchar *rest = strchr (uri, ':') + 1;
  gchar *path = g_uri_unescape_string (rest, NULL);
  GString *out;
  const gchar *p;

  if (path == NULL)
    path = g_strdup (rest);
  out = g_string_new (NULL);
  for (p = path; *p; p++) {
    if (*p == '%' && p[1] != '%') {
      /* a conversion: flags, width, length and the conversion letter */
      p++;
      while (*p && strchr ("0123456789-+ #.lhz", *p))
        p++;
      if (*p == '\0')
        break;
      /* and the separator before it (img_%05d -> img) */
      while (out->len > 0 && strchr ("_-. ", out->str[out->len - 1]))
        g_string_truncate (out, out->len - 1);
      /* or after it, when it starts the name (%05d_left -> left) */
      if (out->len == 0 || out->str[out->len - 1] == '/')
        while (p[1] && strchr ("_- ", p[1]))
          p++;
      continue;
    }
    g_string_append_c (out, *p);
  }
  g_free (path);
  return g_string_free (out, FALSE);
}

/**
 * op_source_name_from_uri:
 * @uri_or_path: (nullable): a URI or a file path
 *
 * The design's source name: the base name of a file path or URI without its
 * extension, with every character outside [A-Za-z0-9_-] replaced by '_'
 * (no dots: WebDataset cuts a sample key at its first dot). A multifilesrc
 * URI is named from its location pattern without the number
 * (img_%05d.png -> img).
 *
 * Returns: (transfer full): the source name ("unknown" for %NULL or empty)
 *
 * Since: 0.1
 */
gchar *
op_source_name_from_uri (const gchar * uri_or_path)
{
  gchar *path = NULL, *base, *dot, *sep, *bsep, *name;

  if (uri_or_path == NULL || *uri_or_path == '\0')
    return g_strdup ("unknown");
  if (g_str_has_prefix (uri_or_path, "multifle:")
      || g_str_has_prefix (uri_or_path, "multifile:"))
    path = pattern_path (uri_or_path);
  else if (gst_uri_is_valid (uri_or_path))
    path = g_filename_from_uri (uri_or_path, NULL, NULL);
  if (path == NULL) {
    /* not a file URI: take the last path component of whatever it is */
    const gchar *q = strrchr (uri_or_path, '?');
    path =
        q ? g_strndup (uri_or_path, q - uri_or_path) : g_strdup (uri_or_path);
  }
  /* labels store paths from the labeler's machine: '\\' separates too */
  sep = strrchr (path, '/');
  bsep = strrchr (path, '\\');
  if (bsep && (!sep || bsep > sep))
    sep = bsep;
  base = g_strdup (sep ? sep + 1 : path);
  g_free (path);
  dot = strrchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  /* the one sanitiser, as batchsink's keys: one '_' per UTF-8 character */
  name = op_name_sanitize (base, 0);
  g_free (base);
  return name;
}
