#include "lab/report/trace_event.h"

#include <utility>

namespace lab {
namespace {

void AddArgs(nlohmann::json& event, nlohmann::json args) {
  if (args.is_null()) return;
  if (!args.is_object()) args = nlohmann::json{{"value", std::move(args)}};
  event["args"] = std::move(args);
}

}  // namespace

void TraceEventWriter::ProcessName(int pid, std::string_view name) {
  events_.push_back({{"name", "process_name"},
                     {"ph", "M"},
                     {"pid", pid},
                     {"tid", 0},
                     {"args", {{"name", std::string(name)}}}});
}

void TraceEventWriter::ThreadName(int pid, int tid, std::string_view name) {
  events_.push_back({{"name", "thread_name"},
                     {"ph", "M"},
                     {"pid", pid},
                     {"tid", tid},
                     {"args", {{"name", std::string(name)}}}});
}

void TraceEventWriter::Complete(int pid, int tid, std::string_view name, double ts_us,
                                double dur_us, nlohmann::json args, std::string_view category) {
  nlohmann::json event = {{"name", std::string(name)},
                          {"cat", std::string(category)},
                          {"ph", "X"},
                          {"pid", pid},
                          {"tid", tid},
                          {"ts", ts_us},
                          {"dur", dur_us}};
  AddArgs(event, std::move(args));
  events_.push_back(std::move(event));
}

void TraceEventWriter::Instant(int pid, int tid, std::string_view name, double ts_us,
                               nlohmann::json args) {
  nlohmann::json event = {{"name", std::string(name)},
                          {"cat", "lab"},
                          {"ph", "i"},
                          {"s", "t"},
                          {"pid", pid},
                          {"tid", tid},
                          {"ts", ts_us}};
  AddArgs(event, std::move(args));
  events_.push_back(std::move(event));
}

void TraceEventWriter::Flow(std::uint64_t id, int from_pid, int from_tid, double from_ts,
                            int to_pid, int to_tid, double to_ts, std::string_view name) {
  events_.push_back({{"name", std::string(name)},
                     {"cat", "flow"},
                     {"ph", "s"},
                     {"id", id},
                     {"pid", from_pid},
                     {"tid", from_tid},
                     {"ts", from_ts}});
  events_.push_back({{"name", std::string(name)},
                     {"cat", "flow"},
                     {"ph", "f"},
                     {"bp", "e"},
                     {"id", id},
                     {"pid", to_pid},
                     {"tid", to_tid},
                     {"ts", to_ts}});
}

nlohmann::json TraceEventWriter::ToJson() const {
  return {{"traceEvents", events_}, {"displayTimeUnit", "ns"}};
}

// Names are not always UTF-8 (thread and IPC object names are bytes): replace bad bytes with
// U+FFFD rather than throw (found by fuzz/trace_event_fuzzer).
std::string TraceEventWriter::Dump(int indent) const {
  return ToJson().dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lab
