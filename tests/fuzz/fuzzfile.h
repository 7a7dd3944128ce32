/* onepass fuzz harnesses: the input as a file, for readers that take a path.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_FUZZ_FILE_H__
#define __OP_FUZZ_FILE_H__

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* One file per process in RAM (/dev/shm when there is one), rewritten for
 * each input: the readers under test open paths, not buffers. */
static inline const gchar *
op_fuzz_write_input (const guint8 * data, gsize size, const gchar * suffix)
{
  static gchar *path;

  if (path == NULL) {
    const gchar *dir = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ?
        "/dev/shm" : g_get_tmp_dir ();

    path = g_strdup_printf ("%s/onepass-fuzz-%d%s", dir, (int) getpid (),
        suffix);
  }
  if (!g_file_set_contents (path, (const gchar *) data, (gssize) size, NULL))
    g_error ("cannot write the fuzz input to %s", path);
  return path;
}

#endif /* __OP_FUZZ_FILE_H__ */
