#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wrap.h"

/*
 * Server mode (`claude-daemon-wrap --server`): the daemon's launcher. Forking the daemon itself for
 * every spawn copies the page tables of a ~50 MiB Node process on its event-loop thread; this
 * process is tiny, so its fork costs a fraction of that and the daemon never forks per spawn.
 *
 * Requests on stdin, one frame each: "<length>\n" then <length> bytes of NUL-terminated strings:
 *   SEQ ARGC ARGV[0..ARGC-1] ENV...   (ARGV[0] is the wrapper's path; ENV is the whole environment)
 * For each, it forks; the child starts a session of its own and execs ARGV with ENV, so the wrapper
 * runs exactly as if the daemon had spawned it (same argv in /proc, which restore relies on).
 * Lines on stdout (each under PIPE_BUF, so lines from the wrappers never interleave with ours):
 *   "f SEQ PID\n"           the wrapper was forked as PID, written by the child itself first
 *                           ("f SEQ 0 ERRNO" from the launcher: fork failed)
 *   "PID ok ..." / "PID err ..."  the wrapper's own report (see wrap.c), always after its "f" line
 *   "x PID\n"               the wrapper PID has exited and was reaped here
 * At end of input (the daemon is gone) it exits; running wrappers are re-parented and go on.
 */
/* Says that request SEQ was never forked, and why ("f SEQ 0 ERRNO"). */
static void report_unforked(const char *seq, int err) {
  char line[64];
  int n = snprintf(line, sizeof line, "f %.20s 0 %d\n", seq, err);
  write_all(1, line, (size_t)n);
}

/* Doubles *buf until it holds at least need bytes; 0 when memory ran out (*buf is then unchanged). */
static int grow(char **buf, size_t *cap, size_t need) {
  while (*cap < need) {
    char *grown = realloc(*buf, *cap * 2);
    if (grown == NULL) return 0;
    *buf = grown;
    *cap *= 2;
  }
  return 1;
}

/* The scheduling policy the launcher was started with, given back to each wrapper it starts. */
static int start_policy = SCHED_OTHER;
static struct sched_param start_param;

static void serve_one(char *payload, size_t len, const sigset_t *oldmask) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++)
    if (payload[i] == 0) count++;
  if (len == 0 || payload[len - 1] != 0 || count < 3) return;
  char **fields = calloc(count, sizeof *fields);
  if (fields == NULL) return;
  size_t k = 0;
  for (size_t i = 0; i < len; i += strlen(payload + i) + 1) fields[k++] = payload + i;
  const char *seq = fields[0];
  size_t argc = strtoul(fields[1], NULL, 10);
  if (argc < 1 || argc + 2 > count) {
    report_unforked(seq, EINVAL);
    free(fields);
    return;
  }
  /* ARGV and ENV, each copied into a NULL-terminated array of its own. */
  size_t envc = count - 2 - argc;
  char **args = calloc(argc + 1, sizeof *args);
  char **child_env = calloc(envc + 1, sizeof *child_env);
  if (args == NULL || child_env == NULL) {
    free(args);
    free(child_env);
    free(fields);
    return;
  }
  memcpy(args, fields + 2, argc * sizeof *args);
  memcpy(child_env, fields + 2 + argc, envc * sizeof *child_env);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child, not the launcher, names its pid: the line is out before the wrapper can report,
     * even if the launcher dies this instant, so the daemon never hears of a wrapper it cannot
     * match to its request, and a request with no "f" line never forked (safe to send again). */
    char line[64];
    int fn = snprintf(line, sizeof line, "f %.20s %d\n", seq, (int)getpid());
    write_all(1, line, (size_t)fn);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    sched_setscheduler(0, start_policy, &start_param);
    setsid();
    int dn = open("/dev/null", O_RDWR);
    if (dn >= 0) {
      dup2(dn, 0);
      dup2(dn, 2);
      if (dn > 2) close(dn);
    }
    /* Through /proc/self/exe, the launcher's own binary, not the path in ARGV[0] (which stays the
     * wrapper's argv[0], for restore): a rebuild that replaced or deleted dist/ meanwhile does not
     * stop spawns. Only where /proc is missing is the path used. */
    execve("/proc/self/exe", args, child_env);
    if (errno == ENOENT) execve(args[0], args, child_env);
    fail(errno, "wrapper");
    _exit(127);
  }
  if (pid < 0) report_unforked(seq, errno);
  free(args);
  free(child_env);
  free(fields);
}

static void reap_all(void) {
  int st;
  pid_t w;
  while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
    char line[32];
    int n = snprintf(line, sizeof line, "x %d\n", (int)w);
    write_all(1, line, (size_t)n);
  }
}

int serve(void) {
  /* SIGTERM stays fatal: it is how an operator stops a launcher by hand. */
  static const int launcher_ignores[] = {SIGINT, SIGHUP, SIGPIPE};
  ignore_signals(launcher_ignores, sizeof launcher_ignores / sizeof *launcher_ignores);
  /* SCHED_BATCH: the same share of the CPU, but its wake-ups (a frame to fork, a wrapper to reap)
   * never preempt the daemon mid-loop; when the daemon stops 100 commands at once, the reaping
   * and the "x" lines queue behind its signals. Each wrapper gets the original policy back. */
  start_policy = sched_getscheduler(0);
  sched_getparam(0, &start_param);
  if (start_policy == SCHED_OTHER) {
    struct sched_param batch;
    memset(&batch, 0, sizeof batch);
    sched_setscheduler(0, SCHED_BATCH, &batch);
  }
  sigset_t mask, oldmask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) return 1;
  for (;;) {
    struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
      }
      reap_all();
    }
    if (p[0].revents == 0) continue;
    if (!grow(&buf, &cap, len + 4096)) break;
    ssize_t got = read(0, buf + len, cap - len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    len += (size_t)got;
    size_t at = 0;
    for (;;) {
      char *nl = memchr(buf + at, '\n', len - at < 24 ? len - at : 24);
      if (nl == NULL) {
        if (len - at >= 24) goto out; /* not a frame header: the daemon is broken; stop */
        break;
      }
      size_t body = strtoul(buf + at, NULL, 10);
      size_t start = (size_t)(nl - buf) + 1;
      if (len - start < body) {
        /* Wait for the rest; make room for the whole frame at once. */
        if (!grow(&buf, &cap, (start - at) + body + 4096)) goto out;
        break;
      }
      serve_one(buf + start, body, &oldmask);
      at = start + body;
    }
    memmove(buf, buf + at, len - at);
    len -= at;
  }
out:
  reap_all();
  return 0;
}

