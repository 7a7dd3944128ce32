/* batchsink: the writer thread behind a queue bounded by bytes.
 *
 * The streaming thread queues samples and only waits when the queue holds
 * max-pending-bytes (a single larger sample is still accepted into an
 * empty queue); the wait ends on space, flushing (unlock) or a writer
 * failure. The writer thread takes up to batch-size samples at a time,
 * fewer as soon as the streaming thread waits for space or at EOS,
 * serializes their JSON and hands them to the format. Draining (EOS)
 * closes the format, so everything is on disk under final names when it
 * returns.
 *
 * One mutex and one condition variable; callbacks run without the lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writerthread.h"

#include <onepass/opjson.h>

struct _OpWriterThread
{
  const OpWriterFormat *format;
  OpWriter *writer;             /* owned by the thread while it runs */
  guint batch_size;
  guint64 max_pending;
  OpWriterProgressFunc progress;
  OpWriterErrorFunc error_func;
  gpointer user_data;
  GThread *thread;

  GMutex lock;
  GCond cond;
  GQueue queue;                 /* OpSample, with sizes in sizes */
  GQueue sizes;
  guint64 pending;
  gboolean flushing;
  gboolean blocked;             /* the streaming thread waits for space */
  gboolean draining;
  gboolean done;                /* the format was closed (or failed) */
  gboolean failed;
  gboolean stopping;
  guint64 received;             /* samples pushed */
  OpWriterStats final;
};

OpSample *
op_sample_new (void)
{
  OpSample *s = g_new0 (OpSample, 1);

  op_annotation_init (&s->ann);
  return s;
}

void
op_sample_free (OpSample * s)
{
  g_free (s->key);
  g_clear_pointer (&s->payload, gst_buffer_unref);
  g_clear_pointer (&s->caps, gst_caps_unref);
  /* batchsink's name table owns a shared source */
  if (s->shared_source)
    s->ann.source = NULL;
  op_annotation_clear (&s->ann);
  g_free (s->json);
  g_free (s);
}

/* The annotation JSON, plus `pixel_format` for raw pixels (a reader of a
 * `.rgb` member then needs no guess; the size is the JSON's `width` x
 * `height`, or `crop.width` x `crop.height` for a crop). */
static gchar *
sample_json (const OpSample * s)
{
  GString *out = g_string_sized_new (512);

  op_annotation_append_json (out, &s->ann, TRUE);
  if (s->pixel_format) {
    g_string_truncate (out, out->len - 1);
    g_string_append (out, ",\"pixel_format\":");
    op_json_append_string (out, s->pixel_format);
    g_string_append_c (out, '}');
  }
  return g_string_free (out, FALSE);
}

static void
fail (OpWriterThread * t, GError * err)
{
  t->error_func (err, t->user_data);
  g_error_free (err);
  g_mutex_lock (&t->lock);
  t->failed = TRUE;
  t->done = TRUE;
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
}

static gpointer
writer_loop (gpointer data)
{
  OpWriterThread *t = data;
  OpSample **batch = g_new (OpSample *, t->batch_size);
  GError *err = NULL;

  g_mutex_lock (&t->lock);
  for (;;) {
    guint n = 0, i;
    guint64 bytes = 0;
    OpWriterStats stats;
    gboolean ok;

    while (!t->stopping && !t->draining && t->queue.length < t->batch_size
        && !(t->queue.length > 0 && t->blocked))
      g_cond_wait (&t->cond, &t->lock);
    if (t->stopping)
      break;
    if (t->queue.length == 0) {
      /* draining and nothing left: commit everything */
      g_mutex_unlock (&t->lock);
      ok = t->format->close (t->writer, &err);
      t->format->stats (t->writer, &stats);
      if (!ok) {
        fail (t, err);
        g_mutex_lock (&t->lock);
        break;
      }
      g_mutex_lock (&t->lock);
      t->final = stats;
      t->done = TRUE;
      g_cond_broadcast (&t->cond);
      break;
    }
    while (n < t->batch_size && t->queue.length > 0) {
      batch[n++] = g_queue_pop_head (&t->queue);
      bytes += GPOINTER_TO_SIZE (g_queue_pop_head (&t->sizes));
    }
    g_mutex_unlock (&t->lock);

    for (i = 0; i < n; i++)
      batch[i]->json = sample_json (batch[i]);
    ok = t->format->write (t->writer, batch, n, &err);
    for (i = 0; i < n; i++)
      op_sample_free (batch[i]);
    if (!ok) {
      fail (t, err);
      g_mutex_lock (&t->lock);
      break;
    }
    t->format->stats (t->writer, &stats);
    t->progress (&stats, t->user_data);

    g_mutex_lock (&t->lock);
    t->pending -= bytes;
    g_cond_broadcast (&t->cond);
  }
  g_mutex_unlock (&t->lock);
  g_free (batch);
  return NULL;
}

