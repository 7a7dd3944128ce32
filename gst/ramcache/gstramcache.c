/* onepass: ramcache element.
 * Copyright (C) 2026 onepass contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-ramcache
 * @title: ramcache
 * @see_also: queue, appsink
 *
 * Decode once, then serve replays, seeks and random access from RAM.
 * ramcache forwards every raw video buffer downstream unchanged and keeps a
 * copy of it in a preallocated arena. It never holds upstream's buffers, so
 * decoder pools are never starved.
 *
 * The arena is one anonymous mapping (MAP_NORESERVE, touched on use) of
 * page-aligned slots sized from the negotiated #GstVideoInfo. It holds at
 * most `max-bytes / slot size` frames (and at most `max-frames`), so the
 * process's RSS grows only with the frames really cached.
 *
 * ## Frame index
 * Frames are numbered by the library's frame clock (opframeclock.h), the
 * one annotfilter and compositor328 use: the 0-based position in
 * presentation order counted from the first frame seen since the caps were
 * set, `round ((pts - first_pts) * framerate)` for a constant framerate,
 * the decoded-frame count for `framerate=0/1`. When timestamps skip frames
 * (frames lost, timestamps kept) the timestamp decides: the missing
 * indices are simply not cached (`get-frame` returns %NULL for them) and a
 * warning message says so once; ramcache has no index of the file, so it
 * cannot tell a dropped frame from a disguised variable frame rate (put
 * annotfilter before it: its meta carries the file-exact index). After an
 * upstream flush a counted stream's index is unknown, so caching stops
 * until the next caps or restart. A frame with an #OpAnnotationMeta is
 * cached under the meta's `frame_index` (annotfilter numbered the whole
 * stream and may have dropped frames before us). Served buffers carry the
 * index in GST_BUFFER_OFFSET.
 *
 * ## Labels
 * Cached frames keep their #OpAnnotationMeta and #OpCropMeta: replays and
 * `get-frame` samples carry them unchanged (same `frame_index`, and the
 * meta's `pts` stays the frame's timestamp in the source while the buffer
 * PTS moves on with the loop). Other metas are not kept.
 *
 * ## When the arena is full (#OpRamCachePolicy, property `policy`)
 * * `window` (default): the oldest cached frame is evicted, the newest
 *   frames are kept.
 * * `subsample`: keep frames evenly spread over the stream. When the caps
 *   arrive, ramcache asks upstream for the duration; with n = round
 *   (duration x framerate) frames and C slots it keeps the frames
 *   ceil (j x n / T), j = 0, 1, ..., with T = C - C / 50 (a rational step
 *   n / T, at least 98% of the slots used), and posts `ramcache-plan`:
 *   `duration-frames` (guint64, 0 when unknown), `capacity` (guint),
 *   `step-num` and `step-den` (guint64). Without a duration (or when more
 *   frames come than announced) the step doubles each time the arena
 *   fills, evicting the frames off the new step. Never fails.
 * * `spill`: further frames go into a file under `spill-dir` that grows in
 *   chunks of 16 frames (space reserved with posix_fallocate, mapped with
 *   mmap; pages are dropped from RSS after each access). The file is
 *   deleted at stop. A full disk is a RESOURCE/WRITE error naming the file.
 *   With `max-frames` set the total (RAM + file) is capped and the oldest
 *   frame is evicted as in `window`.
 * * `error`: a RESOURCE/NO_SPACE_LEFT error whose message gives the frames
 *   cached, the slot size, max-bytes and max-frames.
 *
 * When the arena first fills (and in `subsample` each time the step
 * doubles) the element posts an element message `ramcache-full` with:
 * `policy` (string, the policy nick), `capacity` (guint, RAM slots),
 * `slot-bytes` (guint64), `cached-frames` (guint), `step` (guint64, the
 * subsample step rounded up to an integer), `frame-index` (guint64, the
 * frame that did not fit) and, for subsample, `step-num` and `step-den`
 * (guint64, the exact step).
 *
 * ## Export: `export-location`
 * `export-location=FILE.npy`: at upstream EOS (before EOS goes on, and
 * before any loop) the cached frames are written in index order as one
 * NumPy .npy that `numpy.load (FILE, mmap_mode="r")` maps with no copy:
 * shape (frames, height, width[, channels]) with dtype u1 or u2 for
 * single-plane 8/16-bit formats (rows without GStreamer's padding), else
 * (frames, frame size) bytes at the default layout. Their indices go to
 * FILE.index.npy (uint64). With policy=spill (and rows without padding) the
 * spill file is created as FILE.npy.part and becomes the export: the RAM
 * frames and the header are filled in and it is renamed, nothing is copied
 * twice. The element then posts `ramcache-exported`: `location`,
 * `index-location` (strings), `frames` (guint), `from-spill` (gboolean).
 * After the export no further frames are cached. Write errors are
 * RESOURCE/WRITE naming the file.
 *
 * ## Seeks
 * A flushing seek with rate 1.0 and a SET start in TIME or DEFAULT (frame
 * index) format whose start frame is cached is served from RAM by the
 * element's own src pad task: FLUSH_START/FLUSH_STOP and a new segment go
 * downstream, upstream sees no seek. A TIME start selects the cached frame
 * whose display interval contains it (1 us tolerance for rounded
 * timestamps). Playback continues with the cached frames in index order to
 * the newest cached frame, then with live upstream data (upstream is held
 * back meanwhile, like a full queue). A stop position ends the replay with
 * EOS; without one the cache plays to its end. Other seeks (not cached,
 * non-flushing, rate != 1.0) go upstream, DEFAULT ones converted to TIME
 * when the framerate is known. A caps change (for example a resolution
 * change) flushes the arena: the cache starts over with the new format.
 *
 * ## Loops
 * `loop=N`: on upstream EOS the cache is played N more times from its first
 * frame. Timestamps continue: each pass is shifted by the span of the cached
 * frames (first pts to end of the last frame, in whole frames for a
 * constant framerate), so running time stays continuous and monotonic.
 * Each pass is its own open-ended segment starting at its first (shifted)
 * frame, with `base` continuing the running time and `time` the stream time
 * of that frame in the media: stream time restarts at the replayed frames'
 * own positions, so elements that number frames by stream time
 * (compositor328) give a replay the indices of the frames it replays. EOS
 * follows the last pass.
 *
 * ## Random access: `get-frame`
 * The action signal `get-frame` (guint64 index) returns a #GstSample with
 * the caps and a copy of the cached frame (PTS and duration as cached,
 * OFFSET = index, its annotation and crop metas), or %NULL if that frame is
 * not cached. It may be emitted from any thread while streaming.
 *
 * ## Buffers served from the cache
 * Replayed buffers and `get-frame` samples are copies in freshly allocated
 * memory: they stay valid however long the application keeps them, and
 * eviction never waits for them.
 *
 * ## Statistics (read-only properties)
 * `cached-frames`, `cached-bytes` (slots held, padding included, RAM and
 * spill file), `hits` (seeks and get-frame calls served from the cache),
 * `misses` (seeks sent upstream, get-frame calls returning %NULL) and
 * `evicted` (frames dropped by the policy or by a caps change).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *     ramcache max-bytes=4000000000 loop=3 policy=window ! fakesink
 * ]|
 * Plays the clip once from the decoder and three more times from RAM.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *     annotfilter location=clip.slp ! ramcache loop=1 ! \
 *     batchsink format=jsonl location=twice.jsonl
 * ]|
 * Writes every labeled frame twice, the replay with the same frame_index,
 * pts and keypoints.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     video/x-raw,format=GRAY8 ! ramcache policy=subsample \
 *     max-bytes=100000000 export-location=frames.npy ! fakesink
 * ]|
 * Keeps as many frames as fit in 100 MB, evenly spread over the clip, and
 * writes them as frames.npy (+ frames.index.npy).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstramcache.h"
#include "rambudget.h"
#include "ramnpy.h"
#include "ramstore.h"

#include <onepass/onepass.h>

#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (op_ram_cache_debug);
#define GST_CAT_DEFAULT op_ram_cache_debug

#define DEFAULT_MAX_BYTES 0
#define DEFAULT_MAX_FRAMES 0
#define DEFAULT_POLICY OP_RAM_CACHE_POLICY_WINDOW
#define DEFAULT_LOOP 0
/* used when neither MemAvailable nor a cgroup limit can be read */
#define FALLBACK_BUDGET (G_GUINT64_CONSTANT (1) << 30)

