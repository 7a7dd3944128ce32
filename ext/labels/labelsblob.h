/* onepass: a loaded label set as one flat file, how the label loader
 * process hands its result to the pipeline's process.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_LABELS_BLOB_H__
#define __OP_LABELS_BLOB_H__

#include "oplabels.h"

G_BEGIN_DECLS

gboolean  op_labels_write_blob       (const OpLabels * labels, gint fd,
                                      GError ** error);
gboolean  op_labels_write_error_blob (const GError * failure, gint fd);
OpLabels *op_labels_read_blob        (gint fd, const gchar * path,
                                      const OpLabelReader * const * readers,
                                      GError ** error);

G_END_DECLS

#endif /* __OP_LABELS_BLOB_H__ */
