/* Unit tests: OpAnnotation, coordinate maps, source names. */
#include <gst/check/gstcheck.h>
#include <onepass/onepass.h>

static OpSkeleton *
make_skeleton (void)
{
  const gchar *nodes[] = { "head", "thorax", "abdomen" };
  OpSkeleton *sk = op_skeleton_new ("fly", nodes, 3);

  op_skeleton_add_edge (sk, 0, 1);
  op_skeleton_add_edge (sk, 1, 2);
  return sk;
}

GST_START_TEST (test_coord_maps)
{
  gint rect[4] = { 350, 170, 190, 190 };
  gdouble cx, cy, x, y;

  /* the design's formula, evaluated by hand */
  op_frame_to_crop (rect, 328, 328, 412.3, 230.1, &cx, &cy);
  fail_unless_equals_float (cx, (412.3 + 0.5 - 350) * 328 / 190 - 0.5);
  fail_unless_equals_float (cy, (230.1 + 0.5 - 170) * 328 / 190 - 0.5);
  op_crop_to_frame (rect, 328, 328, cx, cy, &x, &y);
  fail_unless (fabs (x - 412.3) < 1e-9 && fabs (y - 230.1) < 1e-9);

  /* the rect's corner pixel edge maps to the crop's corner edge */
  op_frame_to_crop (rect, 328, 328, 349.5, 169.5, &cx, &cy);
  fail_unless_equals_float (cx, -0.5);
  fail_unless_equals_float (cy, -0.5);

  /* scaling: image corner stays the corner, centres move by the ratio */
  fail_unless_equals_float (op_coord_scale (-0.5, 1280, 640), -0.5);
  fail_unless_equals_float (op_coord_scale (1279.5, 1280, 640), 639.5);
  fail_unless_equals_float (op_coord_scale (100.0, 1280, 640), 49.75);
  /* an unchanged size is the identity, bit for bit */
  fail_unless (op_coord_scale (0.1, 640, 640) == 0.1);
  fail_unless (isnan (op_coord_scale (NAN, 640, 320)));
}

GST_END_TEST;

GST_START_TEST (test_instance_crop_round_trip)
{
  gint rect[4] = { 350, 170, 190, 190 };
  OpInstance inst;

  op_instance_init (&inst, OP_INSTANCE_USER, 2);
  inst.keypoints[0] = (OpKeypoint) {
  412.3, 230.1, TRUE, NAN};
  inst.has_bbox = TRUE;
  inst.bbox[0] = 401.5;
  inst.bbox[1] = 220.0;
  inst.bbox[2] = 88.0;
  inst.bbox[3] = 95.0;
  op_instance_frame_to_crop (&inst, rect, 328, 328);
  fail_unless_equals_float (inst.keypoints[0].x,
      (412.3 + 0.5 - 350) * 328 / 190 - 0.5);
  fail_unless (isnan (inst.keypoints[1].x));
  fail_unless_equals_float (inst.bbox[2], 88.0 * 328 / 190);
  op_instance_crop_to_frame (&inst, rect, 328, 328);
  fail_unless (fabs (inst.keypoints[0].x - 412.3) < 1e-9);
  fail_unless (fabs (inst.keypoints[0].y - 230.1) < 1e-9);
  fail_unless (fabs (inst.bbox[0] - 401.5) < 1e-9);
  fail_unless (fabs (inst.bbox[3] - 95.0) < 1e-9);
  op_instance_clear (&inst);
}

GST_END_TEST;

GST_START_TEST (test_rescale_frame_and_crop)
{
  OpSkeleton *sk = make_skeleton ();
  OpAnnotation ann;
  OpInstance *inst;

  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, sk);
  ann.width = 1280;
  ann.height = 720;
  inst = op_annotation_add_instance (&ann, OP_INSTANCE_USER);
  inst->keypoints[0] = (OpKeypoint) {
  100.0, 200.0, TRUE, NAN};
  inst->has_bbox = TRUE;
  inst->bbox[0] = 90;
  inst->bbox[1] = 190;
  inst->bbox[2] = 40;
  inst->bbox[3] = 60;

  op_annotation_rescale (&ann, 640, 360);
  inst = op_annotation_get_instance (&ann, 0);
  fail_unless_equals_int (ann.width, 640);
  fail_unless_equals_int (ann.height, 360);
  fail_unless_equals_float (inst->keypoints[0].x, 100.5 * 0.5 - 0.5);
  fail_unless_equals_float (inst->keypoints[0].y, 200.5 * 0.5 - 0.5);
  fail_unless (isnan (inst->keypoints[1].x));
  fail_unless_equals_float (inst->bbox[0], 90.5 * 0.5 - 0.5);
  fail_unless_equals_float (inst->bbox[2], 20.0);

  /* a crop rescales in crop space; the rect stays in frame space */
  ann.has_crop = TRUE;
  ann.crop = (OpCropInfo) {
    0, {
    10, 20, 190, 190}
  , 328, 328};
  op_annotation_rescale (&ann, 164, 82);
  fail_unless_equals_int (ann.crop.width, 164);
  fail_unless_equals_int (ann.crop.height, 82);
  fail_unless_equals_int (ann.crop.rect[2], 190);
  fail_unless_equals_int (ann.width, 640);

  op_annotation_clear (&ann);
  op_skeleton_unref (sk);
}

