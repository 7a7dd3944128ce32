/* onepass: reader for DeepLabCut CSV: labeled data (CollectedData_<scorer>.csv,
 * rows named by image) and video predictions (one row per frame, with
 * likelihood), single-animal (scorer, bodyparts, coords) and multi-animal
 * (scorer, individuals, bodyparts, coords) headers.
 *
 * Layouts, as DeepLabCut writes them (pandas MultiIndex columns, to_csv):
 *   scorer,<s>,<s>,...            (one column per coordinate)
 *   individuals,<id>,...          (multi-animal only; "single" = the
 *                                  unique-bodyparts animal)
 *   bodyparts,<bp>,<bp>,...
 *   coords,x,y[,likelihood],...
 * then one row per image or frame. The index is one column
 * ("labeled-data/<video>/img<N>.png", or a frame number in predictions) or,
 * since DeepLabCut 2.3, three ("labeled-data", "<video>", "img<N>.png");
 * the header rows then have empty cells under the index columns.
 * A point is present when both x and y are numbers; empty cells = missing.
 * Coordinates are DeepLabCut's image coordinates (the labelling GUIs,
 * matplotlib and napari, put pixel centres at integers): unchanged.
 * docs/labelreaders.md has the choices.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "textutil.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  guint column;                 /* first column (x) */
  guint instance;               /* index into individuals */
  guint node;                   /* skeleton node */
} Group;

#define FAIL(...) G_STMT_START { \
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT, \
        __VA_ARGS__); goto fail; } G_STMT_END

/* A DeepLabCut CSV starts with a line whose first cell is "scorer"
 * (pandas writes the first column level's name there). */
static gboolean
dlc_probe (const gchar * path, const guint8 * head, gsize len)
{
  return len >= 7 && memcmp (head, "scorer,", 7) == 0;
}

