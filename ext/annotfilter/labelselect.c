/* onepass: which labeled frames annotfilter passes, and with which instances.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "labelselect.h"

static gboolean
instance_counts (const OpInstance * inst, OpInstanceFilter which,
    guint min_keypoints)
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
  if (inst->kind == OP_INSTANCE_DETECTION && inst->has_bbox)
    return TRUE;
  return op_instance_count_present (inst) >= min_keypoints;
}

static void
target_clear (gpointer data)
{
  op_annotation_clear (&((OpTarget *) data)->ann);
}

OpTargetList *
op_target_list_new (const OpLabels * labels, guint video,
    OpInstanceFilter which, guint min_keypoints)
{
  OpTargetList *list = g_new0 (OpTargetList, 1);
  const OpLabeledFrame *f;

  list->targets = g_array_new (FALSE, TRUE, sizeof (OpTarget));
  g_array_set_clear_func (list->targets, target_clear);

  /* labels are sorted by (video, frame): walk this video's run */
  for (f = op_labels_next (labels, video, 0);
      f && f < &g_array_index (labels->frames, OpLabeledFrame,
          labels->frames->len) && f->video == video; f++) {
    OpTarget t = { 0, };
    guint i;

    op_annotation_init (&t.ann);
    op_annotation_set_skeleton (&t.ann, f->ann.skeleton);
    t.frame_index = t.ann.frame_index = f->ann.frame_index;
    for (i = 0; i < op_annotation_n_instances (&f->ann); i++) {
      const OpInstance *inst = op_annotation_get_instance (&f->ann, i);
      if (instance_counts (inst, which, min_keypoints))
        op_annotation_append_instance (&t.ann, inst);
    }
    if (op_annotation_n_instances (&t.ann) == 0) {
      op_annotation_clear (&t.ann);
      continue;
    }
    list->n_instances += op_annotation_n_instances (&t.ann);
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
  g_free (list);
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
