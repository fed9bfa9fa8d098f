/* sd_notify wrapper: tells systemd when mmem is ready and when it stops, for
 * Type=notify units. This file is the only one that knows whether mmem was
 * built with libsystemd (MMEM_WITH_SYSTEMD); without it every call is a
 * no-op, so callers never need an #if. */
#include "config.h"

#include "mmem/notify.h"

#ifdef MMEM_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* sd_notify returns >0 sent, 0 when $NOTIFY_SOCKET is unset, <0 -errno.
 * The environment is kept (unset_environment 0): STOPPING must still find
 * the socket after READY was sent. */
static int
send_state(const char *state)
{
#ifdef MMEM_WITH_SYSTEMD
    int rc = sd_notify(0, state);

    return rc > 0 ? 1 : rc;
#else
    (void)state;
    return 0;
#endif
}

bool
mm_notify_enabled(void)
{
#ifdef MMEM_WITH_SYSTEMD
    return true;
#else
    return false;
#endif
}

int
mm_notify_ready(void)
{
    return send_state("READY=1");
}

int
mm_notify_stopping(void)
{
    return send_state("STOPPING=1");
}
