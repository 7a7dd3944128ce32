/* onepass: annotaugment tests: exact flips in every format family, labels
 * moved and swapped, copies and keys, errors; runs under valgrind.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/opmeta.h>
#include <onepass/opjson.h>

#define W 32
#define H 24

static OpSkeleton *skeleton;    /* head, wingL, wingR; wingL <-> wingR */
static OpSkeleton *plain_skeleton;      /* the same nodes, no symmetries */

static void
setup (void)
{
  const gchar *nodes[] = { "head", "wingL", "wingR" };

  skeleton = op_skeleton_new ("fly", nodes, 3);
  op_skeleton_add_edge (skeleton, 0, 1);
  op_skeleton_add_symmetry (skeleton, 1, 2);
  plain_skeleton = op_skeleton_new ("fly", nodes, 3);
}

static void
teardown (void)
{
  g_clear_pointer (&skeleton, op_skeleton_unref);
  g_clear_pointer (&plain_skeleton, op_skeleton_unref);
}

/* head (10, 5), wingL (6, 8), wingR (14, 9); box [3, 2, 20, 15] */
static void
scene (OpAnnotation * ann, OpSkeleton * sk)
{
  OpInstance *inst;

  op_annotation_init (ann);
  op_annotation_set_skeleton (ann, sk);
  op_annotation_set_source (ann, "clip");
  op_annotation_set_frame_index (ann, 7);
  op_annotation_set_size (ann, W, H);
  inst = op_annotation_add_instance (ann, OP_INSTANCE_USER);
  op_instance_set_keypoint (inst, 0, 10, 5, TRUE, NAN);
  op_instance_set_keypoint (inst, 1, 6, 8, TRUE, NAN);
  op_instance_set_keypoint (inst, 2, 14, 9, TRUE, NAN);
  op_instance_set_bbox (inst, 3, 2, 20, 15);
}

static GstHarness *
harness (const gchar * format, const gchar * props)
{
  gchar *desc = g_strdup_printf ("annotaugment %s", props);
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", format, W, H);
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps_str (h, caps);
  g_free (desc);
  g_free (caps);
  return h;
}

/* A value no two samples of one component share along a row or column,
 * so any misplaced pixel shows. */
static guint8
pattern (guint c, guint x, guint y)
{
  return (guint8) (x * 7 + y * 31 + c * 50 + 1);
}

static GstBuffer *
frame_buffer (const gchar * format, const OpAnnotation * ann)
{
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *buf;
  guint c, x, y;

  gst_video_info_set_format (&info, gst_video_format_from_string (format), W,
      H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_memset (buf, 0, 0, GST_VIDEO_INFO_SIZE (&info));
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE));
  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&f); c++)
    for (y = 0; y < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&f, c); y++)
      for (x = 0; x < (guint) GST_VIDEO_FRAME_COMP_WIDTH (&f, c); x++)
        ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (&f, c))[y *
            GST_VIDEO_FRAME_COMP_STRIDE (&f, c) + x *
            GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c)] = pattern (c, x, y);
  gst_video_frame_unmap (&f);
  if (ann)
    op_buffer_add_annotation_meta (buf, ann);
  return buf;
}

static guint8
comp (GstVideoFrame * f, guint c, gint x, gint y)
{
  return ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (f, c))[y *
      GST_VIDEO_FRAME_COMP_STRIDE (f, c) + x *
      GST_VIDEO_FRAME_COMP_PSTRIDE (f, c)];
}

static void
assert_keypoint (const OpInstance * inst, guint k, gdouble x, gdouble y)
{
  fail_unless (fabs (inst->keypoints[k].x - x) < 1e-9
      && fabs (inst->keypoints[k].y - y) < 1e-9
      && inst->keypoints[k].visible, "node %u at (%g, %g), want (%g, %g)", k,
      inst->keypoints[k].x, inst->keypoints[k].y, x, y);
}

/* hflip=1 (and vflip=1) on @format: every component of every pixel is
 * the mirrored input's (chroma planes too: 32 x 24 has even 4:2:0 planes),
 * the wings swap on the mirror and not on the 180 degree turn, the box is
 * mirrored, the copy is marked augment=1. */
