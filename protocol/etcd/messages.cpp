#include "protocol/etcd/messages.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "protocol/crypto/base64.hpp"

namespace certfleet::protocol::etcd {

using nlohmann::json;

namespace {

std::string b64(std::string_view bytes) { return base64::encode(bytes); }

error bad(std::string what) {
  return error{error_kind::bad_response, "etcd answered something unexpected: " + what, true};
}

// etcd writes 64-bit numbers as decimal strings; a field left out is 0.
result<std::int64_t> number_at(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::int64_t{0};
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return bad(std::string(name) + " is not a number");
  const auto& text = it->get_ref<const std::string&>();
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size())
    return bad(std::string(name) + " is not a number");
  return n;
}

result<std::string> bytes_at(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::string{};
  if (!it->is_string()) return bad(std::string(name) + " is not base64 text");
  auto decoded = base64::decode(it->get_ref<const std::string&>());
  if (!decoded) return bad(std::string(name) + " is not base64");
  return std::move(decoded).value();
}

result<json> parse_object(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return bad("not a JSON object");
  return doc;
}

result<key_value> parse_kv(const json& object) {
  if (!object.is_object()) return bad("a key-value is not an object");
  key_value kv;
  auto key = bytes_at(object, "key");
  auto value = bytes_at(object, "value");
  auto created = number_at(object, "create_revision");
  auto modified = number_at(object, "mod_revision");
  auto version = number_at(object, "version");
  auto lease = number_at(object, "lease");
  for (const error* e : {key ? nullptr : &key.err(), value ? nullptr : &value.err(),
                         created ? nullptr : &created.err(), modified ? nullptr : &modified.err(),
                         version ? nullptr : &version.err(), lease ? nullptr : &lease.err()})
    if (e != nullptr) return *e;
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = *created;
  kv.mod_revision = *modified;
  kv.version = *version;
  kv.lease = *lease;
  return kv;
}

result<std::int64_t> header_revision(const json& doc) {
  const auto header = doc.find("header");
  if (header == doc.end() || !header->is_object()) return bad("no header");
  return number_at(*header, "revision");
}

result<range_result> range_from(const json& doc) {
  range_result out;
  auto revision = header_revision(doc);
  if (!revision) return revision.err();
  out.revision = *revision;
  auto count = number_at(doc, "count");
  if (!count) return count.err();
  out.count = *count;
  out.more = doc.value("more", false);
  if (const auto kvs = doc.find("kvs"); kvs != doc.end()) {
    if (!kvs->is_array()) return bad("kvs is not a list");
    out.kvs.reserve(kvs->size());
    for (const auto& item : *kvs) {
      auto kv = parse_kv(item);
      if (!kv) return kv.err();
      out.kvs.push_back(std::move(*kv));
    }
  }
  return out;
}

json range_json(const range_request& r) {
  json j{{"key", b64(r.key)}};
  if (!r.range_end.empty()) j["range_end"] = b64(r.range_end);
  if (r.limit != 0) j["limit"] = std::to_string(r.limit);
  if (r.revision != 0) j["revision"] = std::to_string(r.revision);
  if (r.count_only) j["count_only"] = true;
  return j;
}
json put_json(const put_request& p) {
  json j{{"key", b64(p.key)}, {"value", b64(p.value)}};
  if (p.lease != 0) j["lease"] = std::to_string(p.lease);
  return j;
}
json delete_json(const delete_request& d) {
  json j{{"key", b64(d.key)}};
  if (!d.range_end.empty()) j["range_end"] = b64(d.range_end);
  return j;
}

json op_json(const request_op& op) {
  if (const auto* r = std::get_if<range_request>(&op)) return {{"request_range", range_json(*r)}};
  if (const auto* p = std::get_if<put_request>(&op)) return {{"request_put", put_json(*p)}};
  return {{"request_delete_range", delete_json(std::get<delete_request>(op))}};
}

json compare_json(const compare& c) {
  static constexpr const char* results[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
  json j{{"key", b64(c.key)}, {"result", results[static_cast<int>(c.result)]}};
  switch (c.what) {
    case compare::target::version:
      j["target"] = "VERSION";
      j["version"] = std::to_string(c.number);
      break;
    case compare::target::create_revision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case compare::target::mod_revision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
    case compare::target::value:
      j["target"] = "VALUE";
      j["value"] = b64(c.value);
      break;
    case compare::target::lease:
      j["target"] = "LEASE";
      j["lease"] = std::to_string(c.number);
      break;
  }
  return j;
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  // The first key after every key that starts with prefix: its last byte below 0xff
  // plus one, the bytes after it dropped. All 0xff (or empty): to the end of the keys.
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string range_body(const range_request& r) { return range_json(r).dump(); }
std::string put_body(const put_request& p) { return put_json(p).dump(); }
std::string delete_body(const delete_request& d) { return delete_json(d).dump(); }

std::string txn_body(const txn_request& t) {
  json compares = json::array();
  for (const auto& c : t.compares) compares.push_back(compare_json(c));
  json success = json::array();
  for (const auto& op : t.success) success.push_back(op_json(op));
  json failure = json::array();
  for (const auto& op : t.failure) failure.push_back(op_json(op));
  return json{{"compare", compares}, {"success", success}, {"failure", failure}}.dump();
}

std::string grant_body(std::int64_t ttl_seconds) {
  return json{{"TTL", std::to_string(ttl_seconds)}}.dump();
}
std::string lease_id_body(std::int64_t lease) { return json{{"ID", std::to_string(lease)}}.dump(); }

std::string watch_body(const watch_request& w) {
  json create{{"key", b64(w.key)}};
  if (!w.range_end.empty()) create["range_end"] = b64(w.range_end);
  if (w.start_revision != 0) create["start_revision"] = std::to_string(w.start_revision);
  return json{{"create_request", create}}.dump();
}

result<range_result> parse_range(std::string_view body) {
  auto doc = parse_object(body);
  if (!doc) return doc.err();
  return range_from(*doc);
}

result<std::int64_t> parse_revision(std::string_view body) {
  auto doc = parse_object(body);
  if (!doc) return doc.err();
  return header_revision(*doc);
}

result<txn_result> parse_txn(std::string_view body) {
  auto doc = parse_object(body);
  if (!doc) return doc.err();
  txn_result out;
  auto revision = header_revision(*doc);
  if (!revision) return revision.err();
  out.revision = *revision;
  out.succeeded = doc->value("succeeded", false);
  if (const auto responses = doc->find("responses"); responses != doc->end()) {
    if (!responses->is_array()) return bad("responses is not a list");
    for (const auto& response : *responses) {
      if (!response.is_object()) return bad("a response is not an object");
      const auto range = response.find("response_range");
      if (range == response.end()) {
        out.ranges.emplace_back();
        continue;
      }
      if (!range->is_object()) return bad("response_range is not an object");
      auto parsed = range_from(*range);
      if (!parsed) return parsed.err();
      out.ranges.push_back(std::move(*parsed));
    }
  }
  return out;
}

result<lease_grant> parse_grant(std::string_view body) {
  auto doc = parse_object(body);
  if (!doc) return doc.err();
  auto id = number_at(*doc, "ID");
  auto ttl = number_at(*doc, "TTL");
  if (!id) return id.err();
  if (!ttl) return ttl.err();
  if (*id == 0 || *ttl <= 0) return bad("a lease without ID or TTL");
  return lease_grant{*id, *ttl};
}

result<std::int64_t> parse_keep_alive(std::string_view body) {
  auto doc = parse_object(body);
  if (!doc) return doc.err();
  const auto it = doc->find("result");
  if (it == doc->end() || !it->is_object()) return bad("a keep-alive answer without result");
  return number_at(*it, "TTL");
}

result<watch_message> parse_watch_message(std::string_view line) {
  auto doc = parse_object(line);
  if (!doc) return doc.err();
  const auto it = doc->find("result");
  if (it == doc->end() || !it->is_object()) {
    if (doc->contains("error")) return error_from_answer(200, line);
    return bad("a watch message without result");
  }
  const json& r = *it;
  watch_message out;
  out.created = r.value("created", false);
  out.canceled = r.value("canceled", false);
  if (const auto reason = r.find("cancel_reason"); reason != r.end() && reason->is_string())
    out.cancel_reason = reason->get<std::string>();
  auto compacted = number_at(r, "compact_revision");
  if (!compacted) return compacted.err();
  out.compact_revision = *compacted;
  if (const auto header = r.find("header"); header != r.end() && header->is_object()) {
    auto revision = number_at(*header, "revision");
    if (!revision) return revision.err();
    out.revision = *revision;
  }
  if (const auto events = r.find("events"); events != r.end()) {
    if (!events->is_array()) return bad("events is not a list");
    for (const auto& e : *events) {
      if (!e.is_object() || !e.contains("kv")) return bad("an event without kv");
      auto kv = parse_kv(e["kv"]);
      if (!kv) return kv.err();
      out.events.push_back({e.value("type", std::string("PUT")) == "DELETE", std::move(*kv)});
    }
  }
  return out;
}

error error_from_answer(unsigned http_status, std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  std::string text = "HTTP " + std::to_string(http_status);
  int code = 0;
  if (doc.is_object()) {
    if (const auto e = doc.find("error"); e != doc.end() && e->is_string())
      text = e->get<std::string>();
    if (const auto c = doc.find("code"); c != doc.end() && c->is_number_integer())
      code = c->get<int>();
  }
  constexpr int deadline_exceeded = 4, not_found = 5, unavailable = 14;
  if (code == not_found) return error{error_kind::invalid_input, "etcd: " + text, false};
  if (code == deadline_exceeded || code == unavailable || http_status >= 500)
    return error{error_kind::network,
                 "etcd is unavailable (" + text + "); check that a majority of its members run",
                 true};
  return error{error_kind::server_error, "etcd refused a request: " + text, false};
}

}  // namespace certfleet::protocol::etcd
