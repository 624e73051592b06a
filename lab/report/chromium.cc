#include "lab/report/chromium.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "ipc/sys/sys.h"

namespace lab::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool Executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> ChromiumArgs(const std::string& profile) {
  return {ChromiumPath(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
          "--user-data-dir=" + profile};
}

// Starts `argv` in its own process group with stdout/stderr to files (the browser is chatty).
ipc::sys::Result<ipc::signal::Child> Start(const std::vector<std::string>& argv, const std::string& out,
                                           const std::string& err) {
  return ipc::signal::Child::Fork([argv, out, err] {
    ::setpgid(0, 0);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) return 126;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    return 127;
  });
}

// Kills the browser and everything it started (renderers, zygote), then reaps it.
void Stop(ipc::signal::Child& child) {
  if (!child.running()) return;
  (void)ipc::sys::Call("kill", "chromium process group", [&] { return ::kill(-child.pid(), SIGKILL); });
  (void)child.Kill(SIGKILL);
  (void)child.WaitFor(std::chrono::seconds(10));
}

std::string Tail(const std::string& text, std::size_t n = 600) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

}  // namespace

TempDir::~TempDir() {
  if (!path_.empty()) (void)ipc::audit::RemoveTree(path_);
}

std::expected<TempDir, std::string> TempDir::Create() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ipclab-chromium-XXXXXX";
  auto made = ipc::sys::Call("mkdtemp", tmpl, [&] { return ::mkdtemp(tmpl.data()); });
  if (!made) return std::unexpected(made.error().message());
  return TempDir(tmpl);
}

std::string ChromiumPath() {
  if (const char* env = std::getenv("IPCLAB_CHROMIUM"); env != nullptr && Executable(env)) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/local/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (Executable(p)) return p;
  }
  return "";
}

std::expected<std::string, std::string> DumpDom(const std::string& path, std::chrono::seconds timeout) {
  if (ChromiumPath().empty()) return std::unexpected("chromium not found (tools/setup installs it)");
  std::string why;
  // Under heavy load headless Chromium has been seen to exit 0 without printing the DOM once;
  // a second attempt is made before failing.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto dir = TempDir::Create();
    if (!dir) return std::unexpected(dir.error());
    std::vector<std::string> argv = ChromiumArgs(dir->file("profile"));
    argv.push_back("--dump-dom");
    argv.push_back("file://" + path);
    auto child = Start(argv, dir->file("stdout"), dir->file("stderr"));
    if (!child) return std::unexpected(child.error().message());
    auto st = child->WaitFor(timeout);
    if (!st) {
      Stop(*child);
      return std::unexpected(fmt::format("chromium --dump-dom {} did not finish within {} s", path, timeout.count()));
    }
    Stop(*child);  // leftover helpers of the group
    std::string dom = ReadFile(dir->file("stdout"));
    if (st->ok() && !dom.empty()) return dom;
    why = fmt::format("chromium --dump-dom {}: {}, no output; stderr: {}", path, st->Describe(),
                      Tail(ReadFile(dir->file("stderr"))));
  }
  return std::unexpected(why);
}

std::expected<std::unique_ptr<Browser>, std::string> Browser::Launch(std::chrono::seconds timeout) {
  if (ChromiumPath().empty()) return std::unexpected("chromium not found (tools/setup installs it)");
  auto dir = TempDir::Create();
  if (!dir) return std::unexpected(dir.error());
  const std::string profile = dir->file("profile");
  std::vector<std::string> argv = ChromiumArgs(profile);
  argv.push_back("--remote-debugging-port=0");
  argv.push_back("about:blank");
  auto child = Start(argv, dir->file("stdout"), dir->file("stderr"));
  if (!child) return std::unexpected(child.error().message());
  std::unique_ptr<Browser> b(new Browser(std::move(*dir), std::move(*child)));
  if (auto c = b->Connect(timeout); !c) return std::unexpected(c.error());
  return b;
}

Browser::~Browser() {
  socket_.reset();
  Stop(child_);
}

