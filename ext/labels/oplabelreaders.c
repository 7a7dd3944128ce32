/* onepass: the table of label readers, tried in this order.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"

const OpLabelReader *const op_label_readers[] = {
  &op_jsonl_reader,
  NULL
};

/**
 * op_label_readers_load:
 *
 * Loads @path with whichever reader recognises its content.
 */
OpLabels *
op_label_readers_load (const gchar * path, GError ** error)
{
  return op_labels_load (path, op_label_readers, error);
}
