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
 */
typedef struct {
  gdouble x, y;
  gboolean visible;
  gdouble score;
} OpKeypoint;

#define op_keypoint_is_present(kp) \
  ((kp)->visible && !isnan ((kp)->x) && !isnan ((kp)->y))

/**
 * OpInstance:
 * @kind: user, predicted or detection
 * @track: track index, -1 when untracked
 * @track_name: (nullable): interned track name
 * @score: instance score, NaN = none
 * @has_bbox: whether @bbox is set
 * @bbox: [x, y, w, h] in the same coordinates as the keypoints
 * @n_keypoints: number of keypoints (the skeleton's node count)
 * @keypoints: one per skeleton node, in the skeleton's order
 * @replaced: a predicted instance that a user instance of the same frame
 *   corrects (SLEAP's `from_predicted`); selecting user and predicted
 *   instances together skips it, so the animal appears once
 */
typedef struct {
  OpInstanceKind kind;
  gint track;
  const gchar *track_name;
  gdouble score;
  gboolean has_bbox;
  gdouble bbox[4];
  guint n_keypoints;
  OpKeypoint *keypoints;
  gboolean replaced;
} OpInstance;

void     op_instance_init        (OpInstance * inst, OpInstanceKind kind,
                                  guint n_keypoints);
void     op_instance_clear       (OpInstance * inst);
void     op_instance_copy_into   (OpInstance * dest, const OpInstance * src);
guint    op_instance_count_present (const OpInstance * inst);
gboolean op_instance_bounds      (const OpInstance * inst, gdouble bounds[4]);

/**
 * OpCropInfo:
 * @instance: index of the cropped instance in its frame's filtered list
 * @rect: [x, y, w, h] integer rectangle in frame coordinates (may pass the edge)
 * @width: crop width in pixels
 * @height: crop height in pixels
 */
typedef struct {
  guint instance;
  gint rect[4];
  guint width, height;
} OpCropInfo;

/**
 * OpAnnotation:
 * @source: interned source name (video base name, sanitized)
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
 *
 * One annotated frame or crop: what the annotation JSON of the design holds.
 */
typedef struct {
  const gchar *source;
  guint64 frame_index;
  GstClockTime pts;
  guint width, height;
  guint source_width, source_height;
  OpSkeleton *skeleton;
  GArray *instances;
  gboolean has_crop;
  OpCropInfo crop;
} OpAnnotation;

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
