/* onepass: which labeled frames annotfilter passes, and with which instances.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "labelselect.h"

static gboolean
instance_counts (const OpLabels * labels, const OpLabelsInstance * inst,
    OpInstanceFilter which, guint min_keypoints)
{
  if (which == OP_INSTANCES_USER && inst->kind != OP_INSTANCE_USER)
    return FALSE;
  if (which == OP_INSTANCES_PREDICTED && inst->kind != OP_INSTANCE_PREDICTED)
    return FALSE;
  if (which == OP_INSTANCES_DETECTION && inst->kind != OP_INSTANCE_DETECTION)
    return FALSE;
  /* with both kinds, a corrected prediction gives way to its correction */
  if (which == OP_INSTANCES_ALL && inst->replaced)
    return FALSE;
  /* min-keypoints counts a detection's box as present: a box without
   * keypoints (MOT, COCO detections) is what a detection is */
  if (inst->kind == OP_INSTANCE_DETECTION && inst->bbox)
    return TRUE;
  return op_labels_instance_count_present (labels, inst) >= min_keypoints;
}

OpTargetList *
op_target_list_new (const OpLabels * labels, guint video,
    OpInstanceFilter which, guint min_keypoints)
{
  OpTargetList *list = g_new0 (OpTargetList, 1);
  const OpLabelsFrame *f, *end = labels->frames + labels->n_frames;

  list->labels = labels;
  list->targets = g_array_new (FALSE, TRUE, sizeof (OpTarget));
  list->selected = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* labels are sorted by (video, frame): walk this video's run */
  for (f = op_labels_next (labels, video, 0); f && f < end
      && f->video == video; f++) {
    OpTarget t = { 0, };
    guint32 i;

    t.frame_index = f->frame_index;
    t.frame = f;
    t.first = list->selected->len;
    for (i = f->first_instance; i < f->first_instance + f->n_instances; i++)
      if (instance_counts (labels, &labels->instances[i], which, min_keypoints))
        g_array_append_val (list->selected, i);
    t.n = list->selected->len - t.first;
    if (t.n == 0)
      continue;
    list->n_instances += t.n;
    g_array_append_val (list->targets, t);
  }
  return list;
}

void
op_target_list_free (OpTargetList * list)
{
  if (list == NULL)
    return;
  g_array_unref (list->targets);
  g_array_unref (list->selected);
  g_free (list);
}

/* the skeleton of an unlabeled frame's empty meta: the video's */
OpSkeleton *
op_target_list_skeleton (const OpTargetList * list)
{
  if (list->targets->len == 0)
    return NULL;
  return op_labels_frame_skeleton (list->labels,
      g_array_index (list->targets, OpTarget, 0).frame);
}

/**
 * op_target_list_fill:
 * @ann: an initialised annotation without instances
 *
 * Gives @ann the target's frame index, skeleton and counted instances, in
 * file order: the one copy made of the labels, for the buffer's meta.
 */
void
op_target_list_fill (const OpTargetList * list, const OpTarget * t,
    OpAnnotation * ann)
{
  guint i;

  ann->frame_index = t->frame_index;
  op_annotation_set_skeleton (ann, op_labels_frame_skeleton (list->labels,
          t->frame));
  for (i = 0; i < t->n; i++) {
    guint32 row = g_array_index (list->selected, guint32, t->first + i);
    OpInstance inst;
    op_labels_get_instance (list->labels, &list->labels->instances[row], &inst);
    g_array_append_val (ann->instances, inst);
  }
}

/* first target at or after @frame_index, or NULL */
OpTarget *
op_target_list_next (OpTargetList * list, guint64 frame_index)
{
  guint lo = 0, hi = list->targets->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (g_array_index (list->targets, OpTarget, mid).frame_index < frame_index)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < list->targets->len ?
      &g_array_index (list->targets, OpTarget, lo) : NULL;
}

OpTarget *
op_target_list_find (OpTargetList * list, guint64 frame_index)
{
  OpTarget *t = op_target_list_next (list, frame_index);

  return (t && t->frame_index == frame_index) ? t : NULL;
}

/**
 * op_target_list_count_unreached:
 * @from: first frame index to consider
 * @to: one past the last (G_MAXUINT64: no limit)
 * @first_few: (nullable): receives up to 10 unreached indices, comma separated
 *
 * Returns: the targets in [@from, @to) the stream never reached
 */
guint
op_target_list_count_unreached (const OpTargetList * list, guint64 from,
    guint64 to, GString * first_few)
{
  guint i, n = 0;

  for (i = 0; i < list->targets->len; i++) {
    const OpTarget *t = &g_array_index (list->targets, OpTarget, i);
    if (t->reached || t->frame_index < from || t->frame_index >= to)
      continue;
    if (first_few && n < 10)
      g_string_append_printf (first_few, "%s%" G_GUINT64_FORMAT,
          n ? ", " : "", t->frame_index);
    n++;
  }
  if (first_few && n > 10)
    g_string_append (first_few, ", ...");
  return n;
}
