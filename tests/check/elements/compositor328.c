/* Tests for compositor328: pixels against hand-computed values and a
 * test-local reference (double-precision bilinear with the design's crop
 * formula), and two-pad harness tests for matching, ordering, missing,
 * late and extra crops, EOS on either pad, flushing and the rects file. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <onepass/onepass.h>

#define FPS 30
#define FRAME_DUR (GST_SECOND / FPS)

typedef struct
{
  GstElement *el;
  GstHarness *full;
  GstHarness *crop;
  GstBus *bus;
} Fixture;

/* The element with both pads under harnesses (the cccombiner pattern). A
 * latency lets both pad queues hold several buffers, so one test thread
 * can push everything before pulling. */
static void
fixture_init_downstream (Fixture * f, const gchar * full_caps,
    const gchar * crop_caps, const gchar * rects_location,
    const gchar * downstream_caps)
{
  GstPad *pad;

  f->el = gst_element_factory_make ("compositor328", NULL);
  fail_unless (f->el != NULL);
  g_object_set (f->el, "latency", (guint64) 10 * GST_SECOND, NULL);
  if (rects_location)
    g_object_set (f->el, "rects-location", rects_location, NULL);
  f->bus = gst_bus_new ();
  gst_element_set_bus (f->el, f->bus);
  f->full = gst_harness_new_with_element (f->el, "sink_full", "src");
  if (downstream_caps)
    gst_harness_set_sink_caps_str (f->full, downstream_caps);
  f->crop = gst_harness_new_with_element (f->full->element, NULL, NULL);
  pad = gst_element_get_static_pad (f->el, "sink_crop");
  gst_harness_add_element_sink_pad (f->crop, pad);
  gst_object_unref (pad);
  gst_harness_set_src_caps_str (f->full, full_caps);
  gst_harness_set_src_caps_str (f->crop, crop_caps);
}

static void
fixture_init (Fixture * f, const gchar * full_caps, const gchar * crop_caps,
    const gchar * rects_location)
{
  fixture_init_downstream (f, full_caps, crop_caps, rects_location, NULL);
}

static void
fixture_clear (Fixture * f)
{
  gst_harness_teardown (f->crop);
  gst_harness_teardown (f->full);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_object_unref (f->el);
}

static guint64
get_u64 (GstElement * el, const gchar * name)
{
  guint64 v;

  g_object_get (el, name, &v, NULL);
  return v;
}

static gchar *
caps_str (GstVideoFormat fmt, gint w, gint h, gint fps_n)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=%d/1", gst_video_format_to_string (fmt), w, h, fps_n);
}

/* A frame whose every byte is a known function of plane, x and y. */
static GstBuffer *
pattern_buffer (GstVideoFormat fmt, gint w, gint h, gint seed, GstClockTime pts)
{
  GstVideoInfo info;
  GstVideoFrame vf;
  GstBuffer *buf;
  guint p;
  gint x, y;

  gst_video_info_set_format (&info, fmt, w, h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  fail_unless (gst_video_frame_map (&vf, &info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&vf); p++) {
    guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&vf, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, p);
    gsize end = p + 1 < GST_VIDEO_FRAME_N_PLANES (&vf) ?
        GST_VIDEO_INFO_PLANE_OFFSET (&info, p + 1) : info.size;
    gint rows = (end - GST_VIDEO_INFO_PLANE_OFFSET (&info, p)) / stride;

    for (y = 0; y < rows; y++)
      for (x = 0; x < stride; x++)
        d[y * stride + x] = (x * 7 + y * 13 + p * 50 + seed * 31) & 0xff;
  }
  gst_video_frame_unmap (&vf);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME_DUR;
  return buf;
}

static GstBuffer *
constant_buffer (GstVideoFormat fmt, gint w, gint h, guint8 value,
    GstClockTime pts)
{
  GstVideoInfo info;
  GstBuffer *buf;

  gst_video_info_set_format (&info, fmt, w, h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, value, info.size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME_DUR;
  return buf;
}

static void
add_crop_meta (GstBuffer * crop, gint x, gint y, gint w, gint h, gint cw,
    gint ch, guint64 frame_index)
{
  OpAnnotation ann;

  op_annotation_init (&ann);
  ann.frame_index = frame_index;
  ann.has_crop = TRUE;
  ann.crop.rect[0] = x;
  ann.crop.rect[1] = y;
  ann.crop.rect[2] = w;
  ann.crop.rect[3] = h;
  ann.crop.width = cw;
  ann.crop.height = ch;
  op_buffer_add_crop_meta (crop, &ann);
  op_annotation_clear (&ann);
}

static GstBuffer *
meta_crop (GstBuffer * crop, gint x, gint y, gint w, gint h, gint cw, gint ch)
{
  add_crop_meta (crop, x, y, w, h, cw, ch, 0);
  return crop;
}

/* Per plane: the plane pixels covered by luma span [r0, r0 + size). */
static void
span (gint r0, gint size, gint sub, gint limit, gint * lo, gint * hi)
{
  gint a = (gint) floor ((gdouble) r0 / sub);
  gint b = (gint) ceil ((gdouble) (r0 + size) / sub);

  *lo = MAX (a, 0);
  *hi = MIN (b, limit);
}

/* Double-precision reference of the paste: the value a plane pixel of the
 * frame gets when the crop is scaled onto rect (design formula inverted,
 * edge clamped). */
static gdouble
ref_sample (const GstVideoFrame * crop, guint p, gint n, gint k,
    const gint rect[4], gint sx, gint sy, gint X, gint Y)
{
  gint cw = GST_VIDEO_FRAME_COMP_WIDTH (crop, p == 0 ? 0 : 1);
  gint ch = GST_VIDEO_FRAME_COMP_HEIGHT (crop, p == 0 ? 0 : 1);
  const guint8 *s = GST_VIDEO_FRAME_PLANE_DATA (crop, p);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (crop, p);
  gdouble u = (X + 0.5 - (gdouble) rect[0] / sx) * cw / ((gdouble) rect[2] /
      sx) - 0.5;
  gdouble v = (Y + 0.5 - (gdouble) rect[1] / sy) * ch / ((gdouble) rect[3] /
      sy) - 0.5;
  gint u0, v0, u1, v1;
  gdouble fu, fv, a, b;

  u = CLAMP (u, 0, cw - 1);
  v = CLAMP (v, 0, ch - 1);
  u0 = (gint) floor (u);
  v0 = (gint) floor (v);
  u1 = MIN (u0 + 1, cw - 1);
  v1 = MIN (v0 + 1, ch - 1);
  fu = u - u0;
  fv = v - v0;
  a = s[v0 * stride + u0 * n + k] * (1 - fu) + s[v0 * stride + u1 * n + k] * fu;
  b = s[v1 * stride + u0 * n + k] * (1 - fu) + s[v1 * stride + u1 * n + k] * fu;
  return a * (1 - fv) + b * fv;
}

/* Checks @out against @orig with @crop pasted at @rect: every byte inside
 * the rect within @tol of the reference, every byte outside unchanged.
 * Planes are walked with their own subsampling. */
static void
check_paste (GstVideoInfo * info, GstBuffer * out, GstBuffer * orig,
    GstVideoInfo * cinfo, GstBuffer * crop, const gint rect[4], gint tol)
{
  GstVideoFrame o, f, c;
  guint p;

  fail_unless (gst_video_frame_map (&o, info, out, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&f, info, orig, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&c, cinfo, crop, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&o); p++) {
    guint comp = p == 0 ? 0 : (GST_VIDEO_INFO_N_PLANES (info) == 2 ? 1 : p);
    gint n = GST_VIDEO_FRAME_COMP_PSTRIDE (&o, comp);
    gint pw = GST_VIDEO_FRAME_COMP_WIDTH (&o, comp);
    gint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&o, comp);
    gint sx = 1 << GST_VIDEO_FORMAT_INFO_W_SUB (info->finfo, comp);
    gint sy = 1 << GST_VIDEO_FORMAT_INFO_H_SUB (info->finfo, comp);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&o, p);
    const guint8 *od = GST_VIDEO_FRAME_PLANE_DATA (&o, p);
    const guint8 *fd = GST_VIDEO_FRAME_PLANE_DATA (&f, p);
    gint x0, x1, y0, y1, X, Y, k;

    span (rect[0], rect[2], sx, pw, &x0, &x1);
    span (rect[1], rect[3], sy, ph, &y0, &y1);
    for (Y = 0; Y < ph; Y++) {
      for (X = 0; X < pw; X++) {
        for (k = 0; k < n; k++) {
          gint got = od[Y * stride + X * n + k];

          if (X >= x0 && X < x1 && Y >= y0 && Y < y1) {
            gdouble want = ref_sample (&c, p, n, k, rect, sx, sy, X, Y);

            if (fabs (got - want) > tol + 0.5)
              fail ("plane %u (%d, %d) byte %d: got %d, reference %.2f "
                  "(%s)", p, X, Y, k, got, want, GST_VIDEO_INFO_NAME (info));
          } else if (got != fd[Y * stride + X * n + k]) {
            fail ("plane %u (%d, %d) byte %d outside the rect changed: "
                "%d -> %d (%s)", p, X, Y, k, fd[Y * stride + X * n + k],
                got, GST_VIDEO_INFO_NAME (info));
          }
        }
      }
    }
  }
  gst_video_frame_unmap (&c);
  gst_video_frame_unmap (&f);
  gst_video_frame_unmap (&o);
}

