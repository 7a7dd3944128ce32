/* batchsink: files written as <name>.partial, fsynced, then renamed, so a
 * reader never sees a truncated file under a final name.
 *
 * Fault injection for tests: ONEPASS_BATCHSINK_FAULT=enospc-after-bytes:N
 * (read by op_batch_fault_reset() in batchsink's start) makes every write
 * through this file fail with ENOSPC once N bytes have been written in
 * total by the process since that start.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "batchfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#define BUF_SIZE (256 * 1024)

struct _OpBatchFile
{
  gchar *path;
  gchar *partial;
  gint fd;
  guint8 *buf;
  gsize fill;
  guint64 size;
};

static gint64 fault_budget = -1;        /* bytes left before ENOSPC; -1 = off */
static GMutex fault_lock;

void
op_batch_fault_reset (void)
{
  const gchar *env = g_getenv ("ONEPASS_BATCHSINK_FAULT");
  gint64 budget = -1;

  if (env && g_str_has_prefix (env, "enospc-after-bytes:"))
    budget = g_ascii_strtoll (env + strlen ("enospc-after-bytes:"), NULL, 10);
  g_mutex_lock (&fault_lock);
  fault_budget = budget;
  g_mutex_unlock (&fault_lock);
}

/* Charges @len bytes to the injected budget; FALSE (ENOSPC) when spent. */
gboolean
op_batch_fault_take (const gchar * path, gsize len, GError ** error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&fault_lock);
  if (fault_budget >= 0) {
    if ((guint64) fault_budget < len) {
      fault_budget = 0;
      ok = FALSE;
    } else {
      fault_budget -= len;
    }
  }
  g_mutex_unlock (&fault_lock);
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
        "Could not write to \"%s\": %s (injected)", path, g_strerror (ENOSPC));
  return ok;
}

static gboolean
set_errno_error (GError ** error, gint err, const gchar * what,
    const gchar * path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
      "Could not %s \"%s\": %s", what, path, g_strerror (err));
  return FALSE;
}

gboolean
op_batch_mkdirs (const gchar * dir, GError ** error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    return set_errno_error (error, errno, "create directory", dir);
  return TRUE;
}

/* Creates @dir if needed and proves it writable now, not at the first
 * sample: with a probe file of its own (a unique name), never with a name
 * another run sharing @dir may be writing at the same moment. */
gboolean
op_batch_check_dir (const gchar * dir, GError ** error)
{
  gchar *probe;
  gint fd;

  if (!op_batch_mkdirs (dir, error))
    return FALSE;
  probe = g_build_filename (dir, ".onepass-probe-XXXXXX", NULL);
  fd = g_mkstemp_full (probe, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    gint err = errno;
    gboolean ok = set_errno_error (error, err, "write into directory", dir);

    g_free (probe);
    return ok;
  }
  close (fd);
  g_unlink (probe);
  g_free (probe);
  return TRUE;
}

gboolean
op_batch_sync_dir (const gchar * dir, GError ** error)
{
  gint fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return set_errno_error (error, errno, "open directory", dir);
  /* some filesystems refuse fsync on directories; the rename still holds */
  if (fsync (fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    gint err = errno;
    close (fd);
    return set_errno_error (error, err, "sync directory", dir);
  }
  close (fd);
  return TRUE;
}

OpBatchFile *
op_batch_file_open (const gchar * path, GError ** error)
{
  OpBatchFile *f = g_new0 (OpBatchFile, 1);

  f->path = g_strdup (path);
  f->partial = g_strconcat (path, ".partial", NULL);
  f->fd = open (f->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f->fd < 0) {
    set_errno_error (error, errno, "open for writing", f->partial);
    g_free (f->partial);
    g_free (f->path);
    g_free (f);
    return NULL;
  }
  return f;
}

static gboolean
write_all (OpBatchFile * f, const guint8 * data, gsize len, GError ** error)
{
  if (!op_batch_fault_take (f->partial, len, error))
    return FALSE;
  while (len > 0) {
    gssize n = write (f->fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return set_errno_error (error, errno, "write to", f->partial);
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
flush_buf (OpBatchFile * f, GError ** error)
{
  gsize fill = f->fill;

  f->fill = 0;
  return write_all (f, f->buf, fill, error);
}

gboolean
op_batch_file_write (OpBatchFile * f, const void *data, gsize len,
    GError ** error)
{
  f->size += len;
  if (f->fill + len > BUF_SIZE && !flush_buf (f, error))
    return FALSE;
  /* large payloads skip the copy into the buffer */
  if (len >= BUF_SIZE)
    return write_all (f, data, len, error);
  /* allocated on first use: one-shot files (dir, manifest) never need it */
  if (!f->buf)
    f->buf = g_malloc (BUF_SIZE);
  memcpy (f->buf + f->fill, data, len);
  f->fill += len;
  return TRUE;
}

guint64
op_batch_file_size (OpBatchFile * f)
{
  return f->size;
}

const gchar *
op_batch_file_path (OpBatchFile * f)
{
  return f->path;
}

/* Changes the name @f gets at commit (the .partial keeps its name). */
void
op_batch_file_set_path (OpBatchFile * f, const gchar * path)
{
  g_free (f->path);
  f->path = g_strdup (path);
}

static void
file_free (OpBatchFile * f)
{
  if (f->fd >= 0)
    close (f->fd);
  g_free (f->buf);
  g_free (f->partial);
  g_free (f->path);
  g_free (f);
}

/* Flushes, fsyncs (when @sync), renames to the final name and fsyncs the
 * directory so the rename itself survives a crash. Frees @f; on failure
 * the .partial is removed. */
gboolean
op_batch_file_commit (OpBatchFile * f, gboolean sync, GError ** error)
{
  gchar *dir;
  gboolean ok;

  if (!flush_buf (f, error))
    goto fail;
  if (sync && fsync (f->fd) != 0) {
    set_errno_error (error, errno, "sync", f->partial);
    goto fail;
  }
  if (close (f->fd) != 0) {
    f->fd = -1;
    set_errno_error (error, errno, "close", f->partial);
    goto fail;
  }
  f->fd = -1;
  if (g_rename (f->partial, f->path) != 0) {
    set_errno_error (error, errno, "rename to", f->path);
    goto fail;
  }
  ok = TRUE;
  if (sync) {
    dir = g_path_get_dirname (f->path);
    ok = op_batch_sync_dir (dir, error);
    g_free (dir);
  }
  file_free (f);
  return ok;

fail:
  op_batch_file_abort (f);
  return FALSE;
}

/* Drops the file: the .partial is removed, nothing appears as complete. */
void
op_batch_file_abort (OpBatchFile * f)
{
  if (f->fd >= 0) {
    close (f->fd);
    f->fd = -1;
  }
  g_unlink (f->partial);
  file_free (f);
}

gboolean
op_batch_file_replace (const gchar * path, const void *data, gsize len,
    gboolean sync, GError ** error)
{
  OpBatchFile *f = op_batch_file_open (path, error);

  if (!f)
    return FALSE;
  f->size = len;
  if (!write_all (f, data, len, error)) {
    op_batch_file_abort (f);
    return FALSE;
  }
  return op_batch_file_commit (f, sync, error);
}