enum
{
  PROP_0,
  PROP_MAX_BYTES,
  PROP_MAX_FRAMES,
  PROP_POLICY,
  PROP_SPILL_DIR,
  PROP_LOOP,
  PROP_EXPORT_LOCATION,
  PROP_CACHED_FRAMES,
  PROP_CACHED_BYTES,
  PROP_HITS,
  PROP_MISSES,
  PROP_EVICTED,
};

enum
{
  SIGNAL_GET_FRAME,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

typedef enum
{
  MODE_PASSTHROUGH,             /* upstream's thread caches and pushes */
  MODE_REPLAY,                  /* our task pushes cached frames */
  MODE_DONE,                    /* EOS pushed by the task */
} Mode;

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));

/* Lock order: src pad STREAM_LOCK -> lock -> GST_OBJECT_LOCK. Nothing is
 * pushed, posted or emitted while holding lock or the object lock. The src
 * pad STREAM_LOCK serialises every push downstream: upstream's thread takes
 * it in passthrough, our task holds it while replaying. */
/* The properties, as set (under the object lock) and as the stream uses
 * them (a copy taken in start ()). */
typedef struct
{
  guint64 max_bytes;
  guint max_frames;
  OpRamCachePolicy policy;
  gchar *spill_dir;
  gint loop;
  gchar *export_location;
} OpRamCacheSettings;

struct _OpRamCache
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties (GST_OBJECT_LOCK) */
  OpRamCacheSettings settings;

  /* cache state (lock) */
  GMutex lock;
  GCond cond;
  /* copied in start (), resolved: max_bytes the budget, spill_dir set */
  OpRamCacheSettings cur;

  OpRamStore *store;
  GstCaps *caps;
  GstVideoInfo info;
  OpFrameClock clock;           /* numbers upstream's frames */
  gboolean index_lost;
  gboolean warned_disagree;     /* timestamps skipped frames (warned once) */
  guint64 post_disagree_index;  /* G_MAXUINT64: no warning to post */
  gboolean warned_capacity;
  gint downstream_video_meta;   /* atomic: downstream maps strides itself */

  Mode mode;
  gboolean sink_flushing;
  gboolean src_flushing;
  gboolean upstream_eos;
  GstSegment in_segment;
  GstSegment out_segment;
  GstSegment pass_segment;      /* segment of the replay's unshifted pass */
  gboolean need_segment;
  guint32 seg_seqnum;
  gboolean discont;
  guint64 replay_pos;
  GstClockTime pts_offset;      /* loop shift, variable framerate */
  guint64 frames_offset;        /* loop shift in frames, constant framerate */
  gint loops_left;

  guint64 hits;
  guint64 misses;
  guint64 evicted_flushed;      /* frames dropped by caps changes */
};

#define RAM_LOCK(s) g_mutex_lock (&(s)->lock)
#define RAM_UNLOCK(s) g_mutex_unlock (&(s)->lock)
#define RAM_WAIT(s) g_cond_wait (&(s)->cond, &(s)->lock)
#define RAM_BROADCAST(s) g_cond_broadcast (&(s)->cond)

#define op_ram_cache_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (OpRamCache, op_ram_cache, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (op_ram_cache_debug, "ramcache", 0,
        "memory-budgeted frame cache"));
GST_ELEMENT_REGISTER_DEFINE (ramcache, "ramcache", GST_RANK_NONE,
    OP_TYPE_RAM_CACHE);

