/* onepass: everything an application needs to read onepass metadata.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __ONEPASS_H__
#define __ONEPASS_H__

#include <onepass/opskeleton.h>
#include <onepass/opannotation.h>
#include <onepass/opmeta.h>
#include <onepass/opstreamindex.h>
#include <onepass/opframeclock.h>
#include <onepass/opjson.h>
#include <onepass/opname.h>

#endif /* __ONEPASS_H__ */
