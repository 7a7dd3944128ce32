/* onepass: ramcache's slot arena.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One anonymous mapping of n_ram_slots page-aligned slots, reserved with
 * MAP_NORESERVE and never touched up front, so RSS grows only with the
 * frames actually written. Slots past n_ram_slots live in an optional spill
 * file. Free slots are a stack; RAM slots are handed out before spill slots
 * so the spill file is used only once RAM is full.
 *
 * Slots are page-rounded, except in a "tight" arena (slot = frame size):
 * there the spill file is laid out as the export .npy, slot s at
 * header + s * frame size, RAM slots leaving holes the export fills.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ramarena.h"

#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

#define SPILL_CHUNK_SLOTS 16

struct _OpRamArena
{
  guint8 *base;
  gsize map_size;
  gsize slot_size;
  guint n_ram;
  GArray *free_ram;             /* guint slots, LIFO */
  GArray *free_spill;
  OpRamSpill *spill;
};

static void
push_range (GArray * stack, guint first, guint n)
{
  guint i;

  /* reversed so that the lowest slot is taken first */
  for (i = n; i > 0; i--) {
    guint s = first + i - 1;
    g_array_append_val (stack, s);
  }
}

OpRamArena *
op_ram_arena_new (gsize frame_size, guint n_ram_slots, gboolean tight,
    GError ** error)
{
  OpRamArena *arena;
  gsize page = sysconf (_SC_PAGESIZE);

  arena = g_new0 (OpRamArena, 1);
  arena->slot_size = tight ? MAX (frame_size, 1) :
      (MAX (frame_size, 1) + page - 1) / page * page;
  arena->n_ram = n_ram_slots;
  arena->free_ram = g_array_new (FALSE, FALSE, sizeof (guint));
  arena->free_spill = g_array_new (FALSE, FALSE, sizeof (guint));
  if (n_ram_slots > 0) {
    arena->map_size = arena->slot_size * n_ram_slots;
    arena->base = mmap (NULL, arena->map_size, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena->base == MAP_FAILED) {
      gint err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
          "cannot reserve %" G_GSIZE_FORMAT " bytes for %u frames: %s",
          arena->map_size, n_ram_slots, g_strerror (err));
      arena->base = NULL;
      op_ram_arena_free (arena);
      return NULL;
    }
    push_range (arena->free_ram, 0, n_ram_slots);
  }
  return arena;
}

gsize
op_ram_arena_slot_size (OpRamArena * arena)
{
  return arena->slot_size;
}

guint
op_ram_arena_n_ram_slots (OpRamArena * arena)
{
  return arena->n_ram;
}

gboolean
op_ram_arena_enable_spill (OpRamArena * arena, const gchar * dir,
    const gchar * path, gsize header, GError ** error)
{
  if (arena->spill)
    return TRUE;
  /* a named file holds every slot (RAM ones as holes), a temporary one
   * only the spilled ones */
  arena->spill = op_ram_spill_new (dir, path, path ? header : 0,
      path ? arena->n_ram : 0, arena->slot_size, SPILL_CHUNK_SLOTS, error);
  return arena->spill != NULL;
}

OpRamSpill *
op_ram_arena_get_spill (OpRamArena * arena)
{
  return arena->spill;
}

/* Adds one chunk of spill slots to the free list. */
gboolean
op_ram_arena_grow_spill (OpRamArena * arena, GError ** error)
{
  guint before;

  g_return_val_if_fail (arena->spill != NULL, FALSE);
  before = op_ram_spill_n_slots (arena->spill);
  if (!op_ram_spill_grow (arena->spill, error))
    return FALSE;
  push_range (arena->free_spill, arena->n_ram + before,
      op_ram_spill_n_slots (arena->spill) - before);
  return TRUE;
}

guint
op_ram_arena_n_spill_slots (OpRamArena * arena)
{
  return arena->spill ? op_ram_spill_n_slots (arena->spill) : 0;
}

const gchar *
op_ram_arena_spill_path (OpRamArena * arena)
{
  return arena->spill ? op_ram_spill_path (arena->spill) : NULL;
}

gboolean
op_ram_arena_take_slot (OpRamArena * arena, guint * slot)
{
  GArray *stack = arena->free_ram->len ? arena->free_ram : arena->free_spill;

  if (stack->len == 0)
    return FALSE;
  *slot = g_array_index (stack, guint, stack->len - 1);
  g_array_set_size (stack, stack->len - 1);
  return TRUE;
}

void
op_ram_arena_give_slot (OpRamArena * arena, guint slot)
{
  g_array_append_val (slot < arena->n_ram ? arena->free_ram :
      arena->free_spill, slot);
}

gboolean
op_ram_arena_slot_is_spilled (OpRamArena * arena, guint slot)
{
  return slot >= arena->n_ram;
}

guint8 *
op_ram_arena_slot_data (OpRamArena * arena, guint slot)
{
  if (slot < arena->n_ram)
    return arena->base + (gsize) slot *arena->slot_size;
  return op_ram_spill_slot (arena->spill, slot - arena->n_ram);
}

/* Called after each access: spilled slots leave our RSS again. */
void
op_ram_arena_slot_done (OpRamArena * arena, guint slot)
{
  if (slot >= arena->n_ram)
    op_ram_spill_release (arena->spill, slot - arena->n_ram);
}

void
op_ram_arena_free (OpRamArena * arena)
{
  if (arena->base)
    munmap (arena->base, arena->map_size);
  if (arena->spill)
    op_ram_spill_free (arena->spill);
  g_array_free (arena->free_ram, TRUE);
  g_array_free (arena->free_spill, TRUE);
  g_free (arena);
}
