/* onepass: label files are parsed in a child process (the label loader),
 * so that a damaged file that crashes or hangs libhdf5 is an error naming
 * it, not the end of the pipeline's process.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_ISOLATE_H__
#define __OP_ISOLATE_H__

#include "oplabels.h"

G_BEGIN_DECLS

/* default time limit of one load, in seconds (ONEPASS_LABEL_LOAD_TIMEOUT) */
#define OP_LABEL_LOAD_TIMEOUT 300

gchar    *op_labels_find_loader   (void);
OpLabels *op_labels_load_isolated (const gchar * path,
                                   const OpLabelReader * const * readers,
                                   const gchar * loader, guint timeout_s,
                                   GError ** error);

G_END_DECLS

#endif /* __OP_ISOLATE_H__ */
