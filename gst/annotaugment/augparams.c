/* onepass: annotaugment's random draws and the affine map they make.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every copy's draw comes from its own generator, seeded by a hash of the
 * element's seed and the sample's identity (source, frame, crop instance,
 * copy number): the same input gives the same outputs whatever the order
 * or thread the buffers arrive in, and one sample's draws never depend on
 * how many samples came before it. */
#include <math.h>
#include <string.h>
#include "augparams.h"

/* splitmix64: small, fast, well mixed; the sequence is part of the
 * element's contract (same seed, same outputs across versions) */
static guint64
splitmix64 (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static guint64
mix (guint64 h, guint64 v)
{
  guint64 s = h ^ v;

  return splitmix64 (&s);
}

guint64
op_aug_sample_seed (guint64 seed, const gchar * source, guint64 frame,
    guint instance, guint copy)
{
  /* FNV-1a of the source name, then each number mixed in */
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  const guchar *p;

  for (p = (const guchar *) (source ? source : ""); *p; p++)
    h = (h ^ *p) * G_GUINT64_CONSTANT (0x100000001b3);
  h = mix (h, seed);
  h = mix (h, frame);
  h = mix (h, instance);
  return mix (h, copy);
}

/* uniform in [0, 1) with 53 random bits */
static gdouble
uniform (guint64 * state)
{
  return (splitmix64 (state) >> 11) * (1.0 / 9007199254740992.0);
}

static gdouble
symmetric (guint64 * state, gdouble half_range)
{
  return (2.0 * uniform (state) - 1.0) * half_range;
}

/* Every draw is made whatever the ranges, always in this order, so that
 * turning one jitter on does not change the others' values. */
void
op_aug_draw (const OpAugRanges * r, guint64 sample_seed, guint width,
    guint height, OpAugDraw * d)
{
  guint64 state = sample_seed;

  d->hflip = uniform (&state) < r->hflip;
  d->vflip = uniform (&state) < r->vflip;
  d->angle = symmetric (&state, r->rotate);
  d->scale = 1.0 + symmetric (&state, r->scale);
  d->tx = symmetric (&state, r->translate) * width;
  d->ty = symmetric (&state, r->translate) * height;
  d->brightness = symmetric (&state, r->brightness) * 255.0;
  d->contrast = 1.0 + symmetric (&state, r->contrast);
}

/* Flip, then scale and rotate about the image centre, then shift. The
 * centre of a W-pixel row is (W - 1) / 2 in pixel-centre coordinates, so a
 * flip maps column x to W - 1 - x: exactly a mirror of the pixels. The
 * rotation is OpenCV's getRotationMatrix2D: positive angles turn the
 * picture counter-clockwise as seen on screen. */
void
op_aug_matrix_from_draw (const OpAugDraw * d, guint width, guint height,
    OpAugMatrix * out)
{
  gdouble cx = (width - 1.0) / 2.0, cy = (height - 1.0) / 2.0;
  gdouble t = d->angle * G_PI / 180.0;
  gdouble a = d->scale * cos (t), b = d->scale * sin (t);
  gdouble fx = d->hflip ? -1.0 : 1.0, fy = d->vflip ? -1.0 : 1.0;
  gdouble *m = out->m;

  m[0] = a * fx;
  m[1] = b * fy;
  m[3] = -b * fx;
  m[4] = a * fy;
  m[2] = cx + d->tx - (m[0] * cx + m[1] * cy);
  m[5] = cy + d->ty - (m[3] * cx + m[4] * cy);
}

/* The inverse as OpenCV's warpAffine computes it (the same operations in
 * the same order), so the pixel positions agree to the last bit. */
gboolean
op_aug_matrix_invert (const OpAugMatrix * in, OpAugMatrix * out)
{
  const gdouble *m = in->m;
  gdouble det = m[0] * m[4] - m[1] * m[3], d;
  gdouble *o = out->m;

  if (fabs (det) < 1e-12)
    return FALSE;
  d = 1.0 / det;
  o[0] = m[4] * d;
  o[1] = m[1] * -d;
  o[3] = m[3] * -d;
  o[4] = m[0] * d;
  o[2] = -o[0] * m[2] - o[1] * m[5];
  o[5] = -o[3] * m[2] - o[4] * m[5];
  return TRUE;
}

void
op_aug_matrix_apply (const OpAugMatrix * mat, gdouble x, gdouble y,
    gdouble * ox, gdouble * oy)
{
  const gdouble *m = mat->m;

  *ox = m[0] * x + m[1] * y + m[2];
  *oy = m[3] * x + m[4] * y + m[5];
}

/* The same map on a plane subsampled by sub_w x sub_h (4:2:0 chroma): a
 * plane sample u covers image pixels around x = (u + 0.5) * sub - 0.5, the
 * pixel-centre rule of the design applied to the plane. */
void
op_aug_matrix_for_plane (const OpAugMatrix * mat, guint sub_w, guint sub_h,
    OpAugMatrix * out)
{
  const gdouble *m = mat->m;
  gdouble sw = sub_w, sh = sub_h;
  gdouble ox = sw / 2.0 - 0.5, oy = sh / 2.0 - 0.5;
  gdouble *o = out->m;

  /* out = S o M o S^-1 with S(x) = (x - ox) / sw, S^-1(u) = sw u + ox */
  o[0] = m[0];
  o[1] = m[1] * sh / sw;
  o[3] = m[3] * sw / sh;
  o[4] = m[4];
  o[2] = (m[0] * ox + m[1] * oy + m[2] - ox) / sw;
  o[5] = (m[3] * ox + m[4] * oy + m[5] - oy) / sh;
}

/* A map with negative determinant shows the animal mirrored: its left
 * side is now where its right side was (two flips are a rotation, which
 * mirrors nothing). */
gboolean
op_aug_matrix_mirrors (const OpAugMatrix * mat)
{
  return mat->m[0] * mat->m[4] - mat->m[1] * mat->m[3] < 0;
}
