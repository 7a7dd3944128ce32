/* onepass: annotoverlay tests: pixel-exact drawing in every format family.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/opmeta.h>

#define W 32
#define H 24

static OpSkeleton *skeleton;

static void
setup (void)
{
  const gchar *nodes[] = { "head", "thorax", "abdomen" };

  skeleton = op_skeleton_new ("fly", nodes, 3);
  op_skeleton_add_edge (skeleton, 0, 1);
  op_skeleton_add_edge (skeleton, 1, 2);        /* to the missing abdomen */
}

static void
teardown (void)
{
  g_clear_pointer (&skeleton, op_skeleton_unref);
}

/* The scene: one instance, keypoints (10, 5) and (20, 5), the abdomen
 * missing (NaN), box [3, 2, 20, 15]. */
static void
scene (OpAnnotation * ann, OpInstanceKind kind, gint track)
{
  OpInstance *inst;

  op_annotation_init (ann);
  op_annotation_set_skeleton (ann, skeleton);
  op_annotation_set_source (ann, "clip");
  op_annotation_set_size (ann, W, H);
  inst = op_annotation_add_instance (ann, kind);
  inst->track = track;
  op_instance_set_keypoint (inst, 0, 10, 5, TRUE, NAN);
  op_instance_set_keypoint (inst, 1, 20, 5, TRUE, NAN);
  op_instance_set_keypoint (inst, 2, NAN, NAN, FALSE, NAN);
  op_instance_set_bbox (inst, 3, 2, 20, 15);
}

/* Which pixels the scene paints with line-width=1 point-radius=1, filled
 * points: enumerated by hand, not by the element's geometry code. */
static gboolean
painted (gint x, gint y)
{
  gboolean box = ((y == 2 || y == 17) && x >= 3 && x <= 23) ||
      ((x == 3 || x == 23) && y >= 2 && y <= 17);
  gboolean edge = y == 5 && x >= 10 && x <= 20;
  gboolean points = (abs (x - 10) + abs (y - 5) <= 1) ||
      (abs (x - 20) + abs (y - 5) <= 1);

  return box || edge || points;
}

static GstHarness *
harness (const gchar * format, const gchar * props)
{
  gchar *desc = g_strdup_printf ("annotoverlay %s", props);
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", format, W, H);
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps_str (h, caps);
  g_free (desc);
  g_free (caps);
  return h;
}

/* A frame of @format filled with the component values @bg (per component,
 * alpha included), the scene's annotation attached. */
static GstBuffer *
frame_buffer (const gchar * format, const guint8 bg[4],
    const OpAnnotation * ann)
{
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *buf;
  guint c, x, y;

  gst_video_info_set_format (&info, gst_video_format_from_string (format), W,
      H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE));
  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&f); c++)
    for (y = 0; y < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&f, c); y++)
      for (x = 0; x < (guint) GST_VIDEO_FRAME_COMP_WIDTH (&f, c); x++)
        ((guint8 *) GST_VIDEO_FRAME_COMP_DATA (&f, c))[y *
            GST_VIDEO_FRAME_COMP_STRIDE (&f, c) + x *
            GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c)] = bg[c];
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

/* Draws the scene on @format and checks every pixel of every component:
 * @fg where painted() (for chroma: where any of the 2x2 luma pixels is),
 * @bg elsewhere. */
static void
check_scene (const gchar * format, gint track, const guint8 bg[4],
    const guint8 fg[4])
{
  GstHarness *h = harness (format, "line-width=1 point-radius=1");
  OpAnnotation ann;
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *out;
  guint c;
  gint x, y;

  scene (&ann, OP_INSTANCE_USER, track);
  out = gst_harness_push_and_pull (h, frame_buffer (format, bg, &ann));
  op_annotation_clear (&ann);
  fail_unless (out != NULL);
  gst_video_info_set_format (&info, gst_video_format_from_string (format), W,
      H);
  fail_unless (gst_video_frame_map (&f, &info, out, GST_MAP_READ));
  for (c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&f); c++) {
    gint ws = GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, c);
    gint hs = GST_VIDEO_FORMAT_INFO_H_SUB (info.finfo, c);

    for (y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (&f, c); y++)
      for (x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH (&f, c); x++) {
        gboolean p = FALSE;
        gint i, j;

        for (j = y << hs; j < (y + 1) << hs; j++)
          for (i = x << ws; i < (x + 1) << ws; i++)
            p |= painted (i, j);
        fail_unless_equals_int_hex (comp (&f, c, x, y), p ? fg[c] : bg[c]);
      }
  }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* track 2 is tab10 green (44, 160, 44); track 3 red (214, 39, 40); BT.601
 * limited YUV of red is (95, 103, 205), full-range luma of green 112 */
