// `swebox templates`: template sets.
//   import-cwm CHECKOUT --out DIR   writes CWM's own wording, read from a user's copy of the public
//                                   CWM repository, as a template set for `swebox run --templates DIR`
//                                   (tools/cwm_wording.h). Nothing of CWM's text ships with swebox.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "runner/command_line.h"
#include "tools/cwm_wording.h"
#include "tools/template.h"

using swebox::runner::print_error;

namespace fs = std::filesystem;

namespace {

int import_cwm(const std::string& checkout, const std::string& out, bool force) {
  if (!fs::is_directory(checkout)) {
    print_error("swebox templates: %s is not a directory (give a checkout of facebookresearch/cwm)\n", checkout.c_str());
    return 1;
  }
  auto texts = swebox::tools::import_cwm_wording(checkout);
  std::error_code ec;
  if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out, ec)) && !force) {
    print_error("swebox templates: %s exists and is not empty; nothing written (--force replaces its files)\n",
                 out.c_str());
    return 1;
  }
  for (const auto& [key, text] : texts) {
    fs::path file = fs::path(out) / (key + ".txt");
    fs::create_directories(file.parent_path());
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    // The loader drops a file's final newline: one is added so that a text ending in one survives.
    f << text << '\n';
    if (!f) throw std::runtime_error("cannot write " + file.string());
  }
  // A check that the set loads and renders as `swebox run --templates` will use it.
  swebox::tools::Templates loaded = swebox::tools::load_templates(out);
  for (const auto& [key, text] : texts)
    if (loaded.text(key) != text) throw std::runtime_error("the written template " + key + " does not read back as written");
  std::printf("%zu templates with CWM's wording from %s written to %s (use: swebox run --templates %s)\n", texts.size(),
              checkout.c_str(), out.c_str(), out.c_str());
  return 0;
}

}  // namespace

int cmd_templates(int argc, char** argv) {
  using namespace swebox::runner;
  std::string checkout, out;
  bool force = false;
  CLI::App app{"", "swebox templates"};
  describe_command(app, "Template sets: import CWM's own prompt and notice wording from a copy of its repository.",
                   {"swebox templates import-cwm ~/src/cwm --out ~/cwm-templates",
                    "swebox run --templates ~/cwm-templates --profile cwm --suite suite.jsonl --policy oracle --repos /work/repos --out runs/x"});
  app.require_subcommand(1);
  CLI::App* import = app.add_subcommand(
      "import-cwm", "reads the prompts and notices from a checkout of facebookresearch/cwm and writes them as a template set");
  import->add_option("CWM_CHECKOUT", checkout, "a checkout of https://github.com/facebookresearch/cwm")->required();
  import->add_option("--out", out, "the template set's directory")->type_name("DIR")->required();
  import->add_flag("--force", force, "write into a directory that is not empty");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  return import_cwm(checkout, out, force);
}
