/* cropextract tests: pixels (exact copies and bilinear values of a linear
 * pattern) per format and mode with rects at and past every edge, crop and
 * annotation metas against hand-computed keypoints, gaps, warnings, caps
 * negotiation both ways, bad settings, and a real-data run. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <onepass/onepass.h>
#include <math.h>
#include <string.h>

#define FRAME_W 64
#define FRAME_H 48
#define FILL "0xff204080"

static OpSkeleton *skeleton;

static void
setup (void)
{
  const gchar *nodes[] = { "head", "thorax", "tail" };

  skeleton = op_skeleton_new ("fly", nodes, 3);
  op_skeleton_add_edge (skeleton, 0, 1);
}

static void
teardown (void)
{
  g_clear_pointer (&skeleton, op_skeleton_unref);
}

/* A test instance: up to 3 keypoints (NaN = missing), an optional bbox. */
typedef struct
{
  gdouble kp[3][2];
  gboolean has_bbox;
  gdouble bbox[4];
} TestInst;

#define NO_KP { { NAN, NAN }, { NAN, NAN }, { NAN, NAN } }

static void
add_annotation (GstBuffer * buf, guint64 frame, const TestInst * insts, guint n)
{
  OpAnnotation ann;
  guint i, k;

  op_annotation_init (&ann);
  op_annotation_set_skeleton (&ann, skeleton);
  op_annotation_set_source (&ann, "clip");
  ann.frame_index = frame;
  ann.pts = GST_BUFFER_PTS (buf);
  ann.width = FRAME_W;
  ann.height = FRAME_H;
  for (i = 0; i < n; i++) {
    OpInstance *inst = op_annotation_add_instance (&ann,
        OP_INSTANCE_PREDICTED);

    inst->track = (gint) i + 5;
    inst->score = 0.5;
    for (k = 0; k < 3; k++) {
      inst->keypoints[k].x = insts[i].kp[k][0];
      inst->keypoints[k].y = insts[i].kp[k][1];
      inst->keypoints[k].visible = !isnan (insts[i].kp[k][0]);
      inst->keypoints[k].score = 0.25 * k;
    }
    inst->has_bbox = insts[i].has_bbox;
    memcpy (inst->bbox, insts[i].bbox, sizeof (inst->bbox));
  }
  op_buffer_add_annotation_meta (buf, &ann);
  op_annotation_clear (&ann);
}

/* plane-local pattern: linear (bilinear reproduces it) or a hash (any
 * wrong source pixel shows) */
static guint8
pattern (gboolean linear, guint p, guint x, guint y, guint k)
{
  if (linear)
    return 2 * x + y + 20 * k + 10 * p;
  return (x * 7 + y * 13 + k * 50 + p * 31) & 0xff;
}

static guint
plane_comp (const GstVideoInfo * info, guint p)
{
  guint c = 0;

  while (GST_VIDEO_INFO_COMP_PLANE (info, c) != p)
    c++;
  return c;
}

static GstBuffer *
make_frame (const GstVideoInfo * info, gboolean linear, guint64 frame)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstVideoFrame f;
  guint p, x, y, k;

  fail_unless (gst_video_frame_map (&f, info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&f); p++) {
    guint c = plane_comp (info, p);
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&f, c);
    guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&f, p);

    for (y = 0; y < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&f, c); y++)
      for (x = 0; x < (guint) GST_VIDEO_FRAME_COMP_WIDTH (&f, c); x++)
        for (k = 0; k < ps; k++)
          d[y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, p) + x * ps + k] =
              pattern (linear, p, x, y, k);
  }
  gst_video_frame_unmap (&f);
  GST_BUFFER_PTS (buf) = frame * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* fill 0xff204080 in each format, computed by hand (BT.601 limited range
 * for YUV: Y 69.01, U 160.85, V 109.37; full-range luma for GRAY8 61.73) */
typedef struct
{
  const gchar *format;
  guint8 fill[3][4];
} FormatCase;

static const FormatCase formats[] = {
  {"RGB", {{0x20, 0x40, 0x80}}},
  {"BGR", {{0x80, 0x40, 0x20}}},
  {"RGBA", {{0x20, 0x40, 0x80, 0xff}}},
  {"BGRA", {{0x80, 0x40, 0x20, 0xff}}},
  {"xRGB", {{0xff, 0x20, 0x40, 0x80}}},
  {"GRAY8", {{62}}},
  {"I420", {{69}, {161}, {109}}},
  {"NV12", {{69}, {161, 109}}},
};

/* Checks every byte of @out against the contract: crop pixel (u, v) shows
 * frame point op_crop_to_frame (rect, W, H, u, v) (per plane, subsampled
 * planes at half the luma coordinates); points outside the frame show the
 * fill colour. @linear: the frame holds the linear pattern and scaled values
 * may be off by 1; else the map must hit source pixels exactly. */
