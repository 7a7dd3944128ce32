/* onepass: names safe in dataset keys and file names.
 *
 * The design's crop key `<source>_<frame-index:06>_<instance:02>` must be
 * free of dots (WebDataset cuts a tar member name at its first dot to find
 * the sample key) and of anything a file system or a shell treats
 * specially, so source names are reduced to [A-Za-z0-9_-].
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opname.h"

#include <string.h>

static gboolean
safe_char (gunichar c)
{
  return c < 0x80 && (g_ascii_isalnum ((gchar) c) || c == '_' || c == '-');
}

/**
 * op_name_sanitize:
 * @name: (nullable): a source name from a file name, a label file or an
 *   application, in any encoding
 * @max_chars: keep at most this many characters (0 = no limit)
 *
 * Replaces every character outside [A-Za-z0-9_-] by one '_': a UTF-8
 * character counts as one character (so "mäuse" gives "m_use"), bytes of
 * invalid UTF-8 one each. Dots become '_' too, so the result never starts
 * with '.', never contains "..", '/' or '\\'. An empty or %NULL @name
 * gives "unknown".
 *
 * Returns: (transfer full): the sanitized name
 *
 * Since: 0.1
 */
gchar *
op_name_sanitize (const gchar * name, guint max_chars)
{
  GString *out;
  const gchar *p, *end;

  if (name == NULL || *name == '\0')
    return g_strdup ("unknown");
  out = g_string_sized_new (strlen (name));
  p = name;
  end = name + strlen (name);
  while (p < end && (max_chars == 0 || out->len < max_chars)) {
    gunichar c = g_utf8_get_char_validated (p, end - p);

    if (c == (gunichar) - 1 || c == (gunichar) - 2) {
      /* not UTF-8: one '_' per byte */
      g_string_append_c (out, '_');
      p++;
      continue;
    }
    g_string_append_c (out, safe_char (c) ? (gchar) c : '_');
    p = g_utf8_next_char (p);
  }
  return g_string_free (out, FALSE);
}

/**
 * op_name_is_safe:
 * @name: a name
 *
 * Returns: whether @name is non-empty and only [A-Za-z0-9_-]
 *
 * Since: 0.1
 */
gboolean
op_name_is_safe (const gchar * name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (; *name; name++)
    if (!safe_char ((guchar) * name))
      return FALSE;
  return TRUE;
}
