#include "tagsmith/cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "tagsmith/cli/command.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/threads.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/vision/precision.h"

namespace tagsmith::cli {

int run(const std::vector<std::string>& args) {
  image::init_decoder();
  limit_blas_threads(1);
  set_exit_code(kOk);
  CLI::App app{
      "tagsmith — turn a catalogue of product photos into a searchable, governed asset library"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command name
  GlobalOptions g;
  app.add_option("--library", g.library,
                 "Library: a directory, or a PostgreSQL URL postgresql://USER@HOST/DB")
      ->envname("TAGSMITH_LIBRARY")
      ->capture_default_str();
  // The shared files directory of a PostgreSQL library (library/library.h),
  // read by Library::open from the environment.
  std::string files;
  app.add_option("--files", files,
                 "Files directory of a PostgreSQL library (shared mount; remembered after the "
                 "first use)")
      ->envname("TAGSMITH_FILES")
      ->each([](const std::string& dir) { ::setenv("TAGSMITH_FILES", dir.c_str(), 1); });
  app.add_option("--models", g.models,
                 "Directory with vision models (the only place looked at when given)");
  app.add_flag("--json", g.json, "Machine-readable JSON on stdout");
  app.add_option("--threads", g.threads, "Worker threads (0 = all cores)");
  app.add_flag("--quiet", g.quiet, "No progress bars");
  app.add_option("--precision", g.precision,
                 "Encoder arithmetic: fp32 (default), bf16 (bfloat16 through oneDNN, faster on "
                 "CPUs with AVX-512 BF16/AMX) or int8 (CLIP linear layers; a classifier runs bf16)")
      ->envname("TAGSMITH_PRECISION")
      ->check([](const std::string& text) {
        try {
          (void)vision::parse_precision(text);
          return std::string();
        } catch (const InputError& e) {
          return std::string(e.what());
        }
      });
  register_all_commands(app, g);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  } catch (const InputError& e) {
    std::cerr << "tagsmith: " << e.what() << "\n";
    return kUsage;
  } catch (const NotFoundError& e) {
    std::cerr << "tagsmith: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "tagsmith: error: " << e.what() << "\n";
    return kFatal;
  }
  return exit_code();
}

}  // namespace tagsmith::cli
