/*
 * claude-daemon-wrap: the tiny process that stands between the daemon and one command, so the
 * command's outcome is recorded even when the daemon is dead (SIGKILLed, restarted, upgraded).
 *
 * usage: claude-daemon-wrap DIR CWD STDIN [-r FD] [-p CGROUP MAX | -n MAX] [-g MS] -- CMD [ARGS...]
 *   DIR    the process's state directory; the wrapper creates DIR/stdout and DIR/stderr (0600) and
 *          writes DIR/exit (atomically: DIR/exit.tmp then rename) once CMD has ended.
 *   CWD    directory CMD runs in ("" = inherit).
 *   STDIN  "1": CMD reads DIR/stdin (written by the daemon beforehand); "0": /dev/null;
 *          "m": /dev/null, and the wrapper creates DIR (0700) first (saves the daemon a mkdir).
 *          "f": a live session's input (see hold_fifo): the wrapper creates DIR (0700) and the
 *          FIFO DIR/stdin (0600), CMD reads it, the wrapper holds a write end so CMD never sees
 *          EOF when the daemon (its writer) dies; SIGUSR1 makes the wrapper drop that end, so CMD
 *          sees EOF once every writer is gone (`close_input`).
 *   -p CGROUP MAX  limit CMD's whole tree to MAX processes/threads: the wrapper creates the pids
 *          cgroup directory CGROUP with pids.max = MAX, CMD joins it before exec (so nothing it
 *          forks can escape), and the wrapper removes it once CMD has ended (if it is empty).
 *   -n MAX         fallback without cgroups: RLIMIT_NPROC = MAX for CMD (counts every process of
 *          the user, and root ignores it).
 *   -r FD  a socket (or pipe) to the daemon, inherited from the launcher, held for the wrapper's
 *          whole life: once CMD has ended the wrapper sends "e <wrapper pid> <wrapper starttime>
 *          <exit record>\n" on it (no disk needed), so the daemon learns the outcome even when
 *          DIR/exit cannot be written; the record has "lingering":true when the wrapper stays for
 *          descendants CMD left behind (see -g).
 *          Never blocks: a daemon that is gone or not reading just misses the line.
 *   -g MS  what happens to descendants that outlive CMD (see linger() below): once CMD has ended,
 *          its exit file is written (or being retried) and its outcome reported, the wrapper stays,
 *          reaping them, for MS milliseconds, then sends every remaining descendant SIGTERM, 2 s
 *          later SIGKILL, and exits once none is left.
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
 * - The outcome is reported (-r) the moment CMD ends, before the wrapper lingers for leftovers, so
 *   `wait` returns when CMD ends, not when its leftovers do; the daemon watches the wrapper's own
 *   exit (the launcher's "x" line, or polling after a restart) to know when the leftovers are gone.
 * - The wrapper ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE, so a tree kill never takes it down
 *   before it records the outcome; CMD gets every disposition and the signal mask reset to default.
 * - CMD runs in its own process group (setpgid), so one kill(-pgid) reaches its ordinary children.
 * - The exit file holds the exact wait status: an exit code OR the terminating signal. A shell that
 *   runs `exit 143` and a command killed by SIGTERM are therefore told apart (the wrapper is not a
 *   shell and never folds a signal into 128+n).
 * - Output never passes through the wrapper or the daemon: CMD writes straight into its files.
 * - A file that cannot be written whole (disk full, no descriptor) is never renamed into place, so
 *   DIR/started and DIR/exit are complete or absent. DIR/exit is retried (50 ms doubling to 1 s)
 *   until it is written or DIR is deleted (the record was removed): an exit status is never lost
 *   because a write failed, and a daemon started later still finds it.
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
#include <sys/socket.h>
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

/* Opens DIR/NAME.tmp for write_prepared (created empty, or truncated); a descriptor or -1. */
static int prepare_atomic(int dfd, const char *name) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  return openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Writes text into fd (DIR/NAME.tmp, from prepare_atomic, empty), closes it and renames it to
 * DIR/NAME; 0, or the errno of the first failure, in which case nothing was renamed into place and
 * the temporary file is gone. */
static int write_prepared(int dfd, int fd, const char *name, const char *text, size_t len) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  int e = 0;
  while (len > 0 && e == 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) e = n < 0 ? errno : EIO;
    else {
      text += n;
      len -= (size_t)n;
    }
  }
  if (close(fd) < 0 && e == 0 && errno != EINTR) e = errno;
  if (e == 0 && renameat(dfd, tmp, dfd, name) < 0) e = errno;
  if (e != 0) unlinkat(dfd, tmp, 0);
  return e;
}

/* Writes DIR/NAME whole and atomically (NAME.tmp, then rename); 0, or the errno of the first
 * failure, in which case nothing was renamed into place and the temporary file is gone. */
static int write_atomic(int dfd, const char *name, const char *text, size_t len) {
  int fd = prepare_atomic(dfd, name);
  if (fd < 0) return errno;
  return write_prepared(dfd, fd, name, text, len);
}

