// tagsmith review — keyboard-driven review in a terminal (works over SSH);
// tagsmith review batch — one action over a filter; tagsmith review filters —
// saved filters; tagsmith audit sample|report — auditing the auto tier.
//
// On a terminal the keys act at once (raw mode). Without one (a pipe, a
// script), the same commands are read one per line: "y", "n", "c NODE",
// "s", "j", "k", "u", "q" — which is also how the tests drive it.
//
// The same rules as the web reviewer (review/queue.h): the items loaded are
// claimed for --user (others reviewing at once get other items), a tag
// someone else decided meanwhile is refused and skipped, "u" undoes the last
// decision, and the claims are given back on quit.
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/common/error.h"
#include "tagsmith/review/queue.h"

namespace tagsmith::cli {
namespace {

using nlohmann::json;

std::string label_en(const std::map<std::string, std::string>& labels, const std::string& id) {
  const auto it = labels.find("en");
  return it == labels.end() ? id : it->second;
}

std::string default_user() {
  const char* u = std::getenv("USER");
  return u && *u ? u : "reviewer";
}

// Puts the terminal in raw mode for its lifetime (restored on every exit path).
class RawTerminal {
 public:
  RawTerminal() : active_(::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
    if (!active_) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool active() const { return active_; }

 private:
  bool active_;
  termios saved_{};
};

struct Command {
  char key = 'q';
  std::string arg;  // for 'c': the node (line mode)
};

int read_key() {
  unsigned char c = 0;
  return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
}

// Type-ahead for a node: Tab completes the longest common prefix of the
// candidates, Enter accepts (the single candidate, or the exact text),
// Escape cancels. Returns "" when cancelled.
std::string read_node(review::ReviewQueue& queue, const std::string& attribute) {
  std::string text;
  while (true) {
    const auto candidates = queue.complete(attribute, text);
    std::cout << "\r\x1b[Kcorrect to: " << text;
    if (!text.empty()) {
      std::cout << "   [";
      for (std::size_t i = 0; i < candidates.size() && i < 6; ++i)
        std::cout << (i ? " " : "") << candidates[i];
      if (candidates.size() > 6) std::cout << " …";
      std::cout << "]";
    }
    std::cout << std::flush;
    const int k = read_key();
    if (k < 0 || k == 27) return "";
    if (k == '\n' || k == '\r') {
      if (candidates.size() == 1) return candidates[0];
      for (const auto& c : candidates)
        if (c == text) return c;
      continue;  // ambiguous: keep typing
    }
    if (k == '\t' && !candidates.empty()) {
      std::string common = candidates[0];
      for (const auto& c : candidates) {
        std::size_t n = 0;
        while (n < common.size() && n < c.size() && common[n] == c[n]) ++n;
        common.resize(n);
      }
      if (common.size() > text.size()) text = common;
      continue;
    }
    if (k == 127 || k == 8) {
      if (!text.empty()) text.pop_back();
      continue;
    }
    if (k >= 32) text.push_back(static_cast<char>(k));
  }
}

Command next_command(bool raw, review::ReviewQueue& queue, const std::string& attribute) {
  if (raw) {
    const int k = read_key();
    if (k < 0) return {'q', {}};
    if (k == 'c' || k == 'C') return {'c', read_node(queue, attribute)};
    return {static_cast<char>(std::tolower(k)), {}};
  }
  std::string line;
  if (!std::getline(std::cin, line)) return {'q', {}};
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) return {'?', {}};
  Command c{static_cast<char>(std::tolower(static_cast<unsigned char>(line[0]))), {}};
  const auto space = line.find(' ');
  if (space != std::string::npos) c.arg = line.substr(space + 1);
  if (c.key == 'c' && !c.arg.empty()) {
    // Line mode completes too: a unique prefix is enough.
    const auto candidates = queue.complete(attribute, c.arg);
    if (candidates.size() == 1) c.arg = candidates[0];
  }
  return c;
}

void show(const review::ReviewItem& item, std::size_t index, std::size_t total, std::int64_t done,
          double minutes, bool raw) {
  if (raw) std::cout << "\x1b[2J\x1b[H";  // clear screen, cursor home
  const double rate = minutes > 0 ? done / minutes : 0;
  std::cout << fmt::format("tagsmith review  [{}/{}]  reviewed {} ({:.1f}/min){}\n", index + 1,
                           total, done, rate, item.audit ? "  AUDIT SAMPLE" : "");
  std::cout << fmt::format("asset      {}  {}\n", item.tag.asset_id, item.asset_path);
  std::cout << fmt::format("thumbnail  {}\n", item.thumbnail_path);
  std::cout << fmt::format("proposed   {} = {} ({}){}   {} {:.2f}   value {:.2f}\n",
                           item.tag.attribute, item.tag.node, label_en(item.labels, item.tag.node),
                           item.swatch.empty() ? "" : " " + item.swatch,
                           store::to_string(item.tag.state), item.tag.confidence, item.value.total);
  std::cout << "why        " << item.reason << "\n";
  if (!item.alternatives.empty()) {
    std::cout << "others    ";
    for (std::size_t i = 0; i < item.alternatives.size() && i < 5; ++i) {
      const auto& a = item.alternatives[i];
      std::cout << fmt::format(" {} ({}) {:.2f}{}", a.node, label_en(a.labels, a.node), a.score,
                               a.outranks ? " [higher]" : "");
    }
    std::cout << "\n";
  }
  std::cout << "[y] confirm  [n] reject  [c] correct  [s/j] skip  [k] back  [u] undo  [q] quit\n"
            << std::flush;
}

}  // namespace

void register_review(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::string user = default_user();
    std::string order = "value";
    std::vector<std::string> where, attributes;
    std::string filter_name, save_as, action;
    std::size_t limit = 500;
    bool no_flagged = false, no_suggested = false, low_value = false;
    std::size_t undo_count = 1;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("review", "Review flagged and suggested tags in the terminal");
  auto add_filter_options = [&](CLI::App* c) {
    c->add_option("--where", args->where,
                  "Only assets carrying ATTRIBUTE=NODE (repeatable, all must hold)");
    c->add_option("--attribute", args->attributes, "Only items of these attributes");
    c->add_option("--filter", args->filter_name, "Use a saved filter");
    c->add_flag("--no-flagged", args->no_flagged, "Leave out flagged tags");
    c->add_flag("--no-suggested", args->no_suggested, "Leave out suggestions");
    c->add_flag("--include-low-value", args->low_value,
                "Also show low-value suggestions (far under the flag threshold)");
  };
  add_filter_options(cmd);
  cmd->add_option("--user", args->user, "Reviewer name recorded on every action")
      ->capture_default_str();
  cmd->add_option("--order", args->order, "value | confidence | margin | attribute")
      ->capture_default_str();
  cmd->add_option("--limit", args->limit, "Items to load")->capture_default_str();
  cmd->add_option("--save-filter", args->save_as,
                  "Save --where/--attribute as a named filter and exit");
  CLI::App* list = cmd->add_subcommand("list", "Print the queue (no actions)");
  CLI::App* batch =
      cmd->add_subcommand("batch", "Apply one action to every item the filter matches");
  batch->add_option("action", args->action, "confirm | reject")->required();
  CLI::App* filters = cmd->add_subcommand("filters", "List saved filters");
  CLI::App* undo = cmd->add_subcommand("undo", "Undo your last review decisions (--user)");
  undo->add_option("--count", args->undo_count, "How many decisions")->capture_default_str();

  auto build_filter = [args](review::ReviewQueue& queue) {
    review::ReviewFilter f = args->filter_name.empty()
                                 ? review::ReviewFilter::parse(args->where, args->attributes)
                                 : queue.load_filter(args->filter_name);
    if (args->no_flagged) f.include_flagged = false;
    if (args->no_suggested) f.include_suggested = false;
    if (args->low_value) f.include_low_value = true;
    return f;
  };

  filters->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto tagger = lib_context->human_tag_service();  // people act; no model needed
    review::ReviewQueue queue(lib, *tagger);
    json j = json::object();
    for (const auto& name : queue.filter_names()) j[name] = queue.load_filter(name).to_json();
    if (g.json) {
      print_json(j);
    } else {
      if (j.empty()) std::cout << "no saved filters\n";
      for (auto& [name, f] : j.items()) std::cout << name << "  " << json_text(f) << "\n";
    }
  });

  undo->callback([args, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto tagger = lib_context->human_tag_service();
    review::ReviewQueue queue(lib, *tagger);
    const auto undone = queue.undo(args->user, args->undo_count);
    if (g.json) {
      json j = json::array();
      for (const auto& u : undone)
        j.push_back({{"asset", u.decision.asset_id},
                     {"attribute", u.decision.attribute},
                     {"node", u.decision.node},
                     {"action", u.decision.action},
                     {"event", u.decision.event_id},
                     {"undo_events", u.events}});
      print_json(j);
      return;
    }
    if (undone.empty()) std::cout << "nothing to undo\n";
    for (const auto& u : undone)
      std::cout << fmt::format("undid {} of {}={} on asset {} (event {})\n", u.decision.action,
                               u.decision.attribute, u.decision.node, u.decision.asset_id,
                               u.decision.event_id);
  });

  list->callback([args, &g, build_filter] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto tagger = lib_context->human_tag_service();  // people act; no model needed
    review::ReviewQueue queue(lib, *tagger);
    const auto f = build_filter(queue);
    const auto items = queue.items(f, review::parse_order(args->order), args->limit);
    if (g.json) {
      json j = json::array();
      for (const auto& i : items) {
        json alts = json::array();
        for (const auto& a : i.alternatives)
          alts.push_back({{"node", a.node},
                          {"score", a.score},
                          {"labels", a.labels},
                          {"outranks", a.outranks}});
        j.push_back({{"asset", i.tag.asset_id},
                     {"attribute", i.tag.attribute},
                     {"node", i.tag.node},
                     {"state", store::to_string(i.tag.state)},
                     {"confidence", i.tag.confidence},
                     {"margin", i.margin},
                     {"version", i.version},
                     {"value", i.value.total},
                     {"low_value", i.low_value},
                     {"labels", i.labels},
                     {"audit", i.audit},
                     {"reason", i.reason},
                     {"alternatives", alts},
                     {"path", i.asset_path},
                     {"thumbnail", i.thumbnail_path}});
      }
      print_json(j);
      return;
    }
    std::cout << fmt::format("{} items awaiting review\n", queue.count(f));
    for (const auto& i : items) {
      std::cout << fmt::format("{:>6}  {:<14} {:<18} {:<9} {:.2f}  margin {:.2f}  {}\n",
                               i.tag.asset_id, i.tag.attribute, i.tag.node,
                               store::to_string(i.tag.state), i.tag.confidence, i.margin, i.reason);
    }
  });

  batch->callback([args, &g, build_filter] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto tagger = lib_context->human_tag_service();  // people act; no model needed
    review::ReviewQueue queue(lib, *tagger);
    const auto r = queue.batch(build_filter(queue), review::parse_action(args->action), args->user);
    if (g.json) {
      print_json({{"matched", r.matched}, {"changed", r.changed}, {"held", r.held}});
    } else {
      std::cout << fmt::format("{}: {} items matched, {} changed", args->action, r.matched,
                               r.changed);
      if (r.held) std::cout << fmt::format(", {} left to the reviewers who have them open", r.held);
      std::cout << "\n";
    }
  });

  cmd->callback([args, &g, cmd, build_filter] {
    if (!cmd->get_subcommands().empty()) return;  // a subcommand ran
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    auto tagger = lib_context->human_tag_service();  // people act; no model needed
    review::ReviewQueue queue(lib, *tagger);
    const review::ReviewFilter filter = build_filter(queue);
    if (!args->save_as.empty()) {
      queue.save_filter(args->save_as, filter);
      std::cout << "saved filter '" << args->save_as << "'\n";
      return;
    }
    // Claimed for this reviewer: someone reviewing at the same time (here or
    // on the web) is handed other items. Given back however this ends.
    auto items = queue.items(filter, review::parse_order(args->order), args->limit, 0, args->user);
    struct Release {
      review::ReviewQueue& q;
      const std::string& user;
      ~Release() {
        try {
          q.release(user);
        } catch (...) {
        }
      }
    } release{queue, args->user};
    if (items.empty()) {
      std::cout << "nothing to review\n";
      return;
    }
    RawTerminal terminal;
    const auto started = std::chrono::steady_clock::now();
    std::int64_t done = 0, changed = 0;
    std::vector<bool> finished(items.size(), false);
    std::size_t i = 0;
    while (i < items.size()) {
      const double minutes =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / 60.0;
      show(items[i], i, items.size(), done, minutes, terminal.active());
      const auto shown = std::chrono::steady_clock::now();
      const Command c = next_command(terminal.active(), queue, items[i].tag.attribute);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - shown).count();
      if (c.key == 'q') break;
      if (c.key == 'k') {
        if (i > 0) --i;
        continue;
      }
      if (c.key == 'u') {
        try {
          const auto undone = queue.undo(args->user, 1);
          if (undone.empty()) {
            std::cout << "nothing to undo\n";
          } else {
            const auto& d = undone[0].decision;
            std::cout << fmt::format("undid {} of {}={} on asset {}\n", d.action, d.attribute,
                                     d.node, d.asset_id);
            // Back to that item, if it is in this session's list, to decide again.
            for (std::size_t k = 0; k < items.size(); ++k) {
              const auto& t = items[k].tag;
              if (t.asset_id == d.asset_id && t.attribute == d.attribute && t.node == d.node) {
                items[k] = queue.item(t.asset_id, t.attribute, t.node);
                if (finished[k]) --done;
                finished[k] = false;
                i = k;
              }
            }
          }
        } catch (const ConflictError& e) {
          std::cout << "cannot undo: " << e.what() << "\n";
        }
        continue;
      }
      try {
        review::Action action;
        switch (c.key) {
          case 'y':
            action = review::Action::kConfirm;
            break;
          case 'n':
            action = review::Action::kReject;
            break;
          case 'c':
            if (c.arg.empty()) continue;  // cancelled
            action = review::Action::kCorrect;
            break;
          case 's':
          case 'j':
            action = review::Action::kSkip;
            break;
          default:
            continue;  // unknown key: show the item again
        }
        if (finished[i] && action != review::Action::kSkip) {
          std::cout << "(already reviewed)\n";
        } else {
          if (queue.act(items[i], action, args->user, seconds, c.arg)) ++changed;
          if (action != review::Action::kSkip) {
            finished[i] = true;
            ++done;
          }
        }
      } catch (const InputError& e) {
        std::cout << "error: " << e.what() << "\n";
        continue;
      } catch (const ConflictError& e) {
        // Someone else decided it or has it open: theirs; on to the next.
        std::cout << "conflict: " << e.what() << "\n";
        finished[i] = true;
      }
      ++i;
    }
    if (terminal.active()) std::cout << "\n";
    std::cout << fmt::format("reviewed {} items, {} tags changed\n", done, changed);
  });

  // --- audit ---------------------------------------------------------------------
  struct AuditArgs {
    std::string tier = "auto";
    std::size_t n = 200;
    unsigned seed = 0;
  };
  auto audit_args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand("audit", "Sample audits of the auto tier");
  audit->require_subcommand(1);
  CLI::App* sample =
      audit->add_subcommand("sample", "Draw random tags of a tier into the review queue");
  sample->add_option("--tier", audit_args->tier, "auto | flagged")->capture_default_str();
  sample->add_option("--n", audit_args->n, "How many")->capture_default_str();
  sample->add_option("--seed", audit_args->seed, "Random seed (0: from the clock)");
  sample->callback([audit_args, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const unsigned seed =
        audit_args->seed
            ? audit_args->seed
            : static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch().count());
    const auto drawn = review::draw_audit_sample(lib, audit_args->tier, audit_args->n, seed);
    if (g.json) {
      print_json({{"drawn", drawn}, {"tier", audit_args->tier}});
    } else {
      std::cout << fmt::format(
          "drew {} {} tags into the review queue (tagsmith review --no-flagged --no-suggested)\n",
          drawn, audit_args->tier);
    }
  });
  CLI::App* report =
      audit->add_subcommand("report", "Precision of the audited tier, with 95% intervals");
  report->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto rows = review::audit_report(lib);
    if (g.json) {
      json j = json::array();
      for (const auto& r : rows) {
        j.push_back({{"attribute", r.attribute},
                     {"reviewed", r.reviewed},
                     {"correct", r.correct},
                     {"pending", r.pending},
                     {"precision", r.precision},
                     {"ci95", {r.low, r.high}}});
      }
      print_json(j);
      return;
    }
    std::cout << fmt::format("{:<16} {:>8} {:>8} {:>8} {:>10}  {}\n", "attribute", "reviewed",
                             "correct", "pending", "precision", "95% interval");
    for (const auto& r : rows) {
      std::cout << fmt::format("{:<16} {:>8} {:>8} {:>8} {:>9.1f}%  {:.1f}%–{:.1f}%\n", r.attribute,
                               r.reviewed, r.correct, r.pending, 100 * r.precision, 100 * r.low,
                               100 * r.high);
    }
  });
}

}  // namespace tagsmith::cli
