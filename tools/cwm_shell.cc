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
  char timeout_us[64];
  std::snprintf(timeout_us, sizeof timeout_us, "%lld", static_cast<long long>(c.timeout_s * 1e6));
  std::string preamble(static_cast<size_t>(std::max(0, c.preamble_lines)), '\n');
  preamble += std::string(kExitCodeLine) + std::string(kSentinelCommand);
  const std::string limit = std::to_string(c.output_limit), sentinel_len = std::to_string(kSentinel.size());
  std::string s;
  s += "__cwm_d=" + std::string(kCwmShellDir) + "\n";
  // Numbers read back from files the agent can also write are checked before any arithmetic.
  s += "__cwm_num() { local v; v=$(cat \"$__cwm_d/$1\" 2>/dev/null); case $v in ''|*[!0-9]*) echo \"$2\" ;; *) echo \"$v\" ;; esac; }\n";
  s += "__cwm_alive() { local st; [ -n \"$1\" ] && read -r _ _ st _ < \"/proc/$1/stat\" 2>/dev/null && [ \"$st\" != Z ]; }\n";
  s += "__cwm_pid() { __cwm_num pid ''; }\n";
  s += "__cwm_stop() { local p; p=$(__cwm_pid); [ -n \"$p\" ] && kill -TERM \"$p\" 2>/dev/null; rm -f \"$__cwm_d/pid\"; "
       "exec 9>&-; }\n";
  // __cwm_read: sets __cwm_st (ok, timeout, too_long, exit) and prints the output on success. The
  // output file is searched again only when it grew; the pause between looks grows to 0.1 s (CWM's
  // own reader pauses 0.2 s on an empty read).
  s += "__cwm_read() {\n"
       "  local off size last=-1 pos end deadline nap=0.002 pid\n"
       "  off=$(__cwm_num off 0); pid=$(__cwm_pid); deadline=$(( ${EPOCHREALTIME/./} + " + std::string(timeout_us) + " ))\n"
       "  while :; do\n"
       "    size=$(stat -c %s \"$__cwm_d/out\" 2>/dev/null || echo 0)\n"
       "    if [ \"$size\" != \"$last\" ]; then\n"
       "      last=$size; nap=0.002\n"
       "      pos=$(tail -c +$((off + 1)) \"$__cwm_d/out\" | grep -a -b -o -F -- '" + std::string(kSentinel) +
       "' | tail -n 1 | cut -d: -f1)\n"
       "      if [ -n \"$pos\" ]; then\n"
       "        if [ \"$pos\" -gt " + limit + " ]; then __cwm_st=too_long; return; fi\n"
       "        tail -c +$((off + 1)) \"$__cwm_d/out\" | head -c \"$pos\"\n"
       "        end=$(stat -c %s \"$__cwm_d/out\"); [ \"$end\" -lt $((off + pos + " + sentinel_len + ")) ] && end=$((off + pos + " +
       sentinel_len + "))\n"
       "        echo \"$end\" > \"$__cwm_d/off\"; __cwm_st=ok; return\n"
       "      fi\n"
       "      if [ $((size - off)) -gt " + limit + " ]; then __cwm_st=too_long; return; fi\n"
       "    fi\n"
       "    if ! __cwm_alive \"$pid\"; then __cwm_st=exit; return; fi\n"
       "    if [ \"${EPOCHREALTIME/./}\" -gt \"$deadline\" ]; then __cwm_st=timeout; return; fi\n"
       "    sleep $nap\n"
       "    case $nap in 0.002) nap=0.01 ;; 0.01) nap=0.03 ;; *) nap=0.1 ;; esac\n"
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
  if (r.out_truncated || r.err_truncated) {  // more than the sandbox captures: more than CWM's limit too
    out.error_kind = "too_long";
    out.detail = "the shell driver's output was cut at the sandbox's capture limit";
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
