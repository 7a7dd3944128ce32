/* batchsink: the file names of single-file formats (jsonl, hdf5) when a
 * split is set: one file per split, the split name inserted into the
 * location's base name. Dots of a leading-dot name (".hidden.jsonl") are
 * not extensions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "splitfile.h"

#include <string.h>

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
  const gchar *base, *dot;

  if (!with_split)
    return g_strdup (location);
  base = strrchr (location, '/');
  base = base ? base + 1 : location;
  dot = strchr (base + (*base == '.'), '.');
  if (!dot)
    return g_strconcat (location, ".", split, NULL);
  return g_strdup_printf ("%.*s.%s%s", (gint) (dot - location), location,
      split, dot);
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
  const gchar *base, *dot;

  if (!with_split)
    return g_strdup (location);
  base = strrchr (location, '/');
  base = base ? base + 1 : location;
  dot = strrchr (base, '.');
  if (!dot || dot == base)
    return g_strconcat (location, ".", split, NULL);
  return g_strdup_printf ("%.*s.%s%s", (gint) (dot - location), location,
      split, dot);
}
