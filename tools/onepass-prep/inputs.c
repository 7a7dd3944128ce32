/* onepass-prep: what the INPUT arguments name, and the source names.
 *
 * An INPUT is
 * - a label file: its video is the file beside it with the same base name
 *   and a video extension (`clip.slp` -> `clip.mp4`);
 * - a folder: videos directly in it (source `<camera>`) and in its
 *   subfolders (a sessions folder, `<session>/<camera>.mp4`: source
 *   `<session>_<camera>`), each with the label file of the same base name
 *   beside it, else the one label file of its folder (a multi-video .slp);
 * - a CSV `video,labels[,source]` (a header row starting with `video` is
 *   skipped; relative paths are relative to the CSV).
 * Sources are sanitized like every onepass name; two videos with the same
 * source are an error naming both, never a silent merge.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <string.h>
#include <gio/gio.h>
#include <onepass/onepass.h>

static const gchar *const video_exts[] = { ".mp4", ".avi", ".mov", ".mkv",
  ".webm", ".m4v", NULL
};

/* longest first: `.pkg.slp` before `.slp` */
static const gchar *const label_exts[] = { ".pkg.slp", ".analysis.h5",
  ".jsonl.gz", ".slp", ".jsonl", ".json", ".h5", ".csv", ".txt", NULL
};

void
prep_video_free (gpointer data)
{
  PrepVideo *v = data;

  g_free (v->video);
  g_free (v->labels);
  g_free (v->source);
  g_free (v->origin);
  g_free (v->error);
  g_free (v->warning);
  g_free (v);
}

static const gchar *
ext_of (const gchar * name, const gchar * const *exts)
{
  guint i;

  for (i = 0; exts[i]; i++)
    if (g_str_has_suffix (name, exts[i]) && strlen (name) > strlen (exts[i]))
      return exts[i];
  return NULL;
}

static gchar *
strip_ext (const gchar * name, const gchar * ext)
{
  return g_strndup (name, strlen (name) - strlen (ext));
}

static void
add_video (GPtrArray * videos, const gchar * video, const gchar * labels,
    const gchar * source, const gchar * origin)
{
  PrepVideo *v = g_new0 (PrepVideo, 1);

  v->video = g_strdup (video);
  v->labels = g_strdup (labels);
  v->source = op_name_sanitize (source, 64);
  v->origin = g_strdup (origin);
  g_ptr_array_add (videos, v);
}

/* The label file for @stem in @dir: `<stem>.<label ext>`, else the only
 * label file of @dir. */
static gchar *
find_labels (const gchar * dir, const gchar * stem, GError ** error)
{
  GDir *d = g_dir_open (dir, 0, error);
  const gchar *name;
  gchar *own = NULL, *only = NULL;
  guint n = 0;

  if (!d)
    return NULL;
  while ((name = g_dir_read_name (d))) {
    const gchar *ext = ext_of (name, label_exts);
    gchar *s;

    if (!ext || name[0] == '.' || g_str_has_suffix (name, ".manifest.json")
        || !strcmp (name, "dataset.json"))
      continue;
    s = strip_ext (name, ext);
    if (!strcmp (s, stem) && !own)
      own = g_build_filename (dir, name, NULL);
    g_free (s);
    if (n++ == 0)
      only = g_build_filename (dir, name, NULL);
  }
  g_dir_close (d);
  if (own) {
    g_free (only);
    return own;
  }
  if (n == 1)
    return only;
  g_free (only);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
      "%s: no label file for video \"%s\" (want %s/%s.slp, .jsonl, ...; "
      "the folder has %u other label files)", dir, stem, dir, stem, n);
  return NULL;
}

static gint
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Videos directly in @dir; @session: prefix of their source, or NULL. */
static gboolean
scan_folder (const gchar * dir, const gchar * session, const gchar * origin,
    GPtrArray * videos, GPtrArray * subdirs, GError ** error)
{
  GDir *d = g_dir_open (dir, 0, error);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;
  gboolean ok = TRUE;
  guint i;

  if (!d) {
    g_ptr_array_unref (names);
    return FALSE;
  }
  while ((name = g_dir_read_name (d)))
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_str);
  for (i = 0; ok && i < names->len; i++) {
    const gchar *n = names->pdata[i], *ext = ext_of (n, video_exts);
    gchar *path = g_build_filename (dir, n, NULL);

    if (subdirs && g_file_test (path, G_FILE_TEST_IS_DIR)) {
      g_ptr_array_add (subdirs, path);
      continue;
    }
    if (ext) {
      gchar *stem = strip_ext (n, ext), *labels = find_labels (dir, stem,
          error);
      gchar *source = session ? g_strdup_printf ("%s_%s", session, stem) :
          g_strdup (stem);

      if (labels)
        add_video (videos, path, labels, source, origin);
      ok = labels != NULL;
      g_free (labels);
      g_free (source);
      g_free (stem);
    }
    g_free (path);
  }
  g_ptr_array_unref (names);
  return ok;
}

