/* onepass: annotfilter's probe on the decoder's input: spare the decoder the
 * frames no labeled frame needs, and count what it decodes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_DECODE_SKIP_H__
#define __OP_DECODE_SKIP_H__

#include <gst/gst.h>
#include <onepass/onepass.h>

#include "labelselect.h"

G_BEGIN_DECLS

typedef struct _OpDecodeSkip OpDecodeSkip;

GstPad       *op_decode_skip_find_decoder (GstPad * sinkpad);
OpDecodeSkip *op_decode_skip_attach (GstPad * decoder_sink,
                                     const OpStreamIndex * index,
                                     const OpTargetList * needed);
void          op_decode_skip_detach (OpDecodeSkip * skip);
void          op_decode_skip_end_with_seek (OpDecodeSkip * skip,
                                            guint32 seqnum);
void          op_decode_skip_counts (OpDecodeSkip * skip, guint64 * decoded,
                                     guint64 * not_decoded);

G_END_DECLS

#endif /* __OP_DECODE_SKIP_H__ */
