/* onepass: label files are parsed in a child process.
 *
 * libhdf5 does not validate everything it reads: a damaged .slp can make
 * it crash or loop forever (issue "Nothing lost, no crash on any input"),
 * and inside a pipeline that takes the application down. So HDF5 files
 * are read in onepass-label-loader (op_label_readers_load() decides),
 * spawned with posix_spawn (safe in a threaded process, unlike fork),
 * which writes the loaded columns into a memory file (memfd) that this
 * process then maps: the labels are not copied, and a crash or a hang of
 * the child is an error naming the file.
 *
 * The loader is found as $ONEPASS_LABEL_LOADER, else installed in
 * libexecdir, else in the build tree; without one, labels are read in
 * this process (and a GLib debug message says so).
 * ONEPASS_LABEL_LOADER=in-process forces that; ONEPASS_LABEL_LOAD_TIMEOUT
 * (seconds, default 300) bounds one load.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memfd_create */
#endif
#include "isolate.h"
#include "labelsblob.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/**
 * op_labels_find_loader:
 *
 * Returns: (transfer full) (nullable): the loader's path, or %NULL to read
 *   labels in this process
 */
gchar *
op_labels_find_loader (void)
{
  const gchar *env = g_getenv ("ONEPASS_LABEL_LOADER");
  const gchar *const candidates[] = {
    ONEPASS_LIBEXECDIR "/onepass-label-loader",
    ONEPASS_LOADER_BUILD_PATH,
  };
  guint i;

  if (env && *env)
    return g_strcmp0 (env, "in-process") == 0 ? NULL : g_strdup (env);
  for (i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (candidates[i]);
  g_debug ("no onepass-label-loader found: label files are read in this "
      "process");
  return NULL;
}

/* waits up to @timeout_s for @pid; returns FALSE on a timeout. A pidfd
 * wakes this process when the child ends; without one (kernels before
 * 5.3) it polls, which adds up to 20 ms to a load. */
static gboolean
wait_child (GPid pid, guint timeout_s, gint * status)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * 1000000;
  gulong pause_us = 200;
  gint pidfd = -1;

#ifdef SYS_pidfd_open
  pidfd = syscall (SYS_pidfd_open, pid, 0);
#endif
  for (;;) {
    pid_t r = waitpid (pid, status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR) {
      *status = -1;
      break;
    }
    if (timeout_s > 0 && g_get_monotonic_time () > deadline) {
      if (pidfd >= 0)
        close (pidfd);
      return FALSE;
    }
    if (pidfd >= 0) {
      struct pollfd p = { pidfd, POLLIN, 0 };
      gint64 left_ms = timeout_s > 0 ?
          (deadline - g_get_monotonic_time ()) / 1000 + 1 : 1000;
      poll (&p, 1, (gint) CLAMP (left_ms, 1, 1000));
    } else {
      g_usleep (pause_us);
      pause_us = MIN (pause_us * 2, 20000);
    }
  }
  if (pidfd >= 0)
    close (pidfd);
  return TRUE;
}

static guint
timeout_from_env (guint timeout_s)
{
  const gchar *env = g_getenv ("ONEPASS_LABEL_LOAD_TIMEOUT");
  gchar *end = NULL;
  guint64 v;

  if (env == NULL || *env == '\0')
    return timeout_s;
  v = g_ascii_strtoull (env, &end, 10);
  return (end && *end == '\0' && v <= G_MAXUINT) ? (guint) v : timeout_s;
}

/**
 * op_labels_load_isolated:
 * @loader: the loader executable (op_labels_find_loader())
 * @timeout_s: time limit in seconds, 0 = none; ONEPASS_LABEL_LOAD_TIMEOUT
 *   overrides it
 *
 * op_labels_load() in a child process. The messages are the same, plus
 * one for a reader that crashed or hung on @path.
 *
 * Returns: (transfer full) (nullable): the labels
 */
OpLabels *
op_labels_load_isolated (const gchar * path,
    const OpLabelReader * const *readers, const gchar * loader,
    guint timeout_s, GError ** error)
{
  posix_spawn_file_actions_t actions;
  gchar *argv[] = { (gchar *) loader, (gchar *) "3", (gchar *) path, NULL };
  OpLabels *labels = NULL;
  pid_t pid = -1;
  gint fd, rc, status = 0;

  if (path == NULL || *path == '\0')
    return op_labels_load (path, readers, error);
  timeout_s = timeout_from_env (timeout_s);
  fd = memfd_create ("onepass-labels", MFD_CLOEXEC);
  if (fd < 0) {
    gint e = errno;
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: cannot make a memory file for the label loader: %s", path,
        g_strerror (e));
    return NULL;
  }
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, fd, 3);
  rc = posix_spawn (&pid, loader, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  if (rc != 0) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: cannot start the label loader %s: %s", path, loader,
        g_strerror (rc));
    close (fd);
    return NULL;
  }
  if (!wait_child (pid, timeout_s, &status)) {
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: reading the labels did not finish within %u s; the file is "
        "probably damaged (a damaged HDF5 file can make libhdf5 loop "
        "forever); ONEPASS_LABEL_LOAD_TIMEOUT sets the limit in seconds",
        path, timeout_s);
  } else if (status != -1 && WIFSIGNALED (status)) {
    gint sig = WTERMSIG (status);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_CORRUPT,
        "%s: the label reader crashed on this file (signal %d, %s): the "
        "file is damaged or holds something its library (libhdf5) cannot "
        "read safely; nothing was loaded", path, sig, g_strsignal (sig));
  } else if (status == -1 || !WIFEXITED (status) || WEXITSTATUS (status)) {
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_OPEN,
        "%s: the label loader %s failed (exit status %d)", path, loader,
        status == -1 ? -1 : WEXITSTATUS (status));
  } else {
    labels = op_labels_read_blob (fd, path, readers, error);
  }
  close (fd);
  return labels;
}
