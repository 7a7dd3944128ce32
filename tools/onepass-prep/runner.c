/* onepass-prep: runs the pipelines, --jobs at a time, in this process.
 *
 * Every pipeline has its own streaming threads; the main loop only
 * watches their buses. A pipeline's error (a corrupt video, a bad label
 * file) ends that pipeline alone: it is recorded with the error message
 * and the next video starts. Frames are counted by a probe on
 * annotfilter's sink pad (live progress), samples and bytes come from
 * batchsink-progress, decoded/skipped frames from annotfilter-stats.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

typedef struct _Runner Runner;

typedef struct
{
  Runner *runner;
  PrepVideo *v;
  GstElement *pipeline;
  guint watch;
  gint64 t0;
  gint frames;                  /* atomic: frames into annotfilter */
  gchar *seen_error;            /* from errorwatch.c, until the ERROR */
  GstElement *seen_from;        /* the element that posted it */
  guint error_timeout;
} Job;

struct _Runner
{
  const PrepOptions *opt;
  GPtrArray *todo;
  guint next, running, done;
  guint64 frames_done, samples_done;
  GPtrArray *jobs;              /* Job, running ones */
  PrepProgress *progress;
  GMainLoop *loop;
};

static void start_next (Runner * r);

static GstPadProbeReturn
count_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Job *job = user_data;

  g_atomic_int_inc (&job->frames);
  return GST_PAD_PROBE_OK;
}

static void
finish (Job * job, const gchar * error)
{
  Runner *r = job->runner;
  PrepVideo *v = job->v;

  gst_element_set_state (job->pipeline, GST_STATE_NULL);
  v->seconds = (g_get_monotonic_time () - job->t0) / 1e6;
  v->done = TRUE;
  if (error) {
    v->failed = TRUE;
    v->error = g_strdup (error);
  }
  if (!v->frames_decoded)
    v->frames_decoded = g_atomic_int_get (&job->frames);
  r->frames_done += v->frames_decoded;
  r->samples_done += v->samples;
  if (job->error_timeout)
    g_source_remove (job->error_timeout);
  g_free (job->seen_error);
  g_clear_object (&job->seen_from);
  g_source_remove (job->watch);
  gst_object_unref (job->pipeline);
  g_ptr_array_remove (r->jobs, job);
  g_free (job);
  r->running--;
  r->done++;
  prep_progress_video_done (r->progress, r->done, v);
  start_next (r);
}

/* the ERROR that errorwatch.c saw never came: decodebin dropped it */
static gboolean
swallowed_error (gpointer user_data)
{
  Job *job = user_data;
  gchar *text = job->seen_error;

  job->error_timeout = 0;
  job->seen_error = NULL;
  /* a replaced factory's error: decodebin went on without it */
  if (!gst_object_has_as_ancestor (GST_OBJECT (job->seen_from),
          GST_OBJECT (job->pipeline))) {
    g_clear_object (&job->seen_from);
    g_free (text);
    return G_SOURCE_REMOVE;
  }
  g_debug ("%s: decodebin dropped this error; the job ends with it", text);
  finish (job, text);
  g_free (text);
  return G_SOURCE_REMOVE;
}

