/* onepass-label-loader: reads one label file and writes the loaded labels
 * (or the error) to the file descriptor it is given, for the process that
 * spawned it (isolate.c). Not meant to be run by hand.
 *
 * usage: onepass-label-loader FD LABEL-FILE
 *
 * Exits 0 when it wrote labels or a clean error; a crash inside a reader
 * (libhdf5 on a damaged file) ends it by a signal, which the parent
 * reports as an error naming the file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "labelsblob.h"
#include "oplabelreaders.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  GError *err = NULL;
  OpLabels *labels;
  gint fd;
  gboolean ok;

  if (argc != 3) {
    fprintf (stderr, "usage: onepass-label-loader FD LABEL-FILE\n");
    return 2;
  }
  fd = atoi (argv[1]);
  /* readers that know their sizes build the columns in the hand-over
   * file itself */
  op_labels_set_arena (fd);
  labels = op_labels_load (argv[2], op_label_readers, &err);
  if (labels == NULL) {
    ok = op_labels_write_error_blob (err, fd);
    g_clear_error (&err);
    return ok ? 0 : 1;
  }
  ok = op_labels_write_blob (labels, fd, &err);
  if (!ok) {
    fprintf (stderr, "onepass-label-loader: %s: %s\n", argv[2], err->message);
    g_clear_error (&err);
  }
  op_labels_free (labels);
  return ok ? 0 : 1;
}
