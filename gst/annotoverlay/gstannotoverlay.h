/* onepass: annotoverlay element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_ANNOT_OVERLAY_H__
#define __OP_ANNOT_OVERLAY_H__

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS
#define OP_TYPE_ANNOT_OVERLAY (op_annot_overlay_get_type ())
G_DECLARE_FINAL_TYPE (OpAnnotOverlay, op_annot_overlay, OP, ANNOT_OVERLAY,
    GstVideoFilter);

/**
 * OpAnnotOverlayColorBy:
 * @OP_ANNOT_OVERLAY_COLOR_BY_TRACK: one colour per track
 * @OP_ANNOT_OVERLAY_COLOR_BY_NODE: one colour per skeleton node
 */
typedef enum {
  OP_ANNOT_OVERLAY_COLOR_BY_TRACK,
  OP_ANNOT_OVERLAY_COLOR_BY_NODE,
} OpAnnotOverlayColorBy;

#define OP_TYPE_ANNOT_OVERLAY_COLOR_BY (op_annot_overlay_color_by_get_type ())
GType op_annot_overlay_color_by_get_type (void);

/**
 * OpAnnotOverlayText:
 * @OP_ANNOT_OVERLAY_TEXT_NONE: no text
 * @OP_ANNOT_OVERLAY_TEXT_TRACK: the track name (or "track N")
 * @OP_ANNOT_OVERLAY_TEXT_SCORE: the instance score
 * @OP_ANNOT_OVERLAY_TEXT_BOTH: track name and score
 */
typedef enum {
  OP_ANNOT_OVERLAY_TEXT_NONE,
  OP_ANNOT_OVERLAY_TEXT_TRACK,
  OP_ANNOT_OVERLAY_TEXT_SCORE,
  OP_ANNOT_OVERLAY_TEXT_BOTH,
} OpAnnotOverlayText;

#define OP_TYPE_ANNOT_OVERLAY_TEXT (op_annot_overlay_text_get_type ())
GType op_annot_overlay_text_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (annotoverlay);

G_END_DECLS

#endif /* __OP_ANNOT_OVERLAY_H__ */
