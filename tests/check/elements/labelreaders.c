/* Tests: the SLEAP label readers (.slp, .pkg.slp, analysis .h5) on the real
 * files in ../shared/data/sleap, with constants checked by hand against
 * h5dump, and their robustness on truncated and damaged copies. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <onepass/onepass.h>
#include <oplabelreaders.h>
#include <hdf5.h>

static gchar *
data_path (const gchar * name)
{
  const gchar *root = g_getenv ("ONEPASS_SHARED_DATA");

  return g_build_filename (root ? root : "../shared/data", "sleap", name, NULL);
}

static OpLabels *
load_ok (const gchar * name)
{
  gchar *path = data_path (name);
  GError *err = NULL;
  OpLabels *l = op_label_readers_load (path, &err);

  if (l == NULL)
    fail ("%s: %s", name, err->message);
  /* none of the real files is odd enough to warn about */
  fail_unless_equals_int (l->warnings->len, 0);
  g_free (path);
  return l;
}

/* The frames as annotations, the form these checks read, made once per
 * label set (the labels store columns) and freed with it. */
static GHashTable *materialized;        /* OpLabels * -> GArray */

static void
labeled_frame_clear (gpointer data)
{
  op_annotation_clear (&((OpLabeledFrame *) data)->ann);
}

static const OpLabeledFrame *
frame_at (const OpLabels * l, guint i)
{
  GArray *a;
  gsize k;

  fail_unless (i < l->n_frames);
  if (materialized == NULL)
    materialized = g_hash_table_new_full (NULL, NULL, NULL,
        (GDestroyNotify) g_array_unref);
  a = g_hash_table_lookup (materialized, l);
  if (a == NULL) {
    a = g_array_new (FALSE, TRUE, sizeof (OpLabeledFrame));
    g_array_set_clear_func (a, labeled_frame_clear);
    for (k = 0; k < l->n_frames; k++) {
      OpLabeledFrame f;
      f.video = l->frames[k].video;
      op_labels_get_annotation (l, &l->frames[k], &f.ann);
      g_array_append_val (a, f);
    }
    g_hash_table_insert (materialized, (gpointer) l, a);
  }
  return &g_array_index (a, OpLabeledFrame, i);
}

static const OpLabeledFrame *
lookup (const OpLabels * l, guint video, guint64 frame_index)
{
  const OpLabelsFrame *f = op_labels_lookup (l, video, frame_index);

  return f ? frame_at (l, f - l->frames) : NULL;
}

static void
labels_free (OpLabels * l)
{
  if (materialized)
    g_hash_table_remove (materialized, l);
  op_labels_free (l);
}

static OpInstance *
inst_at (const OpLabeledFrame * f, guint i)
{
  fail_unless (i < op_annotation_n_instances (&f->ann));
  return op_annotation_get_instance (&f->ann, i);
}

#define assert_close(a, b) fail_unless (fabs ((a) - (b)) < 1e-6, \
    "%.9f != %.9f", (gdouble) (a), (gdouble) (b))

/* labels.v002.slp: frames stored 0, 990, 440, 110, 220, ...; h5dump shows
 * 9 user and 12 predicted instances */
GST_START_TEST (test_unsorted_frames)
{
  OpLabels *l = load_ok ("labels.v002.slp");
  const guint64 want[] = { 0, 110, 220, 330, 440, 550, 660, 770, 880, 990 };
  guint i, k, n_user = 0, n_pred = 0;
  const OpLabeledFrame *f;
  OpInstance *inst;

  fail_unless_equals_string (l->format, "slp");
  fail_unless_equals_int (l->videos->len, 1);
  fail_unless (g_str_has_suffix (g_ptr_array_index (l->videos, 0),
          "/centered_pair_low_quality.mp4"));
  fail_unless_equals_int (l->n_frames, 10);
  for (i = 0; i < l->n_frames; i++) {
    f = frame_at (l, i);
    fail_unless_equals_uint64 (f->ann.frame_index, want[i]);
    fail_unless_equals_int (f->video, 0);
    for (k = 0; k < op_annotation_n_instances (&f->ann); k++) {
      if (inst_at (f, k)->kind == OP_INSTANCE_USER)
        n_user++;
      else
        n_pred++;
    }
  }
  fail_unless_equals_int (n_user, 9);
  fail_unless_equals_int (n_pred, 12);
  /* frame 770 holds predicted, predicted, user, user in file order */
  f = lookup (l, 0, 770);
  fail_unless_equals_int (op_annotation_n_instances (&f->ann), 4);
  fail_unless_equals_int (inst_at (f, 0)->kind, OP_INSTANCE_PREDICTED);
  fail_unless_equals_int (inst_at (f, 1)->kind, OP_INSTANCE_PREDICTED);
  fail_unless_equals_int (inst_at (f, 2)->kind, OP_INSTANCE_USER);
  fail_unless_equals_int (inst_at (f, 3)->kind, OP_INSTANCE_USER);
  /* frame 0, first user instance: /points rows 0 and 1 */
  inst = inst_at (frame_at (l, 0), 0);
  fail_unless_equals_int (inst->n_keypoints, 2);
  assert_close (inst->keypoints[0].x, 91.88698768);
  assert_close (inst->keypoints[0].y, 204.01884253);
  assert_close (inst->keypoints[1].x, 151.53696925);
  assert_close (inst->keypoints[1].y, 159.82503365);
  fail_unless (inst->keypoints[0].visible);
  fail_unless (isnan (inst->score));
  fail_unless (isnan (inst->keypoints[0].score));
  fail_unless_equals_int (inst->track, -1);
  fail_unless (inst->track_name == NULL);
  /* every frame shares the file's one skeleton */
  fail_unless (frame_at (l, 0)->ann.skeleton == frame_at (l, 9)->ann.skeleton);
  labels_free (l);
}

GST_END_TEST;

/* labels.v002.slp's from_predicted links (h5dump): row 10 (frame 220)
 * corrects row 9, rows 17 and 18 (frame 770) correct rows 16 and 15. Those
 * three predictions, and only they, are marked replaced. */
