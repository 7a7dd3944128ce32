/* onepass-labels: print what onepass reads from a label file.
 *
 *   onepass-labels FILE            one annotation JSON line per labeled frame
 *   onepass-labels --summary FILE  format, videos, frame and instance counts
 *
 * The JSON lines are exactly what annotfilter attaches (all instances, no
 * filtering), so tests compare them with values read independently.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <onepass/onepass.h>
#include <oplabelreaders.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
  gboolean summary = FALSE;
  const gchar *path = NULL;
  OpLabels *labels;
  GError *err = NULL;
  GString *out;
  OpSkeleton *last = NULL;
  guint64 n_instances = 0;
  gint i;

  for (i = 1; i < argc; i++) {
    if (g_strcmp0 (argv[i], "--summary") == 0)
      summary = TRUE;
    else if (path == NULL)
      path = argv[i];
  }
  if (path == NULL) {
    fprintf (stderr, "usage: %s [--summary] LABELS-FILE\n", argv[0]);
    return 2;
  }
  labels = op_label_readers_load (path, &err);
  if (labels == NULL) {
    fprintf (stderr, "onepass-labels: %s\n", err->message);
    g_error_free (err);
    return 1;
  }
  for (i = 0; i < (gint) labels->warnings->len; i++)
    fprintf (stderr, "onepass-labels: warning: %s: %s\n", path,
        (const gchar *) g_ptr_array_index (labels->warnings, i));

  out = g_string_sized_new (4096);
  for (i = 0; i < (gint) labels->frames->len; i++) {
    OpLabeledFrame *f = &g_array_index (labels->frames, OpLabeledFrame, i);
    n_instances += op_annotation_n_instances (&f->ann);
    if (summary)
      continue;
    f->ann.source = g_intern_string (labels->videos->len > f->video ?
        (const gchar *) g_ptr_array_index (labels->videos, f->video) : "");
    op_annotation_append_json (out, &f->ann, f->ann.skeleton != last);
    last = f->ann.skeleton;
    g_string_append_c (out, '\n');
    fputs (out->str, stdout);
    g_string_truncate (out, 0);
  }
  if (summary) {
    printf ("format: %s\n", labels->format);
    for (i = 0; i < (gint) labels->videos->len; i++)
      printf ("video %d: %s (%u labeled frames)\n", i,
          (const gchar *) g_ptr_array_index (labels->videos, i),
          op_labels_count_frames (labels, i));
    printf ("labeled frames: %u\ninstances: %" G_GUINT64_FORMAT "\n",
        labels->frames->len, n_instances);
  }
  g_string_free (out, TRUE);
  op_labels_free (labels);
  return 0;
}
