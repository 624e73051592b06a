// A forked server listens on a Unix socket (abstract name, unique per run: nothing to remove),
// waits for a client with epoll, accepts it and answers its request (select, recv, send); the
// parent is the client.
// Planted bug (an order violation): the server binds and listens after fork, and the client
// connects at once, so it may find nobody listening on the name yet (ECONNREFUSED).
// IPCLAB_FIXED: the parent binds and listens before fork (the server inherits the socket).
#define _GNU_SOURCE
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMessage = 8 };
// Every message is kMessage bytes, NUL-padded.
static const char kPing[kMessage] = "ping";
static const char kPong[kMessage] = "pong";

static int Listen(const struct sockaddr_un* addr, socklen_t len) {
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  assert(l >= 0);
  int rc = bind(l, (const struct sockaddr*)addr, len);
  assert(rc == 0);
  rc = listen(l, 4);
  assert(rc == 0);
  return l;
}

static void Serve(int l) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  int rc = epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  assert(rc == 0);
  struct epoll_event got;
  rc = epoll_wait(ep, &got, 1, -1);
  assert(rc == 1);
  int s = accept(l, NULL, NULL);
  assert(s >= 0);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(s, &readable);
  rc = select(s + 1, &readable, NULL, NULL, NULL);
  assert(rc == 1 && FD_ISSET(s, &readable));
  char buf[kMessage];
  ssize_t n = recv(s, buf, kMessage, MSG_WAITALL);
  assert(n == kMessage && strcmp(buf, "ping") == 0);
  n = send(s, kPong, kMessage, 0);
  assert(n == kMessage);
  _exit(0);
}

int main(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int name = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "ipclab-testdata-connect-%d", (int)getpid());
  const socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)name);
#ifdef IPCLAB_FIXED
  int l = Listen(&addr, len);
#endif
  pid_t server = fork();
  assert(server >= 0);
  if (server == 0) {
#ifndef IPCLAB_FIXED
    int l = Listen(&addr, len);
#endif
    Serve(l);
  }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  assert(s >= 0);
  int rc = connect(s, (const struct sockaddr*)&addr, len);
  assert(rc == 0 && "the server was not listening yet");
  ssize_t n = send(s, kPing, kMessage, 0);
  assert(n == kMessage);
  char buf[kMessage];
  n = recv(s, buf, kMessage, MSG_WAITALL);
  assert(n == kMessage && strcmp(buf, "pong") == 0);
  int status = 0;
  waitpid(server, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("got %s\n", buf);
  return 0;
}
