// Fuzzes the trace files the lab writes (lab/report/trace_event.h, Chrome trace-event JSON) by
// round trip: the input is decoded into writer calls (process and thread names, slices, instants,
// flows) whose names are arbitrary bytes (thread names, operation and IPC object names are not
// always UTF-8); Dump() must produce a file that parses back as JSON with one event per call (two
// per flow), in order, with the pid, tid, phase and timestamps given, and each name as given (or,
// for bytes that are not UTF-8, with U+FFFD in place of the bad bytes). A trace the lab cannot
// write, or writes unreadable, is a bug.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/input_bytes.h"
#include "lab/report/trace_event.h"

namespace {

struct Reader : ipclab_fuzz::InputBytes {
  std::string Name() {
    size_t len = Byte() % 24;
    std::string s;
    while (len-- > 0 && n > 0) s += static_cast<char>(Byte());
    return s;
  }
};

bool IsUtf8(const std::string& s) {
  nlohmann::json j = s;
  try {
    (void)j.dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "trace_event_fuzzer: %s\n", what.c_str());
  std::abort();
}

struct Expected {
  std::string ph;
  int pid, tid;
  std::string name;  // the name field ("" for metadata events, whose name is in args)
  double ts;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  Reader in{{data, size}};
  lab::TraceEventWriter w;
  std::vector<Expected> want;
  while (in.n > 0 && want.size() < 64) {
    uint8_t op = in.Byte();
    int pid = in.Byte() % 4, tid = in.Byte() % 8;
    double ts = in.Byte() * 0.5;
    std::string name = in.Name();
    switch (op % 5) {
      case 0: w.ProcessName(pid, name); want.push_back({"M", pid, 0, name, 0}); break;
      case 1: w.ThreadName(pid, tid, name); want.push_back({"M", pid, tid, name, 0}); break;
      case 2:
        w.Complete(pid, tid, name, ts, 1 + in.Byte() % 4, op & 8 ? nlohmann::json{{"arg", name}} : nlohmann::json{});
        want.push_back({"X", pid, tid, name, ts});
        break;
      case 3: w.Instant(pid, tid, name, ts); want.push_back({"i", pid, tid, name, ts}); break;
      case 4: {
        int to_pid = in.Byte() % 4, to_tid = in.Byte() % 8;
        double to_ts = ts + in.Byte();
        w.Flow(want.size(), pid, tid, ts, to_pid, to_tid, to_ts, name);
        want.push_back({"s", pid, tid, name, ts});
        want.push_back({"f", to_pid, to_tid, name, to_ts});
        break;
      }
    }
  }
  std::string text;
  try {
    text = w.Dump();
  } catch (const std::exception& e) {
    Fail(std::string("Dump() threw: ") + e.what());
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) Fail("Dump() wrote invalid JSON: " + text);
  if (!j.is_object() || !j.contains("traceEvents") || !j["traceEvents"].is_array()) Fail("no traceEvents array");
  const auto& events = j["traceEvents"];
  if (events.size() != want.size() || w.size() != want.size()) Fail("event count differs: " + text);
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& e = events[i];
    const Expected& x = want[i];
    if (e.value("ph", "") != x.ph || e.value("pid", -1) != x.pid || e.value("tid", -1) != x.tid) {
      Fail("event " + std::to_string(i) + " has the wrong phase/pid/tid: " + e.dump());
    }
    std::string got = x.ph == "M" ? e["args"].value("name", std::string("\x01")) : e.value("name", std::string("\x01"));
    if (IsUtf8(x.name) ? got != x.name : !IsUtf8(got) || got.find("\xEF\xBF\xBD") == std::string::npos) {
      Fail("event " + std::to_string(i) + " name not written as given: " + e.dump());
    }
    if (x.ph != "M" && (!e.contains("ts") || std::fabs(e["ts"].get<double>() - x.ts) > 1e-9)) {
      Fail("event " + std::to_string(i) + " timestamp differs: " + e.dump());
    }
  }
  return 0;
}
