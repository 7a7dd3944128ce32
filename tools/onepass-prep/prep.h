/* onepass-prep: the types its parts share.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_PREP_H__
#define __OP_PREP_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* One video to turn into samples, and what happened to it. */
typedef struct
{
  gchar *video;
  gchar *labels;
  gchar *source;                /* unique, sanitized */
  gchar *origin;                /* the INPUT it came from, for messages */

  /* plan */
  gboolean complete;            /* already complete in OUT: skipped */
  gboolean resume;              /* an interrupted run of it exists */

  /* result */
  gboolean done, failed;
  gchar *error;
  gchar *warning;               /* the first warning (labeled frames missing) */
  gdouble seconds;
  guint64 frames_decoded, frames_skipped, samples, bytes;
} PrepVideo;

typedef struct
{
  gchar *out;
  gchar *format;                /* tar, hdf5, jsonl, dir */
  gchar *split, *split_by, *instances, *node_map, *attributes;
  guint crop_w, crop_h;         /* 0: whole frames */
  gchar **sets;                 /* element.prop=value */
  guint jobs;
  guint64 max_memory;           /* 0: no cap */
  guint64 queue_bytes;          /* batchsink max-pending-bytes, 0: its own */
  guint task_i, task_n;
  gboolean dry_run;
} PrepOptions;

void prep_video_free (gpointer data);

/* inputs.c */
gboolean prep_inputs_collect (gchar ** inputs, GPtrArray * videos,
    GError ** error);

/* plan.c */
GPtrArray *prep_plan_share (GPtrArray * videos, guint task_i, guint task_n);
void prep_plan_status (const PrepOptions * opt, PrepVideo * v);
gchar *prep_plan_manifest (const PrepOptions * opt, const PrepVideo * v);
GstElement *prep_plan_pipeline (const PrepOptions * opt, const PrepVideo * v,
    GError ** error);
gchar *prep_plan_describe (const PrepOptions * opt, const PrepVideo * v);

/* progress.c */
typedef struct _PrepProgress PrepProgress;
PrepProgress *prep_progress_new (guint total, gboolean tty);
void prep_progress_update (PrepProgress * p, guint done, guint64 frames,
    guint64 samples);
void prep_progress_video_done (PrepProgress * p, guint done,
    const PrepVideo * v);
void prep_progress_free (PrepProgress * p);

/* runner.c */
/* errorwatch.c: errors decodebin drops reach the job anyway */
#define PREP_ERROR_MESSAGE "onepass-prep-error"
void prep_error_watch_start (void);

void prep_run (const PrepOptions * opt, GPtrArray * todo,
    PrepProgress * progress);

/* report.c */
void prep_report_summary (GPtrArray * videos, gdouble seconds);
gboolean prep_report_write (const gchar * path, const PrepOptions * opt,
    GPtrArray * videos, gdouble seconds, GError ** error);

/* merge.c */
gboolean prep_merge (const gchar * out, GError ** error);

/* memory.c */
guint64 prep_memory_default (void);
guint64 prep_memory_queue_bytes (guint64 max_memory, guint jobs);

G_END_DECLS
#endif /* __OP_PREP_H__ */
