/* onepass: ramcache's frame store (index -> slot, eviction policies).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames are copied into arena slots at the caps' default layout (strides
 * from GstVideoInfo, so a decoder's padded or meta-described layout is
 * normalised). Entries are kept in a tree by frame index and in a queue by
 * arrival, the latter giving the "oldest" frame for the window policy. Not
 * thread safe: the element serialises access with its cache lock.
 *
 * A frame's annotation and crop metas (its identity and labels) are kept
 * with it and put back on every copy read out. Other metas are not: video
 * metas describe upstream's memory layout, and a parent-buffer meta would
 * hold upstream's pool buffers.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ramstore.h"
#include "ramarena.h"

#include <onepass/onepass.h>

#include <string.h>

struct _OpRamStore
{
  GstVideoInfo info;
  OpRamCachePolicy policy;
  guint max_frames;             /* 0 = no frame limit */
  guint64 max_bytes;
  gchar *spill_dir;
  OpRamArena *arena;
  GTree *tree;                  /* &entry->index -> entry */
  GQueue arrival;               /* entries, oldest first */
  guint64 evicted;
  guint64 step;                 /* subsample: keep index % step == 0 */
  guint n_spilled;
  gboolean was_full;
};

static void
entry_free (gpointer data)
{
  OpRamEntry *e = data;

  gst_clear_buffer (&e->metas);
  g_free (e);
}

/* Copies the onepass metas of @from onto @to. */
static void
copy_onepass_metas (GstBuffer * to, GstBuffer * from)
{
  OpAnnotationMeta *am = op_buffer_get_annotation_meta (from);
  OpCropMeta *cm = op_buffer_get_crop_meta (from);

  if (am)
    op_buffer_add_annotation_meta (to, &am->ann);
  if (cm)
    op_buffer_add_crop_meta (to, &cm->ann);
}

/* An empty buffer holding @buf's onepass metas, NULL if it has none. */
static GstBuffer *
keep_metas (GstBuffer * buf)
{
  GstBuffer *holder;

  if (!op_buffer_get_annotation_meta (buf) && !op_buffer_get_crop_meta (buf))
    return NULL;
  holder = gst_buffer_new ();
  copy_onepass_metas (holder, buf);
  return holder;
}

static gint
index_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

OpRamStore *
op_ram_store_new (const GstVideoInfo * info, guint64 max_bytes,
    guint max_frames, OpRamCachePolicy policy, const gchar * spill_dir,
    GError ** error)
{
  OpRamStore *store = g_new0 (OpRamStore, 1);
  gsize slot_size;
  guint64 n_ram;

  store->info = *info;
  store->policy = policy;
  store->max_frames = max_frames;
  store->max_bytes = max_bytes;
  store->spill_dir = g_strdup (spill_dir);
  store->step = 1;
  store->tree = g_tree_new_full (index_cmp, NULL, NULL, entry_free);
  g_queue_init (&store->arrival);

  /* slot size first (page rounding), then how many fit in the budget */
  store->arena = op_ram_arena_new (GST_VIDEO_INFO_SIZE (info), 0, NULL);
  slot_size = op_ram_arena_slot_size (store->arena);
  op_ram_arena_free (store->arena);
  n_ram = max_bytes / slot_size;
  if (max_frames > 0)
    n_ram = MIN (n_ram, max_frames);
  n_ram = MIN (n_ram, G_MAXINT / 2);
  store->arena = op_ram_arena_new (GST_VIDEO_INFO_SIZE (info), n_ram, error);
  if (!store->arena) {
    op_ram_store_free (store);
    return NULL;
  }
  return store;
}

void
op_ram_store_free (OpRamStore * store)
{
  g_queue_clear (&store->arrival);
  g_tree_destroy (store->tree);
  if (store->arena)
    op_ram_arena_free (store->arena);
  g_free (store->spill_dir);
  g_free (store);
}

static void
remove_entry (OpRamStore * store, OpRamEntry * e)
{
  if (op_ram_arena_slot_is_spilled (store->arena, e->slot))
    store->n_spilled--;
  op_ram_arena_give_slot (store->arena, e->slot);
  g_queue_delete_link (&store->arrival, e->link);
  store->evicted++;
  g_tree_remove (store->tree, &e->index);       /* frees e */
}

static void
evict_oldest (OpRamStore * store)
{
  OpRamEntry *e = g_queue_peek_head (&store->arrival);

  if (e)
    remove_entry (store, e);
}

static gboolean
collect_off_step (gpointer key, gpointer value, gpointer data)
{
  GPtrArray *victims = data;
  OpRamEntry *e = value;

  if (e->index % GPOINTER_TO_SIZE (victims->pdata[0]) != 0)
    g_ptr_array_add (victims, e);
  return FALSE;
}