GType
op_ram_cache_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {OP_RAM_CACHE_POLICY_WINDOW, "Keep the newest frames", "window"},
    {OP_RAM_CACHE_POLICY_SUBSAMPLE,
        "Keep frames evenly spread: step from the upstream duration, "
          "doubling when unknown", "subsample"},
    {OP_RAM_CACHE_POLICY_SPILL, "Continue into a memory-mapped file",
        "spill"},
    {OP_RAM_CACHE_POLICY_ERROR, "Post an error", "error"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("OpRamCachePolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void op_ram_cache_finalize (GObject * object);
static void op_ram_cache_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void op_ram_cache_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn op_ram_cache_change_state (GstElement * element,
    GstStateChange transition);
static gboolean op_ram_cache_sink_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static gboolean op_ram_cache_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static GstFlowReturn op_ram_cache_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf);
static gboolean op_ram_cache_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean op_ram_cache_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean op_ram_cache_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static void op_ram_cache_loop (OpRamCache * self);
static GstSample *op_ram_cache_get_frame (OpRamCache * self, guint64 index);

static void
op_ram_cache_class_init (OpRamCacheClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = op_ram_cache_set_property;
  gobject_class->get_property = op_ram_cache_get_property;
  gobject_class->finalize = op_ram_cache_finalize;

  /**
   * OpRamCache:max-bytes:
   *
   * Arena size in bytes. 0 = half of what is available at start: the
   * smaller of MemAvailable and the memory cgroup's limit minus its usage.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64 ("max-bytes", "Max bytes",
          "Arena size in bytes (0 = half of the memory available at start, "
          "MemAvailable or cgroup limit)", 0, G_MAXUINT64, DEFAULT_MAX_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpRamCache:max-frames:
   *
   * Maximum number of cached frames (0 = limited by max-bytes only). With
   * policy=spill it caps RAM plus file.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAMES,
      g_param_spec_uint ("max-frames", "Max frames",
          "Maximum number of cached frames (0 = limited by max-bytes only)",
          0, G_MAXINT / 2, DEFAULT_MAX_FRAMES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpRamCache:policy:
   *
   * What to do when the arena is full.
   */
  g_object_class_install_property (gobject_class, PROP_POLICY,
      g_param_spec_enum ("policy", "Policy",
          "What to do when the arena is full", OP_TYPE_RAM_CACHE_POLICY,
          DEFAULT_POLICY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpRamCache:spill-dir:
   *
   * Directory of the spill file for policy=spill (NULL = the system's
   * temporary directory). Must exist and be writable.
   */
  g_object_class_install_property (gobject_class, PROP_SPILL_DIR,
      g_param_spec_string ("spill-dir", "Spill directory",
          "Directory for the spill file of policy=spill (NULL = system "
          "temporary directory)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpRamCache:export-location:
   *
   * At upstream EOS, write the cached frames in index order as this .npy
   * file (and their indices as FILE.index.npy). NULL = no export.
   */
  g_object_class_install_property (gobject_class, PROP_EXPORT_LOCATION,
      g_param_spec_string ("export-location", "Export location",
          "At upstream EOS write the cache as this .npy file (frames in "
          "index order; indices in <name>.index.npy; NULL = no export)",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * OpRamCache:loop:
   *
   * After upstream EOS, replay the cache this many more times with
   * continuous timestamps.
   */
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_int ("loop", "Loop",
          "Replay the cache this many more times after upstream EOS", 0,
          G_MAXINT, DEFAULT_LOOP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CACHED_FRAMES,
      g_param_spec_uint ("cached-frames", "Cached frames",
          "Number of frames in the cache", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CACHED_BYTES,
      g_param_spec_uint64 ("cached-bytes", "Cached bytes",
          "Bytes held by cached frames (slots, RAM and spill file)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_HITS,
      g_param_spec_uint64 ("hits", "Hits",
          "Seeks and get-frame calls served from the cache", 0, G_MAXUINT64,
          0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MISSES,
      g_param_spec_uint64 ("misses", "Misses",
          "Seeks sent upstream and get-frame calls returning NULL", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_EVICTED,
      g_param_spec_uint64 ("evicted", "Evicted",
          "Frames dropped from the cache (policy or caps change)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * OpRamCache::get-frame:
   * @ramcache: the element
   * @index: 0-based frame index (see "Frame index")
   *
   * Returns: (transfer full) (nullable): a #GstSample with the caps and a
   * copy of the cached frame, or %NULL when the frame is not cached.
   */
  signals[SIGNAL_GET_FRAME] = g_signal_new_class_handler ("get-frame",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (op_ram_cache_get_frame), NULL, NULL, NULL,
      GST_TYPE_SAMPLE, 1, G_TYPE_UINT64);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "RAM frame cache",
      "Generic/Video", "Caches decoded frames in a memory-budgeted arena and "
      "serves replays, seeks and random access from RAM",
      "onepass contributors");
  element_class->change_state = GST_DEBUG_FUNCPTR (op_ram_cache_change_state);

  gst_type_mark_as_plugin_api (OP_TYPE_RAM_CACHE_POLICY, 0);
}

static void
op_ram_cache_init (OpRamCache * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_sink_event));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_sink_activate_mode));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_sink_query));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_src_event));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (op_ram_cache_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->settings.max_bytes = DEFAULT_MAX_BYTES;
  self->settings.max_frames = DEFAULT_MAX_FRAMES;
  self->settings.policy = DEFAULT_POLICY;
  self->settings.loop = DEFAULT_LOOP;
  op_frame_clock_reset (&self->clock);
  gst_segment_init (&self->in_segment, GST_FORMAT_TIME);
  gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
}

static void
settings_clear (OpRamCacheSettings * s)
{
  g_clear_pointer (&s->spill_dir, g_free);
  g_clear_pointer (&s->export_location, g_free);
}

static void
settings_copy (OpRamCacheSettings * dst, const OpRamCacheSettings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->spill_dir = g_strdup (src->spill_dir);
  dst->export_location = g_strdup (src->export_location);
}

static void
op_ram_cache_finalize (GObject * object)
{
  OpRamCache *self = OP_RAM_CACHE (object);

  if (self->store)
    op_ram_store_free (self->store);
  gst_clear_caps (&self->caps);
  settings_clear (&self->settings);
  settings_clear (&self->cur);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* called with lock */
static void
op_ram_cache_locked_drop_store (OpRamCache * self)
{
  if (self->store) {
    self->evicted_flushed += op_ram_store_evicted (self->store) +
        op_ram_store_n_frames (self->store);
    op_ram_store_free (self->store);
    self->store = NULL;
  }
  op_frame_clock_reset (&self->clock);
  self->index_lost = FALSE;
  self->warned_disagree = FALSE;
  self->post_disagree_index = G_MAXUINT64;
  self->warned_capacity = FALSE;
}

static gboolean
op_ram_cache_start (OpRamCache * self)
{
  OpRamCacheSettings s = { 0, };
  guint64 avail;
  gchar *export_dir = NULL;

  GST_OBJECT_LOCK (self);
  settings_copy (&s, &self->settings);
  GST_OBJECT_UNLOCK (self);
  if (!s.spill_dir)
    s.spill_dir = g_strdup (g_get_tmp_dir ());

  if (s.policy == OP_RAM_CACHE_POLICY_SPILL &&
      (!g_file_test (s.spill_dir, G_FILE_TEST_IS_DIR) ||
          g_access (s.spill_dir, W_OK) != 0))
    goto bad_spill_dir;
  if (s.export_location) {
    export_dir = g_path_get_dirname (s.export_location);
    if (!g_file_test (export_dir, G_FILE_TEST_IS_DIR) ||
        g_access (export_dir, W_OK) != 0)
      goto bad_export;
    g_free (export_dir);
  }

  if (s.max_bytes == 0) {
    avail = op_ram_budget_available ();
    s.max_bytes = avail == G_MAXUINT64 ? FALLBACK_BUDGET : avail / 2;
    GST_INFO_OBJECT (self, "max-bytes=0: budget %" G_GUINT64_FORMAT
        " bytes (half of %" G_GUINT64_FORMAT " available)", s.max_bytes, avail);
  }

  RAM_LOCK (self);
  op_ram_cache_locked_drop_store (self);
  self->evicted_flushed = 0;
  settings_clear (&self->cur);
  self->cur = s;                /* moved: s owns nothing now */
  self->loops_left = self->cur.loop;
  self->mode = MODE_PASSTHROUGH;
  self->upstream_eos = FALSE;
  self->pts_offset = 0;
  self->frames_offset = 0;
  self->hits = self->misses = 0;
  self->need_segment = FALSE;
  gst_segment_init (&self->in_segment, GST_FORMAT_TIME);
  gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
  RAM_UNLOCK (self);
  return TRUE;

  /* ERRORS */
bad_spill_dir:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("spill-dir \"%s\" is not a writable directory", s.spill_dir), (NULL));
  settings_clear (&s);
  return FALSE;
bad_export:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
      ("export-location \"%s\": \"%s\" is not a writable directory",
          s.export_location, export_dir), (NULL));
  g_free (export_dir);
  settings_clear (&s);
  return FALSE;
}

static void
op_ram_cache_stop (OpRamCache * self)
{
  RAM_LOCK (self);
  op_ram_cache_locked_drop_store (self);
  gst_clear_caps (&self->caps);
  self->mode = MODE_PASSTHROUGH;
  RAM_UNLOCK (self);
}

static GstStateChangeReturn
op_ram_cache_change_state (GstElement * element, GstStateChange transition)
{
  OpRamCache *self = OP_RAM_CACHE (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!op_ram_cache_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* wake any wait before the pads deactivate */
      RAM_LOCK (self);
      self->sink_flushing = self->src_flushing = TRUE;
      RAM_BROADCAST (self);
      RAM_UNLOCK (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    op_ram_cache_stop (self);
  return ret;
}

static gboolean
op_ram_cache_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  OpRamCache *self = OP_RAM_CACHE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  RAM_LOCK (self);
  self->sink_flushing = !active;
  RAM_BROADCAST (self);
  RAM_UNLOCK (self);
  return TRUE;
}

static gboolean
op_ram_cache_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  OpRamCache *self = OP_RAM_CACHE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  RAM_LOCK (self);
  self->src_flushing = !active;
  RAM_BROADCAST (self);
  RAM_UNLOCK (self);
  if (!active)
    return gst_pad_stop_task (pad);
  return TRUE;
}

/* Allocation: we copy frames into the arena through gst_video_frame_map,
 * so we accept GstVideoMeta and decoders render into their own padded
 * buffers instead of copying every frame for us. The live pass pushes the
 * same buffer on: as it is when downstream accepts the meta too, else as a
 * packed copy (the copy the decoder would have made). */
static gboolean
op_ram_cache_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  OpRamCache *self = OP_RAM_CACHE (parent);
  gboolean meta;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return gst_pad_query_default (pad, parent, query);
  gst_pad_peer_query (self->srcpad, query);
  meta = gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  g_atomic_int_set (&self->downstream_video_meta, meta);
  if (!meta)
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  GST_DEBUG_OBJECT (self, "downstream %s GstVideoMeta", meta ? "accepts" :
      "does not accept");
  return TRUE;
}

/* @buf as downstream can read it: unchanged, or packed when it has strides
 * or offsets of its own and downstream does not map them */
static GstBuffer *
packed_for_downstream (OpRamCache * self, GstBuffer * buf)
{
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (buf);
  GstVideoInfo *info = &self->info;
  GstVideoFrame in, out;
  GstBuffer *packed;
  guint i;

  if (vmeta == NULL || g_atomic_int_get (&self->downstream_video_meta))
    return buf;
  for (i = 0; i < vmeta->n_planes; i++)
    if (vmeta->offset[i] != GST_VIDEO_INFO_PLANE_OFFSET (info, i)
        || vmeta->stride[i] != GST_VIDEO_INFO_PLANE_STRIDE (info, i))
      break;
  if (i == vmeta->n_planes)
    return buf;
  if (!gst_video_frame_map (&in, info, buf, GST_MAP_READ))
    return buf;                 /* the store has already refused it */
  packed = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  gst_buffer_copy_into (packed, buf, GST_BUFFER_COPY_FLAGS |
      GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_META, 0, -1);
  vmeta = gst_buffer_get_video_meta (packed);
  if (vmeta)
    gst_buffer_remove_meta (packed, (GstMeta *) vmeta);
  gst_video_frame_map (&out, info, packed, GST_MAP_WRITE);
  gst_video_frame_copy (&out, &in);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  gst_buffer_unref (buf);
  return packed;
}

/* Caps: a new format flushes the arena and sizes a new one. */
static gboolean
op_ram_cache_set_caps (OpRamCache * self, GstCaps * caps)
{
  GstVideoInfo info;
  GError *err = NULL;
  GstStructure *plan = NULL;
  gint64 duration = -1;
  guint64 n_frames = 0;

  if (!gst_video_info_from_caps (&info, caps))
    goto bad_caps;

  /* subsample picks its step from the stream's length, if upstream knows */
  if (self->cur.policy == OP_RAM_CACHE_POLICY_SUBSAMPLE &&
      GST_VIDEO_INFO_FPS_N (&info) > 0 && GST_VIDEO_INFO_FPS_D (&info) > 0 &&
      gst_pad_peer_query_duration (self->sinkpad, GST_FORMAT_TIME, &duration)
      && duration > 0)
    n_frames = gst_util_uint64_scale_round (duration,
        GST_VIDEO_INFO_FPS_N (&info),
        (guint64) GST_VIDEO_INFO_FPS_D (&info) * GST_SECOND);

  RAM_LOCK (self);
  if (self->store && gst_video_info_is_equal (&info, &self->info)) {
    gst_caps_replace (&self->caps, caps);
    RAM_UNLOCK (self);
    return TRUE;
  }
  if (self->store)
    GST_INFO_OBJECT (self, "caps changed to %" GST_PTR_FORMAT ": flushing "
        "%u cached frames", caps, op_ram_store_n_frames (self->store));
  op_ram_cache_locked_drop_store (self);
  self->info = info;
  op_frame_clock_set_rate (&self->clock, GST_VIDEO_INFO_FPS_N (&info),
      GST_VIDEO_INFO_FPS_D (&info));
  gst_caps_replace (&self->caps, caps);
  self->store =
      op_ram_store_new (&info, self->cur.max_bytes, self->cur.max_frames,
      self->cur.policy, self->cur.spill_dir, self->cur.export_location, &err);
  if (self->store)
    GST_INFO_OBJECT (self, "arena: %u slots of %" G_GSIZE_FORMAT " bytes "
        "(budget %" G_GUINT64_FORMAT ", max-frames %u)",
        op_ram_store_capacity (self->store),
        op_ram_store_slot_size (self->store), self->cur.max_bytes,
        self->cur.max_frames);
  if (self->store && self->cur.policy == OP_RAM_CACHE_POLICY_SUBSAMPLE) {
    guint64 num, den;

    op_ram_store_plan_subsample (self->store, n_frames);
    op_ram_store_step_fraction (self->store, &num, &den);
    GST_INFO_OBJECT (self, "subsample: duration %" GST_TIME_FORMAT " = %"
        G_GUINT64_FORMAT " frames for %u slots: step %" G_GUINT64_FORMAT
        "/%" G_GUINT64_FORMAT, GST_TIME_ARGS (duration), n_frames,
        op_ram_store_capacity (self->store), num, den);
    plan = gst_structure_new ("ramcache-plan",
        "duration-frames", G_TYPE_UINT64, n_frames,
        "capacity", G_TYPE_UINT, op_ram_store_capacity (self->store),
        "step-num", G_TYPE_UINT64, num, "step-den", G_TYPE_UINT64, den, NULL);
  }
  RAM_UNLOCK (self);
  if (err)
    goto no_arena;
  if (plan)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), plan));
  return TRUE;

  /* ERRORS */
bad_caps:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("cannot parse video caps %" GST_PTR_FORMAT, caps), (NULL));
  return FALSE;
