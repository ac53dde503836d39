/*
 * claude-daemon-wrap: the tiny process that stands between the daemon and one command, so the
 * command's outcome is recorded even when the daemon is dead (SIGKILLed, restarted, upgraded).
 *
 * usage: claude-daemon-wrap DIR CWD STDIN [-p CGROUP MAX | -n MAX] [-g MS] -- CMD [ARGS...]
 *   DIR    the process's state directory; the wrapper creates DIR/stdout and DIR/stderr (0600) and
 *          writes DIR/exit (atomically: DIR/exit.tmp then rename) once CMD has ended.
 *   CWD    directory CMD runs in ("" = inherit).
 *   STDIN  "1": CMD reads DIR/stdin (written by the daemon beforehand); "0": /dev/null;
 *          "m": /dev/null, and the wrapper creates DIR (0700) first (saves the daemon a mkdir).
 *   -p CGROUP MAX  limit CMD's whole tree to MAX processes/threads: the wrapper creates the pids
 *          cgroup directory CGROUP with pids.max = MAX, CMD joins it before exec (so nothing it
 *          forks can escape), and the wrapper removes it once CMD has ended (if it is empty).
 *   -n MAX         fallback without cgroups: RLIMIT_NPROC = MAX for CMD (counts every process of
 *          the user, and root ignores it).
 *   -g MS  what happens to descendants that outlive CMD (see linger() below): once CMD has ended and
 *          its exit file is written, the wrapper stays, reaping them, for MS milliseconds, then sends
 *          every remaining descendant SIGTERM, 2 s later SIGKILL, and exits once none is left.
 *          -1 keeps them (the wrapper stays until they end by themselves or the daemon kills them).
 *          Default 5000.
 *
 * Protocol with the daemon, on the wrapper's stdout (a pipe), exactly one line:
 *   "ok <cmd pid> <cmd starttime> <wrapper starttime> <wrapper pid>\n"  CMD runs (exec succeeded);
 *                                                      the same line is kept in DIR/started
 *   "err <errno> <stage> <strerror>\n"                       CMD never ran; nothing else is written
 * then the wrapper points its stdout at /dev/null, so the daemon holds no descriptor per child.
 *
 * Why each choice:
 * - PR_SET_CHILD_SUBREAPER: `claude` starts Bash-tool shells with setsid and may orphan them; they
 *   reparent to this wrapper instead of pid 1, so a /proc parent walk from the wrapper still finds
 *   them when the daemon kills the tree. The wrapper outlives CMD while any of them lives (linger),
 *   or they would go to pid 1 and out of reach.
 * - When it lingers, the wrapper tells the launcher (its parent, if it still is) with a queued
 *   real-time signal (SIGRTMIN, through a pidfd so a reused pid is never signalled); the launcher
 *   reports "e PID" to the daemon, so `wait` returns when CMD ends, not when its leftovers do.
 * - The wrapper ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE, so a tree kill never takes it down
 *   before it records the outcome; CMD gets every disposition and the signal mask reset to default.
 * - CMD runs in its own process group (setpgid), so one kill(-pgid) reaches its ordinary children.
 * - The exit file holds the exact wait status: an exit code OR the terminating signal. A shell that
 *   runs `exit 143` and a command killed by SIGTERM are therefore told apart (the wrapper is not a
 *   shell and never folds a signal into 128+n).
 * - Output never passes through the wrapper or the daemon: CMD writes straight into its files.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wrap.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Writes all of buf, retrying on EINTR and short writes. */
void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* Sets each of the n signals in sigs to SIG_IGN (kept across exec, reset by the wrapper for CMD). */
void ignore_signals(const int *sigs, size_t n) {
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  for (size_t i = 0; i < n; i++) sigaction(sigs[i], &ign, NULL);
}