/* Doubles the step and drops frames off the new step. */
static void
subsample_double (OpRamStore * store)
{
  GPtrArray *victims = g_ptr_array_new ();
  guint i;

  store->step *= 2;
  g_ptr_array_add (victims, GSIZE_TO_POINTER ((gsize) store->step));
  g_tree_foreach (store->tree, collect_off_step, victims);
  for (i = 1; i < victims->len; i++)
    remove_entry (store, victims->pdata[i]);
  g_ptr_array_free (victims, TRUE);
}

static gboolean
copy_in (OpRamStore * store, GstBuffer * buf, guint8 * dest, GError ** error)
{
  GstVideoInfo *info = &store->info;
  GstVideoFrame in, out;
  GstBuffer *wrap;
  gboolean ok;

  if (!gst_buffer_get_video_meta (buf)) {
    if (gst_buffer_get_size (buf) < GST_VIDEO_INFO_SIZE (info))
      goto too_small;
    gst_buffer_extract (buf, 0, dest, GST_VIDEO_INFO_SIZE (info));
    return TRUE;
  }
  /* strides described by a video meta: normalise to the default layout */
  if (!gst_video_frame_map (&in, info, buf, GST_MAP_READ))
    goto too_small;
  wrap = gst_buffer_new_wrapped_full (0, dest, GST_VIDEO_INFO_SIZE (info), 0,
      GST_VIDEO_INFO_SIZE (info), NULL, NULL);
  gst_video_frame_map (&out, info, wrap, GST_MAP_WRITE);
  ok = gst_video_frame_copy (&out, &in);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  gst_buffer_unref (wrap);
  return ok;

too_small:
  g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
      "buffer of %" G_GSIZE_FORMAT " bytes is smaller than the %"
      G_GSIZE_FORMAT "-byte frame its caps describe",
      gst_buffer_get_size (buf), GST_VIDEO_INFO_SIZE (info));
  return FALSE;
}

/* Finds a slot for a new frame according to the policy. Returns
 * OP_RAM_STORE_STORED with *slot set, SKIPPED when the frame is not kept, or
 * ERROR with @error set. */
static OpRamStoreResult
find_slot (OpRamStore * store, guint64 index, guint * slot, gboolean * filled,
    GError ** error)
{
  guint n_ram = op_ram_arena_n_ram_slots (store->arena);
  guint n = g_tree_nnodes (store->tree);

  if (op_ram_arena_take_slot (store->arena, slot))
    return OP_RAM_STORE_STORED;

  switch (store->policy) {
    case OP_RAM_CACHE_POLICY_WINDOW:
      if (n == 0)
        return OP_RAM_STORE_SKIPPED;
      *filled = !store->was_full;
      store->was_full = TRUE;
      evict_oldest (store);
      break;
    case OP_RAM_CACHE_POLICY_SUBSAMPLE:
      if (n == 0)
        return OP_RAM_STORE_SKIPPED;
      *filled = TRUE;
      store->was_full = TRUE;
      /* sparse indices (after upstream seeks) may need several doublings */
      do {
        if (store->step >= (G_GUINT64_CONSTANT (1) << 62))
          return OP_RAM_STORE_SKIPPED;
        subsample_double (store);
      } while ((guint) g_tree_nnodes (store->tree) == n);
      if (index % store->step != 0)
        return OP_RAM_STORE_SKIPPED;
      break;
    case OP_RAM_CACHE_POLICY_SPILL:
      if (store->max_frames > 0 && n >= store->max_frames) {
        *filled = !store->was_full;
        store->was_full = TRUE;
        evict_oldest (store);
        break;
      }
      if (!store->was_full && n_ram > 0)
        *filled = TRUE;
      store->was_full = TRUE;
      if (!op_ram_arena_enable_spill (store->arena, store->spill_dir, error) ||
          !op_ram_arena_grow_spill (store->arena, error))
        return OP_RAM_STORE_ERROR;
      break;
    case OP_RAM_CACHE_POLICY_ERROR:
    default:
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
          "ramcache is full: %u frames of %" G_GSIZE_FORMAT " bytes (%"
          G_GUINT64_FORMAT " bytes) cached, max-bytes=%" G_GUINT64_FORMAT
          " max-frames=%u; frame %" G_GUINT64_FORMAT " does not fit "
          "(policy=error)", n, op_ram_arena_slot_size (store->arena),
          (guint64) n * op_ram_arena_slot_size (store->arena),
          store->max_bytes, store->max_frames, index);
      return OP_RAM_STORE_ERROR;
  }
  if (!op_ram_arena_take_slot (store->arena, slot))
    return OP_RAM_STORE_SKIPPED;
  return OP_RAM_STORE_STORED;
}