static gpointer
buffer_data (GstBuffer * buf)
{
  GstMapInfo map;
  gpointer data;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  data = map.data;
  gst_buffer_unmap (buf, &map);
  return data;
}

/* Crop 16x12 pasted unscaled: exact bytes, in place, metas kept. */
GST_START_TEST (test_unscaled_exact_in_place)
{
  Fixture f;
  gchar *fc = caps_str (GST_VIDEO_FORMAT_RGB, 64, 48, FPS);
  gchar *cc = caps_str (GST_VIDEO_FORMAT_RGB, 16, 12, 0);
  GstBuffer *frame, *orig, *crop, *out;
  GstVideoInfo info, cinfo;
  const gint rect[4] = { 10, 8, 16, 12 };
  gpointer data;
  OpAnnotation ann;
  const OpAnnotation *got;

  fixture_init (&f, fc, cc, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 64, 48);
  gst_video_info_set_format (&cinfo, GST_VIDEO_FORMAT_RGB, 16, 12);
  frame = pattern_buffer (GST_VIDEO_FORMAT_RGB, 64, 48, 1, 0);
  op_annotation_init (&ann);
  ann.frame_index = 7;
  ann.width = 64;
  ann.height = 48;
  op_buffer_add_annotation_meta (frame, &ann);
  op_annotation_clear (&ann);
  orig = gst_buffer_copy_deep (frame);
  crop = meta_crop (pattern_buffer (GST_VIDEO_FORMAT_RGB, 16, 12, 5, 0),
      10, 8, 16, 12, 16, 12);
  data = buffer_data (frame);

  fail_unless_equals_int (gst_harness_push (f.full, frame), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (f.crop, gst_buffer_ref (crop)),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f.crop, gst_event_new_eos ()));
  out = gst_harness_pull (f.full);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);
  /* the writable frame was pasted into, not copied */
  fail_unless (buffer_data (out) == data);
  check_paste (&info, out, orig, &cinfo, crop, rect, 0);
  got = op_buffer_get_annotation (out);
  fail_unless (got != NULL);
  fail_unless_equals_uint64 (got->frame_index, 7);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-pasted"), 1);
  fail_unless_equals_uint64 (get_u64 (f.el, "frames"), 1);

  gst_buffer_unref (out);
  gst_buffer_unref (orig);
  gst_buffer_unref (crop);
  fixture_clear (&f);
  g_free (fc);
  g_free (cc);
}

GST_END_TEST;

/* A frame someone else still holds is copied, and the holder's copy is
 * left untouched. */
GST_START_TEST (test_shared_frame_not_modified)
{
  Fixture f;
  gchar *fc = caps_str (GST_VIDEO_FORMAT_GRAY8, 16, 16, FPS);
  gchar *cc = caps_str (GST_VIDEO_FORMAT_GRAY8, 4, 4, 0);
  GstBuffer *frame, *out;
  GstMapInfo map;
  gint i;

  fixture_init (&f, fc, cc, NULL);
  frame = constant_buffer (GST_VIDEO_FORMAT_GRAY8, 16, 16, 10, 0);
  gst_harness_push (f.full, gst_buffer_ref (frame));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 200, 0), 0, 0, 4, 4, 4, 4));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  fail_unless (buffer_data (out) != buffer_data (frame));
  gst_buffer_map (frame, &map, GST_MAP_READ);
  for (i = 0; i < 256; i++)
    fail_unless_equals_int (map.data[i], 10);
  gst_buffer_unmap (frame, &map);
  gst_buffer_map (out, &map, GST_MAP_READ);
  fail_unless_equals_int (map.data[0], 200);
  fail_unless_equals_int (map.data[3 * 16 + 3], 200);
  fail_unless_equals_int (map.data[4 * 16 + 4], 10);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_buffer_unref (frame);
  fixture_clear (&f);
  g_free (fc);
  g_free (cc);
}

