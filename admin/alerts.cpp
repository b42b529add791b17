#include "admin/alerts.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "actors/domain_fsm.hpp"

namespace certfleet::admin {

namespace {

constexpr std::array<std::string_view, 4> state_names = {"ok", "warning", "expiring", "removed"};

nlohmann::json time_or_null(timestamp t) {
  if (t == no_time) return nullptr;
  return format_rfc3339(t);
}

}  // namespace

std::string_view to_string(alert_state s) { return state_names[static_cast<std::size_t>(s)]; }

std::optional<alert_state> parse_alert_state(std::string_view text) {
  for (std::size_t i = 0; i < state_names.size(); ++i)
    if (state_names[i] == text) return static_cast<alert_state>(i);
  return std::nullopt;
}

alert_state alert_state_of(const storage::domain_record& r, timestamp now,
                           std::chrono::days expiry_alert) {
  if (!r.configured) return alert_state::removed;
  if (actors::needs_warning(r, now, actors::default_policy())) return alert_state::warning;
  if (expiry_alert.count() > 0 && r.has_cert() && r.cert_not_after - now <= expiry_alert)
    return alert_state::expiring;
  return alert_state::ok;
}

std::vector<alert_change> alert_changes(
    const alert_set& told, const alert_set& now,
    const std::map<std::string, storage::domain_record>& records) {
  std::vector<alert_change> out;
  auto a = told.begin();
  auto b = now.begin();
  auto left = [&](const std::string& name, alert_state from) {
    const auto r = records.find(name);
    const bool gone = r == records.end() || !r->second.configured;
    out.push_back({name, from, gone ? alert_state::removed : alert_state::ok});
  };
  while (a != told.end() || b != now.end()) {
    if (b == now.end() || (a != told.end() && a->first < b->first)) {
      left(a->first, a->second);
      ++a;
    } else if (a == told.end() || b->first < a->first) {
      out.push_back({b->first, alert_state::ok, b->second});
      ++b;
    } else {
      if (a->second != b->second) out.push_back({a->first, a->second, b->second});
      ++a;
      ++b;
    }
  }
  return out;
}

std::string alert_document(const std::vector<alert_change>& changes,
                           const std::map<std::string, storage::domain_record>& records,
                           std::size_t alerting, const std::string& node, timestamp now) {
  auto list = nlohmann::json::array();
  for (const auto& c : changes) {
    nlohmann::json entry = {{"domain", c.domain},
                            {"state", to_string(c.to)},
                            {"previous_state", to_string(c.from)},
                            {"error", nullptr},
                            {"last_failure_time", nullptr},
                            {"next_retry_time", nullptr},
                            {"cert_expiration_time", nullptr}};
    if (const auto r = records.find(c.domain); r != records.end()) {
      const auto& d = r->second;
      if (d.failure_count > 0) {
        entry["error"] = actors::failure_message(d);
        entry["last_failure_time"] = time_or_null(d.last_failure);
        entry["next_retry_time"] = time_or_null(d.next_attempt);
      }
      entry["cert_expiration_time"] = time_or_null(d.cert_not_after);
    }
    list.push_back(std::move(entry));
  }
  const nlohmann::json doc = {{"node", node},
                              {"time", format_rfc3339(now)},
                              {"alerting", alerting},
                              {"changes", std::move(list)}};
  // An error text from a peer may hold invalid UTF-8: replaced, never thrown on.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string encode_alert_set(const alert_set& set) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [name, state] : set) doc[name] = to_string(state);
  return nlohmann::json{{"told", std::move(doc)}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace) +
         "\n";
}

result<alert_set> decode_alert_set(std::string_view text) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  const auto refused = [](std::string what) {
    return error{error_kind::storage, "the alert state is damaged (" + std::move(what) +
                                          "); delete it and the hook is told every current "
                                          "alert once more"};
  };
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("told") || !doc["told"].is_object())
    return refused("not a JSON object with \"told\"");
  alert_set out;
  for (const auto& [name, value] : doc["told"].items()) {
    const auto state =
        value.is_string() ? parse_alert_state(value.get<std::string>()) : std::nullopt;
    if (!state) return refused("unknown state for \"" + name + "\"");
    out[name] = *state;
  }
  return out;
}

}  // namespace certfleet::admin
