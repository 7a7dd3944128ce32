/* onepass: reader for onepass JSON lines (.jsonl, .jsonl.gz): the design's
 * annotation JSON, one object per line, as batchsink format=jsonl writes it.
 *
 * Videos are the distinct "source" names in order of first appearance.
 * Crop lines are mapped back to frame coordinates through their rect, so a
 * crop dataset can label its source video again. Each source's frame size
 * is its lines' width/height (they must agree).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"

#include <gio/gio.h>
#include <onepass/opjson.h>
#include <string.h>

/* The probe reads at most this much of the first line: an annotation line
 * is a few KiB, a COCO file on one line can be gigabytes. */
#define PROBE_MAX (1024 * 1024)

/* @path as a stream of text, through gunzip when it starts with the gzip
 * magic (the content decides, never the name). */
static GInputStream *
open_text (const gchar * path, GError ** error)
{
  GFile *file = g_file_new_for_path (path);
  GInputStream *raw, *in;
  guint8 magic[2] = { 0, 0 };

  raw = G_INPUT_STREAM (g_file_read (file, NULL, error));
  g_object_unref (file);
  if (raw == NULL)
    return NULL;
  if (g_input_stream_read (raw, magic, 2, NULL, error) < 0
      || !g_seekable_seek (G_SEEKABLE (raw), 0, G_SEEK_SET, NULL, error)) {
    g_object_unref (raw);
    return NULL;
  }
  if (magic[0] != 0x1f || magic[1] != 0x8b)
    return raw;
  {
    GConverter *gz = G_CONVERTER (g_zlib_decompressor_new
        (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
    in = g_converter_input_stream_new (raw, gz);
    g_object_unref (gz);
    g_object_unref (raw);
  }
  return in;
}

/* The first non-blank line, up to PROBE_MAX bytes; %NULL when there is
 * none or it is longer. @empty: the stream ended cleanly holding only
 * blanks. */
static gchar *
first_line (GInputStream * in, gboolean * empty)
{
  GString *line = g_string_new (NULL);
  guint8 buf[4096];
  gssize n = 0;

  *empty = FALSE;
  while (line->len <= PROBE_MAX
      && (n = g_input_stream_read (in, buf, sizeof (buf), NULL, NULL)) > 0) {
    gssize i;
    for (i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        g_string_append_c (line, buf[i]);
        continue;
      }
      if (g_strstrip (line->str)[0] != '\0')
        return g_string_free (line, FALSE);
      g_string_truncate (line, 0);
    }
  }
  if (line->len > 0 && line->len <= PROBE_MAX && n == 0
      && g_strstrip (line->str)[0] != '\0')
    return g_string_free (line, FALSE);
  *empty = n == 0 && line->len <= PROBE_MAX;
  g_string_free (line, TRUE);
  return NULL;
}

/* A file is onepass JSON lines when its first non-blank line (after gunzip
 * if the file is gzip) is a JSON object with a "frame_index" member, the
 * one member every annotation line must have. A COCO file (one object
 * holding "images" and "annotations", usually pretty-printed, so its first
 * line is a lone "{"), a .csv.gz or any other gzip file is not claimed and
 * gets the dispatcher's "not a label file" error instead of a parse error
 * on line 1. A gzip stream of nothing but blanks is claimed: batchsink
 * writes one for an empty stream. */
static gboolean
jsonl_probe (const gchar * path, const guint8 * head, gsize len)
{
  GInputStream *in;
  JsonParser *parser;
  JsonNode *root;
  gchar *line;
  gsize i;
  gboolean gzip = len >= 2 && head[0] == 0x1f && head[1] == 0x8b;
  gboolean ok, empty;

  if (!gzip) {
    /* cheap refusal of binaries and text that is not JSON */
    for (i = 0; i < len && g_ascii_isspace (head[i]); i++);
    if (i == len || head[i] != '{')
      return FALSE;
  }
  in = open_text (path, NULL);
  if (in == NULL)
    return FALSE;
  line = first_line (in, &empty);
  g_object_unref (in);
  if (line == NULL)
    return gzip && empty;
  parser = json_parser_new ();
  ok = json_parser_load_from_data (parser, line, -1, NULL)
      && (root = json_parser_get_root (parser)) != NULL
      && JSON_NODE_HOLDS_OBJECT (root)
      && json_object_has_member (json_node_get_object (root), "frame_index");
  g_object_unref (parser);
  g_free (line);
  return ok;
}

static void
crop_to_frame (OpAnnotation * ann)
{
  op_instance_crop_to_frame (op_annotation_get_instance (ann, 0),
      ann->crop.rect, ann->crop.width, ann->crop.height);
  ann->has_crop = FALSE;
}

static guint
video_for_source (OpLabels * l, const gchar * source)
{
  guint i;

  for (i = 0; i < l->videos->len; i++)
    if (g_strcmp0 (g_ptr_array_index (l->videos, i), source) == 0)
      return i;
  g_ptr_array_add (l->videos, g_strdup (source));
  return l->videos->len - 1;
}

/* Each source's frame size is the width/height of its lines (the frame
 * the keypoints are in). Two lines of one source that disagree are an
 * error: no single video can carry both, and guessing which line is right
 * could put labels on images of the wrong size. Lines without a size
 * (width or height 0 or absent) say nothing. @size_lines holds, per video,
 * the line that set its size. */
static gboolean
record_size (OpLabels * l, guint video, const OpAnnotation * ann,
    guint64 lineno, GArray * size_lines, GError ** error)
{
  guint w, h;

  if (ann->width == 0 || ann->height == 0)
    return TRUE;
  if (!op_labels_get_video_size (l, video, &w, &h)) {
    op_labels_set_video_size (l, video, ann->width, ann->height);
    if (video >= size_lines->len)
      g_array_set_size (size_lines, video + 1);
    g_array_index (size_lines, guint64, video) = lineno;
    return TRUE;
  }
  if (w == ann->width && h == ann->height)
    return TRUE;
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
      "line %" G_GUINT64_FORMAT ": source \"%s\" is %ux%u, but line %"
      G_GUINT64_FORMAT " gave it %ux%u; one source has one frame size",
      lineno, ann->source, ann->width, ann->height,
      g_array_index (size_lines, guint64, video), w, h);
  return FALSE;
}

