#ifndef MMEM_NOTIFY_H
#define MMEM_NOTIFY_H

#include <stdbool.h>

/* Service-manager notifications (systemd's sd_notify protocol) for a
 * Type=notify unit. Each call sends one state line to the datagram socket
 * named by $NOTIFY_SOCKET; without that variable, or in a build without
 * libsystemd (--without-systemd), the calls do nothing. Safe from any
 * thread; they never block on the manager and never fail start-up. */

/* True when this build can talk to the service manager at all. */
bool mm_notify_enabled(void);

/* "READY=1": call once every listener accepts connections (main.c, after
 * mm_server_start). Returns 1 when sent, 0 when there is no manager to tell
 * (no $NOTIFY_SOCKET, or a build without libsystemd), or a negative errno
 * value when sending failed. */
int mm_notify_ready(void);

/* "STOPPING=1": call when shutdown begins (mm_server_stop), before the
 * listeners close. Same return values as mm_notify_ready. */
int mm_notify_stopping(void);

#endif
