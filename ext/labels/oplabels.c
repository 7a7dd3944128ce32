/* onepass label readers: a loaded label set and the reader dispatch.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabels.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (op-labels-error-quark, op_labels_error);
/* *INDENT-ON* */

static void
labeled_frame_clear (gpointer data)
{
  op_annotation_clear (&((OpLabeledFrame *) data)->ann);
}

OpLabels *
op_labels_new (const gchar * path, const gchar * format)
{
  OpLabels *l = g_new0 (OpLabels, 1);

  l->path = g_strdup (path);
  l->format = format;
  l->videos = g_ptr_array_new_with_free_func (g_free);
  l->frames = g_array_new (FALSE, FALSE, sizeof (OpLabeledFrame));
  g_array_set_clear_func (l->frames, labeled_frame_clear);
  l->warnings = g_ptr_array_new_with_free_func (g_free);
  l->video_sizes = g_array_new (FALSE, TRUE, sizeof (OpLabelsVideoSize));
  return l;
}

void
op_labels_free (OpLabels * l)
{
  if (l == NULL)
    return;
  g_free (l->path);
  g_ptr_array_unref (l->videos);
  g_array_unref (l->frames);
  g_ptr_array_unref (l->warnings);
  g_array_unref (l->video_sizes);
  g_free (l);
}

/**
 * op_labels_add_frame:
 *
 * Returns: (transfer none): a new, empty labeled frame, valid until the next
 *   add
 */
OpLabeledFrame *
op_labels_add_frame (OpLabels * l, guint video, guint64 frame_index,
    OpSkeleton * skeleton)
{
  OpLabeledFrame f;

  f.video = video;
  op_annotation_init (&f.ann);
  f.ann.frame_index = frame_index;
  op_annotation_set_skeleton (&f.ann, skeleton);
  g_array_append_val (l->frames, f);
  return &g_array_index (l->frames, OpLabeledFrame, l->frames->len - 1);
}

/**
 * op_labels_set_video_size:
 *
 * Records the size the label file gives video @video (SLEAP's backend
 * `shape`, an analysis file's, onepass JSON's `width`/`height`), so that
 * the element can refuse labels made for another video.
 */
void
op_labels_set_video_size (OpLabels * l, guint video, guint width, guint height)
{
  OpLabelsVideoSize *size;

  if (video >= l->video_sizes->len)
    g_array_set_size (l->video_sizes, video + 1);
  size = &g_array_index (l->video_sizes, OpLabelsVideoSize, video);
  size->width = width;
  size->height = height;
}

/**
 * op_labels_get_video_size:
 *
 * Returns: TRUE when the file records a size for video @video
 */
gboolean
op_labels_get_video_size (const OpLabels * l, guint video, guint * width,
    guint * height)
{
  const OpLabelsVideoSize *size;

  if (video >= l->video_sizes->len)
    return FALSE;
  size = &g_array_index (l->video_sizes, OpLabelsVideoSize, video);
  if (size->width == 0 || size->height == 0)
    return FALSE;
  *width = size->width;
  *height = size->height;
  return TRUE;
}

void
op_labels_add_warning (OpLabels * l, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (l->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

static gint
compare_frames (gconstpointer a, gconstpointer b)
{
  const OpLabeledFrame *fa = a, *fb = b;

  if (fa->video != fb->video)
    return fa->video < fb->video ? -1 : 1;
  if (fa->ann.frame_index != fb->ann.frame_index)
    return fa->ann.frame_index < fb->ann.frame_index ? -1 : 1;
  return 0;
}

/**
 * op_labels_finish:
 *
 * Sorts the frames (files need not store them in order) and merges frames
 * listed twice, keeping the instances of both in file order.
 */
gboolean
op_labels_finish (OpLabels * l, GError ** error)
{
  guint i, out = 0;

  /* a stable sort keeps the file order of duplicates */
  g_array_sort (l->frames, compare_frames);
  for (i = 0; i < l->frames->len; i++) {
    OpLabeledFrame *f = &g_array_index (l->frames, OpLabeledFrame, i);
    OpLabeledFrame *prev = out ? &g_array_index (l->frames, OpLabeledFrame,
        out - 1) : NULL;

    if (prev && compare_frames (prev, f) == 0) {
      guint k;
      if (prev->ann.skeleton != f->ann.skeleton) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
            "frame %" G_GUINT64_FORMAT " of video %u is listed twice with "
            "different skeletons", f->ann.frame_index, f->video);
        return FALSE;
      }
      op_labels_add_warning (l, "frame %" G_GUINT64_FORMAT " of video %u is "
          "listed twice; its instances were merged", f->ann.frame_index,
          f->video);
      for (k = 0; k < f->ann.instances->len; k++)
        op_annotation_append_instance (&prev->ann,
            op_annotation_get_instance (&f->ann, k));
      op_annotation_clear (&f->ann);
      continue;
    }
    if (out != i) {
      g_array_index (l->frames, OpLabeledFrame, out) = *f;
      memset (f, 0, sizeof (*f));
    }
    out++;
  }
  /* the tail holds cleared husks; drop them without running clear twice */
  g_array_set_clear_func (l->frames, NULL);
  g_array_set_size (l->frames, out);
  g_array_set_clear_func (l->frames, labeled_frame_clear);
  return TRUE;
}

