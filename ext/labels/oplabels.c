/* onepass label readers: a loaded label set and the reader dispatch.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabels.h"

#include <errno.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (op-labels-error-quark, op_labels_error);
/* *INDENT-ON* */

struct _OpLabelsStore
{
  /* capacity of each column in rows */
  gsize cap_frames, cap_instances, cap_bboxes, cap_points;
  GHashTable *name_index;       /* name -> 1 + index in names */
  /* memory some columns live in, never freed column by column (a column
   * in it that must grow is copied out): the loader's result mapped in
   * the pipeline's process, or the loader's own memory file */
  gpointer map;
  gsize map_size;
  void (*unmap) (gpointer map, gsize size);
};

/* the loader's memory file, where op_labels_reserve() places the columns */
static gint arena_fd = -1;

static void
labeled_frame_clear (gpointer data)
{
  op_annotation_clear (&((OpLabeledFrame *) data)->ann);
}

OpLabels *
op_labels_new (const gchar * path, const gchar * format)
{
  OpLabels *l = g_new0 (OpLabels, 1);

  l->path = g_strdup (path);
  l->format = format;
  l->videos = g_ptr_array_new_with_free_func (g_free);
  l->warnings = g_ptr_array_new_with_free_func (g_free);
  l->video_sizes = g_array_new (FALSE, TRUE, sizeof (OpLabelsVideoSize));
  l->skeletons = g_ptr_array_new_with_free_func ((GDestroyNotify)
      op_skeleton_unref);
  l->names = g_ptr_array_new_with_free_func (g_free);
  l->building = g_array_new (FALSE, FALSE, sizeof (OpLabeledFrame));
  g_array_set_clear_func (l->building, labeled_frame_clear);
  l->store = g_new0 (OpLabelsStore, 1);
  l->store->name_index = g_hash_table_new (g_str_hash, g_str_equal);
  return l;
}

static gboolean
in_map (const OpLabelsStore * st, gconstpointer col)
{
  const guint8 *p = col, *m = st->map;

  return p && m && p >= m && p < m + st->map_size;
}

/* frees a column unless it lives in the mapping */
#define FREE_COLUMN(st, col, cap) G_STMT_START { \
  if (!in_map ((st), (col))) {                    \
    g_free (col);                                 \
  }                                               \
  (col) = NULL;                                   \
  (cap) = 0;                                      \
} G_STMT_END

static void
free_points (OpLabels * l)
{
  OpLabelsStore *st = l->store;

  /* the columns share one capacity */
  FREE_COLUMN (st, l->x, st->cap_points);
  FREE_COLUMN (st, l->y, st->cap_points);
  FREE_COLUMN (st, l->visible, st->cap_points);
  FREE_COLUMN (st, l->score, st->cap_points);
  l->n_points = 0;
}

void
op_labels_free (OpLabels * l)
{
  OpLabelsStore *st;

  if (l == NULL)
    return;
  st = l->store;
  g_free (l->path);
  g_ptr_array_unref (l->videos);
  g_ptr_array_unref (l->warnings);
  g_array_unref (l->video_sizes);
  g_ptr_array_unref (l->skeletons);
  g_ptr_array_unref (l->names);
  g_array_unref (l->building);
  FREE_COLUMN (st, l->frames, st->cap_frames);
  FREE_COLUMN (st, l->instances, st->cap_instances);
  FREE_COLUMN (st, l->bboxes, st->cap_bboxes);
  free_points (l);
  g_hash_table_unref (st->name_index);
  if (st->map && st->unmap)
    st->unmap (st->map, st->map_size);
  g_free (st);
  g_free (l);
}

/**
 * op_labels_adopt_mapping:
 * @map: memory the columns point into (the label loader's result)
 * @unmap: releases @map when the labels are freed
 *
 * Private to the loader (labelsblob.c): the columns, set before, live in
 * @map; a column that grows is copied out.
 */
void
op_labels_adopt_mapping (OpLabels * l, gpointer map, gsize size,
    void (*unmap) (gpointer map, gsize size))
{
  OpLabelsStore *st = l->store;

  st->map = map;
  st->map_size = size;
  st->unmap = unmap;
  st->cap_frames = l->n_frames;
  st->cap_instances = l->n_instances;
  st->cap_bboxes = l->n_bboxes;
  st->cap_points = l->n_points;
}

