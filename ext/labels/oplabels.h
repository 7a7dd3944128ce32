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
 *   @ann.frame_index, @ann.width, @ann.height, @ann.skeleton and
 *   @ann.instances are meaningful
 *
 * A frame as a reader builds it with op_labels_add_frame(): full
 * #OpInstance structs, for the small text formats. op_labels_finish()
 * packs them into the label set's columns.
 */
typedef struct {
  guint video;
  OpAnnotation ann;
} OpLabeledFrame;

/**
 * OpLabelsFrame:
 * @video: index into #OpLabels.videos
 * @skeleton: index into #OpLabels.skeletons, or %OP_LABELS_NO_SKELETON
 * @frame_index: 0-based presentation-order frame index
 * @width: frame width the labels were made on, 0 = not recorded
 * @height: likewise
 * @first_instance: its instances are rows @first_instance ..
 *   @first_instance + @n_instances - 1 of #OpLabels.instances
 * @n_instances: number of instances
 *
 * One labeled frame of a loaded label set.
 */
typedef struct {
  guint32 video;
  guint32 skeleton;
  guint64 frame_index;
  guint32 width, height;
  guint32 first_instance, n_instances;
} OpLabelsFrame;

#define OP_LABELS_NO_SKELETON G_MAXUINT32

/**
 * OpLabelsInstance:
 * @first_point: its keypoints are rows @first_point .. @first_point +
 *   @n_points - 1 of the point columns, in the skeleton's node order
 * @n_points: the skeleton's node count
 * @track: track index, -1 when untracked
 * @track_name: 1 + index into #OpLabels.names, 0 = no name
 * @bbox: 1 + index of its box in #OpLabels.bboxes (4 values each), 0 = none
 * @score: instance score, NaN = none
 * @kind: an #OpInstanceKind
 * @replaced: see #OpInstance.replaced
 *
 * One instance of a loaded label set: 32 bytes, no pointers, whatever the
 * number of keypoints.
 */
typedef struct {
  guint32 first_point, n_points;
  gint32 track;
  guint32 track_name;
  guint32 bbox;
  guint8 kind, replaced;
  gdouble score;
} OpLabelsInstance;

typedef struct _OpLabelsStore OpLabelsStore;

/**
 * OpLabels:
 * @path: the file it was read from
 * @format: the reader's #OpLabelReader.name ("slp", "jsonl", "coco"...)
 * @videos: video file names as stored in the file (gchar *); may be empty
 *   when the format does not name its videos (then every frame is video 0)
 * @warnings: problems the data survived (gchar *), for the element to post
 * @video_sizes: #OpLabelsVideoSize per video index, as recorded by the file
 *   (0 x 0 = not recorded); set with op_labels_set_video_size()
 * @skeletons: the skeletons frames refer to (#OpSkeleton *, owned)
 * @names: track names instances refer to (gchar *), one copy each
 * @building: #OpLabeledFrame added with op_labels_add_frame() and not yet
 *   packed (readers may revisit them until op_labels_finish())
 * @frames: @n_frames labeled frames, sorted by (video, frame index) once
 *   finished, each frame listed once
 * @instances: @n_instances instances
 * @bboxes: @n_bboxes boxes, [x, y, w, h] each
 * @x: @n_points keypoint x coordinates (NaN = missing)
 * @y: keypoint y coordinates
 * @visible: keypoint visibility flags (0 or 1)
 * @score: (nullable): keypoint scores; %NULL when no point has one
 *
 * Everything a reader yields, stored as columns: a keypoint costs 17 bytes
 * (25 with a score), an instance 32, a frame 32, so a 7-million-point
 * file stays within the size of its own tables. Built once in start(),
 * read-only afterwards, so the streaming thread can look frames up
 * without locks; op_labels_get_instance() gives one instance as the
 * #OpInstance a meta carries.
 */
typedef struct {
  gchar *path;
  const gchar *format;
  GPtrArray *videos;
  GPtrArray *warnings;
  GArray *video_sizes;
  GPtrArray *skeletons;
  GPtrArray *names;
  GArray *building;

  OpLabelsFrame *frames;
  gsize n_frames;
  OpLabelsInstance *instances;
  gsize n_instances;
  gdouble *bboxes;
  gsize n_bboxes;
  gdouble *x, *y, *score;
  guint8 *visible;
  gsize n_points;

  /*< private >*/
  OpLabelsStore *store;
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
gboolean        op_labels_pack     (OpLabels * labels, GError ** error);
gboolean        op_labels_finish   (OpLabels * labels, GError ** error);

/* building the columns directly (the HDF5 readers) */
gboolean        op_labels_reserve  (OpLabels * labels, gsize n_frames,
                                    gsize n_instances, gsize n_points,
                                    gboolean with_score, GError ** error);
guint32         op_labels_intern_skeleton (OpLabels * labels,
                                           OpSkeleton * skeleton);
guint32         op_labels_intern_name (OpLabels * labels, const gchar * name);
gboolean        op_labels_reserve_points (OpLabels * labels, gsize n,
                                          gboolean with_score,
                                          gsize * first, GError ** error);
gboolean        op_labels_reserve_points_unset (OpLabels * labels, gsize n,
                                                gboolean with_score,
                                                gsize * first,
                                                GError ** error);
OpLabelsFrame  *op_labels_append_frame (OpLabels * labels, guint video,
                                        guint64 frame_index, guint32 skeleton);
OpLabelsInstance *op_labels_append_instance (OpLabels * labels,
                                             OpInstanceKind kind,
                                             gsize first_point,
                                             guint n_points);
void            op_labels_set_bbox (OpLabels * labels, OpLabelsInstance * inst,
                                    const gdouble bbox[4]);
void            op_labels_replace_points (OpLabels * labels, gdouble * x,
                                          gdouble * y, guint8 * visible,
                                          gdouble * score, gsize n_points);
/* the label loader's hand-over (labelsblob.c, labelloader.c) */
#define OP_LABELS_ARENA_HEADER 4096
void            op_labels_set_arena (gint fd);
gboolean        op_labels_mapping_offset (const OpLabels * labels,
                                          gconstpointer column,
                                          gsize * offset);
void            op_labels_adopt_mapping (OpLabels * labels, gpointer map,
                                         gsize size,
                                         void (*unmap) (gpointer map,
                                                        gsize size));

/* reading */
const OpLabelsFrame *op_labels_lookup (const OpLabels * labels, guint video,
                                       guint64 frame_index);
const OpLabelsFrame *op_labels_next   (const OpLabels * labels, guint video,
                                       guint64 frame_index);
guint           op_labels_count_frames (const OpLabels * labels, guint video);
OpSkeleton     *op_labels_frame_skeleton (const OpLabels * labels,
                                          const OpLabelsFrame * frame);
const gchar    *op_labels_instance_track_name (const OpLabels * labels,
                                               const OpLabelsInstance * inst);
gboolean        op_labels_point_is_present (const OpLabels * labels, gsize p);
gboolean        op_labels_instance_has_present (const OpLabels * labels,
                                                const OpLabelsInstance * inst);
guint           op_labels_instance_count_present (const OpLabels * labels,
                                                  const OpLabelsInstance * inst);
void            op_labels_get_instance (const OpLabels * labels,
                                        const OpLabelsInstance * inst,
                                        OpInstance * out);
void            op_labels_get_annotation (const OpLabels * labels,
                                          const OpLabelsFrame * frame,
                                          OpAnnotation * out);

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