/* index of the first frame >= (video, frame_index) */
static guint
lower_bound (const OpLabels * l, guint video, guint64 frame_index)
{
  guint lo = 0, hi = l->frames->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const OpLabeledFrame *f = &g_array_index (l->frames, OpLabeledFrame, mid);
    if (f->video < video || (f->video == video
            && f->ann.frame_index < frame_index))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/**
 * op_labels_lookup:
 *
 * Returns: (transfer none) (nullable): the labels of that frame, or %NULL
 */
const OpLabeledFrame *
op_labels_lookup (const OpLabels * l, guint video, guint64 frame_index)
{
  const OpLabeledFrame *f = op_labels_next (l, video, frame_index);

  return (f && f->ann.frame_index == frame_index) ? f : NULL;
}

/**
 * op_labels_next:
 *
 * Returns: (transfer none) (nullable): the first labeled frame of @video at
 *   or after @frame_index, or %NULL
 */
const OpLabeledFrame *
op_labels_next (const OpLabels * l, guint video, guint64 frame_index)
{
  guint i = lower_bound (l, video, frame_index);
  const OpLabeledFrame *f;

  if (i >= l->frames->len)
    return NULL;
  f = &g_array_index (l->frames, OpLabeledFrame, i);
  return f->video == video ? f : NULL;
}

guint
op_labels_count_frames (const OpLabels * l, guint video)
{
  return lower_bound (l, video + 1, 0) - lower_bound (l, video, 0);
}

/* "SLEAP labels (.slp, .pkg.slp), ..., onepass JSON lines (...)": the
 * formats of @readers, so the message cannot go stale when one is added */
static gchar *
known_formats (const OpLabelReader * const *readers)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; readers[i]; i++) {
    if (!readers[i]->description)
      continue;
    if (out->len)
      g_string_append (out, ", ");
    g_string_append (out, readers[i]->description);
  }
  return g_string_free (out, FALSE);
}

/**
 * op_labels_load:
 * @readers: %NULL-terminated table of formats, tried in order
 *
 * Detects the format from the content (never the name) and loads the file.
 * Every error message starts with the path.
 *
 * Returns: (transfer full) (nullable): the labels
 */
OpLabels *
op_labels_load (const gchar * path, const OpLabelReader * const *readers,
    GError ** error)
{
  guint8 head[1024];
  gsize len;
  FILE *f;
  GError *err = NULL;
  OpLabels *labels;
  gchar *known;
  guint i;

  if (path == NULL || *path == '\0') {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "no labels file given (set the location property)");
    return NULL;
  }
  f = fopen (path, "rb");
  if (f == NULL) {
    gint e = errno;
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: cannot open: %s", path, g_strerror (e));
    return NULL;
  }
  len = fread (head, 1, sizeof (head), f);
  fclose (f);

  for (i = 0; readers[i]; i++) {
    if (!readers[i]->probe (path, head, len))
      continue;
    labels = readers[i]->load (path, &err);
    if (labels == NULL) {
      g_set_error (error, err->domain, err->code, "%s: %s", path, err->message);
      g_clear_error (&err);
      return NULL;
    }
    if (!op_labels_finish (labels, &err)) {
      g_set_error (error, err->domain, err->code, "%s: %s", path, err->message);
      g_clear_error (&err);
      op_labels_free (labels);
      return NULL;
    }
    return labels;
  }
  if (len == 0) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT,
        "%s: not a label file onepass can read (the file is empty)", path);
    return NULL;
  }
  known = known_formats (readers);
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT,
      "%s: not a label file onepass can read (it is none of: %s)", path, known);
  g_free (known);
  return NULL;
}