/* Reports a failure before CMD ran, on the daemon pipe, and exits. */
int fail(int err, const char *stage) {
  char line[512];
  int n = snprintf(line, sizeof line, "%d err %d %s %s\n", (int)getpid(), err, stage, strerror(err));
  if (n > 0) write_all(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  return 127;
}

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names a
 * process uniquely, so a pid reused by a stranger is never mistaken for ours. 0 if unreadable. */
static unsigned long long starttime(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  p += 2; /* now at field 3 (state) */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  return strtoull(p, NULL, 10);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the child tells the wrapper when it could not exec. */
struct child_failure {
  int err;
  char stage[16];
};

/* Writes a short string into an existing file (a cgroup control file); 0 or an errno. */
static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text, strlen(text));
  int e = n < 0 ? errno : 0;
  close(fd);
  return e;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parent pid from /proc/PID/stat (field 4), or -1. */
static pid_t parent_of(const char *name) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%.20s/stat", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] == 0 || p[2] == 0) return -1;
  p = strchr(p + 3, ' '); /* skip the state field */
  return p ? (pid_t)strtol(p + 1, NULL, 10) : -1;
}

/* Sends sig to every descendant of this process (one scan of /proc: pid -> parent, then closure).
 * Returns how many it signalled. */
static int signal_descendants(int sig) {
  DIR *d = opendir("/proc");
  if (d == NULL) return 0;
  size_t cap = 1024, n = 0;
  pid_t *pids = malloc(cap * sizeof *pids), *parents = malloc(cap * sizeof *parents);
  struct dirent *de;
  while (pids != NULL && parents != NULL && (de = readdir(d)) != NULL) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
    pid_t pp = parent_of(de->d_name);
    if (pp < 0) continue;
    if (n == cap) {
      cap *= 2;
      pid_t *a = realloc(pids, cap * sizeof *pids), *b = a ? realloc(parents, cap * sizeof *parents) : NULL;
      if (a) pids = a;
      if (b) parents = b;
      if (!a || !b) break;
    }
    pids[n] = (pid_t)strtol(de->d_name, NULL, 10);
    parents[n++] = pp;
  }
  closedir(d);
  int count = 0;
  if (pids != NULL && parents != NULL) {
    /* mine[i]: pids[i] descends from us. Repeat until stable (depth passes; trees are shallow). */
    char *mine = calloc(n ? n : 1, 1);
    pid_t self = getpid();
    for (int changed = 1; mine != NULL && changed;) {
      changed = 0;
      for (size_t i = 0; i < n; i++) {
        if (mine[i]) continue;
        int hit = parents[i] == self;
        for (size_t j = 0; !hit && j < n; j++) hit = mine[j] && pids[j] == parents[i];
        if (hit) mine[i] = changed = 1;
      }
    }
    for (size_t i = 0; mine != NULL && i < n; i++)
      if (mine[i] && kill(pids[i], sig) == 0) count++;
    free(mine);
  }
  free(pids);
  free(parents);
  return count;
}

/* True when `pid` runs this same binary as the launcher (`... --server`): only then is the
 * notification signal meaningful to it (anyone else would die of SIGRTMIN). */
static int is_launcher(pid_t pid) {
  char a[4096], b[4096], path[64];
  ssize_t na = readlink("/proc/self/exe", a, sizeof a - 1);
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  ssize_t nb = readlink(path, b, sizeof b - 1);
  if (na <= 0 || na != nb || memcmp(a, b, (size_t)na) != 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, a, sizeof a - 1);
  close(fd);
  if (n <= 0) return 0;
  size_t first = strnlen(a, (size_t)n);
  return first + 1 < (size_t)n && strcmp(a + first + 1, "--server") == 0;
}

/* Tells the launcher that CMD has ended although this wrapper stays (see linger). Through a pidfd
 * of the parent taken while it is still our parent, so a pid reused by a stranger is never hit. */
static void notify_launcher(pid_t launcher) {
  if (launcher <= 1 || getppid() != launcher) return;
  int pfd = (int)syscall(SYS_pidfd_open, launcher, 0);
  if (pfd < 0) return;
  if (getppid() == launcher && is_launcher(launcher)) syscall(SYS_pidfd_send_signal, pfd, SIGRTMIN, NULL, 0);
  close(pfd);
}

/*
 * After CMD has ended (its exit file written): while descendants it left behind live (reparented
 * to us, the subreaper), keep reaping them; after grace_ms (never if negative) SIGTERM every
 * descendant, SIGKILL them 2 s later (and again every 100 ms for ones forked meanwhile). Returns
 * once the wrapper has no child left. SIGCHLD is blocked, so sigtimedwait wakes on each exit.
 */
