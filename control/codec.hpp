#pragma once
// The control channel's wire format: one JSON object per line in each direction.
//
//   {"command":"ping"}    -> {"ok":true,"type":"ping","domains":N}
//   {"command":"reload"}  -> {"ok":true,"type":"reload","added":[..],"removed":[..]}
//                         or {"ok":false,"type":"reload_rejected","error":"..."}
//   {"command":"retry","domains":["a.example"]}
//       -> {"ok":true,"type":"retry","results":[{"domain":"a.example","outcome":"retrying"}]}
//          ("detail" is added for invalid_domain and no_answer)
//   {"command":"save_problems"}
//       -> {"ok":true,"type":"save_problems","problems":[{"domain":"a.example","message":"..."}]}
//   a request that cannot be served -> {"ok":false,"type":"error","error":"..."}
//
// "ok", "domains", "added", "removed", "results" and "error" are where they were before the
// messages were typed, so a script reading them keeps working. Decoding never throws: any input
// that is not one of these messages (not JSON, wrong types, an unknown command, more names than
// max_domains) is an error that says what was wrong.

#include <cstddef>
#include <string>
#include <string_view>

#include "control/messages.hpp"
#include "core/error.hpp"

namespace certfleet::control {

/// The most domain names one message may carry. A fleet is up to 100k domains; a reload that
/// adds all of them must still fit, with room to spare.
inline constexpr std::size_t max_domains = 250'000;
/// The longest domain name one message may carry (a DNS name is at most 253 octets; a name
/// typed with Unicode labels is longer before it is converted, and is checked by the daemon).
inline constexpr std::size_t max_domain_length = 1024;

/// One JSON object, without the newline.
std::string encode(const request& r);
std::string encode(const response& r);

/// Errors are of kind invalid_input (for a request) or bad_response (for a response).
result<request> decode_request(std::string_view text);
result<response> decode_response(std::string_view text);

}  // namespace certfleet::control