static void
check_crop (const GstVideoInfo * ii, const GstVideoInfo * oi,
    GstBuffer * out, const gint rect[4], const guint8 fill[3][4],
    gboolean linear, GstBuffer * in)
{
  GstVideoFrame fi, fo;
  guint W = GST_VIDEO_INFO_WIDTH (oi), H = GST_VIDEO_INFO_HEIGHT (oi);
  guint p, u, v, k;

  fail_unless (gst_video_frame_map (&fi, ii, in, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fo, oi, out, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fo); p++) {
    guint c = plane_comp (oi, p);
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&fo, c);
    guint sw = 1 << GST_VIDEO_FORMAT_INFO_W_SUB (oi->finfo, c);
    guint sh = 1 << GST_VIDEO_FORMAT_INFO_H_SUB (oi->finfo, c);
    gdouble pw = GST_VIDEO_FRAME_COMP_WIDTH (&fi, c);
    gdouble ph = GST_VIDEO_FRAME_COMP_HEIGHT (&fi, c);
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (&fi, p);
    gint sstride = GST_VIDEO_FRAME_PLANE_STRIDE (&fi, p);

    for (v = 0; v < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&fo, c); v++) {
      for (u = 0; u < (guint) GST_VIDEO_FRAME_COMP_WIDTH (&fo, c); u++) {
        const guint8 *got = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fo, p) +
            v * GST_VIDEO_FRAME_PLANE_STRIDE (&fo, p) + u * ps;
        gdouble cu = (u + 0.5) * sw - 0.5, cv = (v + 0.5) * sh - 0.5;
        gdouble fx, fy, ex, ey, px, py;
        gboolean inside;

        op_crop_to_frame (rect, W, H, cu, cv, &fx, &fy);
        /* plane edge coordinates: pixel i spans [i, i + 1) */
        ex = (fx + 0.5) / sw;
        ey = (fy + 0.5) / sh;
        inside = ex >= 0 && ex < pw && ey >= 0 && ey < ph;
        px = CLAMP (ex - 0.5, 0, pw - 1);
        py = CLAMP (ey - 0.5, 0, ph - 1);
        for (k = 0; k < ps; k++) {
          if (!inside) {
            fail_unless_equals_int_hex (got[k], fill[p][k]);
          } else if (linear) {
            gdouble want = 2 * px + py + 20 * k + 10 * p;

            if (fabs (got[k] - want) > 1.0)
              fail ("%s plane %u pixel (%u, %u) byte %u: got %u, want %.2f",
                  GST_VIDEO_INFO_NAME (oi), p, u, v, k, got[k], want);
          } else {
            guint ix = (guint) px, iy = (guint) py;

            fail_unless (px == ix && py == iy, "(%u, %u) maps between "
                "pixels: %f, %f", u, v, px, py);
            if (got[k] != src[iy * sstride + ix * ps + k])
              fail ("%s plane %u pixel (%u, %u) byte %u: got %u, frame "
                  "(%u, %u) has %u", GST_VIDEO_INFO_NAME (oi), p, u, v, k,
                  got[k], ix, iy, src[iy * sstride + ix * ps + k]);
          }
        }
      }
    }
  }
  gst_video_frame_unmap (&fo);
  gst_video_frame_unmap (&fi);
}

#define assert_close(a, b) \
  fail_unless (fabs ((a) - (b)) < 1e-9, "%s = %.12f, want %.12f", #a, \
      (gdouble) (a), (gdouble) (b))

static GstHarness *
new_harness (const gchar * format, const gchar * props)
{
  gchar *desc = g_strdup_printf ("cropextract fill=" FILL " %s", props);
  gchar *caps = g_strdup_printf ("video/x-raw, format=%s, width=%d, "
      "height=%d, framerate=30/1", format, FRAME_W, FRAME_H);
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps_str (h, caps);
  g_free (desc);
  g_free (caps);
  return h;
}

static void
video_info (GstVideoInfo * info, const gchar * format, guint w, guint h)
{
  gst_video_info_init (info);
  fail_unless (gst_video_info_set_format (info,
          gst_video_format_from_string (format), w, h));
}

/* One pixel case: an instance, the element's settings and the rect that
 * was computed by hand from the documented rounding. */
typedef struct
{
  const gchar *props;
  guint w, h;
  TestInst inst;
  gint rect[4];
  gboolean exact;               /* 1:1 integer map on every plane */
} PixelCase;

