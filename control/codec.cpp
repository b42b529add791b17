#include "control/codec.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>

namespace certfleet::control {

namespace {

using json = nlohmann::json;

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
// Clang before 17 does not deduce an aggregate's template arguments (P1816) without a guide.
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// Strings come from the command line and from configuration files, so they may hold bytes
// that are not UTF-8: replace those instead of letting dump() throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Every outcome, for decoding by name (codec_test round-trips each one).
constexpr std::array all_outcomes = {
    retry_outcome::retrying,
    retry_outcome::not_in_renewal_window,
    retry_outcome::already_in_progress,
    retry_outcome::unknown_domain,
    retry_outcome::invalid_domain,
    retry_outcome::no_answer,
    retry_outcome::not_saved,
    retry_outcome::not_enabled,
};

std::optional<retry_outcome> outcome_named(std::string_view name) {
  for (retry_outcome o : all_outcomes)
    if (to_string(o) == name) return o;
  return std::nullopt;
}

// A value named in a message, quoted and cut short, so an error stays one readable line.
std::string shown(const json& value) {
  std::string text = dump(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Reads fields of one JSON object; the first problem found is kept as `problem`.
class reader {
 public:
  explicit reader(const json& object) : object_(object) {}

  const std::string& problem() const { return problem_; }

  std::string string(const char* key, bool required = true) {
    const auto it = object_.find(key);
    if (it == object_.end()) {
      if (required) fail(std::string("\"") + key + "\" is missing");
      return {};
    }
    if (!it->is_string()) {
      fail(std::string("\"") + key + "\" is not a string");
      return {};
    }
    return it->get<std::string>();
  }

  std::size_t count(const char* key) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_number_unsigned()) {
      fail(std::string("\"") + key + "\" is not a number of at least 0");
      return 0;
    }
    return it->get<std::size_t>();
  }

  const json* array(const char* key) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_array()) {
      fail(std::string("\"") + key + "\" is not a list");
      return nullptr;
    }
    if (it->size() > max_domains) {
      fail(std::string("\"") + key + "\" has " + std::to_string(it->size()) + " entries; at most " +
           std::to_string(max_domains) + " are allowed");
      return nullptr;
    }
    return &*it;
  }

  bool has(const char* key) const { return object_.contains(key); }

  std::vector<std::string> domains(const char* key) {
    std::vector<std::string> out;
    const json* list = array(key);
    if (!list) return out;
    out.reserve(list->size());
    for (const json& d : *list) {
      if (!d.is_string() || d.get_ref<const std::string&>().size() > max_domain_length) {
        fail(std::string("\"") + key + "\" holds " + shown(d) + ", which is not a domain name");
        return {};
      }
      out.push_back(d.get<std::string>());
    }
    return out;
  }

  void fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
  }

 private:
  const json& object_;
  std::string problem_;
};

// Parses one message; `kind` names it in errors ("control request").
result<json> parse_object(std::string_view text, const char* kind, error_kind on_error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return error{on_error, std::string("the ") + kind + " is not JSON"};
  if (!j.is_object()) return error{on_error, std::string("the ") + kind + " is not a JSON object"};
  return j;
}

result<request> read_request(const json& j) {
  reader in(j);
  const std::string command = in.string("command");
  if (!in.problem().empty()) return error{error_kind::invalid_input, in.problem()};
  if (command == "ping") return request{ping_request{}};
  if (command == "reload") return request{reload_request{}};
  if (command == "save_problems") return request{save_problems_request{}};
  if (command == "queue") return request{queue_request{}};
  if (command == "account_rollover") return request{account_rollover_request{}};
  if (command == "revoke") {
    revoke_request r{in.string("domain"), in.string("reason")};
    if (!in.problem().empty()) return error{error_kind::invalid_input, in.problem()};
    if (r.domain.size() > max_domain_length)
      return error{error_kind::invalid_input, "\"domain\" is not a domain name"};
    return request{std::move(r)};
  }
  if (command == "retry") {
    retry_request r{in.domains("domains")};
    const std::string scope = in.string("scope", false);
    if (scope == "all")
      r.scope = retry_scope::all;
    else if (scope == "failing")
      r.scope = retry_scope::failing;
    else if (!scope.empty())
      in.fail("\"scope\" is " + shown(json(scope)) + "; use \"all\" or \"failing\"");
    if (!in.problem().empty()) return error{error_kind::invalid_input, in.problem()};
    return request{std::move(r)};
  }
  return error{error_kind::invalid_input,
               "unknown command " + shown(json(command)) +
                   "; certfleet and certfleetd may be different versions: install them together "
                   "and restart certfleetd"};
}

