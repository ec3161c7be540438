/*
 * Wake's pod sandbox ("pause") program, built locally into the wake/pause image (see
 * libs/dev-servers/src/local-images.ts). It holds the pod's namespaces open: it sleeps until
 * told to stop, exits 0 on SIGINT or SIGTERM so a graceful stop is not recorded as a failure,
 * and, being PID 1 when the pod shares its process namespace, reaps the zombies it inherits.
 * The same job as upstream's build/pause/linux/pause.c, written for Wake.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int signo) {
  (void)signo;
  _exit(0);
}

static void on_child(int signo) {
  (void)signo;
  /* Reap every child that has exited; WNOHANG so a live child never blocks the handler. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void install(int signo, void (*handler)(int), int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  if (sigaction(signo, &action, NULL) < 0) {
    perror("pause: sigaction");
    exit(2);
  }
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  if (getpid() != 1) fprintf(stderr, "pause: not running as PID 1; zombies are reaped all the same\n");
  install(SIGINT, on_stop, 0);
  install(SIGTERM, on_stop, 0);
  install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART);
  for (;;) pause();
  return 1; /* not reached */
}