no_arena:
  GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", err->message),
      (NULL));
  g_error_free (err);
  return FALSE;
}

/* Waits until upstream data may flow downstream (passthrough mode) and
 * returns with the src pad STREAM_LOCK held, or FALSE when flushing. */
static gboolean
op_ram_cache_acquire_passthrough (OpRamCache * self)
{
  while (TRUE) {
    RAM_LOCK (self);
    while (self->mode != MODE_PASSTHROUGH && !self->sink_flushing)
      RAM_WAIT (self);
    if (self->sink_flushing) {
      RAM_UNLOCK (self);
      return FALSE;
    }
    RAM_UNLOCK (self);

    GST_PAD_STREAM_LOCK (self->srcpad);
    RAM_LOCK (self);
    /* a seek served from RAM may have won the race for the stream lock */
    if (self->mode == MODE_PASSTHROUGH && !self->sink_flushing) {
      RAM_UNLOCK (self);
      return TRUE;
    }
    RAM_UNLOCK (self);
    GST_PAD_STREAM_UNLOCK (self->srcpad);
  }
}

/* called with lock: the frame index, FALSE if the frame is not cacheable */
static gboolean
op_ram_cache_locked_index (OpRamCache * self, GstBuffer * buf, guint64 * idx)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  OpAnnotationMeta *meta = op_buffer_get_annotation_meta (buf);
  gboolean disagrees, known = TRUE;

  /* the clock sees every frame, so frames without a meta are numbered on
   * the same stream as those with one */
  if (self->index_lost)
    known = FALSE;
  /* before the first frame (after an upstream seek back): no index */
  else if (op_frame_clock_is_timed (&self->clock) &&
      GST_CLOCK_TIME_IS_VALID (pts) && pts < self->clock.first_pts)
    known = FALSE;
  if (known) {
    *idx = op_frame_clock_index (&self->clock, pts, &disagrees);
    if (disagrees && !meta && !self->warned_disagree) {
      self->warned_disagree = TRUE;
      self->post_disagree_index = *idx;
    }
  }
  /* annotfilter numbered it on the whole stream (it may drop unlabeled
   * frames before us): its index is the frame's identity */
  if (meta) {
    *idx = meta->ann.frame_index;
    return TRUE;
  }
  return known;
}

