/* Unit tests: the annotation and crop metas on buffers and through stock
 * elements (videoconvert, videoscale, jpegenc, pngenc, videocrop). */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/onepass.h>

static OpSkeleton *skeleton;

static void
setup (void)
{
  const gchar *nodes[] = { "snout", "tail" };

  skeleton = op_skeleton_new ("mouse", nodes, 2);
  op_skeleton_add_edge (skeleton, 0, 1);
}

static void
teardown (void)
{
  g_clear_pointer (&skeleton, op_skeleton_unref);
}

static void
fill_annotation (OpAnnotation * ann, guint w, guint h)
{
  OpInstance *inst;

  op_annotation_init (ann);
  op_annotation_set_skeleton (ann, skeleton);
  ann->source = g_intern_string ("clip");
  ann->frame_index = 42;
  ann->pts = 42 * GST_SECOND / 30;
  ann->width = w;
  ann->height = h;
  inst = op_annotation_add_instance (ann, OP_INSTANCE_USER);
  inst->track = 3;
  inst->keypoints[0] = (OpKeypoint) { 100.25, 50.75, TRUE, NAN };
  inst->has_bbox = TRUE;
  inst->bbox[0] = 90;
  inst->bbox[1] = 40;
  inst->bbox[2] = 30;
  inst->bbox[3] = 20;
}

static GstBuffer *
annotated_frame (guint w, guint h)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, w * h * 4, NULL);
  OpAnnotation ann;

  gst_buffer_memset (buf, 0, 0x80, w * h * 4);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  fill_annotation (&ann, w, h);
  op_buffer_add_annotation_meta (buf, &ann);
  op_annotation_clear (&ann);
  return buf;
}

GST_START_TEST (test_add_get_and_tags)
{
  GstBuffer *buf = annotated_frame (64, 48);
  OpAnnotationMeta *m = op_buffer_get_annotation_meta (buf);
  const gchar *const *tags;

  fail_unless (m != NULL);
  fail_unless (op_buffer_get_crop_meta (buf) == NULL);
  fail_unless (op_buffer_get_annotation (buf) == &m->ann);
  fail_unless (m->ann.skeleton == skeleton);
  fail_unless_equals_int (op_annotation_n_instances (&m->ann), 1);
  tags = gst_meta_api_type_get_tags (OP_ANNOTATION_META_API_TYPE);
  fail_unless (gst_meta_api_type_has_tag (OP_ANNOTATION_META_API_TYPE,
          g_quark_from_string (GST_META_TAG_VIDEO_STR)));
  fail_unless (gst_meta_api_type_has_tag (OP_CROP_META_API_TYPE,
          g_quark_from_string (GST_META_TAG_VIDEO_STR)));
  fail_unless (tags != NULL);
  gst_buffer_unref (buf);
}
GST_END_TEST;

GST_START_TEST (test_buffer_copy)
{
  GstBuffer *buf = annotated_frame (64, 48);
  GstBuffer *copy = gst_buffer_copy (buf);
  GstBuffer *deep = gst_buffer_copy_deep (buf);
  OpAnnotationMeta *a = op_buffer_get_annotation_meta (buf);
  OpAnnotationMeta *b = op_buffer_get_annotation_meta (copy);
  OpAnnotationMeta *c = op_buffer_get_annotation_meta (deep);
  gchar *ja, *jb, *jc;

  fail_unless (b != NULL && c != NULL && b != a);
  /* shared skeleton, not copied per frame */
  fail_unless (b->ann.skeleton == skeleton && c->ann.skeleton == skeleton);
  ja = op_annotation_to_json (&a->ann, TRUE);
  jb = op_annotation_to_json (&b->ann, TRUE);
  jc = op_annotation_to_json (&c->ann, TRUE);
  fail_unless_equals_string (ja, jb);
  fail_unless_equals_string (ja, jc);
  /* the copy is independent */
  op_annotation_get_instance (&b->ann, 0)->keypoints[0].x = 1;
  fail_unless_equals_float (op_annotation_get_instance (&a->ann,
          0)->keypoints[0].x, 100.25);
  g_free (ja);
  g_free (jb);
  g_free (jc);
  gst_buffer_unref (copy);
  gst_buffer_unref (deep);
  gst_buffer_unref (buf);
}
GST_END_TEST;

GST_START_TEST (test_region_copy_drops_meta)
{
  GstBuffer *buf = annotated_frame (64, 48);
  GstBuffer *part = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, 16, 64);

  fail_unless (op_buffer_get_annotation_meta (part) == NULL);
  gst_buffer_unref (part);
  gst_buffer_unref (buf);
}
GST_END_TEST;

static GstBuffer *
run_through (const gchar * launch, const gchar * caps, GstBuffer * in)
{
  GstHarness *h = gst_harness_new_parse (launch);
  GstBuffer *out;

  gst_harness_set_src_caps_str (h, caps);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  gst_harness_teardown (h);
  return out;
}

#define RGBA_640x480 \
  "video/x-raw,format=RGBA,width=640,height=480,framerate=30/1"

