/* batchsink: the table of dataset formats.
 *
 * Raw video is stored as packed rows (no padding), named for the pixel
 * format: only the packed 8-bit RGB family and GRAY8 have one plane whose
 * rows can be written as they are.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "writers.h"

#define PACKED_RAW "video/x-raw, format = (string) { RGB, BGR, RGBA, BGRA, " \
    "ARGB, ABGR, RGBx, BGRx, xRGB, xBGR, GRAY8 }"

/* in the order of the enum values the interface has always had */
const OpBatchFormat op_batch_formats[OP_BATCH_N_FORMATS] = {
  {"tar", "WebDataset tar shards",
      "image/jpeg; image/png; " PACKED_RAW, TRUE, &op_tar_writer},
  {"hdf5", "One HDF5 file", PACKED_RAW, TRUE, &op_hdf5_writer},
  {"jsonl", "JSON lines (gzip for .gz)", "ANY", FALSE, &op_jsonl_writer},
  {"dir", "Loose files in <split>/<track>/",
      "image/jpeg; image/png; " PACKED_RAW, TRUE, &op_dir_writer},
};
