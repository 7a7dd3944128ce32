/* onepass-prep: one onepass pipeline per video, over many videos, on one
 * machine or as a Slurm job array (docs/onepass-prep.md).
 *
 *   onepass-prep [OPTIONS] INPUT... -o OUT
 *   onepass-prep --merge OUT
 *
 * This file only reads the options and calls the parts in order:
 * inputs.c (what INPUT names, source names), plan.c (this task's share,
 * what is already complete, the pipeline), runner.c (--jobs pipelines at
 * once), progress.c, report.c (summary, --report JSON), merge.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "config.h"

static gboolean
parse_size (const gchar * s, guint64 * out)
{
  gchar *end;
  guint64 v = g_ascii_strtoull (s, &end, 10);

  switch (g_ascii_toupper (*end)) {
    case 'K':
      v <<= 10;
      end++;
      break;
    case 'M':
      v <<= 20;
      end++;
      break;
    case 'G':
      v <<= 30;
      end++;
      break;
    case 'T':
      v <<= 40;
      end++;
      break;
    default:
      break;
  }
  if (*end == 'B' || *end == 'b')
    end++;
  *out = v;
  return end != s && *end == '\0';
}

/* --task I/N, else Slurm's array variables (ids may start at 1) */
static gboolean
parse_task (const gchar * task, PrepOptions * opt)
{
  const gchar *id = g_getenv ("SLURM_ARRAY_TASK_ID");
  const gchar *count = g_getenv ("SLURM_ARRAY_TASK_COUNT");
  const gchar *min = g_getenv ("SLURM_ARRAY_TASK_MIN");
  gchar *end;

  opt->task_i = 0;
  opt->task_n = 1;
  if (task) {
    opt->task_i = g_ascii_strtoull (task, &end, 10);
    if (end == task || *end != '/')
      return FALSE;
    opt->task_n = g_ascii_strtoull (end + 1, &end, 10);
    return *end == '\0' && opt->task_n > 0 && opt->task_i < opt->task_n;
  }
  if (id && count) {
    opt->task_i = g_ascii_strtoull (id, NULL, 10) - (min ?
        g_ascii_strtoull (min, NULL, 10) : 0);
    opt->task_n = g_ascii_strtoull (count, NULL, 10);
    return opt->task_n > 0 && opt->task_i < opt->task_n;
  }
  return TRUE;
}

static void
print_plan (const PrepOptions * opt, GPtrArray * share)
{
  guint i;

  printf ("# task %u/%u: %u videos into %s (%s), %u at once\n", opt->task_i,
      opt->task_n, share->len, opt->out, opt->format, opt->jobs);
  for (i = 0; i < share->len; i++) {
    PrepVideo *v = share->pdata[i];
    gchar *line = prep_plan_describe (opt, v);

    printf ("# %s: %s\n%s%s\n", v->source, v->complete ?
        "complete, skipped" : v->resume ? "interrupted, resumed" : "to run",
        v->complete ? "# " : "", line);
    g_free (line);
  }
}

static gint
usage (GOptionContext * ctx, const gchar * msg)
{
  gchar *help = g_option_context_get_help (ctx, TRUE, NULL);

  fprintf (stderr, "onepass-prep: %s\n\n%s", msg, help);
  g_free (help);
  return 2;
}

