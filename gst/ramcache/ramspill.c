/* onepass: ramcache's spill file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A file that grows by chunks of slots. Each chunk is reserved with
 * posix_fallocate (so a full disk is an error now, not a SIGBUS later) and
 * mapped MAP_SHARED. After a slot is written or read its pages are dropped
 * from our mapping with MADV_DONTNEED: the data stays in the file (page
 * cache), so spilled frames do not count in our RSS.
 *
 * Slot k lives at offset header + (first_slot + k) * slot_size. A plain
 * spill file (a temporary name under spill-dir, header 0, first_slot 0) is
 * deleted when the spill is freed. A spill file that is to become the
 * export .npy (a given path) leaves room for the header and for the RAM
 * slots in front of it (holes until the export fills them), and is kept
 * once op_ram_spill_keep() has renamed it. Slots need not be page sized:
 * chunk mappings start at the page below their first slot.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ramspill.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib/gstdio.h>

typedef struct
{
  guint8 *map;                  /* page-aligned mapping */
  gsize map_len;
  guint8 *first;                /* the chunk's first slot */
} Chunk;

struct _OpRamSpill
{
  gchar *path;
  gint fd;
  gsize header;
  guint first_slot;
  gsize slot_size;
  guint chunk_slots;
  gsize page;
  GArray *chunks;
  gboolean kept;
};

static gboolean
set_errno_error (GError ** error, gint err, const gchar * what,
    const gchar * path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
      "cannot %s \"%s\": %s", what, path, g_strerror (err));
  return FALSE;
}

/* @path: the file to create, or NULL for a temporary file in @dir */
OpRamSpill *
op_ram_spill_new (const gchar * dir, const gchar * path, gsize header,
    guint first_slot, gsize slot_size, guint chunk_slots, GError ** error)
{
  OpRamSpill *spill;
  gchar *name;
  gint fd;

  if (path) {
    name = g_strdup (path);
    fd = g_open (name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } else {
    name = g_build_filename (dir, "ramcache-XXXXXX.spill", NULL);
    fd = g_mkstemp_full (name, O_RDWR | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    set_errno_error (error, errno, "create spill file", name);
    g_free (name);
    return NULL;
  }
  spill = g_new0 (OpRamSpill, 1);
  spill->path = name;
  spill->fd = fd;
  spill->header = header;
  spill->first_slot = first_slot;
  spill->slot_size = slot_size;
  spill->chunk_slots = MAX (chunk_slots, 1);
  spill->page = sysconf (_SC_PAGESIZE);
  spill->chunks = g_array_new (FALSE, FALSE, sizeof (Chunk));
  return spill;
}

gboolean
op_ram_spill_grow (OpRamSpill * spill, GError ** error)
{
  gsize len = spill->slot_size * spill->chunk_slots;
  off_t off = spill->header + (off_t) spill->slot_size *
      (spill->first_slot + (off_t) spill->chunk_slots * spill->chunks->len);
  off_t map_off = off - off % spill->page;
  Chunk c;
  gint err;

  err = posix_fallocate (spill->fd, off, len);
  if (err != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
        "cannot grow spill file \"%s\" to %" G_GUINT64_FORMAT " bytes: %s",
        spill->path, (guint64) (off + len), g_strerror (err));
    return FALSE;
  }
  c.map_len = len + (off - map_off);
  c.map = mmap (NULL, c.map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
      spill->fd, map_off);
  if (c.map == MAP_FAILED)
    return set_errno_error (error, errno, "map spill file", spill->path);
  c.first = c.map + (off - map_off);
  g_array_append_val (spill->chunks, c);
  return TRUE;
}

guint
op_ram_spill_n_slots (OpRamSpill * spill)
{
  return spill->chunks->len * spill->chunk_slots;
}

guint8 *
op_ram_spill_slot (OpRamSpill * spill, guint slot)
{
  Chunk *c = &g_array_index (spill->chunks, Chunk, slot / spill->chunk_slots);

  return c->first + (gsize) (slot % spill->chunk_slots) * spill->slot_size;
}

/* Drops the slot's pages from our RSS; the file keeps the data (pages
 * shared with a neighbour slot are dropped too: harmless, they are
 * file-backed and come back on access). */
void
op_ram_spill_release (OpRamSpill * spill, guint slot)
{
  Chunk *c = &g_array_index (spill->chunks, Chunk, slot / spill->chunk_slots);
  guint8 *start = op_ram_spill_slot (spill, slot);
  guint8 *end = start + spill->slot_size;
  gsize lo = (start - c->map) / spill->page * spill->page;
  gsize hi = MIN ((gsize) (end - c->map + spill->page - 1) / spill->page *
      spill->page, c->map_len);

  madvise (c->map + lo, hi - lo, MADV_DONTNEED);
}

const gchar *
op_ram_spill_path (OpRamSpill * spill)
{
  return spill->path;
}

gboolean
op_ram_spill_pwrite (OpRamSpill * spill, guint64 offset, gconstpointer data,
    gsize len, GError ** error)
{
  const guint8 *p = data;

  while (len > 0) {
    ssize_t n = pwrite (spill->fd, p, len, offset);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return set_errno_error (error, n < 0 ? errno : ENOSPC, "write",
          spill->path);
    p += n;
    offset += n;
    len -= n;
  }
  return TRUE;
}

/* Cuts the file to @size bytes (no slot past it may be used afterwards),
 * renames it to @final_path and keeps it when the spill is freed. */
gboolean
op_ram_spill_keep (OpRamSpill * spill, guint64 size, const gchar * final_path,
    GError ** error)
{
  if (ftruncate (spill->fd, size) != 0)
    return set_errno_error (error, errno, "truncate", spill->path);
  if (g_rename (spill->path, final_path) != 0)
    return set_errno_error (error, errno, "rename to the export name",
        spill->path);
  g_free (spill->path);
  spill->path = g_strdup (final_path);
  spill->kept = TRUE;
  return TRUE;
}

void
op_ram_spill_free (OpRamSpill * spill)
{
  guint i;

  for (i = 0; i < spill->chunks->len; i++) {
    Chunk *c = &g_array_index (spill->chunks, Chunk, i);

    munmap (c->map, c->map_len);
  }
  g_array_free (spill->chunks, TRUE);
  close (spill->fd);
  if (!spill->kept)
    g_unlink (spill->path);
  g_free (spill->path);
  g_free (spill);
}