static void
check_flip (const gchar * format, gboolean both)
{
  GstHarness *h = harness (format, both ? "hflip=1 vflip=1" : "hflip=1");
  GstVideoInfo info;
  GstVideoFrame f;
  OpAnnotation ann;
  const OpAnnotation *out;
  const OpInstance *inst;
  GstBuffer *buf;
  guint c, x, y;

  scene (&ann, skeleton);
  fail_unless_equals_int (gst_harness_push (h, frame_buffer (format, &ann)),
      GST_FLOW_OK);
  buf = gst_harness_pull (h);
  gst_video_info_set_format (&info, gst_video_format_from_string (format), W,
      H);
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&f); c++) {
    guint cw = GST_VIDEO_FRAME_COMP_WIDTH (&f, c);
    guint ch = GST_VIDEO_FRAME_COMP_HEIGHT (&f, c);

    for (y = 0; y < ch; y++)
      for (x = 0; x < cw; x++)
        fail_unless_equals_int (comp (&f, c, x, y), pattern (c, cw - 1 - x,
                both ? ch - 1 - y : y));
  }
  gst_video_frame_unmap (&f);

  out = op_buffer_get_annotation (buf);
  fail_unless (out != NULL);
  fail_unless_equals_int (out->augment, 1);
  inst = op_annotation_get_instance (out, 0);
  assert_keypoint (inst, 0, W - 1 - 10, both ? H - 1 - 5 : 5);
  if (both) {
    assert_keypoint (inst, 1, W - 1 - 6, H - 1 - 8);
    assert_keypoint (inst, 2, W - 1 - 14, H - 1 - 9);
  } else {
    /* the left wing is where the right one was, mirrored */
    assert_keypoint (inst, 1, W - 1 - 14, 9);
    assert_keypoint (inst, 2, W - 1 - 6, 8);
  }
  fail_unless (inst->has_bbox);
  fail_unless (fabs (inst->bbox[0] - (W - 1 - 23)) < 1e-9
      && fabs (inst->bbox[1] - (both ? H - 1 - 17 : 2)) < 1e-9
      && fabs (inst->bbox[2] - 20) < 1e-9 && fabs (inst->bbox[3] - 15) < 1e-9,
      "box [%g, %g, %g, %g]", inst->bbox[0], inst->bbox[1], inst->bbox[2],
      inst->bbox[3]);
  gst_buffer_unref (buf);
  op_annotation_clear (&ann);
  gst_harness_teardown (h);
}

GST_START_TEST (test_flips_every_format)
{
  const gchar *formats[] = { "RGB", "BGR", "RGBA", "BGRA", "ARGB", "ABGR",
    "RGBx", "xBGR", "GRAY8", "I420", "YV12", "NV12", "NV21"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    check_flip (formats[i], FALSE);
    check_flip (formats[i], TRUE);
  }
}

GST_END_TEST;

/* A point leaving the image becomes missing (x = -0.5 maps to W - 0.5,
 * just outside); a box is clipped to the image, and one left with no area
 * is removed. */