GST_END_TEST;

GST_START_TEST (test_copy_shares_skeleton)
{
  OpSkeleton *sk = make_skeleton ();
  OpAnnotation a, b;

  op_annotation_init (&a);
  op_annotation_init (&b);
  op_annotation_set_skeleton (&a, sk);
  op_annotation_add_instance (&a, OP_INSTANCE_PREDICTED)->keypoints[2].x = 5;
  op_annotation_copy_into (&b, &a);
  fail_unless (b.skeleton == sk);
  fail_unless_equals_int (sk->refcount, 3);
  fail_unless (op_annotation_get_instance (&b, 0)->keypoints !=
      op_annotation_get_instance (&a, 0)->keypoints);
  fail_unless_equals_float (op_annotation_get_instance (&b, 0)->keypoints[2].x,
      5.0);
  op_annotation_clear (&a);
  op_annotation_clear (&b);
  fail_unless_equals_int (sk->refcount, 1);
  op_skeleton_unref (sk);
}

GST_END_TEST;

GST_START_TEST (test_instance_present_and_bounds)
{
  OpInstance inst;
  gdouble b[4];

  op_instance_init (&inst, OP_INSTANCE_USER, 3);
  fail_unless_equals_int (op_instance_count_present (&inst), 0);
  fail_if (op_instance_bounds (&inst, b));
  inst.keypoints[0] = (OpKeypoint) {
  10, 20, TRUE, NAN};
  /* visible but NaN, and real but invisible: neither counts */
  inst.keypoints[1] = (OpKeypoint) {
  NAN, NAN, TRUE, NAN};
  inst.keypoints[2] = (OpKeypoint) {
  50, 60, FALSE, NAN};
  fail_unless_equals_int (op_instance_count_present (&inst), 1);
  inst.keypoints[2].visible = TRUE;
  fail_unless (op_instance_bounds (&inst, b));
  fail_unless_equals_float (b[0], 10);
  fail_unless_equals_float (b[1], 20);
  fail_unless_equals_float (b[2], 40);
  fail_unless_equals_float (b[3], 40);
  op_instance_clear (&inst);
}

GST_END_TEST;

GST_START_TEST (test_source_names)
{
  const gchar *cases[][2] = {
    {"/data/videos/clip.mp4", "clip"},
    {"file:///data/my%20clip.v2.mp4", "my_clip_v2"},
    {"C:\\labs\\fly 1.avi", "fly_1"},
    {"rtsp://cam/stream?x=1", "stream"},
    {"noext", "noext"},
    {"/v/2023.05.01_mouse3.mp4", "2023_05_01_mouse3"},
    {"/v/cam.1 left.mp4", "cam_1_left"},
    {"/v/m\xc3\xa4use \xc3\xbc.mp4", "m_use__"},
    {"", "unknown"},
    /* multifilesrc's URIs: named from the pattern, without the number */
    {"multifle:///data/seq/img_%2505d.png", "img"},
    {"multifile:///data/seq/robot_%25d.jpg", "robot"},
    {"multifle:///data/seq/cam2-frame%2504d.png", "cam2-frame"},
    {"multifle:///data/seq/%2505d_left.png", "left"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *s = op_source_name_from_uri (cases[i][0]);
    fail_unless_equals_string (s, cases[i][1]);
    g_free (s);
  }
}

GST_END_TEST;

static Suite *
annotation_suite (void)
{
  Suite *s = suite_create ("annotation");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_coord_maps);
  tcase_add_test (tc, test_rescale_frame_and_crop);
  tcase_add_test (tc, test_instance_crop_round_trip);
  tcase_add_test (tc, test_copy_shares_skeleton);
  tcase_add_test (tc, test_instance_present_and_bounds);
  tcase_add_test (tc, test_source_names);
  return s;
}

GST_CHECK_MAIN (annotation);
