#pragma once
// Errors. tagsmith reports failures as exceptions derived from tagsmith::Error;
// the message is written for the person at the terminal (what failed, where,
// what to do), because most of them end up printed by the CLI or the server.
#include <stdexcept>
#include <string>

namespace tagsmith {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input supplied by the user (a file, a flag, a request body). The CLI
// exits with status 2 and the server answers 400 for these.
class InputError : public Error {
 public:
  using Error::Error;
};

// A thing asked for does not exist (asset id, model version, user).
class NotFoundError : public Error {
 public:
  using Error::Error;
};

// The request was right but the thing changed or is held by someone else
// since the caller looked (another reviewer decided the tag, or has it
// open). The server answers 409 for these; the message says who and when.
class ConflictError : public Error {
 public:
  using Error::Error;
};

}  // namespace tagsmith
