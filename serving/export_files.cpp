#include "serving/export_files.hpp"

#include "core/run_hook.hpp"
#include "serving/private_dir.hpp"

namespace certfleet::serving {

result<void> export_domain(const std::filesystem::path& dir, const std::string& domain,
                           const pem_pair& pair) {
  auto out = private_dir::open(dir, "export_dir");
  if (!out) return std::move(out).err();
  if (auto r = out->replace_file(domain + ".crt", pair.chain_pem, 0644); !r) return r;
  if (auto r = out->replace_file(domain + ".key", pair.key_pem, 0600); !r) return r;
  return out->replace_file(domain + ".pem", pair.chain_pem + pair.key_pem, 0600);
}

result<bool> export_service(const std::filesystem::path& dir, service svc, const pem_pair& pair) {
  auto out = private_dir::open(dir, "export_dir");
  if (!out) return std::move(out).err();
  auto services = out->subdir("services");
  if (!services) return std::move(services).err();
  const std::string file = std::string(to_string(svc)) + ".pem";
  const std::string content = pair.chain_pem + pair.key_pem;
  if (services->read_file(file) == content) return false;
  if (auto r = services->replace_file(file, content, 0600); !r) return std::move(r).err();
  return true;
}

result<void> run_deploy_hook(const std::string& command, const std::vector<std::string>& names,
                             std::chrono::seconds timeout) {
  auto ran =
      run_hook({.directive = "deploy_hook", .command = command, .args = names, .timeout = timeout});
  if (ran || ran.err().kind == error_kind::timeout) return ran;
  return error{ran.err().kind, ran.err().detail +
                                   "; the certificates were still issued and exported; "
                                   "check the hook"};
}

}  // namespace certfleet::serving