/* Sends one line on the daemon's report channel without ever blocking (see -r). */
static void report(int fd, const char *line, size_t len) {
  if (fd < 0) return;
  ssize_t n;
  do n = send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK) write_all(fd, line, len); /* a pipe: small writes are atomic */
}

/* The exit file not yet written (disk full, no descriptor): retried with a growing delay. */
struct exit_retry {
  int dfd;
  const char *rec;
  size_t len;
  int err;           /* last write_atomic result: 0 written, ENOENT DIR gone (record removed) */
  long delay_ms;     /* 50 doubling to 1000 */
  long long next_ms; /* monotonic time of the next attempt */
};

static int exit_pending(const struct exit_retry *r) { return r->err != 0 && r->err != ENOENT; }

/* One more attempt if it is due; returns the milliseconds until the next one (-1: none pending). */
static long long exit_retry_step(struct exit_retry *r) {
  if (!exit_pending(r)) return -1;
  long long now = mono_ms();
  if (now >= r->next_ms) {
    r->err = write_atomic(r->dfd, "exit", r->rec, r->len);
    r->next_ms = now + r->delay_ms;
    r->delay_ms = r->delay_ms < 1000 ? r->delay_ms * 2 : 1000;
    if (!exit_pending(r)) return -1;
  }
  return r->next_ms - now;
}

/*
 * After CMD has ended (its exit file written or being retried, its outcome reported): while
 * descendants it left behind live (reparented to us, the subreaper), keep reaping them; after
 * grace_ms (never if negative) SIGTERM every descendant, SIGKILL them 2 s later (and again every
 * 100 ms for ones forked meanwhile). A pending exit file is retried meanwhile, so neither waits on
 * the other. Returns once the wrapper has no child left. SIGCHLD is blocked, so sigtimedwait wakes
 * on each exit.
 */
static void linger(long grace_ms, struct exit_retry *r) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  long long deadline = grace_ms < 0 ? -1 : mono_ms() + grace_ms;
  int phase = 0;
  for (;;) {
    pid_t w;
    while ((w = waitpid(-1, NULL, WNOHANG)) > 0) {
    }
    if (w < 0 && errno != EINTR) return; /* ECHILD: nobody left */
    long long retry_in = exit_retry_step(r);
    long long now = mono_ms();
    if (deadline >= 0 && now >= deadline) {
      signal_descendants(phase == 0 ? SIGTERM : SIGKILL);
      deadline = now + (phase == 0 ? 2000 : 100);
      phase = 1;
    }
    long long left = deadline >= 0 ? deadline - mono_ms() : -1;
    if (retry_in >= 0 && (left < 0 || retry_in < left)) left = retry_in;
    struct timespec ts, *tsp = NULL;
    if (left >= 0) {
      if (left < 1) left = 1;
      ts.tv_sec = left / 1000;
      ts.tv_nsec = (left % 1000) * 1000000;
      tsp = &ts;
    }
    sigtimedwait(&chld, NULL, tsp);
  }
}

/* Mode "f" (live sessions): the write end the wrapper holds on DIR/stdin; dropped on SIGUSR1. */
static volatile sig_atomic_t fifo_holder = -1;

static void drop_fifo_holder(int sig) {
  (void)sig;
  if (fifo_holder >= 0) close(fifo_holder); /* async-signal-safe */
  fifo_holder = -1;
}

/*
 * Mode "f": creates the FIFO DIR/stdin (or reuses one of ours), opens CMD's read end (O_NONBLOCK
 * so the open never waits for a writer), then the wrapper's own write end (close-on-exec: CMD must
 * not hold a writer, or it would never see EOF), and installs the SIGUSR1 handler that drops it.
 * Returns the read end for CMD, or -1 with errno set.
 */