GST_END_TEST;

/* 2x2 crop scaled onto a 4x4 rect; values worked out by hand from
 * u = (X + 0.5) * 2 / 4 - 0.5 (clamped) and the same for v. */
GST_START_TEST (test_scaled_hand_values)
{
  static const guint8 want[4][4] = {
    {0, 25, 75, 100},
    {50, 59, 76, 85},
    {150, 126, 79, 55},
    {200, 160, 80, 40},
  };
  static const guint8 cpx[4] = { 0, 100, 200, 40 };
  Fixture f;
  GstVideoInfo cinfo;
  GstVideoFrame vf;
  GstBuffer *crop, *out;
  GstMapInfo map;
  gint x, y;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=2,height=2,"
      "framerate=0/1", NULL);
  gst_video_info_set_format (&cinfo, GST_VIDEO_FORMAT_GRAY8, 2, 2);
  crop = gst_buffer_new_allocate (NULL, cinfo.size, NULL);
  gst_video_frame_map (&vf, &cinfo, crop, GST_MAP_WRITE);
  for (y = 0; y < 2; y++)
    for (x = 0; x < 2; x++)
      ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0))[y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0) + x] = cpx[y * 2 + x];
  gst_video_frame_unmap (&vf);
  GST_BUFFER_PTS (crop) = 0;
  add_crop_meta (crop, 2, 2, 4, 4, 2, 2, 0);

  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          10, 0));
  gst_harness_push (f.crop, crop);
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  gst_buffer_map (out, &map, GST_MAP_READ);
  for (y = 0; y < 8; y++)
    for (x = 0; x < 8; x++) {
      gint expect = (x >= 2 && x < 6 && y >= 2 && y < 6) ?
          want[y - 2][x - 2] : 10;
      fail_unless (map.data[y * 8 + x] == expect, "(%d, %d): %d != %d", x, y,
          map.data[y * 8 + x], expect);
    }
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  fixture_clear (&f);
}

GST_END_TEST;

static const GstVideoFormat formats[] = {
  GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
  GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420,
  GST_VIDEO_FORMAT_NV12,
};

/* Per format: an unscaled paste at even coordinates is exact in every
 * plane; a scaled one matches the reference within 1 everywhere, with
 * nothing outside the rect touched. */
GST_START_TEST (test_formats)
{
  GstVideoFormat fmt = formats[__i__];
  const gint exact[4] = { 8, 6, 16, 16 };
  const gint scaled[4] = { 20, 10, 26, 30 };
  /* unscaled across the top-left corner: the row-copy path, clipped */
  const gint corner[4] = { -4, -2, 16, 16 };
  Fixture f;
  gchar *fc = caps_str (fmt, 64, 48, FPS);
  gchar *cc = caps_str (fmt, 16, 16, 0);
  GstVideoInfo info, cinfo;
  GstBuffer *orig, *crop0, *crop1, *crop2, *out;

  gst_video_info_set_format (&info, fmt, 64, 48);
  gst_video_info_set_format (&cinfo, fmt, 16, 16);
  fixture_init (&f, fc, cc, NULL);
  orig = pattern_buffer (fmt, 64, 48, 2, 0);
  crop0 = meta_crop (pattern_buffer (fmt, 16, 16, 3, 0), exact[0], exact[1],
      exact[2], exact[3], 16, 16);
  crop1 = meta_crop (pattern_buffer (fmt, 16, 16, 4, FRAME_DUR), scaled[0],
      scaled[1], scaled[2], scaled[3], 16, 16);
  crop2 = meta_crop (pattern_buffer (fmt, 16, 16, 5, 2 * FRAME_DUR),
      corner[0], corner[1], corner[2], corner[3], 16, 16);

  gst_harness_push (f.full, gst_buffer_copy_deep (orig));
  gst_harness_push (f.crop, gst_buffer_ref (crop0));
  gst_harness_push (f.full, pattern_buffer (fmt, 64, 48, 2, FRAME_DUR));
  gst_harness_push (f.crop, gst_buffer_ref (crop1));
  gst_harness_push (f.full, pattern_buffer (fmt, 64, 48, 2, 2 * FRAME_DUR));
  gst_harness_push (f.crop, gst_buffer_ref (crop2));
  gst_harness_push_event (f.crop, gst_event_new_eos ());

  out = gst_harness_pull (f.full);
  check_paste (&info, out, orig, &cinfo, crop0, exact, 0);
  gst_buffer_unref (out);
  out = gst_harness_pull (f.full);
  check_paste (&info, out, orig, &cinfo, crop1, scaled, 1);
  gst_buffer_unref (out);
  out = gst_harness_pull (f.full);
  check_paste (&info, out, orig, &cinfo, crop2, corner, 0);
  gst_buffer_unref (out);

  gst_buffer_unref (orig);
  gst_buffer_unref (crop0);
  gst_buffer_unref (crop1);
  gst_buffer_unref (crop2);
  fixture_clear (&f);
  g_free (fc);
  g_free (cc);
}

GST_END_TEST;

/* Rects past the frame edges are clipped: the inside part is right and
 * nothing outside the rect changes. */