/**
 * op_labels_mapping_offset:
 *
 * Returns: TRUE when @col lives in the label set's mapping, with its
 *   offset there
 */
gboolean
op_labels_mapping_offset (const OpLabels * l, gconstpointer col, gsize * offset)
{
  if (!in_map (l->store, col))
    return FALSE;
  *offset = (const guint8 *) col - (const guint8 *) l->store->map;
  return TRUE;
}

/* Large columns are faulted in 2 MiB at a time where the kernel allows
 * transparent huge pages on request ("madvise" mode, Debian's default):
 * with 4 KiB pages, zeroing and faulting in ~200 MB of fresh columns was
 * most of a big file's load time (numpy asks the same for its arrays). */
static void
advise_huge_pages (gpointer p, gsize size)
{
#ifdef MADV_HUGEPAGE
  const guintptr huge = 2 * 1024 * 1024;
  guintptr start = ((guintptr) p + huge - 1) & ~(huge - 1);
  guintptr end = ((guintptr) p + size) & ~(huge - 1);

  if (end > start)
    madvise ((gpointer) start, end - start, MADV_HUGEPAGE);
#endif
}

/* room for @need more rows of @elt bytes in @col (length @len) */
static gboolean
grow_in (const OpLabelsStore * st, gpointer * col, gsize * cap, gsize len,
    gsize need, gsize elt)
{
  gsize new_cap;
  gpointer p;

  if (len + need <= *cap)
    return TRUE;
  if (need > G_MAXSIZE / elt - len)
    return FALSE;
  new_cap = MAX (MAX (*cap + *cap / 2, len + need), 64);
  if (in_map (st, *col)) {
    p = g_try_malloc (new_cap * elt);
    if (p)
      memcpy (p, *col, len * elt);
  } else {
    p = g_try_realloc (*col, new_cap * elt);
  }
  if (p == NULL)
    return FALSE;
  advise_huge_pages (p, new_cap * elt);
  *col = p;
  *cap = new_cap;
  return TRUE;
}

#define grow(col, cap, len, need, elt) \
  grow_in (l->store, (col), (cap), (len), (need), (elt))

/**
 * op_labels_add_frame:
 *
 * Adds a frame to @building, the form the text readers fill: full
 * #OpInstance structs, packed into the columns by op_labels_finish().
 *
 * Returns: (transfer none): a new, empty labeled frame, valid until the next
 *   add
 */
OpLabeledFrame *
op_labels_add_frame (OpLabels * l, guint video, guint64 frame_index,
    OpSkeleton * skeleton)
{
  OpLabeledFrame f;

  f.video = video;
  op_annotation_init (&f.ann);
  f.ann.frame_index = frame_index;
  op_annotation_set_skeleton (&f.ann, skeleton);
  g_array_append_val (l->building, f);
  return &g_array_index (l->building, OpLabeledFrame, l->building->len - 1);
}

/**
 * op_labels_intern_skeleton:
 *
 * Returns: the index of @skeleton in @skeletons (added, with a reference,
 *   the first time), or %OP_LABELS_NO_SKELETON for %NULL
 */
guint32
op_labels_intern_skeleton (OpLabels * l, OpSkeleton * skeleton)
{
  guint i;

  if (skeleton == NULL)
    return OP_LABELS_NO_SKELETON;
  /* files have a handful of skeletons: a scan is cheapest */
  for (i = 0; i < l->skeletons->len; i++)
    if (g_ptr_array_index (l->skeletons, i) == skeleton)
      return i;
  g_ptr_array_add (l->skeletons, op_skeleton_ref (skeleton));
  return l->skeletons->len - 1;
}

/**
 * op_labels_intern_name:
 *
 * Returns: 1 + the index of @name in @names (one copy per label set, freed
 *   with it), or 0 for %NULL
 */
guint32
op_labels_intern_name (OpLabels * l, const gchar * name)
{
  gpointer found;
  gchar *copy;

  if (name == NULL)
    return 0;
  found = g_hash_table_lookup (l->store->name_index, name);
  if (found)
    return GPOINTER_TO_UINT (found);
  copy = g_strdup (name);
  g_ptr_array_add (l->names, copy);
  g_hash_table_insert (l->store->name_index, copy,
      GUINT_TO_POINTER (l->names->len));
  return l->names->len;
}

