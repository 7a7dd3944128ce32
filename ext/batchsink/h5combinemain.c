/* op-h5-combine OUT IN...: op_h5_combine() from the command line, for the
 * tests (not installed; onepass-prep --merge is the user's tool).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "h5vds.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
  GError *error = NULL;

  if (argc < 3) {
    fprintf (stderr, "usage: %s OUT.h5 IN.h5...\n", argv[0]);
    return 2;
  }
  if (!op_h5_combine (argv[1], (const gchar * const *) argv + 2, &error)) {
    fprintf (stderr, "%s\n", error->message);
    g_error_free (error);
    return 1;
  }
  return 0;
}
