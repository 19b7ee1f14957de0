#pragma once
// Registration of every CLI command (one cmd_<name>.cpp each).
#include "tagsmith/cli/command.h"

namespace CLI {
class App;
}

namespace tagsmith::cli {

void register_ingest(CLI::App& app, GlobalOptions& g);
void register_library_commands(CLI::App& app, GlobalOptions& g);  // info, stats, errors, duplicates
void register_sample(CLI::App& app, GlobalOptions& g);            // sample-photos
void register_embed(CLI::App& app, GlobalOptions& g);             // embed --text | --image
void register_taxonomy(CLI::App& app,
                       GlobalOptions& g);  // taxonomy import|validate|show|diff|versions
void register_tagging(CLI::App& app, GlobalOptions& g);       // tag, retag, why, tags
void register_tags_import(CLI::App& tags, GlobalOptions& g);  // tags import (from register_tagging)
// tags import-keywords (from register_tags_import): photo keywords -> tags.
void register_tags_import_keywords(CLI::App& tags, GlobalOptions& g);
void register_search(CLI::App& app, GlobalOptions& g);  // search
void register_export(CLI::App& app, GlobalOptions& g);  // export csv|json|jsonl|xmp
void register_review(CLI::App& app,
                     GlobalOptions& g);  // review [list|batch|filters], audit sample|report
void register_train(CLI::App& app, GlobalOptions& g);  // train, models list|promote|rollback|import
// models import (called by register_train with the `models` subcommand).
void register_models_import(CLI::App& models, GlobalOptions& g);
void register_serve(CLI::App& app, GlobalOptions& g);   // serve (HTTP API + web UI)
void register_users(CLI::App& app, GlobalOptions& g);   // users add|list|token|passwd|role
void register_eval(CLI::App& app, GlobalOptions& g);    // eval (labelled-set accuracy report)
void register_worker(CLI::App& app, GlobalOptions& g);  // worker, jobs [retry]
// migrate (a SQLite library copied into PostgreSQL, verified).
void register_migrate(CLI::App& app, GlobalOptions& g);

inline void register_all_commands(CLI::App& app, GlobalOptions& g) {
  register_ingest(app, g);
  register_library_commands(app, g);
  register_sample(app, g);
  register_embed(app, g);
  register_taxonomy(app, g);
  register_tagging(app, g);
  register_search(app, g);
  register_export(app, g);
  register_review(app, g);
  register_train(app, g);
  register_serve(app, g);
  register_users(app, g);
  register_eval(app, g);
  register_worker(app, g);
  register_migrate(app, g);
}

}  // namespace tagsmith::cli