GST_START_TEST (test_replaced_predictions)
{
  OpLabels *l = load_ok ("labels.v002.slp");
  const OpLabeledFrame *f220 = lookup (l, 0, 220);
  const OpLabeledFrame *f770 = lookup (l, 0, 770);
  guint i, k, n = 0;

  for (i = 0; i < l->n_frames; i++)
    for (k = 0; k < op_annotation_n_instances (&frame_at (l, i)->ann); k++)
      n += inst_at (frame_at (l, i), k)->replaced;
  fail_unless_equals_int (n, 3);
  fail_unless (!inst_at (f220, 0)->replaced);
  fail_unless (inst_at (f220, 1)->replaced);
  fail_unless_equals_int (inst_at (f220, 1)->kind, OP_INSTANCE_PREDICTED);
  fail_unless (!inst_at (f220, 2)->replaced);
  fail_unless (inst_at (f770, 0)->replaced);
  fail_unless (inst_at (f770, 1)->replaced);
  fail_unless (!inst_at (f770, 2)->replaced);
  fail_unless (!inst_at (f770, 3)->replaced);
  labels_free (l);
}

GST_END_TEST;

/* every frame predicted: 1100 frames, 2274 instances, 27 tracks, 24 nodes,
 * 5956 NaN points (data README); frame 0 values from h5dump */
GST_START_TEST (test_predictions)
{
  OpLabels *l = load_ok ("centered_pair_predictions.slp");
  const OpLabeledFrame *f;
  OpInstance *inst;
  guint i, k, j, n_inst = 0, n_nan = 0;
  OpSkeleton *sk;

  fail_unless_equals_int (l->n_frames, 1100);
  for (i = 0; i < l->n_frames; i++) {
    f = frame_at (l, i);
    fail_unless_equals_uint64 (f->ann.frame_index, i);
    for (k = 0; k < op_annotation_n_instances (&f->ann); k++) {
      inst = inst_at (f, k);
      fail_unless_equals_int (inst->kind, OP_INSTANCE_PREDICTED);
      fail_unless (inst->track >= 0 && inst->track < 27);
      for (j = 0; j < inst->n_keypoints; j++) {
        if (isnan (inst->keypoints[j].x)) {
          n_nan++;
          fail_if (inst->keypoints[j].visible);
        }
      }
      n_inst++;
    }
  }
  fail_unless_equals_int (n_inst, 2274);
  fail_unless_equals_int (n_nan, 5956);
  fail_unless_equals_int (op_annotation_n_instances (&frame_at (l,
              1099)->ann), 5);

  f = frame_at (l, 0);
  sk = f->ann.skeleton;
  fail_unless_equals_string (sk->name, "Skeleton-count(0)");
  fail_unless_equals_int (sk->n_nodes, 24);
  fail_unless_equals_string (sk->nodes[0], "head");
  fail_unless_equals_string (sk->nodes[23], "hindlegR3");
  fail_unless_equals_int (sk->n_edges, 23);
  inst = inst_at (f, 0);
  fail_unless_equals_int (inst->track, 0);
  fail_unless_equals_string (inst->track_name, "1");
  assert_close (inst->score, 39.072227478027344);
  assert_close (inst->keypoints[0].x, 201);
  assert_close (inst->keypoints[0].y, 186);
  assert_close (inst->keypoints[0].score, 0.82588381);
  assert_close (inst->keypoints[1].x, 213);
  assert_close (inst->keypoints[1].score, 0.83165634);
  labels_free (l);
}

GST_END_TEST;

/* global nodes ["B", "A"], skeleton ids [1, 0]: keypoints are A then B, and
 * the one link (global 1 -> 0) is the edge A -> B */
GST_START_TEST (test_skeleton_order)
{
  OpLabels *l = load_ok ("minimal_instance.pkg.slp");
  const OpLabeledFrame *f = frame_at (l, 0);
  OpSkeleton *sk = f->ann.skeleton;
  OpInstance *inst = inst_at (f, 0);

  fail_unless_equals_int (sk->n_nodes, 2);
  fail_unless_equals_string (sk->nodes[0], "A");
  fail_unless_equals_string (sk->nodes[1], "B");
  fail_unless_equals_int (sk->n_edges, 1);
  fail_unless_equals_int (sk->edges[0], 0);
  fail_unless_equals_int (sk->edges[1], 1);
  assert_close (inst->keypoints[0].x, 92.65220773208894);
  assert_close (inst->keypoints[0].y, 202.7259777426982);
  assert_close (inst->keypoints[1].x, 152.34188115939048);
  /* embedded video ".": the name comes from /video0/source_video */
  fail_unless_equals_string (g_ptr_array_index (l->videos, 0),
      "tests/data/json_format_v1/centered_pair_low_quality.mp4");
  fail_unless_equals_int (op_annotation_n_instances (&f->ann), 2);
  labels_free (l);
}

GST_END_TEST;

GST_START_TEST (test_legacy_shift)
{
  OpLabels *l = load_ok ("test_grid_labels.legacy.slp");
  OpInstance *inst = inst_at (frame_at (l, 0), 0);
  const gdouble want[3][2] = { {-1, -1}, {-0.5, -0.5}, {-1, 0} };
  guint k;

  fail_unless_equals_int (inst->n_keypoints, 3);
  for (k = 0; k < 3; k++) {
    fail_unless_equals_float (inst->keypoints[k].x, want[k][0]);
    fail_unless_equals_float (inst->keypoints[k].y, want[k][1]);
  }
  labels_free (l);
}

GST_END_TEST;

/* typical.slp: user instances from /points, the predicted one from
 * /pred_points, both starting at row 0 */
GST_START_TEST (test_separate_point_tables)
{
  OpLabels *l = load_ok ("typical.slp");
  const OpLabeledFrame *f = frame_at (l, 0);
  OpInstance *user = inst_at (f, 0), *pred = inst_at (f, 2);

  fail_unless_equals_int (op_annotation_n_instances (&f->ann), 3);
  fail_unless_equals_int (user->kind, OP_INSTANCE_USER);
  fail_unless_equals_string (user->track_name, "1");
  fail_unless_equals_string (inst_at (f, 1)->track_name, "2");
  fail_unless_equals_int (pred->kind, OP_INSTANCE_PREDICTED);
  fail_unless_equals_int (pred->track, -1);
  fail_unless (!isnan (pred->keypoints[0].score));
  fail_unless (isnan (user->keypoints[0].score));
  labels_free (l);
}