static void linger(long grace_ms, pid_t launcher) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  long long deadline = grace_ms < 0 ? -1 : mono_ms() + grace_ms;
  int phase = 0, notified = 0;
  for (;;) {
    pid_t w;
    while ((w = waitpid(-1, NULL, WNOHANG)) > 0) {
    }
    if (w < 0 && errno != EINTR) return; /* ECHILD: nobody left */
    if (!notified) {
      notify_launcher(launcher);
      notified = 1;
    }
    long long now = mono_ms();
    if (deadline >= 0 && now >= deadline) {
      signal_descendants(phase == 0 ? SIGTERM : SIGKILL);
      deadline = now + (phase == 0 ? 2000 : 100);
      phase = 1;
    }
    struct timespec ts, *tsp = NULL;
    if (deadline >= 0) {
      long long left = deadline - mono_ms();
      if (left < 1) left = 1;
      ts.tv_sec = left / 1000;
      ts.tv_nsec = (left % 1000) * 1000000;
      tsp = &ts;
    }
    sigtimedwait(&chld, NULL, tsp);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--server") == 0) return serve();
  if (argc < 6) return fail(EINVAL, "usage");
  const char *dir = argv[1];
  const char *cwd = argv[2];
  int has_stdin = argv[3][0] == '1';
  const char *cgroup = NULL;
  const char *max_pids = NULL;
  int rlimit_nproc = 0;
  long grace_ms = 5000;
  int at = 4;
  for (;;) {
    if (strcmp(argv[at], "-p") == 0 && argc > at + 3) {
      cgroup = argv[at + 1];
      max_pids = argv[at + 2];
      at += 3;
    } else if (strcmp(argv[at], "-n") == 0 && argc > at + 2) {
      max_pids = argv[at + 1];
      rlimit_nproc = 1;
      at += 2;
    } else if (strcmp(argv[at], "-g") == 0 && argc > at + 2) {
      grace_ms = strtol(argv[at + 1], NULL, 10);
      at += 2;
    } else {
      break;
    }
  }
  if (at + 1 >= argc || strcmp(argv[at], "--") != 0) return fail(EINVAL, "usage");
  char **cmd = argv + at + 1;
  char procs[4096];
  if (cgroup != NULL) {
    if (snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup) >= (int)sizeof procs) return fail(ENAMETOOLONG, "pids-limit");
    char maxfile[4096];
    snprintf(maxfile, sizeof maxfile, "%s/pids.max", cgroup);
    if (mkdir(cgroup, 0700) < 0 && errno != EEXIST) return fail(errno, "pids-limit");
    int e = write_file(maxfile, max_pids);
    if (e != 0) {
      rmdir(cgroup);
      return fail(e, "pids-limit");
    }
  }

  static const int wrapper_ignores[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
  ignore_signals(wrapper_ignores, sizeof wrapper_ignores / sizeof *wrapper_ignores);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  /* Our parent at start: the launcher, when the daemon started us (see notify_launcher). */
  pid_t launcher = getppid();
  /* Blocked so linger() can wait for exits with a timeout; CMD gets an empty mask back. */
  sigset_t chldmask;
  sigemptyset(&chldmask);
  sigaddset(&chldmask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chldmask, NULL);

  if (argv[3][0] == 'm' && mkdir(dir, 0700) < 0 && errno != EEXIST) return fail(errno, "state-dir");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(errno, "state-dir");
  int out = openat(dfd, "stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return fail(errno, "stdout");
  int err = openat(dfd, "stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err < 0) return fail(errno, "stderr");
  int in = has_stdin ? openat(dfd, "stdin", O_RDONLY | O_CLOEXEC) : open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail(errno, "stdin");

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return fail(errno, "pipe");

  pid_t pid = fork();
  if (pid < 0) return fail(errno, "fork");
  if (pid == 0) {
    struct child_failure f;
    memset(&f, 0, sizeof f);
    setpgid(0, 0);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char self[32];
    snprintf(self, sizeof self, "%d\n", (int)getpid());
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = max_pids != NULL ? strtoul(max_pids, NULL, 10) : 0;
    if (cgroup != NULL && (f.err = write_file(procs, self)) != 0) {
      strcpy(f.stage, "pids-limit");
    } else if (rlimit_nproc && setrlimit(RLIMIT_NPROC, &rl) < 0) {
      f.err = errno;
      strcpy(f.stage, "pids-limit");
    } else if (cwd[0] != 0 && chdir(cwd) < 0) {
      f.err = errno;
      strcpy(f.stage, "cwd");
    } else if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
      f.err = errno;
      strcpy(f.stage, "dup2");
    } else {
      /* Every other descriptor closes at exec (the failure pipe is already close-on-exec). */
      if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = 3; fd < 1024; fd++)
          if (fd != pipefd[1]) fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
      execvp(cmd[0], cmd);
      f.err = errno;
      strcpy(f.stage, "exec");
    }
    write_all(pipefd[1], (const char *)&f, sizeof f);
    _exit(127);
  }

  /* From now on the wrapper only waits and records: SCHED_BATCH (same share of the CPU, but its
   * wakeups never preempt a running task), so when the daemon signals 100 commands at once, each
   * wrapper's exit-file work queues behind the daemon's loop instead of running inside every
   * kill(2). CMD, forked above, keeps the normal policy. */
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  sched_setscheduler(0, SCHED_BATCH, &sp);
  close(pipefd[1]);
  close(in);
  close(out);
  close(err);
  struct child_failure f;
  ssize_t got;
  do got = read(pipefd[0], &f, sizeof f);
  while (got < 0 && errno == EINTR);
  close(pipefd[0]);
  if (got == (ssize_t)sizeof f) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (cgroup != NULL) rmdir(cgroup);
    f.stage[sizeof f.stage - 1] = 0;
    return fail(f.err, f.stage);
  }

  char line[128];
  int n = snprintf(line, sizeof line, "ok %d %llu %llu %d\n", (int)pid, starttime(pid), starttime(getpid()), (int)getpid());
  /* The daemon hears first (it persists the pid before acknowledging the spawn); then the same
   * line goes to DIR/started, so a daemon that died before persisting the pid can still find (and
   * re-adopt) this command on its next start. Two file creations off the spawn's critical path. */
  char tagged[160];
  int tn = snprintf(tagged, sizeof tagged, "%d %s", (int)getpid(), line);
  write_all(1, tagged, (size_t)tn);
  int sfd = openat(dfd, "started.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (sfd >= 0) {
    write_all(sfd, line, (size_t)n);
    close(sfd);
    renameat(dfd, "started.tmp", dfd, "started");
  }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (devnull > 2) close(devnull);
  }

  /* Wait for CMD, reaping orphans that were reparented to us along the way. */
  int status = 0;
  int have = 0;
  for (;;) {
    int st;
    pid_t w = waitpid(-1, &st, 0);
    if (w == pid) {
      status = st;
      have = 1;
      break;
    }
    if (w < 0 && errno != EINTR) break;
  }

  char rec[160];
  if (!have)
    n = snprintf(rec, sizeof rec, "{\"exit_code\":null,\"signal\":null,\"ended_at_ms\":%lld}\n", now_ms());
  else if (WIFSIGNALED(status))
    n = snprintf(rec, sizeof rec, "{\"exit_code\":null,\"signal\":%d,\"ended_at_ms\":%lld}\n", WTERMSIG(status), now_ms());
  else
    n = snprintf(rec, sizeof rec, "{\"exit_code\":%d,\"signal\":null,\"ended_at_ms\":%lld}\n", WEXITSTATUS(status), now_ms());
  int efd = openat(dfd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (efd >= 0) {
    write_all(efd, rec, (size_t)n);
    close(efd);
    renameat(dfd, "exit.tmp", dfd, "exit");
  }
  /* Descendants CMD left behind: kept, reaped and finally ended here (see linger). */
  linger(grace_ms, launcher);
  /* Empty now (every process in it was our descendant, all reaped); the daemon retries at
   * remove_process should one be stuck in the kernel. */
  if (cgroup != NULL) rmdir(cgroup);
  return 0;
}
