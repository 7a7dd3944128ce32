/* onepass label readers: small helpers for the text formats.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "textutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/**
 * op_text_split_fields:
 *
 * Splits @line at commas and strips the spaces around each field (MOT files
 * are written both as "1,3,794.2" and "1, 3, 794.2"). Quotes are not
 * interpreted: neither MOT nor DeepLabCut writes them.
 *
 * Returns: (transfer full): the fields, %NULL-terminated
 */
gchar **
op_text_split_fields (const gchar * line, guint * n_fields)
{
  gchar **fields = g_strsplit (line, ",", -1);
  guint i;

  for (i = 0; fields[i]; i++)
    g_strstrip (fields[i]);
  *n_fields = i;
  return fields;
}

/* TRUE when all of @field is one finite decimal number */
gboolean
op_text_parse_number (const gchar * field, gdouble * value)
{
  gchar *end = NULL;
  gdouble v;

  if (field == NULL || *field == '\0')
    return FALSE;
  v = g_ascii_strtod (field, &end);
  if (end == field || *end != '\0' || !isfinite (v))
    return FALSE;
  *value = v;
  return TRUE;
}

/* TRUE when @field is an integer, also written as "3.0" or "3.000" (some
 * tools write every MOT column as a float) */
gboolean
op_text_parse_int (const gchar * field, gint64 * value)
{
  gdouble v;

  if (!op_text_parse_number (field, &v) || v != floor (v)
      || fabs (v) > 9007199254740992.0)
    return FALSE;
  *value = (gint64) v;
  return TRUE;
}

gboolean
op_text_is_blank (const gchar * line)
{
  for (; *line; line++)
    if (!g_ascii_isspace (*line))
      return FALSE;
  return TRUE;
}

/**
 * op_text_first_line:
 *
 * The first non-blank line within the probe's @head bytes, stripped, or
 * %NULL when there is none, the line does not end inside @head (and @head
 * is not the whole file) or the bytes are not UTF-8 text.
 */
gchar *
op_text_first_line (const guint8 * head, gsize len)
{
  const gchar *p = (const gchar *) head, *end = p + len, *nl;

  while (p < end) {
    gchar *line;
    nl = memchr (p, '\n', end - p);
    if (nl == NULL && len == 1024)
      return NULL;
    line = g_strndup (p, (nl ? nl : end) - p);
    if (strlen (line) != (gsize) ((nl ? nl : end) - p)
        || !g_utf8_validate (line, -1, NULL)) {
      g_free (line);
      return NULL;
    }
    if (!op_text_is_blank (line))
      return g_strstrip (line);
    g_free (line);
    p = nl ? nl + 1 : end;
  }
  return NULL;
}

/* The last run of digits in the base name without its extension
 * (img00042.png -> 42): the frame an image file stands for. */
gboolean
op_text_number_in_name (const gchar * file_name, guint64 * number)
{
  gchar *base = g_path_get_basename (file_name);
  gchar *dot = strrchr (base, '.');
  gchar *end, *start;
  gboolean ok = FALSE;

  if (dot)
    *dot = '\0';
  for (end = base + strlen (base); end > base && !g_ascii_isdigit (end[-1]);
      end--);
  for (start = end; start > base && g_ascii_isdigit (start[-1]); start--);
  if (end > start && end - start <= 18) {
    *number = g_ascii_strtoull (start, NULL, 10);
    ok = TRUE;
  }
  g_free (base);
  return ok;
}
