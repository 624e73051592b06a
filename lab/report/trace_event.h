// lab/report/trace_event.h: a Chrome trace-event timeline of one execution.
//
// Writes the JSON Object Format of the Trace Event Format (the format chrome://tracing and
// Perfetto's UI open): {"traceEvents": [...], "displayTimeUnit": "ns"}. Timestamps and durations
// are in microseconds, as the format defines; the lab uses one step = one unit of virtual time,
// so the timeline reads as an interleaving. A process is a pid, a controlled thread a tid;
// flows draw an arrow between two steps (e.g. an unlock and the lock that it enabled, or the two
// accesses of a data race).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace lab {

class TraceEventWriter {
 public:
  // Metadata: the name a process / thread row shows.
  void ProcessName(int pid, std::string_view name);
  void ThreadName(int pid, int tid, std::string_view name);
  // A slice [ts_us, ts_us + dur_us) on a thread's row ("ph":"X"). `args` (an object, or null
  // for none) shows in the slice's details.
  void Complete(int pid, int tid, std::string_view name, double ts_us, double dur_us,
                nlohmann::json args = {}, std::string_view category = "lab");
  // A thread-scoped instant marker ("ph":"i"), e.g. the step where a detector fired.
  void Instant(int pid, int tid, std::string_view name, double ts_us, nlohmann::json args = {});
  // An arrow from (from_pid, from_tid, from_ts) to (to_pid, to_tid, to_ts): a flow start ("s")
  // and a flow end ("f", binding to the enclosing slice) sharing `id`. Ids must be unique per
  // trace for distinct arrows.
  void Flow(std::uint64_t id, int from_pid, int from_tid, double from_ts, int to_pid, int to_tid,
            double to_ts, std::string_view name);

  // {"traceEvents":[...], "displayTimeUnit":"ns"}.
  nlohmann::json ToJson() const;
  // ToJson() serialized; `indent` < 0 is compact. Bytes of names that are not UTF-8 become U+FFFD.
  std::string Dump(int indent = -1) const;

  std::size_t size() const { return events_.size(); }
  void Clear() { events_.clear(); }

 private:
  std::vector<nlohmann::json> events_;
};

}  // namespace lab
