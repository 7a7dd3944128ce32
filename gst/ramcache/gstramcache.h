/* onepass: ramcache element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_CACHE_H__
#define __OP_RAM_CACHE_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define OP_TYPE_RAM_CACHE (op_ram_cache_get_type ())
G_DECLARE_FINAL_TYPE (OpRamCache, op_ram_cache, OP, RAM_CACHE, GstElement);

#define OP_TYPE_RAM_CACHE_POLICY (op_ram_cache_policy_get_type ())
GType op_ram_cache_policy_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (ramcache);

G_END_DECLS

#endif /* __OP_RAM_CACHE_H__ */
