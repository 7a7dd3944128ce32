/* onepass-prep: progress on stderr. On a terminal one bar redrawn in
 * place (videos done, frames, samples, frame rate, ETA from the videos
 * done so far); otherwise one plain line per finished video, so logs
 * (Slurm's slurm-<job>.out) stay readable.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <stdio.h>

struct _PrepProgress
{
  guint total;
  gboolean tty;
  gint64 t0;
  gboolean drawn;
};

PrepProgress *
prep_progress_new (guint total, gboolean tty)
{
  PrepProgress *p = g_new0 (PrepProgress, 1);

  p->total = total;
  p->tty = tty;
  p->t0 = g_get_monotonic_time ();
  return p;
}

static void
format_duration (gchar * buf, gsize n, gdouble s)
{
  guint t = (guint) (s + 0.5);

  g_snprintf (buf, n, "%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60);
}

void
prep_progress_update (PrepProgress * p, guint done, guint64 frames,
    guint64 samples)
{
  gdouble el = (g_get_monotonic_time () - p->t0) / 1e6;
  gchar eta[32] = "?", bar[21];
  guint i, fill = p->total ? done * 20 / p->total : 20;

  if (!p->tty)
    return;
  for (i = 0; i < 20; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[20] = '\0';
  if (done > 0 && done < p->total)
    format_duration (eta, sizeof (eta), el / done * (p->total - done));
  else if (done >= p->total)
    format_duration (eta, sizeof (eta), 0);
  fprintf (stderr, "\r[%s] %u/%u videos  %" G_GUINT64_FORMAT " frames  %"
      G_GUINT64_FORMAT " samples  %.0f fps  ETA %s ", bar, done, p->total,
      frames, samples, el > 0 ? frames / el : 0.0, eta);
  fflush (stderr);
  p->drawn = TRUE;
}

void
prep_progress_video_done (PrepProgress * p, guint done, const PrepVideo * v)
{
  if (p->tty) {
    /* failures stay visible above the bar */
    if (v->failed)
      fprintf (stderr, "\r\033[Konepass-prep: %s FAILED: %s\n", v->source,
          v->error);
    return;
  }
  if (v->failed)
    fprintf (stderr, "onepass-prep: [%u/%u] %s FAILED: %s\n", done, p->total,
        v->source, v->error);
  else
    fprintf (stderr, "onepass-prep: [%u/%u] %s: %" G_GUINT64_FORMAT
        " frames decoded, %" G_GUINT64_FORMAT " samples, %.2f s\n", done,
        p->total, v->source, v->frames_decoded, v->samples, v->seconds);
}

void
prep_progress_free (PrepProgress * p)
{
  if (p && p->tty && p->drawn)
    fputc ('\n', stderr);
  g_free (p);
}
