/* batchsink: the writer thread behind a queue bounded by bytes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_WRITER_THREAD_H__
#define __OP_WRITER_THREAD_H__

#include <gst/gst.h>
#include "opwriter.h"

G_BEGIN_DECLS typedef struct _OpWriterThread OpWriterThread;

/* Called on the writer thread, with no lock held. */
typedef void (*OpWriterProgressFunc) (const OpWriterStats * stats,
    gpointer user_data);
typedef void (*OpWriterErrorFunc) (const GError * error, gpointer user_data);

OpSample *op_sample_new (void);
void op_sample_free (OpSample * sample);

OpWriterThread *op_writer_thread_new (const OpWriterFormat * format,
    OpWriter * writer, guint batch_size,
    guint64 max_pending_bytes,
    OpWriterProgressFunc progress,
    OpWriterErrorFunc error_func, gpointer user_data);
GstFlowReturn op_writer_thread_push (OpWriterThread * t, OpSample * sample,
    gsize bytes);
void op_writer_thread_set_flushing (OpWriterThread * t, gboolean flushing);
GstFlowReturn op_writer_thread_drain (OpWriterThread * t,
    OpWriterStats * stats);
guint64 op_writer_thread_pending_bytes (OpWriterThread * t);
gboolean op_writer_thread_stop (OpWriterThread * t, guint64 * kept,
    guint64 * dropped);
void op_writer_thread_free (OpWriterThread * t);

G_END_DECLS
#endif /* __OP_WRITER_THREAD_H__ */