static const PixelCase pixel_cases[] = {
  /* stretch, interior: edges 10..30 x 12..20; vertical 2x */
  {"mode=stretch padding=0", 20, 16, {NO_KP, TRUE, {9.5, 11.5, 20, 8}},
      {10, 12, 20, 8}, FALSE},
  /* stretch past the left and top edges, 2x up */
  {"mode=stretch padding=0", 20, 16, {NO_KP, TRUE, {-5.5, -3.5, 10, 8}},
      {-5, -3, 10, 8}, FALSE},
  /* stretch past the right and bottom edges */
  {"mode=stretch padding=0", 20, 16, {NO_KP, TRUE, {55.5, 41.5, 16, 12}},
      {56, 42, 16, 12}, FALSE},
  /* wholly outside: all fill */
  {"mode=stretch padding=0", 20, 16, {NO_KP, TRUE, {99.5, 99.5, 10, 10}},
      {100, 100, 10, 10}, FALSE},
  /* bigger than the frame: downscale, fill on all four sides */
  {"mode=stretch padding=0", 20, 16, {NO_KP, TRUE, {-10.5, -8.5, 84, 64}},
      {-10, -8, 84, 64}, FALSE},
  /* fit, tall box: h = 20, w = ceil (20 * 20 / 16) = 25, centre (25, 20) */
  {"mode=fit padding=0", 20, 16, {NO_KP, TRUE, {19.5, 9.5, 10, 20}},
      {13, 10, 25, 20}, FALSE},
  /* fit past the right edge, 1:1 (w = 20, h = 16) */
  {"mode=fit padding=0", 20, 16, {NO_KP, TRUE, {49.5, 30.5, 20, 10}},
      {50, 28, 20, 16}, TRUE},
  /* center on keypoint bounds: centre edge coordinate (32.5, 24.5) */
  {"mode=center", 20, 16, {{{31, 23}, {33, 25}, {NAN, NAN}}, FALSE},
      {23, 17, 20, 16}, FALSE},
  /* center on the anchor node (thorax at 1, 1), past the top-left corner */
  {"mode=center anchor-node=thorax", 20, 16,
        {{{2, 3}, {1, 1}, {40, 40}}, FALSE},
      {-8, -6, 20, 16}, TRUE},
  /* center past the bottom-right corner on an even rect */
  {"mode=center", 20, 16, {{{59.5, 45.5}, {NAN, NAN}, {NAN, NAN}}, FALSE},
      {50, 38, 20, 16}, TRUE},
};

static void
run_pixel_case (const FormatCase * fc, const PixelCase * pc, gboolean linear)
{
  GstVideoInfo ii, oi;
  gchar *props = g_strdup_printf ("%s width=%u height=%u", pc->props,
      pc->w, pc->h);
  GstHarness *h = new_harness (fc->format, props);
  GstBuffer *in, *out;
  OpCropMeta *cm;

  g_free (props);
  video_info (&ii, fc->format, FRAME_W, FRAME_H);
  video_info (&oi, fc->format, pc->w, pc->h);

  in = make_frame (&ii, linear, 7);
  add_annotation (in, 7, &pc->inst, 1);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  cm = op_buffer_get_crop_meta (out);
  fail_unless (cm != NULL);
  fail_unless_equals_int (cm->ann.crop.rect[0], pc->rect[0]);
  fail_unless_equals_int (cm->ann.crop.rect[1], pc->rect[1]);
  fail_unless_equals_int (cm->ann.crop.rect[2], pc->rect[2]);
  fail_unless_equals_int (cm->ann.crop.rect[3], pc->rect[3]);
  check_crop (&ii, &oi, out, pc->rect, fc->fill, linear, in);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_teardown (h);
}

GST_START_TEST (test_pixels_linear)
{
  guint f, c;

  for (f = 0; f < G_N_ELEMENTS (formats); f++)
    for (c = 0; c < G_N_ELEMENTS (pixel_cases); c++)
      run_pixel_case (&formats[f], &pixel_cases[c], TRUE);
}

GST_END_TEST;

GST_START_TEST (test_pixels_exact_copy)
{
  guint f, c;

  /* hash pattern: a copy from the wrong pixel cannot pass */
  for (f = 0; f < G_N_ELEMENTS (formats); f++)
    for (c = 0; c < G_N_ELEMENTS (pixel_cases); c++)
      if (pixel_cases[c].exact)
        run_pixel_case (&formats[f], &pixel_cases[c], FALSE);
}

GST_END_TEST;

/* A grey frame (R = G = B) in RGB and in GRAY8: the crop of each pixel is
 * the same bytes, because every scaler path (plain loops, SSE2 gathers for
 * 3 bytes per pixel, SSE2 and SSSE3 gathers for 1) computes the same
 * integers. A rounding or tap difference in either path shows here, where
 * test_pixels_linear allows 1 of slack. */
static GstBuffer *
crop_grey (const gchar * format, const gchar * props, const TestInst * inst)
{
  GstVideoInfo ii;
  GstHarness *h = new_harness (format, props);
  GstBuffer *in, *out;
  GstVideoFrame f;
  guint x, y, k, ps;

  video_info (&ii, format, FRAME_W, FRAME_H);
  in = gst_buffer_new_allocate (NULL, ii.size, NULL);
  fail_unless (gst_video_frame_map (&f, &ii, in, GST_MAP_WRITE));
  ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 0);
  for (y = 0; y < FRAME_H; y++)
    for (x = 0; x < FRAME_W; x++)
      for (k = 0; k < ps; k++)
        ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0))[y *
            GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + x * ps + k] =
            (x * 37 + y * 101 + x * y) & 0xff;
  gst_video_frame_unmap (&f);
  GST_BUFFER_PTS (in) = 0;
  add_annotation (in, 0, inst, 1);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  gst_harness_teardown (h);
  return out;
}