GST_END_TEST;

/* exactly equal, or both NaN */
static gboolean
same_double (gdouble a, gdouble b)
{
  return a == b || (isnan (a) && isnan (b));
}

static void
assert_same_labels (const OpLabels * a, const OpLabels * b)
{
  guint i, k, j;

  fail_unless_equals_int (a->n_frames, b->n_frames);
  for (i = 0; i < a->n_frames; i++) {
    const OpLabeledFrame *fa = frame_at (a, i), *fb = frame_at (b, i);
    fail_unless_equals_uint64 (fa->ann.frame_index, fb->ann.frame_index);
    fail_unless_equals_int (op_annotation_n_instances (&fa->ann),
        op_annotation_n_instances (&fb->ann));
    for (k = 0; k < op_annotation_n_instances (&fa->ann); k++) {
      OpInstance *ia = inst_at (fa, k), *ib = inst_at (fb, k);
      fail_unless_equals_int (ia->kind, ib->kind);
      fail_unless_equals_int (ia->track, ib->track);
      fail_unless_equals_string (ia->track_name, ib->track_name);
      fail_unless (same_double (ia->score, ib->score));
      for (j = 0; j < ia->n_keypoints; j++) {
        OpKeypoint *pa = &ia->keypoints[j], *pb = &ib->keypoints[j];
        fail_unless (pa->visible == pb->visible);
        fail_unless (same_double (pa->x, pb->x));
        fail_unless (same_double (pa->y, pb->y));
        fail_unless (same_double (pa->score, pb->score));
      }
    }
  }
}

/* the matlab and standard layouts of one export read identically, and
 * agree with the .slp they were exported from, slot by track */
GST_START_TEST (test_analysis_layouts)
{
  OpLabels *m = load_ok ("centered_pair_matlab.analysis.h5");
  OpLabels *s = load_ok ("centered_pair_standard.analysis.h5");
  OpLabels *p = load_ok ("centered_pair_predictions.slp");
  guint i, k, j, n_inst = 0;

  fail_unless_equals_string (m->format, "analysis-h5");
  fail_unless_equals_string (g_ptr_array_index (m->videos, 0),
      "tests/data/videos/centered_pair_low_quality.mp4");
  assert_same_labels (m, s);
  fail_unless_equals_int (m->n_frames, p->n_frames);
  for (i = 0; i < p->n_frames; i++) {
    const OpLabeledFrame *fp = frame_at (p, i), *fm = frame_at (m, i);
    fail_unless_equals_string (fm->ann.skeleton->nodes[5],
        fp->ann.skeleton->nodes[5]);
    for (k = 0; k < op_annotation_n_instances (&fp->ann); k++) {
      OpInstance *ip = inst_at (fp, k), *im = NULL;
      for (j = 0; j < op_annotation_n_instances (&fm->ann); j++)
        if (inst_at (fm, j)->track == ip->track)
          im = inst_at (fm, j);
      fail_unless (im != NULL, "frame %u track %d missing", i, ip->track);
      fail_unless_equals_string (im->track_name, ip->track_name);
      fail_unless_equals_int (im->kind, OP_INSTANCE_PREDICTED);
      assert_close (im->score, ip->score);
      for (j = 0; j < ip->n_keypoints; j++) {
        fail_unless (im->keypoints[j].visible == ip->keypoints[j].visible);
        if (ip->keypoints[j].visible) {
          assert_close (im->keypoints[j].x, ip->keypoints[j].x);
          assert_close (im->keypoints[j].y, ip->keypoints[j].y);
          assert_close (im->keypoints[j].score, ip->keypoints[j].score);
        }
      }
      n_inst++;
    }
  }
  fail_unless_equals_int (n_inst, 2274);
  labels_free (m);
  labels_free (s);
  labels_free (p);
}

GST_END_TEST;

/* layouts without dims: legacy matlab order and transpose=false; values
 * checked by hand with h5dump */
GST_START_TEST (test_analysis_legacy)
{
  OpLabels *l = load_ok ("legacy_nodims.analysis.h5");
  OpInstance *inst;

  fail_unless_equals_int (l->n_frames, 3);
  inst = inst_at (frame_at (l, 2), 0);
  fail_unless_equals_string (frame_at (l, 2)->ann.skeleton->nodes[1], "tail");
  assert_close (inst->keypoints[0].x, 102);
  assert_close (inst->keypoints[0].y, 202);
  assert_close (inst->keypoints[1].x, 152);
  assert_close (inst->keypoints[1].y, 252);
  assert_close (inst->score, 0.95);
  fail_unless_equals_string (inst->track_name, "animal1");
  labels_free (l);

  l = load_ok ("legacy_transpose_false.analysis.h5");
  fail_unless_equals_int (l->n_frames, 1);
  inst = inst_at (frame_at (l, 0), 0);
  assert_close (inst->keypoints[0].x, 100);
  assert_close (inst->keypoints[0].y, 150);
  assert_close (inst->keypoints[1].x, 200);
  assert_close (inst->keypoints[1].y, 250);
  assert_close (inst->keypoints[0].score, 0.9);
  fail_unless_equals_string (g_ptr_array_index (l->videos, 0),
      "legacy_video.mp4");
  labels_free (l);
}

GST_END_TEST;

GST_START_TEST (test_refused)
{
  gchar *path = data_path ("cropped_format_2_3.pkg.slp");
  GError *err = NULL;

  fail_unless (op_label_readers_load (path, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR,
          OP_LABELS_ERROR_UNSUPPORTED));
  fail_unless (g_str_has_prefix (err->message, path));
  fail_unless (strstr (err->message, "video_crops") != NULL);
  g_clear_error (&err);
  g_free (path);

  /* embedded images only: HDF5, but no labels */
  path = data_path ("vlen_multiframe.pkg.slp");
  fail_unless (op_label_readers_load (path, &err) == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT));
  fail_unless (strstr (err->message, "no /metadata") != NULL);
  g_clear_error (&err);
  g_free (path);
}