GST_START_TEST (test_survives_videoconvert)
{
  GstBuffer *out = run_through ("videoconvert ! capsfilter caps=video/x-raw,format=I420",
      RGBA_640x480, annotated_frame (640, 480));
  OpAnnotationMeta *m = op_buffer_get_annotation_meta (out);
  OpInstance *inst;

  fail_unless (m != NULL);
  inst = op_annotation_get_instance (&m->ann, 0);
  /* no size change: exactly the same numbers */
  fail_unless (inst->keypoints[0].x == 100.25);
  fail_unless (inst->keypoints[0].y == 50.75);
  fail_unless_equals_int (m->ann.width, 640);
  gst_buffer_unref (out);
}
GST_END_TEST;

GST_START_TEST (test_videoscale_rescales)
{
  GstBuffer *out = run_through ("videoscale ! capsfilter caps=video/x-raw,width=320,height=360",
      RGBA_640x480, annotated_frame (640, 480));
  OpAnnotationMeta *m = op_buffer_get_annotation_meta (out);
  OpInstance *inst;

  fail_unless (m != NULL);
  inst = op_annotation_get_instance (&m->ann, 0);
  fail_unless_equals_int (m->ann.width, 320);
  fail_unless_equals_int (m->ann.height, 360);
  /* the design: pixel centres at integers, x' = (x + 0.5) * W'/W - 0.5 */
  fail_unless_equals_float (inst->keypoints[0].x, (100.25 + 0.5) * 0.5 - 0.5);
  fail_unless_equals_float (inst->keypoints[0].y,
      (50.75 + 0.5) * 360.0 / 480.0 - 0.5);
  fail_unless (isnan (inst->keypoints[1].x));
  fail_unless_equals_float (inst->bbox[0], (90 + 0.5) * 0.5 - 0.5);
  fail_unless_equals_float (inst->bbox[2], 15.0);
  fail_unless_equals_float (inst->bbox[3], 15.0);
  fail_unless_equals_int (inst->track, 3);
  fail_unless_equals_uint64 (m->ann.frame_index, 42);
  gst_buffer_unref (out);
}
GST_END_TEST;

GST_START_TEST (test_crop_meta_through_videoscale)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 328 * 328 * 4, NULL);
  OpAnnotation ann;
  OpCropMeta *m;
  GstBuffer *out;
  OpInstance *inst;

  gst_buffer_memset (buf, 0, 0, 328 * 328 * 4);
  GST_BUFFER_PTS (buf) = 0;
  fill_annotation (&ann, 1280, 720);
  ann.has_crop = TRUE;
  ann.crop = (OpCropInfo) { 0, { 80, 30, 40, 40 }, 328, 328 };
  op_buffer_add_crop_meta (buf, &ann);
  op_annotation_clear (&ann);

  out = run_through ("videoscale ! capsfilter caps=video/x-raw,width=164,height=164",
      "video/x-raw,format=RGBA,width=328,height=328,framerate=0/1", buf);
  m = op_buffer_get_crop_meta (out);
  fail_unless (m != NULL);
  fail_unless (m->ann.has_crop);
  fail_unless_equals_int (m->ann.crop.width, 164);
  fail_unless_equals_int (m->ann.crop.rect[2], 40);
  fail_unless_equals_int (m->ann.width, 1280);
  inst = op_annotation_get_instance (&m->ann, 0);
  fail_unless_equals_float (inst->keypoints[0].x, (100.25 + 0.5) * 0.5 - 0.5);
  gst_buffer_unref (out);
}
GST_END_TEST;

static void
check_encoder_keeps (const gchar * launch)
{
  GstBuffer *out = run_through (launch, RGBA_640x480,
      annotated_frame (640, 480));
  OpAnnotationMeta *m = op_buffer_get_annotation_meta (out);

  fail_unless (m != NULL, "%s dropped the meta", launch);
  fail_unless (op_annotation_get_instance (&m->ann, 0)->keypoints[0].x ==
      100.25);
  fail_unless (m->ann.skeleton == skeleton);
  gst_buffer_unref (out);
}

GST_START_TEST (test_survives_jpegenc)
{
  check_encoder_keeps ("videoconvert ! jpegenc");
}
GST_END_TEST;

GST_START_TEST (test_survives_pngenc)
{
  check_encoder_keeps ("videoconvert ! capsfilter caps=video/x-raw,format=RGB ! pngenc");
}
GST_END_TEST;

GST_START_TEST (test_videocrop_drops)
{
  /* cropping moves the origin; a meta it cannot fix must not survive */
  GstBuffer *out = run_through ("videocrop left=10", RGBA_640x480,
      annotated_frame (640, 480));

  fail_unless (op_buffer_get_annotation_meta (out) == NULL);
  gst_buffer_unref (out);
}
GST_END_TEST;

static Suite *
meta_suite (void)
{
  Suite *s = suite_create ("meta");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_add_get_and_tags);
  tcase_add_test (tc, test_buffer_copy);
  tcase_add_test (tc, test_region_copy_drops_meta);
  tcase_add_test (tc, test_survives_videoconvert);
  tcase_add_test (tc, test_videoscale_rescales);
  tcase_add_test (tc, test_crop_meta_through_videoscale);
  tcase_add_test (tc, test_survives_jpegenc);
  tcase_add_test (tc, test_survives_pngenc);
  tcase_add_test (tc, test_videocrop_drops);
  return s;
}

GST_CHECK_MAIN (meta);
