/* onepass: a loaded label set as one flat file.
 *
 * The label loader (labelloader.c) writes the columns of an #OpLabels into
 * a memory file; the pipeline's process maps that file and uses the
 * columns where they lie (no copy, no parse of the label file in its own
 * address space). Layout, all little-endian host values (both ends are
 * the same build on the same machine):
 *
 *   header   magic "OPLBLOB1", status (0 labels, 1 error), then offset and
 *            row count of each column and of the meta section
 *   columns  frames, instances, bboxes, x, y, visible, score (8-aligned)
 *   meta     strings and small tables: path, format, videos, warnings,
 *            video sizes, skeletons, track names; or the error
 *
 * The reader checks every offset and every index a column holds before
 * anyone uses them, so a short or inconsistent file is an error, never a
 * read out of bounds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "labelsblob.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOB_MAGIC "OPLBLOB1"

enum
{
  COL_FRAMES, COL_INSTANCES, COL_BBOXES, COL_X, COL_Y, COL_VISIBLE,
  COL_SCORE, COL_META, N_COLS
};

typedef struct
{
  gchar magic[8];
  guint32 status, reserved;
  guint64 offset[N_COLS];
  guint64 count[N_COLS];
} BlobHeader;

static const gsize row_size[N_COLS] = {
  sizeof (OpLabelsFrame), sizeof (OpLabelsInstance), 4 * sizeof (gdouble),
  sizeof (gdouble), sizeof (gdouble), 1, sizeof (gdouble), 1
};

/* ---- writing ---- */

static void
put_u32 (GByteArray * m, guint32 v)
{
  g_byte_array_append (m, (const guint8 *) &v, sizeof (v));
}

static void
put_str (GByteArray * m, const gchar * s)
{
  guint32 n = s ? strlen (s) : G_MAXUINT32;

  put_u32 (m, n);
  if (s)
    g_byte_array_append (m, (const guint8 *) s, n);
}

static void
put_strings (GByteArray * m, GPtrArray * strings)
{
  guint i;

  put_u32 (m, strings->len);
  for (i = 0; i < strings->len; i++)
    put_str (m, g_ptr_array_index (strings, i));
}

static void
put_skeleton (GByteArray * m, const OpSkeleton * sk)
{
  guint i;

  put_str (m, sk->name);
  put_u32 (m, sk->n_nodes);
  for (i = 0; i < sk->n_nodes; i++)
    put_str (m, sk->nodes[i]);
  put_u32 (m, sk->n_edges);
  for (i = 0; i < 2 * sk->n_edges; i++)
    put_u32 (m, sk->edges[i]);
  put_u32 (m, sk->n_symmetries);
  for (i = 0; i < 2 * sk->n_symmetries; i++)
    put_u32 (m, sk->symmetries[i]);
}

static GByteArray *
labels_meta (const OpLabels * l)
{
  GByteArray *m = g_byte_array_new ();
  guint i;

  put_str (m, l->path);
  put_str (m, l->format);
  put_strings (m, l->videos);
  put_strings (m, l->warnings);
  put_u32 (m, l->video_sizes->len);
  for (i = 0; i < l->video_sizes->len; i++) {
    const OpLabelsVideoSize *s = &g_array_index (l->video_sizes,
        OpLabelsVideoSize, i);
    put_u32 (m, s->width);
    put_u32 (m, s->height);
  }
  put_u32 (m, l->skeletons->len);
  for (i = 0; i < l->skeletons->len; i++)
    put_skeleton (m, g_ptr_array_index (l->skeletons, i));
  put_strings (m, l->names);
  return m;
}

static gboolean
pwrite_all (gint fd, gconstpointer data, gsize size, guint64 at,
    GError ** error)
{
  const guint8 *p = data;

  while (size > 0) {
    gssize n = pwrite (fd, p, MIN (size, 1 << 26), at);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      gint e = errno;
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
          "cannot hand the labels over: %s", g_strerror (e));
      return FALSE;
    }
    p += n;
    size -= n;
    at += n;
  }
  return TRUE;
}