GST_START_TEST (test_rgb_exact)
{
  const guint8 bg[4] = { 1, 2, 3, 0 };
  const guint8 rgb[4] = { 44, 160, 44, 0 };
  const guint8 bgr[4] = { 44, 160, 44, 0 };
  const guint8 bgrx_bg[4] = { 1, 2, 3, 7 };
  const guint8 rgba[4] = { 44, 160, 44, 255 };

  check_scene ("RGB", 2, bg, rgb);
  /* components are addressed as R, G, B whatever the memory order */
  check_scene ("BGR", 2, bg, bgr);
  check_scene ("RGBA", 2, bgrx_bg, rgba);
  check_scene ("xBGR", 2, bg, rgb);
}

GST_END_TEST;

GST_START_TEST (test_i420_exact)
{
  const guint8 bg[4] = { 16, 128, 128, 0 };
  const guint8 red[4] = { 95, 103, 205, 0 };
  const guint8 white[4] = { 235, 128, 128, 0 };

  check_scene ("I420", 3, bg, red);
  check_scene ("YV12", 3, bg, red);
  check_scene ("I420", -1, bg, white);
}

GST_END_TEST;

GST_START_TEST (test_nv12_exact)
{
  const guint8 bg[4] = { 16, 128, 128, 0 };
  const guint8 red[4] = { 95, 103, 205, 0 };

  check_scene ("NV12", 3, bg, red);
  check_scene ("NV21", 3, bg, red);
}

GST_END_TEST;

GST_START_TEST (test_gray8_exact)
{
  const guint8 bg[4] = { 7, 0, 0, 0 };
  const guint8 green[4] = { 112, 0, 0, 0 };

  check_scene ("GRAY8", 2, bg, green);
}

GST_END_TEST;

static GstVideoFrame *
pull_rgb (GstHarness * h, GstBuffer * in, GstVideoFrame * f)
{
  GstVideoInfo info;
  GstBuffer *out = gst_harness_push_and_pull (h, in);

  fail_unless (out != NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, W, H);
  fail_unless (gst_video_frame_map (f, &info, out, GST_MAP_READ));
  gst_buffer_unref (out);       /* the frame holds it */
  return f;
}

static gboolean
is_bg (GstVideoFrame * f, gint x, gint y)
{
  return comp (f, 0, x, y) == 0 && comp (f, 1, x, y) == 0 &&
      comp (f, 2, x, y) == 0;
}

/* Predicted: dashed box (4 on, 3 off from each corner), hollow points whose
 * own pixel keeps the image. */
GST_START_TEST (test_predicted_style)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "line-width=1 point-radius=1");
  OpAnnotation ann;
  GstVideoFrame f;

  scene (&ann, OP_INSTANCE_PREDICTED, 0);
  pull_rgb (h, frame_buffer ("RGB", black, &ann), &f);
  op_annotation_clear (&ann);
  /* top side from x = 3: dash 3..7, gap 8..9, dash 10..14 */
  fail_if (is_bg (&f, 3, 2));
  fail_if (is_bg (&f, 7, 2));
  fail_unless (is_bg (&f, 8, 2));
  fail_unless (is_bg (&f, 9, 2));
  fail_if (is_bg (&f, 10, 2));
  /* the ring around (20, 5): its 4 neighbours painted, its centre not
   * (nor by the edge, which ends there... the edge covers row 5 up to 20) */
  fail_if (is_bg (&f, 20, 4));
  fail_if (is_bg (&f, 20, 6));
  fail_if (is_bg (&f, 21, 5));
  fail_unless (is_bg (&f, 30, 5));
  fail_unless_equals_int (comp (&f, 0, 20, 4), 31);     /* track 0: blue */
  fail_unless_equals_int (comp (&f, 2, 20, 4), 180);
  gst_video_frame_unmap (&f);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Detection: only the box's corners, a quarter of the shorter side (15 / 4
 * = 3.75) from each; hollow points. */
