/* onepass: the plain annotation record shared by the metas, readers and writers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_ANNOTATION_H__
#define __OP_ANNOTATION_H__

#include <math.h>
#include <gst/gst.h>
#include "opskeleton.h"

G_BEGIN_DECLS

/**
 * OpInstanceKind:
 * @OP_INSTANCE_USER: labeled by a person
 * @OP_INSTANCE_PREDICTED: predicted by a model (has scores)
 * @OP_INSTANCE_DETECTION: a detection box, keypoints optional
 *
 * Where an instance comes from (the annotation JSON's `kind`).
 *
 * Since: 0.1
 */
typedef enum {
  OP_INSTANCE_USER = 0,
  OP_INSTANCE_PREDICTED = 1,
  OP_INSTANCE_DETECTION = 2,
} OpInstanceKind;

const gchar *op_instance_kind_to_string (OpInstanceKind kind);
gboolean     op_instance_kind_from_string (const gchar * str, OpInstanceKind * kind);

/**
 * OpKeypoint:
 * @x: x in pixel-centre coordinates (image corner at -0.5); NaN = missing
 * @y: y, likewise
 * @visible: visibility flag; a missing point is never visible
 * @score: confidence; NaN = none (user labels)
 *
 * One keypoint. Bindings read keypoints with op_instance_get_keypoints().
 *
 * Since: 0.1
 */
typedef struct {
  gdouble x, y;
  gboolean visible;
  gdouble score;
} OpKeypoint;

gboolean op_keypoint_is_present (const OpKeypoint * kp);

/**
 * OpInstance:
 * @kind: user, predicted or detection
 * @track: track index, -1 when untracked
 * @track_name: (nullable): track name, owned by the instance (set it with
 *   op_instance_set_track_name(); since 0.3, no longer interned)
 * @score: instance score, NaN = none
 * @has_bbox: whether @bbox is set
 * @bbox: [x, y, w, h] in the same coordinates as the keypoints
 * @n_keypoints: number of keypoints (the skeleton's node count)
 * @keypoints: one per skeleton node, in the skeleton's order
 * @replaced: a predicted instance that a user instance of the same frame
 *   corrects (SLEAP's `from_predicted`); selecting user and predicted
 *   instances together skips it, so the animal appears once
 *
 * One animal or object. A boxed type: a copy copies the keypoints.
 * Bindings use op_instance_new() and the accessors (op_instance_get_keypoints()
 * gives the keypoints as one flat array).
 *
 * Since: 0.1
 */
typedef struct {
  OpInstanceKind kind;
  gint track;
  gchar *track_name;
  gdouble score;
  gboolean has_bbox;
  gdouble bbox[4];
  guint n_keypoints;
  OpKeypoint *keypoints;
  gboolean replaced;
} OpInstance;

#define OP_TYPE_INSTANCE (op_instance_get_type ())
GType    op_instance_get_type    (void);

void     op_instance_init        (OpInstance * inst, OpInstanceKind kind,
                                  guint n_keypoints);
void     op_instance_clear       (OpInstance * inst);
void     op_instance_copy_into   (OpInstance * dest, const OpInstance * src);
guint    op_instance_count_present (const OpInstance * inst);
gboolean op_instance_bounds      (const OpInstance * inst, gdouble bounds[4]);

OpInstance    *op_instance_new        (OpInstanceKind kind, guint n_keypoints);
OpInstance    *op_instance_copy       (const OpInstance * inst);
void           op_instance_free       (OpInstance * inst);
OpInstanceKind op_instance_get_kind   (const OpInstance * inst);
void           op_instance_set_kind   (OpInstance * inst, OpInstanceKind kind);
gint           op_instance_get_track  (const OpInstance * inst);
void           op_instance_set_track  (OpInstance * inst, gint track);
const gchar   *op_instance_get_track_name (const OpInstance * inst);
void           op_instance_set_track_name (OpInstance * inst,
                                       const gchar * track_name);
gdouble        op_instance_get_score  (const OpInstance * inst);
void           op_instance_set_score  (OpInstance * inst, gdouble score);
gboolean       op_instance_get_bbox   (const OpInstance * inst, gdouble * x,
                                       gdouble * y, gdouble * w, gdouble * h);
void           op_instance_set_bbox   (OpInstance * inst, gdouble x, gdouble y,
                                       gdouble w, gdouble h);
void           op_instance_unset_bbox (OpInstance * inst);
gboolean       op_instance_is_replaced (const OpInstance * inst);
guint          op_instance_get_n_keypoints (const OpInstance * inst);
gboolean       op_instance_get_keypoint (const OpInstance * inst, guint index,
                                       gdouble * x, gdouble * y,
                                       gboolean * visible, gdouble * score);
void           op_instance_set_keypoint (OpInstance * inst, guint index,
                                       gdouble x, gdouble y, gboolean visible,
                                       gdouble score);
gdouble       *op_instance_get_keypoints (const OpInstance * inst,
                                       guint * n_values);
gboolean       op_instance_set_keypoints (OpInstance * inst,
                                       const gdouble * values, guint n_values,
                                       GError ** error);

/**
 * OpCropInfo:
 * @instance: index of the cropped instance in its frame's filtered list
 * @rect: [x, y, w, h] integer rectangle in frame coordinates (may pass the edge)
 * @width: crop width in pixels
 * @height: crop height in pixels
 *
 * Since: 0.1
 */
typedef struct {
  guint instance;
  gint rect[4];
  guint width, height;
} OpCropInfo;