GST_END_TEST;

/* the readers' table still reaches JSON lines: a frame read from .slp,
 * written as annotation JSON, reads back the same */
GST_START_TEST (test_jsonl_round_trip)
{
  OpLabels *l = load_ok ("typical.slp"), *back;
  const OpLabeledFrame *f = frame_at (l, 0);
  gchar *json, *path = NULL;
  GError *err = NULL;
  gint fd = g_file_open_tmp ("onepass-rt-XXXXXX.jsonl", &path, NULL);
  OpAnnotation ann;

  fail_unless (fd >= 0);
  close (fd);
  /* a copy: the annotation owns its source */
  op_annotation_init (&ann);
  op_annotation_copy_into (&ann, &f->ann);
  op_annotation_set_source (&ann, "typical");
  json = op_annotation_to_json (&ann, TRUE);
  fail_unless (g_file_set_contents (path, json, -1, NULL));
  back = op_label_readers_load (path, &err);
  fail_unless (back != NULL, "%s", err ? err->message : "");
  fail_unless_equals_string (back->format, "jsonl");
  assert_same_labels (l, back);
  labels_free (back);
  labels_free (l);
  op_annotation_clear (&ann);
  g_free (json);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

static OpLabels *
load_text (const gchar * text, GError ** err, gchar ** path)
{
  gint fd = g_file_open_tmp ("onepass-size-XXXXXX.jsonl", path, NULL);
  OpLabels *l;

  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (*path, text, -1, NULL));
  l = op_label_readers_load (*path, err);
  g_unlink (*path);
  return l;
}

/* @data (@len bytes) gzipped into @path */
static void
write_gzip (const gchar * path, const gchar * data, gsize len)
{
  GConverter *z = G_CONVERTER (g_zlib_compressor_new
      (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6));
  gsize cap = len + 1024, nread, nwritten;
  gchar *out = g_malloc (cap);

  fail_unless (g_converter_convert (z, data, len, out, cap,
          G_CONVERTER_INPUT_AT_END, &nread, &nwritten, NULL)
      == G_CONVERTER_FINISHED);
  fail_unless (g_file_set_contents (path, out, nwritten, NULL));
  g_object_unref (z);
  g_free (out);
}

static void
assert_not_claimed (const gchar * path)
{
  GError *err = NULL;

  fail_unless (op_label_readers_load (path, &err) == NULL, "%s loaded", path);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT),
      "%s", err->message);
  fail_unless (g_str_has_prefix (err->message, path), "%s", err->message);
  fail_unless (strstr (err->message, "not a label file") != NULL, "%s",
      err->message);
  /* the table's formats, and no JSON-lines parse error */
  fail_unless (strstr (err->message, "SLEAP labels (.slp") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "onepass JSON lines") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "line 1") == NULL, "%s", err->message);
  g_clear_error (&err);
}

/* The JSON-lines probe claims only files whose first line is an
 * annotation: a COCO file (pretty or on one line) goes to the COCO reader,
 * a .csv.gz or any other gzip (a gzipped COCO file too) is "not a label
 * file"; real JSON lines still load, plain or gzip,
 * with a first line longer than the 1024 bytes the dispatcher peeks at. */