GST_START_TEST (test_gray_matches_rgb)
{
  /* crop 44x20: five 8-column groups and a tail of 4 */
  static const struct
  {
    TestInst inst;
  } cases[] = {
    {{NO_KP, TRUE, {9.5, 11.5, 30, 20}}},       /* shrink 0.68 x 1.0 */
    {{NO_KP, TRUE, {2.5, 3.5, 60, 40}}},        /* shrink by 1.36 and 2 */
    {{NO_KP, TRUE, {-0.5, -0.5, 64, 48}}},      /* shrink past 1.45 / 2.4 */
    {{NO_KP, TRUE, {20.5, 10.5, 130, 30}}},     /* shrink by 2.95, past the edge */
    {{NO_KP, TRUE, {30.5, 30.5, 17, 9}}},       /* enlarge by 2.6 and 2.2 */
    {{NO_KP, TRUE, {40.5, 1.5, 33, 60}}},       /* to the right edge and past */
  };
  guint c, u, v, k;

  for (c = 0; c < G_N_ELEMENTS (cases); c++) {
    const gchar *props = "mode=stretch padding=0 width=44 height=20";
    GstBuffer *g = crop_grey ("GRAY8", props, &cases[c].inst);
    GstBuffer *r = crop_grey ("RGB", props, &cases[c].inst);
    GstVideoInfo gi, ri;
    GstVideoFrame gf, rf;

    video_info (&gi, "GRAY8", 44, 20);
    video_info (&ri, "RGB", 44, 20);
    fail_unless (gst_video_frame_map (&gf, &gi, g, GST_MAP_READ));
    fail_unless (gst_video_frame_map (&rf, &ri, r, GST_MAP_READ));
    for (v = 0; v < 20; v++)
      for (u = 0; u < 44; u++) {
        guint8 want = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&gf, 0))[v *
            GST_VIDEO_FRAME_PLANE_STRIDE (&gf, 0) + u];
        const guint8 *got = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&rf, 0) +
            v * GST_VIDEO_FRAME_PLANE_STRIDE (&rf, 0) + 3 * u;
        gboolean inside = TRUE;

        /* fill differs between the formats: compare inside only */
        for (k = 0; k < 3; k++)
          inside = inside && got[k] == got[0];
        if (!inside && got[0] == 0x20 && got[1] == 0x40)
          continue;
        for (k = 0; k < 3; k++)
          if (got[k] != want)
            fail ("case %u pixel (%u, %u): RGB byte %u is %u, GRAY8 %u", c, u,
                v, k, got[k], want);
      }
    gst_video_frame_unmap (&rf);
    gst_video_frame_unmap (&gf);
    gst_buffer_unref (r);
    gst_buffer_unref (g);
  }
}

GST_END_TEST;

