// SWE-RL's similarity reward (docs/formats.md §5.1; swe-rl src/swerl/core/reward.py, and CWM's unidiff
// variant in cwm/rl/swerl/similarities.py). Pure functions: no files, no sandbox.
//
// Both forms normalise each file's change to text and score it with
// difflib.SequenceMatcher(None, pred, oracle, autojunk=False).ratio() over code points; the
// reward is the mean over the union of paths (a path on one side only scores 0).
// Python sums the per-file scores in set order, which varies with PYTHONHASHSEED; here the sum is
// taken in path order, so results can differ from a given Python run in the last bits only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swebox::tasks {

using FileContents = std::map<std::string, std::string>;  // path -> content (or -> change text)

struct FileSimilarity {
  std::string path;
  std::string pred_change;    // normalised change text, "" when the prediction does not touch the path
  std::string oracle_change;  // same for the oracle
  double similarity = 0.0;
};

struct SimilarityResult {
  double reward = -1.0;              // mean similarity in [0,1]; -1 on a format error
  std::vector<FileSimilarity> files;  // one per path of the union, sorted by path
  std::string error;                  // the format error, empty when the output was well formed
  bool format_ok() const { return error.empty(); }
};

// ---- search/replace form (SWE-RL calculate_search_replace_reward) ----

// `original`: path -> content before the change (only the files the oracle touches are needed);
// `oracle_new`: path -> oracle content after the change; `output`: the model's whole reply, which
// must hold exactly one <think>…</think> (non-empty) and one <solution>…</solution> with fenced
// "### path" SEARCH/REPLACE blocks.
SimilarityResult search_replace_reward(const FileContents& original, const FileContents& oracle_new,
                                       std::string_view output);

// The general form (SWE-RL calculate_reward): predicted new contents instead of edits.
SimilarityResult content_reward(const FileContents& original, const FileContents& oracle_new,
                                const FileContents& pred_new);

struct SearchReplaceEdit {
  std::string search, replace;
};
using SearchReplaceEdits = std::vector<std::pair<std::string, std::vector<SearchReplaceEdit>>>;  // by first appearance

// re.findall(SEARCH_REPLACE_REGEX, text) grouped by path, in order of first appearance.
SearchReplaceEdits parse_search_replace(std::string_view text);

// apply_code_change: applies every edit (all occurrences, '\n'-anchored); throws
// std::invalid_argument with SWE-RL's message when a search equals its replace or is not found.
FileContents apply_search_replace(const FileContents& original, const SearchReplaceEdits& edits);

// generate_unified_diff: splitlines() both, difflib.unified_diff(n=3, lineterm="") without its two
// header lines, joined by "\n"; "" when nothing differs.
std::string normalized_file_diff(std::string_view old_content, std::string_view new_content);

// ---- unified-diff form (CWM calculate_similarities_unidiff) ----

// get_normalized_file_patch: path -> "[rename from A to B\n]" + hunks (each "@@ -s,l +s,l @@[ section]"
// plus its raw lines, stripped) joined by "\n", stripped. Binary files are skipped. A patch that
// does not parse (as unidiff 0.7.5 would reject it) gives an empty map.
FileContents normalized_patch_files(std::string_view patch_text);

// Scores `pred_patch` against `oracle_patch`. With `ignore_non_oracle_files` (CWM shaping),
// predicted files the oracle does not touch are dropped instead of scoring 0. No file on either
// side gives reward `both_empty_reward` and no files.
SimilarityResult unidiff_reward(std::string_view oracle_patch, std::string_view pred_patch,
                                bool ignore_non_oracle_files = false, double both_empty_reward = 1.0);

// compute_change_similarities + mean over already-normalised changes (path -> change text).
SimilarityResult score_changes(const FileContents& pred_changes, const FileContents& oracle_changes,
                               double both_empty_reward = 1.0);

}  // namespace swebox::tasks
