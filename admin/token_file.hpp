#pragma once
// The admin token as an operator stores it: a file holding the token, as
// `echo` or an editor leaves it (a trailing newline). Read by the node for
// its server (admin: token_file) and by the CLI for its requests
// (--token-file); the caller reads the file, this says what token it holds.
//
// Thread rule: pure functions; any thread.

#include <string>

#include "base/result.hpp"

namespace meridian::admin {

/// `text` without its trailing newlines, carriage returns and spaces.
std::string trim_token(std::string text);

/// The token of the token file at `path` whose content is `text`: trimmed;
/// an error naming `path` when nothing is left.
Result<std::string> token_from_file_text(std::string text, const std::string& path);

}  // namespace meridian::admin
