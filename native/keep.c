#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wrap.h"

/*
 * Keeper mode (`claude-daemon-wrap --keep -- NODE DAEMON-ARGS...`), what `start --detach` runs: it
 * starts the daemon as its child and starts it again when it dies unexpectedly (SIGKILL, OOM, a
 * crash, or SIGTERM from a stray `pkill node`), so an agent that kills its own supervisor loses
 * nothing but a second. It is C, not Node, so that `pkill node` does not take it down too, and so
 * that it costs about a megabyte instead of Node's 40 MiB.
 *
 * Protocol with the daemon (src/daemon/keeper.ts):
 *   environment  CLAUDE_DAEMON_KEEPER_PID (this pid), CLAUDE_DAEMON_KEEPER_RESTARTS (how many
 *                daemons this keeper started before this one), CLAUDE_DAEMON_KEEPER_LAST_DEATH
 *                (how the previous one ended, e.g. "signal 9 (Killed)"; empty for the first);
 *   SIGUSR1      from the daemon once it serves (only the current child's signal counts): the
 *                daemon "was serving", which decides the backoff below;
 *   exit status  0: the daemon was told to `shutdown`: the keeper exits too, for good;
 *                KEEP_REFUSED (78): the daemon refused to start (another daemon holds its socket or
 *                state directory, or the state directory is unusable): starting again would only
 *                fail again, so the keeper exits with that status;
 *                anything else, or a signal: an unexpected death: start a new daemon.
 * Backoff: a daemon that dies before it served (a crash at start, dist/ missing during a rebuild)
 * is restarted at once the first time, then after 1 s, 2 s, 4 s, ... up to 30 s (but if the very
 * first daemon never served, the keeper exits with its status: `start --detach` reports it); a daemon that was serving is restarted at once,
 * unless more than KEEP_BURST such deaths fell within 60 s (a crash loop in service), which backs
 * off the same way. A daemon that serves resets the first count; the second is a sliding window.
 *
 * Not an orphan-maker: the daemon runs in its own process group, and the keeper never signals it.
 * SIGTERM (or SIGKILL) to the keeper ends only the keeper; the daemon goes on, unkept (its `ping`
 * then says `keeper: null`). SIGINT, SIGHUP and SIGPIPE are ignored.
 */

#define KEEP_REFUSED 78
#define KEEP_RESTART 75 /* a kept daemon stopped by SIGTERM/SIGINT: restart (as any other status) */
#define KEEP_BURST 20
#define KEEP_WINDOW_S 60.0
#define KEEP_MAX_DELAY_S 30.0

static volatile sig_atomic_t served;
static volatile pid_t current;

