/* libFuzzer harness: the JSON-lines label reader (probe, then load) on any
 * bytes, plain or gzip. A crash, a hang or a sanitizer report is a bug; an
 * error is the expected answer to garbage.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzzfile.h"
#include "oplabelreaders.h"

int LLVMFuzzerTestOneInput (const guint8 * data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 * data, gsize size)
{
  const gchar *path = op_fuzz_write_input (data, size, ".jsonl");
  GError *err = NULL;
  OpLabels *labels;

  if (!op_jsonl_reader.probe (path, data, MIN (size, 1024)))
    return 0;
  labels = op_jsonl_reader.load (path, &err);
  if (labels)
    op_labels_free (labels);
  else if (err == NULL || err->message == NULL || err->message[0] == '\0')
    g_error ("the JSON-lines reader failed without a message");
  g_clear_error (&err);
  return 0;
}
