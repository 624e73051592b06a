#include "lab/report/html.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace lab {
namespace {

std::string Esc(std::string_view s) { return HtmlEscape(s); }

// ---- sources ----

struct Location {
  std::string file;
  int line = 0;
};

// "lab/x.cc:12", "Worker() at x.cc:12", "x.cc:12:5" -> file and line.
std::optional<Location> ParseWhere(std::string_view where) {
  if (auto at = where.rfind(" at "); at != std::string_view::npos) where = where.substr(at + 4);
  // Trailing ":col" (two numbers) is tolerated.
  auto colon = where.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= where.size()) return std::nullopt;
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() < 8 &&
           std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string_view num = where.substr(colon + 1);
  std::string_view file = where.substr(0, colon);
  if (!digits(num)) return std::nullopt;
  if (auto c2 = file.rfind(':'); c2 != std::string_view::npos && digits(file.substr(c2 + 1))) {
    num = file.substr(c2 + 1);
    file = file.substr(0, c2);
  }
  if (file.empty()) return std::nullopt;
  while (file.starts_with("./")) file.remove_prefix(2);
  return Location{std::string(file), std::atoi(std::string(num).c_str())};
}

// The workspace this binary was built from, through Bazel's execroot (whose top-level entries
// link to the source tree): /root/.cache/bazel/.../execroot/ipclab/bazel-out/... -> .../ipclab.
std::string ExecrootOfSelf() {
  char buf[PATH_MAX];
  if (realpath("/proc/self/exe", buf) == nullptr) return "";
  std::string_view exe(buf);
  auto pos = exe.find("/execroot/");
  if (pos == std::string_view::npos) return "";
  auto end = exe.find('/', pos + 10);
  if (end == std::string_view::npos) return "";
  return std::string(exe.substr(0, end));
}

class SourceReader {
 public:
  explicit SourceReader(const HtmlOptions& o) {
    roots_ = o.source_roots;
    for (const char* env : {"LAB_SOURCE_ROOT", "BUILD_WORKSPACE_DIRECTORY"}) {
      if (const char* v = std::getenv(env); v != nullptr && *v != '\0') roots_.emplace_back(v);
    }
    if (const char* src = std::getenv("TEST_SRCDIR"); src != nullptr && *src != '\0') {
      const char* ws = std::getenv("TEST_WORKSPACE");
      roots_.push_back(std::string(src) + "/" + (ws != nullptr && *ws != '\0' ? ws : "ipclab"));
    }
    roots_.emplace_back(".");
    if (std::string e = ExecrootOfSelf(); !e.empty()) roots_.push_back(e);
  }

  // The file's lines, or nullptr when no root has it.
  const std::vector<std::string>* Lines(const std::string& file) {
    auto it = cache_.find(file);
    if (it != cache_.end()) return it->second ? &*it->second : nullptr;
    std::optional<std::vector<std::string>> lines;
    std::vector<std::string> candidates;
    if (file.starts_with("/")) {
      candidates.push_back(file);
    } else if (file.find("..") == std::string::npos) {
      for (const auto& r : roots_) candidates.push_back(r + "/" + file);
    }
    for (const auto& path : candidates) {
      std::ifstream in(path);
      if (!in) continue;
      std::vector<std::string> v;
      std::size_t bytes = 0;
      for (std::string line; std::getline(in, line) && bytes < (8u << 20);) {
        bytes += line.size();
        v.push_back(std::move(line));
      }
      lines = std::move(v);
      break;
    }
    auto [pos, _] = cache_.emplace(file, std::move(lines));
    return pos->second ? &*pos->second : nullptr;
  }

  std::string RootsText() const {
    std::string s;
    for (const auto& r : roots_) s += (s.empty() ? "" : ", ") + r;
    return s;
  }

 private:
  std::vector<std::string> roots_;
  std::map<std::string, std::optional<std::vector<std::string>>> cache_;
};

// ---- pieces ----