std::expected<void, std::string> Browser::Connect(std::chrono::seconds timeout) {
  deadline_ = Clock::now() + timeout;
  // DevToolsActivePort: the port on the first line, once the browser listens.
  const std::string port_file = dir_.file("profile") + "/DevToolsActivePort";
  while (port_ == 0) {
    std::istringstream in(ReadFile(port_file));
    if (int p = 0; in >> p && p > 0) port_ = p;
    if (port_ != 0) break;
    if (!child_.running() || Clock::now() > deadline_) {
      return std::unexpected(fmt::format("chromium did not open its DevTools port within {} s; stderr: {}",
                                         timeout.count(), Tail(ReadFile(dir_.file("stderr")))));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto open_socket = [&]() -> std::expected<ipc::sys::Fd, std::string> {
    auto fd = ipc::sys::Call("socket", "cdp", [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
    if (!fd) return std::unexpected(fd.error().message());
    ipc::sys::Fd s(*fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto c = ipc::sys::Retry("connect", fmt::format("127.0.0.1:{}", port_), [&] {
      return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    });
    if (!c) return std::unexpected(c.error().message());
    return s;
  };
  // The page target's WebSocket path, from the HTTP endpoint /json/list.
  std::string ws_path;
  while (ws_path.empty()) {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    socket_ = std::move(*s);
    pending_.clear();
    const std::string req = fmt::format("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", port_);
    if (!ipc::sys::Retry("write", "cdp http", [&] { return ::write(socket_.get(), req.data(), req.size()); })) {
      return std::unexpected("cannot send /json/list");
    }
    std::string resp;
    char buf[4096];
    auto complete = [&] {
      auto end = resp.find("\r\n\r\n");
      if (end == std::string::npos) return false;
      auto cl = resp.find("Content-Length:");
      if (cl == std::string::npos || cl > end) cl = resp.find("content-length:");
      if (cl == std::string::npos || cl > end) return false;
      return resp.size() >= end + 4 + std::strtoull(resp.c_str() + cl + 15, nullptr, 10);
    };
    while (!complete()) {
      pollfd p{socket_.get(), POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) return std::unexpected("timed out reading /json/list");
      auto r = ipc::sys::Retry("poll", "cdp http", [&] { return ::poll(&p, 1, static_cast<int>(left)); });
      if (!r || *r == 0) return std::unexpected("timed out reading /json/list");
      auto n = ipc::sys::Retry("read", "cdp http", [&] { return ::read(socket_.get(), buf, sizeof buf); });
      if (!n) return std::unexpected(n.error().message());
      if (*n == 0) break;
      resp.append(buf, static_cast<std::size_t>(*n));
    }
    auto body = resp.find("\r\n\r\n");
    auto j = nlohmann::json::parse(body == std::string::npos ? "" : resp.substr(body + 4), nullptr, false);
    if (j.is_array()) {
      for (const auto& t : j) {
        if (t.value("type", "") == "page" && t.contains("webSocketDebuggerUrl")) {
          std::string url = t["webSocketDebuggerUrl"];
          if (auto slash = url.find("/devtools/"); slash != std::string::npos) ws_path = url.substr(slash);
          break;
        }
      }
    }
    if (ws_path.empty()) {
      if (Clock::now() > deadline_) return std::unexpected("chromium has no page target: " + Tail(resp));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  auto s = open_socket();
  if (!s) return std::unexpected(s.error());
  socket_ = std::move(*s);
  pending_.clear();
  const std::string upgrade = fmt::format(
      "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: aXBjbGFiLWNkcC1jbGllbnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ws_path, port_);
  if (!ipc::sys::Retry("write", "cdp upgrade", [&] { return ::write(socket_.get(), upgrade.data(), upgrade.size()); })) {
    return std::unexpected("cannot send the WebSocket upgrade");
  }
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    char c;
    if (auto r = ReadExactly(&c, 1); !r) return std::unexpected("WebSocket handshake: " + r.error());
    head += c;
    if (head.size() > 8192) return std::unexpected("WebSocket handshake: oversized response");
  }
  if (head.find(" 101 ") == std::string::npos) return std::unexpected("WebSocket handshake refused: " + Tail(head));
  return {};
}

std::expected<void, std::string> Browser::ReadExactly(char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{socket_.get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    if (left <= 0) return std::unexpected("timed out waiting for chromium");
    auto r = ipc::sys::Retry("poll", "cdp socket", [&] { return ::poll(&p, 1, static_cast<int>(left)); });
    if (!r) return std::unexpected(r.error().message());
    if (*r == 0) return std::unexpected("timed out waiting for chromium");
    auto k = ipc::sys::Retry("read", "cdp socket", [&] { return ::read(socket_.get(), buf + got, n - got); });
    if (!k) return std::unexpected(k.error().message());
    if (*k == 0) return std::unexpected("chromium closed the connection");
    got += static_cast<std::size_t>(*k);
  }
  return {};
}

std::expected<void, std::string> Browser::SendText(const std::string& text) {
  if (!socket_.valid() || text.empty()) return {};
  std::string frame;
  frame += static_cast<char>(0x81);  // FIN, text
  const std::size_t n = text.size();
  if (n < 126) {
    frame += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(n >> 8);
    frame += static_cast<char>(n & 0xff);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) frame += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
  }
  static thread_local std::mt19937 rng(std::random_device{}());
  char mask[4];
  for (char& m : mask) m = static_cast<char>(rng());
  frame.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) frame += static_cast<char>(text[i] ^ mask[i % 4]);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    auto w = ipc::sys::Retry("write", "cdp socket", [&] {
      return ::send(socket_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    });
    if (!w) return std::unexpected(w.error().message());
    sent += static_cast<std::size_t>(*w);
  }
  return {};
}

std::expected<std::string, std::string> Browser::ReceiveText() {
  std::string message;
  for (;;) {
    unsigned char h[2];
    if (auto r = ReadExactly(reinterpret_cast<char*>(h), 2); !r) return std::unexpected(r.error());
    const bool fin = h[0] & 0x80;
    const int opcode = h[0] & 0x0f;
    std::uint64_t len = h[1] & 0x7f;
    if (len == 126 || len == 127) {
      unsigned char ext[8];
      const std::size_t k = len == 126 ? 2 : 8;
      if (auto r = ReadExactly(reinterpret_cast<char*>(ext), k); !r) return std::unexpected(r.error());
      len = 0;
      for (std::size_t i = 0; i < k; ++i) len = (len << 8) | ext[i];
    }
    if (len > (64u << 20)) return std::unexpected("oversized WebSocket frame");
    std::string payload(len, '\0');
    if (len > 0) {
      if (auto r = ReadExactly(payload.data(), len); !r) return std::unexpected(r.error());
    }
    if (opcode == 0x8) return std::unexpected("chromium closed the WebSocket");
    if (opcode == 0x9 || opcode == 0xA) continue;  // ping / pong: nothing to do for a short session
    message += payload;
    if (fin) return message;
  }
}

std::expected<nlohmann::json, std::string> Browser::Call(const std::string& method, nlohmann::json params) {
  deadline_ = Clock::now() + std::chrono::seconds(30);
  const std::uint64_t id = next_id_++;
  nlohmann::json msg = {{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (auto s = SendText(msg.dump()); !s) return std::unexpected(method + ": " + s.error());
  for (;;) {
    auto text = ReceiveText();
    if (!text) return std::unexpected(method + ": " + text.error());
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || j["id"] != id) continue;  // events, other replies
    if (j.contains("error")) return std::unexpected(method + ": " + j["error"].dump());
    return j.value("result", nlohmann::json::object());
  }
}

std::expected<nlohmann::json, std::string> Browser::Evaluate(const std::string& expression) {
  auto r = Call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (!r) return std::unexpected(r.error());
  if (r->contains("exceptionDetails")) {
    return std::unexpected("exception in `" + expression + "`: " + (*r)["exceptionDetails"].dump());
  }
  return (*r)["result"].value("value", nlohmann::json());
}

std::expected<void, std::string> Browser::Open(const std::string& url) {
  auto nav = Call("Page.navigate", {{"url", url}});
  if (!nav) return std::unexpected(nav.error());
  if (nav->contains("errorText")) return std::unexpected("cannot open " + url + ": " + (*nav)["errorText"].dump());
  const auto until = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto state = Evaluate("document.readyState + ' ' + location.href");
    if (state && state->is_string() && state->get<std::string>() == "complete " + url) return {};
    if (Clock::now() > until) {
      return std::unexpected("page did not load: " + url + " (" + (state ? state->dump() : state.error()) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::expected<void, std::string> Browser::PressKey(const std::string& key) {
  nlohmann::json down = {{"type", "keyDown"}, {"key", key}};
  if (key.size() == 1) {
    down["text"] = key;
    down["code"] = "Key" + std::string(1, static_cast<char>(std::toupper(key[0])));
    down["windowsVirtualKeyCode"] = std::toupper(key[0]);
  } else {
    down["code"] = key;
    const int vk = key == "ArrowLeft" ? 37 : key == "ArrowUp" ? 38 : key == "ArrowRight" ? 39 : key == "ArrowDown" ? 40 : key == "Escape" ? 27 : 0;
    down["windowsVirtualKeyCode"] = vk;
  }
  if (auto r = Call("Input.dispatchKeyEvent", down); !r) return std::unexpected(r.error());
  nlohmann::json up = down;
  up["type"] = "keyUp";
  up.erase("text");
  if (auto r = Call("Input.dispatchKeyEvent", up); !r) return std::unexpected(r.error());
  return {};
}

std::expected<void, std::string> Browser::SetScriptsDisabled(bool disabled) {
  auto r = Call("Emulation.setScriptExecutionDisabled", {{"value", disabled}});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace lab::testing