/* center mode on packed formats: odd offsets are exact copies too */
GST_START_TEST (test_center_odd_rect_exact)
{
  GstVideoInfo ii, oi;
  GstHarness *h = new_harness ("BGRA", "mode=center width=20 height=16");
  TestInst inst = { {{31, 23}, {33, 25}, {NAN, NAN}
      }, FALSE
  };
  const gint rect[4] = { 23, 17, 20, 16 };
  GstBuffer *in, *out;

  video_info (&ii, "BGRA", FRAME_W, FRAME_H);
  video_info (&oi, "BGRA", 20, 16);
  in = make_frame (&ii, FALSE, 0);
  add_annotation (in, 0, &inst, 1);
  gst_harness_push (h, gst_buffer_ref (in));
  out = gst_harness_pull (h);
  check_crop (&ii, &oi, out, rect, formats[3].fill, FALSE, in);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;


/* fit with padding 0.1, keypoint box 10..30 x 20..28: edges 8.5..32.5 x
 * 19.7..29.3, w = h = 24 around (20.5, 24.5): rect [9, 13, 24, 24], scale
 * 40 / 24 = 5 / 3. Keypoints: ((x + 0.5 - 9) * 5/3 - 0.5, ...). */
GST_START_TEST (test_metas_hand_computed)
{
  GstHarness *h = new_harness ("RGB", "width=40 height=40");
  GstVideoInfo ii;
  TestInst insts[2] = {
    {{{10, 20}, {NAN, NAN}, {30, 28}}, FALSE},
    {{{40, 10}, {44, 12}, {NAN, NAN}}, TRUE, {38.5, 9.5, 8, 4}},
  };
  GstBuffer *in, *out;
  const OpAnnotation *a;
  OpCropMeta *cm;
  OpAnnotationMeta *am;
  const OpInstance *ci;
  GstCaps *caps;
  GstStructure *s;
  gint fr_n, fr_d;

  video_info (&ii, "RGB", FRAME_W, FRAME_H);
  in = make_frame (&ii, TRUE, 12);
  add_annotation (in, 12, insts, 2);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);

  /* crop 0 */
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 12 * GST_SECOND / 30);
  fail_unless (!GST_BUFFER_DTS_IS_VALID (out));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 30);
  fail_unless_equals_int (gst_buffer_get_size (out), 40 * 40 * 3);
  cm = op_buffer_get_crop_meta (out);
  fail_unless (cm != NULL);
  a = &cm->ann;
  fail_unless (a->has_crop);
  fail_unless_equals_int (a->crop.instance, 0);
  fail_unless_equals_int (a->crop.rect[0], 9);
  fail_unless_equals_int (a->crop.rect[1], 13);
  fail_unless_equals_int (a->crop.rect[2], 24);
  fail_unless_equals_int (a->crop.rect[3], 24);
  fail_unless_equals_int (a->crop.width, 40);
  fail_unless_equals_int (a->crop.height, 40);
  fail_unless_equals_int (a->width, FRAME_W);
  fail_unless_equals_int (a->height, FRAME_H);
  fail_unless_equals_string (a->source, "clip");
  fail_unless_equals_uint64 (a->frame_index, 12);
  fail_unless_equals_uint64 (a->pts, 12 * GST_SECOND / 30);
  fail_unless (a->skeleton == skeleton);
  fail_unless_equals_int (op_annotation_n_instances (a), 1);
  ci = op_annotation_get_instance (a, 0);
  fail_unless_equals_int (ci->track, 5);
  fail_unless_equals_int (ci->kind, OP_INSTANCE_PREDICTED);
  fail_unless_equals_int (ci->n_keypoints, 3);
  assert_close (ci->keypoints[0].x, 2.0);
  assert_close (ci->keypoints[0].y, 12.0);
  fail_unless (isnan (ci->keypoints[1].x) && isnan (ci->keypoints[1].y));
  fail_unless (!ci->keypoints[1].visible);
  assert_close (ci->keypoints[2].x, 35.0 + 1.0 / 3);
  assert_close (ci->keypoints[2].y, 25.0 + 1.0 / 3);
  assert_close (ci->keypoints[2].score, 0.5);
  fail_unless (ci->keypoints[2].visible);
  fail_unless (!ci->has_bbox);
  /* the crop as a frame of its own */
  am = op_buffer_get_annotation_meta (out);
  fail_unless (am != NULL);
  fail_if (am->ann.has_crop);
  fail_unless_equals_int (am->ann.width, 40);
  fail_unless_equals_int (am->ann.height, 40);
  fail_unless_equals_uint64 (am->ann.frame_index, 12);
  fail_unless_equals_int (op_annotation_n_instances (&am->ann), 1);
  assert_close (op_annotation_get_instance (&am->ann, 0)->keypoints[2].x,
      35.0 + 1.0 / 3);
  gst_buffer_unref (out);

  /* crop 1 uses the bbox (box=auto): edges 38.2..47.8 x 9.6..14.4 ->
   * w = h = 10 around (43, 12): rect [38, 7, 10, 10], scale 4 */
  out = gst_harness_pull (h);
  a = &op_buffer_get_crop_meta (out)->ann;
  fail_unless_equals_int (a->crop.instance, 1);
  fail_unless_equals_int (a->crop.rect[0], 38);
  fail_unless_equals_int (a->crop.rect[1], 7);
  fail_unless_equals_int (a->crop.rect[2], 10);
  fail_unless_equals_int (a->crop.rect[3], 10);
  ci = op_annotation_get_instance (a, 0);
  fail_unless_equals_int (ci->track, 6);
  assert_close (ci->keypoints[0].x, (40 + 0.5 - 38) * 4 - 0.5);
  assert_close (ci->keypoints[0].x, 9.5);
  assert_close (ci->keypoints[1].y, (12 + 0.5 - 7) * 4 - 0.5);
  fail_unless (ci->has_bbox);
  assert_close (ci->bbox[0], (38.5 + 0.5 - 38) * 4 - 0.5);
  assert_close (ci->bbox[0], 3.5);
  assert_close (ci->bbox[1], 11.5);
  assert_close (ci->bbox[2], 32.0);
  assert_close (ci->bbox[3], 16.0);
  gst_buffer_unref (out);

  /* output caps: crop size, framerate 0/1, rest from the input */
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "RGB");
  fail_unless (gst_structure_get_fraction (s, "framerate", &fr_n, &fr_d));
  fail_unless_equals_int (fr_n, 0);
  fail_unless_equals_int (fr_d, 1);
  gst_structure_get_int (s, "width", &fr_n);
  gst_structure_get_int (s, "height", &fr_d);
  fail_unless_equals_int (fr_n, 40);
  fail_unless_equals_int (fr_d, 40);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

