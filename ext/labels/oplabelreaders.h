/* onepass: the label readers (SLEAP .slp/.pkg.slp, SLEAP analysis .h5,
 * onepass JSON lines, MOT text, COCO keypoints, DeepLabCut CSV) behind the OpLabelReader interface.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_LABEL_READERS_H__
#define __OP_LABEL_READERS_H__

#include <json-glib/json-glib.h>
#include "oplabels.h"

G_BEGIN_DECLS

/* %NULL-terminated, in probing order */
extern const OpLabelReader *const op_label_readers[];

extern const OpLabelReader op_slp_reader;
extern const OpLabelReader op_analysis_reader;
extern const OpLabelReader op_jsonl_reader;
extern const OpLabelReader op_coco_reader;
extern const OpLabelReader op_mot_reader;
extern const OpLabelReader op_dlc_reader;

OpLabels *op_label_readers_load (const gchar * path, GError ** error);

/* shared by the two SLEAP readers (slpreader.c) */
JsonNode *op_sleap_parse_json (const gchar * python_text, const gchar * what,
                               GError ** error);
gboolean  op_sleap_backend_size (JsonObject * backend, const gchar * what,
                                 guint * width, guint * height,
                                 GError ** error);

G_END_DECLS

#endif /* __OP_LABEL_READERS_H__ */
