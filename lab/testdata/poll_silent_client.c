// A server polls two forked clients and answers one request from each; it tells the clients
// still waiting when another was served ("news"). Planted bug: a client that finds a message
// already waiting (recv with MSG_DONTWAIT) takes it for the server's answer and never sends its
// request; the server polls for that request for ever while the client waits for the server to
// hang up. It depends on the order: the news must come before the client looks.
// IPCLAB_FIXED: the client always sends its request and reads until the answer.
#define _GNU_SOURCE
#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kClients = 2, kMessage = 8 };
// Every message is kMessage bytes, NUL-padded.
static const char kRequest[kMessage] = "request";
static const char kAnswer[kMessage] = "answer";
static const char kNews[kMessage] = "news";

static void Client(int s) {
  char buf[kMessage];
#ifndef IPCLAB_FIXED
  if (recv(s, buf, kMessage, MSG_DONTWAIT) == kMessage) {
    // "The server spoke first, so it has answered": wrong, it was the news about the other client.
  } else
#endif
  {
    ssize_t sent = send(s, kRequest, kMessage, 0);
    assert(sent == kMessage);
    do {
      ssize_t n = recv(s, buf, kMessage, MSG_WAITALL);
      assert(n == kMessage);
    } while (strcmp(buf, "answer") != 0);
  }
  while (recv(s, buf, kMessage, 0) > 0) {}  // until the server hangs up
  _exit(0);
}

int main(void) {
  int sv[kClients][2];
  pid_t pid[kClients];
  for (int i = 0; i < kClients; ++i) {
    int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]);
    assert(rc == 0);
  }
  for (int i = 0; i < kClients; ++i) {
    pid[i] = fork();
    assert(pid[i] >= 0);
    if (pid[i] == 0) {
      for (int j = 0; j < kClients; ++j) {
        close(sv[j][0]);
        if (j != i) close(sv[j][1]);
      }
      Client(sv[i][1]);
    }
  }
  struct pollfd fds[kClients];
  for (int i = 0; i < kClients; ++i) {
    close(sv[i][1]);
    fds[i].fd = sv[i][0];
    fds[i].events = POLLIN;
  }
  for (int served = 0; served < kClients;) {
    int ready = poll(fds, kClients, -1);
    assert(ready > 0);
    for (int i = 0; i < kClients; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[kMessage];
      ssize_t n = recv(fds[i].fd, buf, kMessage, MSG_WAITALL);
      assert(n == kMessage && "a client hung up without a request");
      n = send(fds[i].fd, kAnswer, kMessage, 0);
      assert(n == kMessage);
      fds[i].fd = -1;
      ++served;
      for (int j = 0; j < kClients; ++j) {
        if (fds[j].fd >= 0) send(fds[j].fd, kNews, kMessage, 0);
      }
    }
  }
  for (int i = 0; i < kClients; ++i) close(sv[i][0]);
  for (int i = 0; i < kClients; ++i) {
    int status = 0;
    waitpid(pid[i], &status, 0);
    assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  printf("served %d clients\n", kClients);
  return 0;
}
