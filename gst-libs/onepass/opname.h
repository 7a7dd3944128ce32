/* onepass: names safe in dataset keys and file names.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_NAME_H__
#define __OP_NAME_H__

#include <glib.h>

G_BEGIN_DECLS

gchar    *op_name_sanitize  (const gchar * name, guint max_chars);
gboolean  op_name_is_safe   (const gchar * name);

G_END_DECLS

#endif /* __OP_NAME_H__ */