static gboolean reserve_points (OpLabels * l, gsize n, gboolean with_score,
    gboolean set, gsize * first, GError ** error);

/**
 * op_labels_set_arena:
 * @fd: a memory file, or -1
 *
 * For the label loader only (labelloader.c): the columns of the next
 * op_labels_reserve() are placed in @fd, so that handing them over
 * (op_labels_write_blob()) copies nothing.
 */
void
op_labels_set_arena (gint fd)
{
  arena_fd = fd;
}

static void
unmap_arena (gpointer map, gsize size)
{
  munmap (map, size);
}

#define ALIGN8(n) (((n) + 7) & ~(gsize) 7)

typedef struct
{
  guint8 *base;
  gsize size;
} Populate;

static gpointer
populate_pages (gpointer data)
{
  Populate *p = data;
  const gsize step = 8 * 1024 * 1024;
  gsize at;

  for (at = 0; at < p->size; at += step)
    if (madvise (p->base + at, MIN (step, p->size - at),
            MADV_POPULATE_WRITE) != 0)
      break;
  g_free (p);
  return NULL;
}

/* The memory file's pages are 4 KiB shared-memory pages (no huge pages),
 * each allocated by the kernel at its first write: on a 7M-point file that
 * is most of the loader's time. A second thread allocates them ahead of
 * the reader, in the columns' order, on the machine's other core. It only
 * makes pages present (MADV_POPULATE_WRITE leaves their bytes alone) and
 * is never joined: the loader's exit ends it, the file keeps its size. */
static void
populate_in_background (guint8 * base, gsize size)
{
#ifdef MADV_POPULATE_WRITE
  Populate *p;
  GThread *t;

  if (g_get_num_processors () < 2)
    return;
  p = g_new (Populate, 1);
  p->base = base;
  p->size = size;
  t = g_thread_try_new ("op-populate", populate_pages, p, NULL);
  if (t)
    g_thread_unref (t);
  else
    g_free (p);
#endif
}

/* the columns in the loader's memory file, after room for the header */
static gboolean
reserve_in_arena (OpLabels * l, gsize n_frames, gsize n_instances,
    gsize n_points, gboolean with_score)
{
  OpLabelsStore *st = l->store;
  gsize off[7], at = OP_LABELS_ARENA_HEADER, i;
  const gsize size[7] = { n_frames * sizeof (OpLabelsFrame),
    n_instances * sizeof (OpLabelsInstance), 0, n_points * sizeof (gdouble),
    n_points * sizeof (gdouble), n_points, with_score ?
        n_points * sizeof (gdouble) : 0
  };
  guint8 *base;

  for (i = 0; i < 7; i++) {
    off[i] = at;
    at = ALIGN8 (at + size[i]);
  }
  if (ftruncate (arena_fd, at) != 0)
    return FALSE;
  base = mmap (NULL, at, PROT_READ | PROT_WRITE, MAP_SHARED, arena_fd, 0);
  if (base == MAP_FAILED)
    return FALSE;
  populate_in_background (base, at);
  st->map = base;
  st->map_size = at;
  st->unmap = unmap_arena;
  /* an empty column is NULL, not a pointer at the arena's end */
#define AT(i) (size[i] ? (gpointer) (base + off[i]) : NULL)
  l->frames = AT (0);
  st->cap_frames = n_frames;
  l->instances = AT (1);
  st->cap_instances = n_instances;
  l->x = AT (3);
  l->y = AT (4);
  l->visible = AT (5);
  l->score = AT (6);
#undef AT
  st->cap_points = n_points;
  /* one arena per process: a second label set would need its own file */
  arena_fd = -1;
  return TRUE;
}

/**
 * op_labels_reserve:
 *
 * Makes room for that many frames, instances and points before a reader
 * appends them (the HDF5 readers know their counts up front): no growth,
 * and in the label loader no copy when the labels are handed over.
 */