OpRamStoreResult
op_ram_store_add (OpRamStore * store, GstBuffer * buf, guint64 index,
    gboolean * filled, GError ** error)
{
  OpRamStoreResult res;
  OpRamEntry *e;
  guint slot;
  gboolean ok;

  *filled = FALSE;
  if (g_tree_lookup (store->tree, &index))
    return OP_RAM_STORE_SKIPPED;
  if (store->policy == OP_RAM_CACHE_POLICY_SUBSAMPLE &&
      index % store->step != 0)
    return OP_RAM_STORE_SKIPPED;

  res = find_slot (store, index, &slot, filled, error);
  if (res != OP_RAM_STORE_STORED)
    return res;

  ok = copy_in (store, buf, op_ram_arena_slot_data (store->arena, slot), error);
  op_ram_arena_slot_done (store->arena, slot);
  if (!ok) {
    op_ram_arena_give_slot (store->arena, slot);
    return OP_RAM_STORE_ERROR;
  }

  e = g_new0 (OpRamEntry, 1);
  e->index = index;
  e->pts = GST_BUFFER_PTS (buf);
  e->duration = GST_BUFFER_DURATION (buf);
  e->slot = slot;
  e->metas = keep_metas (buf);
  g_queue_push_tail (&store->arrival, e);
  e->link = store->arrival.tail;
  g_tree_insert (store->tree, &e->index, e);
  if (op_ram_arena_slot_is_spilled (store->arena, slot))
    store->n_spilled++;
  return OP_RAM_STORE_STORED;
}

const OpRamEntry *
op_ram_store_lookup (OpRamStore * store, guint64 index)
{
  return g_tree_lookup (store->tree, &index);
}

const OpRamEntry *
op_ram_store_next (OpRamStore * store, guint64 index)
{
  GTreeNode *node = g_tree_lower_bound (store->tree, &index);

  return node ? g_tree_node_value (node) : NULL;
}

const OpRamEntry *
op_ram_store_first (OpRamStore * store)
{
  GTreeNode *node = g_tree_node_first (store->tree);

  return node ? g_tree_node_value (node) : NULL;
}

const OpRamEntry *
op_ram_store_last (OpRamStore * store)
{
  GTreeNode *node = g_tree_node_last (store->tree);

  return node ? g_tree_node_value (node) : NULL;
}

/* The cached frame on screen at @t: the last one with pts <= t (1 us
 * tolerance for rounded timestamps) whose duration covers t. Presentation
 * order equals index order, so a walk in index order suffices. */
const OpRamEntry *
op_ram_store_at_time (OpRamStore * store, GstClockTime t)
{
  GTreeNode *node;
  OpRamEntry *best = NULL;

  for (node = g_tree_node_first (store->tree); node;
      node = g_tree_node_next (node)) {
    OpRamEntry *e = g_tree_node_value (node);

    if (!GST_CLOCK_TIME_IS_VALID (e->pts) || e->pts > t + GST_USECOND)
      break;
    best = e;
  }
  if (best && GST_CLOCK_TIME_IS_VALID (best->duration) &&
      best->pts + best->duration <= t)
    return NULL;
  return best;
}

/* A new buffer holding a copy of the frame (default layout) and of its
 * onepass metas, unchanged: a replay is the same frame. */
GstBuffer *
op_ram_store_read (OpRamStore * store, const OpRamEntry * entry)
{
  gsize size = GST_VIDEO_INFO_SIZE (&store->info);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_fill (buf, 0, op_ram_arena_slot_data (store->arena, entry->slot),
      size);
  op_ram_arena_slot_done (store->arena, entry->slot);
  GST_BUFFER_PTS (buf) = entry->pts;
  GST_BUFFER_DURATION (buf) = entry->duration;
  GST_BUFFER_OFFSET (buf) = entry->index;
  GST_BUFFER_OFFSET_END (buf) = entry->index + 1;
  if (entry->metas)
    copy_onepass_metas (buf, entry->metas);
  return buf;
}

guint
op_ram_store_n_frames (OpRamStore * store)
{
  return g_tree_nnodes (store->tree);
}

guint64
op_ram_store_n_bytes (OpRamStore * store)
{
  return (guint64) g_tree_nnodes (store->tree) *
      op_ram_arena_slot_size (store->arena);
}

guint64
op_ram_store_evicted (OpRamStore * store)
{
  return store->evicted;
}

guint
op_ram_store_capacity (OpRamStore * store)
{
  return op_ram_arena_n_ram_slots (store->arena);
}

guint64
op_ram_store_step (OpRamStore * store)
{
  return store->step;
}

gsize
op_ram_store_slot_size (OpRamStore * store)
{
  return op_ram_arena_slot_size (store->arena);
}

guint
op_ram_store_n_spilled (OpRamStore * store)
{
  return store->n_spilled;
}

const gchar *
op_ram_store_spill_path (OpRamStore * store)
{
  return op_ram_arena_spill_path (store->arena);
}