static void on_served(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  if (si->si_pid == current) served = 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line on stderr (daemon.stderr in the state directory), with a UTC time stamp. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
  char stamp[32], line[512];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = snprintf(line, sizeof line, "%s claude-daemon keeper[%d]: ", stamp, (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  if (n > 0) {
    line[n++] = '\n';
    write_all(2, line, (size_t)n);
  }
}

static void pause_for(double seconds) {
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* 0 for the first failure, then 1, 2, 4, ... seconds, at most KEEP_MAX_DELAY_S. */
static double backoff(int failures) {
  if (failures <= 1) return 0;
  double d = 1;
  for (int i = 2; i < failures && d < KEEP_MAX_DELAY_S; i++) d *= 2;
  return d < KEEP_MAX_DELAY_S ? d : KEEP_MAX_DELAY_S;
}

/* Forks and execs the daemon; returns its pid (or -1). SIGUSR1 is blocked around the fork so a
 * readiness signal is never attributed to the wrong child. */
static pid_t start_daemon(char **cmd, unsigned restarts, const char *last_death) {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &old);
  served = 0;
  pid_t pid = fork();
  if (pid == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    static const int reset[] = {SIGINT, SIGHUP, SIGPIPE, SIGTERM, SIGUSR1};
    for (size_t i = 0; i < sizeof reset / sizeof *reset; i++) sigaction(reset[i], &dfl, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    setpgid(0, 0);
    char num[32];
    snprintf(num, sizeof num, "%d", (int)getppid());
    setenv("CLAUDE_DAEMON_KEEPER_PID", num, 1);
    snprintf(num, sizeof num, "%u", restarts);
    setenv("CLAUDE_DAEMON_KEEPER_RESTARTS", num, 1);
    setenv("CLAUDE_DAEMON_KEEPER_LAST_DEATH", last_death, 1);
    execvp(cmd[0], cmd);
    say("cannot run %s: %s", cmd[0], strerror(errno));
    _exit(127);
  }
  current = pid > 0 ? pid : 0;
  sigprocmask(SIG_SETMASK, &old, NULL);
  return pid;
}

/* The argv area the kernel shows as /proc/PID/cmdline (what `ps` and `pkill -f` read). */
static char *title_at;
static size_t title_len;

/* Shows `claude-daemon-keeper (daemon pid N)` instead of the command line, which names node: a
 * `pkill -f node` must not reach the keeper. */
static void retitle(pid_t daemon) {
  if (title_at == NULL) return;
  memset(title_at, 0, title_len);
  snprintf(title_at, title_len, "claude-daemon-keeper (daemon pid %d)", (int)daemon);
}

int keep(int argc, char **argv) {
  /* argv: PROGRAM --keep -- COMMAND [ARGS...] */
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    static const char usage[] = "usage: claude-daemon-wrap --keep -- COMMAND [ARGS...]\n";
    write_all(2, usage, sizeof usage - 1);
    return 2;
  }
  /* The daemon's command line is copied first: the original strings are overwritten by retitle.
   * The area runs from argv[0] to the end of the last argument, contiguous as the kernel laid it out. */
  char **cmd = calloc((size_t)argc - 2, sizeof *cmd);
  if (cmd == NULL) return 1;
  for (int i = 3; i < argc; i++)
    if ((cmd[i - 3] = strdup(argv[i])) == NULL) return 1;
  title_at = argv[0];
  title_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
  static const int keeper_ignores[] = {SIGINT, SIGHUP, SIGPIPE};
  ignore_signals(keeper_ignores, sizeof keeper_ignores / sizeof *keeper_ignores);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_served;
  sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: waitpid returns EINTR and loops */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);

  unsigned restarts = 0;
  int ever_served = 0;
  int failures = 0; /* consecutive deaths before serving */
  int over = 0;     /* consecutive serving deaths beyond the burst */
  double deaths[KEEP_BURST] = {0};
  size_t nd = 0;
  char last[96] = "";
  for (;;) {
    double started = now_s();
    pid_t pid = start_daemon(cmd, restarts, last);
    retitle(pid);
    int status = 0;
    if (pid < 0) {
      snprintf(last, sizeof last, "fork failed: %s", strerror(errno));
    } else {
      while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) break;
      }
      current = 0;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        say("daemon pid %d stopped (shutdown); the keeper exits", (int)pid);
        return 0;
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == KEEP_REFUSED) {
        say("daemon pid %d refused to start (see daemon.log); the keeper exits", (int)pid);
        return KEEP_REFUSED;
      }
      if (WIFSIGNALED(status))
        snprintf(last, sizeof last, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
      else if (WEXITSTATUS(status) == KEEP_RESTART)
        snprintf(last, sizeof last, "exit code %d (stopped by SIGTERM or SIGINT)", KEEP_RESTART);
      else
        snprintf(last, sizeof last, "exit code %d", WEXITSTATUS(status));
    }
    if (!served && !ever_served) {
      /* The first daemon never served: a broken start that `start --detach`, still waiting,
       * reports; no daemon ever served here, so there is nothing to keep. */
      say("the first daemon (pid %d) ended (%s) before it served; the keeper exits", (int)pid, last);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ever_served = 1;
    double t = now_s();
    double delay;
    if (served) {
      failures = 0;
      double oldest = deaths[nd % KEEP_BURST];
      deaths[nd % KEEP_BURST] = t;
      nd++;
      if (nd > KEEP_BURST && t - oldest < KEEP_WINDOW_S) delay = backoff(++over + 1);
      else {
        over = 0;
        delay = 0;
      }
    } else {
      delay = backoff(++failures);
    }
    say("daemon pid %d ended (%s) after %.1f s%s; starting a new one in %.0f s", (int)pid, last, t - started,
        served ? "" : " before it served", delay);
    pause_for(delay);
    restarts++;
  }
}
