/* onepass: framestats element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FRAME_STATS_H__
#define __OP_FRAME_STATS_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define OP_TYPE_FRAME_STATS (op_frame_stats_get_type ())
G_DECLARE_FINAL_TYPE (OpFrameStats, op_frame_stats, OP, FRAME_STATS,
    GstBaseTransform);

#define OP_TYPE_FRAME_STATS_MODE (op_frame_stats_mode_get_type ())
GType op_frame_stats_mode_get_type (void);
#define OP_TYPE_FRAME_STATS_NORMALIZATION \
    (op_frame_stats_normalization_get_type ())
GType op_frame_stats_normalization_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (framestats);

G_END_DECLS

#endif /* __OP_FRAME_STATS_H__ */
