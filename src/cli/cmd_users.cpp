// tagsmith users add|list|token|passwd|role -- accounts for `tagsmith serve`.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/library/library.h"
#include "tagsmith/server/auth.h"

namespace tagsmith::cli {
namespace {

// The first line of stdin, without its line ending. Passwords never go on
// the command line, where `ps` and shell history would show them.
std::string read_password_stdin() {
  std::string pw;
  std::getline(std::cin, pw);
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  if (pw.size() < 8) throw InputError("the password must have at least 8 characters");
  return pw;
}

}  // namespace

void register_users(CLI::App& app, GlobalOptions& g) {
  CLI::App* users =
      app.add_subcommand("users", "Accounts for tagsmith serve: viewer, reviewer, admin");
  users->require_subcommand(1);

  struct AddArgs {
    std::string name, role = "viewer";
    bool password_stdin = false;
  };
  auto add = std::make_shared<AddArgs>();
  CLI::App* add_cmd = users->add_subcommand("add", "Add a user");
  add_cmd->add_option("name", add->name, "User name")->required();
  add_cmd->add_option("--role", add->role, "viewer | reviewer | admin")->capture_default_str();
  add_cmd->add_flag("--password-stdin", add->password_stdin,
                    "Read a password for the web login from stdin");
  add_cmd->callback([add, &g] {
    const auto role = server::role_from_string(add->role);
    const std::string pw = add->password_stdin ? read_password_stdin() : std::string();
    auto lib_context = open_library(g, OpenMode::create);
    auto& lib = lib_context->library();
    const auto u = server::add_user(lib.store(), add->name, role, pw);
    if (g.json) {
      print_json({{"name", u.name}, {"role", u.role}, {"has_password", !pw.empty()}});
    } else {
      std::cout << fmt::format(
          "Added {} ({}){}.\n", u.name, u.role,
          pw.empty() ? "; no password: issue an API token with `tagsmith users token`" : "");
    }
  });

  users->add_subcommand("list", "List users and roles")->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto list = lib.store().users();
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& u : list) {
        j.push_back({{"name", u.name},
                     {"role", u.role},
                     {"created_at", u.created_at},
                     {"has_password", !u.password_hash.empty()}});
      }
      print_json({{"users", j}});
      return;
    }
    if (list.empty())
      std::cout
          << "No users. Add one with: tagsmith users add NAME --role admin --password-stdin\n";
    for (const auto& u : list) {
      std::cout << fmt::format("{:<24} {:<9} since {}{}\n", u.name, u.role, u.created_at,
                               u.password_hash.empty() ? "  (token only)" : "");
    }
  });

  auto token_name = std::make_shared<std::string>();
  CLI::App* token = users->add_subcommand(
      "token", "Issue a new API token (printed once; only its hash is stored)");
  token->add_option("name", *token_name, "User name")->required();
  token->callback([token_name, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const std::string t = server::issue_token(lib.store(), *token_name);
    if (g.json) {
      print_json({{"name", *token_name}, {"token", t}});
    } else {
      std::cout << t << "\n";
    }
  });

  auto pw_name = std::make_shared<std::string>();
  CLI::App* passwd = users->add_subcommand("passwd", "Set a user's password (read from stdin)");
  passwd->add_option("name", *pw_name, "User name")->required();
  passwd->callback([pw_name, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto u = lib.store().find_user(*pw_name);
    if (!u) throw NotFoundError(fmt::format("no user named '{}'", *pw_name));
    u->password_hash = server::hash_password(read_password_stdin());
    lib.store().update_user(*u);
    if (!g.json) std::cout << fmt::format("Password of {} changed.\n", u->name);
  });

  struct RoleArgs {
    std::string name, role;
  };
  auto role = std::make_shared<RoleArgs>();
  CLI::App* role_cmd = users->add_subcommand("role", "Change a user's role");
  role_cmd->add_option("name", role->name, "User name")->required();
  role_cmd->add_option("role", role->role, "viewer | reviewer | admin")->required();
  role_cmd->callback([role, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto u = lib.store().find_user(role->name);
    if (!u) throw NotFoundError(fmt::format("no user named '{}'", role->name));
    u->role = server::to_string(server::role_from_string(role->role));
    lib.store().update_user(*u);
    if (!g.json) std::cout << fmt::format("{} is now {}.\n", u->name, u->role);
  });
}

}  // namespace tagsmith::cli
