/* onepass: annotaugment's move of an annotation with its pixels.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_AUG_META_H__
#define __OP_AUG_META_H__

#include <onepass/opannotation.h>
#include "augparams.h"

G_BEGIN_DECLS

/* Node index pairs to swap when the picture is mirrored. */
typedef struct {
  guint n_pairs;
  guint *pairs;                 /* 2 * n_pairs node indices */
} OpAugSymmetry;

gboolean op_aug_symmetry_parse (const gchar * spec, const OpSkeleton * skeleton,
                                OpAugSymmetry * out, GError ** error);
void     op_aug_symmetry_from_skeleton (const OpSkeleton * skeleton,
                                OpAugSymmetry * out);
void     op_aug_symmetry_clear (OpAugSymmetry * sym);

void     op_aug_transform_annotation (OpAnnotation * ann,
                                const OpAugMatrix * mat,
                                const OpAugSymmetry * sym, guint width,
                                guint height);

G_END_DECLS

#endif /* __OP_AUG_META_H__ */