GST_START_TEST (test_jsonl_probe)
{
  const gchar *coco_pretty = "{\n  \"images\": [\n    {\"id\": 1, "
      "\"file_name\": \"a.jpg\", \"width\": 640, \"height\": 480}\n  ],\n"
      "  \"annotations\": [\n    {\"id\": 1, \"image_id\": 1, "
      "\"category_id\": 1, \"keypoints\": [1, 2, 2], \"num_keypoints\": 1}"
      "\n  ],\n  \"categories\": [{\"id\": 1, \"name\": \"mouse\"}]\n}\n";
  const gchar *coco_line = "{\"images\":[{\"id\":1,\"file_name\":\"a.jpg\"}],"
      "\"annotations\":[{\"id\":1,\"image_id\":1,\"frame_index\":3}],"
      "\"categories\":[]}";
  const gchar *csv = "frame,track,x,y\n0,0,1.5,2.5\n1,0,3.5,4.5\n";
  gchar *dir = g_dir_make_tmp ("onepass-probe-XXXXXX", NULL);
  gchar *p[6];
  GString *big = g_string_new ("{\"source\":\"");
  GError *err = NULL;
  OpLabels *l;
  guint i;

  p[0] = g_build_filename (dir, "coco.json", NULL);
  fail_unless (g_file_set_contents (p[0], coco_pretty, -1, NULL));
  p[1] = g_build_filename (dir, "coco_one_line.json", NULL);
  fail_unless (g_file_set_contents (p[1], coco_line, -1, NULL));
  p[2] = g_build_filename (dir, "tracks.csv.gz", NULL);
  write_gzip (p[2], csv, strlen (csv));
  p[3] = g_build_filename (dir, "coco.json.gz", NULL);
  write_gzip (p[3], coco_pretty, strlen (coco_pretty));
  /* the COCO reader claims COCO files by content, and its errors are
   * about COCO (these images have no frame), not a JSON-lines line 1 */
  for (i = 0; i < 2; i++) {
    fail_unless (op_label_readers_load (p[i], &err) == NULL);
    fail_unless (g_str_has_prefix (err->message, p[i]), "%s", err->message);
    fail_unless (strstr (err->message, "images[0] (id 1): no \"frame_index\""
            " and no number in its file name \"a.jpg\"") != NULL, "%s",
        err->message);
    fail_unless (strstr (err->message, "line 1") == NULL, "%s", err->message);
    g_clear_error (&err);
  }
  for (i = 2; i < 4; i++)
    assert_not_claimed (p[i]);

  /* a long first line (a 3000-character source name), plain and gzip */
  for (i = 0; i < 3000; i++)
    g_string_append_c (big, 'a' + i % 26);
  g_string_append (big, "\",\"frame_index\":7,\"instances\":[]}\n");
  p[4] = g_build_filename (dir, "long.jsonl", NULL);
  fail_unless (g_file_set_contents (p[4], big->str, -1, NULL));
  p[5] = g_build_filename (dir, "long.jsonl.gz", NULL);
  write_gzip (p[5], big->str, big->len);
  for (i = 4; i < 6; i++) {
    l = op_label_readers_load (p[i], &err);
    fail_unless (l != NULL, "%s", err ? err->message : "");
    fail_unless_equals_string (l->format, "jsonl");
    fail_unless_equals_int (l->n_frames, 1);
    fail_unless_equals_uint64 (frame_at (l, 0)->ann.frame_index, 7);
    labels_free (l);
  }
  for (i = 0; i < 6; i++) {
    g_unlink (p[i]);
    g_free (p[i]);
  }
  g_string_free (big, TRUE);
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

/* MOT text: 1-based frames and boxes become onepass frames and pixel-centre
 * coordinates; ids are tracks, conf the score (-1 none); the 9-field
 * ground-truth layout skips conf-0 lines; malformed files name the line. */
GST_START_TEST (test_mot)
{
  const gchar *tracker = "2, 7, 10.5, 20, 30, 40, 0.75, -1, -1, -1\n"
      "\n1,3,1,1,5,6,-1,-1,-1,-1\r\n1,-1,100,50,8,9,0.5,-1,-1,-1\n";
  const gchar *gt = "1,1,11,21,31,41,1,1,0.5\n1,2,5,5,5,5,0,8,1\n";
  const struct
  {
    const gchar *text, *want;
  } bad[] = {
    {"1,1,2,3,4,5,1,-1,-1,-1\n1,1,2,3,4,5,1,-1,-1\n",
        "line 2: 9 fields, but the first line has 10"},
    {"1,1,2,3,4,5,1,-1,-1,-1\n2,1,2,abc,4,5,1,-1,-1,-1\n",
        "line 2: field 4 (bb_top) \"abc\" is not a number"},
    {"1,1,2,3,4,5,1,-1,-1,-1\n0,1,2,3,4,5,1,-1,-1,-1\n",
        "line 2: frame \"0\" is not a 1-based frame number"},
    {"1,1,2,3,4,5,1,-1,-1,-1\n\n1,1,9,9,4,5,1,-1,-1,-1\n",
        "line 3: track 1 is in frame 1 twice (line 1 too)"},
    {"1,1,2,3,4,5,1,-1,-1,-1\n1,2,2,3,0,5,1,-1,-1,-1\n",
        "line 2: box 0 x 5 is empty"},
    {"1,1,2,3,4,5,1,-1,-1,-1\n1,2.5,2,3,4,5,1,-1,-1,-1\n",
        "line 2: id \"2.5\" is not a track id"},
  };
  GError *err = NULL;
  gchar *path;
  OpLabels *l;
  const OpLabeledFrame *f;
  OpInstance *inst;
  guint i;

  l = load_text (tracker, &err, &path);
  fail_unless (l != NULL, "%s", err ? err->message : "");
  g_free (path);
  fail_unless_equals_string (l->format, "mot");
  fail_unless_equals_int (l->warnings->len, 0);
  fail_unless_equals_int (l->n_frames, 2);
  f = frame_at (l, 0);
  fail_unless_equals_uint64 (f->ann.frame_index, 0);
  fail_unless (f->ann.skeleton == NULL);
  inst = inst_at (f, 0);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_DETECTION);
  fail_unless_equals_int (inst->track, 3);
  fail_unless (isnan (inst->score));
  fail_unless (inst->has_bbox);
  fail_unless_equals_int (inst->n_keypoints, 0);
  /* the 1-based pixel (1, 1) is onepass pixel (0, 0): corner at -0.5 */
  assert_close (inst->bbox[0], -0.5);
  assert_close (inst->bbox[1], -0.5);
  assert_close (inst->bbox[2], 5);
  assert_close (inst->bbox[3], 6);
  inst = inst_at (f, 1);
  fail_unless_equals_int (inst->track, -1);
  assert_close (inst->score, 0.5);
  assert_close (inst->bbox[0], 98.5);
  f = frame_at (l, 1);
  fail_unless_equals_uint64 (f->ann.frame_index, 1);
  inst = inst_at (f, 0);
  fail_unless_equals_int (inst->track, 7);
  assert_close (inst->score, 0.75);
  assert_close (inst->bbox[0], 9.0);
  assert_close (inst->bbox[1], 18.5);
  labels_free (l);

  l = load_text (gt, &err, &path);
  fail_unless (l != NULL, "%s", err ? err->message : "");
  g_free (path);
  fail_unless_equals_int (l->n_frames, 1);
  fail_unless_equals_int (op_annotation_n_instances (&frame_at (l, 0)->ann), 1);
  inst = inst_at (frame_at (l, 0), 0);
  fail_unless_equals_int (inst->track, 1);
  fail_unless (isnan (inst->score));
  fail_unless_equals_int (l->warnings->len, 1);
  fail_unless (strstr (g_ptr_array_index (l->warnings, 0), "1 ground-truth "
          "line(s) with conf 0") != NULL);
  labels_free (l);

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    l = load_text (bad[i].text, &err, &path);
    fail_unless (l == NULL, "%s loaded", bad[i].text);
    fail_unless (g_error_matches (err, OP_LABELS_ERROR,
            OP_LABELS_ERROR_CORRUPT), "%s", err->message);
    fail_unless (g_str_has_prefix (err->message, path), "%s", err->message);
    fail_unless (strstr (err->message, bad[i].want) != NULL, "%s",
        err->message);
    g_clear_error (&err);
    g_free (path);
  }
}

GST_END_TEST;

/* COCO: frames from frame_index or the file name's number, videos from the
 * folder, keypoints unchanged (pixel indices), boxes' corner -0.5, v 0/1/2,
 * detections without keypoints, scores make predictions, crowd skipped. */
