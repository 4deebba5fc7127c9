#include "tools/cwm_shell.h"

#include <algorithm>
#include <cstdio>

#include "tools/action_parser.h"

namespace swebox::tools {
namespace {

// CWM's protocol lines (session.py): after each command its exit status is saved, then a sentinel
// is echoed whose output ("<<exit>1") differs from the command text that produces it.
constexpr std::string_view kExitCodeLine = "__EXIT_CODE__=$?\n";
constexpr std::string_view kSentinelCommand = "echo \"<<exit>$((1))\"\n";
constexpr std::string_view kSentinel = "<<exit>1";

std::string single_quoted(std::string_view s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What CWM's _send writes for one command.
std::string framed(std::string_view command) {
  // Python's rstrip(): the end of python_strip's view is where the trailing whitespace starts.
  std::string_view kept = python_strip(command);
  std::string text = kept.empty() ? std::string() : std::string(command.substr(0, static_cast<size_t>(kept.data() + kept.size() - command.data())));
  return text + "\n" + std::string(kExitCodeLine) + std::string(kSentinelCommand);
}

// Shell functions shared by both commands. __cwm_start starts the inner bash when there is none
// and feeds it the preamble; __cwm_read polls the output file for the sentinel.
std::string prologue(const CwmShellConfig& c) {
  char timeout_ns[64];
  std::snprintf(timeout_ns, sizeof timeout_ns, "%lld", static_cast<long long>(c.timeout_s * 1e9));
  std::string preamble(static_cast<size_t>(std::max(0, c.preamble_lines)), '\n');
  preamble += std::string(kExitCodeLine) + std::string(kSentinelCommand);
  std::string s;
  s += "__cwm_d=" + std::string(kCwmShellDir) + "\n";
  s += "__cwm_alive() { local st; [ -n \"$1\" ] && read -r _ _ st _ < \"/proc/$1/stat\" 2>/dev/null && [ \"$st\" != Z ]; }\n";
  s += "__cwm_pid() { cat \"$__cwm_d/pid\" 2>/dev/null; }\n";
  s += "__cwm_stop() { local p; p=$(__cwm_pid); [ -n \"$p\" ] && kill -TERM \"$p\" 2>/dev/null; rm -f \"$__cwm_d/pid\"; "
       "exec 9>&-; }\n";
  // __cwm_read: sets __cwm_st (ok, timeout, too_long, exit) and prints the output on success.
  s += "__cwm_read() {\n"
       "  local off size pos end deadline\n"
       "  off=$(cat \"$__cwm_d/off\"); deadline=$(( $(date +%s%N) + " + std::string(timeout_ns) + " ))\n"
       "  while :; do\n"
       "    size=$(stat -c %s \"$__cwm_d/out\")\n"
       "    pos=$(tail -c +$((off + 1)) \"$__cwm_d/out\" | grep -a -b -o -F -- '" + std::string(kSentinel) +
       "' | tail -n 1 | cut -d: -f1)\n"
       "    if [ -n \"$pos\" ] && [ \"$pos\" -gt " + std::to_string(c.output_limit) + " ]; then __cwm_st=too_long; return; fi\n"
       "    if [ -z \"$pos\" ] && [ $((size - off)) -gt " + std::to_string(c.output_limit) + " ]; then __cwm_st=too_long; return; fi\n"
       "    if [ -n \"$pos\" ]; then\n"
       "      tail -c +$((off + 1)) \"$__cwm_d/out\" | head -c \"$pos\"\n"
       "      end=$(stat -c %s \"$__cwm_d/out\"); [ \"$end\" -lt $((off + pos + " + std::to_string(kSentinel.size()) +
       ")) ] && end=$((off + pos + " + std::to_string(kSentinel.size()) + "))\n"
       "      echo \"$end\" > \"$__cwm_d/off\"; __cwm_st=ok; return\n"
       "    fi\n"
       "    if ! __cwm_alive \"$(__cwm_pid)\"; then __cwm_st=exit; return; fi\n"
       "    if [ \"$(date +%s%N)\" -gt \"$deadline\" ]; then __cwm_st=timeout; return; fi\n"
       "    sleep 0.005\n"
       "  done\n"
       "}\n";
  s += "__cwm_start() {\n"
       "  if { true >&9; } 2>/dev/null && __cwm_alive \"$(__cwm_pid)\"; then return 0; fi\n"
       "  __cwm_stop\n"
       "  rm -rf \"$__cwm_d\" && mkdir -p \"$__cwm_d\" && mkfifo \"$__cwm_d/in\" && : > \"$__cwm_d/out\" && "
       "echo 0 > \"$__cwm_d/off\" || return 1\n"
       "  (cd " + single_quoted(c.workspace) + " 2>/dev/null; exec /bin/bash < \"$__cwm_d/in\" >> \"$__cwm_d/out\" 2>&1) &\n"
       "  echo $! > \"$__cwm_d/pid\"\n"
       "  exec 9> \"$__cwm_d/in\"\n"
       "  printf '%s' " + single_quoted(preamble) + " >&9\n"
       "  __cwm_read > /dev/null\n"
       "  [ \"$__cwm_st\" = ok ] || { __cwm_stop; return 1; }\n"
       "}\n";
  return s;
}

}  // namespace

std::string cwm_shell_run_command(std::string_view command, const CwmShellConfig& c) {
  std::string s = prologue(c);
  s += "__cwm_ec=\n"
       "if ! __cwm_start; then __cwm_st=other; else\n"
       "  printf '%s' " + single_quoted(framed(command)) + " >&9\n"
       "  __cwm_read\n"
       "  if [ \"$__cwm_st\" = ok ]; then\n"
       "    printf '%s' " + single_quoted(framed("echo $__EXIT_CODE__")) + " >&9\n"
       "    __cwm_ec=$(__cwm_read; echo \" $__cwm_st\")\n"
       "    case \"$__cwm_ec\" in *' ok') __cwm_ec=${__cwm_ec% ok} ;; *) __cwm_ec=; __cwm_stop ;; esac\n"
       "  else __cwm_stop; fi\n"
       "fi\n"
       "printf '\\0swebox-cwm-shell: %s %s\\n' \"$__cwm_st\" \"$__cwm_ec\"\n";
  return s;
}

std::string cwm_shell_pad_command(long lines, const CwmShellConfig& c) {
  std::string s = prologue(c);
  s += "if ! __cwm_start; then __cwm_st=other; else\n"
       "  readlink \"/proc/$(__cwm_pid)/cwd\"\n"
       "  printf '%s' " + single_quoted(std::string(static_cast<size_t>(std::max(0L, lines)), '\n')) + " >&9\n"
       "  __cwm_st=ok\n"
       "fi\n"
       "printf '\\0swebox-cwm-shell: %s \\n' \"$__cwm_st\"\n";
  return s;
}

long cwm_plugin_call_lines(std::string_view body) {
  // "${PYPLUGIN_PYTHON_PATH:-python3} SCRIPT <<'EOF'\n" BODY "\nEOF" + exit-code and sentinel
  // lines; then the exit-code query ("echo $__EXIT_CODE__" + its two lines).
  long body_lines = static_cast<long>(std::count(body.begin(), body.end(), '\n')) + 1;
  return 1 + body_lines + 1 + 2 + 3;
}

double cwm_shell_session_timeout(const CwmShellConfig& c) { return 3 * c.timeout_s + 10; }

CwmShellResult cwm_shell_result(const sandbox::ExecResult& r) {
  CwmShellResult out;
  // The session merges stdout and stderr: the driver's status is the last thing it prints, after a NUL.
  const std::string all = r.out + r.err;
  const std::string tag = std::string("\0", 1) + "swebox-cwm-shell: ";
  size_t at = all.rfind(tag);
  if (r.reason == sandbox::StopReason::timeout) {
    out.error_kind = "timeout";
    out.detail = "the session command itself ran past its limit";
    return out;
  }
  if (at == std::string::npos) {
    out.error_kind = "other";
    out.detail = "no status from the shell driver: " + r.detail + " " + all.substr(0, 500);
    return out;
  }
  std::string line = all.substr(at + tag.size());
  line = line.substr(0, line.find('\n'));
  std::string status = line.substr(0, line.find(' '));
  std::string code = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
  if (status != "ok") {
    out.error_kind = status.empty() ? "other" : status;
    out.detail = "inner bash: " + status;
    return out;
  }
  out.output = all.substr(0, at);
  if (!code.empty()) {
    try {
      out.exit_code = std::stoi(code);
    } catch (const std::exception&) {
    }
  }
  std::string cwd = out.output;
  while (!cwd.empty() && cwd.back() == '\n') cwd.pop_back();
  out.cwd = cwd;
  return out;
}

}  // namespace swebox::tools