/**
 * OpAnnotation:
 * @source: source name (video base name, sanitized), owned by the
 *   annotation (set it with op_annotation_set_source(); since 0.3, no longer
 *   interned)
 * @frame_index: 0-based presentation-order frame index
 * @pts: buffer timestamp, or GST_CLOCK_TIME_NONE
 * @width: frame width
 * @height: frame height
 * @source_width: width of the source video before any scaling (0 = unknown);
 *   unlike @width, a rescale leaves it unchanged
 * @source_height: likewise
 * @skeleton: (nullable): shared skeleton
 * @instances: GArray of #OpInstance (frame or crop coordinates)
 * @has_crop: TRUE for a crop; then @instances holds the one cropped instance
 *   in crop coordinates and @crop describes the crop
 * @crop: crop description
 * @augment: 0 for an original image; k >= 1 for the k-th augmented copy
 *   made by annotaugment (the sample key gets `_aug<k>`, the JSON
 *   `"augment": k`). The pixels, keypoints and boxes are the augmented
 *   ones; a crop's @crop rect still names the region the un-augmented crop
 *   was cut from (a rotated or flipped crop is no rectangle of the frame)
 *
 * One annotated frame or crop: what the annotation JSON of the design holds.
 * A boxed type: a copy copies the instances and shares the skeleton.
 * Bindings use op_annotation_new() and the accessors; an annotation read
 * off a buffer by a binding is a copy, op_buffer_add_annotation() puts one
 * on a buffer.
 *
 * Since: 0.1
 */
typedef struct {
  gchar *source;
  guint64 frame_index;
  GstClockTime pts;
  guint width, height;
  guint source_width, source_height;
  OpSkeleton *skeleton;
  GArray *instances;
  gboolean has_crop;
  OpCropInfo crop;
  guint augment;
} OpAnnotation;

#define OP_TYPE_ANNOTATION (op_annotation_get_type ())
GType       op_annotation_get_type   (void);

void        op_annotation_init       (OpAnnotation * ann);
void        op_annotation_clear      (OpAnnotation * ann);
void        op_annotation_copy_into  (OpAnnotation * dest, const OpAnnotation * src);
void        op_annotation_set_skeleton (OpAnnotation * ann, OpSkeleton * skeleton);
OpInstance *op_annotation_add_instance (OpAnnotation * ann, OpInstanceKind kind);
void        op_annotation_append_instance (OpAnnotation * ann,
                                           const OpInstance * inst);
OpInstance *op_annotation_get_instance (const OpAnnotation * ann, guint i);
guint       op_annotation_n_instances  (const OpAnnotation * ann);
void        op_annotation_rescale    (OpAnnotation * ann, guint new_width,
                                      guint new_height);

OpAnnotation *op_annotation_new      (void);
OpAnnotation *op_annotation_copy     (const OpAnnotation * ann);
void        op_annotation_free       (OpAnnotation * ann);
const gchar *op_annotation_get_source (const OpAnnotation * ann);
void        op_annotation_set_source (OpAnnotation * ann, const gchar * source);
guint64     op_annotation_get_frame_index (const OpAnnotation * ann);
void        op_annotation_set_frame_index (OpAnnotation * ann,
                                      guint64 frame_index);
GstClockTime op_annotation_get_pts   (const OpAnnotation * ann);
void        op_annotation_set_pts    (OpAnnotation * ann, GstClockTime pts);
void        op_annotation_get_size   (const OpAnnotation * ann, guint * width,
                                      guint * height);
void        op_annotation_set_size   (OpAnnotation * ann, guint width,
                                      guint height);
void        op_annotation_get_source_size (const OpAnnotation * ann,
                                      guint * width, guint * height);
void        op_annotation_set_source_size (OpAnnotation * ann, guint width,
                                      guint height);
OpSkeleton *op_annotation_get_skeleton (const OpAnnotation * ann);
gboolean    op_annotation_get_crop   (const OpAnnotation * ann,
                                      guint * instance, gint * x, gint * y,
                                      gint * w, gint * h, guint * crop_width,
                                      guint * crop_height);
void        op_annotation_set_crop   (OpAnnotation * ann, guint instance,
                                      gint x, gint y, gint w, gint h,
                                      guint crop_width, guint crop_height);
void        op_annotation_unset_crop (OpAnnotation * ann);
guint       op_annotation_get_augment (const OpAnnotation * ann);
void        op_annotation_set_augment (OpAnnotation * ann, guint augment);
void        op_annotation_remove_instances (OpAnnotation * ann);
gboolean    op_annotation_validate   (const OpAnnotation * ann, GError ** error);

gchar      *op_source_name_from_uri  (const gchar * uri_or_path);

/* Coordinate maps of the design ("Coordinates"). */
gdouble     op_coord_scale           (gdouble v, gdouble in_size, gdouble out_size);
void        op_frame_to_crop         (const gint rect[4], guint crop_w, guint crop_h,
                                      gdouble x, gdouble y, gdouble * cx, gdouble * cy);
void        op_crop_to_frame         (const gint rect[4], guint crop_w, guint crop_h,
                                      gdouble cx, gdouble cy, gdouble * x, gdouble * y);
void        op_instance_frame_to_crop (OpInstance * inst, const gint rect[4],
                                      guint crop_w, guint crop_h);
void        op_instance_crop_to_frame (OpInstance * inst, const gint rect[4],
                                      guint crop_w, guint crop_h);

G_END_DECLS

#endif /* __OP_ANNOTATION_H__ */