gboolean
op_labels_reserve (OpLabels * l, gsize n_frames, gsize n_instances,
    gsize n_points, gboolean with_score, GError ** error)
{
  OpLabelsStore *st = l->store;
  gboolean ok;

  if (n_points > G_MAXUINT32 || n_instances > G_MAXUINT32) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "more than %u keypoints or instances in one file", G_MAXUINT32);
    return FALSE;
  }
  if (arena_fd >= 0 && st->map == NULL && l->n_frames == 0
      && l->n_instances == 0 && l->n_points == 0 && l->x == NULL
      && reserve_in_arena (l, n_frames, n_instances, n_points, with_score))
    return TRUE;
  ok = grow ((gpointer *) & l->frames, &st->cap_frames, l->n_frames,
      n_frames, sizeof (OpLabelsFrame))
      && grow ((gpointer *) & l->instances, &st->cap_instances,
      l->n_instances, n_instances, sizeof (OpLabelsInstance));
  if (ok && n_points > 0) {
    gsize first;
    /* grow the point columns once, then give the rows back */
    ok = reserve_points (l, n_points, with_score, FALSE, &first, error);
    if (!ok)
      return FALSE;
    l->n_points = first;
  }
  if (!ok) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "%" G_GSIZE_FORMAT " instances do not fit in memory", n_instances);
    return FALSE;
  }
  return TRUE;
}

/**
 * op_labels_reserve_points:
 * @n: number of points
 * @with_score: the points have scores (the score column is made, NaN for
 *   the points before)
 * @first: (out): index of the first new point
 *
 * Appends @n points, all missing (NaN, invisible, no score), for the
 * caller to fill in the columns. op_labels_reserve_points_unset() leaves
 * them unset, for a caller that writes every column of every point.
 *
 * Returns: FALSE when they do not fit in memory or in 32-bit indices
 */
static gboolean
reserve_points (OpLabels * l, gsize n, gboolean with_score, gboolean set,
    gsize * first, GError ** error)
{
  OpLabelsStore *st = l->store;
  gsize len = l->n_points, cap, i;
  gboolean ok = TRUE;

  if (n > G_MAXUINT32 - len) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "more than %u keypoints in one file", G_MAXUINT32);
    return FALSE;
  }
  if (len + n > st->cap_points || (with_score && l->score == NULL)) {
    gsize new_cap = MAX (MAX (st->cap_points + st->cap_points / 2, len + n),
        64);
    /* all columns share one capacity: grow each to the same size */
    cap = st->cap_points;
    ok = grow ((gpointer *) & l->x, &cap, len, new_cap - len, sizeof (gdouble));
    cap = st->cap_points;
    ok = ok && grow ((gpointer *) & l->y, &cap, len, new_cap - len,
        sizeof (gdouble));
    cap = st->cap_points;
    ok = ok && grow ((gpointer *) & l->visible, &cap, len, new_cap - len, 1);
    if (ok && (l->score || with_score)) {
      gboolean made = l->score == NULL;
      cap = made ? 0 : st->cap_points;
      if (made)
        l->score = g_try_new (gdouble, new_cap);
      else
        ok = grow ((gpointer *) & l->score, &cap, len, new_cap - len,
            sizeof (gdouble));
      ok = ok && l->score != NULL;
      for (i = 0; ok && made && i < len; i++)
        l->score[i] = NAN;
    }
    if (ok)
      st->cap_points = new_cap;
  }
  if (!ok) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "%" G_GSIZE_FORMAT " keypoints do not fit in memory", len + n);
    return FALSE;
  }
  for (i = len; set && i < len + n; i++) {
    l->x[i] = l->y[i] = NAN;
    l->visible[i] = 0;
    if (l->score)
      l->score[i] = NAN;
  }
  /* a score column the caller does not fill is missing scores */
  for (i = len; !set && !with_score && l->score && i < len + n; i++)
    l->score[i] = NAN;
  l->n_points = len + n;
  *first = len;
  return TRUE;
}

gboolean
op_labels_reserve_points (OpLabels * l, gsize n, gboolean with_score,
    gsize * first, GError ** error)
{
  return reserve_points (l, n, with_score, TRUE, first, error);
}

gboolean
op_labels_reserve_points_unset (OpLabels * l, gsize n, gboolean with_score,
    gsize * first, GError ** error)
{
  return reserve_points (l, n, with_score, FALSE, first, error);
}

