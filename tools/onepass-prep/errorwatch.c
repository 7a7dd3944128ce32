/* onepass-prep: errors that decodebin swallows.
 *
 * GStreamer 1.22's decodebin (decodebin2) drops an ERROR message from an
 * element it is still plugging: it keeps the element on its "filtered"
 * list while it sets it to PAUSED, and a demuxer's streaming thread can
 * post its error inside that window (a truncated .mp4: "This file
 * contains no playable streams"). The state change itself succeeds, the
 * error never reaches the pipeline's bus, nothing else happens, and the
 * run waits forever (seen about once in five runs of test_prep.py's
 * corrupt-video case).
 *
 * A tracer hook (element-post-message-pre) sees every message any element
 * posts, before any bin can drop it. For an ERROR it posts an element
 * message "onepass-prep-error" (source, message) straight onto the
 * top-level pipeline's bus; the runner ends the job with that error when
 * the ERROR itself has not arrived shortly after and the element is still
 * in the pipeline (decodebin also drops, rightly, the errors of a factory
 * that failed to start and was replaced by the next one: that element is
 * gone by then).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "prep.h"

typedef struct
{
  GstTracer parent;
} PrepErrorWatch;

typedef struct
{
  GstTracerClass parent_class;
} PrepErrorWatchClass;

static GType prep_error_watch_get_type (void);
/* *INDENT-OFF* */
G_DEFINE_TYPE (PrepErrorWatch, prep_error_watch, GST_TYPE_TRACER);
/* *INDENT-ON* */

static void
on_post (GObject * self, GstClockTime ts, GstElement * element,
    GstMessage * message)
{
  GstObject *top = NULL, *parent;
  GError *err = NULL;
  GstBus *bus;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR)
    return;
  /* the outermost bin: the job's pipeline */
  top = gst_object_ref (GST_OBJECT (element));
  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (!GST_IS_PIPELINE (top) || GST_OBJECT (element) == top) {
    gst_object_unref (top);
    return;
  }
  gst_message_parse_error (message, &err, NULL);
  bus = gst_element_get_bus (GST_ELEMENT (top));
  if (bus) {
    gst_bus_post (bus, gst_message_new_element (top,
            gst_structure_new (PREP_ERROR_MESSAGE, "element",
                GST_TYPE_ELEMENT, element, "message", G_TYPE_STRING,
                err ? err->message : "error", NULL)));
    gst_object_unref (bus);
  }
  g_clear_error (&err);
  gst_object_unref (top);
}

static void
prep_error_watch_class_init (PrepErrorWatchClass * klass)
{
}

static void
prep_error_watch_init (PrepErrorWatch * self)
{
  gst_tracing_register_hook (GST_TRACER (self), "element-post-message-pre",
      G_CALLBACK (on_post));
}

/**
 * prep_error_watch_start:
 *
 * Installs the hook for the process (once; it lives until exit).
 */
void
prep_error_watch_start (void)
{
  static GstTracer *watch;

  if (watch == NULL)
    watch = g_object_new (prep_error_watch_get_type (), NULL);
}