GST_START_TEST (test_clipped_rects)
{
  const gint tl[4] = { -8, -6, 32, 24 };
  const gint br[4] = { 50, 40, 20, 20 };
  Fixture f;
  GstVideoInfo info, cinfo;
  GstBuffer *orig, *c0, *c1, *out, *mid;

  fixture_init (&f, "video/x-raw,format=RGB,width=64,height=48,"
      "framerate=30/1", "video/x-raw,format=RGB,width=16,height=12,"
      "framerate=0/1", NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 64, 48);
  gst_video_info_set_format (&cinfo, GST_VIDEO_FORMAT_RGB, 16, 12);
  orig = pattern_buffer (GST_VIDEO_FORMAT_RGB, 64, 48, 6, 0);
  c0 = meta_crop (pattern_buffer (GST_VIDEO_FORMAT_RGB, 16, 12, 7, 0),
      tl[0], tl[1], tl[2], tl[3], 16, 12);
  c1 = meta_crop (pattern_buffer (GST_VIDEO_FORMAT_RGB, 16, 12, 8, 0),
      br[0], br[1], br[2], br[3], 16, 12);
  gst_harness_push (f.full, gst_buffer_copy_deep (orig));
  gst_harness_push (f.crop, gst_buffer_ref (c0));
  gst_harness_push (f.crop, gst_buffer_ref (c1));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  /* check each paste against a frame that has only the other one */
  mid = gst_buffer_copy_deep (orig);
  {
    GstVideoFrame o, m;
    gint y;

    gst_video_frame_map (&o, &info, out, GST_MAP_READ);
    gst_video_frame_map (&m, &info, mid, GST_MAP_WRITE);
    /* rows 0..17 hold the first paste only: copy them into mid */
    for (y = 0; y < 18; y++)
      memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&m, 0) + y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&m, 0),
          (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&o, 0) + y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&o, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (&o, 0));
    gst_video_frame_unmap (&m);
    gst_video_frame_unmap (&o);
  }
  check_paste (&info, out, mid, &cinfo, c1, br, 1);
  gst_buffer_unref (mid);
  mid = gst_buffer_copy_deep (orig);
  {
    GstVideoFrame o, m;
    gint y;

    gst_video_frame_map (&o, &info, out, GST_MAP_READ);
    gst_video_frame_map (&m, &info, mid, GST_MAP_WRITE);
    for (y = 40; y < 48; y++)
      memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&m, 0) + y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&m, 0),
          (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&o, 0) + y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&o, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (&o, 0));
    gst_video_frame_unmap (&m);
    gst_video_frame_unmap (&o);
  }
  check_paste (&info, out, mid, &cinfo, c0, tl, 1);
  gst_buffer_unref (mid);
  gst_buffer_unref (out);
  gst_buffer_unref (orig);
  gst_buffer_unref (c0);
  gst_buffer_unref (c1);
  fixture_clear (&f);
}

GST_END_TEST;

static void
rgb_at (GstBuffer * buf, gint w, gint x, gint y, guint8 px[3])
{
  GstVideoInfo info;
  GstVideoFrame vf;
  const guint8 *d;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, w);
  fail_unless (gst_video_frame_map (&vf, &info, buf, GST_MAP_READ));
  d = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0) + y *
      GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0) + x * 3;
  memcpy (px, d, 3);
  gst_video_frame_unmap (&vf);
}

/* alpha 0.5 of 200 over 100 gives 150; a 2-pixel green border is drawn
 * inside the rect. */
GST_START_TEST (test_alpha_border)
{
  Fixture f;
  GstBuffer *out;
  guint8 px[3];

  fixture_init (&f, "video/x-raw,format=RGB,width=32,height=32,"
      "framerate=30/1", "video/x-raw,format=RGB,width=16,height=16,"
      "framerate=0/1", NULL);
  g_object_set (f.el, "alpha", 0.5, "border-width", 2, "border-color",
      0xff00ff00, NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_RGB, 32, 32,
          100, 0));
  gst_harness_push (f.crop, meta_crop (constant_buffer (GST_VIDEO_FORMAT_RGB,
              16, 16, 200, 0), 8, 8, 16, 16, 16, 16));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  rgb_at (out, 32, 12, 12, px);
  fail_unless (px[0] == 150 && px[1] == 150 && px[2] == 150);
  rgb_at (out, 32, 7, 7, px);
  fail_unless (px[0] == 100 && px[1] == 100 && px[2] == 100);
  rgb_at (out, 32, 8, 15, px);
  fail_unless (px[0] == 0 && px[1] == 255 && px[2] == 0);
  rgb_at (out, 32, 23, 23, px);
  fail_unless (px[0] == 0 && px[1] == 255 && px[2] == 0);
  rgb_at (out, 32, 15, 9, px);
  fail_unless (px[0] == 0 && px[1] == 255 && px[2] == 0);
  rgb_at (out, 32, 10, 10, px);
  fail_unless_equals_int (px[0], 150);
  rgb_at (out, 32, 24, 24, px);
  fail_unless_equals_int (px[0], 100);
  gst_buffer_unref (out);
  fixture_clear (&f);
}

GST_END_TEST;

static guint8
first_byte (GstBuffer * buf)
{
  guint8 v;

  gst_buffer_extract (buf, 0, &v, 1);
  return v;
}

/* Frame values 10, 20, 30, 40 (rect at the origin, crops 200 + i).
 * Crops: frame 0, frame 2, a late one for frame 1 (after frame 2's), one
 * past the last frame. */
GST_START_TEST (test_missing_late_extra)
{
  Fixture f;
  GstBuffer *out;
  GstMessage *msg;
  const GstStructure *s;
  guint64 v;
  gint i;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  for (i = 0; i < 4; i++)
    gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
            10 * (i + 1), i * FRAME_DUR));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 200, 0), 0, 0, 4, 4, 4, 4));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 202, 2 * FRAME_DUR), 0, 0, 4, 4, 4,
          4));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 201, FRAME_DUR), 0, 0, 4, 4, 4, 4));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 209, 9 * FRAME_DUR), 0, 0, 4, 4, 4,
          4));
  gst_harness_push_event (f.full, gst_event_new_eos ());

  for (i = 0; i < 4; i++) {
    const guint8 want[4] = { 200, 20, 202, 40 };

    out = gst_harness_pull (f.full);
    fail_unless (out != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DUR);
    fail_unless_equals_int (first_byte (out), want[i]);
    gst_buffer_unref (out);
  }
  msg = gst_bus_timed_pop_filtered (f.bus, 10 * GST_SECOND,
      GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "compositor328-stats"));
  gst_structure_get_uint64 (s, "frames", &v);
  fail_unless_equals_uint64 (v, 4);
  gst_structure_get_uint64 (s, "crops-pasted", &v);
  fail_unless_equals_uint64 (v, 2);
  gst_structure_get_uint64 (s, "crops-dropped", &v);
  fail_unless_equals_uint64 (v, 2);
  gst_structure_get_uint64 (s, "frames-without-crops", &v);
  fail_unless_equals_uint64 (v, 2);
  gst_message_unref (msg);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 2);
  fixture_clear (&f);
}

GST_END_TEST;

/* Several crops of one frame (same PTS, framerate 0/1) are all pasted. */
GST_START_TEST (test_several_crops_per_frame)
{
  Fixture f;
  GstBuffer *out;
  GstMapInfo map;
  gint i;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=16,height=4,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 16, 4,
          1, 0));
  for (i = 0; i < 3; i++)
    gst_harness_push (f.crop, meta_crop (constant_buffer
            (GST_VIDEO_FORMAT_GRAY8, 4, 4, 100 + i, 0), 4 * i, 0, 4, 4, 4, 4));
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 16, 4,
          2, FRAME_DUR));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  gst_buffer_map (out, &map, GST_MAP_READ);
  for (i = 0; i < 16; i++)
    fail_unless_equals_int (map.data[16 + i], i < 12 ? 100 + i / 4 : 1);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  /* the next frame gets none of them again */
  out = gst_harness_pull (f.full);
  gst_buffer_map (out, &map, GST_MAP_READ);
  for (i = 0; i < 64; i++)
    fail_unless_equals_int (map.data[i], 2);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (get_u64 (f.el, "frames-without-crops"), 1);
  fixture_clear (&f);
}