/**
 * op_labels_append_frame:
 * @skeleton: from op_labels_intern_skeleton()
 *
 * Appends a frame to the columns; op_labels_append_instance() adds its
 * instances.
 *
 * Returns: (transfer none): the frame, valid until the next append
 */
OpLabelsFrame *
op_labels_append_frame (OpLabels * l, guint video, guint64 frame_index,
    guint32 skeleton)
{
  OpLabelsFrame *f;

  if (!grow ((gpointer *) & l->frames, &l->store->cap_frames, l->n_frames, 1,
          sizeof (OpLabelsFrame)))
    g_error ("out of memory for %" G_GSIZE_FORMAT " labeled frames",
        l->n_frames + 1);
  f = &l->frames[l->n_frames++];
  f->video = video;
  f->skeleton = skeleton;
  f->frame_index = frame_index;
  f->width = f->height = 0;
  op_labels_get_video_size (l, video, &f->width, &f->height);
  f->first_instance = l->n_instances;
  f->n_instances = 0;
  return f;
}

/**
 * op_labels_append_instance:
 * @first_point: its points, from op_labels_reserve_points()
 *
 * Appends an instance to the last appended frame.
 *
 * Returns: (transfer none): the instance (untracked, no score, no box),
 *   valid until the next append
 */
OpLabelsInstance *
op_labels_append_instance (OpLabels * l, OpInstanceKind kind,
    gsize first_point, guint n_points)
{
  OpLabelsInstance *inst;

  g_return_val_if_fail (l->n_frames > 0, NULL);
  g_return_val_if_fail (first_point + n_points <= l->n_points, NULL);
  if (!grow ((gpointer *) & l->instances, &l->store->cap_instances,
          l->n_instances, 1, sizeof (OpLabelsInstance)))
    g_error ("out of memory for %" G_GSIZE_FORMAT " instances",
        l->n_instances + 1);
  inst = &l->instances[l->n_instances++];
  memset (inst, 0, sizeof (*inst));
  inst->first_point = first_point;
  inst->n_points = n_points;
  inst->track = -1;
  inst->kind = kind;
  inst->score = NAN;
  l->frames[l->n_frames - 1].n_instances++;
  return inst;
}

void
op_labels_set_bbox (OpLabels * l, OpLabelsInstance * inst,
    const gdouble bbox[4])
{
  if (!grow ((gpointer *) & l->bboxes, &l->store->cap_bboxes, l->n_bboxes, 1,
          4 * sizeof (gdouble)))
    g_error ("out of memory for %" G_GSIZE_FORMAT " boxes", l->n_bboxes + 1);
  memcpy (&l->bboxes[4 * l->n_bboxes], bbox, 4 * sizeof (gdouble));
  inst->bbox = ++l->n_bboxes;
}

/**
 * op_labels_replace_points:
 * @x: (transfer full): new columns of @n_points rows (g_malloc'ed)
 * @score: (transfer full) (nullable): likewise
 *
 * Swaps in new point columns (node-map); the instances' ranges must be
 * rewritten to match by the caller.
 */
void
op_labels_replace_points (OpLabels * l, gdouble * x, gdouble * y,
    guint8 * visible, gdouble * score, gsize n_points)
{
  free_points (l);
  l->x = x;
  l->y = y;
  l->visible = visible;
  l->score = score;
  l->n_points = n_points;
  l->store->cap_points = n_points;
}

/**
 * op_labels_set_video_size:
 *
 * Records the size the label file gives video @video (SLEAP's backend
 * `shape`, an analysis file's, onepass JSON's `width`/`height`), so that
 * the element can refuse labels made for another video.
 */
void
op_labels_set_video_size (OpLabels * l, guint video, guint width, guint height)
{
  OpLabelsVideoSize *size;

  if (video >= l->video_sizes->len)
    g_array_set_size (l->video_sizes, video + 1);
  size = &g_array_index (l->video_sizes, OpLabelsVideoSize, video);
  size->width = width;
  size->height = height;
}

/**
 * op_labels_get_video_size:
 *
 * Returns: TRUE when the file records a size for video @video
 */
gboolean
op_labels_get_video_size (const OpLabels * l, guint video, guint * width,
    guint * height)
{
  const OpLabelsVideoSize *size;

  if (video >= l->video_sizes->len)
    return FALSE;
  size = &g_array_index (l->video_sizes, OpLabelsVideoSize, video);
  if (size->width == 0 || size->height == 0)
    return FALSE;
  *width = size->width;
  *height = size->height;
  return TRUE;
}

