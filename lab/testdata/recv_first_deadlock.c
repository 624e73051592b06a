// Request and reply over a Unix socket pair between a client (the parent) and a forked server.
// Planted bug: the client waits for a greeting before it sends its request, and the server waits
// for the request before it says anything: both sides receive first and wait for ever.
// IPCLAB_FIXED: the client sends first. The messages go through sendmsg / recvfrom / sendto /
// recvmsg, each a scheduling point and, when it would block, a wait.
#define _GNU_SOURCE
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMessage = 8 };
// Every message is kMessage bytes, NUL-padded.
static const char kValue[kMessage] = "value";

static ssize_t Receive(int s, char* buf) {
  struct iovec iov = {buf, kMessage};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  return recvmsg(s, &msg, 0);
}

static void Request(int s) {
  char request[kMessage] = "get";  // sent in two pieces
  struct iovec iov[2] = {{request, 4}, {request + 4, kMessage - 4}};
  struct msghdr msg = {0};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n = sendmsg(s, &msg, 0);
  assert(n == kMessage);
}

int main(void) {
  int sv[2];
  int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  assert(rc == 0);
  pid_t server = fork();
  assert(server >= 0);
  if (server == 0) {
    close(sv[0]);
    char buf[kMessage];
    ssize_t n = recvfrom(sv[1], buf, kMessage, MSG_WAITALL, NULL, NULL);
    assert(n == kMessage && strcmp(buf, "get") == 0);
    n = sendto(sv[1], kValue, kMessage, 0, NULL, 0);
    assert(n == kMessage);
    _exit(0);
  }
  close(sv[1]);
  char buf[kMessage];
#ifndef IPCLAB_FIXED
  ssize_t greeting = Receive(sv[0], buf);  // the server never greets: it waits for the request
  assert(greeting == kMessage);
#endif
  Request(sv[0]);
  ssize_t n = Receive(sv[0], buf);
  assert(n == kMessage && strcmp(buf, "value") == 0);
  int status = 0;
  waitpid(server, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("got %s\n", buf);
  return 0;
}
