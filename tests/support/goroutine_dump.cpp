#include "tests/support/goroutine_dump.hpp"

#include <map>
#include <vector>

namespace certfleet::testing {

namespace {

constexpr std::size_t max_frames = 6;

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// "github.com/letsencrypt/pebble/db.(*MemoryStore).GetAccountByID(0xc0, ...)"
//   -> "db.(*MemoryStore).GetAccountByID"
std::string function_name(std::string_view frame) {
  if (const auto args = frame.rfind('('); args != std::string_view::npos && frame.back() == ')')
    frame = frame.substr(0, args);
  if (const auto slash = frame.rfind('/'); slash != std::string_view::npos)
    frame.remove_prefix(slash + 1);
  return std::string(frame);
}

}  // namespace

std::string blocked_goroutines(std::string_view dump) {
  std::map<std::string, int> stacks;
  std::string stack;
  bool on_lock = false;
  std::size_t frames = 0;
  const auto flush = [&] {
    if (on_lock && !stack.empty()) ++stacks[stack];
    stack.clear();
    on_lock = false;
    frames = 0;
  };
  for (const auto line : split_lines(dump)) {
    if (line.starts_with("goroutine ")) {
      flush();
      continue;
    }
    if (line.empty() || line.starts_with('\t') || line.starts_with("created by")) continue;
    if (line.starts_with("sync.(*Mutex)") || line.starts_with("sync.(*RWMutex)")) on_lock = true;
    if (line.starts_with("runtime.") || line.starts_with("sync.") || frames == max_frames) continue;
    stack += (frames++ == 0 ? "" : " <- ") + function_name(line);
  }
  flush();
  std::string out;
  for (const auto& [s, count] : stacks) out += std::to_string(count) + " x " + s + "\n";
  return out;
}

}  // namespace certfleet::testing
