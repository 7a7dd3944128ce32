/* onepass-prep: the end summary (stdout) and the --report JSON
 * (per video and in total: seconds, frames decoded and not decoded,
 * samples, bytes; peak memory of the whole process, VmHWM: the pipelines
 * share one process, so per-video peaks are not separable).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <stdio.h>
#include <string.h>
#include <onepass/opjson.h>

#include "config.h"

static guint64
peak_rss (void)
{
  gchar *text = NULL, *line;
  guint64 kb = 0;

  if (g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      && (line = strstr (text, "VmHWM:")))
    kb = g_ascii_strtoull (line + 6, NULL, 10);
  g_free (text);
  return kb * 1024;
}

static const gchar *
status_of (const PrepVideo * v)
{
  if (v->complete)
    return "skipped";
  if (!v->done)
    return "not run";
  return v->failed ? "failed" : "ok";
}

void
prep_report_summary (GPtrArray * videos, gdouble seconds)
{
  guint i, failed = 0, skipped = 0, ok = 0;
  guint64 samples = 0, frames = 0;

  printf ("%-32s %-8s %8s %8s %8s  %s\n", "source", "status", "frames",
      "samples", "seconds", "error or warning");
  for (i = 0; i < videos->len; i++) {
    PrepVideo *v = videos->pdata[i];

    printf ("%-32s %-8s %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT
        " %8.2f  %s%s%s\n", v->source, status_of (v), v->frames_decoded,
        v->samples, v->seconds, v->error ? v->error : "",
        !v->error && v->warning ? "warning: " : "",
        !v->error && v->warning ? v->warning : "");
    failed += v->failed;
    skipped += v->complete;
    ok += v->done && !v->failed;
    samples += v->samples;
    frames += v->frames_decoded;
  }
  printf ("%u videos: %u ok, %u failed, %u skipped (already complete); %"
      G_GUINT64_FORMAT " frames decoded, %" G_GUINT64_FORMAT
      " samples in %.2f s\n", videos->len, ok, failed, skipped, frames,
      samples, seconds);
}

static void
append_counts (GString * o, gdouble seconds, guint64 dec, guint64 skip,
    guint64 samples, guint64 bytes)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (o, "\"seconds\":%s,\"frames_decoded\":%"
      G_GUINT64_FORMAT ",\"frames_not_decoded\":%" G_GUINT64_FORMAT
      ",\"samples\":%" G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT,
      g_ascii_formatd (buf, sizeof (buf), "%.3f", seconds), dec, skip,
      samples, bytes);
}

gboolean
prep_report_write (const gchar * path, const PrepOptions * opt,
    GPtrArray * videos, gdouble seconds, GError ** error)
{
  GString *o = g_string_new ("{\"onepass_version\":\"" VERSION "\",\"jobs\":");
  guint64 dec = 0, skip = 0, samples = 0, bytes = 0;
  guint i, failed = 0;
  gboolean ok;

  g_string_append_printf (o, "%u,\"format\":", opt->jobs);
  op_json_append_string (o, opt->format);
  g_string_append (o, ",\n \"videos\":[");
  for (i = 0; i < videos->len; i++) {
    PrepVideo *v = videos->pdata[i];

    g_string_append (o, i ? ",\n  {\"source\":" : "\n  {\"source\":");
    op_json_append_string (o, v->source);
    g_string_append (o, ",\"video\":");
    op_json_append_string (o, v->video);
    g_string_append (o, ",\"labels\":");
    op_json_append_string (o, v->labels);
    g_string_append (o, ",\"status\":");
    op_json_append_string (o, status_of (v));
    g_string_append (o, ",\"error\":");
    if (v->error)
      op_json_append_string (o, v->error);
    else
      g_string_append (o, "null");
    g_string_append (o, ",\"warning\":");
    if (v->warning)
      op_json_append_string (o, v->warning);
    else
      g_string_append (o, "null");
    g_string_append_c (o, ',');
    append_counts (o, v->seconds, v->frames_decoded, v->frames_skipped,
        v->samples, v->bytes);
    g_string_append_c (o, '}');
    dec += v->frames_decoded;
    skip += v->frames_skipped;
    samples += v->samples;
    bytes += v->bytes;
    failed += v->failed;
  }
  g_string_append_printf (o, "],\n \"total\":{\"videos\":%u,\"failed\":%u,",
      videos->len, failed);
  append_counts (o, seconds, dec, skip, samples, bytes);
  g_string_append_printf (o, ",\"peak_rss_bytes\":%" G_GUINT64_FORMAT
      "}}\n", peak_rss ());
  ok = g_file_set_contents (path, o->str, o->len, error);
  g_string_free (o, TRUE);
  return ok;
}