GST_END_TEST;

/* EOS on sink_crop first: frames pass unchanged; then EOS on sink_full
 * ends the stream. */
GST_START_TEST (test_eos_crop_first)
{
  Fixture f;
  GstBuffer *out;
  GstEvent *ev;
  gint i;
  gboolean eos = FALSE;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  for (i = 0; i < 3; i++)
    gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
            i + 1, i * FRAME_DUR));
  for (i = 0; i < 3; i++) {
    out = gst_harness_pull (f.full);
    fail_unless_equals_int (first_byte (out), i + 1);
    gst_buffer_unref (out);
  }
  gst_harness_push_event (f.full, gst_event_new_eos ());
  while (!eos && (ev = gst_harness_pull_event (f.full))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  fail_unless_equals_uint64 (get_u64 (f.el, "frames-without-crops"), 3);
  fixture_clear (&f);
}

GST_END_TEST;

/* EOS on sink_full first: the stream ends, queued crops are counted as
 * dropped. */
GST_START_TEST (test_eos_full_first)
{
  Fixture f;
  GstBuffer *out;
  GstEvent *ev;
  gboolean eos = FALSE;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          5, 0));
  gst_harness_push_event (f.full, gst_event_new_eos ());
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 99, 0), 0, 0, 4, 4, 4, 4));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 98, 3 * FRAME_DUR), 0, 0, 4, 4, 4, 4));
  out = gst_harness_pull (f.full);
  fail_unless_equals_int (first_byte (out), 99);
  gst_buffer_unref (out);
  while (!eos && (ev = gst_harness_pull_event (f.full))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 1);
  fixture_clear (&f);
}

GST_END_TEST;

/* A frame waiting for crops when a flush comes is dropped with its crops;
 * after the flush, matching starts afresh. */
GST_START_TEST (test_flush)
{
  Fixture f;
  GstBuffer *out;
  GstSegment seg;
  GstEvent *ev;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          7, 0));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 77, 0), 0, 0, 4, 4, 4, 4));
  /* frame 0 holds crop 77 and waits for more */
  /* a flushing seek: one seqnum on both pads */
  ev = gst_event_new_flush_start ();
  fail_unless (gst_harness_push_event (f.full, gst_event_ref (ev)));
  fail_unless (gst_harness_push_event (f.crop, ev));
  ev = gst_event_new_flush_stop (TRUE);
  fail_unless (gst_harness_push_event (f.full, gst_event_ref (ev)));
  fail_unless (gst_harness_push_event (f.crop, ev));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_harness_push_event (f.full, gst_event_new_segment (&seg));
  gst_harness_push_event (f.crop, gst_event_new_segment (&seg));

  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          8, 0));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 88, 0), 0, 0, 4, 4, 4, 4));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  fail_unless_equals_int (first_byte (out), 88);
  {
    guint8 v;

    gst_buffer_extract (out, 63, &v, 1);
    fail_unless_equals_int (v, 8);
  }
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (get_u64 (f.el, "frames"), 1);
  fixture_clear (&f);
}

GST_END_TEST;

/* Live: a frame whose crops never come goes out unchanged when the
 * aggregator times out (the harness is live, with a test clock). */
GST_START_TEST (test_live_timeout)
{
  Fixture f;
  GstBuffer *out;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=0/1", NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          9, 0));
  fail_unless (gst_harness_crank_single_clock_wait (f.full));
  out = gst_harness_pull (f.full);
  fail_unless_equals_int (first_byte (out), 9);
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (get_u64 (f.el, "frames-without-crops"), 1);
  /* a crop for a frame already gone is late */
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
          10, FRAME_DUR));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 90, 0), 0, 0, 4, 4, 4, 4));
  gst_harness_push (f.crop, meta_crop (constant_buffer
          (GST_VIDEO_FORMAT_GRAY8, 4, 4, 91, FRAME_DUR), 0, 0, 4, 4, 4, 4));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  fail_unless_equals_int (first_byte (out), 91);
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 1);
  fixture_clear (&f);
}

GST_END_TEST;

static gchar *
write_temp (const gchar * contents)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("compositor328-XXXXXX.json", &path, NULL);

  fail_unless (fd >= 0);
  g_close (fd, NULL);
  fail_unless (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static gint
count_warnings (GstBus * bus, const gchar * needle, gchar ** first)
{
  GstMessage *msg;
  gint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    if (strstr (err->message, needle)) {
      if (n++ == 0 && first)
        *first = g_strdup (err->message);
    }
    g_error_free (err);
    gst_message_unref (msg);
  }
  return n;
}

/* Rects from JSON, [x1, y1, x2, y2] with exclusive corners: frame 0 one
 * rect, frame 1 a list of two, frame 2 malformed, frame 3 absent, plus a
 * bad key. Crops carry no meta. */
