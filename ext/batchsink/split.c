/* batchsink: deterministic train/val/... split assignment.
 *
 * A sample's group is a canonical string:
 *   track   "<source>/track/<track>" for a tracked first instance, else the
 *           frame string below (untracked instances stay with their frame)
 *   source  "<source>"
 *   frame   "<source>/frame/<frame-index>"
 *   sample  the sample key
 * hashed with FNV-1a 64 over its UTF-8 bytes followed by the MurmurHash3
 * fmix64 finalizer (FNV alone barely moves the high bits when only the last
 * character differs, as in track 1 vs track 2). The top 53 bits give
 * u in [0, 1); the sample goes to the first split whose cumulative fraction
 * exceeds u (the last split when rounding leaves u past the sum). Only
 * integer arithmetic and one exact double conversion: the same on every
 * machine.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "split.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

struct _OpSplit
{
  guint n;
  gchar **names;
  gdouble *cumulative;
  guint64 *counts;              /* samples assigned so far, per split */
};

void
op_split_free (OpSplit * split)
{
  if (!split)
    return;
  g_strfreev (split->names);
  g_free (split->cumulative);
  g_free (split->counts);
  g_free (split);
}

static gboolean
name_ok (const gchar * s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '_' && *s != '-')
      return FALSE;
  return TRUE;
}

/* "train=0.9,val=0.1": names [A-Za-z0-9_-], unique, fractions > 0 that sum
 * to 1 within 1e-6. */
OpSplit *
op_split_parse (const gchar * spec, GError ** error)
{
  gchar **parts = g_strsplit (spec, ",", -1);
  OpSplit *split = g_new0 (OpSplit, 1);
  gdouble sum = 0;
  guint i, j;

  split->n = g_strv_length (parts);
  split->names = g_new0 (gchar *, split->n + 1);
  split->cumulative = g_new0 (gdouble, split->n);
  split->counts = g_new0 (guint64, split->n);
  if (split->n == 0)
    goto bad;
  for (i = 0; i < split->n; i++) {
    gchar *eq = strchr (parts[i], '='), *end = NULL;
    gdouble f;

    if (!eq)
      goto bad;
    *eq = '\0';
    split->names[i] = g_strstrip (g_strdup (parts[i]));
    f = g_ascii_strtod (eq + 1, &end);
    while (end && g_ascii_isspace (*end))
      end++;
    if (!name_ok (split->names[i]) || end == eq + 1 || !end || *end
        || !(f > 0) || !isfinite (f))
      goto bad;
    for (j = 0; j < i; j++)
      if (strcmp (split->names[j], split->names[i]) == 0)
        goto bad;
    sum += f;
    split->cumulative[i] = sum;
  }
  if (fabs (sum - 1.0) > 1e-6)
    goto bad;
  g_strfreev (parts);
  return split;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "Invalid split \"%s\": expected name=fraction pairs separated by "
      "commas, names of [A-Za-z0-9_-], no name twice, fractions > 0 "
      "summing to 1 (e.g. \"train=0.9,val=0.1\")", spec);
  g_strfreev (parts);
  op_split_free (split);
  return NULL;
}

/* The spec normalized (no spaces), safe to embed in JSON as is. */
gchar *
op_split_to_string (const OpSplit * split)
{
  GString *out = g_string_new (NULL);
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  guint i;

  for (i = 0; i < split->n; i++) {
    gdouble f = split->cumulative[i] - (i ? split->cumulative[i - 1] : 0);
    g_ascii_formatd (num, sizeof (num), "%.6g", f);
    g_string_append_printf (out, "%s%s=%s", i ? "," : "", split->names[i], num);
  }
  return g_string_free (out, FALSE);
}

guint64
op_split_hash (const gchar * s)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (; *s; s++) {
    h ^= (guint8) * s;
    h *= G_GUINT64_CONSTANT (0x100000001b3);
  }
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

gchar *
op_split_canonical (OpSplitBy by, const OpAnnotation * ann, const gchar * key)
{
  const OpInstance *inst;

  switch (by) {
    case OP_SPLIT_BY_TRACK:
      inst = op_annotation_n_instances (ann) ?
          op_annotation_get_instance (ann, 0) : NULL;
      if (inst && inst->track >= 0)
        return g_strdup_printf ("%s/track/%d", ann->source, inst->track);
      /* untracked instances stay with their frame */
      G_GNUC_FALLTHROUGH;
    case OP_SPLIT_BY_FRAME:
      return g_strdup_printf ("%s/frame/%" G_GUINT64_FORMAT, ann->source,
          ann->frame_index);
    case OP_SPLIT_BY_SOURCE:
      return g_strdup (ann->source);
    case OP_SPLIT_BY_SAMPLE:
    default:
      return g_strdup (key);
  }
}

/* Also counts the sample, for op_split_report(). */
const gchar *
op_split_assign (OpSplit * split, const gchar * canonical)
{
  gdouble u = (op_split_hash (canonical) >> 11) * (1.0 / 9007199254740992.0);
  guint i;

  for (i = 0; i + 1 < split->n; i++)
    if (u < split->cumulative[i])
      break;
  split->counts[i]++;
  return split->names[i];
}

/* Hashing groups, not samples: with few groups (3 tracks) the achieved
 * fractions can be far from the requested ones. Returns the achieved
 * fractions as "train=0.6667,val=0.3333" and the largest distance from the
 * request, in fraction units (0 when nothing was assigned). */
gchar *
op_split_report (const OpSplit * split, gdouble * worst)
{
  GString *out = g_string_new (NULL);
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  guint64 total = 0;
  guint i;

  *worst = 0;
  for (i = 0; i < split->n; i++)
    total += split->counts[i];
  for (i = 0; i < split->n; i++) {
    gdouble want = split->cumulative[i] - (i ? split->cumulative[i - 1] : 0);
    gdouble got = total ? (gdouble) split->counts[i] / total : 0;

    if (total)
      *worst = MAX (*worst, fabs (got - want));
    g_ascii_formatd (num, sizeof (num), "%.4f", got);
    g_string_append_printf (out, "%s%s=%s", i ? "," : "", split->names[i], num);
  }
  return g_string_free (out, FALSE);
}

guint
op_split_n (const OpSplit * split)
{
  return split->n;
}

const gchar *
op_split_name (const OpSplit * split, guint i)
{
  return split->names[i];
}

guint64
op_split_count (const OpSplit * split, guint i)
{
  return split->counts[i];
}
