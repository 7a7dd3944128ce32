/* onepass: ramcache's spill file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A file under spill-dir that grows by chunks of slots. Each chunk is
 * reserved with posix_fallocate (so a full disk is an error now, not a
 * SIGBUS later) and mapped MAP_SHARED. After a slot is written or read its
 * pages are dropped from our mapping with MADV_DONTNEED: the data stays in
 * the file (page cache), so spilled frames do not count in our RSS. The file
 * is deleted when the spill is freed (element stop).
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

struct _OpRamSpill
{
  gchar *path;
  gint fd;
  gsize slot_size;
  guint chunk_slots;
  GPtrArray *chunks;            /* mapped chunk bases */
};

OpRamSpill *
op_ram_spill_new (const gchar * dir, gsize slot_size, guint chunk_slots,
    GError ** error)
{
  OpRamSpill *spill;
  gchar *tmpl;
  gint fd;

  tmpl = g_build_filename (dir, "ramcache-XXXXXX.spill", NULL);
  fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    gint err = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
        "cannot create spill file in \"%s\": %s", dir, g_strerror (err));
    g_free (tmpl);
    return NULL;
  }
  spill = g_new0 (OpRamSpill, 1);
  spill->path = tmpl;
  spill->fd = fd;
  spill->slot_size = slot_size;
  spill->chunk_slots = MAX (chunk_slots, 1);
  spill->chunks = g_ptr_array_new ();
  return spill;
}

gboolean
op_ram_spill_grow (OpRamSpill * spill, GError ** error)
{
  gsize len = spill->slot_size * spill->chunk_slots;
  off_t off = (off_t) len * spill->chunks->len;
  gpointer base;
  gint err;

  err = posix_fallocate (spill->fd, off, len);
  if (err != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
        "cannot grow spill file \"%s\" to %" G_GUINT64_FORMAT " bytes: %s",
        spill->path, (guint64) (off + len), g_strerror (err));
    return FALSE;
  }
  base = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, spill->fd, off);
  if (base == MAP_FAILED) {
    err = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
        "cannot map spill file \"%s\": %s", spill->path, g_strerror (err));
    return FALSE;
  }
  g_ptr_array_add (spill->chunks, base);
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
  guint8 *base = g_ptr_array_index (spill->chunks, slot / spill->chunk_slots);

  return base + (gsize) (slot % spill->chunk_slots) * spill->slot_size;
}

/* Drops the slot's pages from our RSS; the file keeps the data. */
void
op_ram_spill_release (OpRamSpill * spill, guint slot)
{
  madvise (op_ram_spill_slot (spill, slot), spill->slot_size, MADV_DONTNEED);
}

const gchar *
op_ram_spill_path (OpRamSpill * spill)
{
  return spill->path;
}

void
op_ram_spill_free (OpRamSpill * spill)
{
  gsize len = spill->slot_size * spill->chunk_slots;
  guint i;

  for (i = 0; i < spill->chunks->len; i++)
    munmap (g_ptr_array_index (spill->chunks, i), len);
  g_ptr_array_free (spill->chunks, TRUE);
  close (spill->fd);
  g_unlink (spill->path);
  g_free (spill->path);
  g_free (spill);
}