GST_START_TEST (test_detection_style)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "line-width=1 point-radius=1");
  OpAnnotation ann;
  GstVideoFrame f;

  scene (&ann, OP_INSTANCE_DETECTION, 0);
  pull_rgb (h, frame_buffer ("RGB", black, &ann), &f);
  op_annotation_clear (&ann);
  /* top side x = 3..23: corner marks over 3..6.75 and 19.25..23 */
  fail_if (is_bg (&f, 3, 2));
  fail_if (is_bg (&f, 7, 2));
  fail_unless (is_bg (&f, 8, 2));
  fail_unless (is_bg (&f, 18, 2));
  fail_if (is_bg (&f, 19, 2));
  /* left side y = 2..17: marks over 2..5.75 and 13.25..17 */
  fail_if (is_bg (&f, 3, 6));
  fail_unless (is_bg (&f, 3, 7));
  fail_unless (is_bg (&f, 3, 12));
  fail_if (is_bg (&f, 3, 13));
  /* the ring around (10, 5); its centre is on the edge */
  fail_if (is_bg (&f, 10, 4));
  gst_video_frame_unmap (&f);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A hollow point off any edge leaves its own pixel untouched; a NaN point
 * and the edges to it draw nothing. */
GST_START_TEST (test_hollow_and_nan)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "point-radius=2");
  OpAnnotation ann;
  OpInstance *inst;
  GstVideoFrame f;
  gint x, y, n = 0;

  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, skeleton);
  op_annotation_set_size (&ann, W, H);
  inst = op_annotation_add_instance (&ann, OP_INSTANCE_PREDICTED);
  op_instance_set_keypoint (inst, 0, NAN, NAN, FALSE, NAN);
  op_instance_set_keypoint (inst, 1, 15, 10, TRUE, 0.5);
  op_instance_set_keypoint (inst, 2, NAN, NAN, FALSE, NAN);
  pull_rgb (h, frame_buffer ("RGB", black, &ann), &f);
  op_annotation_clear (&ann);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      gdouble d2 = (x - 15) * (x - 15) + (y - 10) * (y - 10);
      gboolean ring = d2 <= 4 && d2 > 1;

      fail_unless_equals_int (!is_bg (&f, x, y), ring);
      n += ring;
    }
  fail_unless_equals_int (n, 8);
  fail_unless_equals_int (comp (&f, 0, 15, 8), 255);    /* untracked: white */
  gst_video_frame_unmap (&f);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_color_by_node)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "point-radius=0 color-by=node");
  OpAnnotation ann;
  GstVideoFrame f;

  scene (&ann, OP_INSTANCE_USER, 5);
  pull_rgb (h, frame_buffer ("RGB", black, &ann), &f);
  op_annotation_clear (&ann);
  /* node 0 blue, node 1 orange (255, 127, 14); the edge 0-1 blue; the box
   * keeps track 5's brown (140, 86, 75) */
  fail_unless_equals_int (comp (&f, 0, 10, 5), 31);
  fail_unless_equals_int (comp (&f, 0, 20, 5), 255);
  fail_unless_equals_int (comp (&f, 1, 20, 5), 127);
  fail_unless_equals_int (comp (&f, 0, 15, 5), 31);
  fail_unless_equals_int (comp (&f, 0, 3, 10), 140);
  gst_video_frame_unmap (&f);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frames without meta, or with no instance, go on as the same buffer with
 * the same bytes. */