void
op_labels_add_warning (OpLabels * l, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (l->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

/* one built frame into the columns */
static gboolean
pack_frame (OpLabels * l, const OpLabeledFrame * bf, GError ** error)
{
  const OpAnnotation *ann = &bf->ann;
  OpLabelsFrame *f;
  guint i, k;

  f = op_labels_append_frame (l, bf->video, ann->frame_index,
      op_labels_intern_skeleton (l, ann->skeleton));
  if (ann->width && ann->height) {
    f->width = ann->width;
    f->height = ann->height;
  }
  for (i = 0; i < op_annotation_n_instances (ann); i++) {
    const OpInstance *src = op_annotation_get_instance (ann, i);
    OpLabelsInstance *inst;
    gboolean scored = FALSE;
    gsize first;

    for (k = 0; k < src->n_keypoints; k++)
      scored = scored || !isnan (src->keypoints[k].score);
    if (!op_labels_reserve_points (l, src->n_keypoints, scored, &first, error))
      return FALSE;
    for (k = 0; k < src->n_keypoints; k++) {
      const OpKeypoint *kp = &src->keypoints[k];
      l->x[first + k] = kp->x;
      l->y[first + k] = kp->y;
      l->visible[first + k] = kp->visible ? 1 : 0;
      if (l->score)
        l->score[first + k] = kp->score;
    }
    inst = op_labels_append_instance (l, src->kind, first, src->n_keypoints);
    inst->track = src->track;
    inst->track_name = op_labels_intern_name (l, src->track_name);
    inst->score = src->score;
    inst->replaced = src->replaced ? 1 : 0;
    if (src->has_bbox)
      op_labels_set_bbox (l, inst, src->bbox);
  }
  return TRUE;
}

/**
 * op_labels_pack:
 *
 * Moves the frames of @building into the columns (op_labels_finish() does
 * it; a reader of a large file calls it now and then to bound memory).
 */
gboolean
op_labels_pack (OpLabels * l, GError ** error)
{
  guint i;

  for (i = 0; i < l->building->len; i++)
    if (!pack_frame (l, &g_array_index (l->building, OpLabeledFrame, i), error))
      return FALSE;
  g_array_set_size (l->building, 0);
  return TRUE;
}

static gint
compare_frames (gconstpointer a, gconstpointer b, gpointer unused)
{
  const OpLabelsFrame *fa = a, *fb = b;

  if (fa->video != fb->video)
    return fa->video < fb->video ? -1 : 1;
  if (fa->frame_index != fb->frame_index)
    return fa->frame_index < fb->frame_index ? -1 : 1;
  return 0;
}

/* frames listed twice become one: their instances, in file order, are
 * made contiguous in a new instance column */
static gboolean
merge_duplicates (OpLabels * l, GError ** error)
{
  OpLabelsInstance *insts;
  gsize i, j, out = 0, n = 0;

  for (i = 1; i < l->n_frames; i++)
    if (compare_frames (&l->frames[i - 1], &l->frames[i], NULL) == 0)
      break;
  if (i >= l->n_frames)
    return TRUE;

  insts = g_try_new (OpLabelsInstance, MAX (l->n_instances, 1));
  if (insts == NULL) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_UNSUPPORTED,
        "%" G_GSIZE_FORMAT " instances do not fit in memory", l->n_instances);
    return FALSE;
  }
  for (i = 0; i < l->n_frames; i = j) {
    OpLabelsFrame merged = l->frames[i];

    merged.first_instance = n;
    merged.n_instances = 0;
    for (j = i; j < l->n_frames
        && compare_frames (&l->frames[i], &l->frames[j], NULL) == 0; j++) {
      const OpLabelsFrame *f = &l->frames[j];
      if (f->skeleton != merged.skeleton) {
        g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
            "frame %" G_GUINT64_FORMAT " of video %u is listed twice with "
            "different skeletons", f->frame_index, f->video);
        g_free (insts);
        return FALSE;
      }
      if (j > i)
        op_labels_add_warning (l, "frame %" G_GUINT64_FORMAT " of video %u "
            "is listed twice; its instances were merged", f->frame_index,
            f->video);
      memcpy (&insts[n], &l->instances[f->first_instance],
          f->n_instances * sizeof (OpLabelsInstance));
      n += f->n_instances;
      merged.n_instances += f->n_instances;
    }
    l->frames[out++] = merged;
  }
  FREE_COLUMN (l->store, l->instances, l->store->cap_instances);
  l->instances = insts;
  l->n_instances = n;
  l->store->cap_instances = MAX (n, 1);
  l->n_frames = out;
  return TRUE;
}