std::optional<response> read_retry_results(reader& in) {
  const json* list = in.array("results");
  if (!list) return std::nullopt;
  retry_response r;
  r.results.reserve(list->size());
  for (const json& item : *list) {
    if (!item.is_object()) {
      in.fail("a retry result is not a JSON object");
      return std::nullopt;
    }
    reader field(item);
    retry_result one{field.string("domain"), retry_outcome::no_answer,
                     field.string("detail", false)};
    const std::string outcome = field.string("outcome");
    const auto known = outcome_named(outcome);
    if (field.problem().empty() && !known)
      field.fail("unknown retry outcome " + shown(json(outcome)));
    if (!field.problem().empty()) {
      in.fail("a retry result: " + field.problem());
      return std::nullopt;
    }
    one.outcome = *known;
    r.results.push_back(std::move(one));
  }
  return response{std::move(r)};
}

std::optional<response> read_save_problems(reader& in) {
  const json* list = in.array("problems");
  if (!list) return std::nullopt;
  save_problems_response r;
  r.problems.reserve(list->size());
  for (const json& item : *list) {
    if (!item.is_object()) {
      in.fail("a save problem is not a JSON object");
      return std::nullopt;
    }
    reader field(item);
    save_problem one{field.string("domain"), field.string("message")};
    if (!field.problem().empty()) {
      in.fail("a save problem: " + field.problem());
      return std::nullopt;
    }
    r.problems.push_back(std::move(one));
  }
  return response{std::move(r)};
}

result<response> read_response(const json& j) {
  reader in(j);
  const std::string type = in.string("type");
  if (!in.problem().empty()) return error{error_kind::bad_response, in.problem()};
  std::optional<response> out;
  if (type == "ping") {
    out = ping_response{in.count("domains")};
  } else if (type == "reload") {
    reload_response r;
    r.added = in.domains("added");
    r.removed = in.domains("removed");
    if (in.has("restart_needed")) r.restart_needed = in.domains("restart_needed");
    out = std::move(r);
  } else if (type == "reload_rejected") {
    out = reload_rejected{in.string("error")};
  } else if (type == "retry") {
    out = read_retry_results(in);
  } else if (type == "save_problems") {
    out = read_save_problems(in);
  } else if (type == "queue") {
    queue_response q;
    q.waiting_new = in.count("waiting_new");
    q.waiting_renewals = in.count("waiting_renewals");
    q.waiting_held = in.count("waiting_held");
    q.in_flight = in.count("in_flight");
    q.max_in_flight = in.count("max_in_flight");
    q.budget_orders = in.count("budget_orders");
    q.budget_seconds = in.count("budget_seconds");
    q.budget_available = in.count("budget_available");
    q.paused_seconds = in.count("paused_seconds");
    q.backlog_seconds = in.count("backlog_seconds");
    out = q;
  } else if (type == "done") {
    out = done_response{in.string("message")};
  } else if (type == "error") {
    out = error_response{in.string("error")};
  } else {
    in.fail("unknown answer type " + shown(json(type)));
  }
  if (!in.problem().empty() || !out) return error{error_kind::bad_response, in.problem()};
  return std::move(*out);
}

