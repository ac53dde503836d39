/* What native/wrap.c (one command's wrapper) and native/serve.c (the launcher) share. */
#ifndef CLAUDE_DAEMON_WRAP_H
#define CLAUDE_DAEMON_WRAP_H
#include <stddef.h>

/* Writes all of buf, retrying on EINTR and short writes. */
void write_all(int fd, const char *buf, size_t len);
/* Reports "PID err ERRNO STAGE MESSAGE" on stdout (the daemon's pipe); returns 127. */
int fail(int err, const char *stage);
/* Sets each of the n signals in sigs to SIG_IGN. */
void ignore_signals(const int *sigs, size_t n);
/* The launcher's loop (`claude-daemon-wrap --server`); returns the exit status. */
int serve(void);
/* The daemon's keeper (`claude-daemon-wrap --keep -- CMD...`, native/keep.c; the whole argv); returns the exit status. */
int keep(int argc, char **argv);
/* `claude-daemon-wrap --lock`: flock(LOCK_EX|LOCK_NB) on fd 3; 0 locked, 1 held, 2 error (lock.c). */
int lock_fd3(void);

#endif