/**
 * op_labels_finish:
 *
 * Packs the built frames into the columns, sorts the frames (files need
 * not store them in order) and merges frames listed twice, keeping the
 * instances of both in file order.
 */
gboolean
op_labels_finish (OpLabels * l, GError ** error)
{
  gboolean sorted = TRUE;
  guint i;

  if (!op_labels_pack (l, error))
    return FALSE;

  for (i = 1; sorted && i < l->n_frames; i++)
    sorted = compare_frames (&l->frames[i - 1], &l->frames[i], NULL) <= 0;
  /* a stable sort keeps the file order of duplicates */
  if (!sorted)
    g_qsort_with_data (l->frames, l->n_frames, sizeof (OpLabelsFrame),
        compare_frames, NULL);
  return merge_duplicates (l, error);
}

/* index of the first frame >= (video, frame_index) */
static gsize
lower_bound (const OpLabels * l, guint video, guint64 frame_index)
{
  gsize lo = 0, hi = l->n_frames;

  while (lo < hi) {
    gsize mid = lo + (hi - lo) / 2;
    const OpLabelsFrame *f = &l->frames[mid];
    if (f->video < video || (f->video == video && f->frame_index < frame_index))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/**
 * op_labels_lookup:
 *
 * Returns: (transfer none) (nullable): the labels of that frame, or %NULL
 */
const OpLabelsFrame *
op_labels_lookup (const OpLabels * l, guint video, guint64 frame_index)
{
  const OpLabelsFrame *f = op_labels_next (l, video, frame_index);

  return (f && f->frame_index == frame_index) ? f : NULL;
}

/**
 * op_labels_next:
 *
 * Returns: (transfer none) (nullable): the first labeled frame of @video at
 *   or after @frame_index, or %NULL
 */
const OpLabelsFrame *
op_labels_next (const OpLabels * l, guint video, guint64 frame_index)
{
  gsize i = lower_bound (l, video, frame_index);

  if (i >= l->n_frames || l->frames[i].video != video)
    return NULL;
  return &l->frames[i];
}

guint
op_labels_count_frames (const OpLabels * l, guint video)
{
  return lower_bound (l, video + 1, 0) - lower_bound (l, video, 0);
}

/**
 * op_labels_frame_skeleton:
 *
 * Returns: (transfer none) (nullable): the frame's skeleton
 */
OpSkeleton *
op_labels_frame_skeleton (const OpLabels * l, const OpLabelsFrame * f)
{
  if (f->skeleton >= l->skeletons->len)
    return NULL;
  return g_ptr_array_index (l->skeletons, f->skeleton);
}

/**
 * op_labels_instance_track_name:
 *
 * Returns: (transfer none) (nullable): the instance's track name, owned by
 *   the labels
 */
const gchar *
op_labels_instance_track_name (const OpLabels * l,
    const OpLabelsInstance * inst)
{
  if (inst->track_name == 0 || inst->track_name > l->names->len)
    return NULL;
  return g_ptr_array_index (l->names, inst->track_name - 1);
}

/* as op_keypoint_is_present() */
gboolean
op_labels_point_is_present (const OpLabels * l, gsize p)
{
  return l->visible[p] && !isnan (l->x[p]) && !isnan (l->y[p]);
}

gboolean
op_labels_instance_has_present (const OpLabels * l,
    const OpLabelsInstance * inst)
{
  guint k;

  for (k = 0; k < inst->n_points; k++)
    if (op_labels_point_is_present (l, inst->first_point + k))
      return TRUE;
  return FALSE;
}

guint
op_labels_instance_count_present (const OpLabels * l,
    const OpLabelsInstance * inst)
{
  guint k, n = 0;

  for (k = 0; k < inst->n_points; k++)
    if (op_labels_point_is_present (l, inst->first_point + k))
      n++;
  return n;
}

/**
 * op_labels_get_instance:
 * @out: uninitialised memory; op_instance_clear() it afterwards
 *
 * The instance as an #OpInstance (what a meta carries).
 */
void
op_labels_get_instance (const OpLabels * l, const OpLabelsInstance * inst,
    OpInstance * out)
{
  const gchar *name = op_labels_instance_track_name (l, inst);
  guint k;

  op_instance_init (out, inst->kind, inst->n_points);
  out->track = inst->track;
  out->track_name = g_strdup (name);
  out->score = inst->score;
  out->replaced = inst->replaced != 0;
  if (inst->bbox > 0 && inst->bbox <= l->n_bboxes) {
    out->has_bbox = TRUE;
    memcpy (out->bbox, &l->bboxes[4 * (inst->bbox - 1)], 4 * sizeof (gdouble));
  }
  for (k = 0; k < inst->n_points; k++) {
    gsize p = inst->first_point + k;
    OpKeypoint *kp = &out->keypoints[k];
    kp->x = l->x[p];
    kp->y = l->y[p];
    kp->visible = l->visible[p] != 0;
    kp->score = l->score ? l->score[p] : NAN;
  }
}

/**
 * op_labels_get_annotation:
 * @out: uninitialised memory; op_annotation_clear() it afterwards
 *
 * The whole frame as an #OpAnnotation (frame index, recorded size,
 * skeleton, every instance in file order).
 */
void
op_labels_get_annotation (const OpLabels * l, const OpLabelsFrame * f,
    OpAnnotation * out)
{
  guint i;

  op_annotation_init (out);
  out->frame_index = f->frame_index;
  out->width = f->width;
  out->height = f->height;
  op_annotation_set_skeleton (out, op_labels_frame_skeleton (l, f));
  for (i = 0; i < f->n_instances; i++) {
    OpInstance inst;
    op_labels_get_instance (l, &l->instances[f->first_instance + i], &inst);
    g_array_append_val (out->instances, inst);
  }
}

/* "SLEAP labels (.slp, .pkg.slp), ..., onepass JSON lines (...)": the
 * formats of @readers, so the message cannot go stale when one is added */
static gchar *
known_formats (const OpLabelReader * const *readers)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; readers[i]; i++) {
    if (!readers[i]->description)
      continue;
    if (out->len)
      g_string_append (out, ", ");
    g_string_append (out, readers[i]->description);
  }
  return g_string_free (out, FALSE);
}

