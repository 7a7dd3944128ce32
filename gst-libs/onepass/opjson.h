/* onepass: the annotation JSON of the design, both ways.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_JSON_H__
#define __OP_JSON_H__

#include "opannotation.h"

G_BEGIN_DECLS

#define OP_ANNOTATION_ERROR (op_annotation_error_quark ())
GQuark op_annotation_error_quark (void);

/**
 * OpAnnotationError:
 * @OP_ANNOTATION_ERROR_SYNTAX: not JSON
 * @OP_ANNOTATION_ERROR_INVALID: JSON, but not an annotation object
 */
typedef enum {
  OP_ANNOTATION_ERROR_SYNTAX,
  OP_ANNOTATION_ERROR_INVALID,
} OpAnnotationError;

void     op_json_append_string     (GString * out, const gchar * s);
void     op_json_append_skeleton   (GString * out, const OpSkeleton * sk);
void     op_annotation_append_json (GString * out, const OpAnnotation * ann,
                                    gboolean with_skeleton);
gchar   *op_annotation_to_json     (const OpAnnotation * ann,
                                    gboolean with_skeleton);
gboolean op_annotation_from_json   (OpAnnotation * ann, const gchar * data,
                                    gssize length,
                                    OpSkeleton * fallback_skeleton,
                                    GError ** error);

G_END_DECLS

#endif /* __OP_JSON_H__ */