GST_START_TEST (test_coco)
{
  const gchar *coco = "{\"info\": {},\n\"images\": ["
      "{\"id\": 7, \"file_name\": \"clipA/img_00012.png\", \"width\": 320, "
      "\"height\": 240},\n{\"id\": 8, \"file_name\": \"clipA/img_3.png\", "
      "\"width\": 320, \"height\": 240, \"frame_index\": 5}],\n"
      "\"annotations\": [\n"
      "{\"id\": 1, \"image_id\": 7, \"category_id\": 2, \"bbox\": [10, 20, "
      "30, 40]},\n{\"id\": 2, \"image_id\": 7, \"category_id\": 1, \"bbox\":"
      " [0, 0, 10, 10], \"keypoints\": [5, 6, 2, 7, 8, 1, 0, 0, 0], "
      "\"track_id\": 4},\n{\"id\": 3, \"image_id\": 8, \"category_id\": 1, "
      "\"keypoints\": [1, 2, 2, 3, 4, 2, 5.5, 6, 2], \"score\": 0.7},\n"
      "{\"id\": 4, \"image_id\": 8, \"category_id\": 1, \"iscrowd\": 1, "
      "\"bbox\": [1, 1, 1, 1]}],\n\"categories\": [{\"id\": 1, \"name\": "
      "\"mouse\", \"keypoints\": [\"nose\", \"ear\", \"tail\"], "
      "\"skeleton\": [[1, 2], [2, 3]]}, {\"id\": 2, \"name\": \"ball\"}]}\n";
  GError *err = NULL;
  gchar *path;
  OpLabels *l;
  const OpLabeledFrame *f;
  OpInstance *inst;
  guint w, h;

  l = load_text (coco, &err, &path);
  fail_unless (l != NULL, "%s", err ? err->message : "");
  g_free (path);
  fail_unless_equals_string (l->format, "coco");
  fail_unless_equals_int (l->videos->len, 1);
  fail_unless_equals_string (g_ptr_array_index (l->videos, 0), "clipA");
  fail_unless (op_labels_get_video_size (l, 0, &w, &h));
  fail_unless_equals_int (w, 320);
  fail_unless_equals_int (h, 240);
  fail_unless_equals_int (l->warnings->len, 1);
  fail_unless_equals_int (l->n_frames, 2);
  f = frame_at (l, 0);
  fail_unless_equals_uint64 (f->ann.frame_index, 5);
  fail_unless_equals_int (op_skeleton_get_n_nodes (f->ann.skeleton), 3);
  fail_unless_equals_int (f->ann.skeleton->n_edges, 2);
  fail_unless_equals_int (op_annotation_n_instances (&f->ann), 1);
  inst = inst_at (f, 0);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_PREDICTED);
  assert_close (inst->score, 0.7);
  fail_unless (!inst->has_bbox);
  assert_close (inst->keypoints[2].x, 5.5);
  assert_close (inst->keypoints[2].y, 6);
  fail_unless (inst->keypoints[2].visible);
  f = frame_at (l, 1);
  fail_unless_equals_uint64 (f->ann.frame_index, 12);
  fail_unless (f->ann.skeleton == frame_at (l, 0)->ann.skeleton);
  inst = inst_at (f, 0);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_DETECTION);
  fail_unless_equals_int (inst->track, -1);
  assert_close (inst->bbox[0], 9.5);
  assert_close (inst->bbox[1], 19.5);
  assert_close (inst->bbox[2], 30);
  fail_unless_equals_int (op_instance_count_present (inst), 0);
  inst = inst_at (f, 1);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_USER);
  fail_unless_equals_int (inst->track, 4);
  fail_unless (isnan (inst->score));
  assert_close (inst->bbox[0], -0.5);
  assert_close (inst->keypoints[0].x, 5);
  assert_close (inst->keypoints[0].y, 6);
  fail_unless (inst->keypoints[0].visible);
  assert_close (inst->keypoints[1].x, 7);
  fail_unless (!inst->keypoints[1].visible);
  fail_unless (isnan (inst->keypoints[2].x));
  labels_free (l);
}

GST_END_TEST;

/* DeepLabCut: the multi-animal 4-row header (with the "single" animal's
 * unique bodyparts), 3 index columns, frames from image names; a
 * prediction file's likelihoods; a non-numeric cell names line and column */
GST_START_TEST (test_dlc)
{
  const gchar *multi = "scorer,,,t,t,t,t,t,t\n"
      "individuals,,,a1,a1,a2,a2,single,single\n"
      "bodyparts,,,nose,nose,nose,nose,corner,corner\n"
      "coords,,,x,y,x,y,x,y\n"
      "labeled-data,vid,img1029.png,50,51,,,500.5,501\n"
      "labeled-data,vid,img0122.png,50,50,100,100,,\n";
  const gchar *pred = "scorer,D,D,D\nbodyparts,nose,nose,nose\n"
      "coords,x,y,likelihood\n0,1.5,2.5,0.25\n3,,,\n";
  const gchar *bad = "scorer,D,D,D\nbodyparts,nose,nose,nose\n"
      "coords,x,y,likelihood\n0,1.5,x2,0.25\n";
  GError *err = NULL;
  gchar *path;
  OpLabels *l;
  const OpLabeledFrame *f;
  OpInstance *inst;

  l = load_text (multi, &err, &path);
  fail_unless (l != NULL, "%s", err ? err->message : "");
  g_free (path);
  fail_unless_equals_string (l->format, "dlc");
  fail_unless_equals_string (g_ptr_array_index (l->videos, 0), "vid");
  fail_unless_equals_int (l->n_frames, 2);
  f = frame_at (l, 0);
  fail_unless_equals_uint64 (f->ann.frame_index, 122);
  fail_unless_equals_int (op_skeleton_get_n_nodes (f->ann.skeleton), 2);
  fail_unless_equals_string (op_skeleton_get_node_name (f->ann.skeleton, 1),
      "corner");
  fail_unless_equals_int (op_annotation_n_instances (&f->ann), 2);
  inst = inst_at (f, 1);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_USER);
  fail_unless_equals_int (inst->track, 1);
  fail_unless_equals_string (inst->track_name, "a2");
  assert_close (inst->keypoints[0].x, 100);
  fail_unless (isnan (inst->keypoints[1].x));
  f = frame_at (l, 1);
  fail_unless_equals_uint64 (f->ann.frame_index, 1029);
  inst = inst_at (f, 1);
  fail_unless_equals_string (inst->track_name, "single");
  fail_unless (isnan (inst->keypoints[0].x));
  assert_close (inst->keypoints[1].x, 500.5);
  assert_close (inst->keypoints[1].y, 501);
  labels_free (l);

  l = load_text (pred, &err, &path);
  fail_unless (l != NULL, "%s", err ? err->message : "");
  g_free (path);
  fail_unless_equals_int (l->n_frames, 1);
  inst = inst_at (frame_at (l, 0), 0);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_PREDICTED);
  fail_unless_equals_int (inst->track, -1);
  assert_close (inst->keypoints[0].score, 0.25);
  labels_free (l);

  fail_unless (load_text (bad, &err, &path) == NULL);
  fail_unless (strstr (err->message, "line 4, column 3 (nose y): \"x2\" is "
          "not a number") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (path);
}

