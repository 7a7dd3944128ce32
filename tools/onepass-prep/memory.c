/* onepass-prep --max-memory's default: what the job may use. Slurm's
 * SLURM_MEM_PER_NODE (MB), else the cgroup's limit (v2 memory.max, v1
 * memory.limit_in_bytes), else MemAvailable: the same order ramcache
 * follows, so it behaves under Slurm and in containers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

#include <string.h>

static guint64
read_number (const gchar * path)
{
  gchar *text = NULL, *end;
  guint64 v = 0;

  if (g_file_get_contents (path, &text, NULL, NULL)) {
    v = g_ascii_strtoull (text, &end, 10);
    if (end == text)
      v = 0;                    /* "max": no limit */
  }
  g_free (text);
  return v;
}

static guint64
mem_available (void)
{
  gchar *text = NULL, *line;
  guint64 kb = 0;

  if (g_file_get_contents ("/proc/meminfo", &text, NULL, NULL)
      && (line = strstr (text, "MemAvailable:")))
    kb = g_ascii_strtoull (line + 13, NULL, 10);
  g_free (text);
  return kb * 1024;
}

/* batchsink's max-pending-bytes for --max-memory: a quarter of each
 * pipeline's share (the rest is the decoder's and the frames in flight),
 * only when that is below batchsink's own default. */
guint64
prep_memory_queue_bytes (guint64 max_memory, guint jobs)
{
  GstElementFactory *f = gst_element_factory_find ("batchsink");
  GstElement *e = f ? gst_element_factory_create (f, NULL) : NULL;
  GParamSpec *ps = e ? g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "max-pending-bytes") : NULL;
  guint64 def = ps ? G_PARAM_SPEC_UINT64 (ps)->default_value : 0;
  guint64 share = MAX (max_memory / MAX (jobs, 1) / 4, 1 << 20);

  if (e)
    gst_object_unref (e);
  if (f)
    gst_object_unref (f);
  return max_memory && share < def ? share : 0;
}

guint64
prep_memory_default (void)
{
  const gchar *slurm = g_getenv ("SLURM_MEM_PER_NODE");
  guint64 v;

  if (slurm && (v = g_ascii_strtoull (slurm, NULL, 10)) > 0)
    return v << 20;
  v = read_number ("/sys/fs/cgroup/memory.max");
  if (v == 0)
    v = read_number ("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  /* v1 reports "no limit" as a huge number */
  if (v == 0 || v >= (G_GUINT64_CONSTANT (1) << 60))
    v = mem_available ();
  return v;
}
