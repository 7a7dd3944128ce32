/* onepass: annotaugment element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_ANNOT_AUGMENT_H__
#define __OP_ANNOT_AUGMENT_H__

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS
#define OP_TYPE_ANNOT_AUGMENT (op_annot_augment_get_type ())
G_DECLARE_FINAL_TYPE (OpAnnotAugment, op_annot_augment, OP, ANNOT_AUGMENT,
    GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (annotaugment);

G_END_DECLS
#endif
