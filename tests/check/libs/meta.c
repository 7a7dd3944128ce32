/* Unit tests: the annotation and crop metas on buffers and through stock
 * elements (videoconvert, videoscale, jpegenc, pngenc, videocrop). */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/onepass.h>
#include <string.h>

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
  op_annotation_set_source (ann, "clip");
  ann->frame_index = 42;
  ann->pts = 42 * GST_SECOND / 30;
  ann->width = w;
  ann->height = h;
  inst = op_annotation_add_instance (ann, OP_INSTANCE_USER);
  inst->track = 3;
  inst->keypoints[0] = (OpKeypoint) {
  100.25, 50.75, TRUE, NAN};
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
  GstBuffer *out =
      run_through ("videoconvert ! capsfilter caps=video/x-raw,format=I420",
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
  GstBuffer *out =
      run_through
      ("videoscale ! capsfilter caps=video/x-raw,width=320,height=360",
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
  ann.crop = (OpCropInfo) {
    0, {
    80, 30, 40, 40}
  , 328, 328};
  op_buffer_add_crop_meta (buf, &ann);
  op_annotation_clear (&ann);

  out =
      run_through
      ("videoscale ! capsfilter caps=video/x-raw,width=164,height=164",
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
  check_encoder_keeps
      ("videoconvert ! capsfilter caps=video/x-raw,format=RGB ! pngenc");
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


/* ---- orientation: videoflip and the "op-orientation" transform ---- */

#define FW 64
#define FH 48
/* two marked pixels (keypoints) and the box spanning them */
static const gint mark[2][2] = { {13, 7}, {50, 40} };
static const guint8 mark_rgba[2][4] = { {255, 0, 0, 255}, {0, 255, 0, 255} };

/* The independent truth: videoflip's pixel moves (gstvideoflip.c), written
 * as where the source pixel (x, y) of a w x h frame goes. */
static void
expected_point (GstVideoOrientationMethod m, gdouble w, gdouble h, gdouble x,
    gdouble y, gdouble * ox, gdouble * oy)
{
  switch (m) {
    case GST_VIDEO_ORIENTATION_IDENTITY:
      *ox = x;
      *oy = y;
      break;
    case GST_VIDEO_ORIENTATION_90R:
      *ox = h - 1 - y;
      *oy = x;
      break;
    case GST_VIDEO_ORIENTATION_180:
      *ox = w - 1 - x;
      *oy = h - 1 - y;
      break;
    case GST_VIDEO_ORIENTATION_90L:
      *ox = y;
      *oy = w - 1 - x;
      break;
    case GST_VIDEO_ORIENTATION_HORIZ:
      *ox = w - 1 - x;
      *oy = y;
      break;
    case GST_VIDEO_ORIENTATION_VERT:
      *ox = x;
      *oy = h - 1 - y;
      break;
    case GST_VIDEO_ORIENTATION_UL_LR:
      *ox = y;
      *oy = x;
      break;
    case GST_VIDEO_ORIENTATION_UR_LL:
      *ox = h - 1 - y;
      *oy = w - 1 - x;
      break;
    default:
      g_assert_not_reached ();
  }
}

static GstBuffer *
marked_frame (void)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, FW * FH * 4, NULL);
  OpAnnotation ann;
  OpInstance *inst;
  guint i;

  gst_buffer_memset (buf, 0, 0, FW * FH * 4);
  for (i = 0; i < 2; i++)
    gst_buffer_fill (buf, (mark[i][1] * FW + mark[i][0]) * 4, mark_rgba[i], 4);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  fill_annotation (&ann, FW, FH);
  inst = op_annotation_get_instance (&ann, 0);
  inst->keypoints[0] = (OpKeypoint) {
  mark[0][0], mark[0][1], TRUE, NAN};
  inst->keypoints[1] = (OpKeypoint) {
  mark[1][0], mark[1][1], TRUE, NAN};
  inst->bbox[0] = mark[0][0];
  inst->bbox[1] = mark[0][1];
  inst->bbox[2] = mark[1][0] - mark[0][0];
  inst->bbox[3] = mark[1][1] - mark[0][1];
  op_buffer_add_annotation_meta (buf, &ann);
  op_annotation_clear (&ann);
  return buf;
}

/* Finds the marked pixels in an RGBA frame of @w x @h. */
static void
find_marks (GstBuffer * buf, gint w, gint h, gint found[2][2])
{
  GstMapInfo map;
  gint x, y, i;

  for (i = 0; i < 2; i++)
    found[i][0] = found[i][1] = -1;
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, w * h * 4);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (i = 0; i < 2; i++)
        if (memcmp (map.data + (y * w + x) * 4, mark_rgba[i], 4) == 0) {
          fail_unless (found[i][0] < 0, "mark %d twice", i);
          found[i][0] = x;
          found[i][1] = y;
        }
  gst_buffer_unmap (buf, &map);
  fail_unless (found[0][0] >= 0 && found[1][0] >= 0);
}