GST_END_TEST;

/* JSON lines record each source's frame size; lines of one source that
 * disagree are an error naming both sizes and lines */
GST_START_TEST (test_jsonl_sizes)
{
  const gchar *ok_text =
      "{\"source\":\"a\",\"frame_index\":3,\"width\":640,\"height\":480,"
      "\"instances\":[]}\n"
      "{\"source\":\"b\",\"frame_index\":1,\"instances\":[]}\n"
      "{\"source\":\"a\",\"frame_index\":4,\"width\":640,\"height\":480,"
      "\"instances\":[]}\n"
      "{\"source\":\"a\",\"frame_index\":5,\"width\":0,\"height\":0,"
      "\"instances\":[]}\n";
  const gchar *bad_text =
      "{\"source\":\"a\",\"frame_index\":3,\"width\":640,\"height\":480,"
      "\"instances\":[]}\n"
      "{\"source\":\"a\",\"frame_index\":4,\"width\":384,\"height\":384,"
      "\"instances\":[]}\n";
  GError *err = NULL;
  gchar *path = NULL;
  guint w = 0, h = 0;
  OpLabels *l = load_text (ok_text, &err, &path);

  fail_unless (l != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (l->videos->len, 2);
  fail_unless (op_labels_get_video_size (l, 0, &w, &h));
  fail_unless_equals_int (w, 640);
  fail_unless_equals_int (h, 480);
  fail_unless (!op_labels_get_video_size (l, 1, &w, &h));
  labels_free (l);
  g_free (path);

  l = load_text (bad_text, &err, &path);
  fail_unless (l == NULL);
  fail_unless (g_error_matches (err, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT));
  fail_unless (strstr (err->message, "line 2: source \"a\" is 384x384, but "
          "line 1 gave it 640x480") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (path);
}

GST_END_TEST;

static const gchar *const real_files[] = {
  "centered_pair_predictions.slp", "cropped_format_2_3.pkg.slp",
  "labels.v002.slp", "minimal_instance.pkg.slp", "minimal_instance.slp",
  "py_written_27_category.slp", "test_grid_labels.legacy.slp", "typical.slp",
  "vlen_multiframe.pkg.slp", "centered_pair_matlab.analysis.h5",
  "centered_pair_standard.analysis.h5", "legacy_nodims.analysis.h5",
  "legacy_transpose_false.analysis.h5",
  "untracked_single_standard.analysis.h5",
};

/* loads @data as a file: labels or an error, never a crash; a failure
 * must say something */
static void
load_bytes (const gchar * dir, const gchar * name, const guint8 * data,
    gsize len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  GError *err = NULL;
  OpLabels *l;

  fail_unless (g_file_set_contents (path, (const gchar *) data, len, NULL));
  l = op_label_readers_load (path, &err);
  if (l) {
    labels_free (l);
  } else {
    fail_unless (err != NULL);
    fail_unless (g_str_has_prefix (err->message, path), "%s", err->message);
    g_clear_error (&err);
  }
  g_unlink (path);
  g_free (path);
}

GST_START_TEST (test_truncated)
{
  gchar *dir = g_dir_make_tmp ("onepass-trunc-XXXXXX", NULL);
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (real_files); i++) {
    gchar *path = data_path (real_files[i]), *data;
    gsize len;
    gsize cuts[7];

    fail_unless (g_file_get_contents (path, &data, &len, NULL), "%s", path);
    cuts[0] = 64;
    cuts[1] = 512;
    cuts[2] = 4096;
    cuts[3] = len / 4;
    cuts[4] = len / 2;
    cuts[5] = len / 10 * 9;
    cuts[6] = len - 1;
    for (k = 0; k < G_N_ELEMENTS (cuts); k++)
      if (cuts[k] < len)
        load_bytes (dir, real_files[i], (const guint8 *) data, cuts[k]);
    g_free (data);
    g_free (path);
  }
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

/* Loads @data in a child process (the onepass-labels tool): it must exit
 * 0 (labels) or 1 (an error naming the file), never die on a signal.
 * A child, because libhdf5 1.10.8 itself leaks an object header when
 * H5Fopen fails on some damaged files, which memcheck would blame on us. */
static void
load_bytes_child (const gchar * dir, const gchar * name, const guint8 * data,
    gsize len)
{
  const gchar *root = g_getenv ("ONEPASS_BUILD_ROOT");
  gchar *tool = g_build_filename (root ? root : ".", "tools", "onepass-labels",
      NULL);
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *argv[] = { tool, (gchar *) "--summary", path, NULL };
  gchar *err = NULL;
  gint status;
  GError *error = NULL;

  fail_unless (g_file_set_contents (path, (const gchar *) data, len, NULL));
  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
          NULL, NULL, NULL, &err, &status, &error), "%s: %s", tool,
      error ? error->message : "");
  fail_unless (WIFEXITED (status), "%s: the reader died (signal %d)", path,
      WIFSIGNALED (status) ? WTERMSIG (status) : 0);
  fail_unless (WEXITSTATUS (status) <= 1, "%s: exit %d", path,
      WEXITSTATUS (status));
  if (WEXITSTATUS (status) == 1)
    fail_unless (strstr (err, path) != NULL, "%s: %s", path, err);
  g_free (err);
  g_unlink (path);
  g_free (path);
  g_free (tool);
}