static GstFlowReturn
op_ram_cache_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  OpRamCache *self = OP_RAM_CACHE (parent);
  OpRamStoreResult res = OP_RAM_STORE_SKIPPED;
  GstStructure *full = NULL;
  gboolean filled = FALSE, warn_capacity = FALSE;
  GError *err = NULL;
  GstFlowReturn ret;
  guint64 idx = 0, disagree_at = G_MAXUINT64;

  if (!op_ram_cache_acquire_passthrough (self))
    goto flushing;

  RAM_LOCK (self);
  if (!self->store) {
    RAM_UNLOCK (self);
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    goto not_negotiated;
  }
  if (op_ram_cache_locked_index (self, buf, &idx)) {
    if (op_ram_store_capacity (self->store) == 0 &&
        self->cur.policy != OP_RAM_CACHE_POLICY_SPILL &&
        self->cur.policy != OP_RAM_CACHE_POLICY_ERROR) {
      warn_capacity = !self->warned_capacity;
      self->warned_capacity = TRUE;
    } else {
      res = op_ram_store_add (self->store, buf, idx, &filled, &err);
    }
    GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " pts %" GST_TIME_FORMAT
        ": %s", idx, GST_TIME_ARGS (GST_BUFFER_PTS (buf)),
        res == OP_RAM_STORE_STORED ? "cached" : "not cached");
  }
  if (filled) {
    full = gst_structure_new ("ramcache-full",
        "policy", G_TYPE_STRING, g_enum_get_value (g_type_class_peek
            (OP_TYPE_RAM_CACHE_POLICY), self->cur.policy)->value_nick,
        "capacity", G_TYPE_UINT, op_ram_store_capacity (self->store),
        "slot-bytes", G_TYPE_UINT64,
        (guint64) op_ram_store_slot_size (self->store),
        "cached-frames", G_TYPE_UINT, op_ram_store_n_frames (self->store),
        "step", G_TYPE_UINT64, op_ram_store_step (self->store),
        "frame-index", G_TYPE_UINT64, idx, NULL);
    if (self->cur.policy == OP_RAM_CACHE_POLICY_SUBSAMPLE) {
      guint64 num, den;

      op_ram_store_step_fraction (self->store, &num, &den);
      gst_structure_set (full, "step-num", G_TYPE_UINT64, num,
          "step-den", G_TYPE_UINT64, den, NULL);
    }
  }
  disagree_at = self->post_disagree_index;
  self->post_disagree_index = G_MAXUINT64;
  RAM_UNLOCK (self);

  if (disagree_at != G_MAXUINT64)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("the stream's timestamps skip frames (the frame at %" GST_TIME_FORMAT
            " is frame %" G_GUINT64_FORMAT " by its timestamp, not the next "
            "one): frames are numbered by timestamp, the skipped indices are "
            "not cached", GST_TIME_ARGS (GST_BUFFER_PTS (buf)), disagree_at),
        (NULL));

  if (res == OP_RAM_STORE_ERROR) {
    GST_PAD_STREAM_UNLOCK (self->srcpad);
    goto store_error;
  }
  if (full)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), full));
  if (warn_capacity)
    GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
        ("max-bytes is smaller than one frame (%" G_GSIZE_FORMAT " bytes): "
            "nothing is cached", GST_VIDEO_INFO_SIZE (&self->info)), (NULL));

  ret = gst_pad_push (self->srcpad, packed_for_downstream (self, buf));
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  /* downstream flushed by a seek we serve from RAM: upstream goes on */
  if (ret == GST_FLOW_FLUSHING) {
    RAM_LOCK (self);
    if (!self->sink_flushing)
      ret = GST_FLOW_OK;
    RAM_UNLOCK (self);
  }
  return ret;

  /* ERRORS */
flushing:
  gst_buffer_unref (buf);
  return GST_FLOW_FLUSHING;
not_negotiated:
  gst_buffer_unref (buf);
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
  return GST_FLOW_NOT_NEGOTIATED;
store_error:
  gst_buffer_unref (buf);
  if (err->domain == G_FILE_ERROR)
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
  else if (err->domain == GST_STREAM_ERROR)
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", err->message), (NULL));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", err->message),
        (NULL));
  g_error_free (err);
  return GST_FLOW_ERROR;
}

/* called with lock: frames one pass spans on the frame grid. The index
 * span, or more when the indices are counts (frames lost, timestamps
 * kept): the next pass must start after the last timestamp. */
