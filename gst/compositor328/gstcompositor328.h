/* onepass: compositor328, paste crops back onto their full frames.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_COMPOSITOR328_H__
#define __OP_COMPOSITOR328_H__

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>

G_BEGIN_DECLS

#define OP_TYPE_COMPOSITOR328 (op_compositor328_get_type ())
G_DECLARE_FINAL_TYPE (OpCompositor328, op_compositor328, OP, COMPOSITOR328,
    GstAggregator);

GST_ELEMENT_REGISTER_DECLARE (compositor328);

G_END_DECLS

#endif /* __OP_COMPOSITOR328_H__ */
