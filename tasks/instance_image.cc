#include "tasks/instance_image.h"

#include <sys/utsname.h>

#include <cctype>
#include <stdexcept>

namespace swebox::tasks {

namespace {

// SWE-bench's arch: arm64 on an ARM host, x86_64 otherwise (test_spec.py, make_test_spec).
std::string host_arch() {
  utsname u{};
  if (uname(&u) == 0) {
    std::string m = u.machine;
    if (m == "aarch64" || m == "arm64") return "arm64";
  }
  return "x86_64";
}

std::string lowercased(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string replaced_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

const char* kPlaceholders = "{instance_id}, {instance_id_lower}, {instance_id_1776}, {arch}";

// Expands `image_template`; an empty instance_id checks the template only.
std::string expand(const std::string& image_template, const std::string& instance_id) {
  std::string out;
  for (size_t i = 0; i < image_template.size(); ++i) {
    char c = image_template[i];
    if (c == '}') throw std::invalid_argument("--image-template '" + image_template + "': a '}' without its '{'");
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = image_template.find('}', i);
    if (close == std::string::npos)
      throw std::invalid_argument("--image-template '" + image_template + "': a '{' without its '}'");
    std::string name = image_template.substr(i + 1, close - i - 1);
    if (name == "instance_id")
      out += instance_id;
    else if (name == "instance_id_lower")
      out += lowercased(instance_id);
    else if (name == "instance_id_1776")
      out += replaced_all(lowercased(instance_id), "__", "_1776_");
    else if (name == "arch")
      out += host_arch();
    else
      throw std::invalid_argument("--image-template '" + image_template + "': unknown placeholder {" + name +
                                  "} (known: " + kPlaceholders + ")");
    i = close;
  }
  return out;
}

}  // namespace

std::string swebench_local_image(const std::string& instance_id) {
  return "sweb.eval." + host_arch() + "." + lowercased(instance_id) + ":latest";
}

std::string swebench_hub_image(const std::string& instance_id) {
  // SWE-bench replaces "__" in the whole key after prefixing the namespace, which has none.
  return replaced_all("swebench/" + swebench_local_image(instance_id), "__", "_1776_");
}

std::string expand_image_template(const std::string& image_template, const std::string& instance_id) {
  return expand(image_template, instance_id);
}

std::string checked_image_template(const std::string& image_template) {
  if (image_template.empty()) throw std::invalid_argument("--image-template needs a non-empty template");
  expand(image_template, "");
  return image_template;
}

std::string image_mode_problem(bool instance_images, const std::string& image_template, bool sealed) {
  if (!image_template.empty() && !instance_images)
    return "--image-template names SWE-bench instance images, which only --backend docker evaluates in";
  if (instance_images && sealed)
    return "sealed grading is not available in instance images (--backend docker): it adapts the eval script and "
           "judges the patched tree against swebox's own base tree; use --grading swebench (the default), or the "
           "native backend with --repos";
  return "";
}

std::string instance_image(const Instance& instance, const std::string& image_template) {
  if (!image_template.empty()) return expand_image_template(image_template, instance.instance_id);
  return instance.image;
}

std::string instance_image_hint(const std::string& instance_id) {
  return "nothing is pulled here: on a machine with network, `docker pull " + swebench_hub_image(instance_id) +
         "` (or build it with SWE-bench's harness, `python -m swebench.harness.prepare_images`), then `docker save` it "
         "and `docker load` it on this host; --image-template maps instance ids to the names of the images you have";
}

}  // namespace swebox::tasks