/* The keypoints of @ann are on the marks and the box spans them. */
static void
check_on_marks (const OpAnnotation * ann, gint found[2][2], gint w, gint h,
    const gchar * what)
{
  const OpInstance *inst = op_annotation_get_instance (ann, 0);
  guint i;

  fail_unless ((gint) ann->width == w && (gint) ann->height == h,
      "%s: meta size %ux%u, image %dx%d", what, ann->width, ann->height, w, h);
  for (i = 0; i < 2; i++) {
    fail_unless (inst->keypoints[i].x == found[i][0] &&
        inst->keypoints[i].y == found[i][1],
        "%s: keypoint %u at (%g, %g), its pixel at (%d, %d)", what, i,
        inst->keypoints[i].x, inst->keypoints[i].y, found[i][0], found[i][1]);
  }
  fail_unless (inst->bbox[0] == MIN (found[0][0], found[1][0]) &&
      inst->bbox[1] == MIN (found[0][1], found[1][1]) &&
      inst->bbox[2] == ABS (found[0][0] - found[1][0]) &&
      inst->bbox[3] == ABS (found[0][1] - found[1][1]), "%s: bbox", what);
  fail_unless_equals_uint64 (ann->frame_index, 42);
}

static const gchar *flip_method_nicks[] = {
  "none", "clockwise", "rotate-180", "counterclockwise", "horizontal-flip",
  "vertical-flip", "upper-left-diagonal", "upper-right-diagonal"
};

static const gchar *direction_nicks[] = {
  "identity", "90r", "180", "90l", "horiz", "vert", "ul-lr", "ur-ll"
};

/* Runs a marked frame through videoflip configured by @how (0: method= in
 * the launch line, 1: video-direction= in the launch line, 2: method set
 * on the element after it was made) and checks: if a meta comes out its
 * keypoints are on the marked pixels; our transform puts them there too.
 * Returns whether the image moved. */
static gboolean
flip_and_check (GstVideoOrientationMethod m, gint how, gboolean * kept)
{
  GstHarness *h;
  GstBuffer *in = marked_frame (), *out, *moved;
  OpAnnotationMeta *am;
  GstCaps *caps;
  GstVideoInfo info;
  gint found[2][2];
  gdouble ex, ey;
  gchar *what;
  guint i;
  gboolean image_moved = FALSE;

  if (how == 0) {
    gchar *l = g_strdup_printf ("videoflip method=%s", flip_method_nicks[m]);
    h = gst_harness_new_parse (l);
    g_free (l);
  } else if (how == 1) {
    gchar *l = g_strdup_printf ("videoflip video-direction=%s",
        direction_nicks[m]);
    h = gst_harness_new_parse (l);
    g_free (l);
  } else {
    h = gst_harness_new ("videoflip");
    g_object_set (h->element, "video-direction", m, NULL);
  }
  what = g_strdup_printf ("videoflip %s (%s)", direction_nicks[m],
      how == 0 ? "method= at launch" : how == 1 ?
      "video-direction= at launch" : "set after creation");
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_video_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  find_marks (out, info.width, info.height, found);
  for (i = 0; i < 2; i++)
    if (found[i][0] != mark[i][0] || found[i][1] != mark[i][1])
      image_moved = TRUE;
  if (image_moved) {
    /* it moved: exactly as method m says (our independent formula) */
    for (i = 0; i < 2; i++) {
      expected_point (m, FW, FH, mark[i][0], mark[i][1], &ex, &ey);
      fail_unless (found[i][0] == ex && found[i][1] == ey,
          "%s: mark %u at (%d, %d), expected (%g, %g)", what, i, found[i][0],
          found[i][1], ex, ey);
    }
  } else {
    fail_unless_equals_int (info.width, FW);
  }

  /* whatever videoflip did: a meta it lets through is on the pixels */
  am = op_buffer_get_annotation_meta (out);
  *kept = am != NULL;
  if (am)
    check_on_marks (&am->ann, found, info.width, info.height, what);

  /* our transform, told the method, moves the labels onto the pixels */
  if (image_moved || m == GST_VIDEO_ORIENTATION_IDENTITY) {
    moved = gst_buffer_new ();
    fail_unless (op_buffer_orient_metas (moved, in, m, FW, FH));
    am = op_buffer_get_annotation_meta (moved);
    fail_unless (am != NULL);
    check_on_marks (&am->ann, found, info.width, info.height, what);
    gst_buffer_unref (moved);
  }
  GST_INFO ("%s: image %s, meta %s", what, image_moved ? "moved" : "kept",
      *kept ? "kept" : "dropped");
  g_free (what);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  return image_moved;
}