GST_START_TEST (test_json_rects)
{
  gchar *path = write_temp ("{\"0\": [4, 2, 8, 6], "
      "\"1\": [[0, 0, 4, 4], [12, 4, 16, 8]], \"2\": [1, 2, 3], "
      "\"x\": [0, 0, 1, 1]}");
  Fixture f;
  GstBuffer *out;
  GstMapInfo map;
  gchar *msg = NULL;
  gint i, x, y;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=16,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=30/1", path);
  /* the malformed entries were reported once, at start */
  fail_unless_equals_int (count_warnings (f.bus, "malformed", &msg), 1);
  fail_unless (strstr (msg, "2 malformed") != NULL, "%s", msg);
  fail_unless (strstr (msg, "frame \"2\"") != NULL, "%s", msg);
  g_free (msg);
  msg = NULL;

  for (i = 0; i < 4; i++)
    gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 16, 8,
            i + 1, i * FRAME_DUR));
  gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
          100, 0));
  gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
          110, FRAME_DUR));
  gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
          111, FRAME_DUR));
  gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
          120, 2 * FRAME_DUR));
  gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
          130, 3 * FRAME_DUR));
  gst_harness_push_event (f.crop, gst_event_new_eos ());

  for (i = 0; i < 4; i++) {
    out = gst_harness_pull (f.full);
    gst_buffer_map (out, &map, GST_MAP_READ);
    for (y = 0; y < 8; y++)
      for (x = 0; x < 16; x++) {
        gint want = i + 1;

        if (i == 0 && x >= 4 && x < 8 && y >= 2 && y < 6)
          want = 100;
        if (i == 1 && x < 4 && y < 4)
          want = 110;
        if (i == 1 && x >= 12 && y >= 4)
          want = 111;
        fail_unless (map.data[y * 16 + x] == want, "frame %d (%d, %d): %d "
            "!= %d", i, x, y, map.data[y * 16 + x], want);
      }
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-pasted"), 3);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 2);
  /* one warning for the missing rects, naming the first frame */
  fail_unless_equals_int (count_warnings (f.bus, "No valid rectangle", &msg),
      1);
  fail_unless (strstr (msg, "frame 2") != NULL, "%s", msg);
  g_free (msg);
  fixture_clear (&f);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

/* A coordinate far beyond any frame is reported as out of range, not as
 * "not a number" (issue 21) */
GST_START_TEST (test_json_rects_out_of_range)
{
  gchar *path = write_temp ("{\"0\": [0, 0, 1e12, 4]}");
  Fixture f;
  gchar *msg = NULL;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=16,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=30/1", path);
  fail_unless_equals_int (count_warnings (f.bus, "malformed", &msg), 1);
  fail_unless (strstr (msg, "out of range") != NULL, "%s", msg);
  fail_unless (strstr (msg, "numbers") == NULL, "%s", msg);
  g_free (msg);
  fixture_clear (&f);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

/* A full frame's annotation meta names its frame: replays (ramcache loop)
 * and frames whose timestamps say otherwise take the meta's rects. */
GST_START_TEST (test_meta_frame_index)
{
  gchar *path = write_temp ("{\"0\": [0, 0, 4, 4], \"1\": [12, 4, 16, 8]}");
  const guint64 meta_index[4] = { 1, 0, 1, 0 };
  Fixture f;
  GstBuffer *out;
  GstMapInfo map;
  gint i, x, y;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=16,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=30/1", path);
  for (i = 0; i < 4; i++) {
    GstBuffer *b = constant_buffer (GST_VIDEO_FORMAT_GRAY8, 16, 8, i + 1,
        i * FRAME_DUR);
    OpAnnotation ann;

    op_annotation_init (&ann);
    ann.frame_index = meta_index[i];
    ann.width = 16;
    ann.height = 8;
    op_buffer_add_annotation_meta (b, &ann);
    op_annotation_clear (&ann);
    gst_harness_push (f.full, b);
    gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
            100 + i, i * FRAME_DUR));
  }
  gst_harness_push_event (f.crop, gst_event_new_eos ());

  for (i = 0; i < 4; i++) {
    out = gst_harness_pull (f.full);
    fail_unless (out != NULL);
    fail_unless_equals_uint64 (op_buffer_get_annotation_meta (out)->
        ann.frame_index, meta_index[i]);
    gst_buffer_map (out, &map, GST_MAP_READ);
    for (y = 0; y < 8; y++)
      for (x = 0; x < 16; x++) {
        gboolean in0 = x < 4 && y < 4, in1 = x >= 12 && y >= 4;
        gint want = i + 1;

        if ((meta_index[i] == 0 && in0) || (meta_index[i] == 1 && in1))
          want = 100 + i;
        fail_unless (map.data[y * 16 + x] == want, "frame %d (%d, %d): %d "
            "!= %d", i, x, y, map.data[y * 16 + x], want);
      }
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-pasted"), 4);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 0);
  fixture_clear (&f);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

static void
expect_start_error (const gchar * location, const gchar * needle)
{
  GstElement *el = gst_element_factory_make ("compositor328", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (el, bus);
  g_object_set (el, "rects-location", location, NULL);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless (strstr (err->message, location) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, needle) != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (el, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (el);
}

GST_START_TEST (test_rects_file_errors)
{
  gchar *array = write_temp ("[[0, 0, 4, 4]]");
  gchar *broken = write_temp ("{\"0\": [0, 0, 4");

  expect_start_error ("/nonexistent/rects.json", "No such file");
  expect_start_error (array, "not an object");
  expect_start_error (broken, "Could not read");
  g_unlink (array);
  g_unlink (broken);
  g_free (array);
  g_free (broken);
}

GST_END_TEST;

/* Crops without meta and without rects-location: one warning, dropped. */
GST_START_TEST (test_no_rect_source)
{
  Fixture f;
  GstBuffer *out;
  gint i;

  fixture_init (&f, "video/x-raw,format=GRAY8,width=8,height=8,"
      "framerate=30/1", "video/x-raw,format=GRAY8,width=4,height=4,"
      "framerate=30/1", NULL);
  for (i = 0; i < 2; i++) {
    gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 8, 8,
            3, i * FRAME_DUR));
    gst_harness_push (f.crop, constant_buffer (GST_VIDEO_FORMAT_GRAY8, 4, 4,
            50, i * FRAME_DUR));
  }
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  for (i = 0; i < 2; i++) {
    out = gst_harness_pull (f.full);
    fail_unless_equals_int (first_byte (out), 3);
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (count_warnings (f.bus, "rects-location", NULL), 1);
  fail_unless_equals_uint64 (get_u64 (f.el, "crops-dropped"), 2);
  fixture_clear (&f);
}

GST_END_TEST;

/* sink_crop only offers the format negotiated on sink_full. */
GST_START_TEST (test_crop_caps_follow_full)
{
  Fixture f;
  GstPad *pad;
  GstCaps *caps, *bgr;

  fixture_init (&f, "video/x-raw,format=NV12,width=64,height=48,"
      "framerate=30/1", "video/x-raw,format=NV12,width=16,height=16,"
      "framerate=0/1", NULL);
  /* caps are applied in the streaming thread: let one frame through */
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_NV12, 64, 48,
          16, 0));
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  gst_buffer_unref (gst_harness_pull (f.full));
  pad = gst_element_get_static_pad (f.el, "sink_crop");
  caps = gst_pad_query_caps (pad, NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "format"), "NV12");
  bgr = gst_caps_from_string ("video/x-raw,format=BGR,width=16,height=16,"
      "framerate=0/1");
  fail_if (gst_pad_query_accept_caps (pad, bgr));
  gst_caps_unref (bgr);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  fixture_clear (&f);
}

GST_END_TEST;

/* Downstream takes only BGR, the frames come in I420: the paste is done
 * in I420 and the frame converted on output (BT.601 limited range for
 * this size): a grey frame Y=126 -> 128, the white crop Y=235 -> 255;
 * the frame's annotation meta stays, the YUV video meta does not. */
