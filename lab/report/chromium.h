// lab/report/chromium.h: headless Chromium for tests of the HTML pages (testonly).
//
//   // One-shot: the DOM after the page's scripts ran (chromium --headless --dump-dom).
//   auto dom = lab::testing::DumpDom("/tmp/x/page.html");
//
//   // A browser driven through the Chrome DevTools Protocol (CDP) over its WebSocket:
//   auto b = lab::testing::Browser::Launch();
//   b->Open("file:///tmp/x/page.html");
//   b->PressKey("j");
//   auto step = b->Evaluate("document.querySelector('.step.current').dataset.step");
//   b->SetScriptsDisabled(true);   // for the next Open: the page's own scripts do not run
//
// The browser is Debian's `chromium` (tools/setup installs it; $IPCLAB_CHROMIUM overrides the
// path), run with --headless --no-sandbox --disable-gpu in a private profile directory, on a
// port the kernel picks (--remote-debugging-port=0, read back from DevToolsActivePort). The CDP
// client is a minimal WebSocket client (text frames, client masking, no extensions). Every wait
// has a deadline; the browser's process group is killed when the Browser goes away.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipc/audit/names.h"
#include "ipc/signal/signal.h"
#include "ipc/sys/fd.h"

namespace lab::testing {

// A directory for a browser profile under $TEST_TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  static std::expected<TempDir, std::string> Create();
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The chromium binary: $IPCLAB_CHROMIUM, else `chromium` on PATH; empty when there is none.
std::string ChromiumPath();

// Loads `path` (a local file) headless and returns the serialized DOM after scripts ran.
std::expected<std::string, std::string> DumpDom(const std::string& path,
                                                std::chrono::seconds timeout = std::chrono::seconds(60));

class Browser {
 public:
  static std::expected<std::unique_ptr<Browser>, std::string> Launch(
      std::chrono::seconds timeout = std::chrono::seconds(60));
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // One CDP command on the page; the result object, or the protocol error as text.
  std::expected<nlohmann::json, std::string> Call(const std::string& method,
                                                  nlohmann::json params = nlohmann::json::object());
  // Navigates and waits until document.readyState is "complete".
  std::expected<void, std::string> Open(const std::string& url);
  // Evaluates a JavaScript expression in the page (devtools-side: works with page scripts
  // disabled) and returns its value (by value: JSON-serialisable results only).
  std::expected<nlohmann::json, std::string> Evaluate(const std::string& expression);
  // A real key press (keyDown + keyUp through Input.dispatchKeyEvent): "j", "ArrowDown", ...
  std::expected<void, std::string> PressKey(const std::string& key);
  // Emulation.setScriptExecutionDisabled: the page's own scripts (not Evaluate) stop running.
  std::expected<void, std::string> SetScriptsDisabled(bool disabled);

 private:
  Browser(TempDir dir, ipc::signal::Child child)
      : dir_(std::move(dir)), child_(std::move(child)) {}
  std::expected<void, std::string> Connect(std::chrono::seconds timeout);
  std::expected<void, std::string> SendText(const std::string& text);
  std::expected<std::string, std::string> ReceiveText();
  std::expected<void, std::string> ReadExactly(char* buf, std::size_t n);

  TempDir dir_;
  ipc::signal::Child child_;
  ipc::sys::Fd socket_;
  int port_ = 0;
  std::uint64_t next_id_ = 1;
  std::chrono::steady_clock::time_point deadline_;
  std::string pending_;  // bytes read past a handshake
};

}  // namespace lab::testing
