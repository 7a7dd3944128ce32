/* cropextract: one crop per annotated instance.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_CROP_EXTRACT_H__
#define __OP_CROP_EXTRACT_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define OP_TYPE_CROP_EXTRACT (op_crop_extract_get_type ())
G_DECLARE_FINAL_TYPE (OpCropExtract, op_crop_extract, OP, CROP_EXTRACT,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (cropextract);

G_END_DECLS

#endif /* __OP_CROP_EXTRACT_H__ */
