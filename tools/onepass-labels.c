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

/* the formats come from the reader table, as in the "not a label file"
 * error, so a new reader shows up here by itself */
static gchar *
help_summary (void)
{
  GString *summary = g_string_new ("Prints what onepass reads from a label "
      "file: one annotation JSON line per labeled frame, all instances, "
      "unfiltered.\n\nFormats (detected from the content):");
  const OpLabelReader *const *r;

  for (r = op_label_readers; *r; r++)
    if ((*r)->description)
      g_string_append_printf (summary, "\n  %s", (*r)->description);
  return g_string_free (summary, FALSE);
}

int
main (int argc, char **argv)
{
  gboolean summary = FALSE;
  gchar **files = NULL;
  const GOptionEntry entries[] = {
    {"summary", 's', 0, G_OPTION_ARG_NONE, &summary,
        "Print the format, videos (with the size the file records), frame and "
          "instance counts instead of the JSON lines", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
        NULL},
    {NULL},
  };
  GOptionContext *ctx;
  gchar *help;
  const gchar *path;
  OpLabels *labels;
  GError *err = NULL;
  GString *out;
  OpSkeleton *last = NULL;
  guint64 n_instances = 0;
  gint i;

  ctx = g_option_context_new ("LABELS-FILE");
  help = help_summary ();
  g_option_context_set_summary (ctx, help);
  g_free (help);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "onepass-labels: %s (see --help)\n", err->message);
    g_error_free (err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (files == NULL || files[0] == NULL || files[1] != NULL) {
    fprintf (stderr, "usage: onepass-labels [--summary] LABELS-FILE "
        "(see --help)\n");
    g_strfreev (files);
    return 2;
  }
  path = files[0];
  labels = op_label_readers_load (path, &err);
  if (labels == NULL) {
    fprintf (stderr, "onepass-labels: %s\n", err->message);
    g_error_free (err);
    g_strfreev (files);
    return 1;
  }
  for (i = 0; i < (gint) labels->warnings->len; i++)
    fprintf (stderr, "onepass-labels: warning: %s: %s\n", path,
        (const gchar *) g_ptr_array_index (labels->warnings, i));

  out = g_string_sized_new (4096);
  for (i = 0; i < (gint) labels->n_frames; i++) {
    const OpLabelsFrame *f = &labels->frames[i];
    OpSkeleton *sk = op_labels_frame_skeleton (labels, f);
    OpAnnotation ann;

    n_instances += f->n_instances;
    if (summary)
      continue;
    op_labels_get_annotation (labels, f, &ann);
    op_annotation_set_source (&ann, labels->videos->len > f->video ?
        (const gchar *) g_ptr_array_index (labels->videos, f->video) : "");
    op_annotation_append_json (out, &ann, sk != last);
    op_annotation_clear (&ann);
    last = sk;
    g_string_append_c (out, '\n');
    fputs (out->str, stdout);
    g_string_truncate (out, 0);
  }
  if (summary) {
    printf ("format: %s\n", labels->format);
    for (i = 0; i < (gint) labels->videos->len; i++) {
      guint w, h;
      gchar *size = op_labels_get_video_size (labels, i, &w, &h) ?
          g_strdup_printf (", %ux%u", w, h) : g_strdup ("");
      printf ("video %d: %s (%u labeled frames%s)\n", i,
          (const gchar *) g_ptr_array_index (labels->videos, i),
          op_labels_count_frames (labels, i), size);
      g_free (size);
    }
    printf ("labeled frames: %u\ninstances: %" G_GUINT64_FORMAT "\n",
        (guint) labels->n_frames, n_instances);
  }
  g_string_free (out, TRUE);
  op_labels_free (labels);
  g_strfreev (files);
  return 0;
}
