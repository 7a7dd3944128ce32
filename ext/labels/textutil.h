/* onepass label readers: small helpers for the text formats (MOT, DeepLabCut
 * CSV, COCO): splitting comma-separated lines, reading numbers strictly,
 * the frame number in an image file name.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_TEXT_UTIL_H__
#define __OP_TEXT_UTIL_H__

#include <glib.h>

G_BEGIN_DECLS

gchar  **op_text_split_fields (const gchar * line, guint * n_fields);
gboolean op_text_parse_number (const gchar * field, gdouble * value);
gboolean op_text_parse_int    (const gchar * field, gint64 * value);
gboolean op_text_is_blank     (const gchar * line);
gchar   *op_text_first_line   (const guint8 * head, gsize len);
gboolean op_text_number_in_name (const gchar * file_name, guint64 * number);

G_END_DECLS

#endif /* __OP_TEXT_UTIL_H__ */