static guint
count_gaps (GstHarness * h, GstClockTime * last_ts, GstClockTime * last_dur)
{
  GstEvent *ev;
  guint n = 0;

  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      gst_event_parse_gap (ev, last_ts, last_dur);
      n++;
    }
    gst_event_unref (ev);
  }
  return n;
}

static guint
count_warnings (GstBus * bus, const gchar * needle)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    if (strstr (err->message, needle))
      n++;
    g_error_free (err);
    gst_message_unref (msg);
  }
  return n;
}

/* no meta, zero instances, unusable instances: gap events, no buffers,
 * warnings that say why */
GST_START_TEST (test_gaps_and_bad_instances)
{
  GstHarness *h = new_harness ("I420", "box=bbox");
  GstBus *bus = gst_bus_new ();
  GstVideoInfo ii;
  TestInst no_box = { {{10, 10}, {12, 12}, {NAN, NAN}
      }, FALSE
  };
  TestInst nan_box = { NO_KP, TRUE, {NAN, 3, 4, 5}
  };
  TestInst neg_box = { NO_KP, TRUE, {1, 3, -4, 5}
  };
  TestInst good = { NO_KP, TRUE, {9.5, 9.5, 20, 20}
  };
  TestInst mixed[3] = { nan_box, good, neg_box };
  GstClockTime ts = 0, dur = 0;
  GstBuffer *in, *out;

  gst_element_set_bus (h->element, bus);
  video_info (&ii, "I420", FRAME_W, FRAME_H);

  /* frame 0 without meta */
  gst_harness_push (h, make_frame (&ii, TRUE, 0));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (count_gaps (h, &ts, &dur), 1);
  fail_unless_equals_uint64 (ts, 0);
  fail_unless_equals_uint64 (dur, GST_SECOND / 30);

  /* frame 1 with zero instances */
  in = make_frame (&ii, TRUE, 1);
  add_annotation (in, 1, NULL, 0);
  gst_harness_push (h, in);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (count_gaps (h, &ts, &dur), 1);
  fail_unless_equals_uint64 (ts, GST_SECOND / 30);

  /* frame 2: the only instance has no bbox and box=bbox */
  in = make_frame (&ii, TRUE, 2);
  add_annotation (in, 2, &no_box, 1);
  gst_harness_push (h, in);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (count_gaps (h, &ts, &dur), 1);
  fail_unless_equals_uint64 (ts, 2 * GST_SECOND / 30);
  fail_unless_equals_int (count_warnings (bus, "no box"), 1);

  /* frame 3: NaN box, good box, negative box: one crop, instance 1 */
  in = make_frame (&ii, TRUE, 3);
  add_annotation (in, 3, mixed, 3);
  gst_harness_push (h, in);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  fail_unless_equals_int (count_gaps (h, &ts, &dur), 0);
  out = gst_harness_pull (h);
  fail_unless_equals_int (op_buffer_get_crop_meta (out)->ann.crop.instance, 1);
  gst_buffer_unref (out);
  /* the element warning is posted once per stream, later skips are logged */
  fail_unless_equals_int (count_warnings (bus, "skipped"), 0);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* a single keypoint gives a zero-size box: the 1x1 rect of its pixel,
 * scaled up (bilinear, so the neighbours show), not a crash */
GST_START_TEST (test_zero_size_box)
{
  GstHarness *h = new_harness ("GRAY8", "mode=stretch width=8 height=8");
  GstVideoInfo ii, oi;
  TestInst one = { {{20, 30}, {NAN, NAN}, {NAN, NAN}
      }, FALSE
  };
  const gint rect[4] = { 20, 30, 1, 1 };
  GstBuffer *in, *out;
  const OpCropInfo *crop;
  const OpInstance *ci;

  video_info (&ii, "GRAY8", FRAME_W, FRAME_H);
  video_info (&oi, "GRAY8", 8, 8);
  in = make_frame (&ii, TRUE, 0);
  add_annotation (in, 0, &one, 1);
  gst_harness_push (h, gst_buffer_ref (in));
  out = gst_harness_pull (h);
  crop = &op_buffer_get_crop_meta (out)->ann.crop;
  fail_unless_equals_int (crop->rect[0], 20);
  fail_unless_equals_int (crop->rect[1], 30);
  fail_unless_equals_int (crop->rect[2], 1);
  fail_unless_equals_int (crop->rect[3], 1);
  check_crop (&ii, &oi, out, rect, formats[5].fill, TRUE, in);
  /* the point sits in the middle of the crop */
  ci = op_annotation_get_instance (&op_buffer_get_crop_meta (out)->ann, 0);
  assert_close (ci->keypoints[0].x, 3.5);
  assert_close (ci->keypoints[0].y, 3.5);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_unknown_anchor_warns)
{
  GstHarness *h = new_harness ("RGB",
      "mode=center anchor-node=wing width=8 height=8");
  GstBus *bus = gst_bus_new ();
  GstVideoInfo ii;
  TestInst inst = { {{10, 10}, {20, 20}, {NAN, NAN}}, FALSE };
  GstBuffer *in, *out;

  gst_element_set_bus (h->element, bus);
  video_info (&ii, "RGB", FRAME_W, FRAME_H);
  in = make_frame (&ii, FALSE, 0);
  add_annotation (in, 0, &inst, 1);
  gst_harness_push (h, in);
  out = gst_harness_pull (h);
  /* box centre (15.5, 15.5) edge coordinates: x = round (15.5 - 4) */
  fail_unless_equals_int (op_buffer_get_crop_meta (out)->ann.crop.rect[0], 12);
  gst_buffer_unref (out);
  fail_unless_equals_int (count_warnings (bus, "\"wing\""), 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* caps: downstream restrictions reach upstream, any frame size passes */
GST_START_TEST (test_caps_both_ways)
{
  GstHarness *h = gst_harness_new_parse ("cropextract width=100 height=50");
  GstCaps *caps, *want;
  guint i;

  /* downstream only takes GRAY8 100x50 crops */
  gst_harness_set_sink_caps_str (h, "video/x-raw, format=GRAY8, width=100, "
      "height=50, framerate=0/1");
  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  fail_if (gst_caps_is_empty (caps));
  for (i = 0; i < gst_caps_get_size (caps); i++)
    fail_unless_equals_string (gst_structure_get_string
        (gst_caps_get_structure (caps, i), "format"), "GRAY8");
  want = gst_caps_from_string ("video/x-raw, format=GRAY8, width=640, "
      "height=480, framerate=25/1");
  fail_unless (gst_caps_can_intersect (caps, want));
  fail_unless (gst_pad_peer_query_accept_caps (h->srcpad, want));
  gst_caps_unref (want);
  gst_caps_unref (caps);
  gst_harness_teardown (h);

  /* a downstream that takes another size: nothing upstream can offer */
  h = gst_harness_new_parse ("cropextract width=100 height=50");
  gst_harness_set_sink_caps_str (h, "video/x-raw, format=GRAY8, width=64, "
      "height=64, framerate=0/1");
  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  if (!gst_caps_is_empty (caps))
    fail ("want no caps: %s", gst_caps_to_string (caps));
  gst_caps_unref (caps);
  gst_harness_teardown (h);

  /* downstream direction: I420 720p in, 100x50 I420 at 0/1 out */
  h = gst_harness_new_parse ("cropextract width=100 height=50");
  gst_harness_set_src_caps_str (h, "video/x-raw, format=I420, width=1280, "
      "height=720, framerate=30/1, pixel-aspect-ratio=1/1");
  caps = gst_pad_get_current_caps (h->sinkpad);
  want = gst_caps_from_string ("video/x-raw, format=I420, width=100, "
      "height=50, framerate=0/1, pixel-aspect-ratio=1/1");
  if (!gst_caps_is_subset (caps, want))
    fail ("unexpected output caps: %s", gst_caps_to_string (caps));
  gst_caps_unref (want);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* a downstream that wants another crop size fails negotiation */
GST_START_TEST (test_caps_size_mismatch)
{
  GstHarness *h = gst_harness_new_parse ("cropextract width=32 height=32");
  GstVideoInfo ii;
  TestInst inst = { NO_KP, TRUE, {9.5, 9.5, 20, 20}
  };
  GstBuffer *in;

  gst_harness_set_sink_caps_str (h, "video/x-raw, format=RGB, width=64, "
      "height=64, framerate=0/1");
  gst_harness_set_src_caps_str (h, "video/x-raw, format=RGB, width=64, "
      "height=48, framerate=30/1");
  video_info (&ii, "RGB", FRAME_W, FRAME_H);
  in = make_frame (&ii, FALSE, 0);
  add_annotation (in, 0, &inst, 1);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* a flush between frames leaves no stale state */
GST_START_TEST (test_flush)
{
  GstHarness *h = new_harness ("RGB", "mode=center width=8 height=8");
  GstVideoInfo ii;
  TestInst inst = { {{10, 10}, {NAN, NAN}, {NAN, NAN}
      }, FALSE
  };
  GstSegment seg;
  GstBuffer *in, *out;

  video_info (&ii, "RGB", FRAME_W, FRAME_H);
  in = make_frame (&ii, FALSE, 0);
  add_annotation (in, 0, &inst, 1);
  gst_harness_push (h, in);
  gst_buffer_unref (gst_harness_pull (h));

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));

  in = make_frame (&ii, FALSE, 1);
  add_annotation (in, 1, &inst, 1);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (op_buffer_get_crop_meta (out)->ann.frame_index, 1);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_SECOND / 30);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* NULL -> PLAYING -> NULL twice with a new size in between: each run
 * negotiates its size, and frames without annotation meta give the EOS
 * warning each time (counters reset in start) */
GST_START_TEST (test_restart_and_eos_warning)
{
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=3 ! "
      "video/x-raw, format=I420, width=64, height=48 ! "
      "cropextract name=c width=16 height=16 ! fakesink name=s", NULL);
  GstElement *c = gst_bin_get_by_name (GST_BIN (pipe), "c");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "s");
  GstBus *bus = gst_element_get_bus (pipe);
  guint run;

  for (run = 0; run < 2; run++) {
    GstMessage *msg;
    GstPad *pad;
    GstCaps *caps;
    gint w = 0;
    gboolean warned = FALSE;

    g_object_set (c, "width", run ? 24 : 16, NULL);
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    while ((msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
                GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_WARNING))) {
      GstMessageType t = GST_MESSAGE_TYPE (msg);

      if (t == GST_MESSAGE_WARNING) {
        GError *err = NULL;

        gst_message_parse_warning (msg, &err, NULL);
        warned |= strstr (err->message, "None of the 3 frames") != NULL;
        g_error_free (err);
      }
      gst_message_unref (msg);
      fail_if (t == GST_MESSAGE_ERROR);
      if (t == GST_MESSAGE_EOS)
        break;
    }
    fail_unless (warned, "run %u: no warning about missing metas", run);
    pad = gst_element_get_static_pad (sink, "sink");
    caps = gst_pad_get_current_caps (pad);
    gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &w);
    fail_unless_equals_int (w, run ? 24 : 16);
    gst_caps_unref (caps);
    gst_object_unref (pad);
    gst_element_set_state (pipe, GST_STATE_NULL);
  }
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (c);
  gst_object_unref (pipe);
}