GST_START_TEST (test_i420_to_bgr)
{
  Fixture f;
  GstBuffer *frame, *out;
  GstCaps *caps;
  GstMapInfo map;
  OpAnnotation ann;
  gint x, y, c;

  fixture_init_downstream (&f, "video/x-raw,format=I420,width=64,height=48,"
      "framerate=30/1", "video/x-raw,format=I420,width=16,height=16,"
      "framerate=0/1", NULL, "video/x-raw,format=BGR");
  frame = constant_buffer (GST_VIDEO_FORMAT_I420, 64, 48, 128, 0);
  /* Y plane 126, chroma 128 */
  gst_buffer_memset (frame, 0, 126, 64 * 48);
  op_annotation_init (&ann);
  ann.frame_index = 3;
  op_buffer_add_annotation_meta (frame, &ann);
  op_annotation_clear (&ann);
  gst_buffer_add_video_meta (frame, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_I420, 64, 48);
  fail_unless_equals_int (gst_harness_push (f.full, frame), GST_FLOW_OK);
  frame = constant_buffer (GST_VIDEO_FORMAT_I420, 16, 16, 128, 0);
  gst_buffer_memset (frame, 0, 235, 16 * 16);
  fail_unless_equals_int (gst_harness_push (f.crop, meta_crop (frame, 8, 4,
              32, 24, 16, 16)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f.crop, gst_event_new_eos ()));
  out = gst_harness_pull (f.full);
  fail_unless (out != NULL);
  caps = gst_pad_get_current_caps (f.full->sinkpad);
  fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "format"), "BGR");
  gst_caps_unref (caps);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);
  fail_unless (gst_buffer_get_video_meta (out) == NULL);
  fail_unless (op_buffer_get_annotation (out) != NULL);
  fail_unless_equals_uint64 (op_buffer_get_annotation (out)->frame_index, 3);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, 64 * 48 * 3);
  for (y = 0; y < 48; y++)
    for (x = 0; x < 64; x++)
      for (c = 0; c < 3; c++) {
        gboolean in = x >= 8 && x < 40 && y >= 4 && y < 28;

        fail_unless_equals_int (map.data[(y * 64 + x) * 3 + c], in ? 255 : 128);
      }
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  fixture_clear (&f);
}

GST_END_TEST;

/* An odd size (row ends past the last 16-pixel block, a half chroma
 * sample at the right and bottom edge) and varied chroma, no crop: every
 * byte within 1 of the BT.601 limited-range formula in doubles, chroma of
 * the pixel's 2x2 block; in RGB and BGR order. */
GST_START_TEST (test_i420_to_rgb_odd_size)
{
  const gchar *outs[] = { "BGR", "RGB" };
  const gint w = 37, h = 13;
  guint k;

  for (k = 0; k < G_N_ELEMENTS (outs); k++) {
    Fixture f;
    GstBuffer *frame, *out;
    GstVideoInfo info;
    GstVideoFrame in, o;
    gint x, y, c, worst = 0;
    gchar *caps = g_strdup_printf ("video/x-raw,format=%s", outs[k]);

    fixture_init_downstream (&f, "video/x-raw,format=I420,width=37,"
        "height=13,framerate=30/1,colorimetry=bt601",
        "video/x-raw,format=I420,width=4,height=4,framerate=0/1", NULL, caps);
    frame = pattern_buffer (GST_VIDEO_FORMAT_I420, w, h, 9, 0);
    fail_unless_equals_int (gst_harness_push (f.full,
            gst_buffer_ref (frame)), GST_FLOW_OK);
    fail_unless (gst_harness_push_event (f.crop, gst_event_new_eos ()));
    out = gst_harness_pull (f.full);
    fail_unless (out != NULL);
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, w, h);
    fail_unless (gst_video_frame_map (&in, &info, frame, GST_MAP_READ));
    gst_video_info_set_format (&info, gst_video_format_from_string (outs[k]),
        w, h);
    fail_unless (gst_video_frame_map (&o, &info, out, GST_MAP_READ));
    for (y = 0; y < h; y++)
      for (x = 0; x < w; x++) {
        const guint8 *py = GST_VIDEO_FRAME_COMP_DATA (&in, 0);
        const guint8 *pu = GST_VIDEO_FRAME_COMP_DATA (&in, 1);
        const guint8 *pv = GST_VIDEO_FRAME_COMP_DATA (&in, 2);
        gdouble Y = (py[y * GST_VIDEO_FRAME_COMP_STRIDE (&in, 0) + x] - 16) *
            255.0 / 219;
        gdouble U = (pu[y / 2 * GST_VIDEO_FRAME_COMP_STRIDE (&in, 1) + x / 2] -
            128) * 255.0 / 224;
        gdouble V = (pv[y / 2 * GST_VIDEO_FRAME_COMP_STRIDE (&in, 2) + x / 2] -
            128) * 255.0 / 224;
        gdouble rgb[3] = { Y + 1.402 * V,
          Y - 0.114 * 1.772 / 0.587 * U - 0.299 * 1.402 / 0.587 * V,
          Y + 1.772 * U
        };
        const guint8 *px = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&o,
            0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&o, 0) + 3 * x;

        for (c = 0; c < 3; c++) {
          gint want = CLAMP ((gint) lrint (rgb[k == 0 ? 2 - c : c]), 0, 255);

          worst = MAX (worst, ABS (px[c] - want));
        }
      }
    GST_INFO ("%s: worst %d", outs[k], worst);
    fail_unless (worst <= 1, "%s off by %d", outs[k], worst);
    gst_video_frame_unmap (&o);
    gst_video_frame_unmap (&in);
    gst_buffer_unref (out);
    gst_buffer_unref (frame);
    fixture_clear (&f);
    g_free (caps);
  }
}

GST_END_TEST;

/* A smooth test image: sums of slow sinusoids, like natural content. */
static guint8
smooth (gint x, gint y, gint c)
{
  return (guint8) lrint (128 + 50 * sin (x / 9.0 + c) + 40 * cos (y / 7.0 -
          c * 0.5) + 20 * sin ((x + y) / 13.0));
}

/* Reference cut with the design's formula: crop pixel (u, v) samples the
 * frame bilinearly at op_crop_to_frame (rect, W, H, u, v). */
