// What every `swebox` command's parser shares (CLI11): the help layout, exit statuses, and value
// checks whose messages name the flag and the value.
//   exit 0  --help (or --version)
//   exit 2  a usage error: unknown flag, missing required flag, bad value, unknown command
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace swebox::runner {

// A command's parser named "swebox NAME", with its one-line description and, under "Examples:" at
// the end of --help, a few invocations.
void describe_command(CLI::App& app, const std::string& description, std::initializer_list<const char*> examples);

// printf to stderr, with bytes that are not UTF-8 (from a path, an id, a file's content) replaced by
// U+FFFD: every message of a command goes through it.
void print_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Parses argv (argv[0] is the command's name). nullopt: go on; otherwise the exit status to
// return: 0 after --help, 2 after a usage error (printed on stderr as "swebox NAME: what").
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Value checks; CLI11 prefixes the flag's name to their messages.
CLI::Validator whole_number_at_least(long lowest);           // -j 0 -> "must be a whole number >= 1, not '0'"
CLI::Validator whole_number_in(long lowest, long highest);
CLI::Validator number_above_zero();                          // seconds, limits
CLI::Validator number_at_least_zero();
CLI::Validator fraction();                                   // in [0, 1]
// Accepted when parse(value) does not throw; its exception's message is the error.
CLI::Validator accepted_by(std::function<void(const std::string&)> parse);

// `old_name` (e.g. "--v41") as a hidden, deprecated spelling of `new_name`: it still sets *value,
// with a note on stderr saying which spelling to use. Returns the option, for the same checks.
CLI::Option* add_deprecated_flag(CLI::App& app, const std::string& old_name, const std::string& new_name, bool* value);
template <typename T>
CLI::Option* add_deprecated_option(CLI::App& app, const std::string& old_name, const std::string& new_name, T* value);

// Implementation.
CLI::Validator deprecation_note(const std::string& old_name, const std::string& new_name);

template <typename T>
CLI::Option* add_deprecated_option(CLI::App& app, const std::string& old_name, const std::string& new_name, T* value) {
  return app.add_option(old_name, *value)->group("")->check(deprecation_note(old_name, new_name));
}

}  // namespace swebox::runner
