/* onepass: reader for SLEAP analysis HDF5 files (*.analysis.h5).
 *
 * Dense arrays, one video, one skeleton, one instance slot per track
 * (sleap-format.md section 8). The axis order of every array comes from
 * its "dims" attribute; without it, from the file's "transpose" attribute
 * (false: SLEAP's untransposed order), else SLEAP's original "matlab"
 * order. Array position f is video frame f.
 *
 * Each frame with at least one occupied slot (track_occupancy != 0 or any
 * coordinate not NaN) becomes a labeled frame with one instance per
 * occupied slot, in slot order. The format does not store whether an
 * instance was predicted: an instance with a finite instance score is
 * taken as predicted, one without (SLEAP leaves it NaN for user labels)
 * as user.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "h5util.h"
#include "h5check.h"

#include <json-glib/json-glib.h>
#include <string.h>

enum
{ AX_FRAME, AX_TRACK, AX_NODE, AX_XY, N_AX };

static const gchar *const ax_names[N_AX] = { "frame", "track", "node", "xy" };

/* frames per block read, bounded so a block of tracks stays small */
#define BLOCK_VALUES (1 << 22)

/* one dense array: which stored axis holds each logical axis */
typedef struct
{
  const gchar *name;
  hid_t dset;
  gint rank;
  gint pos[N_AX];               /* stored position of each axis, -1 if absent */
  hsize_t dims[4];
  hsize_t stride[N_AX];         /* in the current block, per logical axis */
  gdouble *buf;
} Array;

static gboolean
analysis_probe (const gchar * path, const guint8 * head, gsize len)
{
  hid_t file;
  gboolean ok = FALSE;

  if (!op_h5_has_signature (head, len))
    return FALSE;
  op_h5_lock ();
  file = op_h5_open (path, NULL);
  if (file >= 0) {
    ok = op_h5_exists (file, "track_occupancy");
    H5Fclose (file);
  }
  op_h5_unlock ();
  return ok;
}

#define CORRUPT(...) \
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT, __VA_ARGS__)

/* The "dims" attribute: a JSON list of axis names. FALSE when absent;
 * an error when present but not a permutation of @want names. */
static gboolean
read_dims (Array * a, const gint * want, gint n_want, gboolean * found,
    GError ** error)
{
  gchar *text;
  JsonParser *parser;
  JsonNode *root;
  JsonArray *list;
  gboolean ok = FALSE;
  gint i, k;

  *found = FALSE;
  if (H5Aexists (a->dset, "dims") <= 0) {
    H5Eclear2 (H5E_DEFAULT);
    return TRUE;
  }
  text = op_h5_read_string_attr (a->dset, a->name, "dims", error);
  if (text == NULL)
    return FALSE;
  parser = json_parser_new_immutable ();
  for (i = 0; i < N_AX; i++)
    a->pos[i] = -1;
  if (json_parser_load_from_data (parser, text, -1, NULL)
      && (root = json_parser_get_root (parser)) && JSON_NODE_HOLDS_ARRAY (root)
      && (gint) json_array_get_length (list = json_node_get_array (root)) ==
      n_want) {
    ok = TRUE;
    for (i = 0; i < n_want && ok; i++) {
      JsonNode *e = json_array_get_element (list, i);
      const gchar *s = JSON_NODE_HOLDS_VALUE (e)
          && json_node_get_value_type (e) == G_TYPE_STRING ?
          json_node_get_string (e) : "";
      ok = FALSE;
      for (k = 0; k < n_want; k++)
        if (g_strcmp0 (s, ax_names[want[k]]) == 0 && a->pos[want[k]] < 0) {
          a->pos[want[k]] = i;
          ok = TRUE;
        }
    }
  }
  if (!ok)
    CORRUPT ("%s: dims attribute %s does not name the %d axes it should",
        a->name, text, n_want);
  *found = ok;
  g_object_unref (parser);
  g_free (text);
  return ok;
}

/* Opens @name and works out its axis order: "dims", else @fallback (stored
 * order of the logical axes in @want). Without dims, a 2-D array whose
 * shape only fits the other order is read transposed. */
