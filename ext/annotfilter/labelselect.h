/* onepass: which labeled frames annotfilter passes, and with which instances.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_LABEL_SELECT_H__
#define __OP_LABEL_SELECT_H__

#include <oplabels.h>

G_BEGIN_DECLS

/**
 * OpInstanceFilter:
 * @OP_INSTANCES_USER: user-labeled instances only
 * @OP_INSTANCES_PREDICTED: predicted instances only
 * @OP_INSTANCES_ALL: every kind: user, predicted and detection
 * @OP_INSTANCES_DETECTION: detection instances only (boxes, keypoints
 *   optional: MOT and COCO files without keypoints)
 *
 * The values are the `instances` property's enum values (appended, so the
 * older ones keep their numbers).
 */
typedef enum {
  OP_INSTANCES_USER,
  OP_INSTANCES_PREDICTED,
  OP_INSTANCES_ALL,
  OP_INSTANCES_DETECTION,
} OpInstanceFilter;

/* One frame to pass: a labeled frame and which of its instances count,
 * indices into the immutable labels (nothing is copied until a buffer
 * gets its meta). */
typedef struct {
  guint64 frame_index;
  const OpLabelsFrame *frame;
  guint first, n;               /* its instances: selected[first .. first+n) */
  gboolean reached;
} OpTarget;

/*
 * The frames of one video that carry at least one counted instance, sorted
 * by frame index, built once when the video is known.
 */
typedef struct {
  const OpLabels *labels;
  GArray *targets;              /* OpTarget */
  GArray *selected;             /* guint32 rows of labels->instances */
  guint64 n_instances;
} OpTargetList;

OpTargetList *op_target_list_new   (const OpLabels * labels, guint video,
                                    OpInstanceFilter which, guint min_keypoints);
void          op_target_list_free  (OpTargetList * list);
OpTarget     *op_target_list_find  (OpTargetList * list, guint64 frame_index);
OpTarget     *op_target_list_next  (OpTargetList * list, guint64 frame_index);
OpSkeleton   *op_target_list_skeleton (const OpTargetList * list);
void          op_target_list_fill  (const OpTargetList * list,
                                    const OpTarget * target,
                                    OpAnnotation * ann);
guint         op_target_list_count_unreached (const OpTargetList * list,
                                              guint64 from, guint64 to,
                                              GString * first_few);

G_END_DECLS

#endif /* __OP_LABEL_SELECT_H__ */
