#include "http_message.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace tagsmith::server::detail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `name=` among "; "-separated header parameters, unquoted.
std::optional<std::string> header_param(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= header.size()) {
    // Find the next ';' outside quotes.
    std::size_t end = pos;
    bool quoted = false;
    for (; end < header.size(); ++end) {
      if (header[end] == '"') quoted = !quoted;
      if (header[end] == ';' && !quoted) break;
    }
    std::string_view part = trim(header.substr(pos, end - pos));
    const auto eq = part.find('=');
    if (eq != std::string_view::npos) {
      const std::string_view key = trim(part.substr(0, eq));
      if (key.size() == name.size() && iequals_prefix(key, name)) {
        std::string_view v = trim(part.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return std::string(v);
      }
    }
    if (end >= header.size()) break;
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

void parse_query(std::string_view query, httplib::Params& params) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) {
        params.emplace(url_decode(pair, true), std::string());
      } else {
        params.emplace(url_decode(pair.substr(0, eq), true), url_decode(pair.substr(eq + 1), true));
      }
    }
    pos = end + 1;
  }
}

void parse_target(std::string_view target, std::string& path, httplib::Params& params) {
  const auto q = target.find('?');
  path = url_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) parse_query(target.substr(q + 1), params);
}

bool parse_multipart(std::string_view content_type, std::string_view body,
                     httplib::MultipartFormDataMap& files) {
  if (!iequals_prefix(trim(content_type), "multipart/form-data")) return false;
  const auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) return false;
  const std::string delimiter = "--" + *boundary;
  // The first delimiter may follow a preamble; later ones follow CRLF.
  std::size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return false;
  if (pos != 0 && (pos < 2 || body.substr(pos - 2, 2) != "\r\n")) return false;
  const std::string next_delimiter = "\r\n" + delimiter;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return true;  // the closing delimiter
    // Transport padding, then CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return false;
    pos += 2;
    const auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return false;
    httplib::MultipartFormData part;
    bool has_disposition = false;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      auto eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (name.size() == 19 && iequals_prefix(name, "content-disposition")) {
        if (!iequals_prefix(value, "form-data")) return false;
        const auto n = header_param(value, "name");
        if (!n) return false;
        part.name = *n;
        part.filename = header_param(value, "filename").value_or("");
        has_disposition = true;
      } else if (name.size() == 12 && iequals_prefix(name, "content-type")) {
        part.content_type = std::string(value);
      }
    }
    if (!has_disposition) return false;
    const std::size_t content_begin = headers_end + 4;
    const auto content_end = body.find(next_delimiter, content_begin);
    if (content_end == std::string_view::npos) return false;
    part.content = std::string(body.substr(content_begin, content_end - content_begin));
    std::string key = part.name;
    files.emplace(std::move(key), std::move(part));
    pos = content_end + 2;
  }
}

}  // namespace tagsmith::server::detail