static int hold_fifo(int dfd) {
  if (mkfifoat(dfd, "stdin", 0600) < 0 && errno != EEXIST) return -1;
  int in = openat(dfd, "stdin", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) return -1;
  struct stat st;
  if (fstat(in, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
    close(in);
    errno = EINVAL;
    return -1;
  }
  int w = openat(dfd, "stdin", O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (w < 0) {
    int e = errno;
    close(in);
    errno = e;
    return -1;
  }
  fifo_holder = w;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = drop_fifo_holder;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
  return in;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--server") == 0) return serve();
  if (argc >= 2 && strcmp(argv[1], "--keep") == 0) return keep(argc, argv);
  if (argc == 2 && strcmp(argv[1], "--lock") == 0) return lock_fd3();
  if (argc < 6) return fail(EINVAL, "usage");
  const char *dir = argv[1];
  const char *cwd = argv[2];
  int has_stdin = argv[3][0] == '1';
  const char *cgroup = NULL;
  const char *max_pids = NULL;
  int rlimit_nproc = 0;
  long grace_ms = 5000;
  int at = 4;
  int report_fd = -1;
  for (;;) {
    if (strcmp(argv[at], "-r") == 0 && argc > at + 2) {
      report_fd = atoi(argv[at + 1]);
      if (report_fd < 3 || fcntl(report_fd, F_GETFD) < 0) report_fd = -1;
      at += 2;
    } else if (strcmp(argv[at], "-p") == 0 && argc > at + 3) {
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
  /* Blocked so linger() can wait for exits with a timeout; CMD gets an empty mask back. */
  sigset_t chldmask;
  sigemptyset(&chldmask);
  sigaddset(&chldmask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chldmask, NULL);

  int fifo_mode = argv[3][0] == 'f';
  if ((argv[3][0] == 'm' || fifo_mode) && mkdir(dir, 0700) < 0 && errno != EEXIST) return fail(errno, "state-dir");
  /* Never through a symlink, and only a directory of our own: output and the record's environment
   * must not land where someone else can read them (a planted directory, a swapped link). */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return fail(errno, "state-dir");
  struct stat dst;
  if (fstat(dfd, &dst) < 0) return fail(errno, "state-dir");
  if (dst.st_uid != geteuid()) return fail(EPERM, "state-dir");
  int out = openat(dfd, "stdout", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return fail(errno, "stdout");
  int err = openat(dfd, "stderr", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (err < 0) return fail(errno, "stderr");
  int in = fifo_mode ? hold_fifo(dfd) : has_stdin ? openat(dfd, "stdin", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail(errno, "stdin");
  if (has_stdin) {
    /* Opened without blocking (a planted FIFO must not hang us); only a regular file is CMD's stdin. */
    struct stat ist;
    if (fstat(in, &ist) < 0 || !S_ISREG(ist.st_mode)) return fail(EINVAL, "stdin");
    fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
  }

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
  /* Read once: the exit report names the wrapper by the same start time, without reading /proc again. */
  unsigned long long self_start = starttime(getpid());
  int n = snprintf(line, sizeof line, "ok %d %llu %llu %d\n", (int)pid, starttime(pid), self_start, (int)getpid());
  /* The daemon hears first (it persists the pid before acknowledging the spawn); then the same
   * line goes to DIR/started, so a daemon that died before persisting the pid can still find (and
   * re-adopt) this command on its next start. Two file creations off the spawn's critical path. */
  char tagged[160];
  int tn = snprintf(tagged, sizeof tagged, "%d %s", (int)getpid(), line);
  write_all(1, tagged, (size_t)tn);
  write_atomic(dfd, "started", line, (size_t)n); /* complete or absent (disk full) */
  /* DIR/exit.tmp is created now, while CMD runs, not when it ends: creating a file is the costly
   * part of recording an exit (on ext4 without a journal, allocating an inode scans past every
   * inode deleted in the last minutes; under file churn that was most of the CPU of stopping 100
   * commands at once), and 100 wrappers doing it while the daemon is still signalling the rest
   * slow the last ones down. At the end only a write and a rename remain. When it cannot be
   * created (disk full, no descriptor) the exit path creates it then, as before. */
  int exit_fd = prepare_atomic(dfd, "exit");
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (devnull > 2) close(devnull);
  }

  /* Nice 10 while it waits: when many commands die at once (100 killed together), the ones still
   * dying get the CPU before the wrappers of those already dead do their exit-file work, so the
   * last command ends sooner; the wrappers' work, a few file operations each, follows at once. */
  setpriority(PRIO_PROCESS, 0, 10);

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
  /* The exit file first (so a daemon that hears the report and removes DIR at once never races
   * the write), then the report (no disk involved), then, if the file could not be written, the
   * file again until it is, or until DIR is deleted (the record is gone): inside linger while
   * leftovers live (neither waits on the other), then here. */
  struct exit_retry er = {dfd, rec, (size_t)n, 0, 100, 0};
  /* The prepared file first; should that fail (the disk refused the data, or exit.tmp was
   * deleted meanwhile), at once the whole way, whose ENOENT then means DIR itself is gone. */
  er.err = exit_fd >= 0 ? write_prepared(dfd, exit_fd, "exit", rec, (size_t)n) : -1;
  if (er.err != 0) er.err = write_atomic(dfd, "exit", rec, (size_t)n);
  er.next_ms = mono_ms() + 50;
  /* Descendants CMD left behind are our children by now (reparented to the subreaper as CMD
   * exited): the report says the wrapper stays for them, so the daemon watches for its exit. */
  pid_t left;
  while ((left = waitpid(-1, NULL, WNOHANG)) > 0) {
  }
  char tagged_rec[240];
  int rn = snprintf(tagged_rec, sizeof tagged_rec, "e %d %llu %.*s%s", (int)getpid(), self_start, n - 2, rec,
                    left == 0 ? ",\"lingering\":true}\n" : "}\n");
  report(report_fd, tagged_rec, (size_t)rn);
  /* Descendants CMD left behind: kept, reaped and finally ended here (see linger). */
  linger(grace_ms, &er);
  /* Empty now (every process in it was our descendant, all reaped); the daemon retries at
   * remove_process should one be stuck in the kernel. */
  if (cgroup != NULL) rmdir(cgroup);
  for (long long wait_ms; (wait_ms = exit_retry_step(&er)) >= 0;) {
    struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
  }
  return 0;
}
