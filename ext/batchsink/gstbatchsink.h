/* batchsink: batched, atomic dataset writing with train/val splits.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_BATCH_SINK_H__
#define __OP_BATCH_SINK_H__

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS
#define OP_TYPE_BATCH_SINK (op_batch_sink_get_type ())
G_DECLARE_FINAL_TYPE (OpBatchSink, op_batch_sink, OP, BATCH_SINK, GstBaseSink)
#define OP_TYPE_BATCH_SINK_FORMAT (op_batch_sink_format_get_type ())
     GType op_batch_sink_format_get_type (void);

#define OP_TYPE_BATCH_SINK_SPLIT_BY (op_batch_sink_split_by_get_type ())
     GType op_batch_sink_split_by_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (batchsink);

G_END_DECLS

#endif /* __OP_BATCH_SINK_H__ */
