/* onepass: memory budget probe for ramcache.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What is "really available" to this process: the smaller of the kernel's
 * MemAvailable and what is left under the memory cgroup's limit (v2
 * memory.max - memory.current, or v1 memory.limit_in_bytes -
 * memory.usage_in_bytes), so budgets behave under Slurm and containers.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "rambudget.h"

#include <string.h>
#include <stdlib.h>

/* Returns G_MAXUINT64 when the file is missing or says "max". */
static guint64
read_u64_file (const gchar * path)
{
  gchar *text = NULL;
  guint64 v = G_MAXUINT64;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return G_MAXUINT64;
  g_strstrip (text);
  if (text[0] >= '0' && text[0] <= '9')
    v = g_ascii_strtoull (text, NULL, 10);
  g_free (text);
  return v;
}

guint64
op_ram_budget_mem_available (void)
{
  gchar *text = NULL;
  const gchar *line;
  guint64 kib = G_MAXUINT64;

  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    return G_MAXUINT64;
  line = strstr (text, "MemAvailable:");
  if (line)
    kib = g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10);
  g_free (text);
  return kib == G_MAXUINT64 ? kib : kib * 1024;
}

/* Limit minus usage for one cgroup directory, G_MAXUINT64 if unlimited. */
static guint64
cgroup_dir_available (const gchar * dir, gboolean v2)
{
  gchar *lpath, *upath;
  guint64 limit, usage;

  lpath = g_build_filename (dir, v2 ? "memory.max" : "memory.limit_in_bytes",
      NULL);
  upath = g_build_filename (dir,
      v2 ? "memory.current" : "memory.usage_in_bytes", NULL);
  limit = read_u64_file (lpath);
  usage = read_u64_file (upath);
  g_free (lpath);
  g_free (upath);
  /* v1 reports "unlimited" as a huge page-rounded number */
  if (limit == G_MAXUINT64 || limit >= (G_MAXUINT64 >> 2))
    return G_MAXUINT64;
  if (usage == G_MAXUINT64)
    usage = 0;
  return limit > usage ? limit - usage : 0;
}

/* Walks from the process's cgroup up to the mount root: a parent's limit
 * applies as well. Inside a cgroup namespace the path may not exist below
 * the mount, then only the root directory is read. */
static guint64
cgroup_path_available (const gchar * mount, const gchar * rel, gboolean v2)
{
  gchar *path = g_build_filename (mount, rel, NULL);
  guint64 best = G_MAXUINT64;

  while (TRUE) {
    guint64 v;

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      v = cgroup_dir_available (path, v2);
      best = MIN (best, v);
    }
    if (strlen (path) <= strlen (mount))
      break;
    {
      gchar *parent = g_path_get_dirname (path);
      g_free (path);
      path = parent;
    }
  }
  g_free (path);
  return best;
}

guint64
op_ram_budget_cgroup_available (void)
{
  gchar *text = NULL;
  gchar **lines;
  guint64 best = G_MAXUINT64;
  guint i;

  if (!g_file_get_contents ("/proc/self/cgroup", &text, NULL, NULL))
    return G_MAXUINT64;
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  for (i = 0; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], ":", 3);

    if (g_strv_length (f) == 3) {
      if (g_str_equal (f[0], "0") && f[1][0] == '\0') {
        guint64 a = cgroup_path_available ("/sys/fs/cgroup", f[2], TRUE);
        guint64 b = cgroup_path_available ("/sys/fs/cgroup/unified", f[2],
            TRUE);
        best = MIN (best, MIN (a, b));
      } else {
        gchar **ctrls = g_strsplit (f[1], ",", -1);

        if (g_strv_contains ((const gchar * const *) ctrls, "memory"))
          best = MIN (best, cgroup_path_available ("/sys/fs/cgroup/memory",
                  f[2], FALSE));
        g_strfreev (ctrls);
      }
    }
    g_strfreev (f);
  }
  g_strfreev (lines);
  return best;
}

/* What the process may still use; G_MAXUINT64 if nothing could be read. */
guint64
op_ram_budget_available (void)
{
  return MIN (op_ram_budget_mem_available (),
      op_ram_budget_cgroup_available ());
}
