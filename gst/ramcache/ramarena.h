/* onepass: ramcache's slot arena.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_ARENA_H__
#define __OP_RAM_ARENA_H__

#include <glib.h>
#include "ramspill.h"

G_BEGIN_DECLS

typedef struct _OpRamArena OpRamArena;

OpRamArena *op_ram_arena_new (gsize frame_size, guint n_ram_slots,
    gboolean tight, GError ** error);
gsize op_ram_arena_slot_size (OpRamArena * arena);
guint op_ram_arena_n_ram_slots (OpRamArena * arena);
gboolean op_ram_arena_enable_spill (OpRamArena * arena, const gchar * dir,
    const gchar * path, gsize header, GError ** error);
OpRamSpill *op_ram_arena_get_spill (OpRamArena * arena);
gboolean op_ram_arena_grow_spill (OpRamArena * arena, GError ** error);
guint op_ram_arena_n_spill_slots (OpRamArena * arena);
const gchar *op_ram_arena_spill_path (OpRamArena * arena);
gboolean op_ram_arena_take_slot (OpRamArena * arena, guint * slot);
void op_ram_arena_give_slot (OpRamArena * arena, guint slot);
guint8 *op_ram_arena_slot_data (OpRamArena * arena, guint slot);
void op_ram_arena_slot_done (OpRamArena * arena, guint slot);
gboolean op_ram_arena_slot_is_spilled (OpRamArena * arena, guint slot);
void op_ram_arena_free (OpRamArena * arena);

G_END_DECLS

#endif /* __OP_RAM_ARENA_H__ */