static OpLabels *
jsonl_load (const gchar * path, GError ** error)
{
  GInputStream *in;
  GDataInputStream *data;
  OpLabels *labels = NULL;
  OpSkeleton *skeleton = NULL;
  OpAnnotation ann;
  gchar *line;
  gsize len;
  guint64 lineno = 0;
  GArray *size_lines = NULL;
  guint video;
  GError *err = NULL;

  in = open_text (path, &err);
  if (in == NULL)
    goto io_error;
  data = g_data_input_stream_new (in);
  g_object_unref (in);

  labels = op_labels_new (path, "jsonl");
  size_lines = g_array_new (FALSE, TRUE, sizeof (guint64));
  op_annotation_init (&ann);
  while ((line = g_data_input_stream_read_line (data, &len, NULL, &err))) {
    OpLabeledFrame *f;
    lineno++;
    if (len == 0 || g_strstrip (line)[0] == '\0') {
      g_free (line);
      continue;
    }
    if (!op_annotation_from_json (&ann, line, -1, skeleton, &err)) {
      g_free (line);
      g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
          "line %" G_GUINT64_FORMAT ": %s", lineno, err->message);
      g_clear_error (&err);
      goto fail;
    }
    g_free (line);
    if (ann.skeleton != skeleton) {
      g_clear_pointer (&skeleton, op_skeleton_unref);
      skeleton = ann.skeleton ? op_skeleton_ref (ann.skeleton) : NULL;
    }
    if (ann.has_crop)
      crop_to_frame (&ann);
    video = video_for_source (labels, ann.source);
    if (!record_size (labels, video, &ann, lineno, size_lines, error))
      goto fail;
    f = op_labels_add_frame (labels, video, ann.frame_index, ann.skeleton);
    op_annotation_copy_into (&f->ann, &ann);
  }
  if (err) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "after line %" G_GUINT64_FORMAT ": %s", lineno, err->message);
    g_clear_error (&err);
    goto fail;
  }
  if (labels->building->len == 0)
    op_labels_add_warning (labels, "the file holds no annotations");
  op_annotation_clear (&ann);
  g_clear_pointer (&skeleton, op_skeleton_unref);
  g_array_unref (size_lines);
  g_object_unref (data);
  return labels;

fail:
  op_annotation_clear (&ann);
  g_clear_pointer (&skeleton, op_skeleton_unref);
  g_array_unref (size_lines);
  g_object_unref (data);
  op_labels_free (labels);
  return NULL;

io_error:
  g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN, "cannot read: %s",
      err ? err->message : "read failed");
  g_clear_error (&err);
  return NULL;
}

const OpLabelReader op_jsonl_reader = { "jsonl",
  "onepass JSON lines (.jsonl, .jsonl.gz)", jsonl_probe, jsonl_load
};
