/* op-h5-combine [--consolidate] OUT IN...: op_h5_combine() (or, with
 * --consolidate, op_h5_consolidate()) from the command line, for the
 * tests (not installed; onepass-prep --merge is the user's tool).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5vds.h"

#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
  GError *error = NULL;
  gboolean real = argc > 1 && strcmp (argv[1], "--consolidate") == 0;
  gboolean ok;

  if (real) {
    argc--;
    argv++;
  }
  if (argc < 3) {
    fprintf (stderr, "usage: op-h5-combine [--consolidate] OUT.h5 IN.h5...\n");
    return 2;
  }
  ok = real ? op_h5_consolidate (argv[1], (const gchar * const *) argv + 2,
      &error) : op_h5_combine (argv[1], (const gchar * const *) argv + 2,
      &error);
  if (!ok) {
    fprintf (stderr, "%s\n", error->message);
    g_error_free (error);
    return 1;
  }
  return 0;
}