static guint64
op_ram_cache_locked_span_frames (OpRamCache * self)
{
  const OpRamEntry *first = op_ram_store_first (self->store);
  const OpRamEntry *last = op_ram_store_last (self->store);
  guint64 frames = last->index - first->index + 1, by_pts;

  if (GST_CLOCK_TIME_IS_VALID (first->pts) &&
      GST_CLOCK_TIME_IS_VALID (last->pts) && last->pts > first->pts) {
    by_pts = gst_util_uint64_scale_round (last->pts - first->pts,
        GST_VIDEO_INFO_FPS_N (&self->info),
        (guint64) GST_VIDEO_INFO_FPS_D (&self->info) * GST_SECOND) + 1;
    frames = MAX (frames, by_pts);
  }
  return frames;
}

/* called with lock: duration of one pass over the cache */
static GstClockTime
op_ram_cache_locked_span (OpRamCache * self)
{
  const OpRamEntry *first = op_ram_store_first (self->store);
  const OpRamEntry *last = op_ram_store_last (self->store);
  GstClockTime dur = last->duration;
  gint fps_n = GST_VIDEO_INFO_FPS_N (&self->info);
  gint fps_d = GST_VIDEO_INFO_FPS_D (&self->info);

  /* constant framerate: whole frames, so passes do not drift by rounding */
  if (fps_n > 0 && fps_d > 0)
    return gst_util_uint64_scale_round (op_ram_cache_locked_span_frames
        (self), (guint64) fps_d * GST_SECOND, fps_n);
  if (!GST_CLOCK_TIME_IS_VALID (dur))
    dur = 1;
  if (!GST_CLOCK_TIME_IS_VALID (first->pts) ||
      !GST_CLOCK_TIME_IS_VALID (last->pts))
    return GST_CLOCK_TIME_NONE;
  return last->pts + dur - first->pts;
}

/* called with lock: the pts a cached frame is pushed with in this pass.
 * With a constant framerate the shift is whole frames computed on the
 * frame grid, so passes are exactly continuous despite ns rounding. */
static GstClockTime
op_ram_cache_locked_out_pts (OpRamCache * self, const OpRamEntry * e)
{
  gint fps_n = GST_VIDEO_INFO_FPS_N (&self->info);
  gint fps_d = GST_VIDEO_INFO_FPS_D (&self->info);
  guint64 den = (guint64) fps_d * GST_SECOND;

  if (!GST_CLOCK_TIME_IS_VALID (e->pts))
    return GST_CLOCK_TIME_NONE;
  if (fps_n > 0 && fps_d > 0)
    return e->pts + gst_util_uint64_scale_round (e->index +
        self->frames_offset, den, fps_n) -
        gst_util_uint64_scale_round (e->index, den, fps_n);
  return e->pts + self->pts_offset;
}

/* called with lock: starts the next pass over the cache if loops remain */
static gboolean
op_ram_cache_locked_next_loop (OpRamCache * self)
{
  GstClockTime span, shift, first;
  gint64 time;
  guint64 frames;
  gint fps_n = GST_VIDEO_INFO_FPS_N (&self->info);
  gint fps_d = GST_VIDEO_INFO_FPS_D (&self->info);
  GstSegment seg;

  if (self->loops_left <= 0 || !self->store ||
      op_ram_store_n_frames (self->store) == 0)
    return FALSE;
  span = op_ram_cache_locked_span (self);
  if (!GST_CLOCK_TIME_IS_VALID (span))
    return FALSE;
  frames = self->frames_offset + (fps_n > 0 && fps_d > 0 ?
      op_ram_cache_locked_span_frames (self) : 0);
  shift = fps_n > 0 && fps_d > 0 ? gst_util_uint64_scale_round (frames,
      (guint64) fps_d * GST_SECOND, fps_n) : self->pts_offset + span;

  /* Each pass is a segment of its own, starting at the shifted first
   * cached frame (a seek's pass began later, at its target): timestamps
   * and running time go on, and stream time starts over at the replayed
   * frames' own positions in the media, so downstream numbering by stream
   * time gives a replay the indices of the frames it replays. */
  seg = self->pass_segment;
  first = op_ram_store_first (self->store)->pts;
  if (!GST_CLOCK_TIME_IS_VALID (first))
    first = seg.start;
  seg.start = MAX (first + shift, self->pass_segment.start);
  /* the position in the media of the new start, and running time that
   * continues where this pass's unshifted segment would have put it */
  time = (gint64) self->pass_segment.time + (gint64) (seg.start - shift) -
      (gint64) self->pass_segment.start;
  seg.time = (GstClockTime) MAX (time, 0);
  seg.base = self->pass_segment.base + (seg.start - self->pass_segment.start);
  seg.position = seg.start;
  if (GST_CLOCK_TIME_IS_VALID (seg.stop) && seg.start >= seg.stop)
    return FALSE;               /* the seek's stop ends the replay here */
  self->out_segment = seg;
  self->need_segment = TRUE;

  self->loops_left--;
  self->pts_offset += span;
  self->frames_offset = frames;
  self->replay_pos = op_ram_store_first (self->store)->index;
  self->discont = TRUE;
  GST_INFO_OBJECT (self, "loop pass, %d left, offset %" GST_TIME_FORMAT,
      self->loops_left, GST_TIME_ARGS (self->pts_offset));
  return TRUE;
}

/* export-location at upstream EOS: the cache as one .npy. Posts
 * ramcache-exported, or an error naming the file. */
static gboolean
op_ram_cache_export (OpRamCache * self)
{
  GstStructure *s = NULL;
  GError *err = NULL;
  gboolean from_spill = FALSE;
  gchar *index_path;

  RAM_LOCK (self);
  if (!self->cur.export_location || !self->store) {
    RAM_UNLOCK (self);
    return TRUE;
  }
  if (op_ram_store_export (self->store, self->cur.export_location, &from_spill,
          &err)) {
    index_path = op_ram_npy_index_path (self->cur.export_location);
    s = gst_structure_new ("ramcache-exported",
        "location", G_TYPE_STRING, self->cur.export_location,
        "index-location", G_TYPE_STRING, index_path,
        "frames", G_TYPE_UINT, op_ram_store_n_frames (self->store),
        "from-spill", G_TYPE_BOOLEAN, from_spill, NULL);
    g_free (index_path);
    GST_INFO_OBJECT (self, "exported %u frames to %s%s",
        op_ram_store_n_frames (self->store), self->cur.export_location,
        from_spill ? " (the spill file)" : "");
  }
  RAM_UNLOCK (self);

  if (err) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return TRUE;
}