OpWriterThread *
op_writer_thread_new (const OpWriterFormat * format, OpWriter * writer,
    guint batch_size, guint64 max_pending_bytes,
    OpWriterProgressFunc progress, OpWriterErrorFunc error_func,
    gpointer user_data)
{
  OpWriterThread *t = g_new0 (OpWriterThread, 1);

  t->format = format;
  t->writer = writer;
  t->batch_size = MAX (batch_size, 1);
  t->max_pending = MAX (max_pending_bytes, 1);
  t->progress = progress;
  t->error_func = error_func;
  t->user_data = user_data;
  g_mutex_init (&t->lock);
  g_cond_init (&t->cond);
  t->thread = g_thread_new ("batchsink-writer", writer_loop, t);
  return t;
}

/* Takes @sample. Waits only while the queue is full. */
GstFlowReturn
op_writer_thread_push (OpWriterThread * t, OpSample * sample, gsize bytes)
{
  GstFlowReturn ret = GST_FLOW_OK;

  g_mutex_lock (&t->lock);
  while (!t->flushing && !t->done && !t->draining && t->pending > 0
      && t->pending + bytes > t->max_pending) {
    /* a full queue is written now, even short of a batch */
    t->blocked = TRUE;
    g_cond_broadcast (&t->cond);
    g_cond_wait (&t->cond, &t->lock);
  }
  t->blocked = FALSE;
  if (t->failed)
    ret = GST_FLOW_ERROR;
  else if (t->flushing)
    ret = GST_FLOW_FLUSHING;
  else if (t->done || t->draining)
    ret = GST_FLOW_EOS;
  if (ret != GST_FLOW_OK) {
    g_mutex_unlock (&t->lock);
    op_sample_free (sample);
    return ret;
  }
  g_queue_push_tail (&t->queue, sample);
  g_queue_push_tail (&t->sizes, GSIZE_TO_POINTER (bytes));
  t->received++;
  t->pending += bytes;
  if (t->queue.length >= t->batch_size)
    g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
  return GST_FLOW_OK;
}

void
op_writer_thread_set_flushing (OpWriterThread * t, gboolean flushing)
{
  g_mutex_lock (&t->lock);
  t->flushing = flushing;
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
}

/* EOS: waits until everything queued is written and the format closed.
 * Returns FLUSHING when unlocked meanwhile (the thread goes on; stop joins
 * it), ERROR when the writer failed (already reported). */
GstFlowReturn
op_writer_thread_drain (OpWriterThread * t, OpWriterStats * stats)
{
  GstFlowReturn ret;

  g_mutex_lock (&t->lock);
  t->draining = TRUE;
  g_cond_broadcast (&t->cond);
  while (!t->done && !t->flushing)
    g_cond_wait (&t->cond, &t->lock);
  if (t->failed)
    ret = GST_FLOW_ERROR;
  else if (!t->done)
    ret = GST_FLOW_FLUSHING;
  else
    ret = GST_FLOW_OK;
  *stats = t->final;
  g_mutex_unlock (&t->lock);
  return ret;
}

/* Stops the thread (finishing the batch or close in progress), drops what
 * is still queued and frees the format: a run stopped before EOS leaves
 * its completed shards (listed in a manifest that says "complete": false)
 * and removes its `.partial` files. Returns TRUE when the format was
 * closed (EOS) first; otherwise @kept counts the samples in complete
 * shards and @dropped the other samples received. */
gboolean
op_writer_thread_stop (OpWriterThread * t, guint64 * kept, guint64 * dropped)
{
  OpWriterStats stats;
  gboolean closed;
  OpSample *s;

  g_mutex_lock (&t->lock);
  t->stopping = TRUE;
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
  g_thread_join (t->thread);
  while ((s = g_queue_pop_head (&t->queue)))
    op_sample_free (s);
  g_queue_clear (&t->sizes);
  closed = t->done && !t->failed;
  t->format->stats (t->writer, &stats);
  *kept = stats.kept;
  *dropped = t->received - MIN (stats.kept, t->received);
  t->format->free (t->writer);
  g_mutex_clear (&t->lock);
  g_cond_clear (&t->cond);
  g_free (t);
  return closed;
}

void
op_writer_thread_free (OpWriterThread * t)
{
  guint64 kept, dropped;

  op_writer_thread_stop (t, &kept, &dropped);
}
