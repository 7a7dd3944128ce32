/* onepass: ramcache's spill file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_SPILL_H__
#define __OP_RAM_SPILL_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OpRamSpill OpRamSpill;

OpRamSpill *op_ram_spill_new (const gchar * dir, const gchar * path,
    gsize header, guint first_slot, gsize slot_size, guint chunk_slots,
    GError ** error);
gboolean op_ram_spill_grow (OpRamSpill * spill, GError ** error);
guint op_ram_spill_n_slots (OpRamSpill * spill);
guint8 *op_ram_spill_slot (OpRamSpill * spill, guint slot);
void op_ram_spill_release (OpRamSpill * spill, guint slot);
const gchar *op_ram_spill_path (OpRamSpill * spill);
gboolean op_ram_spill_pwrite (OpRamSpill * spill, guint64 offset,
    gconstpointer data, gsize len, GError ** error);
gboolean op_ram_spill_keep (OpRamSpill * spill, guint64 size,
    const gchar * final_path, GError ** error);
void op_ram_spill_free (OpRamSpill * spill);

G_END_DECLS

#endif /* __OP_RAM_SPILL_H__ */
