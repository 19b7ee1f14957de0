#pragma once
// What the transport needs to turn raw HTTP parts into the httplib::Request
// the handlers read: URL decoding, query parameters and multipart/form-data
// bodies. Pure functions over complete, in-memory input (the transport has
// already bounded its size), so they are easy to test and to fuzz.
#include <httplib.h>

#include <string>
#include <string_view>

namespace tagsmith::server::detail {

// %XX-decodes `s`; with `plus_is_space` (query strings) '+' becomes ' '.
// Malformed escapes are kept as they are.
std::string url_decode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&a=2" -> params (repeated names kept in order).
void parse_query(std::string_view query, httplib::Params& params);

// Splits a request target into the decoded path and its query parameters.
void parse_target(std::string_view target, std::string& path, httplib::Params& params);

// Parses a whole multipart/form-data body into `files` (every part, file or
// not, as httplib does). False when the Content-Type has no boundary or the
// body is not well-formed multipart.
bool parse_multipart(std::string_view content_type, std::string_view body,
                     httplib::MultipartFormDataMap& files);

}  // namespace tagsmith::server::detail
