#include "runner/command_line.h"

#include <cerrno>
#include <cstdarg>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sandbox/text_encoding.h"

namespace swebox::runner {

void print_error(const char* format, ...) {
  va_list ap, again;
  va_start(ap, format);
  va_copy(again, ap);
  int n = std::vsnprintf(nullptr, 0, format, ap);
  va_end(ap);
  std::string text(n > 0 ? n : 0, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size() + 1, format, again);
  va_end(again);
  std::fputs(sandbox::to_valid_utf8(text).c_str(), stderr);
}

void describe_command(CLI::App& app, const std::string& description, std::initializer_list<const char*> examples) {
  app.description(description);
  std::string footer = "Examples:";
  for (const char* e : examples) footer += std::string("\n  ") + e;
  app.footer(footer);
  app.get_formatter()->column_width(34);
  // A flag given twice: the last one counts, as before CLI11 (scripts append overrides, e.g.
  // scripts/demo.sh ... --policy openai:...). Repeatable flags (--env) take all theirs.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

namespace {

// CLI11 names an option by its long name alone ("--jobs: ..."); users may have typed the short one.
std::string with_every_name(const CLI::App& app, std::string message) {
  std::vector<const CLI::App*> apps = {&app};
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) apps.push_back(sub);
  for (const CLI::App* a : apps) {
    for (const CLI::Option* o : a->get_options()) {
      std::string name = o->get_name(), all = o->get_name(false, true);
      if (!name.empty() && name != all && message.rfind(name + ":", 0) == 0) return all + message.substr(name.size());
    }
  }
  return message;
}

bool whole_number(const std::string& s, long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

bool number(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || *end || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::Success& e) {  // --help, --version: printed on stdout
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = with_every_name(app, e.what());
    // CLI11 checks required flags before unknown ones; a typo ("--suit") should be named as such,
    // not reported as a missing --suite. (Its own message lists them in reverse.)
    std::vector<std::string> unknown = app.remaining(true);
    if ((dynamic_cast<const CLI::RequiredError*>(&e) || dynamic_cast<const CLI::ExtrasError*>(&e)) && !unknown.empty()) {
      message = unknown.size() == 1 ? "unknown argument:" : "unknown arguments:";
      for (const std::string& u : unknown) message += " " + u;
    }
    std::fprintf(stderr, "%s: %s\n(see '%s --help')\n", app.get_name().c_str(),
                 sandbox::to_valid_utf8(message).c_str(), app.get_name().c_str());
    return 2;
  }
}

CLI::Validator whole_number_at_least(long lowest) {
  return whole_number_in(lowest, LONG_MAX);
}

CLI::Validator whole_number_in(long lowest, long highest) {
  std::string range = highest == LONG_MAX ? ">= " + std::to_string(lowest)
                                          : "in [" + std::to_string(lowest) + ", " + std::to_string(highest) + "]";
  return CLI::Validator(
      [lowest, highest, range](std::string& s) -> std::string {
        long v;
        if (!whole_number(s, &v) || v < lowest || v > highest) return "must be a whole number " + range + ", not '" + s + "'";
        return "";
      },
      "");
}

namespace {

// A number for which ok(value) holds; `wanted` says which ("a number > 0").
CLI::Validator number_where(bool (*ok)(double), const char* wanted) {
  return CLI::Validator(
      [ok, wanted](std::string& s) -> std::string {
        double v;
        if (!number(s, &v) || !ok(v)) return std::string("must be ") + wanted + ", not '" + s + "'";
        return "";
      },
      "");
}

}  // namespace

CLI::Validator number_above_zero() {
  return number_where([](double v) { return v > 0; }, "a number > 0");
}

CLI::Validator number_at_least_zero() {
  return number_where([](double v) { return v >= 0; }, "a number >= 0");
}

CLI::Validator fraction() {
  return number_where([](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]");
}

CLI::Validator accepted_by(std::function<void(const std::string&)> parse) {
  return CLI::Validator(
      [parse](std::string& s) -> std::string {
        try {
          parse(s);
          return "";
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      "");
}

CLI::Validator deprecation_note(const std::string& old_name, const std::string& new_name) {
  return CLI::Validator(
      [old_name, new_name](std::string&) -> std::string {
        std::fprintf(stderr, "swebox: note: %s is deprecated; use %s\n", old_name.c_str(), new_name.c_str());
        return "";
      },
      "");
}

CLI::Option* add_deprecated_flag(CLI::App& app, const std::string& old_name, const std::string& new_name, bool* value) {
  // A flag's checks run on its "true"; the note goes out once per use.
  return app.add_flag(old_name, *value)->group("")->check(deprecation_note(old_name, new_name));
}

}  // namespace swebox::runner