GST_START_TEST (test_missing_and_boxes)
{
  GstHarness *h = harness ("GRAY8", "hflip=1");
  OpAnnotation ann;
  OpInstance *inst, *other;
  const OpInstance *o;
  GstBuffer *buf;

  scene (&ann, skeleton);
  inst = op_annotation_get_instance (&ann, 0);
  op_instance_set_keypoint (inst, 0, -0.5, 3, TRUE, 0.5);
  op_instance_set_keypoint (inst, 1, -0.49, 3, TRUE, NAN);
  op_instance_set_bbox (inst, -10, 5, 30, 10);
  other = op_annotation_add_instance (&ann, OP_INSTANCE_PREDICTED);
  op_instance_set_bbox (other, -20, 5, 10, 5);
  fail_unless_equals_int (gst_harness_push (h, frame_buffer ("GRAY8", &ann)),
      GST_FLOW_OK);
  buf = gst_harness_pull (h);
  o = op_annotation_get_instance (op_buffer_get_annotation (buf), 0);
  fail_unless (isnan (o->keypoints[0].x) && isnan (o->keypoints[0].y)
      && !o->keypoints[0].visible);
  /* wingL (-0.49, 3) is inside: W - 1 + 0.49 < W - 0.5; now wingR */
  assert_keypoint (o, 2, W - 1 + 0.49, 3);
  fail_unless (o->has_bbox);
  fail_unless (fabs (o->bbox[0] - 11) < 1e-9 && fabs (o->bbox[2] - 20.5)
      < 1e-9, "box [%g, %g, %g, %g]", o->bbox[0], o->bbox[1], o->bbox[2],
      o->bbox[3]);
  o = op_annotation_get_instance (op_buffer_get_annotation (buf), 1);
  fail_if (o->has_bbox, "a box moved out of the image was kept");
  gst_buffer_unref (buf);
  op_annotation_clear (&ann);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* copies=3 include-original=true: the input itself first (the same
 * buffer), then copies marked augment 1, 2, 3 in the JSON. */
GST_START_TEST (test_copies)
{
  GstHarness *h = harness ("RGB", "copies=3 include-original=true "
      "rotate=30 seed=5");
  OpAnnotation ann;
  GstBuffer *in, *out;
  guint k;

  scene (&ann, skeleton);
  in = frame_buffer ("RGB", &ann);
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  for (k = 0; k < 4; k++) {
    gchar *json, *want;

    out = gst_harness_pull (h);
    if (k == 0)
      fail_unless (out == in, "the original is not the input buffer");
    fail_unless_equals_int (op_buffer_get_annotation (out)->augment, k);
    json = op_buffer_get_annotation_json (out);
    want = g_strdup_printf ("\"augment\":%u", k);
    if (k == 0)
      fail_if (strstr (json, "\"augment\"") != NULL, "%s", json);
    else
      fail_unless (strstr (json, want) != NULL, "%s", json);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_BUFFER_PTS (in));
    g_free (json);
    g_free (want);
    gst_buffer_unref (out);
  }
  gst_buffer_unref (in);
  op_annotation_clear (&ann);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The JSON's "augment" reads back; a bad one is refused. */
GST_START_TEST (test_augment_json)
{
  OpAnnotation ann;

  op_annotation_init (&ann);
  fail_unless (op_annotation_from_json (&ann,
          "{\"frame_index\": 1, \"augment\": 3, \"instances\": []}", -1,
          NULL, NULL));
  fail_unless_equals_int (ann.augment, 3);
  fail_unless (op_annotation_from_json (&ann,
          "{\"frame_index\": 1, \"instances\": []}", -1, NULL, NULL));
  fail_unless_equals_int (ann.augment, 0);
  fail_if (op_annotation_from_json (&ann,
          "{\"frame_index\": 1, \"augment\": -1, \"instances\": []}", -1,
          NULL, NULL));
  op_annotation_clear (&ann);
}

GST_END_TEST;

/* The same seed and sample give the same bytes; the copies differ. */
GST_START_TEST (test_seed)
{
  const gchar *props = "copies=2 rotate=180 scale=0.3 translate=0.2 "
      "brightness=0.2 contrast=0.2 hflip=0.5 seed=9";
  GstHarness *a = harness ("RGB", props), *b = harness ("RGB", props);
  OpAnnotation ann;
  GstMapInfo ma, mb;
  guint k;
  GstBuffer *first = NULL;

  scene (&ann, skeleton);
  gst_harness_push (a, frame_buffer ("RGB", &ann));
  gst_harness_push (b, frame_buffer ("RGB", &ann));
  for (k = 0; k < 2; k++) {
    GstBuffer *x = gst_harness_pull (a), *y = gst_harness_pull (b);

    gst_buffer_map (x, &ma, GST_MAP_READ);
    gst_buffer_map (y, &mb, GST_MAP_READ);
    fail_unless (ma.size == mb.size && memcmp (ma.data, mb.data, ma.size)
        == 0, "copy %u differs between two runs", k + 1);
    gst_buffer_unmap (y, &mb);
    if (first) {
      GstMapInfo mf;

      gst_buffer_map (first, &mf, GST_MAP_READ);
      fail_if (memcmp (mf.data, ma.data, ma.size) == 0,
          "copies 1 and 2 are the same");
      gst_buffer_unmap (first, &mf);
    }
    gst_buffer_unmap (x, &ma);
    gst_buffer_unref (y);
    if (first)
      gst_buffer_unref (x);
    else
      first = x;
  }
  gst_buffer_unref (first);
  op_annotation_clear (&ann);
  gst_harness_teardown (a);
  gst_harness_teardown (b);
}

GST_END_TEST;

/* Flips on a skeleton without symmetries: an error, unless the property
 * gives them (or says none); an unknown node in it is an error. */
GST_START_TEST (test_symmetries)
{
  struct
  {
    const gchar *props;
    GstFlowReturn want;
  } cases[] = {
    {"hflip=0.5", GST_FLOW_ERROR},
    {"hflip=1 symmetries=none", GST_FLOW_OK},
    {"hflip=1 symmetries=wingL:wingR", GST_FLOW_OK},
    {"hflip=1 symmetries=wingL:tail", GST_FLOW_ERROR},
    {"rotate=10", GST_FLOW_OK},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstHarness *h = harness ("GRAY8", cases[i].props);
    OpAnnotation ann;

    scene (&ann, plain_skeleton);
    fail_unless_equals_int (gst_harness_push (h, frame_buffer ("GRAY8",
                &ann)), cases[i].want);
    if (cases[i].want == GST_FLOW_OK && strstr (cases[i].props, "wingL:")) {
      GstBuffer *buf = gst_harness_pull (h);

      assert_keypoint (op_annotation_get_instance (op_buffer_get_annotation
              (buf), 0), 1, W - 1 - 14, 9);
      gst_buffer_unref (buf);
    }
    op_annotation_clear (&ann);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* A crop: its crop meta and its annotation meta (the crop as a frame) are
 * both moved; the crop rect stays; a size mismatch is an error. */
GST_START_TEST (test_crop_and_size)
{
  GstHarness *h = harness ("GRAY8", "hflip=1");
  OpAnnotation ann, crop;
  GstBuffer *buf;
  const OpAnnotation *c;
  OpCropMeta *cm;

  scene (&ann, skeleton);
  op_annotation_init (&crop);
  op_annotation_copy_into (&crop, &ann);
  op_annotation_set_size (&crop, 640, 480);
  op_annotation_set_crop (&crop, 0, 100, 50, W, H, W, H);
  buf = frame_buffer ("GRAY8", &ann);
  op_buffer_add_crop_meta (buf, &crop);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = gst_harness_pull (h);
  cm = op_buffer_get_crop_meta (buf);
  fail_unless (cm != NULL);
  c = &cm->ann;
  fail_unless (c->crop.rect[0] == 100 && c->crop.rect[1] == 50
      && c->crop.rect[2] == W && c->crop.rect[3] == H);
  fail_unless_equals_int (c->augment, 1);
  assert_keypoint (op_annotation_get_instance (c, 0), 1, W - 1 - 14, 9);
  assert_keypoint (op_annotation_get_instance (&op_buffer_get_annotation_meta
          (buf)->ann, 0), 1, W - 1 - 14, 9);
  gst_buffer_unref (buf);
  op_annotation_clear (&crop);

  op_annotation_set_size (&ann, W / 2, H);
  fail_unless_equals_int (gst_harness_push (h, frame_buffer ("GRAY8", &ann)),
      GST_FLOW_ERROR);
  op_annotation_clear (&ann);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A GRAY8 input with a 64-byte stride given by its video meta (what a
 * decoder's padded pool hands over) is read through the meta. */
GST_START_TEST (test_video_meta_stride)
{
  GstHarness *h = harness ("GRAY8", "hflip=1");
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 64 };
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * H, NULL);
  GstVideoInfo info;
  GstVideoFrame f;
  GstMapInfo m;
  guint x, y;

  gst_buffer_map (buf, &m, GST_MAP_WRITE);
  for (y = 0; y < H; y++)
    for (x = 0; x < 64; x++)
      m.data[y * 64 + x] = x < W ? pattern (0, x, y) : 0xee;
  gst_buffer_unmap (buf, &m);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_GRAY8, W, H, 1, offset, stride);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = gst_harness_pull (h);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_READ));
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      fail_unless_equals_int (comp (&f, 0, x, y), pattern (0, W - 1 - x, y));
  gst_video_frame_unmap (&f);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
annotaugment_suite (void)
{
  Suite *s = suite_create ("annotaugment");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_flips_every_format);
  tcase_add_test (tc, test_missing_and_boxes);
  tcase_add_test (tc, test_copies);
  tcase_add_test (tc, test_augment_json);
  tcase_add_test (tc, test_seed);
  tcase_add_test (tc, test_symmetries);
  tcase_add_test (tc, test_crop_and_size);
  tcase_add_test (tc, test_video_meta_stride);
  return s;
}

GST_CHECK_MAIN (annotaugment);