static gboolean
collect_folder (const gchar * dir, GPtrArray * videos, GError ** error)
{
  GPtrArray *subdirs = g_ptr_array_new_with_free_func (g_free);
  guint i, before = videos->len;
  gboolean ok = scan_folder (dir, NULL, dir, videos, subdirs, error);

  for (i = 0; ok && i < subdirs->len; i++) {
    gchar *session = g_path_get_basename (subdirs->pdata[i]);
    ok = scan_folder (subdirs->pdata[i], session, dir, videos, NULL, error);
    g_free (session);
  }
  g_ptr_array_unref (subdirs);
  if (ok && videos->len == before) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "%s: no videos (.mp4, .avi, .mov, .mkv, ...) in it or its "
        "subfolders", dir);
    return FALSE;
  }
  return ok;
}

static gchar *
relative_to (const gchar * base_dir, const gchar * path)
{
  return g_path_is_absolute (path) ? g_strdup (path) :
      g_build_filename (base_dir, path, NULL);
}

static gboolean
collect_csv (const gchar * csv, GPtrArray * videos, GError ** error)
{
  gchar *text, **lines, *dir = g_path_get_dirname (csv);
  gboolean ok = TRUE;
  guint i;

  if (!g_file_get_contents (csv, &text, NULL, error)) {
    g_free (dir);
    return FALSE;
  }
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; ok && lines[i]; i++) {
    gchar **f = g_strsplit (g_strstrip (lines[i]), ",", -1);
    guint n = g_strv_length (f), k;

    for (k = 0; k < n; k++)
      g_strstrip (f[k]);
    if (n == 0 || !*f[0] || f[0][0] == '#' || (i == 0
            && !g_ascii_strcasecmp (f[0], "video"))) {
      g_strfreev (f);
      continue;
    }
    if (n < 2 || n > 3 || !*f[1]) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: line %u: expected video,labels[,source]", csv, i + 1);
      ok = FALSE;
    } else {
      gchar *video = relative_to (dir, f[0]), *labels = relative_to (dir, f[1]);
      gchar *base = g_path_get_basename (f[0]);
      const gchar *ext = ext_of (base, video_exts);
      gchar *stem = ext ? strip_ext (base, ext) : g_strdup (base);

      add_video (videos, video, labels, n == 3 && *f[2] ? f[2] : stem, csv);
      g_free (stem);
      g_free (base);
      g_free (video);
      g_free (labels);
    }
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (text);
  g_free (dir);
  return ok;
}

static gboolean
collect_label_file (const gchar * labels, GPtrArray * videos, GError ** error)
{
  gchar *dir = g_path_get_dirname (labels), *base =
      g_path_get_basename (labels);
  gchar *stem = strip_ext (base, ext_of (base, label_exts));
  gboolean ok = FALSE;
  guint i;

  for (i = 0; !ok && video_exts[i]; i++) {
    gchar *name = g_strconcat (stem, video_exts[i], NULL);
    gchar *video = g_build_filename (dir, name, NULL);

    if (g_file_test (video, G_FILE_TEST_IS_REGULAR)) {
      add_video (videos, video, labels, stem, labels);
      ok = TRUE;
    }
    g_free (video);
    g_free (name);
  }
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "%s: no video beside it (%s/%s.mp4, .avi, .mov, .mkv, ...); list "
        "video and labels in a CSV instead", labels, dir, stem);
  g_free (stem);
  g_free (base);
  g_free (dir);
  return ok;
}

/* Two videos must never share a source: their samples would share keys. */
static gboolean
check_unique (GPtrArray * videos, GError ** error)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; ok && i < videos->len; i++) {
    PrepVideo *v = videos->pdata[i], *other;

    other = g_hash_table_lookup (seen, v->source);
    if (!strcmp (v->source, "dataset")) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
          "%s: the source name \"dataset\" is reserved (OUT/dataset.json, "
          "OUT/dataset.h5); name it in a CSV (video,labels,source)", v->video);
      ok = FALSE;
    } else if (other) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
          "%s and %s both get the source name \"%s\"; name them in a CSV "
          "(video,labels,source)", other->video, v->video, v->source);
      ok = FALSE;
    }
    g_hash_table_insert (seen, v->source, v);
  }
  g_hash_table_unref (seen);
  return ok;
}

/* A video list (header `video,...` or a first field naming a video), not
 * a DeepLabCut label CSV. */
static gboolean
is_video_csv (const gchar * path)
{
  gchar *text = NULL, **f;
  gboolean yes = FALSE;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  f = g_strsplit_set (text, ",\n", 2);
  if (f[0]) {
    g_strstrip (f[0]);
    yes = !g_ascii_strcasecmp (f[0], "video") || ext_of (f[0], video_exts);
  }
  g_strfreev (f);
  g_free (text);
  return yes;
}

gboolean
prep_inputs_collect (gchar ** inputs, GPtrArray * videos, GError ** error)
{
  guint i;

  for (i = 0; inputs && inputs[i]; i++) {
    const gchar *in = inputs[i];
    gboolean ok;

    if (g_file_test (in, G_FILE_TEST_IS_DIR))
      ok = collect_folder (in, videos, error);
    else if (!g_file_test (in, G_FILE_TEST_EXISTS)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "%s: no such file or folder", in);
      ok = FALSE;
    } else if (g_str_has_suffix (in, ".csv") && is_video_csv (in))
      ok = collect_csv (in, videos, error);
    else if (ext_of (in, label_exts))
      ok = collect_label_file (in, videos, error);
    else {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "%s: not a folder, a video,labels CSV or a label file", in);
      ok = FALSE;
    }
    if (!ok)
      return FALSE;
  }
  return check_unique (videos, error);
}
