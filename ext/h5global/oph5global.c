/* onepass: libhdf5's process-wide state, handled in one place.
 *
 * libhdf5 keeps global state: open object ids, caches, and an automatic
 * error handler that prints the error stack to stderr. Debian's 1.10.8 is
 * built thread-safe (its own global lock around every API call), but many
 * builds users link against are not (serial HDF5 of other distributions, a
 * self-built one), and there two threads inside libhdf5 at once corrupt
 * it. So every HDF5 call of onepass (the label readers in annotfilter and
 * onepass-labels, batchsink's HDF5 writer) runs between op_h5_lock() and
 * op_h5_unlock(): one caller in the process at a time, whatever the build.
 *
 * Errors become GErrors (op_h5_take_error() gives the innermost message),
 * so the automatic handler is switched off inside the section and put back
 * as it was at unlock: an application's own handler (h5py installs one)
 * stays in place. In a thread-safe build the handler is per thread; it is
 * saved and restored for the thread holding the lock, which is the one
 * calling.
 *
 * The lock is not recursive: take it once per entry point (one label load,
 * one call of the writer), never in a helper.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oph5global.h"

static GMutex h5_lock;
/* the handler of the thread holding the lock, as it was before */
static H5E_auto2_t saved_func;
static gpointer saved_data;

/**
 * op_h5_lock:
 *
 * Enters libhdf5: waits for the process-wide lock, then silences libhdf5's
 * automatic error printing until op_h5_unlock().
 */
void
op_h5_lock (void)
{
  g_mutex_lock (&h5_lock);
  H5Eget_auto2 (H5E_DEFAULT, &saved_func, &saved_data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

/**
 * op_h5_unlock:
 *
 * Leaves libhdf5: drops what is left on the error stack, puts the
 * automatic error handler back as op_h5_lock() found it, releases the lock.
 */
void
op_h5_unlock (void)
{
  H5Eclear2 (H5E_DEFAULT);
  H5Eset_auto2 (H5E_DEFAULT, saved_func, saved_data);
  saved_func = NULL;
  saved_data = NULL;
  g_mutex_unlock (&h5_lock);
}

static herr_t
walk_innermost (unsigned n, const H5E_error2_t * e, void *data)
{
  gchar **msg = data;

  if (*msg == NULL && e->desc && *e->desc)
    *msg = g_strdup (e->desc);
  return 0;
}

/**
 * op_h5_take_error:
 *
 * Call with the lock held, right after the failing call (the next API call
 * clears the stack).
 *
 * Returns: (transfer full): the innermost message on libhdf5's error stack
 *   (never %NULL), and clears the stack
 */
gchar *
op_h5_take_error (void)
{
  gchar *msg = NULL;

  H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &msg);
  H5Eclear2 (H5E_DEFAULT);
  return msg ? msg : g_strdup ("HDF5 reported no reason");
}
