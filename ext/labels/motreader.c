/* onepass: reader for MOT-challenge tracking text (MOT15-MOT20 gt.txt,
 * det.txt and tracker outputs): one box per line,
 * `frame,id,bb_left,bb_top,bb_width,bb_height,conf,...`.
 *
 * Every line becomes a detection instance (no keypoints, no skeleton) of
 * its frame. The format's facts and our choices (docs/labelreaders.md):
 * - frames, ids and boxes are 1-based (motchallenge.net/instructions: "All
 *   frame numbers, target IDs and bounding boxes are 1-based"): frame f is
 *   onepass frame f - 1, and a box whose leftmost pixel column is bb_left
 *   (1-based) has its left edge at bb_left - 1.5 in onepass coordinates
 *   (pixel centres at 0-based integers, image corner at -0.5);
 * - `id` is the track (kept as written); -1 means untracked (det.txt);
 * - 9 fields is the MOT16+ ground-truth layout
 *   (`...,conf,class,visibility`): `conf` is a flag there, 0 = not to be
 *   considered (distractors, reflections, static persons), and such lines
 *   are skipped and counted in a warning; the boxes have no score;
 * - any other width (6 to 10 fields) is a detector or tracker output:
 *   `conf` is the score, -1 (or absent) = none.
 * The file does not name its video nor record the frame size.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "textutil.h"

#include <string.h>

#define MIN_FIELDS 6
#define MAX_FIELDS 10
#define GT_FIELDS 9

static const gchar *const field_names[MAX_FIELDS] = {
  "frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf",
  "x", "y", "z"
};

/* The numbers of one line, checked; on failure @error names the problem
 * (the caller adds the line). */
static gboolean
parse_line (gchar ** fields, guint n, gdouble * v, GError ** error)
{
  guint i;

  for (i = 0; i < n; i++) {
    if (!op_text_parse_number (fields[i], &v[i])) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "field %u (%s) \"%s\" is not a number", i + 1,
          n == GT_FIELDS && i >= 7 ? (i == 7 ? "class" : "visibility") :
          field_names[i], fields[i]);
      return FALSE;
    }
  }
  if (v[0] != (gint64) v[0] || v[0] < 1) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "frame \"%s\" is not a 1-based frame number", fields[0]);
    return FALSE;
  }
  if (v[1] != (gint64) v[1] || v[1] < -1 || v[1] > G_MAXINT) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "id \"%s\" is not a track id (an integer, -1 = none)", fields[1]);
    return FALSE;
  }
  if (v[4] <= 0 || v[5] <= 0) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "box %s x %s is empty (width and height must be > 0)", fields[4],
        fields[5]);
    return FALSE;
  }
  return TRUE;
}

/* A MOT file's first non-blank line is 6 to 10 numbers whose first is a
 * 1-based frame number and second a track id: no other format onepass
 * reads starts so (DeepLabCut starts with "scorer", JSON with "{"). */
static gboolean
mot_probe (const gchar * path, const guint8 * head, gsize len)
{
  gchar *line = op_text_first_line (head, len);
  gchar **fields;
  gdouble v[MAX_FIELDS];
  guint n;
  gboolean ok;

  if (line == NULL)
    return FALSE;
  fields = op_text_split_fields (line, &n);
  ok = n >= MIN_FIELDS && n <= MAX_FIELDS && parse_line (fields, n, v, NULL);
  g_strfreev (fields);
  g_free (line);
  return ok;
}

/* (frame, id) -> line, to refuse a track listed twice in one frame */
static guint64
track_key (gint64 frame, gint64 id)
{
  return ((guint64) frame << 32) | (guint32) id;
}

