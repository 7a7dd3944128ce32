/* libFuzzer harness: batchsink's `split` string (name=fraction,...) on any
 * bytes; a parsed split must print back to a string that parses to itself.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include "split.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  gchar *spec = g_strndup ((const gchar *) data, size);
  GError *err = NULL;
  OpSplit *split = op_split_parse (spec, &err);

  if (split) {
    gchar *norm = op_split_to_string (split);
    OpSplit *again = op_split_parse (norm, NULL);
    gchar *norm2;

    if (again == NULL)
      g_error ("\"%s\" parsed, but its normal form \"%s\" does not", spec,
          norm);
    norm2 = op_split_to_string (again);
    if (g_strcmp0 (norm, norm2) != 0)
      g_error ("normal form not stable: \"%s\" -> \"%s\"", norm, norm2);
    /* every canonical string lands in one of the splits */
    if (op_split_assign (split, spec) == NULL)
      g_error ("\"%s\": no split assigned", spec);
    g_free (norm2);
    op_split_free (again);
    g_free (norm);
    op_split_free (split);
  } else if (err == NULL) {
    g_error ("the split parser failed without an error");
  }
  g_clear_error (&err);
  g_free (spec);
  return 0;
}
