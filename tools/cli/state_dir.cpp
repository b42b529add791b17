#include "tools/cli/state_dir.hpp"

#include <set>
#include <string>

#include "config/config_file.hpp"
#include "config/text_file.hpp"

namespace certfleet::cli {

namespace {

// `text` with the lines that have errors blanked, so the line numbers stay the same.
std::string without_error_lines(std::string_view text,
                                const std::vector<config::diagnostic>& errors) {
  std::set<int> bad;
  for (const auto& e : errors) bad.insert(e.line);
  std::string kept;
  int line_no = 0;
  for (const std::string_view line : config::split_lines(text)) {
    if (!bad.count(++line_no)) kept += line;
    kept += '\n';
  }
  return kept;
}

}  // namespace

std::filesystem::path state_dir_of(const std::filesystem::path& config_dir,
                                   const std::filesystem::path& state_dir_option) {
  if (!state_dir_option.empty()) return state_dir_option;
  const auto conf = config_dir / "certfleet.conf";
  auto loaded = config::load_config_file(conf);
  if (loaded.ok()) return loaded.value->state_dir;
  // A broken file must not send `reload` to the wrong daemon: parse it again without its
  // broken lines (an error of the whole file, line 0, leaves nothing to go on).
  auto text = config::read_text_file(conf, config::max_config_file_size);
  if (text && text->has_value()) {
    auto rest =
        config::parse_config_text(without_error_lines(**text, loaded.errors), conf.string());
    if (rest.ok()) return rest.value->state_dir;
  }
  return config::settings{}.state_dir;
}

}  // namespace certfleet::cli
