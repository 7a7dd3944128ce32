/* onepass: compositor328's rectangles file ({"<frame>": [x1, y1, x2, y2]}).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RECTS_FILE_H__
#define __OP_RECTS_FILE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _OpRectsFile OpRectsFile;

OpRectsFile *op_rects_file_load        (const gchar * path, GError ** error);
void         op_rects_file_free        (OpRectsFile * rects);
gboolean     op_rects_file_lookup      (const OpRectsFile * rects,
                                        guint64 frame_index, guint k,
                                        gint rect[4]);
guint        op_rects_file_n_frames    (const OpRectsFile * rects);
guint        op_rects_file_n_malformed (const OpRectsFile * rects);
const gchar *op_rects_file_first_problem (const OpRectsFile * rects);

G_END_DECLS

#endif /* __OP_RECTS_FILE_H__ */