std::string Plural(std::uint64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string LaneName(const Report& r, ThreadId t) {
  if (t < r.thread_names.size() && !r.thread_names[t].empty()) return r.thread_names[t];
  for (const auto& s : r.schedule) {
    if (s.thread == t && !s.thread_name.empty()) return s.thread_name;
  }
  return fmt::format("T{}", t);
}

bool IsWrite(const ReportStep& s) { return s.op.find("write") != std::string::npos || s.op == "store"; }

std::string Verb(const ReportStep& s) {
  if (s.op == "read" || s.op == "load") return "reads";
  if (IsWrite(s)) return "writes";
  return s.op;
}

// Everything about one report that several sections share.
struct Ctx {
  const Report& r;
  int index;                                  // of the report on the page
  const HtmlOptions& o;
  SourceReader& sources;
  std::map<std::string, std::string> src_ids; // where -> element id
  std::vector<std::string> src_order;

  std::string StepId(StepIndex s) const { return fmt::format("step-{}-{}", index, s); }
  std::string StepLink(StepIndex s) const {
    return fmt::format("<a class=\"steplink\" href=\"#{}\">step {}</a>", StepId(s), s);
  }
  const std::string& SrcId(const std::string& where) {
    auto it = src_ids.find(where);
    if (it != src_ids.end()) return it->second;
    src_order.push_back(where);
    return src_ids.emplace(where, fmt::format("src-{}-{}", index, src_ids.size())).first->second;
  }
  std::string WhereLink(const std::string& where) {
    if (where.empty()) return "";
    return fmt::format("<a class=\"where\" href=\"#{}\">{}</a>", SrcId(where), Esc(where));
  }
  std::size_t Lanes() const {
    std::size_t n = r.thread_names.size();
    for (const auto& s : r.schedule) {
      if (s.thread != kNoThread) n = std::max<std::size_t>(n, s.thread + 1);
    }
    return std::max<std::size_t>(n, 1);
  }
};

std::string StepRow(Ctx& c, const ReportStep& s, const std::map<StepIndex, std::string>& badges) {
  const std::size_t lane = s.thread == kNoThread ? 0 : s.thread;
  std::string cls = "step";
  if (s.matters) cls += " key";
  std::string badge;
  if (auto it = badges.find(s.step); it != badges.end()) {
    cls += " race-access";
    badge = it->second;
  }
  std::string src = s.where.empty() ? "" : c.SrcId(s.where);
  std::string choice = s.choice >= 0 && s.alternatives > 1
                           ? fmt::format(" <span class=\"choice\" title=\"the scheduler chose "
                                         "alternative {} of {} here\">choice {}/{}</span>",
                                         s.choice, s.alternatives, s.choice, s.alternatives)
                           : "";
  return fmt::format(
      "<div class=\"{}\" id=\"{}\" data-step=\"{}\" data-thread=\"{}\" data-src=\"{}\">"
      "<a class=\"num\" href=\"#{}\">{}</a>"
      "<div class=\"cell\" style=\"grid-column:{}\"><span class=\"who\">{}</span> "
      "<span class=\"what\">{}</span>{}{} {}</div></div>\n",
      cls, c.StepId(s.step), s.step, lane, src, c.StepId(s.step), s.step, lane + 2,
      Esc(s.thread_name.empty() ? LaneName(c.r, static_cast<ThreadId>(lane)) : s.thread_name),
      Esc(DescribeStep(s)), choice, badge, c.WhereLink(s.where));
}

std::string LaneHeader(Ctx& c) {
  const std::size_t lanes = c.Lanes();
  std::string out;
  if (c.r.thread_processes.size() >= lanes) {
    out += "<div class=\"lanes procs\"><div class=\"num\"></div>";
    for (std::size_t i = 0; i < lanes;) {
      std::size_t j = i;
      while (j < lanes && c.r.thread_processes[j] == c.r.thread_processes[i]) ++j;
      out += fmt::format("<div class=\"proc\" style=\"grid-column:{} / {}\">process {}</div>", i + 2,
                         j + 2, Esc(c.r.thread_processes[i]));
      i = j;
    }
    out += "</div>\n";
  }
  out += "<div class=\"lanes\"><div class=\"num\">step</div>";
  for (std::size_t t = 0; t < lanes; ++t) {
    out += fmt::format("<div class=\"lane\" style=\"grid-column:{}\">{}</div>", t + 2,
                       Esc(LaneName(c.r, static_cast<ThreadId>(t))));
  }
  return out + "</div>\n";
}

std::string Timeline(Ctx& c, const std::map<StepIndex, std::string>& badges) {
  const Report& r = c.r;
  std::string out = fmt::format(
      "<section class=\"timeline\" style=\"--lanes:{}\"><h3>The interleaving</h3>\n"
      "<p class=\"note\">{}, {}, one lane per thread; the steps that matter are emphasised, the "
      "others folded (open them to see every step).</p>\n",
      c.Lanes(), Plural(r.schedule.size(), "step"), Plural(r.preemptions, "preemption"));
  if (r.schedule.empty()) {
    return out + "<p>No schedule was recorded for this finding.</p></section>\n";
  }
  out += LaneHeader(c);
  std::set<StepIndex> shown;
  for (const auto& s : r.StepsThatMatter()) shown.insert(s.step);
  for (const auto& [a, b] : r.flows) shown.insert(a), shown.insert(b);
  for (const auto& [s, _] : badges) shown.insert(s);
  shown.insert(r.schedule.back().step);
  const bool all = r.schedule.size() <= 12;
  std::vector<const ReportStep*> fold;
  std::size_t omitted = 0;
  auto flush = [&] {
    if (fold.empty()) return;
    std::map<std::string, int> per;
    for (const auto* s : fold) ++per[s->thread_name];
    std::string who;
    for (const auto& [t, n] : per) who += fmt::format("{}{} &times;{}", who.empty() ? "" : ", ", Esc(t), n);
    out += fmt::format("<details class=\"fold\"><summary>steps {}&ndash;{} ({}: {})</summary>\n",
                       fold.front()->step, fold.back()->step, Plural(fold.size(), "step"), who);
    for (const auto* s : fold) out += StepRow(c, *s, badges);
    out += "</details>\n";
    fold.clear();
  };
  for (std::size_t i = 0; i < r.schedule.size(); ++i) {
    const ReportStep& s = r.schedule[i];
    if (all || shown.contains(s.step)) {
      flush();
      out += StepRow(c, s, badges);
    } else if (i < c.o.fold_limit) {
      fold.push_back(&s);
    } else {
      ++omitted;
    }
  }
  flush();
  if (omitted) {
    out += fmt::format("<p class=\"note\">{} further steps are not listed (see the JSON report).</p>\n",
                       omitted);
  }
  return out + "</section>\n";
}

std::string RaceSection(Ctx& c, std::map<StepIndex, std::string>& badges) {
  const Report& r = c.r;
  if (r.kind != "data-race" || r.key_steps.size() < 2) return "";
  const StepIndex a = r.key_steps[0], b = r.key_steps[1];
  if (a >= r.schedule.size() || b >= r.schedule.size()) return "";
  const ReportStep& x = r.schedule[a];
  const ReportStep& y = r.schedule[b];
  badges[a] = fmt::format(" <a class=\"badge race\" href=\"#{}\">access 1 &harr; step {}</a>", c.StepId(b), b);
  badges[b] = fmt::format(" <a class=\"badge race\" href=\"#{}\">access 2 &harr; step {}</a>", c.StepId(a), a);
  auto access = [&](int n, const ReportStep& s) {
    return fmt::format("<li class=\"access\"><span class=\"badge race\">access {}</span> {}: "
                       "<b>{}</b> {} {} {}</li>",
                       n, c.StepLink(s.step), Esc(s.thread_name), Verb(s), Esc(s.object),
                       c.WhereLink(s.where));
  };
  const bool both_write = IsWrite(x) && IsWrite(y);
  std::string out = "<section class=\"race\"><h3>The two racing accesses</h3><ol class=\"accesses\">";
  out += access(1, x) + access(2, y) + "</ol>\n";
  out += fmt::format(
      "<p class=\"why\">Why neither happens before the other: {} {} <b>{}</b> at step {} and {} "
      "{} it at step {}, and nothing between the two steps hands anything over from {} to {}: "
      "{} did not acquire a lock that {} released after its access, no semaphore was posted by "
      "one and taken by the other, no condition variable carried a notification, no join "
      "waited for {} to end, and no release/acquire atomic links them. So the two accesses are "
      "unordered: under another timing {} could come first, or on real hardware both could "
      "happen at once{}.</p>\n",
      Esc(x.thread_name), Verb(x), Esc(x.object), a, Esc(y.thread_name), Verb(y), b,
      Esc(x.thread_name), Esc(y.thread_name), Esc(y.thread_name), Esc(x.thread_name),
      Esc(x.thread_name), Esc(y.thread_name),
      both_write ? " and one write would silently overwrite the other"
                 : ", and the read may see the old or the new value (or a torn one)");
  return out + "</section>\n";
}

// ---- the wait-for graph ----

struct Node {
  std::string name;
  bool thread = true;
};

std::string WaitForSection(Ctx& c) {
  const Report& r = c.r;
  if (r.wait_for.empty()) return "";
  std::vector<Node> nodes;
  std::map<std::string, std::size_t> thread_ix, object_ix;
  auto thread = [&](const std::string& n) {
    if (auto it = thread_ix.find(n); it != thread_ix.end()) return it->second;
    nodes.push_back({n, true});
    return thread_ix[n] = nodes.size() - 1;
  };
  auto object = [&](const std::string& n) {
    if (auto it = object_ix.find(n); it != object_ix.end()) return it->second;
    nodes.push_back({n, false});
    return object_ix[n] = nodes.size() - 1;
  };
  struct Edge {
    std::size_t from, to;
    std::string label;
    std::string cls;
  };
  std::vector<Edge> edges;
  bool any_cycle = false;
  for (const auto& w : r.wait_for) {
    any_cycle |= w.in_cycle;
    std::size_t t = thread(w.thread);
    std::size_t o = object(w.object);
    edges.push_back({t, o, fmt::format("waits to {} (step {})", w.verb, w.step),
                     w.in_cycle ? "wait cycle" : "wait"});
    for (const auto& h : w.held_by) {
      edges.push_back({o, thread(h), w.verb == "join" ? "is" : "held by", w.in_cycle ? "hold cycle" : "hold"});
    }
    if (w.lost_signal_step >= 0 && static_cast<std::size_t>(w.lost_signal_step) < r.schedule.size()) {
      const auto& n = r.schedule[static_cast<std::size_t>(w.lost_signal_step)];
      edges.push_back({thread(n.thread_name), o,
                       fmt::format("notified at step {}, nobody waiting", w.lost_signal_step), "lost"});
    }
  }
  // Holders that are not themselves waiting still appear (as the threads that could help).
  const std::size_t n = nodes.size();
  const double radius = n <= 2 ? 90 : std::max(120.0, 55.0 * static_cast<double>(n) / 3.14159);
  const double w = 2 * radius + 300, h = 2 * radius + 120;
  const double cx = w / 2, cy = h / 2;
  std::vector<std::pair<double, double>> pos(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double angle = -3.14159265 / 2 + 2 * 3.14159265 * static_cast<double>(i) / static_cast<double>(n);
    pos[i] = {cx + radius * std::cos(angle), cy + radius * std::sin(angle)};
  }
  std::string title = r.kind == "lost-wakeup" ? "Who waits for what (the lost notification)"
                      : any_cycle             ? "The wait-for cycle"
                                              : "Who waits for what";
  std::string svg = fmt::format(
      "<svg class=\"waitfor\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "width=\"{:.0f}\" height=\"{:.0f}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
      "<defs><marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
      "markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
      "fill=\"context-stroke\"/></marker></defs>\n",
      Esc(title), w, h, w, h, c.index);
  auto clip = [&](std::size_t from, std::size_t to, bool end) {
    auto [x1, y1] = pos[from];
    auto [x2, y2] = pos[to];
    const double dx = x2 - x1, dy = y2 - y1, len = std::max(1.0, std::hypot(dx, dy));
    const std::size_t at = end ? to : from;
    const double margin = nodes[at].thread ? 46 : 50;
    const double k = end ? (len - margin) / len : margin / len;
    return std::pair{x1 + dx * k, y1 + dy * k};
  };
  for (const auto& e : edges) {
    if (e.from == e.to) continue;
    auto [x1, y1] = clip(e.from, e.to, false);
    auto [x2, y2] = clip(e.from, e.to, true);
    // Two edges between the same pair (a -> b, b -> a) would overlap: bend them apart.
    const double mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    const double nx = -(y2 - y1), ny = x2 - x1, nl = std::max(1.0, std::hypot(nx, ny));
    const double bend = 18;
    const double qx = mx + nx / nl * bend, qy = my + ny / nl * bend;
    svg += fmt::format(
        "<g class=\"edge {}\"><title>{} {} {}</title><path d=\"M{:.1f},{:.1f} Q{:.1f},{:.1f} "
        "{:.1f},{:.1f}\" marker-end=\"url(#arrow-{})\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
        e.cls, Esc(nodes[e.from].name), Esc(e.label), Esc(nodes[e.to].name), x1, y1, qx, qy, x2, y2,
        c.index, qx, qy - 4, Esc(e.label));
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto [x, y] = pos[i];
    if (nodes[i].thread) {
      svg += fmt::format(
          "<g class=\"node thread\"><title>thread {}</title><rect x=\"{:.1f}\" y=\"{:.1f}\" "
          "width=\"84\" height=\"34\" rx=\"8\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
          Esc(nodes[i].name), x - 42, y - 17, x, y + 5, Esc(nodes[i].name));
    } else {
      svg += fmt::format(
          "<g class=\"node object\"><title>object {}</title><ellipse cx=\"{:.1f}\" cy=\"{:.1f}\" "
          "rx=\"50\" ry=\"20\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
          Esc(nodes[i].name), x, y, x, y + 5, Esc(nodes[i].name));
    }
  }
  svg += "</svg>\n";

  std::string table =
      "<table class=\"waits\"><thead><tr><th>thread</th><th>waits to</th><th>object</th>"
      "<th>held by</th><th>it holds</th></tr></thead><tbody>\n";
  for (const auto& wf : r.wait_for) {
    std::string holds;
    for (const auto& hd : wf.holds) {
      holds += fmt::format("{}<b>{}</b> (taken at {}, {})", holds.empty() ? "" : "<br>", Esc(hd.object),
                           c.WhereLink(hd.where), c.StepLink(hd.step));
    }
    std::string by;
    for (const auto& hb : wf.held_by) by += (by.empty() ? "" : ", ") + Esc(hb);
    if (wf.lost_signal_step >= 0) {
      by += fmt::format("{}notified at step {} ({}) while nobody waited", by.empty() ? "" : "; ",
                        wf.lost_signal_step, Esc(wf.lost_signal_where));
    }
    table += fmt::format(
        "<tr class=\"{}\"><td><b>{}</b></td><td>{} ({}, {})</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>\n",
        wf.in_cycle ? "cycle" : "", Esc(wf.thread), Esc(wf.verb), c.StepLink(wf.step),
        c.WhereLink(wf.where), Esc(wf.object), by.empty() ? "nobody" : by,
        holds.empty() ? "nothing" : holds);
  }
  table += "</tbody></table>\n";
  std::string words;
  if (any_cycle) {
    words = "<p class=\"why\">Follow the arrows: each thread waits for an object that the next "
            "thread holds, and the last one waits for what the first holds. Nobody can go on, so "
            "nobody will ever release anything.</p>\n";
  } else if (r.kind == "lost-wakeup") {
    words = "<p class=\"why\">The notification was sent before the waiter started waiting; a "
            "condition variable does not remember it, so the waiter sleeps forever.</p>\n";
  }
  return fmt::format("<section class=\"waitfor-section\"><h3>{}</h3>\n{}<div class=\"svgbox\">{}</div>{}</section>\n",
                     Esc(title), words, svg, table);
}

std::string StarvationSection(Ctx& c) {
  const Report& r = c.r;
  if (r.kind != "starvation" && r.kind != "livelock") return "";
  if (r.schedule.empty() || r.key_steps.empty()) return "";
  const StepIndex since = std::min<StepIndex>(r.key_steps.front(), r.schedule.size() - 1);
  // The starving thread as the runtime named it (livelock: every thread; none singled out).
  std::optional<ThreadId> starved;
  for (std::size_t t = 0; t < c.Lanes() && !r.starved.empty(); ++t) {
    if (LaneName(r, static_cast<ThreadId>(t)) == r.starved) starved = static_cast<ThreadId>(t);
  }
  std::map<ThreadId, std::uint64_t> ran;
  for (std::size_t i = since + 1; i < r.schedule.size(); ++i) ++ran[r.schedule[i].thread];
  std::string out = fmt::format(
      "<section class=\"starvation\"><h3>Bypass counts</h3>\n<p>Since {}{}, per thread: the "
      "steps it ran (each one a step the {} did not get), and the longest stretch it went "
      "without progress in this execution.</p>\n<table class=\"bypass\"><thead><tr><th>thread</th><th>steps "
      "run since step {}</th><th>longest stretch without progress (steps)</th></tr></thead><tbody>\n",
      c.StepLink(since),
      r.starved.empty() ? std::string(" (the last progress of any thread)")
                        : fmt::format(" (the last progress of <b>{}</b>, the starved thread)", Esc(r.starved)),
      r.starved.empty() ? "blocked threads" : "starved thread", since);
  for (std::size_t t = 0; t < c.Lanes(); ++t) {
    out += fmt::format("<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       starved == t ? " class=\"starved\"" : "", Esc(LaneName(r, static_cast<ThreadId>(t))),
                       ran[static_cast<ThreadId>(t)],
                       t < r.max_bypass.size() ? fmt::format("{}", r.max_bypass[t]) : "?");
  }
  return out + "</tbody></table></section>\n";
}

std::string SourcesSection(Ctx& c) {
  std::string out =
      "<section class=\"sources\"><h3>Source</h3>\n<p class=\"note\">Each location a step "
      "refers to, read when this page was generated.</p>\n";
  for (std::size_t k = 0; k < c.src_order.size(); ++k) {
    const std::string& where = c.src_order[k];
    const std::string& id = c.src_ids[where];
    auto loc = ParseWhere(where);
    const std::vector<std::string>* lines = loc ? c.sources.Lines(loc->file) : nullptr;
    if (!loc || lines == nullptr || loc->line < 1 || static_cast<std::size_t>(loc->line) > lines->size()) {
      out += fmt::format(
          "<figure class=\"src missing\" id=\"{}\"><figcaption>{}</figcaption><p>source not found "
          "(looked for it under: {}; set LAB_SOURCE_ROOT to the workspace)</p></figure>\n",
          id, Esc(where), Esc(c.sources.RootsText()));
      continue;
    }
    const int first = std::max(1, loc->line - c.o.context_lines);
    const int last = std::min<int>(static_cast<int>(lines->size()), loc->line + c.o.context_lines);
    out += fmt::format("<figure class=\"src\" id=\"{}\"><figcaption>{}</figcaption><pre>", id, Esc(where));
    for (int l = first; l <= last; ++l) {
      out += fmt::format("<span class=\"src-line{}\" data-line=\"{}\"><span class=\"ln\">{:>4}</span> {}</span>\n",
                         l == loc->line ? " hit" : "", l, l, Esc((*lines)[l - 1]));
    }
    out += "</pre></figure>\n";
  }
  return out + "</section>\n";
}

std::string ReplaySection(const Ctx& c) {
  const Report& r = c.r;
  std::string out = "<section class=\"replay-section\"><h3>Replay</h3>\n";
  if (!r.strategy.empty()) {
    out += fmt::format("<p>Found by {} (seed {:#x}) in execution {}; schedule shrunk from {} to {} "
                       "choices ({} replays).</p>\n",
                       Esc(r.strategy), r.seed, r.execution, r.original_choices, r.shrunk_choices,
                       r.shrink_attempts);
  }
  if (!r.determinism.empty()) out += fmt::format("<p>Determinism: {}</p>\n", Esc(r.determinism));
  if (!r.token.empty()) out += fmt::format("<p>Replay token: <code class=\"token\">{}</code></p>\n", Esc(r.token));
  if (!r.replay_command.empty()) {
    out += fmt::format(
        "<p>Run exactly this schedule again:</p><div class=\"cmd\"><pre><code class=\"replay\" "
        "id=\"replay-{}\">{}</code></pre><button type=\"button\" class=\"copy\" "
        "data-target=\"replay-{}\">Copy</button></div>\n",
        c.index, Esc(r.replay_command), c.index);
  } else {
    out += "<p>No replay command for this finding.</p>\n";
  }
  return out + "</section>\n";
}

std::string ReportSection(const Report& r, int index, const HtmlOptions& o, SourceReader& sources,
                          bool several) {
  Ctx c{r, index, o, sources, {}, {}};
  std::map<StepIndex, std::string> badges;
  std::string out = fmt::format("<section class=\"report\" id=\"report-{}\" data-kind=\"{}\">\n", index, Esc(r.kind));
  out += fmt::format("<h2><span class=\"kind kind-{}\">{}</span>{}</h2>\n", Esc(r.kind), Esc(r.kind),
                     several ? fmt::format(" <small>finding {}</small>", index + 1) : "");
  out += fmt::format("<p class=\"summary\">{}</p>\n", Esc(r.summary));
  if (!r.details.empty()) {
    out += "<pre class=\"details\">";
    for (const auto& d : r.details) out += Esc(d) + "\n";
    out += "</pre>\n";
  }
  if (o.explain) {
    out += fmt::format("<section class=\"explain\"><h3>What this means</h3><p>{}</p>", Esc(Explain(r.kind)));
    if (!o.explanation.empty()) out += fmt::format("<p class=\"case\">{}</p>", Esc(o.explanation));
    if (!o.doc.empty()) out += fmt::format("<p class=\"doc\">More: {}</p>", Esc(o.doc));
    out += "</section>\n";
  }
  std::string special = RaceSection(c, badges) + WaitForSection(c) + StarvationSection(c);
  if (!r.flows.empty() && r.kind != "data-race") {
    special += "<section class=\"flows\"><h3>Arrows</h3><ul>";
    for (auto [a, b] : r.flows) special += fmt::format("<li>{} &rarr; {}</li>", c.StepLink(a), c.StepLink(b));
    special += "</ul></section>\n";
  }
  std::string timeline = Timeline(c, badges);
  // Sources last: every location the sections above link to is known now.
  out += special;
  out += "<div class=\"main\">" + timeline + SourcesSection(c) + "</div>\n";
  out += ReplaySection(c);
  return out + "</section>\n";
}

constexpr std::string_view kStyle = R"CSS(
:root{--fg:#1d2330;--muted:#5b6475;--bg:#fff;--line:#d9dde5;--key:#fff4c2;--race:#c62828;--cur:#1565c0;--lane:#f6f8fb}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:16px 24px 48px;max-width:1500px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.3em;margin:.8em 0 .3em}h3{font-size:1.05em;margin:1em 0 .4em}
a{color:#0b57d0}
.up{font-size:.9em}
.subtitle{color:var(--muted);margin:.2em 0 .8em}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--lane)}
.facts th{font-weight:600}
.kind{display:inline-block;padding:1px 10px;border-radius:12px;background:#fde0dc;color:#8e1c12;font-weight:700}
.summary{font-size:1.05em;font-weight:600}
pre{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,monospace;overflow-x:auto}
.details{background:var(--lane);padding:8px;border-radius:6px;white-space:pre-wrap}
.explain{background:#eef5ff;border-left:4px solid var(--cur);padding:4px 12px;border-radius:4px}
.why{background:#fff7f5;border-left:4px solid var(--race);padding:6px 12px}
.main{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:20px;align-items:start}
@media (max-width:900px){.main{grid-template-columns:1fr}}
.lanes,.step{display:grid;grid-template-columns:3.2em repeat(var(--lanes),minmax(0,1fr));column-gap:6px}
.lanes{position:sticky;top:0;background:var(--bg);border-bottom:2px solid var(--line);font-weight:700;z-index:1}
.lanes .lane{padding:2px 4px;border-left:1px solid var(--line)}
.procs .proc{text-align:center;background:var(--lane);border:1px solid var(--line);font-weight:600}
.step{border-bottom:1px solid #eef0f4;font-size:.92em;min-height:1.6em;grid-auto-flow:dense}
.step .num{grid-column:1;text-align:right;color:var(--muted);text-decoration:none;font-variant-numeric:tabular-nums;padding-right:4px}
.step .cell{padding:1px 4px;border-left:3px solid #c5cbd6;background:var(--lane);overflow-wrap:anywhere}
.step .who{font-weight:600}
.step .where{font-size:.85em;color:var(--muted)}
.step .choice{font-size:.75em;color:var(--muted)}
.step.key .cell{background:var(--key);border-left-color:#e0a800;font-weight:600}
.step.key .num{color:var(--fg);font-weight:700}
.step.race-access .cell{border-left-color:var(--race);background:#ffe3e0}
.step.current{outline:2px solid var(--cur);outline-offset:-1px}
.step.current .cell{background:#dbe9ff}
.step:target{outline:2px dashed var(--cur)}
.badge{display:inline-block;font-size:.75em;padding:0 6px;border-radius:8px;background:var(--race);color:#fff;text-decoration:none}
details.fold{border-left:3px dotted #c5cbd6;margin:2px 0 2px 3.2em}
details.fold>summary{cursor:pointer;color:var(--muted);font-size:.88em;padding:2px 6px}
details.fold[open]{margin-left:0;border-left:none}
.sources{position:sticky;top:0;max-height:100vh;overflow:auto}
figure.src{margin:0 0 10px;border:1px solid var(--line);border-radius:6px}
figure.src figcaption{font:600 12px ui-monospace,monospace;background:var(--lane);padding:3px 8px;border-bottom:1px solid var(--line)}
figure.src pre{margin:0;padding:4px 0}
.src-line{display:block;padding:0 8px;white-space:pre}
.src-line .ln{color:var(--muted);user-select:none}
.src-line.hit{background:var(--key)}
figure.src:target,figure.src.current{border-color:var(--cur);box-shadow:0 0 0 2px #9cc0ff}
.src-line.current{background:#dbe9ff;outline:1px solid var(--cur)}
figure.missing p{margin:4px 8px;color:var(--muted);font-size:.85em}
.svgbox{overflow-x:auto}
svg.waitfor{max-width:100%;height:auto;font:13px system-ui,sans-serif}
svg.waitfor .node rect{fill:#e3edff;stroke:#1565c0;stroke-width:2}
svg.waitfor .node ellipse{fill:#fff4c2;stroke:#b58900;stroke-width:2}
svg.waitfor .node text{text-anchor:middle;font-weight:700}
svg.waitfor .edge path{fill:none;stroke:#5b6475;stroke-width:2}
svg.waitfor .edge.cycle path{stroke:var(--race);stroke-width:2.5}
svg.waitfor .edge.lost path{stroke-dasharray:6 4;stroke:#8e44ad}
svg.waitfor .edge text{text-anchor:middle;font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:4px}
tr.cycle td{background:#fff7f5}tr.starved td{background:#ffe3e0;font-weight:600}
.cmd{display:flex;gap:8px;align-items:flex-start}
.cmd pre{flex:1;background:#1d2330;color:#e8ecf3;padding:8px 10px;border-radius:6px;margin:0;white-space:pre-wrap;word-break:break-all}
button.copy{display:none;padding:6px 12px;border-radius:6px;border:1px solid var(--line);background:#fff;cursor:pointer}
.js button.copy{display:inline-block}
.note{color:var(--muted);font-size:.9em}
.keys{display:none}.js .keys{display:block}
kbd{border:1px solid var(--line);border-bottom-width:2px;border-radius:4px;padding:0 4px;font-size:.85em}
#stepinfo{position:fixed;right:12px;bottom:12px;background:var(--cur);color:#fff;padding:4px 10px;border-radius:6px;display:none}
.js #stepinfo.on{display:block}
.index td.bad{color:var(--race);font-weight:700}
)CSS";

constexpr std::string_view kScript = R"JS(
(function () {
  var root = document.documentElement;
  root.classList.add('js');
  var steps = Array.prototype.slice.call(document.querySelectorAll('.step'));
  var cur = -1;
  var info = document.getElementById('stepinfo');
  function clear() {
    Array.prototype.forEach.call(document.querySelectorAll('.current'), function (e) {
      e.classList.remove('current');
    });
  }
  function show(i) {
    if (!steps.length) return;
    i = Math.max(0, Math.min(steps.length - 1, i));
    clear();
    cur = i;
    var s = steps[i];
    s.classList.add('current');
    for (var d = s.parentElement; d; d = d.parentElement) if (d.tagName === 'DETAILS') d.open = true;
    var src = s.getAttribute('data-src') && document.getElementById(s.getAttribute('data-src'));
    if (src) {
      src.classList.add('current');
      var hit = src.querySelector('.src-line.hit');
      if (hit) hit.classList.add('current');
      if (src.scrollIntoView) src.scrollIntoView({block: 'nearest'});
    }
    if (s.scrollIntoView) s.scrollIntoView({block: 'nearest'});
    if (info) {
      info.textContent = 'step ' + s.getAttribute('data-step') + ' (' + (i + 1) + ' of ' + steps.length + ')';
      info.classList.add('on');
    }
  }
  function nextKey(dir) {
    for (var i = cur + dir; i >= 0 && i < steps.length; i += dir) {
      if (steps[i].classList.contains('key')) return show(i);
    }
  }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target && e.target.tagName;
    if (t === 'INPUT' || t === 'TEXTAREA') return;
    var k = e.key;
    if (k === 'j' || k === 'ArrowDown' || k === 'ArrowRight') show(cur < 0 ? 0 : cur + 1);
    else if (k === 'k' || k === 'ArrowUp' || k === 'ArrowLeft') show(cur < 0 ? 0 : cur - 1);
    else if (k === 'n') nextKey(1);
    else if (k === 'p') nextKey(-1);
    else if (k === 'Escape') { clear(); cur = -1; if (info) info.classList.remove('on'); return; }
    else return;
    e.preventDefault();
  });
  steps.forEach(function (s, i) {
    s.addEventListener('click', function (e) {
      if (e.target.tagName !== 'A') show(i);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
    b.addEventListener('click', function () {
      var el = document.getElementById(b.getAttribute('data-target'));
      if (!el) return;
      var text = el.textContent;
      function done() { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); }
      function fallback() {
        var r = document.createRange(); r.selectNodeContents(el);
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        try { document.execCommand('copy'); done(); } catch (err) {}
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else fallback();
    });
  });
})();
)JS";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string_view HtmlStyle() { return kStyle; }

std::string RenderHtml(const Report& report, const HtmlOptions& options) {
  return RenderHtml(std::span<const Report>(&report, 1), options);
}

std::string RenderHtml(std::span<const Report> reports, const HtmlOptions& o) {
  std::string title = o.title;
  if (title.empty()) {
    title = reports.empty() ? "ipclab: no finding" : "ipclab: " + reports.front().kind;
  }
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"generator\" content=\"ipclab\"><title>{}</title><style>{}</style></head>\n<body>\n",
      Esc(title), kStyle);
  out += "<header>";
  if (!o.back_link.empty()) {
    out += fmt::format("<a class=\"up\" href=\"{}\">&larr; {}</a>", Esc(o.back_link), Esc(o.back_label));
  }
  out += fmt::format("<h1>{}</h1>\n", Esc(title));
  if (!o.subtitle.empty()) out += fmt::format("<p class=\"subtitle\">{}</p>\n", Esc(o.subtitle));
  if (!o.facts.empty()) {
    out += "<table class=\"facts\"><tbody>";
    for (const auto& [k, v] : o.facts) out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", Esc(k), Esc(v));
    out += "</tbody></table>\n";
  }
  out += "<p class=\"keys note\">Keys: <kbd>j</kbd>/<kbd>&darr;</kbd> next step, <kbd>k</kbd>/"
         "<kbd>&uarr;</kbd> previous, <kbd>n</kbd>/<kbd>p</kbd> next/previous key step, "
         "<kbd>Esc</kbd> clear; or click a step.</p>\n</header>\n";
  if (reports.empty()) {
    out += "<section class=\"report clean\"><h2>No finding</h2><p>No explored schedule showed a bug.";
    if (o.explain && !o.explanation.empty()) out += " " + Esc(o.explanation);
    out += "</p>";
    if (!o.doc.empty()) out += fmt::format("<p class=\"doc\">More: {}</p>", Esc(o.doc));
    out += "</section>\n";
  }
  SourceReader sources(o);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    out += ReportSection(reports[i], static_cast<int>(i), o, sources, reports.size() > 1);
  }
  out += "<div id=\"stepinfo\" aria-live=\"polite\"></div>\n<footer class=\"note\">Generated by "
         "ipclab from the same report as its text and JSON output; self-contained (no network).</footer>\n";
  out += fmt::format("<script>{}</script>\n</body></html>\n", kScript);
  return out;
}

std::expected<void, std::string> WriteHtmlFile(const std::string& path, const std::string& html) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return std::unexpected(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  f.write(html.data(), static_cast<std::streamsize>(html.size()));
  f.close();
  if (!f) return std::unexpected(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  return {};
}

}  // namespace lab