static gboolean
op_ram_cache_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  OpRamCache *self = OP_RAM_CACHE (parent);
  gboolean ret = TRUE, start_task = FALSE;

  GST_DEBUG_OBJECT (self, "event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      RAM_LOCK (self);
      self->sink_flushing = self->src_flushing = TRUE;
      RAM_BROADCAST (self);
      RAM_UNLOCK (self);
      ret = gst_pad_push_event (self->srcpad, event);
      gst_pad_pause_task (self->srcpad);
      return ret;
    case GST_EVENT_FLUSH_STOP:
      GST_PAD_STREAM_LOCK (self->srcpad);
      RAM_LOCK (self);
      self->sink_flushing = self->src_flushing = FALSE;
      self->mode = MODE_PASSTHROUGH;
      self->upstream_eos = FALSE;
      self->loops_left = self->cur.loop;
      self->pts_offset = 0;
      self->frames_offset = 0;
      if (!op_frame_clock_is_timed (&self->clock) &&
          self->clock.last_index >= 0) {
        GST_INFO_OBJECT (self, "frames numbered by count: frame index "
            "unknown after an upstream flush, caching stops");
        self->index_lost = TRUE;
      }
      /* an upstream seek: the next timestamp jumps on purpose */
      self->clock.expect_jump = TRUE;
      RAM_UNLOCK (self);
      ret = gst_pad_push_event (self->srcpad, event);
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      return ret;
    default:
      break;
  }

  if (!GST_EVENT_IS_SERIALIZED (event))
    return gst_pad_event_default (pad, parent, event);

  if (!op_ram_cache_acquire_passthrough (self)) {
    gst_event_unref (event);
    return FALSE;
  }

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      if (!op_ram_cache_set_caps (self, caps)) {
        gst_event_unref (event);
        ret = FALSE;
        goto done;
      }
      break;
    }
    case GST_EVENT_SEGMENT:
      RAM_LOCK (self);
      gst_event_copy_segment (event, &self->in_segment);
      self->out_segment = self->in_segment;
      RAM_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      if (!op_ram_cache_export (self)) {
        gst_event_unref (event);
        ret = FALSE;
        goto done;
      }
      RAM_LOCK (self);
      self->upstream_eos = TRUE;
      self->pass_segment = self->in_segment;
      self->pass_segment.stop = GST_CLOCK_TIME_NONE;
      self->pass_segment.duration = GST_CLOCK_TIME_NONE;
      if (op_ram_cache_locked_next_loop (self)) {
        self->mode = MODE_REPLAY;
        self->seg_seqnum = gst_event_get_seqnum (event);
        start_task = TRUE;
      }
      RAM_UNLOCK (self);
      if (start_task) {
        gst_event_unref (event);
        gst_pad_start_task (self->srcpad,
            (GstTaskFunction) op_ram_cache_loop, self, NULL);
        goto done;
      }
      break;
    default:
      break;
  }
  ret = gst_pad_push_event (self->srcpad, event);
done:
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  return ret;
}

/* The src pad task: pushes cached frames from replay_pos on. */
static void
op_ram_cache_loop (OpRamCache * self)
{
  GstEvent *segment = NULL, *eos = NULL;
  GstBuffer *buf = NULL;
  gboolean pause = FALSE;
  GstFlowReturn ret;

  RAM_LOCK (self);
  if (self->src_flushing || self->mode != MODE_REPLAY) {
    RAM_UNLOCK (self);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  while (!buf && !pause) {
    const OpRamEntry *e = self->store ?
        op_ram_store_next (self->store, self->replay_pos) : NULL;
    gboolean at_stop = FALSE;

    if (e && GST_CLOCK_TIME_IS_VALID (self->out_segment.stop) &&
        GST_CLOCK_TIME_IS_VALID (e->pts) &&
        op_ram_cache_locked_out_pts (self, e) >= self->out_segment.stop) {
      e = NULL;
      at_stop = TRUE;
    }
    if (e) {
      buf = op_ram_store_read (self->store, e);
      GST_BUFFER_PTS (buf) = op_ram_cache_locked_out_pts (self, e);
      if (self->discont)
        GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      self->discont = FALSE;
      self->replay_pos = e->index + 1;
    } else if (!at_stop && !self->upstream_eos) {
      /* caught up with the live edge: upstream's thread takes over */
      GST_DEBUG_OBJECT (self, "replay reached frame %" G_GUINT64_FORMAT
          ", back to passthrough", self->replay_pos);
      self->mode = MODE_PASSTHROUGH;
      RAM_BROADCAST (self);
      pause = TRUE;
    } else if (!at_stop && op_ram_cache_locked_next_loop (self)) {
      continue;
    } else {
      self->mode = MODE_DONE;
      eos = gst_event_new_eos ();
      gst_event_set_seqnum (eos, self->seg_seqnum);
      pause = TRUE;
    }
  }
  if (self->need_segment) {
    segment = gst_event_new_segment (&self->out_segment);
    gst_event_set_seqnum (segment, self->seg_seqnum);
    self->need_segment = FALSE;
  }
  RAM_UNLOCK (self);

  if (segment)
    gst_pad_push_event (self->srcpad, segment);
  if (buf) {
    ret = gst_pad_push (self->srcpad, buf);
    if (ret != GST_FLOW_OK) {
      pause = TRUE;
      if (ret == GST_FLOW_EOS) {
        RAM_LOCK (self);
        self->mode = MODE_DONE;
        RAM_UNLOCK (self);
      } else if (ret != GST_FLOW_FLUSHING) {
        GST_ELEMENT_FLOW_ERROR (self, ret);
        RAM_LOCK (self);
        self->mode = MODE_DONE;
        RAM_UNLOCK (self);
        eos = gst_event_new_eos ();
      }
    }
  }
  if (eos)
    gst_pad_push_event (self->srcpad, eos);
  if (pause)
    gst_pad_pause_task (self->srcpad);
}

/* called with lock: the cached entry a seek start refers to */
static const OpRamEntry *
op_ram_cache_locked_seek_entry (OpRamCache * self, GstFormat format, gint64 pos)
{
  if (!self->store || pos < 0)
    return NULL;
  if (format == GST_FORMAT_DEFAULT)
    return op_ram_store_lookup (self->store, pos);
  return op_ram_store_at_time (self->store, pos);
}

/* called with lock: a frame index as a time, NONE if unknown */
static GstClockTime
op_ram_cache_locked_index_time (OpRamCache * self, gint64 idx)
{
  const OpRamEntry *e;

  if (idx < 0)
    return GST_CLOCK_TIME_NONE;
  e = self->store ? op_ram_store_lookup (self->store, idx) : NULL;
  if (e && GST_CLOCK_TIME_IS_VALID (e->pts))
    return e->pts;
  return op_frame_clock_pts_of (&self->clock, idx);
}

/* Sends a seek upstream; DEFAULT (frames) becomes TIME when possible. */
static gboolean
op_ram_cache_seek_upstream (OpRamCache * self, GstEvent * event)
{
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop;
  gdouble rate;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (format == GST_FORMAT_DEFAULT) {
    GstClockTime tstart, tstop;
    GstEvent *tev;

    RAM_LOCK (self);
    tstart = op_ram_cache_locked_index_time (self, start);
    tstop = op_ram_cache_locked_index_time (self, stop);
    RAM_UNLOCK (self);
    if (GST_CLOCK_TIME_IS_VALID (tstart) || start_type == GST_SEEK_TYPE_NONE) {
      tev = gst_event_new_seek (rate, GST_FORMAT_TIME, flags, start_type,
          tstart, GST_CLOCK_TIME_IS_VALID (tstop) ? stop_type :
          GST_SEEK_TYPE_NONE, tstop);
      gst_event_set_seqnum (tev, gst_event_get_seqnum (event));
      gst_event_unref (event);
      event = tev;
    }
  }
  GST_DEBUG_OBJECT (self, "seek goes upstream: %" GST_PTR_FORMAT, event);
  return gst_pad_push_event (self->sinkpad, event);
}

static gboolean
op_ram_cache_handle_seek (OpRamCache * self, GstEvent * event)
{
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop;
  gdouble rate;
  const OpRamEntry *e;
  GstClockTime start_time, stop_time = GST_CLOCK_TIME_NONE;
  guint64 target;
  guint32 seqnum = gst_event_get_seqnum (event);
  GstEvent *fev;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (rate != 1.0 || !(flags & GST_SEEK_FLAG_FLUSH) ||
      (flags & GST_SEEK_FLAG_SEGMENT) || start_type != GST_SEEK_TYPE_SET ||
      (format != GST_FORMAT_TIME && format != GST_FORMAT_DEFAULT))
    goto upstream;

  RAM_LOCK (self);
  e = op_ram_cache_locked_seek_entry (self, format, start);
  if (!e) {
    self->misses++;
    RAM_UNLOCK (self);
    goto upstream;
  }
  self->hits++;
  target = e->index;
  start_time = format == GST_FORMAT_TIME ? (GstClockTime) start : e->pts;
  if (stop_type == GST_SEEK_TYPE_SET)
    stop_time = format == GST_FORMAT_TIME ? (GstClockTime) stop :
        op_ram_cache_locked_index_time (self, stop);
  RAM_UNLOCK (self);
  GST_INFO_OBJECT (self, "seek to frame %" G_GUINT64_FORMAT " (%"
      GST_TIME_FORMAT ") served from RAM", target, GST_TIME_ARGS (start_time));

  /* stop the task and whoever pushes in passthrough, then restart */
  fev = gst_event_new_flush_start ();
  gst_event_set_seqnum (fev, seqnum);
  gst_pad_push_event (self->srcpad, fev);
  RAM_LOCK (self);
  self->src_flushing = TRUE;
  RAM_BROADCAST (self);
  RAM_UNLOCK (self);
  gst_pad_pause_task (self->srcpad);

  GST_PAD_STREAM_LOCK (self->srcpad);
  if (!gst_pad_is_active (self->srcpad))
    goto inactive;
  RAM_LOCK (self);
  self->out_segment = self->in_segment;
  if (self->out_segment.format != GST_FORMAT_TIME)
    gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
  gst_segment_do_seek (&self->out_segment, 1.0, GST_FORMAT_TIME, flags,
      GST_SEEK_TYPE_SET, start_time, GST_SEEK_TYPE_SET, stop_time, NULL);
  self->pass_segment = self->out_segment;
  self->mode = MODE_REPLAY;
  self->replay_pos = target;
  self->pts_offset = 0;
  self->frames_offset = 0;
  self->discont = TRUE;
  self->need_segment = TRUE;
  self->seg_seqnum = seqnum;
  self->src_flushing = FALSE;
  RAM_UNLOCK (self);
  fev = gst_event_new_flush_stop (TRUE);
  gst_event_set_seqnum (fev, seqnum);
  gst_pad_push_event (self->srcpad, fev);
  gst_pad_start_task (self->srcpad, (GstTaskFunction) op_ram_cache_loop,
      self, NULL);
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  gst_event_unref (event);
  return TRUE;

upstream:
  return op_ram_cache_seek_upstream (self, event);
inactive:
  /* shutting down meanwhile: leave the task stopped */
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  gst_event_unref (event);
  return FALSE;
}

static gboolean
op_ram_cache_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  OpRamCache *self = OP_RAM_CACHE (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK)
    return op_ram_cache_handle_seek (self, event);
  return gst_pad_event_default (pad, parent, event);
}