GST_START_TEST (test_orientation_tag)
{
  fail_unless (gst_meta_api_type_has_tag (OP_ANNOTATION_META_API_TYPE,
          g_quark_from_string (GST_META_TAG_VIDEO_ORIENTATION_STR)));
  fail_unless (gst_meta_api_type_has_tag (OP_CROP_META_API_TYPE,
          g_quark_from_string (GST_META_TAG_VIDEO_ORIENTATION_STR)));
}

GST_END_TEST;

/* Every videoflip method, set every way a user can: the labels are either
 * on the image features they name or gone, never left behind. */
GST_START_TEST (test_videoflip_every_method)
{
  GstVideoOrientationMethod m;
  gint how;

  for (m = GST_VIDEO_ORIENTATION_IDENTITY; m <= GST_VIDEO_ORIENTATION_UR_LL;
      m++) {
    for (how = 0; how < 3; how++) {
      gboolean kept;
      gboolean moved = flip_and_check (m, how, &kept);

      /* set on the element, the method really moves the pixels (the
       * check above is not vacuous) */
      if (how == 2 && m != GST_VIDEO_ORIENTATION_IDENTITY)
        fail_unless (moved, "videoflip %s did not move the image",
            direction_nicks[m]);
      /* videoflip says nothing about the move: the meta must be gone */
      if (moved)
        fail_if (kept, "videoflip %s kept the meta", direction_nicks[m]);
    }
  }
}

GST_END_TEST;

/* A passthrough element leaves the meta exactly as it was. */
GST_START_TEST (test_passthrough_untouched)
{
  GstBuffer *out = run_through ("identity ! queue ! videoconvert",
      RGBA_640x480, annotated_frame (640, 480));
  OpAnnotationMeta *m = op_buffer_get_annotation_meta (out);

  fail_unless (m != NULL);
  fail_unless_equals_int (op_annotation_n_instances (&m->ann), 1);
  fail_unless (op_annotation_get_instance (&m->ann, 0)->keypoints[0].x ==
      100.25);
  fail_unless_equals_uint64 (m->ann.frame_index, 42);
  gst_buffer_unref (out);
}

GST_END_TEST;

/* The crop meta: crop-space keypoints move inside the crop, and the crop
 * becomes the crop of the moved frame, so the design's crop <-> frame map
 * still sends each keypoint to where the frame point moved. */
