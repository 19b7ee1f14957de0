// The OpenAPI 3 document, generated from the route table so that it lists
// exactly the routes the server answers.
#include <regex>

#include "internal.h"

namespace tagsmith::server::detail {

namespace {
json error_responses() {
  json err = {{"type", "object"}};
  err["properties"]["status"] = {{"type", "integer"}};
  err["properties"]["message"] = {{"type", "string"}};
  json schema = {{"type", "object"}};
  schema["properties"]["error"] = err;
  json r;
  r["Error"]["description"] = "Error";
  r["Error"]["content"]["application/json"]["schema"] = schema;
  return r;
}
}  // namespace

json openapi_document(const std::vector<RouteInfo>& routes) {
  json paths = json::object();
  static const std::regex param("\\{([^}]+)\\}");
  auto error_ref = json{{"$ref", "#/components/responses/Error"}};
  for (const auto& r : routes) {
    json op = {{"summary", r.summary},
               {"tags", {r.tag}},
               {"operationId", r.method + " " + r.path},
               {"x-required-role", r.access}};
    json params = json::array();
    for (std::sregex_iterator it(r.path.begin(), r.path.end(), param), end; it != end; ++it) {
      const std::string name = (*it)[1];
      params.push_back(
          {{"name", name},
           {"in", "path"},
           {"required", true},
           {"schema", name == "id" ? json{{"type", "integer"}} : json{{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (r.body == "json") {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    } else if (r.body == "multipart") {
      json schema = {{"type", "object"}};
      schema["properties"]["file"] = {{"type", "string"}, {"format", "binary"}};
      op["requestBody"]["required"] = true;
      op["requestBody"]["content"]["multipart/form-data"]["schema"] = schema;
    }
    json responses = {{"200", {{"description", "OK"}}},
                      {"400", error_ref},
                      {"404", error_ref},
                      {"500", error_ref}};
    // Review decisions are refused when another reviewer holds the tag or it
    // changed since the caller read it (review/queue.h).
    if (r.tag == "review" && r.method == "POST") {
      responses["409"] = error_ref;
    }
    if (r.access == "public") {
      op["security"] = json::array();
    } else {
      responses["401"] = error_ref;
      responses["403"] = error_ref;
    }
    op["responses"] = responses;
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[r.path][method] = op;
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "tagsmith API"},
        {"version", "1"},
        {"description",
         "Search, review and audit a tagsmith library. Roles: viewer < reviewer < admin; "
         "x-required-role names "
         "the least role a route needs. Errors are {\"error\": {\"status\", \"message\"}}."}}},
      {"servers", {{{"url", "/"}}}},
      {"security", {{{"bearer", json::array()}}, {{"session", json::array()}}}},
      {"components",
       {{"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"session",
           {{"type", "apiKey"},
            {"in", "cookie"},
            {"name", "tagsmith_session"},
            {"description",
             "Set by POST /api/v1/session; state changes also need the X-CSRF-Token header"}}}}},
        {"responses", error_responses()}}},
      {"paths", paths}};
}

}  // namespace tagsmith::server::detail