static OpLabels *
mot_load (const gchar * path, GError ** error)
{
  gchar *text = NULL, **lines = NULL;
  GError *err = NULL;
  OpLabels *labels = NULL;
  GHashTable *seen = NULL, *frames = NULL;
  guint i, n_first = 0, skipped = 0;

  if (!g_file_get_contents (path, &text, NULL, &err)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "cannot read: %s", err->message);
    g_clear_error (&err);
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  labels = op_labels_new (path, "mot");
  /* (frame, id) -> line; frame -> 1 + its index in labels->building (the
   * lines of one frame need not be adjacent, and one OpLabeledFrame per
   * frame keeps op_labels_finish from warning about "duplicates") */
  seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  frames = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (i = 0; lines[i]; i++) {
    gchar **fields;
    gdouble v[MAX_FIELDS];
    guint n;
    gint64 *key;
    gpointer prev, slot;
    OpLabeledFrame *f;
    OpInstance *inst;

    if (op_text_is_blank (lines[i]))
      continue;
    fields = op_text_split_fields (lines[i], &n);
    if (n_first == 0 && (n < MIN_FIELDS || n > MAX_FIELDS)) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "line %u: %u fields; a MOT line has %d to %d "
          "(frame,id,bb_left,bb_top,bb_width,bb_height,conf,...)", i + 1, n,
          MIN_FIELDS, MAX_FIELDS);
      g_strfreev (fields);
      goto fail;
    }
    if (n_first == 0)
      n_first = n;
    if (n != n_first) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "line %u: %u fields, but the first line has %u", i + 1, n, n_first);
      g_strfreev (fields);
      goto fail;
    }
    if (!parse_line (fields, n, v, &err)) {
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "line %u: %s", i + 1, err->message);
      g_clear_error (&err);
      g_strfreev (fields);
      goto fail;
    }
    g_strfreev (fields);
    if (n == GT_FIELDS && v[6] == 0) {
      skipped++;
      continue;
    }
    if (v[1] >= 0) {
      key = g_new (gint64, 1);
      *key = (gint64) track_key ((gint64) v[0], (gint64) v[1]);
      if (g_hash_table_lookup_extended (seen, key, NULL, &prev)) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
            "line %u: track %" G_GINT64_FORMAT " is in frame %" G_GINT64_FORMAT
            " twice (line %u too)", i + 1, (gint64) v[1], (gint64) v[0],
            GPOINTER_TO_UINT (prev));
        g_free (key);
        goto fail;
      }
      g_hash_table_insert (seen, key, GUINT_TO_POINTER (i + 1));
    }
    key = g_new (gint64, 1);
    *key = (gint64) v[0];
    if (g_hash_table_lookup_extended (frames, key, NULL, &slot)) {
      f = &g_array_index (labels->building, OpLabeledFrame,
          GPOINTER_TO_UINT (slot) - 1);
      g_free (key);
    } else {
      f = op_labels_add_frame (labels, 0, (guint64) v[0] - 1, NULL);
      g_hash_table_insert (frames, key,
          GUINT_TO_POINTER (labels->building->len));
    }
    inst = op_annotation_add_instance (&f->ann, OP_INSTANCE_DETECTION);
    inst->track = (gint) v[1];
    inst->score = (n > 6 && n != GT_FIELDS && v[6] != -1) ? v[6] : NAN;
    op_instance_set_bbox (inst, v[2] - 1.5, v[3] - 1.5, v[4], v[5]);
  }
  if (skipped > 0)
    op_labels_add_warning (labels, "%u ground-truth line(s) with conf 0 (not "
        "to be considered) were skipped", skipped);
  if (labels->building->len == 0)
    op_labels_add_warning (labels, "the file holds no boxes");
  g_hash_table_unref (seen);
  g_hash_table_unref (frames);
  g_strfreev (lines);
  return labels;

fail:
  g_hash_table_unref (seen);
  g_hash_table_unref (frames);
  g_strfreev (lines);
  op_labels_free (labels);
  return NULL;
}

const OpLabelReader op_mot_reader = { "mot",
  "MOT challenge text (gt.txt, det.txt, tracker results)", mot_probe, mot_load
};
