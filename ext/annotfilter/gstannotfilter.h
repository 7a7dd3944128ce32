/* onepass: annotfilter
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_ANNOT_FILTER_H__
#define __OP_ANNOT_FILTER_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define OP_TYPE_ANNOT_FILTER (op_annot_filter_get_type ())
G_DECLARE_FINAL_TYPE (OpAnnotFilter, op_annot_filter, OP, ANNOT_FILTER,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (annotfilter);

G_END_DECLS

#endif /* __OP_ANNOT_FILTER_H__ */
