/* Unit tests: the annotation JSON, both ways. */
#include <gst/check/gstcheck.h>
#include <onepass/onepass.h>
#include <string.h>

static OpSkeleton *
make_skeleton (void)
{
  const gchar *nodes[] = { "head", "thorax" };
  OpSkeleton *sk = op_skeleton_new ("fly", nodes, 2);

  op_skeleton_add_edge (sk, 0, 1);
  return sk;
}

/* the design's example object, field for field */
static const gchar *design_example =
    "{\"source\": \"clip\", \"frame_index\": 12, \"pts\": 480000000, "
    "\"width\": 1024, \"height\": 1024,"
    " \"skeleton\": {\"name\": \"fly\", \"nodes\": [\"head\", \"thorax\"], "
    "\"edges\": [[0, 1]]},"
    " \"instances\": ["
    "   {\"track\": 1, \"track_name\": \"male\", \"kind\": \"user\", "
    "\"score\": null, \"bbox\": [401.5, 220.0, 88.0, 96.5],"
    "    \"keypoints\": [[412.3, 230.1, 1, null], [null, null, 0, null]]}"
    " ],"
    " \"crop\": {\"instance\": 0, \"rect\": [350, 170, 190, 190], "
    "\"width\": 328, \"height\": 328}}";

GST_START_TEST (test_parse_design_example)
{
  OpAnnotation ann;
  GError *err = NULL;
  OpInstance *inst;

  op_annotation_init (&ann);
  fail_unless (op_annotation_from_json (&ann, design_example, -1, NULL, &err));
  fail_unless_equals_string (ann.source, "clip");
  fail_unless_equals_uint64 (ann.frame_index, 12);
  fail_unless_equals_uint64 (ann.pts, 480000000);
  fail_unless_equals_int (ann.width, 1024);
  fail_unless_equals_string (ann.skeleton->name, "fly");
  fail_unless_equals_int (ann.skeleton->n_nodes, 2);
  fail_unless_equals_string (ann.skeleton->nodes[1], "thorax");
  fail_unless_equals_int (ann.skeleton->n_edges, 1);
  fail_unless_equals_int (op_annotation_n_instances (&ann), 1);
  inst = op_annotation_get_instance (&ann, 0);
  fail_unless_equals_int (inst->track, 1);
  fail_unless_equals_string (inst->track_name, "male");
  fail_unless_equals_int (inst->kind, OP_INSTANCE_USER);
  fail_unless (isnan (inst->score));
  fail_unless (inst->has_bbox);
  fail_unless_equals_float (inst->bbox[3], 96.5);
  fail_unless_equals_float (inst->keypoints[0].x, 412.3);
  fail_unless_equals_float (inst->keypoints[0].y, 230.1);
  fail_unless (inst->keypoints[0].visible);
  fail_unless (isnan (inst->keypoints[0].score));
  fail_unless (isnan (inst->keypoints[1].x));
  fail_if (inst->keypoints[1].visible);
  fail_unless (ann.has_crop);
  fail_unless_equals_int (ann.crop.rect[0], 350);
  fail_unless_equals_int (ann.crop.width, 328);
  op_annotation_clear (&ann);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_exact)
{
  OpSkeleton *sk = make_skeleton ();
  OpAnnotation a, b;
  OpInstance *inst;
  gchar *j1, *j2;
  GError *err = NULL;

  op_annotation_init (&a);
  op_annotation_set_skeleton (&a, sk);
  op_annotation_set_source (&a, "centered_pair");
  a.frame_index = 1099;
  a.pts = 73266666666;
  a.width = 384;
  a.height = 384;
  inst = op_annotation_add_instance (&a, OP_INSTANCE_PREDICTED);
  inst->track = 26;
  op_instance_set_track_name (inst, "track_26 \"quoted\"\n");
  inst->score = 0.1 + 0.2;      /* needs 17 digits */
  inst->keypoints[0] = (OpKeypoint) {
  1.0 / 3.0, -0.5, TRUE, 0.912345678901};
  inst->keypoints[1] = (OpKeypoint) {
  NAN, NAN, FALSE, NAN};
  inst = op_annotation_add_instance (&a, OP_INSTANCE_DETECTION);
  inst->has_bbox = TRUE;
  inst->bbox[0] = 1e-300;
  inst->bbox[1] = 383.99999999999994;
  inst->bbox[2] = 12;
  inst->bbox[3] = 0;
  inst->keypoints[0] = (OpKeypoint) {
  5e-324, 2.5, TRUE, NAN};

  j1 = op_annotation_to_json (&a, TRUE);
  op_annotation_init (&b);
  fail_unless (op_annotation_from_json (&b, j1, -1, NULL, &err), "%s: %s", j1,
      err ? err->message : "");
  j2 = op_annotation_to_json (&b, TRUE);
  fail_unless_equals_string (j1, j2);

  /* the values themselves, bit for bit */
  inst = op_annotation_get_instance (&b, 0);
  fail_unless (inst->score == 0.1 + 0.2);
  fail_unless (inst->keypoints[0].x == 1.0 / 3.0);
  fail_unless (inst->keypoints[0].score == 0.912345678901);
  fail_unless (isnan (inst->keypoints[1].x) && isnan (inst->keypoints[1].y));
  fail_unless_equals_string (inst->track_name, "track_26 \"quoted\"\n");
  inst = op_annotation_get_instance (&b, 1);
  fail_unless_equals_int (inst->kind, OP_INSTANCE_DETECTION);
  fail_unless (inst->bbox[0] == 1e-300);
  fail_unless (inst->bbox[1] == 383.99999999999994);
  fail_unless (inst->keypoints[0].x == 5e-324);
  fail_unless (op_skeleton_equal (b.skeleton, sk));
  fail_unless_equals_uint64 (b.pts, 73266666666);

  /* missing keypoints are written as nulls */
  fail_unless (strstr (j1, "[null,null,0,null]") != NULL, "%s", j1);
  fail_unless (strstr (j1, "\"crop\"") == NULL);

  g_free (j1);
  g_free (j2);
  op_annotation_clear (&a);
  op_annotation_clear (&b);
  op_skeleton_unref (sk);
}

