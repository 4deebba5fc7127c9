// Patches as tasks/patch_apply applies them (a model's patch, a gold or test patch), and the apply
// script's output. Input: BASE \0 PATCH. Every file the patch names is created with BASE's content
// in a scratch directory, then the patch is applied there.
// Properties: no crash; only PatchError for text that is not a patch; every path the patch names
// stays inside the directory it is applied in (relative, no ".." component).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz/fuzz_input.h"
#include "tasks/patch_apply.h"

using namespace swebox;
namespace fs = std::filesystem;

namespace {

bool inside(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  for (const auto& part : fs::path(path))
    if (part == "..") return false;
  return true;
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    char tmpl[] = "/tmp/swebox-fuzz-patch-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (!made) std::abort();
    return fs::path(made) / "work";
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  auto p = fuzz::parts(text, 2);
  std::string base(p[0]), patch(p[1]);

  (void)tasks::parse_apply_script_output(std::string(text));

  std::vector<std::string> files;
  try {
    files = tasks::patch_files(patch);
  } catch (const tasks::PatchError&) {
    return 0;
  }
  for (const std::string& f : files) FUZZ_CHECK(inside(f));  // checked before anything is written

  std::error_code ec;
  fs::remove_all(scratch(), ec);
  fs::create_directories(scratch());
  for (const std::string& f : files) {
    fs::create_directories((scratch() / f).parent_path(), ec);
    std::ofstream(scratch() / f, std::ios::binary) << base;
  }
  try {
    tasks::ApplyResult r = tasks::apply_patch(scratch().string(), patch, 2);
    for (const std::string& f : r.files) FUZZ_CHECK(inside(f));
    FUZZ_CHECK(!(r.applied && r.already_applied));
  } catch (const tasks::PatchError&) {
    FUZZ_CHECK(false);  // patch_files accepted it
  } catch (const fs::filesystem_error&) {
    // A path that is a file in one diff and a directory in another: the filesystem says no.
  }
  return 0;
}
