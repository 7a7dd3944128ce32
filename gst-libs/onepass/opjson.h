/* onepass: the annotation JSON of the design, both ways.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_JSON_H__
#define __OP_JSON_H__

#include "opannotation.h"

G_BEGIN_DECLS

/**
 * OP_ANNOTATION_ERROR:
 *
 * The error domain of annotation parsing and checking: #OpAnnotationError.
 *
 * Since: 0.1
 */
#define OP_ANNOTATION_ERROR (op_annotation_error_quark ())
GQuark op_annotation_error_quark (void);

/**
 * OpAnnotationError:
 * @OP_ANNOTATION_ERROR_SYNTAX: not JSON
 * @OP_ANNOTATION_ERROR_INVALID: JSON, but not an annotation object, or an
 *   annotation that breaks a rule (keypoint count, crop)
 * @OP_ANNOTATION_ERROR_NOT_WRITABLE: the buffer to annotate is not
 *   writable (Since: 0.2)
 *
 * Since: 0.1
 */
typedef enum {
  OP_ANNOTATION_ERROR_SYNTAX,
  OP_ANNOTATION_ERROR_INVALID,
  OP_ANNOTATION_ERROR_NOT_WRITABLE,
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
OpAnnotation *op_annotation_new_from_json (const gchar * json,
                                    GError ** error);

gchar   *op_buffer_get_annotation_json (GstBuffer * buffer);
gboolean op_buffer_add_annotation_json (GstBuffer * buffer,
                                    const gchar * json, GError ** error);

G_END_DECLS

#endif /* __OP_JSON_H__ */