GST_END_TEST;

/* the property ranges are what the element accepts: gst-inspect shows the
 * truth, and GObject refuses the rest before the element sees it */
GST_START_TEST (test_absurd_sizes)
{
  GstElement *c = gst_element_factory_make ("cropextract", NULL);
  const gchar *names[] = { "width", "height" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    GParamSpecInt *p = G_PARAM_SPEC_INT (g_object_class_find_property
        (G_OBJECT_GET_CLASS (c), names[i]));
    fail_unless_equals_int (p->minimum, 1);
    fail_unless_equals_int (p->maximum, 8192);
    fail_unless_equals_int (p->default_value, 328);
  }
  gst_object_unref (c);
}

GST_END_TEST;

/* every decoded frame of the real video carries its predicted instances */
static void
count_crop (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  guint64 *n = data;
  OpCropMeta *cm = op_buffer_get_crop_meta (buf);

  fail_unless (cm != NULL);
  fail_unless_equals_int (op_annotation_n_instances (&cm->ann), 1);
  fail_unless_equals_int (gst_buffer_get_size (buf), 328 * 328 * 3 / 2);
  (*n)++;
}

GST_START_TEST (test_realdata_counts)
{
  const gchar *data = g_getenv ("ONEPASS_SHARED_DATA");
  GstElement *pipe, *sink;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  guint64 crops = 0;
  gchar *desc;

  fail_unless (data != NULL);
  desc = g_strdup_printf ("filesrc location=%s/sleap/"
      "centered_pair_low_quality.mp4 ! decodebin ! "
      "annotfilter location=%s/sleap/centered_pair_predictions.slp "
      "instances=predicted ! cropextract ! "
      "video/x-raw, format=I420 ! fakesink name=s signal-handoffs=true",
      data, data);
  pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (pipe != NULL && err == NULL, "pipeline: %s",
      err ? err->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "s");
  g_signal_connect (sink, "handoff", G_CALLBACK (count_crop), &crops);
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  /* 2274 = predicted instances of centered_pair_predictions.slp with at
   * least one present keypoint (visible and x, y not NaN), counted with
   * h5py over /instances (instance_type == 1) and /pred_points; all 1100
   * labeled frames are in the video. tests/python/test_cropextract.py
   * recomputes it. */
  fail_unless_equals_uint64 (crops, 2274);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}

GST_END_TEST;

static Suite *
cropextract_suite (void)
{
  Suite *s = suite_create ("cropextract");
  TCase *tc = tcase_create ("general");
  TCase *tr = tcase_create ("realdata");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_pixels_linear);
  tcase_add_test (tc, test_pixels_exact_copy);
  tcase_add_test (tc, test_gray_matches_rgb);
  tcase_add_test (tc, test_center_odd_rect_exact);
  tcase_add_test (tc, test_metas_hand_computed);
  tcase_add_test (tc, test_gaps_and_bad_instances);
  tcase_add_test (tc, test_zero_size_box);
  tcase_add_test (tc, test_unknown_anchor_warns);
  tcase_add_test (tc, test_caps_both_ways);
  tcase_add_test (tc, test_caps_size_mismatch);
  tcase_add_test (tc, test_absurd_sizes);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_restart_and_eos_warning);

  suite_add_tcase (s, tr);
  tcase_set_timeout (tr, 300);
  tcase_add_test (tr, test_realdata_counts);
  return s;
}

GST_CHECK_MAIN (cropextract);
