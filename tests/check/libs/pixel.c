/* The shared pixel helpers (gst/pixel): a colour in each kind of format, and
 * a rectangle filled in subsampled planes with clipping. The YUV values are
 * the BT.601 / BT.709 textbook ones, computed independently of the code. */
#include <gst/check/gstcheck.h>
#include <string.h>
#include "oppixel.h"

static void
color_of (const gchar * caps_str, guint32 argb, guint8 val[4])
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstVideoInfo info;

  fail_unless (gst_video_info_from_caps (&info, caps));
  op_pixel_color (&info, argb, val);
  gst_caps_unref (caps);
}

#define CAPS(fmt, extra) "video/x-raw,format=" fmt ",width=8,height=8" extra

GST_START_TEST (test_color)
{
  guint8 v[4];

  color_of (CAPS ("BGRx", ""), 0x80102030, v);
  fail_unless (v[0] == 0x10 && v[1] == 0x20 && v[2] == 0x30 && v[3] == 0x80);
  /* red, BT.601 limited range: Y 81, U 90, V 240 */
  color_of (CAPS ("I420", ",colorimetry=bt601"), 0xffff0000, v);
  fail_unless (v[0] == 81 && v[1] == 90 && v[2] == 240, "%u %u %u", v[0],
      v[1], v[2]);
  /* red, BT.709 limited range: Y 63, U 102, V 240 */
  color_of (CAPS ("NV12", ",colorimetry=bt709"), 0xffff0000, v);
  fail_unless (v[0] == 63 && v[1] == 102 && v[2] == 240, "%u %u %u", v[0],
      v[1], v[2]);
  /* GRAY8 is full range: white 255, mid grey 128 */
  color_of (CAPS ("GRAY8", ""), 0xffffffff, v);
  fail_unless (v[0] == 255);
  color_of (CAPS ("GRAY8", ""), 0xff808080, v);
  fail_unless (v[0] == 128);
}

GST_END_TEST;

GST_START_TEST (test_color_bytes)
{
  GstCaps *caps = gst_caps_from_string (CAPS ("xRGB", ""));
  GstVideoInfo info;
  guint8 px[GST_VIDEO_MAX_PLANES][4];

  fail_unless (gst_video_info_from_caps (&info, caps));
  op_pixel_color_bytes (&info, 0x00112233, px);
  /* the padding byte is 0xff, the components in memory order */
  fail_unless (px[0][0] == 0xff && px[0][1] == 0x11 && px[0][2] == 0x22
      && px[0][3] == 0x33);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_blend_rect_subsampled)
{
  GstCaps *caps = gst_caps_from_string (CAPS ("NV12", ",colorimetry=bt601"));
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  guint8 *y, *uv;
  gint r, c;

  fail_unless (gst_video_info_from_caps (&info, caps));
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0, info.size);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  /* x from -1: clipped to columns 0..2; rows 3..4 */
  op_pixel_blend_rect (&frame, -1, 3, 4, 2, 0xffff0000);
  y = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  uv = GST_VIDEO_FRAME_PLANE_DATA (&frame, 1);
  for (r = 0; r < 8; r++)
    for (c = 0; c < 8; c++) {
      gboolean in = c <= 2 && r >= 3 && r <= 4;
      fail_unless (y[r * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + c] ==
          (in ? 81 : 0), "luma %d,%d", r, c);
    }
  /* chroma rows 1..2 (luma 2..5), columns 0..1 (luma 0..3) */
  for (r = 0; r < 4; r++)
    for (c = 0; c < 4; c++) {
      gboolean in = c <= 1 && r >= 1 && r <= 2;
      guint8 *p = uv + r * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 1) + 2 * c;
      fail_unless (p[0] == (in ? 90 : 0) && p[1] == (in ? 240 : 0),
          "chroma %d,%d", r, c);
    }
  /* half opacity over black: half the value, rounded */
  op_pixel_blend_rect (&frame, 6, 6, 1, 1, 0x80ffffff);
  fail_unless_equals_int (y[6 * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + 6],
      (235 * 128 + 127) / 255);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* a 10-bit decoder output (pushed with its caps, as decoders do) meets each
 * 8-bit element: a warning naming the element, the format and the fix,
 * before the bare not-negotiated error */
static const gchar *const eight_bit_elements[] =
    { "cropextract", "framestats" };

GST_START_TEST (test_unsupported_format_hint)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (eight_bit_elements); i++) {
    const gchar *name = eight_bit_elements[i];
    gchar *desc = g_strdup_printf ("appsrc name=src format=time "
        "caps=video/x-raw,format=I420_10LE,width=64,height=48,"
        "framerate=1/1 ! %s ! fakesink", name);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
    GstBus *bus = gst_element_get_bus (pipe);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * 48 * 3, NULL);
    GstMessage *msg;
    GError *err = NULL;
    GstFlowReturn flow;

    gst_element_set_state (pipe, GST_STATE_PLAYING);
    g_signal_emit_by_name (src, "push-buffer", buf, &flow);
    gst_buffer_unref (buf);
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "%s: no message", name);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, name) != NULL, "%s", err->message);
    fail_unless (strstr (err->message, "I420_10LE") != NULL, "%s",
        err->message);
    fail_unless (strstr (err->message, "videoconvert") != NULL, "%s",
        err->message);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (src);
    gst_object_unref (pipe);
    g_free (desc);
  }
}

GST_END_TEST;

static Suite *
pixel_suite (void)
{
  Suite *s = suite_create ("pixel");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_color);
  tcase_add_test (tc, test_color_bytes);
  tcase_add_test (tc, test_blend_rect_subsampled);
  tcase_add_test (tc, test_unsupported_format_hint);
  return s;
}

GST_CHECK_MAIN (pixel);
