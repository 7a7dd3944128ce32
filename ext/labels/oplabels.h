/* onepass label readers: a loaded label set and the interface every reader
 * implements. Private to this repository: built into the static
 * oplabelreaders library (ext/labels), not installed, no ABI promise.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_LABELS_H__
#define __OP_LABELS_H__

#include <onepass/opannotation.h>

G_BEGIN_DECLS

#define OP_LABELS_ERROR (op_labels_error_quark ())
GQuark op_labels_error_quark (void);

/**
 * OpLabelsError:
 * @OP_LABELS_ERROR_OPEN: the file cannot be opened or read
 * @OP_LABELS_ERROR_FORMAT: no reader recognises the content
 * @OP_LABELS_ERROR_CORRUPT: the content is damaged or inconsistent
 * @OP_LABELS_ERROR_UNSUPPORTED: a valid file using a feature we refuse
 * @OP_LABELS_ERROR_VIDEO: the requested video is not in the file
 */
typedef enum {
  OP_LABELS_ERROR_OPEN,
  OP_LABELS_ERROR_FORMAT,
  OP_LABELS_ERROR_CORRUPT,
  OP_LABELS_ERROR_UNSUPPORTED,
  OP_LABELS_ERROR_VIDEO,
} OpLabelsError;

/**
 * OpLabeledFrame:
 * @video: index into #OpLabels.videos
 * @ann: the frame's instances in file order, in frame coordinates; only
 *   @ann.frame_index, @ann.skeleton and @ann.instances are meaningful
 */
typedef struct {
  guint video;
  OpAnnotation ann;
} OpLabeledFrame;

/**
 * OpLabels:
 * @path: the file it was read from
 * @format: the reader's #OpLabelReader.name ("slp", "jsonl", "coco"...)
 * @videos: video file names as stored in the file (gchar *); may be empty
 *   when the format does not name its videos (then every frame is video 0)
 * @frames: #OpLabeledFrame sorted by (video, frame index) once loaded
 * @warnings: problems the data survived (gchar *), for the element to post
 * @video_sizes: #OpLabelsVideoSize per video index, as recorded by the file
 *   (0 x 0 = not recorded); set with op_labels_set_video_size()
 *
 * Everything a reader yields. Built once in start(), read-only afterwards,
 * so the streaming thread can look frames up without locks.
 */
typedef struct {
  gchar *path;
  const gchar *format;
  GPtrArray *videos;
  GArray *frames;
  GPtrArray *warnings;
  GArray *video_sizes;
} OpLabels;

/**
 * OpLabelsVideoSize:
 * @width: the video's width as the label file records it, 0 = unknown
 * @height: likewise
 */
typedef struct {
  guint width, height;
} OpLabelsVideoSize;

OpLabels       *op_labels_new      (const gchar * path, const gchar * format);
void            op_labels_free     (OpLabels * labels);
OpLabeledFrame *op_labels_add_frame (OpLabels * labels, guint video,
                                     guint64 frame_index, OpSkeleton * skeleton);
void            op_labels_add_warning (OpLabels * labels, const gchar * format,
                                       ...) G_GNUC_PRINTF (2, 3);
void            op_labels_set_video_size (OpLabels * labels, guint video,
                                          guint width, guint height);
gboolean        op_labels_get_video_size (const OpLabels * labels, guint video,
                                          guint * width, guint * height);
gboolean        op_labels_finish   (OpLabels * labels, GError ** error);
const OpLabeledFrame *op_labels_lookup (const OpLabels * labels, guint video,
                                        guint64 frame_index);
const OpLabeledFrame *op_labels_next   (const OpLabels * labels, guint video,
                                        guint64 frame_index);
guint           op_labels_count_frames (const OpLabels * labels, guint video);

/**
 * OpLabelReader:
 * @name: short format name
 * @description: (nullable): what a user calls the format, for the "not a
 *   label file" message ("SLEAP labels (.slp, .pkg.slp)"); %NULL for a
 *   fallback reader that only explains why a file is refused
 * @probe: returns TRUE when @path (whose first @len bytes are @head) is in
 *   this format; may open the file, must not fail loudly, and must not
 *   claim files of other formats (its @load errors are final)
 * @load: reads the whole file; on failure sets an #OpLabelsError whose
 *   message names the problem (the caller adds the path)
 *
 * A label format. A new format is one new file in ext/labels implementing
 * this and one line in op_label_readers[] (oplabelreaders.c), which
 * annotfilter and onepass-labels share.
 */
typedef struct {
  const gchar *name;
  const gchar *description;
  gboolean (*probe) (const gchar * path, const guint8 * head, gsize len);
  OpLabels *(*load) (const gchar * path, GError ** error);
} OpLabelReader;

OpLabels *op_labels_load (const gchar * path,
                          const OpLabelReader * const * readers,
                          GError ** error);

G_END_DECLS

#endif /* __OP_LABELS_H__ */