GST_END_TEST;

GST_START_TEST (test_skeleton_fallback_is_shared)
{
  OpSkeleton *sk = make_skeleton ();
  OpAnnotation a, b;
  gchar *with, *without;

  op_annotation_init (&a);
  op_annotation_set_skeleton (&a, sk);
  op_annotation_add_instance (&a, OP_INSTANCE_USER);
  with = op_annotation_to_json (&a, TRUE);
  without = op_annotation_to_json (&a, FALSE);
  fail_unless (strstr (without, "skeleton") == NULL);

  op_annotation_init (&b);
  fail_unless (op_annotation_from_json (&b, without, -1, sk, NULL));
  fail_unless (b.skeleton == sk);
  /* an equal skeleton written out again is shared, not duplicated */
  fail_unless (op_annotation_from_json (&b, with, -1, sk, NULL));
  fail_unless (b.skeleton == sk);
  g_free (with);
  g_free (without);
  op_annotation_clear (&a);
  op_annotation_clear (&b);
  op_skeleton_unref (sk);
}

GST_END_TEST;

GST_START_TEST (test_parse_errors)
{
  const gchar *bad[] = {
    "",
    "not json",
    "[1, 2]",
    "{\"instances\": []}",
    "{\"frame_index\": -3, \"instances\": []}",
    "{\"frame_index\": 1.5, \"instances\": []}",
    "{\"frame_index\": 1}",
    "{\"frame_index\": 1, \"instances\": [{\"keypoints\": [[1, 2, 1, null]]}]}",
    "{\"frame_index\": 1, \"skeleton\": {\"nodes\": [\"a\"]}, "
        "\"instances\": [{\"keypoints\": [[1, \"x\", 1, null]]}]}",
    "{\"frame_index\": 1, \"skeleton\": {\"nodes\": [\"a\"], \"edges\": [[0, 1]]},"
        " \"instances\": []}",
    "{\"frame_index\": 1, \"instances\": [{\"kind\": \"robot\"}]}",
    "{\"frame_index\": 1, \"instances\": [{\"kind\": \"detection\", "
        "\"bbox\": [1, 2, 3]}]}",
    "{\"frame_index\": 1, \"instances\": [], \"crop\": {\"instance\": 0, "
        "\"rect\": [0, 0, 10, 10], \"width\": 8, \"height\": 8}}",
    "{\"frame_index\": 1, \"instances\": [{\"kind\": \"detection\"}], "
        "\"crop\": {\"instance\": 0, \"rect\": [0, 0, 0, 10], \"width\": 8, "
        "\"height\": 8}}",
    /* a crop of no pixels (issue 21: its points had no coordinates) */
    "{\"frame_index\": 1, \"instances\": [{\"kind\": \"user\", "
        "\"keypoints\": [[1, 2, 1, null]]}], \"skeleton\": {\"nodes\": "
        "[\"a\"]}, \"crop\": {\"instance\": 0, \"rect\": [0, 0, 10, 10], "
        "\"width\": 0, \"height\": 8}}",
    "{\"frame_index\": 1, \"instances\": [{\"kind\": \"detection\"}], "
        "\"crop\": {\"instance\": 0, \"rect\": [0, 0, 10, 10], \"width\": 8, "
        "\"height\": 0}}",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    OpAnnotation ann;
    GError *err = NULL;

    op_annotation_init (&ann);
    fail_if (op_annotation_from_json (&ann, bad[i], -1, NULL, &err),
        "accepted: %s", bad[i]);
    fail_unless (err != NULL && err->domain == OP_ANNOTATION_ERROR);
    fail_unless (err->message && *err->message);
    g_error_free (err);
    op_annotation_clear (&ann);
  }
}