/**
 * op_labels_load:
 * @readers: %NULL-terminated table of formats, tried in order
 *
 * Detects the format from the content (never the name) and loads the file.
 * Every error message starts with the path.
 *
 * Returns: (transfer full) (nullable): the labels
 */
OpLabels *
op_labels_load (const gchar * path, const OpLabelReader * const *readers,
    GError ** error)
{
  guint8 head[1024];
  gsize len;
  FILE *f;
  GError *err = NULL;
  OpLabels *labels;
  gchar *known;
  guint i;

  if (path == NULL || *path == '\0') {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "no labels file given (set the location property)");
    return NULL;
  }
  f = fopen (path, "rb");
  if (f == NULL) {
    gint e = errno;
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: cannot open: %s", path, g_strerror (e));
    return NULL;
  }
  len = fread (head, 1, sizeof (head), f);
  fclose (f);

  for (i = 0; readers[i]; i++) {
    if (!readers[i]->probe (path, head, len))
      continue;
    labels = readers[i]->load (path, &err);
    if (labels == NULL) {
      g_set_error (error, err->domain, err->code, "%s: %s", path, err->message);
      g_clear_error (&err);
      return NULL;
    }
    if (!op_labels_finish (labels, &err)) {
      g_set_error (error, err->domain, err->code, "%s: %s", path, err->message);
      g_clear_error (&err);
      op_labels_free (labels);
      return NULL;
    }
    return labels;
  }
  if (len == 0) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT,
        "%s: not a label file onepass can read (the file is empty)", path);
    return NULL;
  }
  known = known_formats (readers);
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT,
      "%s: not a label file onepass can read (it is none of: %s)", path, known);
  g_free (known);
  return NULL;
}
