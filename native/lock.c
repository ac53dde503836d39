/*
 * claude-daemon-wrap --lock: takes an exclusive, non-blocking flock on descriptor 3, which the
 * daemon opened on its state directory's daemon.lock and passed in. The lock belongs to that open
 * file description, which the daemon keeps: it stays held after this process exits and ends when
 * the daemon's descriptor closes (however the daemon dies). Node has no flock(2) of its own.
 * Exit status: 0 locked, 1 held by someone else, 2 any other error (the daemon tries another way).
 */
#include <errno.h>
#include <sys/file.h>

#include "wrap.h"

int lock_fd3(void) {
  for (;;) {
    if (flock(3, LOCK_EX | LOCK_NB) == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? 1 : 2;
  }
}
