#include "properties/scenario.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace properties {

size_t Scenario::operation_count() const {
  size_t n = 0;
  for (const auto& t : threads) n += t.size();
  return n;
}

void showValue(const Scenario& s, std::ostream& os) { os << s.ToString(); }

std::string FormatArgument(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::string out = "\"";
    for (char c : *s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  return FormatValue(v);
}

std::string Scenario::ToString() const {
  std::string out;
  for (size_t t = 0; t < threads.size(); ++t) {
    if (t) out += " | ";
    for (size_t k = 0; k < threads[t].size(); ++k) {
      const Operation& op = threads[t][k];
      if (k) out += " ";
      out += op.name + "(";
      for (size_t i = 0; i < op.args.size(); ++i) out += (i ? ", " : "") + FormatArgument(op.args[i]);
      out += ")";
    }
  }
  return out;
}

bool operator==(const Scenario& a, const Scenario& b) {
  if (a.threads.size() != b.threads.size()) return false;
  for (size_t t = 0; t < a.threads.size(); ++t) {
    if (a.threads[t].size() != b.threads[t].size()) return false;
    for (size_t k = 0; k < a.threads[t].size(); ++k) {
      if (a.threads[t][k].name != b.threads[t][k].name || a.threads[t][k].args != b.threads[t][k].args) {
        return false;
      }
    }
  }
  return true;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::expected<Scenario, std::string> Run() {
    Scenario s;
    s.threads.emplace_back();
    for (;;) {
      SkipSpace();
      if (AtEnd()) break;
      if (Peek() == '|') {
        ++pos_;
        s.threads.emplace_back();
        continue;
      }
      Operation op;
      if (!Name(&op.name)) return Error("an operation name");
      SkipSpace();
      if (!Eat('(')) return Error("'(' after " + op.name);
      SkipSpace();
      if (!Eat(')')) {
        for (;;) {
          Value v;
          if (auto e = Argument(&v); !e.empty()) return Error(e);
          op.args.push_back(std::move(v));
          SkipSpace();
          if (Eat(')')) break;
          if (!Eat(',')) return Error("',' or ')'");
          SkipSpace();
        }
      }
      s.threads.back().push_back(std::move(op));
    }
    if (s.operation_count() == 0) return Error("at least one operation");
    return s;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(Peek()))) ++pos_;
  }
  bool Eat(char c) {
    if (AtEnd() || Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool Name(std::string* out) {
    size_t start = pos_;
    while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(Peek())) || Peek() == '_')) ++pos_;
    *out = std::string(text_.substr(start, pos_ - start));
    return !out->empty() && !std::isdigit(static_cast<unsigned char>((*out)[0]));
  }
  std::string Argument(Value* v) {
    if (Eat('"')) {
      std::string s;
      for (;;) {
        if (AtEnd()) return "a closing '\"'";
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (AtEnd()) return "a character after '\\'";
          c = text_[pos_++];
        }
        s += c;
      }
      *v = std::move(s);
      return "";
    }
    size_t start = pos_;
    if (!AtEnd() && Peek() == '-') ++pos_;
    while (!AtEnd() && std::isalnum(static_cast<unsigned char>(Peek()))) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false") {
      *v = word == "true";
    } else if (word == "empty") {
      *v = Empty{};
    } else {
      std::int64_t i = 0;
      auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), i);
      if (word.empty() || ec != std::errc() || end != word.data() + word.size()) {
        pos_ = start;
        return "an argument (integer, true, false, empty or \"string\")";
      }
      *v = i;
    }
    return "";
  }
  std::unexpected<std::string> Error(const std::string& expected) const {
    return std::unexpected(fmt::format(
        "bad scenario at column {}: expected {}; a scenario looks like 'push(1) pop() | size()' "
        "(threads separated by '|')",
        pos_ + 1, expected));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::expected<Scenario, std::string> Scenario::Parse(std::string_view text) { return Parser(text).Run(); }

}  // namespace properties