static GstSample *
op_ram_cache_get_frame (OpRamCache * self, guint64 index)
{
  const OpRamEntry *e;
  GstBuffer *buf = NULL;
  GstCaps *caps = NULL;
  GstSample *sample;

  RAM_LOCK (self);
  e = self->store ? op_ram_store_lookup (self->store, index) : NULL;
  if (e) {
    buf = op_ram_store_read (self->store, e);
    caps = gst_caps_ref (self->caps);
    self->hits++;
  } else {
    self->misses++;
  }
  RAM_UNLOCK (self);
  if (!buf)
    return NULL;
  sample = gst_sample_new (buf, caps, NULL, NULL);
  gst_buffer_unref (buf);
  gst_caps_unref (caps);
  return sample;
}

static void
op_ram_cache_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  OpRamCache *self = OP_RAM_CACHE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MAX_BYTES:
      self->settings.max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_FRAMES:
      self->settings.max_frames = g_value_get_uint (value);
      break;
    case PROP_POLICY:
      self->settings.policy = g_value_get_enum (value);
      break;
    case PROP_SPILL_DIR:
      g_free (self->settings.spill_dir);
      self->settings.spill_dir = g_value_dup_string (value);
      break;
    case PROP_LOOP:
      self->settings.loop = g_value_get_int (value);
      break;
    case PROP_EXPORT_LOCATION:
      g_free (self->settings.export_location);
      self->settings.export_location = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
op_ram_cache_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  OpRamCache *self = OP_RAM_CACHE (object);

  switch (prop_id) {
    case PROP_CACHED_FRAMES:
    case PROP_CACHED_BYTES:
    case PROP_HITS:
    case PROP_MISSES:
    case PROP_EVICTED:
      RAM_LOCK (self);
      if (prop_id == PROP_CACHED_FRAMES)
        g_value_set_uint (value,
            self->store ? op_ram_store_n_frames (self->store) : 0);
      else if (prop_id == PROP_CACHED_BYTES)
        g_value_set_uint64 (value,
            self->store ? op_ram_store_n_bytes (self->store) : 0);
      else if (prop_id == PROP_HITS)
        g_value_set_uint64 (value, self->hits);
      else if (prop_id == PROP_MISSES)
        g_value_set_uint64 (value, self->misses);
      else
        g_value_set_uint64 (value, self->evicted_flushed +
            (self->store ? op_ram_store_evicted (self->store) : 0));
      RAM_UNLOCK (self);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MAX_BYTES:
      g_value_set_uint64 (value, self->settings.max_bytes);
      break;
    case PROP_MAX_FRAMES:
      g_value_set_uint (value, self->settings.max_frames);
      break;
    case PROP_POLICY:
      g_value_set_enum (value, self->settings.policy);
      break;
    case PROP_SPILL_DIR:
      g_value_set_string (value, self->settings.spill_dir);
      break;
    case PROP_LOOP:
      g_value_set_int (value, self->settings.loop);
      break;
    case PROP_EXPORT_LOCATION:
      g_value_set_string (value, self->settings.export_location);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