// Every decode failure, whatever its cause, becomes an error: a control message must never
// take down the daemon or the CLI.
template <class T, class Read>
result<T> decode(std::string_view text, const char* kind, error_kind on_error,
                 const std::string& advice, Read read) {
  result<T> out = error{on_error, ""};
  try {
    auto j = parse_object(text, kind, on_error);
    if (!j)
      out = std::move(j).err();
    else
      out = read(*j);
  } catch (const std::exception& e) {
    out = error{on_error, std::string("the ") + kind + " could not be read (" + e.what() + ")"};
  }
  if (out) return out;
  error e = std::move(out).err();
  e.detail = std::string("malformed ") + kind + ": " + e.detail + advice;
  return e;
}

}  // namespace

std::string encode(const request& r) {
  return dump(std::visit(
      overloaded{
          [](const ping_request&) {
            return json{{"command", "ping"}};
          },
          [](const reload_request&) {
            return json{{"command", "reload"}};
          },
          [](const retry_request& q) {
            json j{{"command", "retry"}, {"domains", q.domains}};
            if (q.scope == retry_scope::all) j["scope"] = "all";
            if (q.scope == retry_scope::failing) j["scope"] = "failing";
            return j;
          },
          [](const save_problems_request&) {
            return json{{"command", "save_problems"}};
          },
          [](const queue_request&) {
            return json{{"command", "queue"}};
          },
          [](const account_rollover_request&) {
            return json{{"command", "account_rollover"}};
          },
          [](const revoke_request& q) {
            return json{{"command", "revoke"}, {"domain", q.domain}, {"reason", q.reason}};
          },
      },
      r));
}

std::string encode(const response& r) {
  return dump(std::visit(
      overloaded{
          [](const ping_response& p) {
            return json{{"ok", true}, {"type", "ping"}, {"domains", p.domains}};
          },
          [](const reload_response& p) {
            return json{{"ok", true},
                        {"type", "reload"},
                        {"added", p.added},
                        {"removed", p.removed},
                        {"restart_needed", p.restart_needed}};
          },
          [](const reload_rejected& p) {
            return json{{"ok", false}, {"type", "reload_rejected"}, {"error", p.errors}};
          },
          [](const retry_response& p) {
            json results = json::array();
            for (const retry_result& one : p.results) {
              json item{{"domain", one.domain}, {"outcome", to_string(one.outcome)}};
              if (!one.detail.empty()) item["detail"] = one.detail;
              results.push_back(std::move(item));
            }
            return json{{"ok", true}, {"type", "retry"}, {"results", std::move(results)}};
          },
          [](const save_problems_response& p) {
            json problems = json::array();
            for (const save_problem& one : p.problems)
              problems.push_back({{"domain", one.domain}, {"message", one.message}});
            return json{{"ok", true}, {"type", "save_problems"}, {"problems", std::move(problems)}};
          },
          [](const queue_response& q) {
            return json{{"ok", true},
                        {"type", "queue"},
                        {"waiting_new", q.waiting_new},
                        {"waiting_renewals", q.waiting_renewals},
                        {"waiting_held", q.waiting_held},
                        {"in_flight", q.in_flight},
                        {"max_in_flight", q.max_in_flight},
                        {"budget_orders", q.budget_orders},
                        {"budget_seconds", q.budget_seconds},
                        {"budget_available", q.budget_available},
                        {"paused_seconds", q.paused_seconds},
                        {"backlog_seconds", q.backlog_seconds}};
          },
          [](const done_response& p) {
            return json{{"ok", true}, {"type", "done"}, {"message", p.message}};
          },
          [](const error_response& p) {
            return json{{"ok", false}, {"type", "error"}, {"error", p.message}};
          },
      },
      r));
}

result<request> decode_request(std::string_view text) {
  return decode<request>(text, "control request", error_kind::invalid_input, "", read_request);
}

result<response> decode_response(std::string_view text) {
  return decode<response>(text, "answer from certfleetd", error_kind::bad_response,
                          "; check certfleetd's log, and restart it if it was upgraded",
                          read_response);
}

}  // namespace certfleet::control
