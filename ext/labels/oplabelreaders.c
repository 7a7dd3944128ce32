/* onepass: the table of label readers, tried in this order.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oplabelreaders.h"
#include "h5util.h"
#include "isolate.h"

#include <stdio.h>
#include <sys/stat.h>

/* Last resort for HDF5 files that neither SLEAP reader claimed: says why,
 * instead of the dispatcher's generic "not a label file". */
static gboolean
hdf5_other_probe (const gchar * path, const guint8 * head, gsize len)
{
  return op_h5_has_signature (head, len);
}

static OpLabels *
hdf5_other_load (const gchar * path, GError ** error)
{
  GError *err = NULL;
  hid_t file;

  op_h5_lock ();
  file = op_h5_open (path, &err);
  if (file >= 0) {
    gboolean has_meta = op_h5_exists (file, "metadata");
    H5Fclose (file);
    g_set_error (error, OP_LABELS_ERROR, OP_LABELS_ERROR_FORMAT,
        "an HDF5 file, but neither SLEAP labels (%s) nor a SLEAP analysis "
        "file (no track_occupancy dataset)", has_meta ?
        "/metadata has no format_id attribute" : "no /metadata group");
  } else {
    g_propagate_error (error, err);
  }
  op_h5_unlock ();
  return NULL;
}

/* no description: it reads nothing, it only says why an HDF5 file is
 * refused */
static const OpLabelReader hdf5_other_reader = { "hdf5", NULL,
  hdf5_other_probe, hdf5_other_load
};

const OpLabelReader *const op_label_readers[] = {
  &op_slp_reader,
  &op_analysis_reader,
  &hdf5_other_reader,
  &op_jsonl_reader,
  &op_coco_reader,
  &op_mot_reader,
  &op_dlc_reader,
  NULL
};

/* Whether @path goes to the label loader. The loader exists for
 * libhdf5, which can crash or loop forever on a damaged file; every
 * reader that uses it first checks the HDF5 signature in the file's first
 * 1024 bytes, so a regular file without one is read here, saving the
 * loader's start (10-20 ms, which onepass-prep paid on its main thread
 * for every video). Anything else (an HDF5 file, a FIFO or device whose
 * read could block, a file that cannot be read here) goes to the loader,
 * whose time limit and messages cover it. */
static gboolean
needs_loader (const gchar * path)
{
  guint8 head[1024];
  struct stat st;
  gsize len;
  FILE *f;

  if (path == NULL || stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return TRUE;
  f = fopen (path, "rb");
  if (f == NULL)
    return TRUE;
  len = fread (head, 1, sizeof (head), f);
  fclose (f);
  return op_h5_has_signature (head, len);
}

/**
 * op_label_readers_load:
 *
 * Loads @path with whichever reader recognises its content; HDF5 files in
 * the label loader process when there is one (isolate.c).
 */
OpLabels *
op_label_readers_load (const gchar * path, GError ** error)
{
  gchar *loader;
  OpLabels *labels;

  if (!needs_loader (path))
    return op_labels_load (path, op_label_readers, error);
  loader = op_labels_find_loader ();
  if (loader == NULL)
    return op_labels_load (path, op_label_readers, error);
  labels = op_labels_load_isolated (path, op_label_readers, loader,
      OP_LABEL_LOAD_TIMEOUT, error);
  g_free (loader);
  return labels;
}
