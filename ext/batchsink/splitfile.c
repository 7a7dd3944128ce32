/* batchsink: the file names of single-file formats (jsonl, hdf5) when a
 * split is set: one file per split, the split name inserted into the
 * location's base name. Dots of a leading-dot name (".hidden.jsonl") are
 * not extensions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "splitfile.h"

#include <string.h>
#include <gio/gio.h>

/* @location with ".<split>" inserted before @dot (a pointer into its base
 * name, or NULL: appended) */
static gchar *
insert_split (const gchar * location, const gchar * split, const gchar * dot)
{
  if (!dot)
    return g_strconcat (location, ".", split, NULL);
  return g_strdup_printf ("%.*s.%s%s", (gint) (dot - location), location,
      split, dot);
}

static const gchar *
base_name (const gchar * location)
{
  const gchar *base = strrchr (location, '/');

  return base ? base + 1 : location;
}

/**
 * op_batch_split_file_path:
 *
 * JSON lines: the split before all extensions, so `.jsonl.gz` stays whole
 * (`frames.jsonl.gz` -> `frames.train.jsonl.gz`).
 *
 * Returns: (transfer full): @location itself without a split
 */
gchar *
op_batch_split_file_path (const gchar * location, const gchar * split,
    gboolean with_split)
{
  const gchar *base = base_name (location);

  if (!with_split)
    return g_strdup (location);
  return insert_split (location, split, strchr (base + (*base == '.'), '.'));
}

/**
 * op_batch_split_file_path_last:
 *
 * HDF5: the split before the last extension, so the user's extension stays
 * last (`crops.2024-05.h5` -> `crops.2024-05.train.h5`).
 *
 * Returns: (transfer full): @location itself without a split
 */
gchar *
op_batch_split_file_path_last (const gchar * location, const gchar * split,
    gboolean with_split)
{
  const gchar *base = base_name (location), *dot = strrchr (base, '.');

  if (!with_split)
    return g_strdup (location);
  return insert_split (location, split, dot == base ? NULL : dot);
}

/**
 * op_batch_split_file_check:
 * @format: the format's nick, for the message
 * @example: a file name to suggest, e.g. "out.h5"
 *
 * A single-file format's `location` must name a file: an existing
 * directory (or a name ending in '/') is refused at start, before anything
 * is written, instead of failing at EOS.
 */
gboolean
op_batch_split_file_check (const gchar * location, const gchar * format,
    const gchar * example, GError ** error)
{
  if (!g_str_has_suffix (location, "/") &&
      !g_file_test (location, G_FILE_TEST_IS_DIR))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
      "\"%s\" is a directory; format=%s writes a file: name one, e.g. "
      "location=%s%s%s", location, format, location,
      g_str_has_suffix (location, "/") ? "" : "/", example);
  return FALSE;
}
