/* libFuzzer harness: compositor328's rectangles file on any bytes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzzfile.h"
#include "rectsfile.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  const gchar *path = op_fuzz_write_input (data, size, ".json");
  GError *err = NULL;
  OpRectsFile *rects = op_rects_file_load (path, &err);
  guint k;

  if (rects == NULL) {
    if (err == NULL)
      g_error ("the rects file failed without an error");
    g_error_free (err);
    return 0;
  }
  /* every lookup answers, in range or not */
  for (k = 0; k < 4; k++) {
    gint rect[4];

    op_rects_file_lookup (rects, k, k, rect);
  }
  op_rects_file_free (rects);
  return 0;
}
