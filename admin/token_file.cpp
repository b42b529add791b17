#include "admin/token_file.hpp"

#include <fstream>
#include <sstream>

namespace certfleet::admin {

result<std::string> read_token_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status))
    return error{error_kind::config, "admin_token_file " + path.string() +
                                         " is missing or not a file; create it " +
                                         "(mode 0600) with the token clients must send"};
  using std::filesystem::perms;
  if ((status.permissions() & (perms::group_all | perms::others_all)) != perms::none)
    return error{error_kind::config,
                 "admin_token_file " + path.string() + " may be read by other users; chmod 600 it"};
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in)
    return error{error_kind::config, "admin_token_file " + path.string() + " cannot be read"};
  std::string token = text.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return error{error_kind::config,
                 "admin_token_file " + path.string() + " is empty; put the token in it"};
  token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
  return token;
}

}  // namespace certfleet::admin
