#include "problems/catalogue.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace problems {
namespace {

constexpr std::array<std::string_view, 14> kVerdicts = {
    "clean",           "deadlock",          "lock-order-inversion", "data-race",
    "lost-wakeup",     "starvation",        "livelock",             "assertion-failure",
    "crash",           "hang",              "ipc-leak",             "nonlinearizable",
    "invariant-violation", "sanitizer-report"};

bool IsSnakeWord(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "problems::Catalogue: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string_view Case::problem() const {
  std::string_view n = name;
  return n.substr(0, n.find('/'));
}

std::string_view Case::variant() const {
  std::string_view n = name;
  auto slash = n.find('/');
  return slash == std::string_view::npos ? std::string_view{} : n.substr(slash + 1);
}

bool Case::Accepts(std::string_view verdict) const {
  return verdict == expected ||
         std::find(also_accepted.begin(), also_accepted.end(), verdict) != also_accepted.end();
}

bool IsKnownVerdict(std::string_view verdict) {
  return std::find(kVerdicts.begin(), kVerdicts.end(), verdict) != kVerdicts.end();
}

void Catalogue::Add(Case c) {
  auto slash = c.name.find('/');
  if (slash == std::string::npos || !IsSnakeWord(std::string_view(c.name).substr(0, slash)) ||
      !IsSnakeWord(std::string_view(c.name).substr(slash + 1))) {
    Die("case name '" + c.name + "' is not problem/variant in lower_snake_case");
  }
  if (Find(c.name) != nullptr) Die("duplicate case '" + c.name + "'");
  if (!IsKnownVerdict(c.expected)) Die(c.name + ": unknown expected verdict '" + c.expected + "'");
  for (const std::string& v : c.also_accepted) {
    if (!IsKnownVerdict(v) || v == kClean || c.expected == kClean) {
      Die(c.name + ": bad alternative verdict '" + v + "'");
    }
  }
  if (!c.body) Die(c.name + ": no body");
  if (c.description.empty() || c.explanation.empty() || c.doc.empty()) {
    Die(c.name + ": description, explanation and doc are required");
  }
  const auto& s = c.exploration.strategy;
  if (s != "pct" && s != "random" && s != "dfs") Die(c.name + ": unknown strategy '" + s + "'");
  cases_.push_back(std::move(c));
}

const Case* Catalogue::Find(std::string_view name) const {
  for (const Case& c : cases_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<const Case*> Catalogue::Matching(std::string_view prefix) const {
  std::vector<const Case*> out;
  for (const Case& c : cases_) {
    std::string_view n = c.name;
    if (n.starts_with(prefix) &&
        (n.size() == prefix.size() || prefix.ends_with('/') || n[prefix.size()] == '/')) {
      out.push_back(&c);
    }
  }
  return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> Catalogue::Nearest(std::string_view name, std::size_t n) const {
  struct Scored {
    std::size_t score;
    const Case* c;
  };
  std::vector<Scored> scored;
  for (const Case& c : cases_) {
    // A bare variant ("naive") or problem ("dining") should find its cases: compare with the
    // whole name and with each half, keep the best.
    std::size_t d = EditDistance(name, c.name);
    d = std::min(d, EditDistance(name, c.variant()) + 1);
    d = std::min(d, EditDistance(name, c.problem()) + 2);
    if (std::string_view(c.name).find(name) != std::string_view::npos && !name.empty()) d = 0;
    scored.push_back({d, &c});
  }
  // Ties keep catalogue order (std::stable_sort trips libstdc++ 12's deprecation warnings).
  std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
    return x.score != y.score ? x.score < y.score : x.c < y.c;
  });
  std::vector<std::string> out;
  for (const Scored& s : scored) {
    if (out.size() == n) break;
    // Don't suggest what is clearly unrelated.
    if (s.score > std::max<std::size_t>(4, name.size() / 2)) break;
    out.push_back(s.c->name);
  }
  return out;
}

}  // namespace problems