static gint
find_string (GPtrArray * names, const gchar * name)
{
  guint i;

  for (i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      return i;
  return -1;
}

static OpLabels *
dlc_load (const gchar * path, GError ** error)
{
  gchar *text = NULL, **lines = NULL, **row[4] = { NULL, };
  GError *err = NULL;
  OpLabels *labels = NULL;
  OpSkeleton *skeleton = NULL;
  GPtrArray *individuals = g_ptr_array_new (), *nodes = g_ptr_array_new ();
  GArray *groups = g_array_new (FALSE, FALSE, sizeof (Group));
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint n_fields = 0, n_idx, n_head, width = 0, i, c, line;
  gboolean multi, with_likelihood = FALSE, predictions = FALSE;
  gint single = -1;
  guint n_animal_nodes = 0;

  if (!g_file_get_contents (path, &text, NULL, &err)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "cannot read: %s", err->message);
    g_clear_error (&err);
    goto cleanup;
  }
  lines = g_strsplit (text, "\n", -1);
  g_clear_pointer (&text, g_free);
  for (i = 0; lines[i]; i++)
    g_strdelimit (lines[i], "\r", ' ');

  /* the header: 3 rows, or 4 with "individuals" */
  for (i = 0; i < 4 && lines[i] && !op_text_is_blank (lines[i]); i++) {
    guint n;
    row[i] = op_text_split_fields (lines[i], &n);
    if (i == 0)
      n_fields = n;
    else if (n != n_fields)
      FAIL ("line %u: %u fields, but the header's first line has %u", i + 1,
          n, n_fields);
  }
  if (row[2] == NULL)
    FAIL ("line %u: the header ends early (scorer, [individuals,] "
        "bodyparts, coords)", i + 1);
  multi = strcmp (row[1][0], "individuals") == 0;
  n_head = multi ? 4 : 3;
  if (multi && row[3] == NULL)
    FAIL ("line 4: the header ends early (scorer, individuals, bodyparts, "
        "coords)");
  if (strcmp (row[n_head - 2][0], "bodyparts") != 0)
    FAIL ("line %u: \"%s\" where the header has \"bodyparts\"", n_head - 1,
        row[n_head - 2][0]);
  if (strcmp (row[n_head - 1][0], "coords") != 0)
    FAIL ("line %u: \"%s\" where the header has \"coords\"", n_head,
        row[n_head - 1][0]);
  /* index columns: the empty cells after "scorer" */
  for (n_idx = 1; n_idx < n_fields && row[0][n_idx][0] == '\0'; n_idx++);
  if (n_idx != 1 && n_idx != 3)
    FAIL ("line 1: %u index columns; DeepLabCut writes 1 (an image path or "
        "a frame number) or 3 (labeled-data, video, image)", n_idx);
  if (n_idx >= n_fields)
    FAIL ("line 1: no coordinate columns");

  /* coordinate groups: x, y[, likelihood] per (individual, bodypart) */
  with_likelihood = n_fields - n_idx >= 3
      && strcmp (row[n_head - 1][n_idx + 2], "likelihood") == 0;
  width = with_likelihood ? 3 : 2;
  if ((n_fields - n_idx) % width != 0)
    FAIL ("line %u: %u coordinate columns are not groups of %s", n_head,
        n_fields - n_idx, with_likelihood ? "x, y, likelihood" : "x, y");
  for (c = n_idx; c < n_fields; c += width) {
    static const gchar *const want[] = { "x", "y", "likelihood" };
    const gchar *ind = multi ? row[1][c] : "";
    const gchar *bp = row[n_head - 2][c];
    Group g = { c, 0, 0 };
    guint k;
    gint idx;

    for (k = 0; k < width; k++) {
      if (strcmp (row[n_head - 1][c + k], want[k]) != 0)
        FAIL ("line %u, column %u: \"%s\" where the coordinates have "
            "\"%s\" (columns are x, y%s per bodypart)", n_head, c + k + 1,
            row[n_head - 1][c + k], want[k],
            with_likelihood ? ", likelihood" : "");
      if (strcmp (row[n_head - 2][c + k], bp) != 0
          || (multi && strcmp (row[1][c + k], ind) != 0))
        FAIL ("line %u, column %u: bodypart \"%s\" inside the columns of "
            "\"%s\"", n_head - 1, c + k + 1, row[n_head - 2][c + k], bp);
    }
    if (bp[0] == '\0')
      FAIL ("line %u, column %u: empty bodypart name", n_head - 1, c + 1);
    idx = find_string (individuals, ind);
    if (idx < 0) {
      g_ptr_array_add (individuals, (gpointer) ind);
      idx = individuals->len - 1;
      if (strcmp (ind, "single") == 0)
        single = idx;
    }
    g.instance = idx;
    /* skeleton: the animals' bodyparts (the first individual's order),
     * then the unique bodyparts of "single" */
    idx = find_string (nodes, bp);
    if (idx < 0) {
      if ((gint) g.instance != single && g.instance != 0)
        FAIL ("line %u, column %u: bodypart \"%s\" of \"%s\" is not one of "
            "the first individual's", n_head - 1, c + 1, bp, ind);
      g_ptr_array_add (nodes, (gpointer) bp);
      idx = nodes->len - 1;
      if ((gint) g.instance != single)
        n_animal_nodes = nodes->len;
    } else if (((gint) g.instance == single) != (idx >= (gint) n_animal_nodes)) {
      FAIL ("line %u, column %u: bodypart \"%s\" is both an animal's and "
          "a unique (\"single\") bodypart", n_head - 1, c + 1, bp);
    }
    for (k = 0; k < groups->len; k++) {
      Group *o = &g_array_index (groups, Group, k);
      if (o->instance == g.instance && o->node == (guint) idx)
        FAIL ("line %u, column %u: bodypart \"%s\"%s%s%s appears twice",
            n_head - 1, c + 1, bp, multi ? " of \"" : "", multi ? ind : "",
            multi ? "\"" : "");
    }
    g.node = idx;
    g_array_append_val (groups, g);
  }
  skeleton = op_skeleton_new (NULL, (const gchar * const *) nodes->pdata,
      nodes->len);

  labels = op_labels_new (path, "dlc");
  for (line = n_head; lines[line]; line++) {
    gchar **f;
    guint n, k;
    guint64 frame;
    guint video = 0;
    gchar *key;
    gpointer prev;
    OpLabeledFrame *lf = NULL;
    gboolean is_number;

    if (op_text_is_blank (lines[line]))
      continue;
    f = op_text_split_fields (lines[line], &n);
    if (n != n_fields) {
      g_strfreev (f);
      FAIL ("line %u: %u fields, but the header has %u", line + 1, n, n_fields);
    }
    /* the row's frame: a frame number (predictions) or an image name */
    {
      gint64 v;
      is_number = n_idx == 1 && op_text_parse_int (f[0], &v) && v >= 0;
      if (line == n_head)
        predictions = is_number;
      if (is_number != predictions) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
            "line %u: \"%s\" in a file whose rows are %s", line + 1, f[0],
            predictions ? "frame numbers" : "image names");
        g_strfreev (f);
        goto fail;
      }
      if (predictions) {
        frame = (guint64) v;
        key = g_strdup_printf ("%" G_GUINT64_FORMAT, frame);
      } else {
        gchar *vname, *img;
        if (n_idx == 3) {
          vname = g_strdup (f[1]);
          img = g_strdup (f[2]);
        } else {
          gchar **parts = g_strsplit_set (f[0], "/\\", -1);
          guint np = g_strv_length (parts);
          vname = g_strdup (np >= 2 ? parts[np - 2] : "");
          img = g_strdup (parts[np ? np - 1 : 0] ? parts[np - 1] : "");
          g_strfreev (parts);
        }
        if (!op_text_number_in_name (img, &frame)) {
          g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
              "line %u: image \"%s\" has no frame number in its name "
              "(img<frame>.png)", line + 1, n_idx == 3 ? f[2] : f[0]);
          g_free (vname);
          g_free (img);
          g_strfreev (f);
          goto fail;
        }
        video = find_string (labels->videos, vname) >= 0 ?
            (guint) find_string (labels->videos, vname) : labels->videos->len;
        if (video == labels->videos->len)
          g_ptr_array_add (labels->videos, g_strdup (vname));
        key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, vname, frame);
        g_free (vname);
        g_free (img);
      }
    }
    if (g_hash_table_lookup_extended (seen, key, NULL, &prev)) {
      g_free (key);
      g_strfreev (f);
      FAIL ("line %u: frame %" G_GUINT64_FORMAT " is listed twice (line %u "
          "too)", line + 1, frame, GPOINTER_TO_UINT (prev));
    }
    g_hash_table_insert (seen, key, GUINT_TO_POINTER (line + 1));

    /* one instance per individual with a present point */
    for (k = 0; k < individuals->len; k++) {
      OpInstance *inst = NULL;
      guint gi;
      for (gi = 0; gi < groups->len; gi++) {
        Group *g = &g_array_index (groups, Group, gi);
        gdouble x, y, s = NAN;
        const gchar *cx = f[g->column], *cy = f[g->column + 1];
        const gchar *cs = with_likelihood ? f[g->column + 2] : "";
        if (g->instance != k)
          continue;
        if ((cx[0] && !op_text_parse_number (cx, &x))
            || (cy[0] && !op_text_parse_number (cy, &y))
            || (cs[0] && !op_text_parse_number (cs, &s))) {
          const gchar *bad = cx[0] && !op_text_parse_number (cx, &x) ? cx :
              cy[0] && !op_text_parse_number (cy, &y) ? cy : cs;
          guint col = g->column + (bad == cx ? 0 : bad == cy ? 1 : 2);
          g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
              "line %u, column %u (%s%s%s %s): \"%s\" is not a number",
              line + 1, col + 1, multi ? (gchar *) g_ptr_array_index
              (individuals, k) : "", multi ? " " : "",
              (gchar *) g_ptr_array_index (nodes, g->node),
              bad == cx ? "x" : bad == cy ? "y" : "likelihood", bad);
          g_strfreev (f);
          goto fail;
        }
        if (!cx[0] || !cy[0])
          continue;             /* missing point (also half-missing ones) */
        if (lf == NULL)
          lf = op_labels_add_frame (labels, video, frame, skeleton);
        if (inst == NULL) {
          inst = op_annotation_add_instance (&lf->ann, with_likelihood ?
              OP_INSTANCE_PREDICTED : OP_INSTANCE_USER);
          if (multi) {
            inst->track = k;
            op_instance_set_track_name (inst, g_ptr_array_index (individuals,
                    k));
          }
        }
        inst->keypoints[g->node].x = x;
        inst->keypoints[g->node].y = y;
        inst->keypoints[g->node].visible = TRUE;
        inst->keypoints[g->node].score = s;
      }
    }
    g_strfreev (f);
  }
  if (labels->building->len == 0)
    op_labels_add_warning (labels, "the file holds no labeled point");
  goto cleanup;

fail:
  g_clear_pointer (&labels, op_labels_free);
cleanup:
  for (i = 0; i < 4; i++)
    g_strfreev (row[i]);
  g_strfreev (lines);
  g_clear_pointer (&skeleton, op_skeleton_unref);
  g_ptr_array_unref (individuals);
  g_ptr_array_unref (nodes);
  g_array_unref (groups);
  g_hash_table_unref (seen);
  return labels;
}

const OpLabelReader op_dlc_reader = { "dlc",
  "DeepLabCut CSV (CollectedData_*.csv, video predictions)", dlc_probe,
  dlc_load
};
