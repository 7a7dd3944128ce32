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
 *
 * subsample keeps the frames on a rational step num/den >= 1: frame i is
 * kept when i = ceil (j * num / den) for an integer j, i.e. when
 * floor (i * den / num) > floor ((i - 1) * den / num). An integer step k is
 * k/1 (i % k == 0). Doubling num keeps exactly the frames of even j.
 *
 * export writes the cached frames in index order as one .npy (ramnpy.h)
 * and their indices as a second one. With policy=spill and a tight frame
 * layout the spill file is created as the export file: the export then
 * only fills in the header and the RAM frames and renames it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ramstore.h"
#include "ramarena.h"
#include "ramnpy.h"

#include <onepass/onepass.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

/* header of a spill file that becomes the .npy: a page, so that the
 * frames of page-sized slots stay page aligned in the file */
#define NPY_SPILL_HEADER 4096
#define NPY_HEADER 128

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
  guint64 step_num;             /* subsample step num/den, see above */
  guint64 step_den;
  guint n_spilled;
  gboolean was_full;
  OpRamNpyLayout layout;
  gchar *npy_spill;             /* spill file that becomes the export */
  gboolean sealed;              /* exported: no more frames cached */
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
    const gchar * export_location, GError ** error)
{
  OpRamStore *store = g_new0 (OpRamStore, 1);
  gsize slot_size;
  guint64 n_ram;
  gboolean tight;

  store->info = *info;
  store->policy = policy;
  store->max_frames = max_frames;
  store->max_bytes = max_bytes;
  store->spill_dir = g_strdup (spill_dir);
  store->step_num = store->step_den = 1;
  op_ram_npy_layout (info, &store->layout);
  tight = policy == OP_RAM_CACHE_POLICY_SPILL && export_location &&
      op_ram_npy_is_tight (&store->layout);
  if (tight)
    store->npy_spill = g_strconcat (export_location, ".part", NULL);
  store->tree = g_tree_new_full (index_cmp, NULL, NULL, entry_free);
  g_queue_init (&store->arrival);

  /* slot size first (page rounding), then how many fit in the budget */
  store->arena = op_ram_arena_new (GST_VIDEO_INFO_SIZE (info), 0, tight, NULL);
  slot_size = op_ram_arena_slot_size (store->arena);
  op_ram_arena_free (store->arena);
  n_ram = max_bytes / slot_size;
  if (max_frames > 0)
    n_ram = MIN (n_ram, max_frames);
  n_ram = MIN (n_ram, G_MAXINT / 2);
  store->arena = op_ram_arena_new (GST_VIDEO_INFO_SIZE (info), n_ram, tight,
      error);
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
  g_free (store->npy_spill);
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

/* subsample: is frame @index on the step? */
static gboolean
on_step (OpRamStore * store, guint64 index)
{
  if (index == 0)
    return TRUE;
  return gst_util_uint64_scale (index, store->step_den, store->step_num) >
      gst_util_uint64_scale (index - 1, store->step_den, store->step_num);
}

typedef struct
{
  OpRamStore *store;
  GPtrArray *victims;
} OffStep;

static gboolean
collect_off_step (gpointer key, gpointer value, gpointer data)
{
  OffStep *o = data;
  OpRamEntry *e = value;

  if (!on_step (o->store, e->index))
    g_ptr_array_add (o->victims, e);
  return FALSE;
}

/* Doubles the step and drops frames off the new step. */
static void
subsample_double (OpRamStore * store)
{
  OffStep o = { store, g_ptr_array_new () };
  guint i;

  store->step_num *= 2;
  g_tree_foreach (store->tree, collect_off_step, &o);
  for (i = 0; i < o.victims->len; i++)
    remove_entry (store, o.victims->pdata[i]);
  g_ptr_array_free (o.victims, TRUE);
}

/* subsample, before the first frame: @n_frames are expected; a step that
 * spreads the RAM slots over them, leaving 2% for a duration that
 * undercounts (the step doubles if the cache fills anyway). */
void
op_ram_store_plan_subsample (OpRamStore * store, guint64 n_frames)
{
  guint cap = op_ram_arena_n_ram_slots (store->arena);
  guint target = cap - cap / 50;

  if (store->policy != OP_RAM_CACHE_POLICY_SUBSAMPLE || target == 0 ||
      n_frames <= cap)
    return;
  store->step_num = n_frames;
  store->step_den = target;
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

  /* spill: max-frames caps RAM + file, even with free slots in the file's
   * last chunk */
  if (store->policy == OP_RAM_CACHE_POLICY_SPILL && store->max_frames > 0 &&
      n >= store->max_frames) {
    *filled = !store->was_full;
    store->was_full = TRUE;
    evict_oldest (store);
  }
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
        if (store->step_num >= (G_GUINT64_CONSTANT (1) << 62))
          return OP_RAM_STORE_SKIPPED;
        subsample_double (store);
      } while ((guint) g_tree_nnodes (store->tree) == n);
      if (!on_step (store, index))
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
      if (!op_ram_arena_enable_spill (store->arena, store->spill_dir,
              store->npy_spill, NPY_SPILL_HEADER, error) ||
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
  if (store->sealed || g_tree_lookup (store->tree, &index))
    return OP_RAM_STORE_SKIPPED;
  if (store->policy == OP_RAM_CACHE_POLICY_SUBSAMPLE && !on_step (store, index))
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

/* the subsample step rounded up to an integer */
guint64
op_ram_store_step (OpRamStore * store)
{
  return (store->step_num + store->step_den - 1) / store->step_den;
}

void
op_ram_store_step_fraction (OpRamStore * store, guint64 * num, guint64 * den)
{
  *num = store->step_num;
  *den = store->step_den;
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

static gboolean
set_errno_error (GError ** error, const gchar * what, const gchar * path)
{
  gint err = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
      "cannot %s \"%s\": %s", what, path, g_strerror (err));
  return FALSE;
}

/* Writes the cached frames (or, @index_file, their indices) in index order
 * as the .npy @path, through "<path>.tmp" renamed at the end. */
static gboolean
write_npy (OpRamStore * store, const gchar * path, const OpRamNpyLayout * l,
    gboolean index_file, GError ** error)
{
  gchar *tmp = g_strconcat (path, ".tmp", NULL);
  guint8 header[NPY_HEADER];
  FILE *f = g_fopen (tmp, "wb");
  GTreeNode *node;
  gboolean ok = FALSE;

  if (!f) {
    set_errno_error (error, "create", tmp);
    goto done;
  }
  op_ram_npy_header (header, NPY_HEADER, l, g_tree_nnodes (store->tree));
  if (fwrite (header, 1, NPY_HEADER, f) != NPY_HEADER)
    goto write_error;
  for (node = g_tree_node_first (store->tree); node;
      node = g_tree_node_next (node)) {
    OpRamEntry *e = g_tree_node_value (node);
    const guint8 *data;
    guint r;

    if (index_file) {
      guint64 v = GUINT64_TO_LE (e->index);

      if (fwrite (&v, 8, 1, f) != 1)
        goto write_error;
      continue;
    }
    data = op_ram_arena_slot_data (store->arena, e->slot);
    for (r = 0; r < l->rows; r++)
      if (fwrite (data + r * l->src_stride, 1, l->row_bytes, f) != l->row_bytes) {
        op_ram_arena_slot_done (store->arena, e->slot);
        goto write_error;
      }
    op_ram_arena_slot_done (store->arena, e->slot);
  }
  if (fclose (f) != 0) {
    f = NULL;
    goto write_error;
  }
  f = NULL;
  if (g_rename (tmp, path) != 0) {
    set_errno_error (error, "rename to the export name", tmp);
    goto done;
  }
  ok = TRUE;
  goto done;

write_error:
  set_errno_error (error, "write", tmp);
done:
  if (f)
    fclose (f);
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  return ok;
}

/* The spill file is the .npy when its slots hold the frames in index
 * order: slot r = r-th frame (one pass, nothing evicted). */
static gboolean
spill_is_export (OpRamStore * store)
{
  GTreeNode *node;
  guint r = 0;

  if (!store->npy_spill || !op_ram_arena_get_spill (store->arena))
    return FALSE;
  for (node = g_tree_node_first (store->tree); node;
      node = g_tree_node_next (node), r++)
    if (((OpRamEntry *) g_tree_node_value (node))->slot != r)
      return FALSE;
  return TRUE;
}

/* Fills the RAM frames and the header into the spill file, cuts it after
 * the last frame and renames it to @path. */
static gboolean
seal_spill (OpRamStore * store, const gchar * path, GError ** error)
{
  OpRamSpill *spill = op_ram_arena_get_spill (store->arena);
  guint n_ram = op_ram_arena_n_ram_slots (store->arena);
  gsize slot = op_ram_arena_slot_size (store->arena);
  guint8 header[NPY_SPILL_HEADER];
  guint s;

  for (s = 0; s < n_ram; s++)
    if (!op_ram_spill_pwrite (spill, NPY_SPILL_HEADER + (guint64) s * slot,
            op_ram_arena_slot_data (store->arena, s), slot, error))
      return FALSE;
  op_ram_npy_header (header, NPY_SPILL_HEADER, &store->layout,
      g_tree_nnodes (store->tree));
  if (!op_ram_spill_pwrite (spill, 0, header, NPY_SPILL_HEADER, error))
    return FALSE;
  return op_ram_spill_keep (spill, NPY_SPILL_HEADER +
      (guint64) g_tree_nnodes (store->tree) * slot, path, error);
}

/* Writes the cache as @path (frames in index order) and its indices as
 * op_ram_npy_index_path (@path); afterwards no more frames are cached. */
gboolean
op_ram_store_export (OpRamStore * store, const gchar * path,
    gboolean * from_spill, GError ** error)
{
  OpRamNpyLayout index_layout = { "<u8", 0, {0}, 1, 8, 8, 8 };
  gchar *index_path = op_ram_npy_index_path (path);
  gboolean ok;

  *from_spill = spill_is_export (store);
  if (*from_spill)
    ok = seal_spill (store, path, error);
  else
    ok = write_npy (store, path, &store->layout, FALSE, error);
  if (ok)
    ok = write_npy (store, index_path, &index_layout, TRUE, error);
  store->sealed = TRUE;
  g_free (index_path);
  return ok;
}