GST_START_TEST (test_orient_crop_meta)
{
  const gint rect[4] = { 8, 4, 32, 24 };
  const guint cw = 16, ch = 12;
  const gdouble fx = 13, fy = 7;
  GstVideoOrientationMethod m;

  for (m = GST_VIDEO_ORIENTATION_IDENTITY; m <= GST_VIDEO_ORIENTATION_UR_LL;
      m++) {
    GstBuffer *buf = gst_buffer_new (), *out = gst_buffer_new ();
    OpAnnotation ann;
    OpInstance *inst;
    OpCropMeta *cm;
    const OpCropInfo *c;
    gdouble ex, ey, bx, by;
    gboolean swap = m == GST_VIDEO_ORIENTATION_90R ||
        m == GST_VIDEO_ORIENTATION_90L || m == GST_VIDEO_ORIENTATION_UL_LR ||
        m == GST_VIDEO_ORIENTATION_UR_LL;

    fill_annotation (&ann, FW, FH);
    ann.has_crop = TRUE;
    ann.crop = (OpCropInfo) {
      0, {
    rect[0], rect[1], rect[2], rect[3]}, cw, ch};
    inst = op_annotation_get_instance (&ann, 0);
    op_frame_to_crop (ann.crop.rect, cw, ch, fx, fy, &inst->keypoints[0].x,
        &inst->keypoints[0].y);
    op_buffer_add_crop_meta (buf, &ann);
    op_annotation_clear (&ann);

    fail_unless (op_buffer_orient_metas (out, buf, m, cw, ch));
    cm = op_buffer_get_crop_meta (out);
    fail_unless (cm != NULL);
    c = &cm->ann.crop;
    fail_unless_equals_int (c->width, swap ? ch : cw);
    fail_unless_equals_int (c->height, swap ? cw : ch);
    fail_unless_equals_int (cm->ann.width, swap ? FH : FW);
    /* the rect covers the moved pixels of the old rect */
    {
      gdouble x0, y0, x1, y1;
      expected_point (m, FW, FH, rect[0], rect[1], &x0, &y0);
      expected_point (m, FW, FH, rect[0] + rect[2] - 1, rect[1] + rect[3] - 1,
          &x1, &y1);
      fail_unless_equals_int (c->rect[0], (gint) MIN (x0, x1));
      fail_unless_equals_int (c->rect[1], (gint) MIN (y0, y1));
      fail_unless_equals_int (c->rect[2], swap ? rect[3] : rect[2]);
      fail_unless_equals_int (c->rect[3], swap ? rect[2] : rect[3]);
    }
    /* back to the moved frame: where the frame point moved */
    inst = op_annotation_get_instance (&cm->ann, 0);
    op_crop_to_frame (c->rect, c->width, c->height, inst->keypoints[0].x,
        inst->keypoints[0].y, &bx, &by);
    expected_point (m, FW, FH, fx, fy, &ex, &ey);
    fail_unless (fabs (bx - ex) < 1e-9 && fabs (by - ey) < 1e-9,
        "%s: crop keypoint maps to (%g, %g), the point moved to (%g, %g)",
        direction_nicks[m], bx, by, ex, ey);
    gst_buffer_unref (buf);
    gst_buffer_unref (out);
  }
}

GST_END_TEST;

/* Sizes that do not match the meta, and methods that are no fixed pixel
 * move, leave no meta rather than a wrong one. */
GST_START_TEST (test_orient_refuses)
{
  GstBuffer *in = annotated_frame (640, 480), *out = gst_buffer_new ();

  fail_if (op_buffer_orient_metas (out, in, GST_VIDEO_ORIENTATION_HORIZ,
          320, 240));
  fail_unless (op_buffer_get_annotation_meta (out) == NULL);
  fail_if (op_buffer_orient_metas (out, in, GST_VIDEO_ORIENTATION_AUTO,
          640, 480));
  fail_if (op_buffer_orient_metas (out, in, GST_VIDEO_ORIENTATION_CUSTOM,
          640, 480));
  fail_unless (op_buffer_get_annotation_meta (out) == NULL);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
}

GST_END_TEST;

static guint
count_metas (GstBuffer * buf, GType api)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buf, &state, api))
    n++;
  return n;
}

/* The application API (what Python reaches through Onepass-1.0): JSON in,
 * the same JSON out; a second add replaces; bad JSON and read-only buffers
 * are errors that leave the buffer as it was. */
