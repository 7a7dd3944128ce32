/* onepass: ramcache's frame store (index -> slot, eviction policies).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_STORE_H__
#define __OP_RAM_STORE_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

typedef enum
{
  OP_RAM_CACHE_POLICY_WINDOW,
  OP_RAM_CACHE_POLICY_SUBSAMPLE,
  OP_RAM_CACHE_POLICY_SPILL,
  OP_RAM_CACHE_POLICY_ERROR,
} OpRamCachePolicy;

typedef enum
{
  OP_RAM_STORE_STORED,
  OP_RAM_STORE_SKIPPED,
  OP_RAM_STORE_ERROR,
} OpRamStoreResult;

typedef struct
{
  guint64 index;
  GstClockTime pts;
  GstClockTime duration;
  guint slot;
  GstBuffer *metas;             /* empty buffer holding the frame's onepass
                                 * metas, or NULL */
  GList *link;                  /* in the arrival-order queue */
} OpRamEntry;

typedef struct _OpRamStore OpRamStore;

OpRamStore *op_ram_store_new (const GstVideoInfo * info, guint64 max_bytes,
    guint max_frames, OpRamCachePolicy policy, const gchar * spill_dir,
    const gchar * export_location, GError ** error);
void op_ram_store_free (OpRamStore * store);
OpRamStoreResult op_ram_store_add (OpRamStore * store, GstBuffer * buf,
    guint64 index, gboolean * filled, GError ** error);
const OpRamEntry *op_ram_store_lookup (OpRamStore * store, guint64 index);
const OpRamEntry *op_ram_store_next (OpRamStore * store, guint64 index);
const OpRamEntry *op_ram_store_first (OpRamStore * store);
const OpRamEntry *op_ram_store_last (OpRamStore * store);
const OpRamEntry *op_ram_store_at_time (OpRamStore * store, GstClockTime t);
GstBuffer *op_ram_store_read (OpRamStore * store, const OpRamEntry * entry);
guint op_ram_store_n_frames (OpRamStore * store);
guint64 op_ram_store_n_bytes (OpRamStore * store);
guint64 op_ram_store_evicted (OpRamStore * store);
guint op_ram_store_capacity (OpRamStore * store);
guint64 op_ram_store_step (OpRamStore * store);
void op_ram_store_step_fraction (OpRamStore * store, guint64 * num,
    guint64 * den);
void op_ram_store_plan_subsample (OpRamStore * store, guint64 n_frames);
gboolean op_ram_store_export (OpRamStore * store, const gchar * path,
    gboolean * from_spill, GError ** error);
gsize op_ram_store_slot_size (OpRamStore * store);
guint op_ram_store_n_spilled (OpRamStore * store);
const gchar *op_ram_store_spill_path (OpRamStore * store);

G_END_DECLS

#endif /* __OP_RAM_STORE_H__ */
