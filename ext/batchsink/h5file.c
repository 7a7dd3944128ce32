/* batchsink: the HDF5 files it writes (shards, views), made safe against
 * a full disk. libhdf5 1.10 cannot recover from a write or flush that
 * fails half-way: the file can then be neither flushed nor closed ("slist
 * already enabled?") and libhdf5's exit handler crashes on it
 * (H5F__close_cb from H5_term_library). So disk space is reserved before
 * libhdf5 writes, and a file given up is emptied before it is closed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* fallocate */
#endif
#include "h5file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>

/**
 * op_h5_file_access_new:
 *
 * The file access properties of every file batchsink writes: 1.8 object
 * headers (attributes over 64 KiB, e.g. a large skeleton, go to dense
 * attribute storage instead of failing) and a strong close (closing the
 * file closes whatever object an error path left open).
 *
 * Returns: a property list for H5Pclose().
 */
hid_t
op_h5_file_access_new (void)
{
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);

  H5Pset_libver_bounds (fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  H5Pset_fclose_degree (fapl, H5F_CLOSE_STRONG);
  return fapl;
}

/**
 * op_h5_file_reserve:
 * @bytes: how much libhdf5 may write next, past what the file holds
 * @path: the file's name, for the error
 *
 * Reserves disk space (fallocate, size unchanged) for the next @bytes of
 * @file, so that libhdf5 never meets a full disk. A write or flush that
 * fails half-way leaves a file libhdf5 1.10 can neither flush nor close
 * again (its metadata cache keeps the failed flush's state: "slist already
 * enabled?"), and its exit handler then crashes on it. A full disk is
 * found here instead, before libhdf5 writes, and the file can still be
 * dropped cleanly. Filesystems without fallocate are not protected.
 *
 * Returns: FALSE with a G_IO_ERROR_NO_SPACE error naming @path.
 */
gboolean
op_h5_file_reserve (hid_t file, guint64 bytes, const gchar * path,
    GError ** error)
{
  void *handle = NULL;
  haddr_t eoa = 0;
  struct stat sb;
  off_t base;
  gint fd;

  if (H5Fget_vfd_handle (file, H5P_DEFAULT, &handle) < 0 || !handle)
    return TRUE;
  fd = *(gint *) handle;
  if (fstat (fd, &sb) != 0)
    return TRUE;
  H5Fget_eoa (file, &eoa);
  base = MAX ((guint64) sb.st_size, (guint64) eoa);
  if (fallocate (fd, FALLOC_FL_KEEP_SIZE, base, bytes) == 0 ||
      errno == EOPNOTSUPP || errno == ENOSYS)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
      "Could not write to \"%s\": %s", path, g_strerror (errno));
  return FALSE;
}

/**
 * op_h5_release_reserve:
 * @fd: a file written under op_h5_file_reserve(), closed by libhdf5
 *
 * Frees the reserved space the file did not use (truncating it to its own
 * size drops the blocks past its end).
 *
 * Returns: FALSE with errno set on failure.
 */
gboolean
op_h5_release_reserve (gint fd)
{
  struct stat sb;

  return fstat (fd, &sb) == 0 && ftruncate (fd, sb.st_size) == 0;
}

/**
 * op_h5_file_truncate:
 *
 * Empties @file (open, incomplete, about to be deleted) on disk before it
 * is closed. Closing flushes what libhdf5 caches; on a full disk that
 * flush fails, the close fails half-way and libhdf5's exit handler later
 * crashes on the torn file. Truncated, the file's space is free again and
 * the flush finds room.
 */
void
op_h5_file_truncate (hid_t file)
{
  void *handle = NULL;
  gint err = errno;

  if (H5Fget_vfd_handle (file, H5P_DEFAULT, &handle) >= 0 && handle &&
      ftruncate (*(gint *) handle, 0) != 0)
    g_debug ("could not truncate a dropped HDF5 file: %s", g_strerror (errno));
  errno = err;
}

/**
 * op_h5_file_drop:
 *
 * Closes @file, incomplete and about to be deleted, after
 * op_h5_file_truncate(); the strong close closes its other objects.
 */
void
op_h5_file_drop (hid_t file)
{
  gint err = errno;

  op_h5_file_truncate (file);
  H5Fclose (file);
  errno = err;
}

/**
 * op_h5_file_commit:
 *
 * Flushes and closes @file; when the flush fails (a full disk) the file
 * is dropped (op_h5_file_drop()) instead. errno and libhdf5's error stack
 * are those of the failure.
 *
 * Returns: TRUE when the file was closed complete.
 */
gboolean
op_h5_file_commit (hid_t file)
{
  hid_t stack;
  gint err;

  errno = 0;
  if (H5Fflush (file, H5F_SCOPE_LOCAL) >= 0)
    return H5Fclose (file) >= 0;
  err = errno;
  stack = H5Eget_current_stack ();
  op_h5_file_drop (file);
  H5Eset_current_stack (stack);
  errno = err;
  return FALSE;
}