GST_START_TEST (test_application_json_api)
{
  const gchar *frame =
      "{\"source\":\"cam\",\"frame_index\":7,\"pts\":280000000,"
      "\"width\":64,\"height\":48,\"skeleton\":{\"name\":\"fly\",\"nodes\":"
      "[\"head\",\"tail\"],\"edges\":[[0,1]]},\"instances\":[{\"track\":2,"
      "\"kind\":\"detection\",\"score\":0.5,\"bbox\":[1.5,2,10,12],"
      "\"keypoints\":[[3,4,1,0.25],[null,null,0,null]]}]}";
  const gchar *crop =
      "{\"source\":\"cam\",\"frame_index\":7,\"width\":64,"
      "\"height\":48,\"skeleton\":{\"name\":\"fly\",\"nodes\":[\"head\","
      "\"tail\"],\"edges\":[]},\"instances\":[{\"kind\":\"user\","
      "\"keypoints\":[[1,1,1,null],[2,2,1,null]]}],\"crop\":{\"instance\":0,"
      "\"rect\":[10,10,20,20],\"width\":40,\"height\":40}}";
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * 48, NULL), *copy;
  GError *err = NULL;
  gchar *out;
  const OpAnnotation *ann;

  fail_unless (op_buffer_get_annotation_json (buf) == NULL);
  fail_unless (op_buffer_add_annotation_json (buf, frame, &err));
  fail_unless (err == NULL);
  ann = op_buffer_get_annotation (buf);
  fail_unless_equals_uint64 (ann->frame_index, 7);
  fail_unless_equals_int (op_annotation_get_instance (ann, 0)->kind,
      OP_INSTANCE_DETECTION);
  fail_unless_equals_float (op_annotation_get_instance (ann,
          0)->keypoints[0].score, 0.25);
  out = op_buffer_get_annotation_json (buf);
  fail_unless (strstr (out, "\"frame_index\":7") != NULL, "%s", out);
  fail_unless (strstr (out, "[null,null,0,null]") != NULL, "%s", out);
  g_free (out);

  /* a second add replaces: one meta, the new frame */
  fail_unless (op_buffer_add_annotation_json (buf, crop, &err));
  fail_unless_equals_int (count_metas (buf, OP_ANNOTATION_META_API_TYPE), 1);
  fail_unless_equals_int (count_metas (buf, OP_CROP_META_API_TYPE), 1);
  fail_unless (op_buffer_get_annotation (buf)->has_crop);
  fail_unless_equals_int (op_buffer_get_annotation (buf)->crop.rect[2], 20);

  /* bad JSON: an error naming the problem, the buffer unchanged */
  fail_if (op_buffer_add_annotation_json (buf, "{\"frame_index\": \"x\"}",
          &err));
  fail_unless (err != NULL && err->domain == OP_ANNOTATION_ERROR);
  fail_unless (strstr (err->message, "frame_index") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  fail_if (op_buffer_add_annotation_json (buf, "not json", &err));
  fail_unless (g_error_matches (err, OP_ANNOTATION_ERROR,
          OP_ANNOTATION_ERROR_SYNTAX));
  g_clear_error (&err);
  fail_unless (op_buffer_get_annotation (buf)->has_crop);

  /* a buffer someone else holds is not annotated behind their back */
  copy = gst_buffer_ref (buf);
  fail_if (op_buffer_add_annotation_json (buf, frame, &err));
  fail_unless (g_error_matches (err, OP_ANNOTATION_ERROR,
          OP_ANNOTATION_ERROR_NOT_WRITABLE));
  g_clear_error (&err);
  gst_buffer_unref (copy);

  /* copying labels onto a new buffer, as a Python step that makes its own
   * output must */
  copy = gst_buffer_new_allocate (NULL, 16, NULL);
  fail_unless (op_buffer_copy_annotations (copy, buf, &err) > 0);
  fail_unless (op_buffer_get_annotation (copy)->has_crop);
  fail_unless_equals_int (op_buffer_remove_annotations (copy), 2);
  fail_unless (op_buffer_get_annotation (copy) == NULL);
  gst_buffer_unref (copy);
  gst_buffer_unref (buf);
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
  tcase_add_test (tc, test_application_json_api);
  tcase_add_test (tc, test_buffer_copy);
  tcase_add_test (tc, test_region_copy_drops_meta);
  tcase_add_test (tc, test_survives_videoconvert);
  tcase_add_test (tc, test_videoscale_rescales);
  tcase_add_test (tc, test_crop_meta_through_videoscale);
  tcase_add_test (tc, test_survives_jpegenc);
  tcase_add_test (tc, test_survives_pngenc);
  tcase_add_test (tc, test_videocrop_drops);
  tcase_add_test (tc, test_orientation_tag);
  tcase_add_test (tc, test_videoflip_every_method);
  tcase_add_test (tc, test_passthrough_untouched);
  tcase_add_test (tc, test_orient_crop_meta);
  tcase_add_test (tc, test_orient_refuses);
  return s;
}

GST_CHECK_MAIN (meta);