/* overwrite spans of the real files with pseudo-random bytes (fixed seed):
 * the readers must fail cleanly or read what survives */
GST_START_TEST (test_damaged)
{
  gchar *dir = g_dir_make_tmp ("onepass-damage-XXXXXX", NULL);
  GRand *rand = g_rand_new_with_seed (4242);
  guint i, k, j;

  for (i = 0; i < G_N_ELEMENTS (real_files); i++) {
    gchar *path = data_path (real_files[i]), *data;
    gsize len;

    fail_unless (g_file_get_contents (path, &data, &len, NULL), "%s", path);
    for (k = 0; k < 6; k++) {
      guint8 *copy = g_memdup2 (data, len);
      gsize off = g_rand_int_range (rand, 0, len);
      gsize span = MIN (len - off, (gsize) 1 << g_rand_int_range (rand, 0,
              10));
      for (j = 0; j < span; j++)
        copy[off + j] = g_rand_int_range (rand, 0, 256);
      load_bytes_child (dir, real_files[i], copy, len);
      g_free (copy);
    }
    g_free (data);
    g_free (path);
  }
  g_rand_free (rand);
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

static herr_t
counting_handler (hid_t stack, void *data)
{
  (*(guint *) data)++;
  return 0;
}

/* the HDF5 signature and nothing sensible after it, in process; the failed
 * open leaves libhdf5's error handler as the application set it, unused */
GST_START_TEST (test_junk)
{
  gchar *dir = g_dir_make_tmp ("onepass-junk-XXXXXX", NULL);
  guint8 junk[4096];
  gchar *path = g_build_filename (dir, "junk.h5", NULL);
  GError *err = NULL;
  H5E_auto2_t old_func, func;
  void *old_data, *data;
  guint calls = 0;
  guint j;

  memcpy (junk, "\211HDF\r\n\032\n", 8);
  for (j = 8; j < sizeof (junk); j++)
    junk[j] = (j * 7919) & 0xff;
  fail_unless (g_file_set_contents (path, (const gchar *) junk, sizeof (junk),
          NULL));
  H5Eget_auto2 (H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2 (H5E_DEFAULT, counting_handler, &calls);
  fail_unless (op_label_readers_load (path, &err) == NULL);
  fail_unless (g_str_has_prefix (err->message, path));
  fail_unless (strstr (err->message, "HDF5") != NULL, "%s", err->message);
  g_clear_error (&err);
  H5Eget_auto2 (H5E_DEFAULT, &func, &data);
  fail_unless (func == counting_handler && data == &calls);
  fail_unless_equals_int (calls, 0);
  H5Eset_auto2 (H5E_DEFAULT, old_func, old_data);
  g_unlink (path);
  g_free (path);
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

/* Track names belong to their label set and their instances: loading
 * label files with ever new names (a long-running application) leaves no
 * name behind once the labels and the metas are freed: nothing is
 * interned. */
GST_START_TEST (test_track_names_not_interned)
{
  gchar *dir = g_dir_make_tmp ("onepass-names-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "labels.jsonl", NULL);
  gchar *name = g_strdup_printf ("track-%08x-%08x", g_random_int (),
      g_random_int ());
  gchar *line = g_strdup_printf ("{\"source\":\"v\",\"frame_index\":3,"
      "\"pts\":null,\"width\":64,\"height\":48,\"skeleton\":{\"name\":\"s\","
      "\"nodes\":[\"a\"],\"edges\":[]},\"instances\":[{\"track\":7,"
      "\"track_name\":\"%s\",\"kind\":\"user\",\"score\":null,\"bbox\":null,"
      "\"keypoints\":[[1.5,2.5,1,null]]}]}\n", name);
  GError *err = NULL;
  OpLabels *l;
  OpAnnotation ann;
  guint round;

  fail_unless (g_file_set_contents (path, line, -1, NULL));
  for (round = 0; round < 2; round++) {
    /* in this process and through the label loader */
    g_setenv ("ONEPASS_LABEL_LOADER", round ? "" : "in-process", TRUE);
    l = op_label_readers_load (path, &err);
    fail_unless (l != NULL, "%s", err ? err->message : "");
    fail_unless_equals_int (l->n_frames, 1);
    op_labels_get_annotation (l, &l->frames[0], &ann);
    fail_unless_equals_string (op_annotation_get_instance (&ann,
            0)->track_name, name);
    labels_free (l);
    /* the meta's copy outlives the labels */
    fail_unless_equals_string (op_annotation_get_instance (&ann,
            0)->track_name, name);
    op_annotation_clear (&ann);
  }
  g_unsetenv ("ONEPASS_LABEL_LOADER");
  fail_unless (g_quark_try_string (name) == 0,
      "the track name %s was interned", name);
  g_unlink (path);
  g_rmdir (dir);
  g_free (line);
  g_free (name);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

static Suite *
labelreaders_suite (void)
{
  Suite *s = suite_create ("labelreaders");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_unsorted_frames);
  tcase_add_test (tc, test_replaced_predictions);
  tcase_add_test (tc, test_predictions);
  tcase_add_test (tc, test_skeleton_order);
  tcase_add_test (tc, test_legacy_shift);
  tcase_add_test (tc, test_separate_point_tables);
  tcase_add_test (tc, test_analysis_layouts);
  tcase_add_test (tc, test_analysis_legacy);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_jsonl_round_trip);
  tcase_add_test (tc, test_jsonl_sizes);
  tcase_add_test (tc, test_jsonl_probe);
  tcase_add_test (tc, test_track_names_not_interned);
  tcase_add_test (tc, test_mot);
  tcase_add_test (tc, test_coco);
  tcase_add_test (tc, test_dlc);
  tcase_add_test (tc, test_truncated);
  tcase_add_test (tc, test_damaged);
  tcase_add_test (tc, test_junk);
  return s;
}

GST_CHECK_MAIN (labelreaders);