int
main (int argc, char **argv)
{
  PrepOptions opt = { 0 };
  gchar *crop = NULL, *task = NULL, *max_memory = NULL, *report = NULL;
  gchar *merge = NULL, **inputs = NULL;
  gint jobs = 0, rc = 0;
  GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &opt.out,
        "Output folder (one dataset)", "OUT"},
    {"format", 'f', 0, G_OPTION_ARG_STRING, &opt.format,
        "tar (default), hdf5, jsonl or dir", "FMT"},
    {"split", 0, 0, G_OPTION_ARG_STRING, &opt.split,
        "Splits, e.g. train=0.9,val=0.1", "SPEC"},
    {"split-by", 0, 0, G_OPTION_ARG_STRING, &opt.split_by,
        "track (default), source, frame or sample", "BY"},
    {"crop", 0, 0, G_OPTION_ARG_STRING, &crop,
          "One WxH crop per instance (cropextract); default whole frames",
        "WxH"},
    {"instances", 0, 0, G_OPTION_ARG_STRING, &opt.instances,
        "user (default), predicted, detection or all", "KIND"},
    {"node-map", 0, 0, G_OPTION_ARG_FILENAME, &opt.node_map,
        "CSV from,to mapping every skeleton onto one", "FILE"},
    {"attributes", 0, 0, G_OPTION_ARG_FILENAME, &opt.attributes,
        "CSV source,<numeric columns> stored per source", "FILE"},
    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt.sets,
          "Any element property (repeatable), e.g. batchsink.batch-size=64",
        "ELEMENT.PROP=VALUE"},
    {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
        "Pipelines at once (default: the number of cores)", "N"},
    {"max-memory", 0, 0, G_OPTION_ARG_STRING, &max_memory,
        "Memory the pipelines' queues may hold together (default: the "
          "Slurm/cgroup limit, else MemAvailable; 0 = no cap)", "BYTES"},
    {"task", 0, 0, G_OPTION_ARG_STRING, &task,
        "Run share I of N (default: SLURM_ARRAY_TASK_ID/COUNT)", "I/N"},
    {"merge", 0, 0, G_OPTION_ARG_FILENAME, &merge,
        "Only rebuild and check OUT's dataset.json", "OUT"},
    {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt.dry_run,
          "Print the plan (one gst-launch-1.0 line per video) and stop",
        NULL},
    {"report", 0, 0, G_OPTION_ARG_FILENAME, &report,
        "Write a JSON performance report", "FILE"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL,
        "INPUT..."},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("INPUT... -o OUT");
  GError *err = NULL;
  GPtrArray *videos = g_ptr_array_new_with_free_func (prep_video_free);
  GPtrArray *share = NULL, *todo = NULL;
  PrepProgress *progress;
  gint64 t0;
  gdouble seconds;
  guint i, failed = 0;

  g_option_context_set_summary (ctx, "Turns videos and their labels into "
      "one dataset: one onepass pipeline per video, INPUT being label "
      "files, folders of sessions (<session>/<camera>.mp4 + labels) or a "
      "CSV video,labels[,source].");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    rc = usage (ctx, err->message);
    goto out;
  }
  if (merge && inputs) {
    rc = usage (ctx, "--merge OUT takes no INPUT (a run merges by itself)");
    goto out;
  }
  if (merge) {
    if (!prep_merge (merge, &err)) {
      fprintf (stderr, "onepass-prep: %s\n", err->message);
      rc = 1;
    } else
      printf ("%s/dataset.json: merged\n", merge);
    goto out;
  }
  if (!opt.out || !inputs)
    rc = usage (ctx, "give INPUT... and -o OUT (or --merge OUT)");
  else if (!opt.format)
    opt.format = g_strdup ("tar");
  if (!rc && strcmp (opt.format, "tar") && strcmp (opt.format, "hdf5")
      && strcmp (opt.format, "jsonl") && strcmp (opt.format, "dir"))
    rc = usage (ctx, "--format must be tar, hdf5, jsonl or dir");
  if (!rc && crop && (sscanf (crop, "%ux%u", &opt.crop_w, &opt.crop_h) != 2
          || !opt.crop_w || !opt.crop_h))
    rc = usage (ctx, "--crop must be WxH, e.g. 328x328");
  if (!rc && !parse_task (task, &opt))
    rc = usage (ctx, "--task must be I/N with 0 <= I < N (or set "
        "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT)");
  opt.jobs = jobs > 0 ? (guint) jobs : g_get_num_processors ();
  if (!rc && max_memory && !parse_size (max_memory, &opt.max_memory))
    rc = usage (ctx, "--max-memory must be a size: 4G, 512M, 1000000");
  else if (!max_memory)
    opt.max_memory = prep_memory_default ();
  if (rc)
    goto out;
  opt.queue_bytes = prep_memory_queue_bytes (opt.max_memory, opt.jobs);

  if (!prep_inputs_collect (inputs, videos, &err)) {
    fprintf (stderr, "onepass-prep: %s\n", err->message);
    rc = 2;
    goto out;
  }
  share = prep_plan_share (videos, opt.task_i, opt.task_n);
  todo = g_ptr_array_new ();
  for (i = 0; i < share->len; i++) {
    PrepVideo *v = share->pdata[i];

    prep_plan_status (&opt, v);
    if (!v->complete)
      g_ptr_array_add (todo, v);
  }
  if (opt.dry_run) {
    print_plan (&opt, share);
    goto out;
  }
  if (g_mkdir_with_parents (opt.out, 0755) != 0) {
    fprintf (stderr, "onepass-prep: cannot create %s: %s\n", opt.out,
        g_strerror (errno));
    rc = 2;
    goto out;
  }
  /* a bad --set fails once here, not once per video */
  if (todo->len > 0) {
    GstElement *probe = prep_plan_pipeline (&opt, todo->pdata[0], &err);

    if (!probe) {
      fprintf (stderr, "onepass-prep: %s\n", err->message);
      rc = 2;
      goto out;
    }
    gst_object_unref (probe);
  }

  t0 = g_get_monotonic_time ();
  progress = prep_progress_new (todo->len, isatty (STDERR_FILENO));
  prep_run (&opt, todo, progress);
  prep_progress_free (progress);
  seconds = (g_get_monotonic_time () - t0) / 1e6;

  prep_report_summary (share, seconds);
  for (i = 0; i < share->len; i++)
    failed += ((PrepVideo *) share->pdata[i])->failed;
  if (report && !prep_report_write (report, &opt, share, seconds, &err)) {
    fprintf (stderr, "onepass-prep: %s: %s\n", report, err->message);
    g_clear_error (&err);
    rc = 1;
  }
  /* a single machine merges at once; an array task leaves it to the
   * merge job (--merge OUT) once every task is done */
  if (opt.task_n == 1 && !prep_merge (opt.out, &err)) {
    fprintf (stderr, "onepass-prep: %s\n", err->message);
    rc = 1;
  }
  if (failed) {
    fprintf (stderr, "onepass-prep: %u of %u videos failed\n", failed,
        share->len);
    rc = 1;
  }

out:
  g_clear_error (&err);
  if (todo)
    g_ptr_array_unref (todo);
  if (share)
    g_ptr_array_unref (share);
  g_ptr_array_unref (videos);
  g_option_context_free (ctx);
  g_strfreev (inputs);
  g_strfreev (opt.sets);
  g_free (opt.out);
  g_free (opt.format);
  g_free (opt.split);
  g_free (opt.split_by);
  g_free (opt.instances);
  g_free (opt.node_map);
  g_free (opt.attributes);
  g_free (crop);
  g_free (task);
  g_free (max_memory);
  g_free (report);
  g_free (merge);
  return rc;
}