static void
element_message (Job * job, const GstStructure * s)
{
  if (gst_structure_has_name (s, PREP_ERROR_MESSAGE)) {
    /* the ERROR itself normally follows at once: wait for it a moment */
    if (!job->seen_error) {
      gst_structure_get (s, "element", GST_TYPE_ELEMENT, &job->seen_from, NULL);
      job->seen_error = g_strdup_printf ("%s: %s: %s", job->v->video,
          job->seen_from ? GST_OBJECT_NAME (job->seen_from) : "?",
          gst_structure_get_string (s, "message"));
    }
    if (!job->error_timeout && job->seen_from)
      job->error_timeout = g_timeout_add (2000, swallowed_error, job);
  } else if (gst_structure_has_name (s, "batchsink-progress")) {
    gst_structure_get_uint64 (s, "samples", &job->v->samples);
    gst_structure_get_uint64 (s, "bytes", &job->v->bytes);
  } else if (gst_structure_has_name (s, "annotfilter-stats")) {
    gst_structure_get_uint64 (s, "frames-seen", &job->v->frames_decoded);
    gst_structure_get_uint64 (s, "frames-decoded-skipped",
        &job->v->frames_skipped);
  }
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Job *job = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      element_message (job, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_EOS:
      finish (job, NULL);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      /* usable but odd (labeled frames the video never reached): keep
       * the first, the summary shows it */
      gst_message_parse_warning (msg, &err, NULL);
      if (!job->v->warning)
        job->v->warning = g_strdup_printf ("%s: %s",
            GST_OBJECT_NAME (msg->src), err->message);
      g_error_free (err);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *text;

      gst_message_parse_error (msg, &err, NULL);
      /* the element's message names the label file, not always the
       * video: say which video it was */
      text = g_strdup_printf ("%s: %s: %s", job->v->video,
          GST_OBJECT_NAME (msg->src), err->message);
      finish (job, text);
      g_free (text);
      g_error_free (err);
      return G_SOURCE_REMOVE;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
tick (gpointer user_data)
{
  Runner *r = user_data;
  guint64 frames = r->frames_done, samples = r->samples_done;
  guint i;

  for (i = 0; i < r->jobs->len; i++) {
    Job *job = r->jobs->pdata[i];
    frames += g_atomic_int_get (&job->frames);
    samples += job->v->samples;
  }
  prep_progress_update (r->progress, r->done, frames, samples);
  return G_SOURCE_CONTINUE;
}

static void
start_one (Runner * r, PrepVideo * v)
{
  GError *err = NULL;
  Job *job = g_new0 (Job, 1);
  GstElement *af;
  GstBus *bus;

  job->runner = r;
  job->v = v;
  job->t0 = g_get_monotonic_time ();
  job->pipeline = prep_plan_pipeline (r->opt, v, &err);
  if (!job->pipeline) {
    v->done = v->failed = TRUE;
    v->error = g_strdup (err->message);
    g_error_free (err);
    g_free (job);
    r->done++;
    prep_progress_video_done (r->progress, r->done, v);
    return;
  }
  af = gst_bin_get_by_name (GST_BIN (job->pipeline), "annotfilter");
  if (af) {
    GstPad *pad = gst_element_get_static_pad (af, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, job, NULL);
    gst_object_unref (pad);
    gst_object_unref (af);
  }
  bus = gst_element_get_bus (job->pipeline);
  job->watch = gst_bus_add_watch (bus, on_bus, job);
  gst_object_unref (bus);
  g_ptr_array_add (r->jobs, job);
  r->running++;
  /* a failure to start still arrives as an ERROR message on the bus.
   * Runs sharing the folder need no lock here: batchsink proves the folder
   * writable with a probe file of its own and takes the folder's dataset
   * lock itself whenever it rewrites dataset.json */
  gst_element_set_state (job->pipeline, GST_STATE_PLAYING);
}

static void
start_next (Runner * r)
{
  while (r->running < MAX (r->opt->jobs, 1) && r->next < r->todo->len)
    start_one (r, r->todo->pdata[r->next++]);
  if (r->running == 0 && r->next >= r->todo->len)
    g_main_loop_quit (r->loop);
}

void
prep_run (const PrepOptions * opt, GPtrArray * todo, PrepProgress * progress)
{
  Runner r = { 0 };
  guint t;

  if (todo->len == 0)
    return;
  r.opt = opt;
  r.todo = todo;
  r.progress = progress;
  r.jobs = g_ptr_array_new ();
  r.loop = g_main_loop_new (NULL, FALSE);
  prep_error_watch_start ();
  t = g_timeout_add (200, tick, &r);
  start_next (&r);
  if (r.running > 0)
    g_main_loop_run (r.loop);
  g_source_remove (t);
  tick (&r);
  g_main_loop_unref (r.loop);
  g_ptr_array_unref (r.jobs);
}