static gboolean
open_array (hid_t file, Array * a, const gchar * name, const gint * want,
    gint n_want, const gint * fallback, const hsize_t * sizes,
    gboolean sizes_known, GError ** error)
{
  hid_t space, type;
  H5T_class_t cls;
  gboolean found;
  gint i;

  memset (a, 0, sizeof (*a));
  a->name = name;
  a->dset = H5Dopen2 (file, name, H5P_DEFAULT);
  if (a->dset < 0) {
    gchar *why = op_h5_take_error ();
    CORRUPT ("%s: %s", name, why);
    g_free (why);
    return FALSE;
  }
  /* what libhdf5 trusts (chunk addresses, filter masks, types): checked
   * before any read of the array */
  if (!op_h5_check_dataset (a->dset, name, error))
    return FALSE;
  space = H5Dget_space (a->dset);
  type = H5Dget_type (a->dset);
  a->rank = H5Sget_simple_extent_ndims (space);
  cls = H5Tget_class (type);
  if (a->rank == n_want)
    H5Sget_simple_extent_dims (space, a->dims, NULL);
  H5Sclose (space);
  H5Tclose (type);
  H5Eclear2 (H5E_DEFAULT);
  if (a->rank != n_want || (cls != H5T_FLOAT && cls != H5T_INTEGER
          && cls != H5T_ENUM)) {
    CORRUPT ("%s is not a %d-D numeric array", name, n_want);
    return FALSE;
  }
  if (!read_dims (a, want, n_want, &found, error))
    return FALSE;
  if (!found) {
    for (i = 0; i < N_AX; i++)
      a->pos[i] = -1;
    for (i = 0; i < n_want; i++)
      a->pos[fallback[i]] = i;
    if (sizes_known && n_want == 2 && (a->dims[a->pos[fallback[0]]] !=
            sizes[fallback[0]] || a->dims[a->pos[fallback[1]]] !=
            sizes[fallback[1]]) && a->dims[0] == sizes[fallback[1]]
        && a->dims[1] == sizes[fallback[0]]) {
      a->pos[fallback[0]] = 1;
      a->pos[fallback[1]] = 0;
    }
  }
  if (sizes_known) {
    for (i = 0; i < n_want; i++) {
      if (a->dims[a->pos[want[i]]] != sizes[want[i]]) {
        CORRUPT ("%s: its %s axis has %" G_GUINT64_FORMAT " entries, "
            "/tracks has %" G_GUINT64_FORMAT, name, ax_names[want[i]],
            (guint64) a->dims[a->pos[want[i]]], (guint64) sizes[want[i]]);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static void
close_array (Array * a)
{
  if (a->dset > 0)
    H5Dclose (a->dset);
  g_clear_pointer (&a->buf, g_free);
  a->dset = 0;
}

/* reads frames [f0, f0 + n) of @a into a->buf and sets the strides */
static gboolean
read_block (Array * a, hsize_t f0, hsize_t n, GError ** error)
{
  hsize_t start[4] = { 0, }, count[4];
  hid_t fspace, mspace;
  hsize_t total = 1, step = 1;
  gint i, ax;
  herr_t rc;

  for (i = 0; i < a->rank; i++)
    count[i] = a->dims[i];
  start[a->pos[AX_FRAME]] = f0;
  count[a->pos[AX_FRAME]] = n;
  for (i = 0; i < a->rank; i++)
    total *= count[i];
  /* row-major strides of the block, per logical axis */
  for (i = a->rank - 1; i >= 0; i--) {
    for (ax = 0; ax < N_AX; ax++)
      if (a->pos[ax] == i)
        a->stride[ax] = step;
    step *= count[i];
  }
  g_free (a->buf);
  a->buf = g_try_new (gdouble, MAX (total, 1));
  if (a->buf == NULL) {
    CORRUPT ("%s: the block does not fit in memory", a->name);
    return FALSE;
  }
  fspace = H5Dget_space (a->dset);
  mspace = H5Screate_simple (a->rank, count, NULL);
  H5Sselect_hyperslab (fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  rc = H5Dread (a->dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
      a->buf);
  H5Sclose (mspace);
  H5Sclose (fspace);
  if (rc < 0) {
    gchar *why = op_h5_take_error ();
    CORRUPT ("%s: cannot read frames %" G_GUINT64_FORMAT "..%"
        G_GUINT64_FORMAT ": %s", a->name, (guint64) f0, (guint64) (f0 + n),
        why);
    g_free (why);
    return FALSE;
  }
  return TRUE;
}

static inline gdouble
at (const Array * a, hsize_t f, hsize_t t, hsize_t n, hsize_t c)
{
  hsize_t i = f * a->stride[AX_FRAME] + t * a->stride[AX_TRACK];

  if (a->pos[AX_NODE] >= 0)
    i += n * a->stride[AX_NODE];
  if (a->pos[AX_XY] >= 0)
    i += c * a->stride[AX_XY];
  return a->buf[i];
}

static OpSkeleton *
read_skeleton (hid_t file, hsize_t n_nodes, OpLabels * labels, GError ** error)
{
  gchar **nodes, **edge_names = NULL, *name = NULL;
  guint n, n_en = 0, i;
  OpSkeleton *sk;

  if (!op_h5_exists (file, "node_names")) {
    CORRUPT ("the node_names dataset is missing");
    return NULL;
  }
  nodes = op_h5_read_strings (file, "node_names", &n, error);
  if (nodes == NULL)
    return NULL;
  if (n != n_nodes) {
    CORRUPT ("node_names has %u names, /tracks has %" G_GUINT64_FORMAT
        " nodes", n, (guint64) n_nodes);
    g_strfreev (nodes);
    return NULL;
  }
  /* both are optional: unreadable ones are warned about, not fatal */
  if (H5Aexists (file, "skeleton_name") > 0) {
    GError *err = NULL;
    name = op_h5_read_string_attr (file, "/", "skeleton_name", &err);
    if (name == NULL)
      op_labels_add_warning (labels, "the skeleton_name attribute cannot be "
          "read (%s); the skeleton is unnamed", err ? err->message : "?");
    g_clear_error (&err);
  }
  H5Eclear2 (H5E_DEFAULT);
  sk = op_skeleton_new (name, (const gchar * const *) nodes, n);
  g_free (name);
  g_strfreev (nodes);

  /* edges by name: edge_inds may be absent in the oldest files */
  if (op_h5_exists (file, "edge_names")) {
    GError *err = NULL;
    edge_names = op_h5_read_strings_nd (file, "edge_names", 2, &n_en, &err);
    if (edge_names == NULL)
      op_labels_add_warning (labels, "the edge_names dataset cannot be read "
          "(%s); the skeleton has no edges", err ? err->message : "?");
    g_clear_error (&err);
    H5Eclear2 (H5E_DEFAULT);
  }
  for (i = 0; edge_names && i < n_en / 2; i++) {
    gint a = op_skeleton_find_node (sk, edge_names[2 * i]);
    gint b = op_skeleton_find_node (sk, edge_names[2 * i + 1]);
    if (a >= 0 && b >= 0)
      op_skeleton_add_edge (sk, a, b);
    else
      op_labels_add_warning (labels, "edge %s-%s names a node that is not in "
          "node_names; ignored", edge_names[2 * i], edge_names[2 * i + 1]);
  }
  g_strfreev (edge_names);
  return sk;
}

/* sleap-io copies the video's backend dict into the file attribute
 * video_backend_metadata (JSON); it records the frame size when that dict
 * has a shape. SLEAP's own writer records no size. */
static gboolean
read_video_size (hid_t file, OpLabels * labels, GError ** error)
{
  gchar *text;
  JsonNode *root;
  guint width = 0, height = 0;
  gboolean ok;

  if (H5Aexists (file, "video_backend_metadata") <= 0) {
    H5Eclear2 (H5E_DEFAULT);
    return TRUE;
  }
  text = op_h5_read_string_attr (file, "/", "video_backend_metadata", error);
  if (text == NULL)
    return FALSE;
  root = op_sleap_parse_json (text, "/ attribute video_backend_metadata",
      error);
  g_free (text);
  if (root == NULL)
    return FALSE;
  ok = op_sleap_backend_size (JSON_NODE_HOLDS_OBJECT (root) ?
      json_node_get_object (root) : NULL, "/ attribute video_backend_metadata",
      &width, &height, error);
  json_node_unref (root);
  if (ok)
    op_labels_set_video_size (labels, 0, width, height);
  return ok;
}

static OpLabels *
analysis_load (const gchar * path, GError ** error)
{
  static const gint ax4[] = { AX_FRAME, AX_TRACK, AX_NODE, AX_XY };
  static const gint ax3[] = { AX_FRAME, AX_TRACK, AX_NODE };
  static const gint ax2[] = { AX_FRAME, AX_TRACK };
  /* stored order without dims: SLEAP's transposed ("matlab") arrays, or
   * its untransposed ones when the file says transpose=false */
  static const gint m_tracks[] = { AX_TRACK, AX_XY, AX_NODE, AX_FRAME };
  static const gint m_occ[] = { AX_FRAME, AX_TRACK };
  static const gint m_pscores[] = { AX_TRACK, AX_NODE, AX_FRAME };
  static const gint m_iscores[] = { AX_TRACK, AX_FRAME };
  static const gint u_tracks[] = { AX_FRAME, AX_NODE, AX_XY, AX_TRACK };
  static const gint u_occ[] = { AX_TRACK, AX_FRAME };
  static const gint u_pscores[] = { AX_FRAME, AX_NODE, AX_TRACK };
  static const gint u_iscores[] = { AX_FRAME, AX_TRACK };
  Array tracks = { 0, }, occ = { 0, }, pscores = { 0, }, iscores = { 0, };
  OpLabels *labels = op_labels_new (path, "analysis-h5");
  OpSkeleton *sk = NULL;
  gchar **track_names = NULL, *video = NULL;
  guint n_names = 0;
  gdouble transpose = 1;
  gboolean ok = FALSE, has_ps, has_is;
  hsize_t sizes[N_AX], F, T, N, f0, block;
  guint64 n_blank = 0;
  hid_t file;

  op_h5_lock ();
  file = op_h5_open (path, error);
  if (file < 0)
    goto done;
  if (!op_h5_exists (file, "tracks")) {
    CORRUPT ("the tracks dataset is missing");
    goto done;
  }
  if (H5Aexists (file, "transpose") > 0
      && !op_h5_read_double_attr (file, "/", "transpose", &transpose, error))
    goto done;
  H5Eclear2 (H5E_DEFAULT);
  if (!open_array (file, &tracks, "tracks", ax4, 4, transpose != 0 ?
          m_tracks : u_tracks, NULL, FALSE, error))
    goto done;
  F = sizes[AX_FRAME] = tracks.dims[tracks.pos[AX_FRAME]];
  T = sizes[AX_TRACK] = tracks.dims[tracks.pos[AX_TRACK]];
  N = sizes[AX_NODE] = tracks.dims[tracks.pos[AX_NODE]];
  sizes[AX_XY] = tracks.dims[tracks.pos[AX_XY]];
  if (sizes[AX_XY] != 2) {
    CORRUPT ("tracks: the xy axis has %" G_GUINT64_FORMAT " entries, not 2",
        (guint64) sizes[AX_XY]);
    goto done;
  }
  if ((gdouble) F * T * N > (gdouble) G_MAXINT64 / 16) {
    CORRUPT ("tracks has an impossible shape");
    goto done;
  }
  if (!op_h5_check_storage (tracks.dset, "tracks", F * T * N * 2 * 8, error))
    goto done;
  if (!open_array (file, &occ, "track_occupancy", ax2, 2, transpose != 0 ?
          m_occ : u_occ, sizes, TRUE, error))
    goto done;
  has_ps = op_h5_exists (file, "point_scores");
  if (has_ps && !open_array (file, &pscores, "point_scores", ax3, 3,
          transpose != 0 ? m_pscores : u_pscores, sizes, TRUE, error))
    goto done;
  has_is = op_h5_exists (file, "instance_scores");
  if (has_is && !open_array (file, &iscores, "instance_scores", ax2, 2,
          transpose != 0 ? m_iscores : u_iscores, sizes, TRUE, error))
    goto done;

  sk = read_skeleton (file, N, labels, error);
  if (sk == NULL)
    goto done;
  if (op_h5_exists (file, "track_names")) {
    track_names = op_h5_read_strings (file, "track_names", &n_names, error);
    if (track_names == NULL)
      goto done;
    if (n_names && n_names != T)
      op_labels_add_warning (labels, "track_names has %u names for %"
          G_GUINT64_FORMAT " slots", n_names, (guint64) T);
  }
  if (op_h5_exists (file, "video_path")) {
    video = op_h5_read_string (file, "video_path", error);
    if (video == NULL)
      goto done;
  }
  g_ptr_array_add (labels->videos, video ? video : g_strdup (""));
  video = NULL;
  if (!read_video_size (file, labels, error))
    goto done;

  block = MAX (1, BLOCK_VALUES / MAX (1, T * N * 2));
  for (f0 = 0; f0 < F; f0 += block) {
    hsize_t n = MIN (block, F - f0), f, t, k;

    if (!read_block (&tracks, f0, n, error) || !read_block (&occ, f0, n, error)
        || (has_ps && !read_block (&pscores, f0, n, error))
        || (has_is && !read_block (&iscores, f0, n, error)))
      goto done;
    for (f = 0; f < n; f++) {
      OpLabeledFrame *lf = NULL;
      for (t = 0; t < T; t++) {
        gboolean occupied = at (&occ, f, t, 0, 0) != 0;
        gdouble score = has_is ? at (&iscores, f, t, 0, 0) : NAN;
        OpInstance *inst;
        guint present = 0;

        for (k = 0; k < N && !occupied; k++)
          occupied = !isnan (at (&tracks, f, t, k, 0))
              || !isnan (at (&tracks, f, t, k, 1));
        if (!occupied)
          continue;
        if (lf == NULL) {
          lf = op_labels_add_frame (labels, 0, f0 + f, sk);
          op_labels_get_video_size (labels, 0, &lf->ann.width, &lf->ann.height);
        }
        inst = op_annotation_add_instance (&lf->ann, isfinite (score) ?
            OP_INSTANCE_PREDICTED : OP_INSTANCE_USER);
        inst->score = isfinite (score) ? score : NAN;
        if (n_names) {
          inst->track = t;
          op_instance_set_track_name (inst, t < n_names ? track_names[t] :
              NULL);
        }
        for (k = 0; k < N; k++) {
          OpKeypoint *kp = &inst->keypoints[k];
          gdouble x = at (&tracks, f, t, k, 0), y = at (&tracks, f, t, k, 1);
          if (!isnan (x) && !isnan (y)) {
            kp->x = x;
            kp->y = y;
            kp->visible = TRUE;
            present++;
          }
          kp->score = has_ps ? at (&pscores, f, t, k, 0) : NAN;
        }
        if (present == 0)
          n_blank++;
      }
    }
    /* into the columns block by block: memory stays that of the columns */
    if (!op_labels_pack (labels, error))
      goto done;
  }
  if (labels->n_frames == 0)
    op_labels_add_warning (labels, "the file holds no occupied frame");
  if (n_blank)
    op_labels_add_warning (labels, "%" G_GUINT64_FORMAT " occupied slot(s) "
        "have no keypoint (all NaN)", n_blank);
  ok = TRUE;

done:
  close_array (&tracks);
  close_array (&occ);
  close_array (&pscores);
  close_array (&iscores);
  if (file >= 0)
    H5Fclose (file);
  op_h5_unlock ();
  g_strfreev (track_names);
  g_free (video);
  if (sk)
    op_skeleton_unref (sk);
  if (!ok)
    g_clear_pointer (&labels, op_labels_free);
  return labels;
}

const OpLabelReader op_analysis_reader = { "analysis-h5",
  "SLEAP analysis HDF5 (.analysis.h5)", analysis_probe, analysis_load
};