/* Columns already in @fd (the loader's arena, op_labels_reserve()) stay
 * where they are; the others, and the meta, are written after them. */
static gboolean
write_blob (gint fd, const OpLabels * l, BlobHeader * h,
    gconstpointer cols[N_COLS], GError ** error)
{
  /* after whatever the arena already holds (nothing without one) */
  guint64 end = MAX (sizeof (BlobHeader), (guint64) MAX (lseek (fd, 0,
              SEEK_END), 0));
  gsize off;
  guint c;

  memcpy (h->magic, BLOB_MAGIC, 8);
  for (c = 0; c < N_COLS; c++) {
    gsize size = h->count[c] * row_size[c];
    if (size && l && op_labels_mapping_offset (l, cols[c], &off)) {
      h->offset[c] = off;
      continue;
    }
    h->offset[c] = end;
    if (size && !pwrite_all (fd, cols[c], size, end, error))
      return FALSE;
    end = (end + size + 7) & ~(guint64) 7;
  }
  if (ftruncate (fd, end) != 0 || !pwrite_all (fd, h, sizeof (*h), 0, error)) {
    if (error && *error == NULL)
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
          "cannot hand the labels over: %s", g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/**
 * op_labels_write_blob:
 * @fd: an empty, writable file (the loader's memory file)
 *
 * Writes @labels (finished) to @fd.
 */
gboolean
op_labels_write_blob (const OpLabels * l, gint fd, GError ** error)
{
  BlobHeader h = { {0,}, 0, };
  GByteArray *meta = labels_meta (l);
  gconstpointer cols[N_COLS] = { l->frames, l->instances, l->bboxes, l->x,
    l->y, l->visible, l->score, meta->data
  };
  gboolean ok;

  h.status = 0;
  h.count[COL_FRAMES] = l->n_frames;
  h.count[COL_INSTANCES] = l->n_instances;
  h.count[COL_BBOXES] = l->n_bboxes;
  h.count[COL_X] = h.count[COL_Y] = h.count[COL_VISIBLE] = l->n_points;
  h.count[COL_SCORE] = l->score ? l->n_points : 0;
  h.count[COL_META] = meta->len;
  ok = write_blob (fd, l, &h, cols, error);
  g_byte_array_unref (meta);
  return ok;
}

/**
 * op_labels_write_error_blob:
 *
 * Writes the loader's failure (domain, code, message) to @fd.
 */
gboolean
op_labels_write_error_blob (const GError * failure, gint fd)
{
  BlobHeader h = { {0,}, 0, };
  GByteArray *meta = g_byte_array_new ();
  gconstpointer cols[N_COLS] = { NULL, };
  gboolean ok;

  put_str (meta, g_quark_to_string (failure->domain));
  put_u32 (meta, failure->code);
  put_str (meta, failure->message);
  cols[COL_META] = meta->data;
  h.status = 1;
  h.count[COL_META] = meta->len;
  ok = write_blob (fd, NULL, &h, cols, NULL);
  g_byte_array_unref (meta);
  return ok;
}

/* ---- reading ---- */

typedef struct
{
  const guint8 *p, *end;
  gboolean bad;
} Reader;

static guint32
get_u32 (Reader * r)
{
  guint32 v = 0;

  if (r->bad || (gsize) (r->end - r->p) < sizeof (v)) {
    r->bad = TRUE;
    return 0;
  }
  memcpy (&v, r->p, sizeof (v));
  r->p += sizeof (v);
  return v;
}

/* (transfer full) (nullable) */
static gchar *
get_str (Reader * r)
{
  guint32 n = get_u32 (r);
  gchar *s;

  if (r->bad || n == G_MAXUINT32)
    return NULL;
  if ((gsize) (r->end - r->p) < n) {
    r->bad = TRUE;
    return NULL;
  }
  s = g_strndup ((const gchar *) r->p, n);
  r->p += n;
  return s;
}

static void
get_strings (Reader * r, GPtrArray * out)
{
  guint32 i, n = get_u32 (r);

  for (i = 0; i < n && !r->bad; i++) {
    gchar *s = get_str (r);
    if (s == NULL) {
      r->bad = TRUE;
      break;
    }
    g_ptr_array_add (out, s);
  }
}

static guint32 *
get_pairs (Reader * r, guint32 * n_pairs)
{
  guint32 i, n = get_u32 (r);
  guint32 *v;

  *n_pairs = 0;
  if (r->bad || n > (guint32) ((r->end - r->p) / 8)) {
    r->bad = TRUE;
    return NULL;
  }
  v = g_new (guint32, 2 * n + 1);
  for (i = 0; i < 2 * n; i++)
    v[i] = get_u32 (r);
  *n_pairs = n;
  return v;
}

static OpSkeleton *
get_skeleton (Reader * r)
{
  gchar *name = get_str (r);
  guint32 i, n = get_u32 (r), n_edges, n_sym;
  GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);
  guint32 *edges, *sym;
  OpSkeleton *sk = NULL;

  for (i = 0; i < n && !r->bad; i++) {
    gchar *s = get_str (r);
    r->bad = r->bad || s == NULL;
    if (s)
      g_ptr_array_add (nodes, s);
  }
  g_ptr_array_add (nodes, NULL);
  edges = get_pairs (r, &n_edges);
  sym = get_pairs (r, &n_sym);
  if (!r->bad) {
    sk = op_skeleton_new (name, (const gchar * const *) nodes->pdata, n);
    for (i = 0; i < n_edges; i++)
      if (edges[2 * i] < n && edges[2 * i + 1] < n)
        op_skeleton_add_edge (sk, edges[2 * i], edges[2 * i + 1]);
    for (i = 0; i < n_sym; i++)
      if (sym[2 * i] < n && sym[2 * i + 1] < n)
        op_skeleton_add_symmetry (sk, sym[2 * i], sym[2 * i + 1]);
  }
  g_free (name);
  g_free (edges);
  g_free (sym);
  g_ptr_array_unref (nodes);
  return sk;
}

/* the reader's own static name, so that @format compares as before */
static const gchar *
reader_name (const OpLabelReader * const *readers, const gchar * name)
{
  guint i;

  for (i = 0; name && readers[i]; i++)
    if (g_strcmp0 (readers[i]->name, name) == 0)
      return readers[i]->name;
  return NULL;
}

static gboolean
read_meta (OpLabels * l, Reader * r, const OpLabelReader * const *readers)
{
  guint32 i, n;
  gchar *s;

  g_free (l->path);
  l->path = get_str (r);
  s = get_str (r);
  l->format = reader_name (readers, s);
  g_free (s);
  get_strings (r, l->videos);
  get_strings (r, l->warnings);
  n = get_u32 (r);
  for (i = 0; i < n && !r->bad; i++) {
    guint32 w = get_u32 (r), h = get_u32 (r);
    op_labels_set_video_size (l, i, w, h);
  }
  n = get_u32 (r);
  for (i = 0; i < n && !r->bad; i++) {
    OpSkeleton *sk = get_skeleton (r);
    if (sk)
      g_ptr_array_add (l->skeletons, sk);
  }
  get_strings (r, l->names);
  return !r->bad && l->path != NULL && l->format != NULL;
}

/* every index a consumer follows without checking */
static gboolean
check_indices (const OpLabels * l)
{
  gsize i;

  for (i = 0; i < l->n_frames; i++) {
    const OpLabelsFrame *f = &l->frames[i];
    if (f->first_instance > l->n_instances
        || f->n_instances > l->n_instances - f->first_instance
        || (f->skeleton != OP_LABELS_NO_SKELETON
            && f->skeleton >= l->skeletons->len))
      return FALSE;
    if (i > 0 && (l->frames[i - 1].video > f->video
            || (l->frames[i - 1].video == f->video
                && l->frames[i - 1].frame_index >= f->frame_index)))
      return FALSE;
  }
  for (i = 0; i < l->n_instances; i++) {
    const OpLabelsInstance *inst = &l->instances[i];
    if (inst->first_point > l->n_points
        || inst->n_points > l->n_points - inst->first_point
        || inst->track_name > l->names->len || inst->bbox > l->n_bboxes)
      return FALSE;
  }
  return TRUE;
}

static void
unmap_blob (gpointer map, gsize size)
{
  munmap (map, size);
}

/**
 * op_labels_read_blob:
 * @fd: the loader's memory file
 * @path: the label file, for messages
 *
 * Maps what the loader wrote: the labels, whose columns stay in the
 * mapping (copy-on-write: node-map may rewrite them), or its error.
 *
 * Returns: (transfer full) (nullable): the labels
 */
OpLabels *
op_labels_read_blob (gint fd, const gchar * path,
    const OpLabelReader * const *readers, GError ** error)
{
  struct stat st;
  BlobHeader h;
  guint8 *map;
  OpLabels *l;
  Reader r;
  guint c;

  if (fstat (fd, &st) != 0 || (gsize) st.st_size < sizeof (BlobHeader)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: the label loader returned nothing", path);
    return NULL;
  }
  map = mmap (NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    gint e = errno;
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: cannot map the loaded labels: %s", path, g_strerror (e));
    return NULL;
  }
  memcpy (&h, map, sizeof (h));
  for (c = 0; c < N_COLS; c++)
    if (memcmp (h.magic, BLOB_MAGIC, 8) != 0 || h.offset[c] % 8
        || h.offset[c] > (guint64) st.st_size
        || h.count[c] > ((guint64) st.st_size - h.offset[c]) / row_size[c])
      goto bad;
  r.p = map + h.offset[COL_META];
  r.end = r.p + h.count[COL_META];
  r.bad = FALSE;

  if (h.status == 1) {
    gchar *domain = get_str (&r), *message;
    guint32 code = get_u32 (&r);
    message = get_str (&r);
    if (!r.bad && domain && message)
      g_set_error_literal (error, g_quark_from_string (domain), code, message);
    g_free (domain);
    g_free (message);
    munmap (map, st.st_size);
    if (r.bad)
      goto bad_unmapped;
    return NULL;
  }

  l = op_labels_new (path, NULL);
  /* an empty column is NULL: a pointer at the mapping's end is not in it */
#define COLUMN(c) (h.count[c] ? (gpointer) (map + h.offset[c]) : NULL)
  l->frames = COLUMN (COL_FRAMES);
  l->n_frames = h.count[COL_FRAMES];
  l->instances = COLUMN (COL_INSTANCES);
  l->n_instances = h.count[COL_INSTANCES];
  l->bboxes = COLUMN (COL_BBOXES);
  l->n_bboxes = h.count[COL_BBOXES];
  l->x = COLUMN (COL_X);
  l->y = COLUMN (COL_Y);
  l->visible = COLUMN (COL_VISIBLE);
  l->n_points = h.count[COL_X];
  l->score = COLUMN (COL_SCORE);
#undef COLUMN
  op_labels_adopt_mapping (l, map, st.st_size, unmap_blob);
  if (h.count[COL_Y] != l->n_points || h.count[COL_VISIBLE] != l->n_points
      || (l->score && h.count[COL_SCORE] != l->n_points)
      || !read_meta (l, &r, readers) || !check_indices (l)) {
    op_labels_free (l);
    goto bad_unmapped;
  }
  return l;

bad:
  munmap (map, st.st_size);
bad_unmapped:
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
      "%s: the label loader returned inconsistent labels", path);
  return NULL;
}
