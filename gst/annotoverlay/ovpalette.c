/* onepass: annotoverlay's colours.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ovpalette.h"

/* matplotlib's tab10 with its grey replaced by yellow (grey is hard to see
 * on grey animals); track or node i takes entry i modulo the size, so a
 * track keeps its colour over the whole video */
static const guint8 palette[OP_OV_PALETTE_SIZE][3] = {
  {31, 119, 180},               /* blue */
  {255, 127, 14},               /* orange */
  {44, 160, 44},                /* green */
  {214, 39, 40},                /* red */
  {148, 103, 189},              /* purple */
  {140, 86, 75},                /* brown */
  {227, 119, 194},              /* pink */
  {188, 189, 34},               /* olive */
  {23, 190, 207},               /* cyan */
  {255, 221, 0},                /* yellow */
};

/* untracked instances: white, a colour no track gets */
static const guint8 untracked[3] = { 255, 255, 255 };

const guint8 *
op_ov_palette_color (guint index)
{
  return palette[index % OP_OV_PALETTE_SIZE];
}

const guint8 *
op_ov_untracked_color (void)
{
  return untracked;
}
