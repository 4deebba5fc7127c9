#include "tasks/junit_report.h"

#include <algorithm>

namespace swebox::tasks {

namespace {

int badness(TestStatus s) {
  switch (s) {
    case TestStatus::error: return 5;
    case TestStatus::failed: return 4;
    case TestStatus::other: return 3;
    case TestStatus::skipped: return 2;
    case TestStatus::xfail: return 1;
    case TestStatus::passed: return 0;
  }
  return 3;
}

bool is_passing(TestStatus s) { return s == TestStatus::passed || s == TestStatus::xfail; }

}  // namespace

StatusMap read_junit_report(std::string_view xml) {
  StatusMap map;
  for (size_t p = xml.find("<testcase"); p != std::string_view::npos; p = xml.find("<testcase", p + 1)) {
    size_t tag_end = xml.find('>', p);
    if (tag_end == std::string_view::npos) break;
    std::string_view tag = xml.substr(p, tag_end - p);
    std::string classname = xml_attribute(tag, "classname"), name = xml_attribute(tag, "name");
    if (name.empty()) continue;
    std::string key = classname.empty() ? name : classname + "." + name;
    TestStatus status = TestStatus::passed;
    if (tag.back() != '/') {
      size_t close = xml.find("</testcase>", tag_end);
      std::string_view body = xml.substr(tag_end, close == std::string_view::npos ? std::string_view::npos : close - tag_end);
      if (body.find("<failure") != std::string_view::npos) {
        status = TestStatus::failed;
      } else if (body.find("<error") != std::string_view::npos) {
        status = TestStatus::error;
      } else if (size_t s = body.find("<skipped"); s != std::string_view::npos) {
        std::string_view skip = body.substr(s, body.find('>', s) - s);
        status = xml_attribute(skip, "type") == "pytest.xfail" ? TestStatus::xfail : TestStatus::skipped;
      }
    }
    auto [it, fresh] = map.emplace(key, status);
    if (!fresh && badness(status) > badness(it->second)) it->second = status;
  }
  return map;
}

std::string junit_key(std::string_view nodeid) {
  std::string address(nodeid);
  size_t bracket = address.find('[');
  std::string path = address.substr(0, bracket), params = bracket == std::string::npos ? "" : address.substr(bracket);
  std::vector<std::string> names;
  for (size_t start = 0;;) {
    size_t sep = path.find("::", start);
    names.push_back(path.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  std::replace(names[0].begin(), names[0].end(), '/', '.');
  if (names[0].size() >= 3 && names[0].compare(names[0].size() - 3, 3, ".py") == 0) names[0].resize(names[0].size() - 3);
  names.erase(std::remove(names.begin() + 1, names.end(), "()"), names.end());  // pytest < 4 instance nodes
  names.back() += params;
  std::string key;
  for (size_t i = 0; i < names.size(); ++i) key += (i ? "." : "") + names[i];
  return key;
}

StatusMap junit_status_of(const StatusMap& report, const std::vector<std::string>& ids) {
  StatusMap out;
  for (const auto& id : ids) {
    std::string key = junit_key(id);
    if (auto it = report.find(key); it != report.end()) {
      out[id] = it->second;
      continue;
    }
    if (std::count(id.begin(), id.end(), '[') <= std::count(id.begin(), id.end(), ']')) continue;
    const TestStatus* first = nullptr;
    bool agree = true;
    for (auto k = report.lower_bound(key); k != report.end() && k->first.rfind(key, 0) == 0; ++k) {
      if (first && is_passing(*first) != is_passing(k->second)) agree = false;
      if (!first) first = &k->second;
    }
    if (first && agree) out[id] = *first;
  }
  return out;
}

bool is_pytest_parser(std::string_view p) {
  for (std::string_view name :
       {"parse_log_pytest", "parse_log_pytest_options", "parse_log_pytest_v2", "parse_log_matplotlib",
        "parse_log_seaborn", "parse_log_astroid", "parse_log_flask", "parse_log_marshmallow", "parse_log_pvlib",
        "parse_log_pyvista", "parse_log_sqlfluff", "parse_log_xarray", "parse_log_pydicom", "parse_log_requests",
        "parse_log_pylint", "parse_log_astropy", "parse_log_scikit", "parse_log_sphinx", "pytest", "pytest_options",
        "pytest_v2", "matplotlib", "seaborn"})
    if (p == name) return true;
  return false;
}

}  // namespace swebox::tasks