GST_START_TEST (test_passthrough)
{
  const guint8 grey[4] = { 9, 9, 9, 0 };
  GstHarness *h = harness ("RGB", "");
  OpAnnotation ann;
  GstBuffer *in, *out, *ref;
  GstMapInfo a, b;

  in = frame_buffer ("RGB", grey, NULL);
  ref = gst_buffer_copy_deep (in);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out == in);
  fail_unless (gst_buffer_map (out, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (ref, &b, GST_MAP_READ));
  fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (out);

  op_annotation_init (&ann);
  op_annotation_set_size (&ann, W, H);
  in = frame_buffer ("RGB", grey, &ann);
  op_annotation_clear (&ann);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out == in);
  fail_unless (gst_buffer_map (out, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (ref, &b, GST_MAP_READ));
  fail_unless (memcmp (a.data, b.data, a.size) == 0);
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A buffer laid out with a row stride of 128 bytes, said by its video
 * meta: the point lands at row 5 of that layout. */
GST_START_TEST (test_video_meta_stride)
{
  GstHarness *h = harness ("GRAY8", "point-radius=0");
  gsize offset[4] = { 0 };
  gint stride[4] = { 128 };
  OpAnnotation ann;
  GstBuffer *in, *out;
  GstMapInfo m;
  guint i;

  in = gst_buffer_new_allocate (NULL, 128 * H, NULL);
  gst_buffer_memset (in, 0, 0, 128 * H);
  gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_GRAY8, W, H, 1, offset, stride);
  scene (&ann, OP_INSTANCE_USER, -1);
  op_instance_unset_bbox (op_annotation_get_instance (&ann, 0));
  op_buffer_add_annotation_meta (in, &ann);
  op_annotation_clear (&ann);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (gst_buffer_map (out, &m, GST_MAP_READ));
  for (i = 0; i < 128 * H; i++) {
    guint x = i % 128, y = i / 128;

    fail_unless_equals_int (m.data[i], (y == 5 && x >= 10 && x <= 20) ?
        255 : 0);
  }
  gst_buffer_unmap (out, &m);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A crop is drawn from its crop meta, in crop coordinates: the frame is
 * bigger than the crop, no error. */
GST_START_TEST (test_crop_meta)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "point-radius=0");
  OpAnnotation ann;
  GstBuffer *in;
  GstVideoFrame f;

  scene (&ann, OP_INSTANCE_USER, 2);
  op_annotation_set_size (&ann, 640, 480);
  op_annotation_set_crop (&ann, 0, 100, 200, W, H, W, H);
  in = frame_buffer ("RGB", black, NULL);
  op_buffer_add_crop_meta (in, &ann);
  op_annotation_clear (&ann);
  pull_rgb (h, in, &f);
  fail_unless_equals_int (comp (&f, 1, 10, 5), 160);
  fail_unless_equals_int (comp (&f, 1, 3, 10), 160);
  gst_video_frame_unmap (&f);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An annotation for another image size is an error, not a drawing in the
 * wrong place. */
GST_START_TEST (test_size_mismatch_errors)
{
  const guint8 black[4] = { 0, 0, 0, 0 };
  GstHarness *h = harness ("RGB", "");
  OpAnnotation ann;

  scene (&ann, OP_INSTANCE_USER, 0);
  op_annotation_set_size (&ann, 2 * W, 2 * H);
  fail_unless_equals_int (gst_harness_push (h, frame_buffer ("RGB", black,
              &ann)), GST_FLOW_ERROR);
  op_annotation_clear (&ann);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
annotoverlay_suite (void)
{
  Suite *s = suite_create ("annotoverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_rgb_exact);
  tcase_add_test (tc, test_i420_exact);
  tcase_add_test (tc, test_nv12_exact);
  tcase_add_test (tc, test_gray8_exact);
  tcase_add_test (tc, test_predicted_style);
  tcase_add_test (tc, test_detection_style);
  tcase_add_test (tc, test_hollow_and_nan);
  tcase_add_test (tc, test_color_by_node);
  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_video_meta_stride);
  tcase_add_test (tc, test_crop_meta);
  tcase_add_test (tc, test_size_mismatch_errors);
  return s;
}

GST_CHECK_MAIN (annotoverlay);
