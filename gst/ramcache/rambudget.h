/* onepass: memory budget probe for ramcache.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __OP_RAM_BUDGET_H__
#define __OP_RAM_BUDGET_H__

#include <glib.h>

G_BEGIN_DECLS

guint64 op_ram_budget_mem_available (void);
guint64 op_ram_budget_cgroup_available (void);
guint64 op_ram_budget_available (void);

G_END_DECLS

#endif /* __OP_RAM_BUDGET_H__ */