static GstBuffer *
reference_cut (GstBuffer * frame, gint fw, gint fh, const gint rect[4],
    gint cw, gint ch)
{
  GstVideoInfo fi, ci;
  GstVideoFrame f, c;
  GstBuffer *crop;
  gint u, v, k;

  gst_video_info_set_format (&fi, GST_VIDEO_FORMAT_RGB, fw, fh);
  gst_video_info_set_format (&ci, GST_VIDEO_FORMAT_RGB, cw, ch);
  crop = gst_buffer_new_allocate (NULL, ci.size, NULL);
  gst_video_frame_map (&f, &fi, frame, GST_MAP_READ);
  gst_video_frame_map (&c, &ci, crop, GST_MAP_WRITE);
  for (v = 0; v < ch; v++)
    for (u = 0; u < cw; u++) {
      gdouble x, y, fx, fy;
      gint x0, y0, x1, y1;
      const guint8 *s = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
      gint st = GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);

      op_crop_to_frame (rect, cw, ch, u, v, &x, &y);
      x = CLAMP (x, 0, fw - 1);
      y = CLAMP (y, 0, fh - 1);
      x0 = (gint) floor (x);
      y0 = (gint) floor (y);
      x1 = MIN (x0 + 1, fw - 1);
      y1 = MIN (y0 + 1, fh - 1);
      fx = x - x0;
      fy = y - y0;
      for (k = 0; k < 3; k++) {
        gdouble val = (s[y0 * st + x0 * 3 + k] * (1 - fx) +
            s[y0 * st + x1 * 3 + k] * fx) * (1 - fy) +
            (s[y1 * st + x0 * 3 + k] * (1 - fx) +
            s[y1 * st + x1 * 3 + k] * fx) * fy;

        ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&c, 0))[v *
            GST_VIDEO_FRAME_PLANE_STRIDE (&c, 0) + u * 3 + k] =
            (guint8) lrint (val);
      }
    }
  gst_video_frame_unmap (&c);
  gst_video_frame_unmap (&f);
  return crop;
}

/* Cut with the reference, paste back onto a black frame: PSNR over the
 * rect against the original, or exact for an unscaled rect. */
static gdouble
roundtrip_psnr (const gint rect[4], gint cw, gint ch)
{
  const gint fw = 160, fh = 120;
  GstVideoInfo fi;
  GstVideoFrame vf, of;
  GstBuffer *frame, *crop, *out;
  Fixture f;
  gchar *cc = caps_str (GST_VIDEO_FORMAT_RGB, cw, ch, 0);
  gdouble se = 0;
  gint x, y, k, n = 0;

  gst_video_info_set_format (&fi, GST_VIDEO_FORMAT_RGB, fw, fh);
  frame = gst_buffer_new_allocate (NULL, fi.size, NULL);
  gst_video_frame_map (&vf, &fi, frame, GST_MAP_WRITE);
  for (y = 0; y < fh; y++)
    for (x = 0; x < fw; x++)
      for (k = 0; k < 3; k++)
        ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0))[y *
            GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0) + x * 3 + k] =
            smooth (x, y, k);
  gst_video_frame_unmap (&vf);
  crop = meta_crop (reference_cut (frame, fw, fh, rect, cw, ch), rect[0],
      rect[1], rect[2], rect[3], cw, ch);
  GST_BUFFER_PTS (crop) = 0;

  fixture_init (&f, "video/x-raw,format=RGB,width=160,height=120,"
      "framerate=30/1", cc, NULL);
  gst_harness_push (f.full, constant_buffer (GST_VIDEO_FORMAT_RGB, fw, fh, 0,
          0));
  gst_harness_push (f.crop, crop);
  gst_harness_push_event (f.crop, gst_event_new_eos ());
  out = gst_harness_pull (f.full);
  gst_video_frame_map (&vf, &fi, frame, GST_MAP_READ);
  gst_video_frame_map (&of, &fi, out, GST_MAP_READ);
  for (y = MAX (rect[1], 0); y < MIN (rect[1] + rect[3], fh); y++)
    for (x = MAX (rect[0], 0); x < MIN (rect[0] + rect[2], fw); x++)
      for (k = 0; k < 3; k++) {
        gint st = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
        gdouble d = (gdouble) ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf,
                0))[y * st + x * 3 + k] - ((guint8 *)
            GST_VIDEO_FRAME_PLANE_DATA (&of, 0))[y * st + x * 3 + k];

        se += d * d;
        n++;
      }
  gst_video_frame_unmap (&of);
  gst_video_frame_unmap (&vf);
  gst_buffer_unref (out);
  gst_buffer_unref (frame);
  fixture_clear (&f);
  g_free (cc);
  if (se == 0)
    return INFINITY;
  return 10 * log10 (255.0 * 255.0 / (se / n));
}

GST_START_TEST (test_roundtrip)
{
  /* stretch: any rect onto a square crop */
  const gint stretch[4] = { 20, 10, 70, 50 };
  /* fit: cropextract widens the rect to the crop's aspect */
  const gint fit[4] = { 40, 20, 60, 60 };
  /* center: a crop-sized window, partly outside the frame */
  const gint center[4] = { 130, -8, 48, 48 };
  gdouble psnr;

  psnr = roundtrip_psnr (stretch, 48, 48);
  GST_INFO ("stretch PSNR %.2f dB", psnr);
  fail_unless (psnr > 35, "stretch PSNR %.2f dB", psnr);
  psnr = roundtrip_psnr (fit, 48, 48);
  GST_INFO ("fit PSNR %.2f dB", psnr);
  fail_unless (psnr > 35, "fit PSNR %.2f dB", psnr);
  psnr = roundtrip_psnr (center, 48, 48);
  fail_unless (isinf (psnr), "center PSNR %.2f dB, not exact", psnr);
}

GST_END_TEST;

static Suite *
compositor328_suite (void)
{
  Suite *s = suite_create ("compositor328");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_unscaled_exact_in_place);
  tcase_add_test (tc, test_i420_to_bgr);
  tcase_add_test (tc, test_i420_to_rgb_odd_size);
  tcase_add_test (tc, test_shared_frame_not_modified);
  tcase_add_test (tc, test_scaled_hand_values);
  tcase_add_loop_test (tc, test_formats, 0, G_N_ELEMENTS (formats));
  tcase_add_test (tc, test_clipped_rects);
  tcase_add_test (tc, test_alpha_border);
  tcase_add_test (tc, test_missing_late_extra);
  tcase_add_test (tc, test_several_crops_per_frame);
  tcase_add_test (tc, test_eos_crop_first);
  tcase_add_test (tc, test_eos_full_first);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_live_timeout);
  tcase_add_test (tc, test_json_rects);
  tcase_add_test (tc, test_json_rects_out_of_range);
  tcase_add_test (tc, test_meta_frame_index);
  tcase_add_test (tc, test_rects_file_errors);
  tcase_add_test (tc, test_no_rect_source);
  tcase_add_test (tc, test_crop_caps_follow_full);
  tcase_add_test (tc, test_roundtrip);
  return s;
}

GST_CHECK_MAIN (compositor328);