GST_END_TEST;

GST_START_TEST (test_detection_without_keypoints)
{
  OpAnnotation ann;
  const gchar *j = "{\"frame_index\": 7, \"instances\": [{\"kind\": "
      "\"detection\", \"score\": 0.5, \"bbox\": [1, 2, 3, 4]}]}";

  op_annotation_init (&ann);
  fail_unless (op_annotation_from_json (&ann, j, -1, NULL, NULL));
  fail_unless_equals_int (op_annotation_get_instance (&ann, 0)->n_keypoints, 0);
  fail_unless_equals_float (op_annotation_get_instance (&ann, 0)->score, 0.5);
  fail_unless (ann.skeleton == NULL);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (ann.pts));
  op_annotation_clear (&ann);
}

GST_END_TEST;

/* The optional source size: written only when known, read back. */
GST_START_TEST (test_source_size_optional)
{
  OpAnnotation ann, back;
  gchar *j;

  op_annotation_init (&ann);
  op_annotation_set_source (&ann, "clip");
  ann.width = 192;
  ann.height = 108;
  j = op_annotation_to_json (&ann, FALSE);
  fail_if (strstr (j, "source_width") != NULL, "%s", j);
  g_free (j);
  ann.source_width = 1920;
  ann.source_height = 1080;
  j = op_annotation_to_json (&ann, FALSE);
  fail_unless (strstr (j, ",\"source_width\":1920,\"source_height\":1080")
      != NULL, "%s", j);
  op_annotation_init (&back);
  fail_unless (op_annotation_from_json (&back, j, -1, NULL, NULL));
  fail_unless_equals_int (back.source_width, 1920);
  fail_unless_equals_int (back.source_height, 1080);
  fail_unless_equals_int (back.width, 192);
  fail_if (op_annotation_from_json (&back,
          "{\"frame_index\": 1, \"source_width\": -3, \"instances\": []}",
          -1, NULL, NULL));
  op_annotation_clear (&back);
  op_annotation_clear (&ann);
  g_free (j);
}

GST_END_TEST;

/* Key-safe names: [A-Za-z0-9_-], one '_' per character, never a dot. */
GST_START_TEST (test_name_sanitize)
{
  const gchar *cases[][2] = {
    {"cam.1 left", "cam_1_left"}, {"2023.05.01_mouse3", "2023_05_01_mouse3"},
    {"m\xc3\xa4use \xc3\xbc", "m_use__"}, {"../x", "___x"},
    {"bad\xff\xfe", "bad__"}, {"", "unknown"}, {"ok_Name-9", "ok_Name-9"}
  };
  guint i;
  gchar *s;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    s = op_name_sanitize (cases[i][0], 0);
    fail_unless_equals_string (s, cases[i][1]);
    fail_unless (op_name_is_safe (s));
    g_free (s);
  }
  s = op_name_sanitize (NULL, 0);
  fail_unless_equals_string (s, "unknown");
  g_free (s);
  s = op_name_sanitize ("abcdef", 3);
  fail_unless_equals_string (s, "abc");
  g_free (s);
  fail_if (op_name_is_safe ("a.b"));
  fail_if (op_name_is_safe (""));
}

GST_END_TEST;

static Suite *
json_suite (void)
{
  Suite *s = suite_create ("json");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_design_example);
  tcase_add_test (tc, test_roundtrip_exact);
  tcase_add_test (tc, test_skeleton_fallback_is_shared);
  tcase_add_test (tc, test_parse_errors);
  tcase_add_test (tc, test_detection_without_keypoints);
  tcase_add_test (tc, test_source_size_optional);
  tcase_add_test (tc, test_name_sanitize);
  return s;
}

GST_CHECK_MAIN (json);
